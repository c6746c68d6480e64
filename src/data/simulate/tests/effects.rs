//! The model as the data show it: confounded selection, calibrated survey effects,
//! attrition, recovered rate ratios, and selection on frailty only when asked.

use super::super::contacts::{annual_rates, Season};
use super::super::selection::eligible_on;
use super::*;

/// Agreement of the analytic expected changes with the same expectations by quadrature
/// (Simpson's rule with step 0.002: its error, not round-off, sets the bound).
const QUADRATURE: f64 = 1e-9;

#[test]
fn selection_into_referral_is_confounded() {
    let x = simulate(&SimulationConfig::default()).unwrap();
    let n = x.persons.height();
    let referred_ids: Vec<String> = strings(&x.referrals, "person_id")
        .into_iter()
        .flatten()
        .collect();
    let mut referral = vec![None; n];
    for (id, r) in referred_ids.iter().zip(days(&x.referrals, "referral_date")) {
        referral[id_number(id) - 1] = r;
    }
    let birth: Vec<i32> = days(&x.persons, "birth_date")
        .into_iter()
        .flatten()
        .collect();
    let age = |k: usize| f64::from(age_on(birth[k], AGE_REFERENCE));
    let referred_age = mean((0..n).filter(|&k| referral[k].is_some()).map(age));
    let pool_age = mean((0..n).filter(|&k| referral[k].is_none()).map(age));
    assert!(
        referred_age > pool_age + 5.0,
        "{referred_age} vs {pool_age}"
    );

    // Snapshot 2023.
    let ids = strings(&x.covariates, "person_id");
    let years = ints(&x.covariates, "year");
    let alone = bools(&x.covariates, "living_alone");
    let employment = strings(&x.covariates, "employment");
    let (mut alone_ref, mut alone_pool, mut dp_ref, mut dp_pool) = (vec![], vec![], vec![], vec![]);
    for j in 0..ids.len() {
        if years[j] != Some(2023) {
            continue;
        }
        let k = id_number(ids[j].as_deref().unwrap()) - 1;
        let is_ref = referral[k].is_some();
        if let Some(a) = alone[j] {
            if is_ref {
                &mut alone_ref
            } else {
                &mut alone_pool
            }
            .push(f64::from(u8::from(a)));
        }
        if let Some(e) = employment[j].as_deref() {
            let dp = f64::from(u8::from(e == "disability_pension"));
            if is_ref { &mut dp_ref } else { &mut dp_pool }.push(dp);
        }
    }
    let (alone_ref, alone_pool) = (mean(alone_ref.into_iter()), mean(alone_pool.into_iter()));
    let (dp_ref, dp_pool) = (mean(dp_ref.into_iter()), mean(dp_pool.into_iter()));
    assert!(
        alone_ref > alone_pool + 0.1,
        "living alone {alone_ref} vs {alone_pool}"
    );
    assert!(
        dp_ref > 1.5 * dp_pool,
        "disability pension {dp_ref} vs {dp_pool}"
    );

    // GP consultations in the year before referral (pool: calendar year 2023, persons
    // resident all year).
    let death = days(&x.persons, "death_date");
    let emig = days(&x.persons, "emigration_date");
    let mut gp = vec![0usize; n];
    for ((id, d), t) in strings(&x.contacts, "person_id")
        .iter()
        .zip(days(&x.contacts, "date"))
        .zip(strings(&x.contacts, "contact_type"))
    {
        if t.as_deref() != Some("gp_consultation") {
            continue;
        }
        let k = id_number(id.as_deref().unwrap()) - 1;
        let d = d.unwrap();
        let (lo, hi) = match referral[k] {
            Some(r) => (r - 365, r - 1),
            None => (EXTRACT_START, year_end(2023)),
        };
        if (lo..=hi).contains(&d) {
            gp[k] += 1;
        }
    }
    let gp_ref = mean(
        (0..n)
            .filter(|&k| referral[k].is_some())
            .map(|k| gp[k] as f64),
    );
    let gp_pool = mean(
        (0..n)
            .filter(|&k| {
                referral[k].is_none() && death[k].or(emig[k]).is_none_or(|d| d > year_end(2023))
            })
            .map(|k| gp[k] as f64),
    );
    assert!(gp_ref > 1.3 * gp_pool, "GP contacts {gp_ref} vs {gp_pool}");
}

/// P(a < Z < b) for a standard normal Z by Simpson's rule on the density
/// (independent of the erfc-based `phi`).
fn normal_mass(a: f64, b: f64) -> f64 {
    let (a, b) = (a.max(-14.0), b.min(14.0));
    if b <= a {
        return 0.0;
    }
    let intervals = (((b - a) / 0.002).ceil() as usize)
        .max(8)
        .next_multiple_of(2);
    let h = (b - a) / intervals as f64;
    let density = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut sum = density(a) + density(b);
    for j in 1..intervals {
        let w = if j % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * density(a + j as f64 * h);
    }
    sum * h / 3.0
}

