# tests/lab/vms.sh -- the lab's guests (sourced after lib.sh).
# Five tiny guests (kernel + busybox initramfs, 96 MiB, TCG), defined by
# domain XML files on the shared directory $L/shared/vms, each with a 1 MiB
# raw disk and a serial log there.  The serial log gets one "tinyvm: up" line
# per boot: a live migration adds none, a restart adds one.
VM_DIR=$L/shared/vms
. "$REPO/tests/lib/tinyvm.sh"
# name:priority:memory_MiB
LAB_VMS="vm-db:100:96 vm-web:100:96 vm-batch1:0:96 vm-batch2:0:96 vm-batch3:0:96"
vm_names()      { for v in $LAB_VMS; do echo "${v%%:*}"; done; }
vm_priority()   { local v; for v in $LAB_VMS; do [ "${v%%:*}" = "$1" ] && { v=${v#*:}; echo "${v%%:*}"; }; done; }
high_vms()      { local v; for v in $(vm_names); do [ "$(vm_priority "$v")" -gt 0 ] && echo "$v"; done; }
low_vms()       { local v; for v in $(vm_names); do [ "$(vm_priority "$v")" -eq 0 ] && echo "$v"; done; }

make_vm_definitions() {
    mkdir -p "$VM_DIR"
    # the tiny guest's kernel and initramfs (built once, cached)
    local TINYVM_DIR
    TINYVM_DIR=$("$REPO/tests/lib/build-tinyvm.sh") || return 1
    [ -f "$TINYVM_DIR/vmlinuz" ] && [ -f "$TINYVM_DIR/initrd.gz" ] \
        || { echo "no tiny guest in $TINYVM_DIR (run tests/lib/build-tinyvm.sh)" >&2; return 1; }
    local i=0 name
    for name in $(vm_names); do
        i=$((i + 1))
        rm -f "$VM_DIR/$name.serial.log"; truncate -s 1M "$VM_DIR/$name.raw"
        # TCG on every node (live migration needs the same type on both sides); cache=none
        # so that a migrated guest's disk writes are on the shared disk, not in a host's cache
        TINYVM_DIR=$TINYVM_DIR TINYVM_TYPE=qemu TINYVM_DISK_CACHE=none tinyvm_xml "$name" \
            "$VM_DIR/$name.serial.log" "$VM_DIR/$name.raw" "7b1c6a52-1d7e-4c55-9a3e-00000000010$i" \
            >"$VM_DIR/$name.xml"
    done
}

# boots NAME: how many times the guest came up (lines in its serial log)
boots() { grep -c 'tinyvm: up' "$VM_DIR/$1.serial.log" 2>/dev/null || true; }

# qemu_count NAME: qemu processes running guest NAME on the whole machine
# (the host sees every node's processes): more than 1 = the VM runs twice
qemu_count() {
    local c=0 p
    for p in /proc/[0-9]*; do
        { tr "\0" " " < "$p/cmdline"; } 2>/dev/null | grep -q "^/usr/bin/qemu-system-x86_64 .*-name guest=$1," && c=$((c + 1))
    done
    echo "$c"
}

# qemu_twice: names of the guests that run twice: two qemu processes, unless
# the younger one is a live-migration destination (started with -incoming)
qemu_twice() {
    local pid args
    ps -e -o pid=,args= | while read -r pid args; do
        case $args in /usr/bin/qemu-system-x86_64\ *) ;; *) continue ;; esac
        # starttime (field 22 of /proc/PID/stat) orders the processes
        echo "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) $(grep -o -- '-name guest=[^,]*' <<<"$args" | sed 's/.*=//') $(grep -q -- ' -incoming ' <<<"$args" && echo in || echo run)"
    done | sort -n | awk 'NF == 3 { n[$2]++; last[$2] = $3 } END { for (g in n) if (n[g] > 1 && last[g] != "in") print g }'
}

# vm_location NAME: the node running NAME according to Pacemaker (node1's view)
vm_location() { on_node "${2:-node1}" crm_resource --locate -r "$1" 2>/dev/null | sed -n 's/.*is running on: \([^ ]*\).*/\1/p'; }
