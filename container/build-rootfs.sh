#!/usr/bin/env bash
# Builds deskpod's runtime image without a container engine: a Debian bookworm root filesystem
# from Debian packages (mmdebstrap), the deskpod binary built on this host, a non-root user, and
# the image configuration (entrypoint, environment, ports, user) packed by umoci as an OCI image
# archive that `podman load` and `docker load` accept. The same image as container/Containerfile.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: container/build-rootfs.sh [options]

Builds, under OUT (default build-deploy/image):
  rootfs/                  the unpacked runtime root filesystem (for chroot/bwrap/nspawn)
  deskpod-oci.tar          OCI image archive:   podman load -i deskpod-oci.tar
  deskpod-docker.tar       Docker archive (when skopeo is installed): docker load -i ...
The package tarball from mmdebstrap is cached in CACHE (keyed on the package list, the binary's
libraries and the suite), so a rebuild with the same packages takes seconds.

Options:
  --binary PATH     deskpod executable to install   default: build-deploy/deskpod (built if missing)
  --out DIR         output directory                default: build-deploy/image
  --cache DIR       mmdebstrap tarball cache        default: $XDG_CACHE_HOME/deskpod-rootfs
                                                    (~/.cache/deskpod-rootfs)
  --mirror URL      Debian mirror                   default: http://deb.debian.org/debian
  --tag TAG         image tag                       default: the binary's version
  --no-oci          stop after the rootfs (no umoci/skopeo)
  -h, --help        show this help

Needs root (mmdebstrap's root mode) and the Debian packages mmdebstrap, umoci, and optionally
skopeo (scripts/bootstrap --deploy installs them).
USAGE
}

