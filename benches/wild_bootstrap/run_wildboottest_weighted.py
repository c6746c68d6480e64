"""The reference side of bench_weighted.sh: the weighted WCR bootstrap as wildboottest
can do it — on the √w-scaled dummy design of y ~ treated_post + x | practice + period
(Rademacher, B = 9999), as one whole process.

    python3 benches/wild_bootstrap/run_wildboottest_weighted.py PANEL.csv
"""
import sys
import warnings

import numpy as np
import pandas as pd
from wildboottest.wildboottest import WildboottestCL

warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
cols = [df.treated_post.to_numpy(float), df.x.to_numpy(float)]
cols += [(df.practice == g).to_numpy(float) for g in sorted(df.practice.unique())]
cols += [(df.period == p).to_numpy(float) for p in sorted(df.period.unique())[1:]]
root = np.sqrt(df.w.to_numpy(float))
X = np.column_stack(cols) * root[:, None]
Y = df.y.to_numpy(float) * root
R = np.zeros(X.shape[1])
R[0] = 1
boot = WildboottestCL(X=X, Y=Y, cluster=df.practice.to_numpy(), R=R, B=9999, seed=1)
boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
boot.get_weights(weights_type="rademacher")
boot.get_numer()
boot.get_denom()
boot.get_tboot()
boot.get_vcov()
boot.get_tstat()
boot.get_pvalue(pval_type="two-tailed")
print(f"t = {float(np.squeeze(boot.t_stat)):.6f}, p = {float(np.squeeze(boot.pvalue)):.6f}")
