# tests/lib/tinyvm.sh -- the tiny test guest's domain XML (sourced).
#
#   tinyvm_xml NAME SERIAL_LOG [DISK [UUID]] > NAME.xml
#
# The guest boots tests/lib/build-tinyvm.sh's kernel and initramfs (built on first use), logs
# to SERIAL_LOG (appended: one "tinyvm: up" line per boot), and writes to DISK (a raw file)
# when given. Environment:
#   TINYVM_DIR         the kernel directory (default: what build-tinyvm.sh prints)
#   TINYVM_TYPE        the domain type (default: TINYVM_DIR/accel, which the cargo tests
#                      write once they know whether kvm boots the guest; else qemu)
#   TINYVM_DISK_CACHE  the disk's cache mode (e.g. none, which live migration wants)
#   TINYVM_PANIC_AFTER N: the guest's kernel panics N seconds after boot, and the domain has a
#                      pvpanic device, so libvirt reports the crash
#   TINYVM_WATCHDOG_AFTER N: the domain has an i6300esb watchdog (action TINYVM_WATCHDOG_ACTION,
#                      default poweroff) that the guest arms N seconds after boot and never feeds
tinyvm_xml() {
    local name=$1 serial=$2 disk=${3:-} uuid=${4:-}
    local dir=${TINYVM_DIR:-}
    if [ -z "$dir" ]; then
        dir=$("$(dirname "${BASH_SOURCE[0]}")/build-tinyvm.sh") || return 1
    fi
    local type=${TINYVM_TYPE:-$(cat "$dir/accel" 2>/dev/null || echo qemu)}
    local cache="" panic_cmdline="" panic_device=""
    [ -z "${TINYVM_DISK_CACHE:-}" ] || cache=" cache='$TINYVM_DISK_CACHE'"
    if [ -n "${TINYVM_PANIC_AFTER:-}" ]; then
        panic_cmdline=" tinyvm.panic=$TINYVM_PANIC_AFTER"
        panic_device="    <panic model='isa'/>"
    fi
    if [ -n "${TINYVM_WATCHDOG_AFTER:-}" ]; then
        panic_cmdline="$panic_cmdline tinyvm.watchdog=$TINYVM_WATCHDOG_AFTER"
        panic_device="$panic_device
    <watchdog model='i6300esb' action='${TINYVM_WATCHDOG_ACTION:-poweroff}'/>"
    fi
    echo "<domain type='$type'>"
    echo "  <name>$name</name>"
    [ -z "$uuid" ] || echo "  <uuid>$uuid</uuid>"
    cat <<EOX
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$dir/vmlinuz</kernel>
    <initrd>$dir/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1$panic_cmdline</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
EOX
    [ -z "$disk" ] || cat <<EOX
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'$cache/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
EOX
    cat <<EOX
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$serial' append='on'/></serial>
    <console type='file'><source path='$serial' append='on'/><target type='serial'/></console>
    <memballoon model='none'/>
$panic_device
  </devices>
</domain>
EOX
}
