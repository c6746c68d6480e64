"""Writes the benchmark panel of the wild cluster bootstrap: 20 practices (clusters),
500 persons each, 10 periods (100,000 rows), treatment by practice from period 6.

    python3 benches/wild_bootstrap/make_panel.py OUT.csv
"""
import sys

import numpy as np
import pandas as pd

rng = np.random.default_rng(2026)
G, M, T = 20, 500, 10
practice = np.repeat(np.arange(1, G + 1), M * T)
unit = np.repeat(np.arange(1, G * M + 1), T)
period = np.tile(np.arange(1, T + 1), G * M)
treated = np.isin(practice, rng.choice(np.arange(1, G + 1), size=8, replace=False))
post = period >= 6
x = rng.normal(size=G * M * T)
shock = rng.normal(size=G)[practice - 1] * post
y = (rng.normal(size=G * M)[unit - 1] + 0.1 * period + 0.3 * (treated & post)
     + 0.5 * x + shock + rng.normal(size=G * M * T))
pd.DataFrame(dict(practice=practice, unit=unit, period=period,
                  treated_post=(treated & post).astype(int), x=x.round(6),
                  y=y.round(6))).to_csv(sys.argv[1], index=False)
