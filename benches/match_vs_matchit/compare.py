#!/usr/bin/env python3
"""Compares a `shine match --json` result with run_matchit.R's output.

    python3 compare.py SHINE.json MATCHIT.json [MATCHIT_PAIRS.csv MATCHIT_DISTANCE.csv]

Prints the largest relative difference of the propensity coefficients and the
counts matched. With the pairs and the distance written by run_matchit.R
(--pairs, --distance), it also replays MatchIt's greedy routine in Python
(tests/reference/matching/verify_notes.py: `nn_match`) on R's distance, with
MatchIt 4.5.1's two defects (for a 4.5 run only: must reproduce R's pairs, a
check of the replay) and with the intended rules (what shine implements), and
counts the treated rows whose matched set differs between shine and MatchIt.
Run from the repository root (it imports verify_notes.py from tests/).
"""
import csv
import json
import math
import os
import sys

import numpy as np


def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def sets_from_pairs(pairs):
    out = {}
    for t, c in pairs:
        out.setdefault(t, []).append(c)
    return {t: sorted(cs) for t, cs in out.items()}


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    shine = json.load(open(sys.argv[1]))
    r = json.load(open(sys.argv[2]))

    r_coef = {c["term"]: c["estimate"] for c in r["ps_model"]}
    s_coef = {c["term"]: c["estimate"] for c in shine["ps_model"]}
    if set(r_coef) != set(s_coef):
        print(f"terms differ: R {sorted(r_coef)} vs shine {sorted(s_coef)}")
    worst = max(
        ((rel(s_coef[t], r_coef[t]), t) for t in r_coef if t in s_coef), default=(0, "")
    )
    print(f"propensity coefficients: {len(r_coef)} terms, max relative difference "
          f"{worst[0]:.2e} ({worst[1]})")
    for key in ("n_treated", "n_treated_matched", "n_controls_matched"):
        print(f"{key:20s} MatchIt {r[key]:>8}   shine {shine[key]:>8}")
    print(f"{'caliper_width':20s} MatchIt {r['caliper_width']:.10f}   shine "
          f"{shine.get('caliper_width', float('nan')):.10f}")

    if len(sys.argv) == 3:
        return
    sys.path.insert(0, os.path.join("tests", "reference", "matching"))
    from verify_notes import nn_match  # noqa: E402

    with open(sys.argv[3], newline="") as f:
        r_pairs = [(int(float(row["treated"])), int(float(row["control"]))) for row in csv.DictReader(f)]
    with open(sys.argv[4], newline="") as f:
        rows = list(csv.DictReader(f))
    ids = np.array([int(float(x["id"])) for x in rows])
    treat = np.array([int(x["treat"]) for x in rows])
    dist = np.array([float(x["distance"]) for x in rows])
    width = r["caliper_width"]
    treated_rows = np.flatnonzero(treat == 1)

    def replay(int_abs, off_by_one):
        mm = nn_match(treat, dist, 5, False, "largest", width, int_abs, off_by_one)
        return [(int(ids[treated_rows[i]]), int(ids[c]))
                for i, row in enumerate(mm) for c in row if c is not None]

    def diff(a, b):
        sa, sb = sets_from_pairs(a), sets_from_pairs(b)
        keys = set(sa) | set(sb)
        return sum(sa.get(k) != sb.get(k) for k in keys), len(keys)

    version = r.get("matchit_version", "?")
    if version.startswith("4.5."):
        buggy = replay(True, True)
        d, k = diff(buggy, r_pairs)
        print(f"replay with 4.5.1's defects vs MatchIt's pairs: {d} of {k} treated differ "
              f"({len(buggy)} vs {len(r_pairs)} pairs)")
    intended = replay(False, False)
    s_pairs = [(int(p["treated"]), int(p["control"])) for p in shine["pairs"]]
    d, k = diff(intended, s_pairs)
    print(f"replay with the intended rules vs shine:        {d} of {k} treated differ "
          f"({len(intended)} vs {len(s_pairs)} pairs)")
    d, k = diff(s_pairs, r_pairs)
    print(f"shine vs MatchIt {version} pairs:{' ' * (19 - len(version))}{d} of {k} treated differ "
          f"({len(s_pairs)} vs {len(r_pairs)} pairs)")
    pos = {int(i): k for k, i in enumerate(ids)}
    outside = sum(abs(dist[pos[t]] - dist[pos[c]]) > width for t, c in r_pairs)
    print(f"MatchIt {version} pairs whose gap exceeds the caliper width: {outside} of {len(r_pairs)}")
    print(f"intended rules: {len(sets_from_pairs(intended))} treated matched, "
          f"{len({c for _, c in intended})} controls")

if __name__ == "__main__":
    main()
