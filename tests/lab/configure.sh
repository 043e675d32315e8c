#!/bin/bash
# tests/lab/configure.sh [networks] -- configure the running lab from crm-examples/:
# fencing through the node BMCs, then the VMs.  `configure.sh networks` (t7, on a lab
# configured so) adds crm-examples/networks: one ocf:paddock:netwatch clone per lab
# network (storage -> fence, tenant -> migrate, admin -> alert) and migrate-on-red.
#   env LAB_STACK, LAB_FENCE_AGENT, LAB_VM_AGENT: see lib.sh
#   env NODE_MEMORY (MiB per node for VMs, default 384 = 4 guests)
set -eu
. "$(dirname "$(readlink -f "$0")")/lib.sh"
. "$LAB_BIN/vms.sh"
if [ "${1:-}" = networks ]; then
    # each network's interface on the nodes, and the hub's address on it as the one target
    # (a node that cannot reach the storage array / the tenant gateway / the admin side)
    on_node node1 env STORAGE_IF="$(net_if storage)" STORAGE_TARGETS="$(net_hub_ip storage)" \
        TENANT_IF="$(net_if tenant)" TENANT_TARGETS="$(net_hub_ip tenant)" \
        ADMIN_IF="$(net_if admin)" ADMIN_TARGETS="$(net_hub_ip admin)" \
        sh "$REPO/crm-examples/networks/networks.pcs.sh"
    exit
fi
make_vm_definitions

fence_agent=$(lab_fence_agent) && vm_agent=$(lab_vm_agent) || exit 2
# --unsafe: libvirt does not know the lab's shared directory is shared storage.
# Utilization is set by the configuration, not guessed by the agent.
vm_extra="migrate_options=--unsafe autoset_utilization_cpu=false autoset_utilization_hv_memory=false autoset_utilization_host_memory=false"
bmcs=""
for n in $NODES; do bmcs="$bmcs $n=$BMC_IP:$(bmc_port "$n")"; done

# the event journal (paddock history/report): Pacemaker's alerts into $L/journal, which
# node-init names in PADDOCK_JOURNAL, as /etc/default/pacemaker would
on_node node1 pcs alert create id=paddock-journal path=/usr/libexec/paddock/paddock-alert

# the lab's BMCs only offer cipher suite 3 (fence_ipmilan's default is "any");
# the agents log each run to the fencing node's /var/log/<agent>.log (test 5)
on_node node1 env BMCS="$bmcs" BMC_USER="$BMC_USER" BMC_PASSWORD="$BMC_PASSWORD" \
    FENCE_AGENT="$fence_agent" \
    FENCE_EXTRA="cipher=3 verbose=1 debug_file=/var/log/$fence_agent.log ${FENCE_EXTRA:-}" \
    sh "$REPO/crm-examples/fencing/fencing.pcs.sh"
on_node node1 env VMS="$LAB_VMS" VM_DIR="$VM_DIR" NODE_MEMORY="${NODE_MEMORY:-384}" \
    VM_AGENT="$vm_agent" VM_EXTRA="$vm_extra" \
    sh "$REPO/crm-examples/ha-vms/ha-vms.pcs.sh"
