#!/usr/bin/env bash
# multiarch-image.sh REGISTRY REPOSITORY:TAG [CA] [CACHE]
# multiarch-image.sh --download [CACHE]
#
# Makes a multi-architecture image from Debian's busybox-static for amd64 and arm64 and pushes
# it to REGISTRY (e.g. https://10.42.0.250:5000, the head's private registry) as a Docker
# manifest list, without a Docker daemon: each architecture's root (busybox and a few applet
# links) is one gzipped layer, with an image config and a schema 2 manifest; the list names
# both with their platforms (linux/amd64, linux/arm64/v8). Pushed through the registry's HTTP
# API with curl, trusting only CA (the cluster CA, STATE/registry/ca.crt) when given.
# Prints the list's digest (sha256:…) on stdout; progress goes to stderr.
#
#   scripts/multiarch-image.sh https://10.42.0.250:5000 piswarm/busybox:1 STATE/registry/ca.crt
#   docker service create --mode global 10.42.0.250:5000/piswarm/busybox:1 sleep 3600
#
# The .debs come from `apt-get download` once and are kept in CACHE (default
# /var/cache/piswarm/busybox-multiarch); the layers are made reproducibly (sorted, owner 0,
# mtime 0, gzip -n), so the same packages give the same digests and a second push uploads
# nothing. A blob the registry holds already is not sent again. `--download` only fetches the
# .debs into CACHE: run it where apt reaches its mirror, then push from a namespace that does
# not (the lab's head).
set -euo pipefail

usage() { echo "usage: $0 REGISTRY REPOSITORY:TAG [CA] [CACHE] | $0 --download [CACHE]" >&2; exit 64; }
log() { echo "multiarch-image: $*" >&2; }

# The packages, once, into $1.
download() {
  local cache=$1 arch work
  mkdir -p "$cache"
  for arch in amd64 arm64; do
    if ! compgen -G "$cache/busybox-static_*_$arch.deb" >/dev/null; then
      log "downloading busybox-static:$arch"
      if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        # As scripts/qemu-fixture.sh does: apt needs the architecture to fetch its packages (a
        # fresh machine may run this before the fixture script has added it).
        log "adding the $arch architecture to dpkg and updating apt's lists"
        dpkg --add-architecture "$arch"
        apt-get -o DPkg::Lock::Timeout=600 update -qq || {
          echo "error: apt-get update failed after adding $arch; is an apt source reachable?" >&2
          exit 1
        }
      fi
      work=$(mktemp -d "${TMPDIR:-/tmp}/multiarch-deb.XXXXXX")
      (cd "$work" && apt-get download -q "busybox-static:$arch" >&2) || {
        rm -rf "$work"
        echo "error: apt-get download busybox-static:$arch failed; is an apt source reachable? (run $0 --download where it is)" >&2
        exit 1
      }
      mv "$work"/busybox-static_*_"$arch".deb "$cache"/
      rm -rf "$work"
    fi
  done
}

