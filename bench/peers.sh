#!/usr/bin/env bash
# peers.sh [ROWS]: the peer benchmarks of the standard suite (../shared/bench/README.md), run in
# one session so HammingDB's figures can be quoted against them: the native exhaustive scan
# (../shared/bench/peers/scan.c) and FAISS's binary multi-index hashing (IndexBinaryMultiHash,
# faiss_bench index=mih, Debian libfaiss-dev). Every case runs on ONE thread, one query per call.
#
#   bench/peers.sh             # the standard suite: 10M rows (~15-25 min, ~5 GB of RAM at peak)
#   bench/peers.sh 1000000     # the quick suite: the same seeds at 1M rows
#
# Needs: cc, g++, Debian libfaiss-dev (apt-get install -y libfaiss-dev), libblas/liblapack.
# Builds gencodes, scan and faiss_bench into .bench/ when missing, generates missing workloads
# with the README's seeds, and writes exact ground truth with ../shared/bench/peers/mkgt.sh.
#
# Cases (planted query files, the first NQ=1000 queries unless stated):
#   scan   kNN10 on u64, c64, c256; radius 2/4/6 on u64; radius 8/16 on c256 (all 1000 queries)
#   faiss  for each (nhash, b) in MIH_U64 / MIH_C256 (env, "nhash:b ..."; defaults: u64 2:32 3:21
#          4:16, c256 8:32 9:28 12:21 16:16 17:15; FAISS probes up to nflip = r / nhash bit flips
#          of each b-bit substring, which is exact: more substrings mean fewer probes but fuller
#          buckets, so the best one depends on r): build (codes/s, extra bytes per code), then
#          a radius sweep, ascending: u64 r = 0..32, c256 r = 0..16 and 24..128 step 8 (which
#          includes the standard radii 2/4/6 and 8/16). Each radius runs up to 1000 queries or
#          until BUDGET = 100 x STOP seconds have passed (at least 20 queries), where STOP =
#          10 x the native scan's kNN10 ms/query on that workload measured in this run; so every
#          radius below STOP has >= ~100 queries. The sweep of a configuration stops after the
#          first radius whose mean exceeds STOP (that radius is kept in the results), or when a
#          radius gives no result within 3 x BUDGET + 60 s (a row with empty figures).
#          Recall is FAISS's result count against the exact count (mkgt.sh), over the same queries.
#
# Outputs (in .bench/):
#   peers-RAW.txt  machine, date, every raw output line
#   peers.csv      peer,workload,op,param,queries,ms_per_query,qps,recall
#     peer    scan | faiss-mih(nhash=N;b=B)
#     op      knn (param = k) | radius (param = r, distance <= r) |
#             build  (param = codes_per_s: qps = codes added per second, ms_per_query = total add
#                     time in ms, queries = codes added) |
#             memory (param = extra_bytes_per_code: qps = heap growth of the add minus the index's
#                     copy of the codes, per code; queries = codes)
#     qps     1000 / ms_per_query (mean latency of one query per call; the programs' own loop
#             rates, which include their timing overhead, are in peers-RAW.txt)
#     recall  radius: results found / exact results; scan knn: share of queries whose 10th
#             distance equals the exact one (a check: the scan is exact)
#   A summary (best configuration per radius, where each sweep stopped) is printed at the end.
set -euo pipefail
ROWS=${1:-10000000}
NQ=1000
MIH_U64=${MIH_U64:-"2:32 3:21 4:16"}
MIH_C256=${MIH_C256:-"8:32 9:28 12:21 16:16 17:15"}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$root/../shared" && pwd)
work=$root/.bench
mkdir -p "$work"
cd "$work"

# ---- tools
[ -x gencodes ] || cc -O2 -o gencodes "$shared/bench/gencodes.c"
[ -x scan ] || cc -O3 -march=native -fopenmp -o scan "$shared/bench/peers/scan.c"
if [ ! -x faiss_bench ]; then
  [ -f /usr/include/faiss/IndexBinaryHash.h ] || { echo "peers.sh: FAISS headers missing: apt-get install -y libfaiss-dev" >&2; exit 2; }
  g++ -O2 -std=c++17 -fopenmp -o faiss_bench "$shared/bench/peers/faiss_bench.cpp" -lfaiss -lblas -llapack
