"""The DiD of `shine analyse --demo`, refitted with pyfixest on the same matched cohort.

Run from the repository root after
    shine analyse --demo --export-matched --out /tmp/demo-matched
as
    python3 tests/reference/analyse/did_reference.py /tmp/demo-matched/matched_cohort.csv

It builds the person-period panel from examples/demo (30-day periods, 12 before and 9
from the index date; exposure = share of the period alive, resident and inside the
extract period) and fits, per outcome group,
    fepois(count ~ treated_post | member + period, offset = log(exposure),
           weights = matching weight, vcov = {CRV1: matched_set})
(two-way, matched_set + person, when a person is in more than one matched set, as
comparison persons reused in later risk sets are)
and the weighted linear DiD on the rate per period (weights = matching weight x
exposure). Writes tests/reference/analyse/did_reference.json: estimates and standard
errors only (no person-level data).
"""
import json
import sys
from datetime import date

import numpy as np
import pandas as pd
import pyfixest as pf

GROUPS = {
    "general_practice": ["gp_consultation", "gp_phone", "gp_email", "gp_home_visit"],
    "unplanned_hospital": ["emergency_department", "acute_admission"],
    "helpline": ["helpline_1813"],
}
PERIOD, BEFORE, AFTER = 30, 12, 9
EXTRACT_START, EXTRACT_END = date(2023, 1, 1), date(2026, 6, 30)


def days(s):
    return (pd.to_datetime(s) - pd.Timestamp("1970-01-01")).dt.days


cohort = pd.read_csv(sys.argv[1])
persons = pd.read_csv("examples/demo/persons.csv")
contacts = pd.read_csv("examples/demo/contacts.csv")
persons["birth"] = days(persons["birth_date"])
exit_day = pd.concat(
    [days(persons["death_date"]), days(persons["emigration_date"])], axis=1
).min(axis=1)
persons["exit"] = exit_day
persons = persons.set_index("person_id")
first = (pd.Timestamp(EXTRACT_START) - pd.Timestamp("1970-01-01")).days
last = (pd.Timestamp(EXTRACT_END) - pd.Timestamp("1970-01-01")).days
contacts["day"] = days(contacts["date"])
cohort["index"] = days(cohort["index_date"])
cohort["member"] = np.arange(len(cohort))
cohort["person"] = pd.factorize(cohort["person_id"])[0]
VCOV = (
    {"CRV1": "matched_set+person"}
    if cohort["person_id"].duplicated().any()
    else {"CRV1": "matched_set"}
)

results = {}
for name, types in GROUPS.items():
    dates = (
        contacts[contacts["contact_type"].isin(types)]
        .groupby("person_id")["day"]
        .apply(lambda d: np.sort(d.to_numpy()))
    )
    rows = []
    for m in cohort.itertuples():
        p = persons.loc[m.person_id]
        start = max(p["birth"], first)
        end = last + 1 if np.isnan(p["exit"]) else min(p["exit"], last + 1)
        d = dates.get(m.person_id, np.array([], dtype=int))
        for k in range(-BEFORE, AFTER):
            lo = max(m.index + k * PERIOD, start)
            hi = min(m.index + (k + 1) * PERIOD, end)
            if hi <= lo:
                continue
            count = np.searchsorted(d, hi) - np.searchsorted(d, lo)
            rows.append(
                (m.member, k, count, (hi - lo) / PERIOD, m.weight, m.matched_set,
                 m.person, int(m.group == "referred" and k >= 0))
            )
    panel = pd.DataFrame(
        rows,
        columns=["member", "period", "count", "exposure", "w", "matched_set", "person",
                 "treated_post"],
    )
    panel["log_exposure"] = np.log(panel["exposure"])
    panel["rate"] = panel["count"] / panel["exposure"]
    panel["w_exposure"] = panel["w"] * panel["exposure"]
    poisson = pf.fepois(
        "count ~ treated_post | member + period",
        data=panel,
        offset="log_exposure",
        weights="w",
        vcov=VCOV,
    )
    linear = pf.feols(
        "rate ~ treated_post | member + period",
        data=panel,
        weights="w_exposure",
        vcov=VCOV,
    )
    results[name] = {
        "poisson_estimate": float(poisson.coef()["treated_post"]),
        "poisson_std_error": float(poisson.se()["treated_post"]),
        "linear_estimate": float(linear.coef()["treated_post"]),
        "linear_std_error": float(linear.se()["treated_post"]),
        "person_periods": int(len(panel)),
    }

out = {
    "description": "DiD of shine analyse --demo refitted with pyfixest on its exported matched cohort",
    "call": "fepois(count ~ treated_post | member + period, offset = log(exposure), weights = w, vcov = CRV1 " + VCOV["CRV1"] + "); feols(rate ~ treated_post | member + period, weights = w * exposure, vcov = CRV1 " + VCOV["CRV1"] + ")",
    "versions": {"pyfixest": pf.__version__, "pandas": pd.__version__, "numpy": np.__version__},
    "outcomes": results,
}
with open("tests/reference/analyse/did_reference.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(json.dumps(results, indent=2))
