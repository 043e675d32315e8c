#!/bin/sh
# Host services of compute nodes watched and restarted by Pacemaker (the job of
# Masakari's process monitor): libvirtd and nova-compute as clones of
# ocf:paddock:procwatch on every node with the attribute compute=true, and the VMs
# kept where libvirtd runs.  See README.md for the reasoning.  Edit or set:
#   COMPUTE_NODES  nodes that run VMs (they get the attribute compute=true)
#   VMS            names of existing VM resources (e.g. from ../ha-vms), may be empty
#   PCS            "pcs" (default), or "pcs -f cib.xml" to build a CIB file offline
set -eu
COMPUTE_NODES=${COMPUTE_NODES:?set COMPUTE_NODES, e.g. COMPUTE_NODES="node1 node2 node3"}
VMS=${VMS:-}
PCS=${PCS:-pcs}

for node in $COMPUTE_NODES; do
    $PCS node attribute "$node" compute=true
done
# Failures expire after failure-timeout; Pacemaker looks at them again at least
# this often (default 15 min would make a 10 min failure-timeout up to 25 min).
$PCS property set cluster-recheck-interval=2min

# libvirtd: the profile fills in command, match (exe=/usr/sbin/libvirtd),
# pidfile and a virsh probe.  Three failures within failure-timeout ban it from
# the node, which moves the node's VMs away (see README.md).
$PCS resource create libvirtd ocf:paddock:procwatch profile=libvirtd \
    op start timeout=60s op stop timeout=60s op monitor interval=10s timeout=30s \
    meta migration-threshold=3 failure-timeout=10min \
    clone interleave=true
# nova-compute: graceful shutdown can take a minute; the stop timeout leaves it
# that long before SIGKILL (stop_timeout defaults from the stop timeout).
$PCS resource create nova-compute ocf:paddock:procwatch profile=nova-compute \
    op start timeout=120s op stop timeout=90s op monitor interval=10s timeout=30s \
    meta migration-threshold=3 failure-timeout=10min \
    clone interleave=true

# The watcher: a dead libvirtd or nova-compute (and a failed VM of ../ha-vms) is
# reported to Pacemaker within a second instead of at its next monitor; with it
# the 10 s monitors above are the safety net, not the detector.
$PCS resource create vmwatch ocf:paddock:vmwatch \
    op monitor interval=10s timeout=20s \
    clone interleave=true

for svc in libvirtd-clone nova-compute-clone vmwatch-clone; do
    $PCS constraint location "$svc" rule score=-INFINITY not_defined compute or compute ne true
done
# nova-compute needs the local libvirtd (interleave: the one on its own node).
$PCS constraint order start libvirtd-clone then start nova-compute-clone
$PCS constraint colocation add nova-compute-clone with libvirtd-clone INFINITY

for vm in $VMS; do
    # A VM runs only where libvirtd runs ...
    $PCS constraint colocation add "$vm" with libvirtd-clone INFINITY
    # ... and starts after it, but a libvirtd restart must not restart the VMs
    # (qemu keeps running without libvirtd): an Optional order.
    $PCS constraint order start libvirtd-clone then start "$vm" kind=Optional
done