fi

# ---- workloads (the seeds of ../shared/bench/README.md)
tag=$((ROWS / 1000000))m
[ "$ROWS" -lt 1000000 ] && tag=$((ROWS / 1000))k
U=u64-$tag C64=c64-$tag C256=c256-$tag
[ -f $U.hdbc ] || ./gencodes uniform 64 "$ROWS" 1 $U.hdbc
[ -f $U.q.hdbc ] || ./gencodes queries $U.hdbc 1000 11 3 $U.q.hdbc
[ -f $C64.hdbc ] || ./gencodes clustered 64 "$ROWS" 2 10000 8 $C64.hdbc
[ -f $C64.q.hdbc ] || ./gencodes queries $C64.hdbc 1000 21 3 $C64.q.hdbc
[ -f $C256.hdbc ] || ./gencodes clustered 256 "$ROWS" 4 10000 16 $C256.hdbc
[ -f $C256.q.hdbc ] || ./gencodes queries $C256.hdbc 1000 41 12 $C256.q.hdbc

R_U64=$(seq -s ' ' 0 32)
R_C256="$(seq -s ' ' 0 16) $(seq -s ' ' 24 8 128)"
# exact results (kth distances and counts per radius), from the scan on 2 threads; not timed
[ -s $U.peers-gt.txt ] || bash "$shared/bench/peers/mkgt.sh" ./scan $U.hdbc $U.q.hdbc $U.peers-gt.txt $R_U64
[ -s $C64.peers-gt.txt ] || bash "$shared/bench/peers/mkgt.sh" ./scan $C64.hdbc $C64.q.hdbc $C64.peers-gt.txt
[ -s $C256.peers-gt.txt ] || bash "$shared/bench/peers/mkgt.sh" ./scan $C256.hdbc $C256.q.hdbc $C256.peers-gt.txt $R_C256

raw=$work/peers-RAW.txt
csv=$work/peers.csv
: > "$raw"
echo "peer,workload,op,param,queries,ms_per_query,qps,recall" > "$csv"
log() { echo "$*" | tee -a "$raw" >&2; }
log "peers.sh rows=$ROWS started $(date -u '+%F %T UTC'); commit $(git -C "$root" rev-parse --short HEAD)"
log "machine: $(lscpu | sed -n 's/^Model name: *//p') x$(nproc), $(free -g | awk '/Mem:/{print $2}') GB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
lscpu | head -n 20 >> "$raw"
log "libfaiss-dev $(dpkg-query -W -f '${Version}' libfaiss-dev 2>/dev/null || echo '?'); $(g++ --version | head -n 1)"
log "faiss_bench hardware popcnt instructions: $(objdump -d faiss_bench | grep -c $'\tpopcnt' || true), calls to __popcountdi2: $(objdump -d faiss_bench | grep -c 'call.*__popcountdi2' || true)"

# recall of one scan run (its OUT file) against the ground truth
scan_recall() { # gt out op arg
  if [ "$3" = knn ]; then
    awk 'NR==FNR { if (FNR > 1) d[FNR-1] = $1; next } { n++; if ($1 == d[FNR]) ok++ } END { printf "%.4f", ok / n }' "$1" "$2"
  else
    awk -v r="$4" 'NR==FNR { if (FNR == 1) { for (i = 3; i <= NF; i++) if ($i == r) col = i } else t[FNR-1] = $col; next }
                   { n++; f += $2; tr += t[FNR] } END { printf "%.4f", tr ? f / tr : 1 }' "$1" "$2"
  fi
}
qps_of() { awk -v m="$1" 'BEGIN { printf "%.1f", (m > 0 ? 1000 / m : 0) }'; }
kv() { tr ' \t' '\n\n' <<< "$2" | sed -n "s/^$1=//p" | head -n 1; }

