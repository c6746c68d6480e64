"""Reference wild cluster bootstrap p-values from wildboottest (through pyfixest).

Run from the repository root:
    python3 tests/reference/wild_bootstrap/make_reference.py
Writes the panels (panel_*.csv, fixed seed) and wildboottest_reference.json.

Each panel is a difference-in-differences: units nested in practices (the clusters),
treatment assigned by practice, a common post period; outcome y with a true effect
`effect`. The model is pyfixest's feols with unit and period fixed effects (or, for one
panel, none), CRV1 by practice; the bootstrap is wildboottest's WCR ("11", null imposed)
for H0: coefficient = 0, two-sided symmetric p-value mean(|t| < |t*_b|).
wildboottest enumerates all 2^G Rademacher sign vectors when 2^G < B; otherwise it draws
B vectors with numpy (its draws cannot be reproduced outside numpy, so other weights are
compared within Monte Carlo error).
"""
import json
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import wildboottest

OUT = "tests/reference/wild_bootstrap"


def make_panel(seed, clusters, units_per_cluster, periods, effect, covariate):
    rng = np.random.default_rng(seed)
    rows = []
    treated_clusters = set(rng.choice(clusters, size=clusters // 2, replace=False).tolist())
    cluster_shock = rng.normal(0, 1.0, clusters)
    unit = 0
    for g in range(clusters):
        size = units_per_cluster + int(rng.integers(-1, 2))
        for _ in range(size):
            a = rng.normal(0, 1)
            for t in range(periods):
                post = int(t >= periods // 2)
                treated = int(g in treated_clusters)
                x = rng.normal()
                e = rng.normal(0, 1) + 0.5 * cluster_shock[g] * post
                y = a + 0.3 * t + effect * treated * post + (0.4 * x if covariate else 0) + e
                rows.append(dict(practice=g + 1, unit=unit + 1, period=t + 1, treated=treated,
                                 post=post, treated_post=treated * post, x=round(x, 6),
                                 y=round(y, 6)))
            unit += 1
    return pd.DataFrame(rows)


PANELS = [
    # name, seed, clusters, units per cluster, periods, effect, covariate, formula
    ("g6", 101, 6, 5, 4, 0.5, False, "y ~ treated_post | unit + period"),
    ("g8", 202, 8, 4, 6, 0.0, True, "y ~ treated_post + x | unit + period"),
    ("g12", 303, 12, 3, 4, 0.8, False, "y ~ treated_post | unit + period"),
    ("g20", 404, 20, 3, 4, 0.4, True, "y ~ treated_post + x | unit + period"),
    ("g10_nofe", 505, 10, 4, 2, 0.6, False, "y ~ treated + post + treated_post"),
]

RUNS = [
    # weights, B, seed
    ("rademacher", 9999, 1),
    ("webb", 9999, 2),
    ("mammen", 9999, 3),
]

results = []
for name, seed, G, m, T, effect, cov, formula in PANELS:
    df = make_panel(seed, G, m, T, effect, cov)
    path = f"{OUT}/panel_{name}.csv"
    df.to_csv(path, index=False)
    fit = pf.feols(formula, data=df, vcov={"CRV1": "practice"})
    tidy = fit.tidy()
    for weights, B, bseed in RUNS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res, tboot = fit.wildboottest(param="treated_post", reps=B, seed=bseed,
                                          weights_type=weights, return_bootstrapped_t_stats=True)
        enumerated = weights == "rademacher" and 2 ** G < B
        results.append(dict(
            panel=name, data_file=f"panel_{name}.csv", formula=formula, cluster="practice",
            clusters=G, n_obs=int(fit._N), param="treated_post", weights=weights, reps=B,
            seed=bseed, full_enumeration=enumerated, draws=int(np.size(tboot)),
            t_stat=float(res["t value"]), p_value=float(res["Pr(>|t|)"]),
            estimate=float(tidy.loc["treated_post", "Estimate"]),
            crv1_std_error=float(tidy.loc["treated_post", "Std. Error"]),
            # Draws whose |t*| equals |t| to 1e-9 (the all-plus and all-minus sign vectors
            # reproduce the sample exactly); wildboottest counts them as round-off falls.
            near_ties=int(np.sum(np.abs(np.abs(tboot) - abs(float(res["t value"]))) <= 1e-9 * abs(float(res["t value"])))),
            # The p-value with those round-off ties left out (strict |t*| > |t|).
            p_value_without_ties=float(np.mean(np.abs(tboot) > abs(float(res["t value"])) * (1 + 1e-9))),
        ))

out = dict(
    description=__doc__.strip(),
    versions=dict(wildboottest=getattr(wildboottest, "__version__", "0.3.2"),
                  pyfixest=pf.__version__, numpy=np.__version__, pandas=pd.__version__),
    call="pf.feols(formula, data, vcov={'CRV1': 'practice'}).wildboottest(param='treated_post', reps=B, seed=seed, weights_type=weights)",
    runs=results,
)
with open(f"{OUT}/wildboottest_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for r in results:
    print(r["panel"], r["weights"], r["full_enumeration"], r["draws"], r["p_value"], r["near_ties"], r["t_stat"])
