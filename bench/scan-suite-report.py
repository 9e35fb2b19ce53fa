#!/usr/bin/env python3
"""Summarises scan-suite.sh's raw lines: medians per case and the same-run ratio HammingDB/native."""
import json, re, statistics, sys
from collections import defaultdict

native, hdb, same = defaultdict(list), defaultdict(list), defaultdict(list)
header = []
for line in open(sys.argv[1]):
    m = re.match(r"case=(\S+) rep=(\d+) (native|hdb|same=\S+)\s*(.*)", line)
    if not m:
        header.append(line.strip())
        continue
    case, kind, rest = m.group(1), m.group(3), m.group(4)
    if kind == "native":
        kv = dict(p.split("=", 1) for p in rest.split() if "=" in p)
        native[case].append(kv)
    elif kind == "hdb":
        hdb[case].append(json.loads(rest))
    else:
        same[case].append(kind.endswith("yes"))

def med(xs): return statistics.median(xs)
print("\n".join("    " + h for h in header))
print()
print("| case | native limit | HammingDB | ratio (speed, median of per-run pairs) | results equal |")
print("|---|---|---|---|---|")
for case in native:
    n, h = native[case], hdb[case]
    if "batch" in case:
        nv = [float(x["codes_per_s"]) for x in n]; hv = [float(x["codes_per_s"]) for x in h]
        ratios = [b / a for a, b in zip(nv, hv)]
        fmt = lambda v: f"{v/1e9:.2f}e9 codes/s"
        print(f"| {case} | {fmt(med(nv))} | {fmt(med(hv))} | {med(ratios):.2f}x | {all(same[case])} |")
    else:
        nv = [float(x["mean_ms"]) for x in n]; hv = [float(x["mean_ms"]) for x in h]
        ratios = [a / b for a, b in zip(nv, hv)]
        print(f"| {case} | {med(nv):.3f} ms | {med(hv):.3f} ms (p99 {med([x['p99_ms'] for x in h]):.2f}) | {med(ratios):.2f}x | {all(same[case])} |")
# two threads against one, each program against itself
for prog, rows, key in (("native", native, "mean_ms"), ("HammingDB", hdb, "mean_ms")):
    for w in ("u64", "c256"):
        one, two = rows.get(f"{w}-single-1t"), rows.get(f"{w}-single-2t")
        if one and two:
            print(f"\n{prog} {w}: one query over 2 threads is {med([float(x[key]) for x in one]) / med([float(x[key]) for x in two]):.2f}x one thread", end="")
print()
