"""Independent re-implementation of the rules in MATCHIT_NOTES.md, checked
against every stored matchit reference JSON in this directory.

It starts from the stored per-unit distance (the linear logit), the CSV data
and the run options, and recomputes: the match matrix, the weights, the
subclasses, the caliper width, every summary(m) balance statistic and the
sample-size table.  If this script passes, the notes describe MatchIt 4.5.1
exactly (for these options).  Needs only numpy (no R).

Run from the repository root:
    python3 tests/reference/matching/verify_notes.py
"""
import csv
import glob
import json
import math
import os
import sys

import numpy as np

DIR = os.path.join("tests", "reference", "matching")
SQRT_EPS = math.sqrt(np.finfo(float).eps)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


# --------------------------------------------------------------------------
# Matching (MatchIt:::matchit2nearest + C++ nn_matchC_vec + weights_matrixC)
# --------------------------------------------------------------------------
def nn_match(treat, dist, ratio, replace, order, caliper, int_abs=True, off_by_one=True):
    # MatchIt 4.5.1's C++ (nn_matchC_vec) calls the C int abs() on a double
    # difference: |a - b| is truncated toward zero to an integer before every
    # comparison.  int_abs=False gives the intended (real-valued) comparison.
    gap = (lambda a, b: float(math.trunc(abs(a - b)))) if int_abs else (lambda a, b: abs(a - b))
    n = len(treat)
    d_ord = np.argsort(dist, kind="stable")           # ascending, ties in data order
    pos = np.empty(n, dtype=int)
    pos[d_ord] = np.arange(n)
    t_sorted = treat[d_ord]
    d_sorted = dist[d_ord]
    treated = np.flatnonzero(treat == 1)              # data order
    n1 = len(treated)
    if replace:
        order = "data"                                # forced by matchit2nearest
    if order == "largest":
        ord_ = np.argsort(-dist[treated], kind="stable")
    elif order == "smallest":
        ord_ = np.argsort(dist[treated], kind="stable")
    else:
        ord_ = np.arange(n1)
    reuse_max = sys.maxsize if replace else 1
    can = (t_sorted == 0).copy()
    times = np.zeros(n, dtype=int)
    mm = [[None] * ratio for _ in range(n1)]
    for r in range(ratio):
        for row in ord_:
            ii = pos[treated[row]]
            # MatchIt 4.5.1 (check_in in nn_matchC_vec.cpp) compares the 0-based
            # data index of a candidate with the 1-based indices stored in the
            # match-matrix row: a candidate is skipped when the unit just BEFORE it
            # in data order is already matched to this treated unit, and a control
            # already matched to it is NOT skipped (with replacement it can be
            # picked again).  off_by_one=False gives the intended rule.
            if off_by_one:
                already = set(x + 1 for x in mm[row] if x is not None)
            else:
                already = set(x for x in mm[row] if x is not None)

            def search(step):
                k = ii + step
                while 0 <= k < n:
                    if t_sorted[k] == 1 or d_ord[k] in already or not can[k]:
                        k += step
                        continue
                    if caliper is not None and gap(d_sorted[ii], d_sorted[k]) > caliper:
                        return -1                     # nearest eligible is outside: stop
                    return k
                return -1

            kl, kr = search(-1), search(+1)
            if kl >= 0 and kr >= 0:
                di = d_sorted[ii]
                k = kl if gap(d_sorted[kl], di) <= gap(d_sorted[kr], di) else kr
            elif kl >= 0:
                k = kl
            elif kr >= 0:
                k = kr
            else:
                continue
            mm[row][r] = int(d_ord[k])
            times[k] += 1
            if times[k] >= reuse_max:
                can[k] = False
            if not can.any():
                return mm
    return mm


def weights_from_mm(mm, treat):
    n = len(treat)
    w = np.zeros(n)
    treated = np.flatnonzero(treat == 1)
    for row, ctrls in enumerate(mm):
        c = [x for x in ctrls if x is not None]
        if not c:
            continue
        for x in c:
            w[x] += 1.0 / len(c)
        w[treated[row]] += 1.0
    i0 = treat == 0
    # controls rescaled so that their weights sum to the number of matched controls
    w[i0] = w[i0] * np.sum(w[i0] > 0) / np.sum(w[i0])
    return w


def subclass_from_mm(mm, treat):
    """mm2subclass: label = rank of str(1-based data row of the treated unit)."""
    treated = np.flatnonzero(treat == 1)
    lab = [None] * len(treat)
    for row, ctrls in enumerate(mm):
        if ctrls[0] is None:
            continue
        s = str(treated[row] + 1)
        lab[treated[row]] = s
        for x in ctrls:
            if x is not None:
                lab[x] = s
    levels = sorted(set(x for x in lab if x is not None))   # string (collation) order
    rank = {s: i + 1 for i, s in enumerate(levels)}
    return [rank[x] if x is not None else None for x in lab]


# --------------------------------------------------------------------------
# Balance (summary.matchit -> bal1var, wvar, qqsum, pair.dist)
# --------------------------------------------------------------------------
def is_bin(x):
    return bool(np.all((x == 0) | (x == 1)))


def wm(x, w):
    return float(np.sum(x * w) / np.sum(w))


def wvar(x, binv, w):
    w = w / np.sum(w)
    mx = np.sum(w * x)
    if binv:
        return mx * (1 - mx)
    return np.sum(w * (x - mx) ** 2) / (1 - np.sum(w ** 2))


