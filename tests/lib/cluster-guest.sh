# tests/lib/cluster-guest.sh -- sourced by the benchmarks that need Pacemaker and a real guest:
#
#   cluster_guest HOST PORT DOM
#
# brings up the single-node cluster (tests/lib/cluster.sh, fencing off), a test libvirtd named
# HOST on 127.0.0.1:PORT (tests/lib/libvirt-host.sh) and writes the tiny guest DOM's domain XML
# to $W/DOM.xml; all torn down on exit. Sets W (scratch directory), URI, CLUSTER, HOSTS and
# defines on (run a command inside the cluster). Needs REPO.
cluster_guest() {
    local host=$1 port=$2 dom=$3 kdir accel
    CLUSTER=$REPO/tests/lib/cluster.sh
    HOSTS=$REPO/tests/lib/libvirt-host.sh
    W=$(mktemp -d "/tmp/paddock-$host.XXXXXX")
    export PADDOCK_VIRT_DIR=$W/virt
    _CLUSTER_GUEST_HOST=$host
    trap '"$CLUSTER" down >/dev/null 2>&1; "$HOSTS" stop "$_CLUSTER_GUEST_HOST" >/dev/null 2>&1; rm -rf --one-file-system "$W"' EXIT
    "$CLUSTER" down >/dev/null 2>&1
    "$CLUSTER" up >/dev/null || { echo "cluster did not come up"; exit 1; }
    on crm_attribute --type crm_config --name stonith-enabled --update false
    kdir=$("$REPO/tests/lib/build-tinyvm.sh") || exit 1
    accel=$(cat "$kdir/accel" 2>/dev/null || echo qemu)
    "$HOSTS" start "$host" "$port" >/dev/null || exit 1
    URI=qemu+tcp://127.0.0.1:$port/system
    . "$REPO/tests/lib/tinyvm.sh"
    truncate -s 1M "$W/disk.raw"
    TINYVM_DIR=$kdir TINYVM_TYPE=$accel tinyvm_xml "$dom" "$W/serial.log" "$W/disk.raw" >"$W/$dom.xml"
}
on() { "$CLUSTER" exec "$@"; }
