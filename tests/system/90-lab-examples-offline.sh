#!/bin/bash
# timeout: 60
# crm-examples/: the crm shell variants load, verify, and match the pcs variants
# the three-node lab runs (tests/lab/t0-crm-examples-offline.sh, no cluster).
exec "$(dirname "$(readlink -f "$0")")/../lab/t0-crm-examples-offline.sh"
