#!/usr/bin/env bash
# demo.sh: build hdb, generate a standard workload (1M 64-bit codes, 1000 queries each with a
# planted neighbour within 3 bits; ../shared/bench/gencodes.c) and run exact exhaustive kNN and
# radius search on it. Needs the .NET 10 SDK and a C compiler; writes only under .bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/.bench
mkdir -p "$work"
cd "$work"
cc -O2 -o gencodes "$root/../shared/bench/gencodes.c"
[ -f u64-1m.hdbc ] || ./gencodes uniform 64 1000000 1 u64-1m.hdbc
[ -f u64-1m.q.hdbc ] || ./gencodes queries u64-1m.hdbc 1000 11 3 u64-1m.q.hdbc
dotnet publish "$root/tools/hdb" -c Release -o "$work/hdb" -v quiet -nologo
./hdb/hdb bench scan --codes u64-1m.hdbc --queries u64-1m.q.hdbc --k 10
./hdb/hdb bench scan --codes u64-1m.hdbc --queries u64-1m.q.hdbc --radius 3 --mode batch
