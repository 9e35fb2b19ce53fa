#!/usr/bin/env bash
# scan-suite.sh [ROWS] [REPS]: the exhaustive-scan suite of HammingDB beside the native limit
# (../shared/bench/peers/scan.c, -O3 -march=native), run in the same session, alternating the two
# programs REPS times per case so that machine noise hits both alike. Prints a markdown table of
# medians and same-run ratios; raw lines go to .bench/scan-suite-RAW.txt.
#
#   bench/scan-suite.sh                 # the standard suite: 10M rows, 3 repetitions
#   bench/scan-suite.sh 1000000 1       # the quick suite
#
# Cases (NQ queries each, default 200; the planted query files of ../shared/bench/README.md):
#   u64 / c256 single 1 thread  knn 10   per-query latency, one query at a time
#   u64 / c256 single 2 threads knn 10   one query split over two threads
#   u64 / c256 batch 1 thread   knn 10   the whole batch, tiled over cache-sized blocks
#   u64 single 1 thread radius 3, c256 single 1 thread radius 12
set -euo pipefail
ROWS=${1:-10000000}
REPS=${2:-3}
NQ=${NQ:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$root/../shared" && pwd)
work=$root/.bench
mkdir -p "$work"
cd "$work"

cc -O2 -o gencodes "$shared/bench/gencodes.c"
cc -O3 -march=native -fopenmp -o scan "$shared/bench/peers/scan.c"
cc -O3 -march=native -o bw "$shared/bench/peers/bw.c" -lpthread
dotnet publish "$root/tools/hdb" -c Release -o "$work/hdb" -v quiet -nologo >/dev/null

tag=$((ROWS / 1000000))m
[ "$ROWS" -lt 1000000 ] && tag=$((ROWS / 1000))k
[ -f u64-$tag.hdbc ] || ./gencodes uniform 64 "$ROWS" 1 u64-$tag.hdbc
[ -f u64-$tag.q.hdbc ] || ./gencodes queries u64-$tag.hdbc 1000 11 3 u64-$tag.q.hdbc
[ -f c256-$tag.hdbc ] || ./gencodes clustered 256 "$ROWS" 4 10000 16 c256-$tag.hdbc
[ -f c256-$tag.q.hdbc ] || ./gencodes queries c256-$tag.hdbc 1000 41 12 c256-$tag.q.hdbc

raw=$work/scan-suite-RAW.txt
: > "$raw"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') x$(nproc), $(free -g | awk '/Mem:/{print $2}') GB; commit $(git -C "$root" rev-parse --short HEAD); $(date -u +%F)" | tee -a "$raw" >&2
./bw 512 1 3 | tee -a "$raw" >&2
./bw 512 2 3 | tee -a "$raw" >&2

run_case() { # name db mode threads op arg
  local name=$1 db=$2 mode=$3 threads=$4 op=$5 arg=$6
  local hop=k; [ "$op" = range ] && hop=radius
  for rep in $(seq "$REPS"); do
    echo "case=$name rep=$rep native $(./scan $db-$tag.hdbc $db-$tag.q.hdbc $mode $threads $op $arg $NQ n.out)" >> "$raw"
    echo "case=$name rep=$rep hdb $(./hdb/hdb bench scan --codes $db-$tag.hdbc --queries $db-$tag.q.hdbc --$hop $arg \
         --mode $mode --threads $threads --query-limit $NQ --results h.out 2>/dev/null)" >> "$raw"
    if cmp -s n.out h.out; then echo "case=$name rep=$rep same=yes" >> "$raw"; else echo "case=$name rep=$rep same=NO" >> "$raw"; fi
    echo "  $name rep $rep done" >&2
  done
}
run_case u64-single-1t u64 single 1 knn 10
run_case c256-single-1t c256 single 1 knn 10
run_case u64-single-2t u64 single 2 knn 10
run_case c256-single-2t c256 single 2 knn 10
run_case u64-batch-1t u64 batch 1 knn 10
run_case c256-batch-1t c256 batch 1 knn 10
run_case u64-radius3-1t u64 single 1 range 3
run_case c256-radius12-1t c256 single 1 range 12

python3 "$root/bench/scan-suite-report.py" "$raw"