declare -A SCAN_MS
scan_case() { # workload op arg
  local wl=$1 op=$2 arg=$3 line
  line=$(./scan $wl.hdbc $wl.q.hdbc single 1 $op $arg $NQ scan.out)
  echo "scan wl=$wl $line" >> "$raw"
  local cop=knn; [ "$op" = range ] && cop=radius
  local rec; rec=$(scan_recall $wl.peers-gt.txt scan.out $op $arg)
  echo "scan,$wl,$cop,$arg,$(kv nq "$line"),$(kv mean_ms "$line"),$(qps_of "$(kv mean_ms "$line")"),$rec" >> "$csv"
  if [ "$op" = knn ]; then SCAN_MS[$wl]=$(kv mean_ms "$line"); fi
  echo "  scan $wl $cop $arg: $(kv mean_ms "$line") ms/query (others_cores=$(kv others_cores "$line"))" >&2
}

log "== native scan (scan.c), single query, 1 thread, $NQ queries"
scan_case $U knn 10
scan_case $C64 knn 10
scan_case $C256 knn 10
for r in 2 4 6; do scan_case $U range $r; done
for r in 8 16; do scan_case $C256 range $r; done

# FAISS MIH: one process per configuration (build once, then the radii in ascending order);
# stdout+stderr are read line by line so the sweep can be cut at the stop radius (the process is
# killed there).
fbpid=
trap '[ -n "$fbpid" ] && kill "$fbpid" 2>/dev/null; true' EXIT
faiss_sweep() { # workload nhash b radii...
  local wl=$1 nh=$2 b=$3; shift 3
  local radii=("$@") peer="faiss-mih(nhash=$nh;b=$b)"
  local stop stop_x budget wd ops out=$work/faiss-run.txt
  stop=$(awk -v s="${SCAN_MS[$wl]}" 'BEGIN { printf "%.4f", 10 * s }')
  stop_x=$(awk -v s="$stop" 'BEGIN { printf "%d", s * 10000 }')
  budget=$(awk -v s="$stop" 'BEGIN { printf "%.3f", 100 * s / 1000 }')
  wd=$(awk -v b="$budget" 'BEGIN { printf "%d", 3 * b + 60 }')
  ops=$(printf 'r%s,' "${radii[@]}"); ops=${ops%,}
  log "== $peer on $wl: stop above $stop ms/query (10 x scan), budget ${budget} s per radius, watchdog ${wd} s"
  : > "$out"
  # While faiss_bench measures, this loop only uses shell builtins (no process is started):
  # the machine has 2 cores, and parsing is left for after the run.
  local fd line rc to ms_x next=0 built=0 why=
  exec {fd}< <(exec ./faiss_bench db=$wl.hdbc q=$wl.q.hdbc wl=$wl index=mih nhash=$nh b=$b threads=1 modes=single \
                 ops=$ops gt=$wl.peers-gt.txt single_max=$NQ single_budget=$budget 2>&1)
  fbpid=$!
  while :; do
    rc=0; to=7200; [ $built = 0 ] || to=$wd
    IFS= read -r -t "$to" line <&$fd || rc=$?
    if [ $rc -gt 128 ]; then
      why="TIMEOUT: no result for radius ${radii[$next]} within $wd s: sweep of $peer on $wl stopped there"
      printf 'TIMEOUT\top=r%s\n' "${radii[$next]}" >> "$out"
      kill "$fbpid" 2>/dev/null || true
      break
    elif [ $rc -ne 0 ]; then
      [ $next -ge ${#radii[@]} ] || why="faiss_bench ended after $next of ${#radii[@]} radii"
      break
    fi
    printf '%s\n' "$line" >> "$out"
    case $line in
      built*) built=1; printf '  %s\n' "$line" >&2 ;;
      RESULT*)
        next=$((next + 1))
        [[ $line =~ $'\t'mean_ms=([0-9]+)\.([0-9]{4}) ]] || continue
        ms_x=$((10#${BASH_REMATCH[1]} * 10000 + 10#${BASH_REMATCH[2]}))
        printf '  r=%s: %s.%s ms/query\n' "${radii[$((next - 1))]}" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >&2
        if [ $ms_x -gt $stop_x ]; then
          why="STOP: $peer on $wl at radius ${radii[$((next - 1))]} (${BASH_REMATCH[1]}.${BASH_REMATCH[2]} ms/query > $stop ms = 10 x scan)"
          kill "$fbpid" 2>/dev/null || true
          break
        fi ;;
    esac
  done
  exec {fd}<&-
  wait "$fbpid" 2>/dev/null || true
  fbpid=
  cat "$out" >> "$raw"
  [ -z "$why" ] || log "  $why"
  awk -F'\t' -v peer="$peer" -v wl="$wl" '
    function kv(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
    /^built/ { nw = split($0, w, " ")
               for (i = 1; i <= nw; i++) {
                 if (w[i] ~ /^n=/) n = substr(w[i], 3)
                 if (w[i] == "add") add = w[i + 1]
                 if (w[i] == "codes/s)") rate = substr(w[i - 1], 2)
                 if (w[i] == "extra") extra = w[i + 1] }
               printf "%s,%s,build,codes_per_s,%s,%.0f,%s,\n", peer, wl, n, add * 1000, rate
               printf "%s,%s,memory,extra_bytes_per_code,%s,,%s,\n", peer, wl, n, extra }
    /^RESULT/ { r = substr(kv("op"), 2); ms = kv("mean_ms")
                printf "%s,%s,radius,%s,%s,%s,%.1f,%s\n", peer, wl, r, kv("nq"), ms, (ms + 0 > 0 ? 1000 / ms : 0), kv("recall") }
    /^TIMEOUT/ { printf "%s,%s,radius,%s,0,,,\n", peer, wl, substr(kv("op"), 2) }' "$out" >> "$csv"
}

for cfg in $MIH_U64; do faiss_sweep $U ${cfg%:*} ${cfg#*:} $R_U64; done
for cfg in $MIH_C256; do faiss_sweep $C256 ${cfg%:*} ${cfg#*:} $R_C256; done
# the native kNN10 again, after FAISS (RAW and log only): how much the machine drifted meanwhile
for wl in $U $C256; do
  line=$(./scan $wl.hdbc $wl.q.hdbc single 1 knn 10 200)
  echo "scan-after wl=$wl $line" >> "$raw"
  log "  scan after FAISS, $wl knn 10 (200 queries): $(kv mean_ms "$line") ms/query (before: ${SCAN_MS[$wl]}), others_cores=$(kv others_cores "$line")"
done
log "peers.sh finished $(date -u '+%F %T UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- summary: the best FAISS configuration per radius beside the scan
{
  echo
  echo "best FAISS MIH configuration per radius (lowest ms/query; scan = native kNN10 ms/query, same run):"
  printf "%-10s %4s %12s %6s %7s %-26s %10s\n" workload r ms/query nq recall config scan/faiss
  awk -F, 'NR > 1 && $1 == "scan" && $3 == "knn" { scan[$2] = $6 }
           NR > 1 && $1 ~ /^faiss/ && $3 == "radius" && $6 != "" {
             k = $2 SUBSEP $4; if (!(k in best) || $6 + 0 < best[k] + 0) { best[k] = $6; who[k] = $1; nq[k] = $5; rec[k] = $8 } }
           END { for (k in best) { split(k, p, SUBSEP)
                   printf "%-10s %4s %12.4f %6d %7s %-26s %10.1f\n", p[1], p[2], best[k], nq[k], rec[k], who[k], (best[k] > 0 ? scan[p[1]] / best[k] : 0) } }' "$csv" |
    sort -k1,1 -k2,2n
  echo
  grep -E '^  (STOP|TIMEOUT|faiss_bench ended)' "$raw" || true
  echo
  echo "cores kept busy by other processes during the measurements (others_cores, 2 = all of them):"
  awk -F'\t' '/^scan wl=/ { nw = split($0, w, " "); for (i = 1; i <= nw; i++) if (w[i] ~ /^others_cores=/) { s["scan"] += substr(w[i], 14); n["scan"]++ } }
               /^RESULT/ { for (i = 1; i <= NF; i++) { if ($i ~ /^wl=/) wl = substr($i, 4); if ($i ~ /^index=/) x = substr($i, 7)
                                                      if ($i ~ /^others_cores=/) o = substr($i, 14) }
                           s[wl " " x] += o; n[wl " " x]++ }
               END { for (k in s) printf "  %-46s mean %.2f over %d measurements\n", k, s[k] / n[k], n[k] }' "$raw" | sort
} | tee -a "$raw"