def ecdf_stats(x, t, w):
    w = w.astype(float).copy()
    for g in (0, 1):
        w[t == g] /= np.sum(w[t == g])
    o = np.argsort(x, kind="stable")
    xo, wo, to = x[o], w[o], t[o]
    sw = np.where(to == to[0], -wo, wo)
    cs = np.abs(np.cumsum(sw))
    keep = np.append(np.diff(xo) != 0, True)           # last of each run of ties
    e = cs[keep]
    return float(np.mean(e)), float(np.max(e))


def bal1var(x, t, w, mm_rows=None, treated_idx=None):
    un = w is None
    if un:
        w = np.ones(len(x))
    binv = is_bin(x)
    i1, i0 = t == 1, t == 0
    out = {}
    out["means_treated"] = wm(x[i1], w[i1])
    out["means_control"] = wm(x[i0], w[i0])
    mdiff = out["means_treated"] - out["means_control"]
    std = None
    if abs(mdiff) > SQRT_EPS:
        std = math.sqrt(wvar(x[i1], binv, np.ones(int(i1.sum()))))  # treated, unweighted
        out["std_mean_diff"] = mdiff / std
    else:
        out["std_mean_diff"] = mdiff
    out["std_pair_dist"] = None
    if not un:
        diffs = [abs(x[treated_idx[r]] - x[c]) for r, row in enumerate(mm_rows)
                 for c in row if c is not None]
        pd = float(np.mean(diffs))
        if std is not None and abs(pd) > 1e-8:
            pd /= std
        out["std_pair_dist"] = pd
    if binv:
        out["var_ratio"] = None
        out["ecdf_mean"] = out["ecdf_max"] = abs(mdiff)
    else:
        out["var_ratio"] = wvar(x[i1], False, w[i1]) / wvar(x[i0], False, w[i0])
        out["ecdf_mean"], out["ecdf_max"] = ecdf_stats(x, t, w)
    return out


def covariate_columns(rows, ref):
    """One column per numeric covariate; one 0/1 column per level of a factor."""
    rhs = ref["formula"].split("~")[1]
    terms = [s.strip() for s in rhs.split("+")]
    cols = []
    for v in terms:
        if v in ref["factor_levels"]:
            lv = ref["factor_levels"][v]
            assert sorted(set(r[v] for r in rows)) == lv
            for L in lv:
                cols.append((v + L, np.array([1.0 if r[v] == L else 0.0 for r in rows])))
        else:
            cols.append((v, np.array([float(r[v]) for r in rows])))
    return cols


# --------------------------------------------------------------------------
def close(a, b, tol=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def check(path):
    ref = json.load(open(path))
    rows = read_csv(os.path.join(DIR, ref["data_file"]))
    ids = [r["id"] for r in rows]
    assert ids == ref["units"]["id"]
    tname = ref["formula"].split("~")[0].strip()
    treat = np.array([int(r[tname]) for r in rows])
    dist = np.array(ref["units"]["distance"], dtype=float)
    o = ref["options"]

    cal = None
    if o["caliper"] is not None:
        cal = o["caliper"] * float(np.std(dist, ddof=1))
        assert close(cal, ref["caliper_distance_units"], 1e-12), "caliper"

    intended = path.endswith("_intended.json")
    mm = nn_match(treat, dist, o["ratio"], o["replace"], o["m_order_effective"], cal,
                  int_abs=not intended, off_by_one=not intended)
    got = [[ids[x] if x is not None else None for x in row] for row in mm]
    exp = ref["match_matrix"]["control_ids"]
    if intended and got != exp:
        # Only ties between controls at exactly equal distance may differ:
        # compare, per treated unit, the multiset of matched |d_t - d_c|.
        idx = {k: i for i, k in enumerate(ids)}
        tr = np.flatnonzero(treat == 1)
        for r, (a, b) in enumerate(zip(got, exp)):
            ga = sorted(abs(dist[tr[r]] - dist[idx[c]]) for c in a if c is not None)
            gb = sorted(abs(dist[tr[r]] - dist[idx[c]]) for c in b if c is not None)
            assert ga == gb, f"match matrix row {ids[tr[r]]}: {a} vs {b}"
        # continue the checks with R's own match matrix
        mm = [[idx[c] if c is not None else None for c in row] for row in exp]
    else:
        assert got == exp, "match matrix"

    w = weights_from_mm(mm, treat)
    assert np.allclose(w, ref["units"]["weights"], rtol=1e-12, atol=1e-12), "weights"
    if ref["units"].get("subclass") is not None:
        assert subclass_from_mm(mm, treat) == ref["units"]["subclass"], "subclass"

    treated_idx = np.flatnonzero(treat == 1)
    cols = [("distance", dist)] + covariate_columns(rows, ref)
    for which, ww in (("all", None), ("matched", w)):
        tab = ref["balance"][which]
        assert [c[0] for c in cols] == [r["term"] for r in tab], "balance rows"
        for (name, x), rr in zip(cols, tab):
            b = bal1var(x, treat, ww, mm, treated_idx)
            for k, v in b.items():
                assert close(v, rr[k]), f"{which} {name} {k}: {v} vs {rr[k]}"

    for g, key in ((0, "control"), (1, "treated")):
        wg = w[treat == g]
        ss = ref["sample_sizes"][key]
        assert ss["matched"] == int(np.sum(wg > 0))
        assert close(ss["matched_ess"], float(np.sum(wg) ** 2 / np.sum(wg ** 2)), 1e-12)
    return True


def main():
    files = sorted(glob.glob(os.path.join(DIR, "*_r[0-9]*.json")))
    ok = 0
    for f in files:
        try:
            check(f)
            ok += 1
        except AssertionError as e:
            print(f"FAIL {os.path.basename(f)}: {e}")
    print(f"{ok} passed, {len(files) - ok} failed")
    sys.exit(0 if ok == len(files) else 1)


if __name__ == "__main__":
    main()
