#!/usr/bin/env python3
"""Deterministic benchmark tables for `shine match` vs R's MatchIt.

Writes CSV files (and Parquet when pyarrow is installed) with columns

    id, treat, age, income, prior_visits, bmi, chronic_score, distance_km,
    female, smoker, education, region

* `id` is 1..n in row order.
* 6 continuous covariates: age (years), income (1000 DKK, log-normal),
  prior_visits (count), bmi, chronic_score (gamma), distance_km (exponential).
* 2 binary covariates (0/1): female, smoker.
* 2 categorical covariates, text: education (3 levels), region (5 levels). The
  level names are lower-case ASCII, so R's locale-dependent sort and a bytewise
  sort give the same reference level.
* `treat`: selection on the covariates through a logistic latent-variable model,
  treat = 1{lp(x) + e > c}, e ~ Logistic(0, 1), with c chosen so that exactly
  `n_treated` rows are treated (the rows with the largest lp + e). That is a
  logistic regression in x with an intercept of -c, so the propensity model
  fitted by MatchIt and shine is correctly specified but not trivial.

Numbers are written with a fixed number of decimals, so R and shine read the
same values.

Usage:
    python3 make_data.py                      # both sizes into /tmp
    python3 make_data.py --n 100000 --treated 1000 --out /tmp/match_bench_100k.csv
"""

import argparse
import os
import sys

import numpy as np

EDUCATION = np.array(["basic", "secondary", "tertiary"])
REGION = np.array(["capital", "central", "north", "south", "zealand"])


def generate(n, n_treated, seed):
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(52.0, 16.0, n), 18.0, 95.0)
    female = (rng.random(n) < 0.52).astype(np.int64)
    education = rng.choice(3, size=n, p=[0.30, 0.45, 0.25])
    region = rng.choice(5, size=n, p=[0.31, 0.22, 0.10, 0.21, 0.16])
    # income in 1000 DKK: depends on age and education
    income = np.exp(
        5.4 + 0.25 * education + 0.004 * (age - 50) + rng.normal(0.0, 0.45, n)
    )
    chronic_score = rng.gamma(1.5, 1.0, n) * (0.6 + 0.012 * age)
    prior_visits = rng.poisson(1.0 + 0.8 * chronic_score + 0.3 * female)
    bmi = rng.normal(26.5 + 0.4 * chronic_score, 4.2, n)
    smoker = (rng.random(n) < 1.0 / (1.0 + np.exp(1.2 + 0.35 * education))).astype(
        np.int64
    )
    distance_km = rng.exponential(12.0, n) * np.where(region == 2, 2.0, 1.0)

    # Selection into treatment (social prescribing): older, sicker, more visits,
    # lower income, closer to the service, more often women and smokers.
    lp = (
        0.015 * (age - 52.0)
        - 0.35 * np.log(income / 250.0)
        + 0.12 * prior_visits
        + 0.03 * (bmi - 27.0)
        + 0.25 * chronic_score
        - 0.02 * distance_km
        + 0.30 * female
        + 0.25 * smoker
        + np.array([0.0, -0.15, -0.35])[education]
        + np.array([0.0, 0.20, -0.10, 0.10, 0.30])[region]
    )
    latent = lp + rng.logistic(0.0, 1.0, n)
    # exactly n_treated rows: the largest latent values (ties broken by row)
    order = np.argsort(-latent, kind="stable")
    treat = np.zeros(n, dtype=np.int64)
    treat[order[:n_treated]] = 1
    assert treat.sum() == n_treated

    return {
        "id": np.arange(1, n + 1),
        "treat": treat,
        "age": np.round(age, 2),
        "income": np.round(income, 3),
        "prior_visits": prior_visits.astype(np.int64),
        "bmi": np.round(bmi, 2),
        "chronic_score": np.round(chronic_score, 4),
        "distance_km": np.round(distance_km, 3),
        "female": female,
        "smoker": smoker,
        "education": EDUCATION[education],
        "region": REGION[region],
    }


FORMATS = {
    "id": "{}",
    "treat": "{}",
    "age": "{:.2f}",
    "income": "{:.3f}",
    "prior_visits": "{}",
    "bmi": "{:.2f}",
    "chronic_score": "{:.4f}",
    "distance_km": "{:.3f}",
    "female": "{}",
    "smoker": "{}",
    "education": "{}",
    "region": "{}",
}


def write_csv(cols, path):
    names = list(cols)
    n = len(cols["id"])
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        f.write(",".join(names) + "\n")
        chunk = 100_000
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            parts = [
                [FORMATS[c].format(v) for v in cols[c][start:stop].tolist()]
                for c in names
            ]
            f.write("".join(",".join(row) + "\n" for row in zip(*parts)))
    os.replace(tmp, path)


def write_parquet(cols, path):
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    pq.write_table(pa.table({k: v for k, v in cols.items()}), path)
    return True


def make(n, n_treated, seed, out):
    cols = generate(n, n_treated, seed)
    write_csv(cols, out)
    msg = f"wrote {out}: {n} rows, {int(cols['treat'].sum())} treated"
    if write_parquet(cols, os.path.splitext(out)[0] + ".parquet"):
        msg += " (and .parquet)"
    print(msg, file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, help="rows (default: both standard sizes)")
    p.add_argument("--treated", type=int)
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--out")
    a = p.parse_args()
    if a.n is None:
        make(1_000_000, 10_000, a.seed, "/tmp/match_bench_1m.csv")
        make(100_000, 1_000, a.seed + 1, "/tmp/match_bench_100k.csv")
    else:
        if a.treated is None or a.out is None:
            p.error("--n needs --treated and --out")
        make(a.n, a.treated, a.seed, a.out)


if __name__ == "__main__":
    main()
