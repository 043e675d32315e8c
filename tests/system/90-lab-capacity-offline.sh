#!/bin/bash
# timeout: 60
# `paddock capacity` on CIBs saved from the three-node lab (crm_simulate -x,
# no cluster needed): tests/lab/t0-capacity-offline.sh.  The whole lab is
# tests/lab/run.sh (its own three-node cluster).
exec "$(dirname "$(readlink -f "$0")")/../lab/t0-capacity-offline.sh"
