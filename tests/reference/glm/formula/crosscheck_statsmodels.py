"""Cross-check of the stored formula-level glm references against statsmodels (optional).

Not needed by the Rust tests; it shows that the stored CSV + formula + family
reproduce R's numbers in an independent implementation.  Separation cases are
skipped (their coefficients are not identified; only the warnings and the
non-finite-MLE behaviour are meaningful).

Run from the repository root:
    python3 tests/reference/glm/formula/crosscheck_statsmodels.py
"""
import glob
import json
import os
import re
import sys

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

ok = bad = 0
for path in sorted(glob.glob(os.path.join("tests", "reference", "glm", "formula", "*.json"))):
    ref = json.load(open(path))
    if ref["model"].startswith("separation"):
        continue
    df = pd.read_csv(ref["data_path"])
    formula = ref["formula"]
    offset = None
    m = re.search(r"\+ offset\(log\((\w+)\)\)", formula)
    if m:
        offset = np.log(df[m.group(1)])
        formula = formula.replace(m.group(0), "")
    fam = sm.families.Binomial() if ref["family"] == "binomial" else sm.families.Poisson()
    fit = smf.glm(formula, df, family=fam, offset=offset).fit(tol=1e-12)
    # patsy names factor terms "race[T.hispan]"; R names them "racehispan"
    names = [re.sub(r"\[T\.(.*)\]", r"\1", n).replace("Intercept", "(Intercept)")
             for n in fit.params.index]
    assert sorted(names) == sorted(ref["terms"]), (names, ref["terms"])
    est = pd.Series(fit.params.values, index=names)[ref["terms"]].values
    se = pd.Series(fit.bse.values, index=names)[ref["terms"]].values
    # R stops at |dev - devold|/(|dev| + 0.1) < 1e-8, so its estimates differ
    # from a fully converged fit by ~1e-8, and its SEs use the weights of the
    # last IRLS iteration (not re-evaluated at the final beta): ~1e-5 relative.
    good = (np.allclose(est, ref["estimate"], rtol=1e-6, atol=1e-10)
            and np.allclose(se, ref["std_error"], rtol=1e-4)
            and abs(fit.deviance - ref["deviance"]) < 1e-7 * max(1, ref["deviance"]))
    print(("ok  " if good else "BAD ") + ref["model"])
    ok += good
    bad += not good
print(f"{ok} passed, {bad} failed")
sys.exit(1 if bad else 0)