die() { echo "build-rootfs: $*" >&2; exit 1; }
say() { echo "build-rootfs: $*" >&2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
binary="$root/build-deploy/deskpod"
out="$root/build-deploy/image"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/deskpod-rootfs"
mirror="http://deb.debian.org/debian"
tag=""
oci=1
suite=bookworm
uid=10001

while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) [[ $# -ge 2 ]] || die "--binary needs a value"; binary="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; out="$2"; shift 2 ;;
    --cache) [[ $# -ge 2 ]] || die "--cache needs a value"; cache="$2"; shift 2 ;;
    --mirror) [[ $# -ge 2 ]] || die "--mirror needs a value"; mirror="$2"; shift 2 ;;
    --tag) [[ $# -ge 2 ]] || die "--tag needs a value"; tag="$2"; shift 2 ;;
    --no-oci) oci=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-rootfs: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (mmdebstrap root mode, file ownership in the image)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (Debian package mmdebstrap)"
if [[ ! -x "$binary" ]]; then
  [[ "$binary" == "$root/build-deploy/deskpod" ]] || die "no executable at --binary $binary"
  say "building deskpod into build-deploy/"
  [[ -f "$root/build-deploy/build.ninja" ]] || meson setup "$root/build-deploy" -Dtests=false -Dbench=false >/dev/null
  meson compile -C "$root/build-deploy" deskpod >/dev/null
fi
version="$("$binary" --version | awk '{print $2}')"
[[ -n "$tag" ]] || tag="$version"
started=$SECONDS

# The package list: the fixed runtime list plus the packages of the libraries deskpod links.
mapfile -t pkgs < <(grep -v '^\s*#' "$root/container/runtime-packages" | sed '/^\s*$/d')
while read -r lib; do
  path="$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !found {print $NF; found = 1}')"
  [[ -n "$path" ]] || continue
  pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)" || true
  [[ -n "$pkg" ]] && pkgs+=("$pkg")
done < <(objdump -p "$binary" | awk '/NEEDED/ {print $2}')
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
key="$(printf '%s\n' "$suite" "$mirror" "v1" "${pkgs[@]}" | sha256sum | cut -c1-16)"
tarball="$cache/rootfs-$suite-$key.tar"

mkdir -p "$cache"
if [[ -s "$tarball" ]]; then
  say "using cached package tarball $tarball"
else
  say "mmdebstrap $suite with ${#pkgs[@]} packages (cache key $key); this takes a few minutes"
  tmp="$tarball.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
  # essential + the listed packages and their dependencies; no apt, docs or man pages.
  mmdebstrap --variant=essential --mode=root --format=tar \
    --include="$(IFS=,; echo "${pkgs[*]}")" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$suite" "$tmp" "$mirror" >&2
  mv "$tmp" "$tarball"
  trap - EXIT
  # Keep only the newest few tarballs.
  ls -1t "$cache"/rootfs-*.tar 2>/dev/null | tail -n +4 | xargs -r rm -f
fi

rootfs="$out/rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs"
tar -C "$rootfs" -xf "$tarball"

# The image's own layer: user, directories, binary. Same as the Containerfile's runtime stage.
grep -q "^deskpod:" "$rootfs/etc/group" || echo "deskpod:x:$uid:" >>"$rootfs/etc/group"
grep -q "^deskpod:" "$rootfs/etc/passwd" \
  || echo "deskpod:x:$uid:$uid:deskpod desktop:/home/deskpod:/bin/sh" >>"$rootfs/etc/passwd"
grep -q "^deskpod:" "$rootfs/etc/shadow" 2>/dev/null || echo "deskpod:!:19000::::::" >>"$rootfs/etc/shadow"
install -d -m 0750 -o "$uid" -g "$uid" "$rootfs/home/deskpod"
install -d -m 0700 -o "$uid" -g "$uid" "$rootfs/run/user/$uid"
install -d -m 1777 "$rootfs/tmp/.X11-unix"
install -d -m 0755 "$rootfs/run/secrets"
install -m 0755 "$binary" "$rootfs/usr/local/bin/deskpod"
# deskpod's licence and the notices of the third-party code embedded in it ship with the image.
install -d -m 0755 "$rootfs/usr/share/doc/deskpod"
"$binary" --licenses >"$rootfs/usr/share/doc/deskpod/LICENSES"
strip --strip-debug "$rootfs/usr/local/bin/deskpod" 2>/dev/null || true
# A machine-id-less, apt-less image: nothing else to clean.
rm -rf "$rootfs/var/cache/apt"/* "$rootfs/var/lib/apt/lists"/* 2>/dev/null || true
say "rootfs ready in $rootfs ($(du -sh "$rootfs" | cut -f1)), $((SECONDS - started))s so far"

[[ $oci -eq 1 ]] || exit 0
command -v umoci >/dev/null || die "umoci is missing (Debian package umoci)"
layout="$out/oci"
rm -rf "$layout" "$out/bundle"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$out/bundle" >/dev/null
rm -rf "$out/bundle/rootfs"
# A copy, not a move: the rootfs stays for the chroot/bwrap/nspawn tests.
cp -a "$rootfs" "$out/bundle/rootfs"
umoci repack --image "$layout:$tag" "$out/bundle" >/dev/null
rm -rf "$out/bundle"
umoci config --image "$layout:$tag" \
  --author "deskpod" \
  --config.user "$uid:$uid" \
  --config.workingdir /home/deskpod \
  --config.entrypoint /usr/bin/tini --config.entrypoint -- --config.entrypoint /usr/local/bin/deskpod \
  --config.env HOME=/home/deskpod \
  --config.env LANG=C.UTF-8 \
  --config.env XDG_RUNTIME_DIR=/run/user/$uid \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env DESKPOD_RDP=0.0.0.0:3389 \
  --config.env DESKPOD_HTTP=0.0.0.0:8080 \
  --config.env DESKPOD_GUAC=127.0.0.1:4822 \
  --config.exposedports 3389/tcp --config.exposedports 4822/tcp --config.exposedports 8080/tcp \
  --config.volume /home/deskpod \
  --config.stopsignal SIGTERM \
  --config.label org.opencontainers.image.title=deskpod \
  --config.label org.opencontainers.image.version="$version" \
  --manifest.annotation org.opencontainers.image.ref.name="$tag" \
  --tag "$tag"
umoci gc --layout "$layout"
if command -v skopeo >/dev/null; then
  rm -f "$out/deskpod-docker.tar"
  skopeo --insecure-policy copy --quiet "oci:$layout:$tag" "docker-archive:$out/deskpod-docker.tar:localhost/deskpod:$tag"
  say "Docker archive: $out/deskpod-docker.tar; docker load -i $out/deskpod-docker.tar"
fi
# Loaders name the image after the index's ref.name (podman) or io.containerd.image.name
# (docker >= 25): give the full name, not only the tag umoci wrote.
python3 - "$layout/index.json" "localhost/deskpod:$tag" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
index = json.load(open(path))
for m in index["manifests"]:
    m.setdefault("annotations", {})["org.opencontainers.image.ref.name"] = name
    m["annotations"]["io.containerd.image.name"] = name
json.dump(index, open(path, "w"))
PY
# OCI layout archive (podman load, docker load >= 25).
tar -C "$layout" -cf "$out/deskpod-oci.tar" .
say "OCI image archive: $out/deskpod-oci.tar ($(du -h "$out/deskpod-oci.tar" | cut -f1)); podman load -i $out/deskpod-oci.tar"
say "done in $((SECONDS - started))s"
