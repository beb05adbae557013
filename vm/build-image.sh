#!/usr/bin/env bash
# Builds a bootable Debian bookworm cloud disk image with deskpod as a systemd service:
# mmdebstrap (kernel, systemd, cloud-init, deskpod's runtime packages) -> deskpod binary, units,
# sysusers -> a GPT disk with an EFI system partition (systemd-boot, written with mtools) and an
# ext4 root (mkfs.ext4 -d): no loop devices or mounts, so it also runs in containers.
# Output: raw and qcow2 images for UEFI VMs (docs/deploy.md: uploading to a cloud).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: vm/build-image.sh [options]

  --binary PATH   deskpod executable          default: build-deploy/deskpod
  --out DIR       output directory            default: build-deploy/vm
  --size SIZE     disk size (truncate form)   default: 4G
  --mirror URL    Debian mirror               default: http://deb.debian.org/debian
  -h, --help      show this help

Writes OUT/deskpod-vm.raw and OUT/deskpod-vm.qcow2 (UEFI boot, root on /dev/vda2 or sda2 by
PARTUUID). Needs root and the Debian packages mmdebstrap, dosfstools, mtools, e2fsprogs,
fdisk and qemu-utils. Takes about 10 minutes on 2 cores; not run in CI (see docs/deploy.md).
USAGE
}
die() { echo "build-image: $*" >&2; exit 1; }

root="$(cd "$(dirname "$0")/.." && pwd)"
binary="$root/build-deploy/deskpod"
out="$root/build-deploy/vm"
size=4G
mirror=http://deb.debian.org/debian
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) [[ $# -ge 2 ]] || die "--binary needs a value"; binary="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; out="$2"; shift 2 ;;
    --size) [[ $# -ge 2 ]] || die "--size needs a value"; size="$2"; shift 2 ;;
    --mirror) [[ $# -ge 2 ]] || die "--mirror needs a value"; mirror="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-image: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "run as root"
for t in mmdebstrap mkfs.vfat mcopy mmd mkfs.ext4 sfdisk qemu-img; do
  command -v "$t" >/dev/null || die "$t is missing (apt-get install mmdebstrap dosfstools mtools e2fsprogs fdisk qemu-utils)"
done
[[ -x "$binary" ]] || die "no deskpod binary at $binary (meson compile -C build-deploy deskpod)"

mapfile -t pkgs < <(grep -v '^\s*#' "$root/container/runtime-packages" | sed '/^\s*$/d')
pkgs+=(linux-image-cloud-amd64 systemd-sysv systemd-boot systemd-boot-efi udev dbus cloud-init
       systemd-resolved openssh-server xvfb x11-utils util-linux)
work="$out/work"
rm -rf "$work"
mkdir -p "$work" "$out"
rootfs="$work/rootfs"

mmdebstrap --variant=minbase --mode=root --include="$(IFS=,; echo "${pkgs[*]}")" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  bookworm "$rootfs" "$mirror"

# deskpod, its units, user and docs.
install -m 0755 "$binary" "$rootfs/usr/local/bin/deskpod"
install -d -m 0755 "$rootfs/usr/share/doc/deskpod"
"$binary" --licenses >"$rootfs/usr/share/doc/deskpod/LICENSES"
install -D -m 0755 "$root/scripts/xvfb-start.sh" "$rootfs/usr/local/lib/deskpod/xvfb-start.sh"
install -m 0644 "$root/vm/systemd/deskpod.service" "$root/vm/systemd/deskpod-xvfb.service" \
  "$rootfs/etc/systemd/system/"
install -D -m 0644 "$root/vm/systemd/deskpod.service.d/x11.conf.example" \
  "$rootfs/usr/share/doc/deskpod/x11.conf.example"
install -D -m 0644 "$root/vm/systemd/deskpod.sysusers" "$rootfs/usr/lib/sysusers.d/deskpod.conf"
install -D -m 0644 "$root/vm/systemd/deskpod.env.example" "$rootfs/etc/deskpod/deskpod.env"
install -D -m 0644 "$root/docs/deploy.md" "$rootfs/usr/share/doc/deskpod/deploy.md"
chroot "$rootfs" systemd-sysusers
chroot "$rootfs" systemctl enable deskpod.service systemd-networkd systemd-resolved >/dev/null
# DHCP on every ethernet interface; the cloud's metadata service configures the rest.
cat >"$rootfs/etc/systemd/network/80-dhcp.network" <<'NET'
[Match]
Name=en* eth*
[Network]
DHCP=yes
NET
echo deskpod >"$rootfs/etc/hostname"
: >"$rootfs/etc/machine-id"

# Disk layout: 1 MiB gap, 256 MiB ESP, the rest ext4 root.
raw="$out/deskpod-vm.raw"
rm -f "$raw"
truncate -s "$size" "$raw"
sfdisk --quiet "$raw" <<'PART'
label: gpt
start=2048, size=524288, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=526336, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
PART
root_uuid="$(sfdisk --part-uuid "$raw" 2)"
total=$(( $(stat -c %s "$raw") / 512 ))
root_sectors=$(( total - 526336 - 34 ))

kver="$(ls "$rootfs/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)"
esp="$work/esp.img"
truncate -s 256M "$esp"
mkfs.vfat -F 32 -n ESP "$esp" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/deskpod
mcopy -i "$esp" "$rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$rootfs/boot/vmlinuz-$kver" ::/deskpod/vmlinuz
mcopy -i "$esp" "$rootfs/boot/initrd.img-$kver" ::/deskpod/initrd.img
printf 'default deskpod.conf\ntimeout 0\n' >"$work/loader.conf"
printf 'title deskpod\nlinux /deskpod/vmlinuz\ninitrd /deskpod/initrd.img\noptions root=PARTUUID=%s ro console=ttyS0 console=tty0\n' \
  "$root_uuid" >"$work/entry.conf"
mcopy -i "$esp" "$work/loader.conf" ::/loader/loader.conf
mcopy -i "$esp" "$work/entry.conf" ::/loader/entries/deskpod.conf
printf 'PARTUUID=%s / ext4 defaults 0 1\n' "$root_uuid" >"$rootfs/etc/fstab"

rootimg="$work/root.img"
truncate -s $(( root_sectors * 512 )) "$rootimg"
mkfs.ext4 -q -L root -d "$rootfs" "$rootimg"
dd if="$esp" of="$raw" bs=512 seek=2048 conv=notrunc status=none
dd if="$rootimg" of="$raw" bs=512 seek=526336 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$raw" "$out/deskpod-vm.qcow2"
rm -rf "$work"
echo "build-image: $raw and $out/deskpod-vm.qcow2 (kernel $kver, root PARTUUID $root_uuid)"
