#!/bin/sh
# `piswarm image capture` of a netboot node: runs on the HEAD (not on a node), in a mount
# namespace of its own (unshare --mount --propagation private), and makes the card's root
# filesystem from the node's tree with mke2fs -d, inside a jail: JAIL becomes a fresh tmpfs
# holding only the head's /usr (read-only), the tree at /src (SRC, piswarm's read-only overlay
# over the node's root) and the output folder at /out (OUT, holding FILE). The node wrote the
# tree: mke2fs takes each entry with lstat and copies links as links, but it enters folders by
# name (chdir), so a node that swaps a folder for a link during the copy would lead it to the
# link's target. In the jail that target resolves inside the jail: the tree itself, the output,
# or the head's /usr, never the head's /etc, /root or the state directory. LABEL names the
# filesystem. Everything mounted here goes with the namespace when mke2fs ends.
: "${JAIL:?}"
: "${SRC:?}"
: "${OUT:?}"
: "${FILE:?}"
: "${LABEL:?}"
set -eu
mount -t tmpfs -o mode=0755,nosuid,nodev piswarm-card-root "$JAIL"
mkdir "$JAIL/usr" "$JAIL/src" "$JAIL/out" "$JAIL/etc"
# A merged-/usr head has /lib, /bin… as links into /usr: the same links in the jail. A head
# with real folders there gets them bound read-only.
for folder in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$folder" ]; then
    ln -s "$(readlink "/$folder")" "$JAIL/$folder"
  elif [ -d "/$folder" ]; then
    mkdir "$JAIL/$folder"
    mount --bind "/$folder" "$JAIL/$folder"
    mount -o remount,bind,ro,nosuid,nodev "$JAIL/$folder"
  fi
done
mount --bind /usr "$JAIL/usr"
mount -o remount,bind,ro,nosuid,nodev "$JAIL/usr"
mount --bind "$SRC" "$JAIL/src"
mount --bind "$OUT" "$JAIL/out"
# mke2fs's defaults as the head has them; an empty mtab (it checks that FILE is not mounted).
: >"$JAIL/etc/mtab"
if [ -f /etc/mke2fs.conf ]; then
  : >"$JAIL/etc/mke2fs.conf"
  mount --bind /etc/mke2fs.conf "$JAIL/etc/mke2fs.conf"
fi
exec chroot "$JAIL" mke2fs -q -F -t ext4 -L "$LABEL" -d /src "/out/$FILE"
