#!/usr/bin/env bash
# The documented longer run (docs/testing.md): each target in turn, one afl-fuzz at a time, for the
# seconds below (chosen from measured exec/s to reach 1M executions where ~60 minutes allow; the
# slowest targets get what fits). Prints run.sh's table per target; the last column set is the record.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
first=1
for entry in attachment:180 deletions:140 encoder:170 log:200 manifest:200 segment:300 hex:300 ndjson:300 \
             hdbc:240 hdbf:240 fvecs:240 gt:200 labels:200 ivecs:200 keyindex:180; do
    if [[ $first -eq 1 ]]; then first=0; else export FUZZ_NO_BUILD=1; fi
    fuzz/run.sh "${entry%%:*}" "${entry##*:}" || status=1
done
exit $status
