"""Reference weighted wild cluster bootstrap p-values: wildboottest on √w-transformed data.

Run from the repository root:
    python3 tests/reference/wild_bootstrap/make_weighted_reference.py
Writes the panels (weighted_panel_*.csv, fixed seed) and wildboottest_weighted_reference.json.

Weighted least squares with weights w is ordinary least squares on √w·y and √w·X, the
fixed-effect dummies included, so the weighted restricted wild cluster bootstrap (WCR) is
the unweighted one on those transformed data. wildboottest does not take weights, so this
script builds the dummy-variable design explicitly (treated_post, one dummy per unit, one
per period but the first), multiplies every column and y by √w, and runs wildboottest's
WildboottestCL on it (WCR "11", null imposed, H0: treated_post = 0, two-sided symmetric
p-value). The panels mimic the linear difference-in-differences of `shine analyse`: the
rate per period weighted by exposure times a matching weight, clustered by a grouping of
the units. wildboottest enumerates all 2^G Rademacher sign vectors when 2^G < B; the
Webb draws come from numpy and are compared within Monte Carlo error.
"""
import json
import warnings

import numpy as np
import pandas as pd
import wildboottest
from wildboottest.wildboottest import WildboottestCL

OUT = "tests/reference/wild_bootstrap"


def make_panel(seed, clusters, units_per_cluster, periods, effect):
    rng = np.random.default_rng(seed)
    rows = []
    treated_clusters = set(rng.choice(clusters, size=clusters // 2, replace=False).tolist())
    shock = rng.normal(0, 1.0, clusters)
    unit = 0
    for g in range(clusters):
        size = units_per_cluster + int(rng.integers(-1, 2))
        for _ in range(size):
            a = rng.normal(0, 1)
            # A matching weight per unit (1 for treated, a share of 1 for comparison).
            treated = int(g in treated_clusters)
            match_weight = 1.0 if treated else round(float(rng.choice([0.2, 0.25, 0.5, 1.0])), 6)
            for t in range(periods):
                post = int(t >= periods // 2)
                exposure = round(float(rng.uniform(0.3, 1.0)), 6)
                e = rng.normal(0, 1) / np.sqrt(exposure) + 0.6 * shock[g] * post
                y = a + 0.2 * t + effect * treated * post + e
                rows.append(dict(practice=g + 1, unit=unit + 1, period=t + 1, treated=treated,
                                 treated_post=treated * post, weight=round(match_weight * exposure, 6),
                                 y=round(y, 6)))
            unit += 1
    return pd.DataFrame(rows)


def design(df):
    units = sorted(df.unit.unique())
    periods = sorted(df.period.unique())[1:]
    cols = [df.treated_post.to_numpy(float)]
    cols += [(df.unit == u).to_numpy(float) for u in units]
    cols += [(df.period == p).to_numpy(float) for p in periods]
    X = np.column_stack(cols)
    root = np.sqrt(df.weight.to_numpy(float))
    return X * root[:, None], df.y.to_numpy(float) * root


def wcr(X, Y, cluster, weights_type, B, seed):
    R = np.zeros(X.shape[1])
    R[0] = 1
    boot = WildboottestCL(X=X, Y=Y, cluster=cluster, R=R, B=B, seed=seed, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, full = boot.get_weights(weights_type=weights_type)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    t = float(np.squeeze(boot.t_stat))
    tboot = np.asarray(boot.t_boot).ravel()
    return dict(t_stat=t, p_value=float(np.squeeze(boot.pvalue)), full_enumeration=bool(full),
                draws=int(tboot.size),
                p_value_without_ties=float(np.mean(np.abs(tboot) > abs(t) * (1 + 1e-9))))


PANELS = [
    # name, seed, clusters, units per cluster, periods, effect
    ("w6", 611, 6, 4, 6, 0.5),
    ("w8", 812, 8, 4, 6, 0.0),
    ("w12", 1213, 12, 3, 4, 0.7),
]
RUNS = [("rademacher", 9999, 1), ("webb", 9999, 2)]

results = []
for name, seed, G, m, T, effect in PANELS:
    df = make_panel(seed, G, m, T, effect)
    df.to_csv(f"{OUT}/weighted_panel_{name}.csv", index=False)
    X, Y = design(df)
    # The weighted estimate and its CR1 standard error, for the Rust fit to match.
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    for weights_type, B, bseed in RUNS:
        r = wcr(X, Y, df.practice.to_numpy(), weights_type, B, bseed)
        results.append(dict(panel=name, data_file=f"weighted_panel_{name}.csv", clusters=G,
                            n_obs=int(len(df)), param="treated_post", weights=weights_type,
                            reps=B, seed=bseed, estimate=float(beta[0]), **r))

out = dict(
    description=__doc__.strip(),
    versions=dict(wildboottest=getattr(wildboottest, "__version__", "0.3.2"),
                  numpy=np.__version__, pandas=pd.__version__),
    call="WildboottestCL(X=sqrt(w)*[treated_post, unit dummies, period dummies], Y=sqrt(w)*y, cluster=practice, R=e_1, B, seed) with bootstrap_type='11', impose_null=True",
    runs=results,
)
with open(f"{OUT}/wildboottest_weighted_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for r in results:
    print(r["panel"], r["weights"], r["full_enumeration"], r["draws"], r["estimate"], r["t_stat"], r["p_value"], r["p_value_without_ties"])
