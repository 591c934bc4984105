#!/usr/bin/env bash
# Builds piswarm_VERSION_ARCH.deb from this tree:
#   - a release binary with the Swift runtime linked in (--static-swift-stdlib), stripped, that
#     knows its version (VERSION) and the commit it was built from;
#   - man pages (one per command: `man piswarm-up`) and bash/zsh/fish completions, generated from
#     the command tree by swift-argument-parser (its generate-manual plugin, and
#     --generate-completion-script);
#   - /usr/share/doc/piswarm (README, docs/), a systemd unit for `piswarm serve`, not enabled;
#   - Depends: the shared libraries the binary links (from ldd, mapped to their Debian packages)
#     and the programs piswarm always runs; Recommends/Suggests: those of optional features.
# The package is assembled in a staging tree and built with dpkg-deb --root-owner-group.
#
# Usage: scripts/make-deb.sh [OUTPUT_DIRECTORY]   (default: .build/deb; prints the .deb's path)
set -euo pipefail
cd "$(dirname "$0")/.."

swift=${SWIFT:-swift}
output=${1:-.build/deb}

version=$(cat VERSION)
if ! [[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
  echo "error: VERSION holds \"$version\", not a Debian upstream version like 0.1.0; fix the file" >&2
  exit 1
fi
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F)
arch=$(dpkg --print-architecture)

# The programs piswarm runs on the head: always (Depends), for optional features (Recommends),
# for the lab and tests on one machine (Suggests). The binary's shared libraries join Depends.
always="openssh-client, dnsmasq-base, e2fsprogs, mtools, xz-utils, mount"
optional="dnsmasq, nfs-kernel-server, docker-registry, snmp, btrfs-progs, zstd, nftables"
lab="docker.io, openssh-server, tini, busybox-static, iproute2, nfs-ganesha, nfs-ganesha-vfs, qemu-system-arm"

echo "building piswarm $version (${commit:-unknown commit}) for $arch, release, static Swift runtime" >&2
# The version and commit go into an object file of their own, linked in with strong definitions
# that replace CPiSwarmBuildInfo's weak defaults: a new commit relinks, and rebuilds nothing. Its
# name holds both, so the link command changes exactly when they do.
info=".build/build-info/piswarm-build-info-$version-${commit:-unknown}.o"
if [ ! -f "$info" ]; then
  mkdir -p .build/build-info
  printf 'const char *piswarm_build_version(void) { return "%s"; }\nconst char *piswarm_build_commit(void) { return "%s"; }\n' \
    "$version" "$commit" >"$info.c"
  "${CC:-cc}" -O2 -fPIC -c "$info.c" -o "$info.tmp" && mv "$info.tmp" "$info"
fi
"$swift" build -c release --static-swift-stdlib --product piswarm -Xlinker "$PWD/$info" >&2
binary="$("$swift" build -c release --show-bin-path)/piswarm"

# The man pages come from the debug build's command tree (the same tree; the plugin builds it).
echo "generating man pages" >&2
"$swift" package generate-manual --configuration debug --multi-page --date "$date" >&2
pages=.build/plugins/GenerateManual/outputs/piswarm
[ -f "$pages/piswarm.up.1" ] || {
  echo "error: the generate-manual plugin wrote no piswarm.up.1 in $pages" >&2
  exit 1
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/piswarm-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/piswarm_${version}_$arch"

install -D -m 0755 "$binary" "$root/usr/bin/piswarm"
strip --strip-unneeded "$root/usr/bin/piswarm"
if ! "$root/usr/bin/piswarm" --version | grep -qF "$version (${commit:+commit }${commit:-unknown commit})"; then
  echo "error: the built binary says \"$("$root/usr/bin/piswarm" --version)\", not $version ($commit)" >&2
  exit 1
fi

# Man pages as git names them: `piswarm node add` is piswarm-node-add(1).
install -d "$root/usr/share/man/man1"
for page in "$pages"/*.1; do
  name=$(basename "$page" .1)
  awk '($1 == ".Xr" || $1 == ".Dt") { gsub(/\./, "-", $2) } { print }' "$page" \
    | gzip -9n >"$root/usr/share/man/man1/${name//./-}.1.gz"
done

install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d"
"$binary" --generate-completion-script bash >"$root/usr/share/bash-completion/completions/piswarm"
"$binary" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_piswarm"
"$binary" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/piswarm.fish"

install -D -m 0644 packaging/piswarm.service "$root/usr/lib/systemd/system/piswarm.service"

doc="$root/usr/share/doc/piswarm"
install -D -m 0644 README.md "$doc/README.md"
install -d "$doc/docs"
install -m 0644 docs/*.md "$doc/docs/"
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: piswarm
Comment: built from commit ${commit:-unknown}; the Swift runtime, Foundation and the Swift
 packages piswarm uses (swift-argument-parser, Yams, GRDB.swift, swift-crypto) are linked in
 statically and come under the Apache License 2.0 (Swift, swift-argument-parser, swift-crypto)
 and the MIT License (Yams, GRDB.swift).
EOF
printf 'piswarm (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- piswarm <piswarm@localhost>  %s\n' \
  "$version" "${commit:-unknown}" "$(date -u -R -d "$date")" | gzip -9n >"$doc/changelog.gz"

# Depends: the packages that hold the libraries the binary links, then what piswarm runs.
# dpkg knows each file by the path its package ships it at: /lib/… or /usr/lib/… (merged /usr).
owner() { dpkg -S "$1" 2>/dev/null | head -1 | cut -d: -f1 || true; }
libraries=()
while read -r library; do
  package=""
  for path in "$library" "/usr$library" "$(readlink -f "$library")"; do
    [ -n "$package" ] || package=$(owner "$path")
  done
  if [ -z "$package" ]; then
    echo "error: piswarm links $library, which no Debian package holds; link it statically or package it" >&2
    exit 1
  fi
  libraries+=("$package")
done < <(ldd "$root/usr/bin/piswarm" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
glibc=$(dpkg-query -W -f='${Version}' libc6 | cut -d- -f1)
shared=$(printf '%s\n' "${libraries[@]}" | sort -u | sed "s/^libc6$/libc6 (>= $glibc)/" | paste -sd, - | sed 's/,/, /g')

install -d -m 0755 "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: piswarm
Version: $version
Architecture: $arch
Maintainer: piswarm <piswarm@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $shared, $always
Recommends: $optional
Suggests: $lab
Section: admin
Priority: optional
Description: Raspberry Pi cluster provisioning: netboot and Docker Swarm from one file
 piswarm turns a rack of Raspberry Pi boards into a highly available Docker Swarm from one
 declarative cluster.yml, and keeps it that way: diskless netboot (dnsmasq, TFTP, per-node
 NFS roots), Docker on every node with storage that works without a disk, the swarm, and a
 virtual lab to try it all on one machine. Run as root on the cluster's head.
 .
 The systemd unit piswarm.service (piswarm serve) is installed but not enabled. State lives in
 /var/lib/piswarm, which removing the package leaves in place.
EOF
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)

mkdir -p "$output"
deb="$output/piswarm_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
