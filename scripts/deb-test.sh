#!/usr/bin/env bash
# The package's done-when test: installs piswarm's .deb with apt-get into a fresh Debian 12 root
# made by mmdebstrap (the apt mirror is the only network it uses), then, chrooted there:
# `piswarm --version` names the version and commit, `init`, `validate` and a range `node add`
# work, `man piswarm-up` shows the page, bash loads the completion (`complete -p piswarm`), the
# systemd unit is installed but not enabled; `apt-get remove` then leaves nothing of piswarm
# but its state directory. proc and dev are mounted in the root for the checks and unmounted
# (the root removed) on every exit, failure or not.
#
# Usage (as root): scripts/deb-test.sh PACKAGE.deb [MIRROR]
#   MIRROR defaults to $PISWARM_DEB_TEST_MIRROR, else http://deb.debian.org/debian
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 PACKAGE.deb [MIRROR]; build the package with 'make deb' first" >&2
  exit 64
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the package test makes a Debian root and mounts in it: run it as root" >&2
  exit 1
fi
for tool in mmdebstrap dpkg-deb findmnt; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; 'make deps' installs it" >&2
    exit 1
  }
done
deb=$(readlink -f "$1")
mirror=${2:-${PISWARM_DEB_TEST_MIRROR:-http://deb.debian.org/debian}}
version=$(dpkg-deb -f "$deb" Version)

work=$(mktemp -d /var/tmp/piswarm-deb-test.XXXXXX)
root="$work/root"
mounted=()
cleanup() {
  local status=$? index
  for ((index = ${#mounted[@]} - 1; index >= 0; index--)); do
    umount "${mounted[index]}" 2>/dev/null || umount -l "${mounted[index]}" || true
  done
  # Never delete through a mount: if anything is still mounted in the root, keep it and say so.
  if findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "error: mounts remain under $root; it was not removed (umount them, then rm -rf $work)" >&2
    status=1
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '== %s\n' "$*" >&2; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

started=$SECONDS
step "a fresh Debian 12 root with man-db and bash-completion; apt-get install ./$(basename "$deb") (mirror $mirror)"
mmdebstrap --mode=root --variant=minbase --include=man-db,bash-completion \
  --customize-hook="copy-in '$deb' /tmp" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends '/tmp/$(basename "$deb")'" \
  --customize-hook="rm -f \"\$1/tmp/$(basename "$deb")\"" \
  bookworm "$root" "$mirror" >&2
step "root ready after $((SECONDS - started)) s"

for point in proc dev; do
  case $point in
  proc) mount -t proc proc "$root/proc" ;;
  dev) mount --bind /dev "$root/dev" ;;
  esac
  mounted+=("$root/$point")
done

step "piswarm --version"
said=$(in_root piswarm --version)
echo "$said" >&2
[[ $said == "$version ("*")" ]] || fail "piswarm --version said \"$said\", not version $version with its commit"
[[ $said != *"unknown commit"* ]] || fail "the packaged binary does not know its commit: \"$said\""
in_root sh -c '! ldd /usr/bin/piswarm | grep "not found"' || fail "the binary needs a library the package does not depend on"

step "piswarm init, node add (a range), validate"
in_root sh -c 'cd /root && piswarm init --name pkgtest --interface eth1 --address 10.42.0.250/24 --lan dhcp' >&2 \
  || fail "piswarm init failed"
[ -d "$root/var/lib/piswarm" ] || fail "piswarm init made no state directory /var/lib/piswarm"
in_root sh -c "cd /root && piswarm node add 'node[01-03]' --ip 10.42.0.11+ --mac b8:27:eb:00:00:01+" >&2 \
  || fail "piswarm node add with a range failed"
in_root sh -c 'cd /root && piswarm validate' >&2 || fail "piswarm validate failed"
nodes=$(in_root sh -c 'cd /root && piswarm node ls --json')
[[ $nodes == *'"node03"'* && $nodes == *'10.42.0.13'* ]] || fail "node ls does not show node03 at 10.42.0.13: $nodes"

step "man piswarm-up"
page=$(in_root env MANPAGER=cat COLUMNS=100 man piswarm-up 2>&1) || fail "man piswarm-up failed: $page"
[[ $page == *"piswarm up"* && $page == *"--parallel"* ]] || fail "man piswarm-up shows no page for piswarm up: $page"
in_root env MANPAGER=cat man piswarm-node-add >/dev/null 2>&1 || fail "man piswarm-node-add failed"

step "bash completion"
completion=$(in_root bash -c '. /usr/share/bash-completion/bash_completion && _completion_loader piswarm; complete -p piswarm') \
  || fail "bash does not load a completion for piswarm"
echo "$completion" >&2
[ -s "$root/usr/share/zsh/vendor-completions/_piswarm" ] || fail "no zsh completion"
[ -s "$root/usr/share/fish/vendor_completions.d/piswarm.fish" ] || fail "no fish completion"

step "systemd unit installed, not enabled"
grep -q '^ExecStart=/usr/bin/piswarm serve' "$root/usr/lib/systemd/system/piswarm.service" || fail "no piswarm.service"
if find "$root/etc/systemd" -name 'piswarm*' 2>/dev/null | grep -q .; then fail "piswarm.service is enabled"; fi

step "apt-get remove leaves only the state directory"
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o Dpkg::Use-Pty=0 piswarm >&2
# shellcheck disable=SC2016 # dpkg-query expands ${…}, not the shell
status=$(in_root dpkg-query -W -f='${db:Status-Abbrev}' piswarm 2>/dev/null || true)
[[ -z $status || $status == un* ]] || fail "dpkg still knows piswarm after remove: status \"$status\""
# Not piswarm's: /root (the cluster.yml init wrote there) and man-db's cache of formatted pages
# (man writes it when it shows a page; man-db expires it).
left=$(cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./var/lib/piswarm -o -path ./root \
  -o -path ./var/cache/man \) -prune -o -iname '*piswarm*' -print)
[ -z "$left" ] || fail "apt-get remove left these behind: $left"
[ -n "$(ls -A "$root/var/lib/piswarm" 2>/dev/null)" ] || fail "the state directory did not survive the removal"

step "passed in $((SECONDS - started)) s"
