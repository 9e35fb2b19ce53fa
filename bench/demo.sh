#!/usr/bin/env bash
# demo.sh: build hdb, generate a standard workload (1M 64-bit codes, queries each with a planted
# neighbour within 3 bits; ../shared/bench/gencodes.c), put it in a database and query it:
# hdb create, hdb ingest (durable, batch by batch), hdb query (exact kNN and radius), hdb explain
# (how the MIH tables answered), hdb stats,
# then the exhaustive scan benchmark. Needs the .NET 10 SDK and a C compiler; writes only under .bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/.bench
mkdir -p "$work"
cd "$work"
cc -O2 -o gencodes "$root/../shared/bench/gencodes.c"
[ -f u64-1m.hdbc ] || ./gencodes uniform 64 1000000 1 u64-1m.hdbc
[ -f u64-1m.q.hdbc ] || ./gencodes queries u64-1m.hdbc 1000 11 3 u64-1m.q.hdbc
[ -f u64-1m.q5.hdbc ] || ./gencodes queries u64-1m.hdbc 5 12 3 u64-1m.q5.hdbc
dotnet publish "$root/tools/hdb" -c Release -o "$work/hdb" -v quiet -nologo

rm -rf demo-db
./hdb/hdb create demo-db --bits 64
./hdb/hdb ingest demo-db u64-1m.hdbc --format hdbc --progress plain
./hdb/hdb query demo-db u64-1m.q5.hdbc --format hdbc --k 3 --output table
./hdb/hdb query demo-db u64-1m.q5.hdbc --format hdbc --radius 3
./hdb/hdb explain demo-db u64-1m.q5.hdbc --format hdbc --radius 3 --plan mih
./hdb/hdb stats demo-db

./hdb/hdb bench scan --codes u64-1m.hdbc --queries u64-1m.q.hdbc --k 10
