//! `eligibility.later_referred_as_comparison = true`: persons referred later may be
//! comparison persons before their own referral, and their follow-up as comparison
//! persons ends the day before it, in the DiD panel as in the rates.

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use common::{close, ACCUMULATED};
use common::{demo_extracts, read_json, repo_path, shine, Scratch};

fn day(text: &str) -> i64 {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
}

/// The rows of a demo extract (simple CSV: no quoted fields), by column name.
fn rows(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(demo_extracts().join(name)).expect("extract");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

/// The comparison rate of contacts with general practice per 30-day period (−12..8), as
/// `raw_rates` defines it (weighted contacts over weighted exposure), recomputed from the
/// extracts and the matched cohort; with `censor`, each comparison person's follow-up
/// ends the day before their own referral.
fn comparison_rates(cohort: &str, censor: bool) -> Vec<f64> {
    let (extract_start, extract_end) = (day("2023-01-01"), day("2026-06-30"));
    let mut birth = BTreeMap::new();
    let mut exit = BTreeMap::new();
    for p in rows("persons.csv") {
        let id = p["person_id"].clone();
        birth.insert(id.clone(), day(&p["birth_date"]));
        let leave = [&p["death_date"], &p["emigration_date"]]
            .into_iter()
            .filter(|d| !d.is_empty())
            .map(|d| day(d))
            .min();
        if let Some(d) = leave {
            exit.insert(id, d);
        }
    }
    let referral: BTreeMap<String, i64> = rows("referrals.csv")
        .into_iter()
        .map(|r| (r["person_id"].clone(), day(&r["referral_date"])))
        .collect();
    let gp = ["gp_consultation", "gp_phone", "gp_email", "gp_home_visit"];
    let mut contacts: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for c in rows("contacts.csv") {
        if gp.contains(&c["contact_type"].as_str()) {
            contacts
                .entry(c["person_id"].clone())
                .or_default()
                .push(day(&c["date"]));
        }
    }
    let mut sums = [[0.0f64; 2]; 21];
    for line in cohort.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] != "comparison" {
            continue;
        }
        let (id, index, weight) = (f[0], day(f[3]), f[4].parse::<f64>().expect("weight"));
        let start = birth[id].max(extract_start);
        let mut end = exit
            .get(id)
            .copied()
            .unwrap_or(i64::MAX)
            .min(extract_end + 1);
        if censor {
            if let Some(&r) = referral.get(id) {
                end = end.min(r);
            }
        }
        for (k, slot) in sums.iter_mut().enumerate() {
            let from = index + (k as i64 - 12) * 30;
            let (lo, hi) = (from.max(start), (from + 30).min(end));
            if hi <= lo {
                continue;
            }
            let n = contacts
                .get(id)
                .map_or(0, |d| d.iter().filter(|&&d| lo <= d && d < hi).count());
            slot[0] += weight * n as f64;
            slot[1] += weight * (hi - lo) as f64 / 30.0;
        }
    }
    sums.iter().map(|s| s[0] / s[1]).collect()
}

#[test]
fn a_comparison_person_referred_later_is_followed_up_until_the_day_before_their_referral() {
    let scratch = Scratch::new("later-referred");
    let plan = scratch.write(
        "plan.toml",
        "sensitivity = []\n[eligibility]\nlater_referred_as_comparison = true\n",
    );
    let out = scratch.join("out");
    let run = shine()
        .args(["analyse", "--demo", "--quiet", "--export-matched", "--plan"])
        .arg(&plan)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run shine analyse");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cohort = read(&out.join("matched_cohort.csv"));
    let referred: Vec<String> = rows("referrals.csv")
        .into_iter()
        .map(|r| r["person_id"].clone())
        .collect();
    let later_referred = cohort
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1] == "comparison" && referred.iter().any(|r| r == f[0]))
        .count();
    assert!(
        later_referred >= 5,
        "{later_referred} comparison members referred later"
    );

    let results = read_json(out.join("results.json"));
    let gp = &results["difference_in_differences"][0];
    assert_eq!(gp["outcome"], "general_practice");
    let shown: Vec<f64> = gp["raw_rates"]
        .as_array()
        .expect("raw rates")
        .iter()
        .map(|r| r["comparison"].as_f64().expect("rate"))
        .collect();
    let censored = comparison_rates(&cohort, true);
    let uncensored = comparison_rates(&cohort, false);
    assert_eq!(shown.len(), censored.len());
    for (k, (s, c)) in shown.iter().zip(&censored).enumerate() {
        assert!(
            close(*s, *c, ACCUMULATED),
            "period {}: {s} shown, {c} recomputed",
            k as i64 - 12
        );
    }
    // Before the index date nobody is censored; after it the censored rates are not the
    // uncensored ones.
    assert!(censored[..12]
        .iter()
        .zip(&uncensored[..12])
        .all(|(a, b)| close(*a, *b, ACCUMULATED)));
    assert!(
        censored[12..]
            .iter()
            .zip(&uncensored[12..])
            .any(|(a, b)| !close(*a, *b, 1e-6)),
        "{censored:?} {uncensored:?}"
    );

    // The option changes the analysis: another matched cohort and rate ratio than the
    // default's (the committed demo results, which the default reproduces).
    let default = read_json(repo_path("examples/demo-results/results.json"));
    let rate_ratio = |r: &serde_json::Value| {
        r["difference_in_differences"][0]["rate_ratio"]["estimate"]
            .as_f64()
            .expect("estimate")
    };
    assert!(
        !close(rate_ratio(&results), rate_ratio(&default), 1e-6),
        "the same rate ratio with and without the option"
    );
    let report = read(&out.join("report.html"));
    assert!(report.contains("until the day before their own referral"));
}
