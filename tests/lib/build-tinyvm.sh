#!/bin/bash
# Builds the tiny test guest into a cache directory (idempotent):
#   $PADDOCK_CACHE/tinyvm/vmlinuz    Debian cloud kernel (direct kernel boot)
#   $PADDOCK_CACHE/tinyvm/initrd.gz  busybox initramfs whose acpid powers off on the
#                                    ACPI power button, so a graceful shutdown works
# Prints the directory. PADDOCK_CACHE defaults to /var/cache/paddock. A cache built by an older
# version of this script (see VERSION) is rebuilt.
set -euo pipefail
OUT=${PADDOCK_CACHE:-/var/cache/paddock}/tinyvm
mkdir -p "$OUT"
# 2: pvpanic modules and the tinyvm.panic=N test hook; 3: tinyvm.watchdog=N
VERSION=3
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ "$(cat "$OUT/version" 2>/dev/null)" = "$VERSION" ]; then
  echo "$OUT"; exit 0
fi
command -v busybox >/dev/null || [ -x /bin/busybox ] || { echo "build-tinyvm: busybox-static not installed" >&2; exit 1; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"
# The cloud kernel flavour: small, virtio built in; ACPI button + evdev as modules.
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
[ -n "$pkg" ] || { apt-get update -q >/dev/null; pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}'); }
[ -n "$pkg" ] || { echo "build-tinyvm: cannot find the linux-image-cloud-amd64 package" >&2; exit 1; }
apt-get download "$pkg" >/dev/null 2>&1 || apt-get download "$pkg"
dpkg-deb -x "$pkg"_*.deb k
kv=$(ls k/lib/modules)
R=$W/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,lib,etc/acpi/PWRF,run}
cp "$(readlink -f /bin/busybox)" "$R/bin/busybox"
# load order matters (dependencies first): ACPI button, then virtio for the test disk
MODULES="drivers/acpi/button.ko drivers/input/evdev.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
  drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci.ko
  drivers/block/virtio_blk.ko drivers/misc/pvpanic/pvpanic.ko drivers/misc/pvpanic/pvpanic-mmio.ko"
for m in $MODULES; do
  f=k/lib/modules/$kv/kernel/$m
  [ -f "$f" ] || f=$(ls "$f".* 2>/dev/null | head -n1)   # compressed modules on newer kernels
  [ -f "$f" ] || { echo "build-tinyvm: $m not in $pkg" >&2; exit 1; }
  cp "$f" "$R/lib/$(basename "$m")"
  echo "$(basename "$m")" >> "$R/etc/modules"
done
cat > "$R/etc/acpi/PWRF/00000080" <<'EOS'
#!/bin/sh
echo "tinyvm: ACPI power button -> poweroff" > /dev/console
sync; poweroff -f
EOS
chmod +x "$R/etc/acpi/PWRF/00000080"
cat > "$R/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /etc/modules); do insmod /lib/$m || echo "tinyvm: insmod $m failed" > /dev/console; done
acpid -c /etc/acpi -l /run/acpid.log
echo "tinyvm: up, kernel $(uname -r)" > /dev/console
# Test hooks on the kernel command line:
#   tinyvm.panic=N     panics the kernel after N seconds (a pvpanic device tells the host)
#   tinyvm.watchdog=N  arms the emulated i6300esb watchdog after N seconds, about 2 s per stage,
#                      and never feeds it (no driver: its registers are written directly)
arm_i6300esb() {
  local d bar
  d=$(grep -l 0x25ab /sys/bus/pci/devices/*/device 2>/dev/null | head -n1)
  [ -n "$d" ] || { echo "tinyvm: no i6300esb watchdog" > /dev/console; return; }
  d=${d%/device}
  bar=$(head -n1 "$d/resource" | cut -d' ' -f1)
  # each preload write is preceded by the unlock sequence 0x80, 0x86 on the reload register
  devmem $((bar + 0xc)) 16 0x80; devmem $((bar + 0xc)) 16 0x86; devmem $((bar + 0x0)) 32 2000
  devmem $((bar + 0xc)) 16 0x80; devmem $((bar + 0xc)) 16 0x86; devmem $((bar + 0x4)) 32 2000
  printf '\002' | dd of="$d/config" bs=1 seek=104 count=1 conv=notrunc 2>/dev/null   # enable
  echo "tinyvm: watchdog armed, not fed" > /dev/console
}
for w in $(cat /proc/cmdline); do
  case $w in
    tinyvm.panic=*) (sleep "${w#*=}"; echo "tinyvm: panicking" > /dev/console
                     echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger) & ;;
    tinyvm.watchdog=*) (sleep "${w#*=}"; arm_i6300esb) & ;;
  esac
done
# Write to the first disk now and then, so that a failing disk shows (I/O error tests).
n=0
while :; do
  n=$((n+1)); echo "tinyvm: tick $n" > /dev/console
  if [ -b /dev/vda ]; then dd if=/dev/urandom of=/dev/vda bs=4096 count=1 seek=$((n % 16)) conv=fsync 2>/dev/null && sync || echo "tinyvm: disk write failed" > /dev/console; fi
  sleep 1
done
EOS
chmod +x "$R/init"
(cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9) > "$OUT/initrd.gz.tmp"
cp k/boot/vmlinuz-* "$OUT/vmlinuz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"; mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
echo "$VERSION" > "$OUT/version"
echo "$OUT"