/// E(score) of an ordinal item with `thresholds` for latent N(m, s²), by quadrature.
fn ordinal_mean(m: f64, s: f64, thresholds: &[f64], scores: &[f64]) -> f64 {
    let mut cuts = vec![f64::NEG_INFINITY];
    cuts.extend(thresholds.iter().map(|t| (t - m) / s));
    cuts.push(f64::INFINITY);
    cuts.windows(2)
        .zip(scores)
        .map(|(w, score)| score * normal_mass(w[0], w[1]))
        .sum()
}

#[test]
fn calibrated_shifts_reproduce_the_true_changes() {
    use crate::data::instruments::{eq5d_index_complete, ValueSet};
    let config = SimulationConfig::default();
    let (x, state) = simulate_with_state(&config).unwrap();
    let t = &x.truth;
    let u = &t.parameters.survey.ucla3;
    let e = &t.parameters.survey.eq5d5l;
    let v = &t.parameters.survey.eq_vas;
    let (su, se, sv) = (
        u.sd_person.hypot(u.sd_item),
        e.sd_person.hypot(e.sd_item),
        v.sd_person.hypot(v.sd_item),
    );
    // Person latent means from the true covariates and the parameters in `truth`.
    let people: Vec<(f64, [f64; 5], f64)> = state
        .referred
        .iter()
        .map(|&(i, r)| {
            let p = &state.persons[i];
            let before = &p.years[snapshot_index(r) - 1];
            let psych = f64::from(u8::from(p.psychiatric));
            let age = f64::from(r - p.birth) / 365.2425;
            let charlson = f64::from(before.charlson);
            let ucla = u.intercept
                + u.living_alone * f64::from(u8::from(before.living_alone))
                + u.psychiatric_diagnosis * psych;
            let theta = e.intercept
                + e.age_per_year * (age - e.age_centre)
                + e.charlson * charlson
                + e.psychiatric_diagnosis * psych;
            let eq = std::array::from_fn(|j| {
                theta
                    + e.dimension_offsets[EQ_DIMENSIONS[j]]
                    + if j == 4 {
                        e.anxiety_depression_psychiatric * psych
                    } else {
                        0.0
                    }
            });
            let vas = v.intercept
                + v.age_per_year * (age - v.age_centre)
                + v.charlson * charlson
                + v.psychiatric_diagnosis * psych;
            (ucla, eq, vas)
        })
        .collect();
    let ucla_total = |m: f64| 3.0 * ordinal_mean(m, su, &u.thresholds, &[1.0, 2.0, 3.0]);
    // E(index) from the project's scorer over all 5^5 profiles, weighting each by the
    // product of the dimensions' marginal level probabilities (the index is additive,
    // so the dependence between dimensions does not change its expectation).
    let profiles: Vec<([usize; 5], f64)> = (0..5usize.pow(5))
        .map(|code| {
            let levels: [usize; 5] = std::array::from_fn(|j| code / 5usize.pow(j as u32) % 5);
            let scored = eq5d_index_complete(levels.map(|l| l as u8 + 1), ValueSet::Dk5L);
            (levels, scored.unwrap())
        })
        .collect();
    let eq_index = |m: &[f64; 5]| {
        let marginals: Vec<Vec<f64>> = (0..5)
            .map(|j| {
                (0..5)
                    .map(|l| {
                        let mut scores = [0.0; 5];
                        scores[l] = 1.0;
                        ordinal_mean(m[j], se, &e.thresholds, &scores)
                    })
                    .collect()
            })
            .collect();
        profiles
            .iter()
            .map(|(levels, index)| index * (0..5).map(|j| marginals[j][levels[j]]).product::<f64>())
            .sum::<f64>()
    };
    let vas_mean = |m: f64| {
        // round(clamp(X, 0, 100)) = k on (k − ½, k + ½), 0 below ½, 100 above 99.5.
        let cuts: Vec<f64> = (0..100).map(|k| f64::from(k) + 0.5).collect();
        let scores: Vec<f64> = (0..=100).map(f64::from).collect();
        ordinal_mean(m, sv, &cuts, &scores)
    };
    for wave in ["3", "9"] {
        let (du, de, dv) = (
            u.latent_shift[wave],
            e.latent_shift[wave],
            v.latent_shift[wave],
        );
        let n = people.len() as f64;
        let ucla: f64 = people
            .iter()
            .map(|p| ucla_total(p.0 + du) - ucla_total(p.0))
            .sum::<f64>()
            / n;
        let eq: f64 = people
            .iter()
            .map(|p| eq_index(&p.1.map(|m| m + de)) - eq_index(&p.1))
            .sum::<f64>()
            / n;
        let vas: f64 = people
            .iter()
            .map(|p| vas_mean(p.2 + dv) - vas_mean(p.2))
            .sum::<f64>()
            / n;
        assert!(
            (ucla - t.survey_changes["ucla3"][wave]).abs() < QUADRATURE,
            "ucla {wave}: {ucla}"
        );
        assert!(
            (eq - t.survey_changes["eq5d5l_index"][wave]).abs() < QUADRATURE,
            "eq {wave}: {eq}"
        );
        assert!(
            (vas - t.survey_changes["eq_vas"][wave]).abs() < QUADRATURE,
            "vas {wave}: {vas}"
        );
    }
    assert_eq!(t.survey_changes["ucla3"]["3"], -0.6);
    assert_eq!(t.survey_changes["eq5d5l_index"]["9"], 0.05);
    assert_eq!(t.survey_changes["eq_vas"]["9"], 5.0);
    assert!(u.latent_shift["9"] < u.latent_shift["3"] && u.latent_shift["3"] < 0.0);
    assert!(v.latent_shift["9"] > v.latent_shift["3"] && v.latent_shift["3"] > 0.0);
    assert_eq!(state.shifts.ucla[0], u.latent_shift["3"]);
    assert_eq!(state.means.len(), config.referred);
}

