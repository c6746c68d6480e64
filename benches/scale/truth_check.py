#!/usr/bin/env python3
"""Whether every true effect of a simulated pool lies inside its interval.

    python3 benches/scale/truth_check.py POOL_DIR RESULTS_DIR

POOL_DIR holds the truth.json that `shine simulate` wrote, RESULTS_DIR the results
folder of `shine analyse` on that pool. Prints one line per effect and exits 1 if any
true value falls outside its 95% interval.
"""
import json
import sys
from pathlib import Path

truth = json.loads((Path(sys.argv[1]) / "truth.json").read_text())
results = json.loads((Path(sys.argv[2]) / "results.json").read_text())
outside = 0
for o in results["difference_in_differences"]:
    name, rr = o["outcome"], o["rate_ratio"]
    true = truth["rate_ratios"][name]
    lo, hi = rr["rate_ratio_conf_low"], rr["rate_ratio_conf_high"]
    inside = lo < true < hi
    outside += not inside
    print(f"rate ratio {name}: true {true:.3f}, estimate {rr['rate_ratio']:.3f} [{lo:.3f}, {hi:.3f}] {'inside' if inside else 'OUTSIDE'}")
for o in results["survey_outcomes"]:
    for c in o["change"]:
        true = truth["survey_changes"][o["outcome"]][str(c["wave"])]
        lo, hi = c["conf_low"], c["conf_high"]
        inside = lo < true < hi
        outside += not inside
        print(f"survey {o['outcome']} wave {c['wave']}: true {true:.3f} [{lo:.3f}, {hi:.3f}] {'inside' if inside else 'OUTSIDE'}")
print("every true effect inside its interval" if outside == 0 else f"{outside} true effects outside")
sys.exit(1 if outside else 0)
