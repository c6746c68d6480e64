#!/usr/bin/env python3
"""Times two builds of shine on the lme4 reference fits of tests/reference/lmm (whole
processes, `shine mixed` with each case's formula and method and Satterthwaite df),
alternating the builds, and prints a Markdown table of the median wall times.

    python3 benches/lmm_scale/reference_fits.py OLD_SHINE NEW_SHINE [RUNS]

Run from the repository root; RUNS defaults to 5.
"""
import glob
import json
import os
import statistics
import subprocess
import sys
import time


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    old, new = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(f"| case | {os.path.basename(old)} (ms) | {os.path.basename(new)} (ms) |")
    print("|---|---|---|")
    for path in sorted(glob.glob("tests/reference/lmm/*.json")):
        case = json.load(open(path))
        data, formula = case.get("data_file"), case.get("formula")
        if not formula or not data or not os.path.exists(data):
            continue
        method = "ml" if case.get("method") == "ML" else "reml"
        times = {old: [], new: []}
        for _ in range(runs):
            for b in (old, new):
                cmd = [b, "mixed", "--data", data, "--formula", formula,
                       "--method", method, "--json"]
                times[b].append(wall(cmd))
        name = os.path.basename(path)[:-5]
        print(f"| {name} | {1000 * statistics.median(times[old]):.0f} "
              f"| {1000 * statistics.median(times[new]):.0f} |")


if __name__ == "__main__":
    main()
