#!/bin/sh
# Highly available libvirt VMs with priorities and memory reservations.
# Run on any cluster node after fencing is configured (../fencing).  Edit or set:
#   VMS          "name:priority:memory_MiB ..."  each VM's libvirt domain XML is
#                $VM_DIR/<name>.xml, on storage every node sees
#   VM_DIR       directory of the domain XMLs (shared storage)
#   NODE_MEMORY  MiB of RAM each node may give to VMs (its capacity)
#   VM_AGENT     ocf:paddock:vm (or ocf:heartbeat:VirtualDomain)
#   VM_EXTRA     extra agent parameters (word-split)
#   WATCHER      yes (default with ocf:paddock:vm) or no: the ocf:paddock:vmwatch clone
set -eu
VMS=${VMS:?set VMS, e.g. VMS="db:100:2048 web:100:1024 batch:0:4096"}
VM_DIR=${VM_DIR:?set VM_DIR, the shared directory with <name>.xml}
NODE_MEMORY=${NODE_MEMORY:?set NODE_MEMORY (MiB per node for VMs)}
VM_AGENT=${VM_AGENT:-ocf:paddock:vm}
case $VM_AGENT in ocf:paddock:vm) WATCHER=${WATCHER:-yes} ;; *) WATCHER=no ;; esac

# Place by capacity: a VM only goes where its memory fits, spread evenly.
pcs property set placement-strategy=balanced
# A VM host's load average counts its guests' vCPUs: with the default (80% of
# the cores) Pacemaker throttles itself to one action at a time on a busy host,
# and restarts a failed host's VMs one after the other.
pcs property set load-threshold=1000%
# No fail-back: a host that returns does not pull its old VMs back.
pcs resource defaults update resource-stickiness=100
for node in $(crm_node -l | awk '{print $2}'); do
    pcs node utilization "$node" memory="$NODE_MEMORY"
done

# The watcher on every node: a guest whose qemu dies, that is destroyed or shut
# down behind Pacemaker's back, pauses on a disk error or panics is reported at
# once (crm_resource --fail) instead of at its next monitor.  Each VM is then
# restarted in place, and on another node after migration-threshold failures.
if [ "$WATCHER" = yes ]; then
    pcs resource create vmwatch ocf:paddock:vmwatch \
        op monitor interval=10s timeout=20s clone interleave=true
fi

for vm in $VMS; do
    name=${vm%%:*}; rest=${vm#*:}; prio=${rest%%:*}; mem=${rest#*:}
    # shellcheck disable=SC2086  # VM_EXTRA is a list of parameters
    pcs resource create "$name" "$VM_AGENT" \
        config="$VM_DIR/$name.xml" hypervisor=qemu:///system migration_transport=tcp ${VM_EXTRA:-} \
        meta priority="$prio" allow-migrate=true migration-threshold=3 \
        op start timeout=90s op stop timeout=90s op monitor interval=10s timeout=30s \
        op migrate_to timeout=120s op migrate_from timeout=60s --disabled
    # what the VM reserves on its host; with too little room left after a host
    # failure, Pacemaker places higher-priority VMs first and leaves the rest stopped
    pcs resource utilization "$name" memory="$mem"
done
# When several VMs start at once (after a host failure), start the more
# important ones first: one ordered set per priority level, highest first.
# kind=Optional: it only orders starts that happen in the same transition, and
# never blocks a start nor a live migration.
sets=""
for prio in $(for vm in $VMS; do p=${vm#*:}; echo "${p%%:*}"; done | sort -rnu); do
    members=""
    for vm in $VMS; do p=${vm#*:}; [ "${p%%:*}" = "$prio" ] && members="$members ${vm%%:*}"; done
    sets="$sets set$members sequential=false"
done
if [ "$(echo "$sets" | grep -o ' set ' | wc -l)" -gt 1 ]; then
    # shellcheck disable=SC2086  # $sets is the list of set arguments
    pcs constraint order $sets setoptions kind=Optional
fi
# start them only now that their reservations are known
# shellcheck disable=SC2046
pcs resource enable $(for vm in $VMS; do echo "${vm%%:*}"; done)
