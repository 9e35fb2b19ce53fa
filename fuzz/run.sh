#!/usr/bin/env bash
# Fuzzes HammingDB's parsers of untrusted bytes with AFL++ through SharpFuzz (see fuzz/README.md).
#
#   fuzz/run.sh <target|all> <seconds per target>
#
# Installs afl++ (apt-get, as root) and the SharpFuzz tool (.config/dotnet-tools.json) when missing,
# builds tests/HammingDB.Fuzz, instruments the HammingDB assemblies, runs afl-fuzz on each target in
# turn (one at a time), copies every crash and hang into fuzz/regressions/<target>/, prints per target
# executions, exec/s, paths, edges, crashes and hangs, and exits 1 if any crash or hang was new.
# Without afl-fuzz and without root or apt-get it prints why and exits 0 (skipped, not failed).
#
# Environment: FUZZ_TIMEOUT_MS (afl-fuzz -t, default 5000), FUZZ_WORK (work directory, default fuzz/work),
# FUZZ_NO_BUILD=1 (reuse the instrumented build of the last run, for several runs in a row).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run.sh <target|all> <seconds per target>" >&2
    exit 2
fi
which_target="$1"
seconds="$2"
work="${FUZZ_WORK:-$root/fuzz/work}"
timeout_ms="${FUZZ_TIMEOUT_MS:-5000}"

if ! command -v afl-fuzz >/dev/null; then
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "fuzz: skipped: afl-fuzz is not installed and installing it needs root"
        exit 0
    fi
    if ! command -v apt-get >/dev/null; then
        echo "fuzz: skipped: afl-fuzz is not installed and there is no apt-get"
        exit 0
    fi
    echo "fuzz: installing afl++ (apt-get)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y afl++ >"$work.apt.log" 2>&1; then
        echo "fuzz: skipped: apt-get install afl++ failed (see $work.apt.log)"
        exit 0
    fi
fi

dotnet tool restore >/dev/null

# Build into a fresh directory and instrument the assemblies that hold the parsers (not the harness,
# not the kernels, not third-party code: AFL's coverage map is for HammingDB's own branches).
bin="$work/bin"
if [[ "${FUZZ_NO_BUILD:-}" == 1 && -e "$bin/HammingDB.Fuzz.dll" ]]; then
    echo "fuzz: reusing the instrumented build in $bin"
else
    rm -rf "$bin"
    mkdir -p "$work"
    dotnet build tests/HammingDB.Fuzz/HammingDB.Fuzz.csproj -c Release -m:1 -v quiet -nologo >"$work/build.log" 2>&1 \
        || { cat "$work/build.log"; exit 1; }
    cp -r tests/HammingDB.Fuzz/bin/Release/net10.0 "$bin"
    for assembly in HammingDB.Storage HammingDB.Index HammingDB HammingDB.Encoders hdb; do
        dotnet sharpfuzz "$bin/$assembly.dll" >/dev/null
    done
fi
harness=(dotnet "$bin/HammingDB.Fuzz.dll")

if [[ "$which_target" == all ]]; then
    read -r -a targets <<<"$("${harness[@]}" targets)"
else
    targets=("$which_target")
fi

export AFL_SKIP_BIN_CHECK=1              # the binary is dotnet; the coverage comes from the instrumented assemblies
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1                 # shared machine: let the scheduler place it
export AFL_NO_UI=1
export AFL_FAST_CAL=1
export AFL_SKIP_CRASHES=1                # a seed that crashes is reported by the replay tests, not here
export DOTNET_TieredPGO=0
# A huge allocation must be an OutOfMemoryException (a crash AFL++ saves), not the kernel's OOM killer
# taking the fork server down: cap the harness's GC heap at 1 GiB.
export DOTNET_GCHeapHardLimit=0x40000000

new=0
printf '%-11s %10s %8s %8s %7s %8s %6s %9s\n' target execs exec/s seconds paths edges crashes hangs
for target in "${targets[@]}"; do
    out="$work/out/$target"
    rm -rf "$out"
    mkdir -p "$out"
    afl-fuzz -i "fuzz/corpus/$target" -o "$out" -V "$seconds" -t "$timeout_ms" -m none -- "${harness[@]}" afl "$target" \
        >"$out.log" 2>&1 || { echo "fuzz: afl-fuzz failed on $target:"; tail -20 "$out.log"; exit 1; }
    stats="$out/default/fuzzer_stats"
    stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    crashes=0
    hangs=0
    for kind in crashes hangs; do
        for file in "$out/default/$kind"/id:*; do
            [[ -e "$file" ]] || continue
            mkdir -p "fuzz/regressions/$target"
            name="${kind%es}"
            name="${name%s}-$(sha1sum "$file" | cut -c1-12)"
            if [[ "$kind" == crashes ]]; then crashes=$((crashes + 1)); else hangs=$((hangs + 1)); fi
            if [[ ! -e "fuzz/regressions/$target/$name" ]]; then
                cp "$file" "fuzz/regressions/$target/$name"
                echo "fuzz: NEW $kind input for $target: fuzz/regressions/$target/$name"
                new=1
            fi
        done
    done
    printf '%-11s %10s %8s %8s %7s %8s %6s %9s\n' "$target" "$(stat execs_done)" "$(stat execs_per_sec)" "$(stat run_time)" \
        "$(stat corpus_count)" "$(stat edges_found)" "$crashes" "$hangs"
done
if [[ $new -ne 0 ]]; then
    echo "fuzz: new crashes or hangs were copied into fuzz/regressions/; replay: dotnet test --filter FuzzRegressionTests"
    exit 1
fi