if [ "${1:-}" = --download ]; then
  [ $# -le 2 ] || usage
  download "${2:-/var/cache/piswarm/busybox-multiarch}"
  exit 0
fi
if [ $# -lt 2 ] || [ $# -gt 4 ]; then usage; fi
REGISTRY=${1%/}
case $REGISTRY in http://* | https://*) ;; *) echo "error: REGISTRY \"$REGISTRY\" must be an http:// or https:// URL, e.g. https://10.42.0.250:5000" >&2; exit 64 ;; esac
REPOSITORY=${2%:*}
TAG=${2##*:}
if [ "$REPOSITORY" = "$2" ] || [ -z "$TAG" ] || ! printf '%s' "$REPOSITORY" | grep -Eq '^[a-z0-9]+([._/-][a-z0-9]+)*$'; then
  echo "error: \"$2\" must be REPOSITORY:TAG in lowercase, e.g. piswarm/busybox:1" >&2
  exit 64
fi
CA=${3:-}
CACHE=${4:-/var/cache/piswarm/busybox-multiarch}
if [ -n "$CA" ] && [ ! -r "$CA" ]; then echo "error: cannot read the CA file $CA" >&2; exit 64; fi

# Docker's media types: what docker 20.10 and distribution 2.8 both know best.
LIST_TYPE=application/vnd.docker.distribution.manifest.list.v2+json
MANIFEST_TYPE=application/vnd.docker.distribution.manifest.v2+json
CONFIG_TYPE=application/vnd.docker.container.image.v1+json
LAYER_TYPE=application/vnd.docker.image.rootfs.diff.tar.gzip
APPLETS="sh ash cat echo ls mkdir rm sleep uname hostname httpd wget true false env ps id"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/multiarch-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

download "$CACHE"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# Each architecture: root, layer, config, manifest; blobs in $WORK/blobs by digest.
mkdir -p "$WORK/blobs"
ENTRIES=""
for arch in amd64 arm64; do
  debs=("$CACHE"/busybox-static_*_"$arch".deb)
  deb=${debs[0]}
  root=$WORK/root-$arch
  mkdir -p "$WORK/deb-$arch" "$root/bin" "$root/tmp" "$root/etc"
  dpkg-deb -x "$deb" "$WORK/deb-$arch"
  cp "$WORK/deb-$arch/bin/busybox" "$root/bin/busybox"
  for applet in $APPLETS; do ln -s busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$root" -cf "$WORK/layer-$arch.tar" .
  gzip -n -9 -c "$WORK/layer-$arch.tar" >"$WORK/layer-$arch.tar.gz"
  diff_id=sha256:$(sha "$WORK/layer-$arch.tar")
  layer=sha256:$(sha "$WORK/layer-$arch.tar.gz")
  cp "$WORK/layer-$arch.tar.gz" "$WORK/blobs/$layer"
  variant=""
  [ "$arch" = arm64 ] && variant=',"variant":"v8"'
  version=$(dpkg-deb -f "$deb" Version)
  printf '{"architecture":"%s"%s,"os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"Labels":{"org.piswarm.source":"busybox-static %s %s"}},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/multiarch-image.sh"}]}' \
    "$arch" "$variant" "$version" "$arch" "$diff_id" >"$WORK/config-$arch.json"
  config=sha256:$(sha "$WORK/config-$arch.json")
  cp "$WORK/config-$arch.json" "$WORK/blobs/$config"
  printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","size":%s,"digest":"%s"},"layers":[{"mediaType":"%s","size":%s,"digest":"%s"}]}' \
    "$MANIFEST_TYPE" "$CONFIG_TYPE" "$(size "$WORK/config-$arch.json")" "$config" "$LAYER_TYPE" "$(size "$WORK/layer-$arch.tar.gz")" "$layer" \
    >"$WORK/manifest-$arch.json"
  manifest=sha256:$(sha "$WORK/manifest-$arch.json")
  echo "$manifest" >"$WORK/manifest-$arch.digest"
  ENTRIES="$ENTRIES${ENTRIES:+,}$(printf '{"mediaType":"%s","size":%s,"digest":"%s","platform":{"architecture":"%s","os":"linux"%s}}' \
    "$MANIFEST_TYPE" "$(size "$WORK/manifest-$arch.json")" "$manifest" "$arch" "$variant")"
done
printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s]}' "$LIST_TYPE" "$ENTRIES" >"$WORK/list.json"

# The push: curl, the cluster CA only, never a proxy.
CURL=(curl -sS --noproxy '*' --max-time 120)
[ -n "$CA" ] && CURL+=(--cacert "$CA")
URL=$REGISTRY/v2/$REPOSITORY

status=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$REGISTRY/v2/") || { echo "error: $REGISTRY does not answer over verified TLS" >&2; exit 1; }
[ "$status" = 200 ] || { echo "error: $REGISTRY/v2/ answered HTTP $status, not 200" >&2; exit 1; }

for blob in "$WORK"/blobs/*; do
  digest=$(basename "$blob")
  if [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' -I "$URL/blobs/$digest")" = 200 ]; then
    log "blob $digest is there"
    continue
  fi
  location=$("${CURL[@]}" -X POST -o /dev/null -D - "$URL/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$location" ] || { echo "error: $URL/blobs/uploads/ gave no upload location" >&2; exit 1; }
  case $location in /*) location=$REGISTRY$location ;; esac
  case $location in *\?*) separator='&' ;; *) separator='?' ;; esac
  status=$("${CURL[@]}" -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$blob" -o /dev/null -w '%{http_code}' \
    "$location${separator}digest=$digest")
  [ "$status" = 201 ] || { echo "error: uploading blob $digest answered HTTP $status, not 201" >&2; exit 1; }
  log "blob $digest pushed ($(size "$blob") bytes)"
done

put_manifest() { # FILE TYPE REFERENCE
  local status
  status=$("${CURL[@]}" -X PUT -H "Content-Type: $2" --data-binary "@$1" -o "$WORK/answer" -w '%{http_code}' "$URL/manifests/$3")
  [ "$status" = 201 ] || { echo "error: putting manifest $3 answered HTTP $status: $(head -c 500 "$WORK/answer")" >&2; exit 1; }
}
for arch in amd64 arm64; do
  put_manifest "$WORK/manifest-$arch.json" "$MANIFEST_TYPE" "$(cat "$WORK/manifest-$arch.digest")"
done
put_manifest "$WORK/list.json" "$LIST_TYPE" "$TAG"
log "pushed ${REGISTRY#*://}/$REPOSITORY:$TAG (amd64, arm64)"
echo "sha256:$(sha "$WORK/list.json")"
