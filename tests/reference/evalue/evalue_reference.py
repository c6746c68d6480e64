"""Reference E-values computed from the closed form of VanderWeele & Ding (2017).

Run from the repository root: python3 tests/reference/evalue/evalue_reference.py
Writes tests/reference/evalue/evalue_reference.json. R's EValue package is not used
(it is not installed where these files were made); the formula is applied directly, with
Python's math module, independently of shine's Rust code.
"""
import json
import math


def evalue_rr(rr):
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def to_rr(ratio, measure):
    if measure == "or_common":
        return math.sqrt(ratio)
    if measure == "hr_common":
        return (1 - 0.5 ** math.sqrt(ratio)) / (1 - 0.5 ** math.sqrt(1 / ratio))
    return ratio


def case(est, lo, hi, measure):
    rr, l, h = (to_rr(v, measure) for v in (est, lo, hi))
    ci = evalue_rr(l) if l > 1 else evalue_rr(h) if h < 1 else 1.0
    return {"measure": measure, "estimate": est, "conf_low": lo, "conf_high": hi,
            "risk_ratio": rr, "evalue_estimate": evalue_rr(rr), "evalue_ci": ci}


CASES = [
    (3.9, 1.8, 8.7, "rr"),
    (0.80, 0.71, 0.91, "rr"),
    (10.73, 8.02, 14.36, "rr"),
    (1.0, 0.8, 1.25, "rr"),
    (1.12, 0.95, 1.31, "rate"),
    (0.87, 0.79, 0.96, "rate"),
    (1.02, 1.001, 1.04, "rate"),
    (2.5, 1.4, 4.1, "or_rare"),
    (2.5, 1.4, 4.1, "or_common"),
    (0.6, 0.45, 0.82, "or_common"),
    (1.8, 1.2, 2.7, "hr_rare"),
    (1.8, 1.2, 2.7, "hr_common"),
    (0.7, 0.55, 0.9, "hr_common"),
    (1.5, 0.9, 2.4, "hr_common"),
]

out = {"description": "E-values from the closed form RR + sqrt(RR (RR - 1)) (RR < 1 inverted), "
       "CI limit closer to 1 (1 if the CI covers 1); odds ratios of a common outcome "
       "converted by sqrt(OR), hazard ratios by (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) "
       "(VanderWeele & Ding 2017, Ann Intern Med 167:268-274, Table).",
       "script": "tests/reference/evalue/evalue_reference.py",
       "cases": [case(*c) for c in CASES]}
with open("tests/reference/evalue/evalue_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(len(CASES), "cases")
