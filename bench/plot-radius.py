#!/usr/bin/env python3
"""Queries/s against radius for HammingDB's MIH, scan and auto plans (hdb bench plan JSON lines)
and the peers (bench/peers.sh CSV: FAISS MIH, native scan), one panel per workload, as an SVG.
Standard library only.

usage: plot-radius.py OUT.svg PEERS.csv PLAN.jsonl [PLAN.jsonl ...]
"""
import csv
import json
import math
import sys

W, H = 560, 380          # one panel
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
SERIES = [("mih_ms", "HammingDB MIH (forced)", "#1f77b4", ""),
          ("scan_ms", "HammingDB scan (forced)", "#2ca02c", ""),
          ("auto_ms", "HammingDB auto (planner)", "#d62728", "6,3"),
          ("faiss", "FAISS MIH (best nhash, b)", "#9467bd", "2,3"),
          ("native", "native scan (scan.c)", "#7f7f7f", "")]


def load(peers_path, plan_paths):
    panels = {}
    for path in plan_paths:
        with open(path) as f:
            for line in f:
                p = json.loads(line)
                if p.get("bench") != "plan" or p.get("op") != "radius":
                    continue
                panel = panels.setdefault(p["workload"], {k: {} for k, *_ in SERIES})
                for key in ("mih_ms", "scan_ms", "auto_ms"):
                    # Each query's fastest time over the rounds where the run has it (robust to a
                    # stall), else the mean of the passes.
                    value = p.get(key.replace("_ms", "_fastest_ms")) or p.get(key)
                    if value:
                        panel[key][p["radius"]] = 1000.0 / value
    with open(peers_path) as f:
        for row in csv.DictReader(f):
            if row["op"] != "radius" or row["workload"] not in panels:
                continue
            key = "faiss" if row["peer"].startswith("faiss-mih") else "native" if row["peer"] == "scan" else None
            if key and row["ms_per_query"]:
                # FAISS was run with several (nhash, b): the best at each radius.
                series = panels[row["workload"]][key]
                r = int(row["param"])
                series[r] = max(series.get(r, 0.0), 1000.0 / float(row["ms_per_query"]))
    return panels


def panel_svg(name, data, x0):
    xs = [r for s in data.values() for r in s]
    ys = [v for s in data.values() for v in s.values()]
    if not xs:
        return ""
    xmax = max(xs)
    lo = 10 ** math.floor(math.log10(min(ys)))
    hi = 10 ** math.ceil(math.log10(max(ys)))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    def px(r): return x0 + LEFT + pw * r / max(1, xmax)
    def py(v): return TOP + ph * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))
    out = [f'<text x="{x0 + W / 2}" y="22" text-anchor="middle" font-size="15">{name}: queries/s vs radius (1 thread, log scale)</text>',
           f'<rect x="{x0 + LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>']
    e = int(math.log10(lo))
    while 10 ** e <= hi:
        y = py(10 ** e)
        out.append(f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">1e{e}</text>')
        e += 1
    step = 4 if xmax <= 40 else 16
    for r in range(0, xmax + 1, step):
        out.append(f'<text x="{px(r):.1f}" y="{TOP + ph + 16}" text-anchor="middle" font-size="11">{r}</text>')
    out.append(f'<text x="{x0 + LEFT + pw / 2}" y="{H - 12}" text-anchor="middle" font-size="12">radius (bits)</text>')
    for i, (key, label, color, dash) in enumerate(SERIES):
        pts = sorted(data[key].items())
        if not pts:
            continue
        path = " ".join(f"{px(r):.1f},{py(v):.1f}" for r, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>')
        for r, v in pts:
            out.append(f'<circle cx="{px(r):.1f}" cy="{py(v):.1f}" r="2.5" fill="{color}"/>')
        ly = TOP + 14 + 16 * i
        out.append(f'<line x1="{x0 + W - RIGHT - 190}" x2="{x0 + W - RIGHT - 170}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{x0 + W - RIGHT - 165}" y="{ly}" font-size="11">{label}</text>')
    return "\n".join(out)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    panels = load(sys.argv[2], sys.argv[3:])
    names = sorted(panels)
    body = "\n".join(panel_svg(n, panels[n], i * W) for i, n in enumerate(names))
    with open(sys.argv[1], "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(names)}" height="{H}" font-family="sans-serif">\n'
                f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n')


if __name__ == "__main__":
    main()