#[test]
fn survey_response_and_item_missingness_are_plausible() {
    let x = simulate(&SimulationConfig {
        referred: 3_000,
        pool: 30_000,
        seed: 3,
        ..Default::default()
    })
    .unwrap();
    let waves = ints(&x.proms, "wave");
    let count = |w: i64| waves.iter().filter(|&&v| v == Some(w)).count() as f64;
    let n = 3_000.0;
    let (r0, r3, r9) = (count(0) / n, count(3) / n, count(9) / n);
    assert!((0.85..0.91).contains(&r0), "baseline response {r0}");
    assert!((0.62..0.80).contains(&r3), "3-month response {r3}");
    assert!((0.52..0.70).contains(&r9), "9-month response {r9}");
    assert!(r9 < r3);
    let rows = x.proms.height() as f64;
    for item in ["ucla_1", "eq5d_pd", "eq5d_vas"] {
        let share = x.proms.column(item).unwrap().null_count() as f64 / rows;
        assert!((0.01..0.03).contains(&share), "{item} missing {share}");
    }
    // Lonelier people drop out more: baseline UCLA-3 of 9-month responders is lower.
    let ids = strings(&x.proms, "person_id");
    let total: Vec<Option<i64>> = {
        let a = ints(&x.proms, "ucla_1");
        let b = ints(&x.proms, "ucla_2");
        let c = ints(&x.proms, "ucla_3");
        (0..a.len()).map(|j| Some(a[j]? + b[j]? + c[j]?)).collect()
    };
    let mut at_9 = std::collections::BTreeSet::new();
    for j in 0..ids.len() {
        if waves[j] == Some(9) {
            at_9.insert(ids[j].clone());
        }
    }
    let (mut stay, mut leave) = (vec![], vec![]);
    for j in 0..ids.len() {
        if let (Some(0), Some(t)) = (waves[j], total[j]) {
            if at_9.contains(&ids[j]) {
                &mut stay
            } else {
                &mut leave
            }
            .push(t as f64);
        }
    }
    let (stay, leave) = (mean(stay.into_iter()), mean(leave.into_iter()));
    assert!(
        leave > stay + 0.2,
        "baseline UCLA-3 of dropouts {leave} vs stayers {stay}"
    );
}

