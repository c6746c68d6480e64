"""The reference side of bench.sh: pyfixest's feols and wildboottest's WCR bootstrap
(Rademacher, B = 9999) of treated_post on the benchmark panel, as one whole process.

    python3 benches/wild_bootstrap/run_wildboottest.py PANEL.csv
"""
import sys
import warnings

import pandas as pd
import pyfixest as pf

warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
fit = pf.feols("y ~ treated_post + x | practice + period", data=df, vcov={"CRV1": "practice"})
res = fit.wildboottest(param="treated_post", reps=9999, seed=1, weights_type="rademacher")
print(f"t = {float(res['t value']):.6f}, p = {float(res['Pr(>|t|)']):.6f}")
