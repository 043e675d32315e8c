# tests/lib/libvirt-conf.sh -- configuration of the test libvirtds (sourced): the single
# hosts of tests/lib/libvirt-host.sh and the three-node lab's daemons alike.

# libvirtd_conf LISTEN_ADDR HOST_UUID [TCP_PORT]: TCP without authentication on LISTEN_ADDR
# (for the agents and for peer-to-peer migration), root-only UNIX sockets.
libvirtd_conf() {
    local addr=$1 uuid=$2 port=${3:-}
    cat <<EOC
listen_tls = 0
listen_tcp = 1
listen_addr = "$addr"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
keepalive_interval = 5
EOC
    [ -z "$port" ] || echo "tcp_port = \"$port\""
}

# qemu_conf MIGRATION_ADDR [PORT_MIN PORT_MAX]: qemu as root, no cgroups (several daemons
# on one machine would share /sys/fs/cgroup/machine), no security driver, no per-VM /dev
# namespace, no virtlogd; incoming migrations on MIGRATION_ADDR.
qemu_conf() {
    local addr=$1 min=${2:-} max=${3:-}
    cat <<EOC
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
migration_address = "$addr"
migration_host = "$addr"
EOC
    [ -z "$min" ] || printf 'migration_port_min = %s\nmigration_port_max = %s\n' "$min" "$max"
}
