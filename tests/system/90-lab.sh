#!/bin/bash
# timeout: 600
# The three-node lab (tests/lab/run.sh): its own 3-node Corosync/Pacemaker cluster
# in namespaces with ipmi_sim BMCs and a libvirtd per node, independent of the
# single-node cluster of tests/system; fencing, host failure, live migration,
# capacity and fencing history with fence_paddock_ipmi + ocf:paddock:vm.
exec "$(dirname "$(readlink -f "$0")")/../lab/run.sh"
