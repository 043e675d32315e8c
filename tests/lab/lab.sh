#!/bin/bash
# tests/lab/lab.sh up|down|status -- the three-node lab (see README.md).
#   Three networks (admin, storage, tenant: lib.sh), Corosync on admin + storage.
#   up   : build from scratch (fresh state dirs), power on the 3 BMCs, wait
#          until the cluster formed.  env: TOKEN (ms; corosync totem.token,
#          unset = corosync default), TOKEN_COEF, BOOT_DELAY (s, default 10).
#   down : power everything off, kill what is left in our namespaces, delete
#          them.  Idempotent.
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$REPO/tests/lib/libvirt-conf.sh"

net_up() {
    local net k ns n i
    ip netns add "$HUB_NS"
    ip -n "$HUB_NS" link set lo up
    # one bridge per network, the hub's address on it: the BMCs (admin), "the storage
    # array" and "the tenant gateway" that the nodes' netwatch probes
    for net in $LAB_NETWORKS; do
        k=$(net_index "$net")
        ip -n "$HUB_NS" link add "pdkbr$k" type bridge stp_state 0 forward_delay 0
        ip -n "$HUB_NS" addr add "$(net_hub_ip "$net")/24" dev "pdkbr$k"
        ip -n "$HUB_NS" link set "pdkbr$k" up
    done
    for n in $NODES; do
        i=${n#node}
        ns=$(node_ns "$n")
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # node N's ethK is the veth pv<N> (admin, as before) / pv<N>k<K> in the hub
        for net in $LAB_NETWORKS; do
            k=$(net_index "$net")
            local hub_end="pv$i"; [ "$k" = 0 ] || hub_end="pv${i}k$k"
            ip -n "$HUB_NS" link add "$hub_end" type veth peer name "eth$k" netns "$ns"
            ip -n "$HUB_NS" link set "$hub_end" master "pdkbr$k" up
            ip -n "$ns" addr add "$(net_ip "$n" "$net")/24" dev "eth$k"
            ip -n "$ns" link set "eth$k" up
        done
    done
}

write_corosync_conf() {
    echo "totem {"
    echo "    version: 2"
    echo "    cluster_name: paddock-lab"
    echo "    transport: knet"
    echo "    crypto_cipher: none"
    echo "    crypto_hash: none"
    # two knet links (crm-examples/networks/README.md): admin (link 0) carries the
    # traffic while it works, storage (link 1) takes over when it does not, so losing one
    # network alone does not split the cluster
    echo "    link_mode: passive"
    echo "    interface {"
    echo "        linknumber: 0"
    echo "        knet_link_priority: 2"
    echo "    }"
    echo "    interface {"
    echo "        linknumber: 1"
    echo "        knet_link_priority: 1"
    echo "    }"
    [ -n "${TOKEN:-}" ] && echo "    token: $TOKEN"
    [ -n "${TOKEN_COEF:-}" ] && echo "    token_coefficient: $TOKEN_COEF"
    echo "}"
    echo "logging {"
    echo "    to_logfile: yes"
    echo "    logfile: /var/log/corosync/corosync.log"
    echo "    to_stderr: no"
    echo "    to_syslog: no"
    echo "    timestamp: hires"
    echo "}"
    echo "quorum {"
    echo "    provider: corosync_votequorum"
    echo "}"
    echo "nodelist {"
    for n in $NODES; do
        printf '    node {\n        name: %s\n        nodeid: %s\n        ring0_addr: %s\n        ring1_addr: %s\n    }\n' \
            "$n" "${n#node}" "$(net_ip "$n" admin)" "$(net_ip "$n" storage)"
    done
    echo "}"
}

write_libvirt_conf() {   # NODE DIR
    local n=$1 d=$2 ip
    ip=$(node_ip "$n")
    libvirtd_conf "$ip" "5a3c0c1e-0000-4000-8000-00000000000${n#node}" > "$d/libvirtd.conf"
    qemu_conf "$ip" > "$d/qemu.conf"
}

up() {
    set -e
    mkdir -p "$L"/{conf,run,log,nodes,bmc,shared}
    # the event journal, on the nodes' "shared storage" (PADDOCK_JOURNAL in node-init)
    rm -rf "$L/journal"; install -d -o hacluster -g haclient -m 2770 "$L/journal"
    rm -f "$L"/run/* "$L"/log/*
    echo "${BOOT_DELAY:-10}" > "$L/conf/boot_delay"
    write_corosync_conf > "$L/conf/corosync.conf"
    for n in $NODES; do
        local D=$L/nodes/$n
        rm -rf "$D"
        mkdir -p "$D"/etc/{corosync,libvirt} "$D"/var/lib/{corosync,libvirt} "$D"/var/cache/libvirt \
                 "$D"/var/log/{corosync,libvirt/qemu}
        install -d -o hacluster -g haclient -m 0750 "$D"/var/lib/pacemaker \
            "$D"/var/lib/pacemaker/{cib,pengine,blackbox,cores}
        install -d -o hacluster -g haclient -m 0770 "$D"/var/log/pacemaker "$D"/var/log/pacemaker/bundles
        cp "$L/conf/corosync.conf" "$D/etc/corosync/corosync.conf"
        write_libvirt_conf "$n" "$D/etc/libvirt"
        echo 0 > "$D/sysrq"
        { echo "127.0.0.1 localhost"; for m in $NODES; do echo "$(node_ip "$m") $m"; done; } > "$D/etc/hosts"
        cp /etc/passwd "$D/etc/passwd"; cp /etc/group "$D/etc/group"
        getent passwd libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >> "$D/etc/passwd"
        getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >> "$D/etc/group"
        getent group kvm >/dev/null || echo "kvm:x:64056:" >> "$D/etc/group"
    done

    # BMCs: one ipmi_sim per node, on the management side (pdk-hub)
    cat > "$L/bmc/cmds" <<'EOC'
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 dynsens
mc_enable 0x20
EOC
    for n in $NODES; do
        local B=$L/bmc/$n i=${n#node}
        rm -rf "$B"; mkdir -p "$B/state"
        cat > "$B/lan.conf" <<EOC
# BMC of $n: IPMI over LAN (RMCP+), UDP $BMC_IP:$(bmc_port "$n") in netns $HUB_NS
name "bmc-$n"
set_working_mc 0x20
  startlan 1
    addr $BMC_IP $(bmc_port "$n")
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcd0$i
  endlan
  # a VM-codec system interface gives the chassis its "can power" capability;
  # nothing connects to it
  serial 15 127.0.0.1 $((19610 + i)) codec VM
  # power on = run node-power; power state = is it alive; power off = SIGTERM
  startcmd "$LAB_BIN/node-power $n"
  startnow false
  poweroff_wait 0
  kill_wait 1
  user 2 true "$BMC_USER" "$BMC_PASSWORD" admin 10 none md2 md5 straight
EOC
    done

    ip netns list | grep -qw "$HUB_NS" || net_up
    for n in $NODES; do
        local B=$L/bmc/$n
        ( cd "$B" && exec ip netns exec "$HUB_NS" setsid ipmi_sim -c "$B/lan.conf" -f "$L/bmc/cmds" \
            -s "$B/state" -n </dev/null >>"$L/log/bmc-$n.log" 2>&1 8>&- ) &
        echo $! > "$L/run/bmc-$n.pid"
    done
    sleep 1
    for n in $NODES; do ipmi "$n" chassis power on >/dev/null; done
    set +e
    if ! poll_until 120 all_online; then
        on_node node1 crm_mon -1
        echo "lab: cluster did not form" >&2
        return 1
    fi
    echo "lab up: $(online_nodes)"
}

down() {
    local p n
    kill_pidfile() { p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && kill "-$2" "$p" 2>/dev/null; }
    for n in $NODES; do kill_pidfile "$L/run/$n.unshare.pid" KILL; done     # pull the plugs
    for n in $NODES; do kill_pidfile "$L/run/bmc-$n.pid" TERM; done
    sleep 0.5
    for n in $NODES; do kill_pidfile "$L/run/$n.power.pid" KILL; kill_pidfile "$L/run/bmc-$n.pid" KILL; done
    # every process in our network namespaces was started by the lab
    for ns in $(for n in $NODES; do node_ns "$n"; done) "$HUB_NS"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    for _ in $(seq 50); do
        local left=""
        for ns in $(for n in $NODES; do node_ns "$n"; done) "$HUB_NS"; do
            left="$left$(ip netns pids "$ns" 2>/dev/null)"
        done
        [ -z "$left" ] && break
        sleep 0.1
    done
    for n in $NODES; do ip netns del "$(node_ns "$n")" 2>/dev/null; done
    ip netns del "$HUB_NS" 2>/dev/null
    rm -f "$L"/run/*.pid "$L"/run/*.booted
    if ip netns list | grep -q '^pdk-'; then echo "lab down: WARNING namespaces left" >&2; return 1; fi
    echo "lab down"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) for n in $NODES; do echo "$n: $(cat "$L/run/$n.init.pid" 2>/dev/null || echo off)"; done
            on_node node1 crm_mon -1 ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