/// Observed / expected-without-effect contacts of the referred after referral, per
/// outcome group, estimates the true rate ratio with Poisson noise only. (Before
/// referral the observed counts exceed the expected ones: referral selects on them.)
#[test]
fn contact_rate_ratios_are_recovered() {
    let config = SimulationConfig {
        referred: 2_000,
        pool: 60_000,
        seed: 11,
        ..Default::default()
    };
    let (x, state) = simulate_with_state(&config).unwrap();
    let season = Season::new();
    let type_index = |code: &str| CONTACT_TYPES.iter().position(|&t| t == code).unwrap();
    // Observed counts per referred person (by id number) and type, in the windows.
    let mut referral_by_k = BTreeMap::new();
    for &(i, r) in &state.referred {
        let k = state.order.iter().position(|&j| j as usize == i).unwrap();
        referral_by_k.insert(k, (i, r));
    }
    let mut observed = [[0.0f64; 2]; N_TYPES];
    for ((id, d), t) in strings(&x.contacts, "person_id")
        .iter()
        .zip(days(&x.contacts, "date"))
        .zip(strings(&x.contacts, "contact_type"))
    {
        let k = id_number(id.as_deref().unwrap()) - 1;
        if let Some(&(i, r)) = referral_by_k.get(&k) {
            let d = d.unwrap();
            let end = state.persons[i].exit.min(EXTRACT_END);
            let t = type_index(t.as_deref().unwrap());
            if (first_of_month(r) - 365..first_of_month(r)).contains(&d) {
                observed[t][0] += 1.0;
            } else if (r..=(r + 272).min(end)).contains(&d) {
                observed[t][1] += 1.0;
            }
        }
    }
    let mut expected = [[0.0f64; 2]; N_TYPES];
    for &(i, r) in &state.referred {
        let p = &state.persons[i];
        let end = p.exit.min(EXTRACT_END);
        let rates = annual_rates(p);
        for t in 0..N_TYPES {
            let per_day = rates[t] / DAYS_PER_YEAR;
            expected[t][0] +=
                per_day * season.integral(first_of_month(r) - 365, first_of_month(r) - 1);
            expected[t][1] += per_day * season.integral(r, (r + 272).min(end));
        }
    }
    let groups: [(&str, &[usize]); 4] = [
        ("general_practice", &[0, 1, 2, 3]),
        ("unplanned_hospital", &[4, 5]),
        ("helpline", &[8]),
        ("planned_and_outpatient", &[6, 7]),
    ];
    for (name, types) in groups {
        let sum = |w: usize, m: &[[f64; 2]; N_TYPES]| types.iter().map(|&t| m[t][w]).sum::<f64>();
        let estimate = sum(1, &observed) / sum(1, &expected);
        let truth = x.truth.rate_ratios.get(name).copied().unwrap_or(1.0);
        // Poisson standard error of the log ratio, from the observed counts.
        let se_log = (1.0 / sum(1, &observed)).sqrt();
        let z = (estimate.ln() - truth.ln()) / se_log;
        assert!(
            z.abs() < 4.0,
            "{name}: estimated {estimate:.4}, true {truth}, z = {z:.2}"
        );
        if name == "general_practice" {
            // Enough events to tell 0.85 from 0.80 or 0.90.
            assert!(4.0 * se_log < 0.05, "too few events: se(log) = {se_log}");
        }
        // Referral selects on prior use of the three outcome groups, so their counts
        // in the window it looks at are above expectation; the others are not.
        let pre = sum(0, &observed) / sum(0, &expected);
        let se_pre = (1.0 / sum(0, &observed)).sqrt();
        if name == "planned_and_outpatient" {
            assert!(
                pre.ln().abs() < 4.0 * se_pre,
                "{name}: pre-referral ratio {pre}"
            );
        } else {
            assert!(pre.ln() > 3.0 * se_pre, "{name}: pre-referral ratio {pre}");
        }
    }
}

/// Without frailty selection, referral depends on the frailty only through the
/// observed prior use: among persons with the same prior general-practice count,
/// referred and pool persons have a similar mean frailty. With frailty selection the
/// referred have a higher frailty at the same count.
#[test]
fn frailty_enters_selection_only_when_asked() {
    let gap = |frailty_selection: f64| {
        let config = SimulationConfig {
            referred: 2_000,
            pool: 60_000,
            seed: 5,
            frailty_selection,
            ..Default::default()
        };
        let (_, state) = simulate_with_state(&config).unwrap();
        let referred: std::collections::BTreeSet<usize> =
            state.referred.iter().map(|&(i, _)| i).collect();
        // Mean log frailty by group within strata of prior GP count, weighted by
        // the referred per stratum.
        let mut strata: BTreeMap<u16, [(f64, f64); 2]> = BTreeMap::new();
        for (i, p) in state.persons.iter().enumerate() {
            if !eligible_on(p, p.candidate_referral) {
                continue;
            }
            let e = strata.entry(p.prior_use[0]).or_default();
            let g = usize::from(referred.contains(&i));
            e[g].0 += p.frailty.ln();
            e[g].1 += 1.0;
        }
        let (mut sum, mut weight) = (0.0, 0.0);
        for [pool, refd] in strata.values() {
            if pool.1 >= 5.0 && refd.1 >= 5.0 {
                sum += refd.1 * (refd.0 / refd.1 - pool.0 / pool.1);
                weight += refd.1;
            }
        }
        sum / weight
    };
    let without = gap(0.0);
    let with = gap(0.7);
    // The other covariates (age, Charlson, ...) raise both counts and referral, so
    // some gap remains within count strata; frailty selection widens it clearly.
    assert!(
        with > without + 0.05,
        "gap {with} with vs {without} without"
    );
}
