//! A comparison person referred later (`eligibility.later_referred_as_comparison`) is
//! followed up until the day before their own referral, in the DiD panel and in the
//! naive-versus-matched rates, on a cohort small enough to count by hand.

use super::did_stage::panel_members;
use super::risk_set::window_rate;
use crate::data::calendar::days_from_civil;
use crate::data::cohort::{risk_sets, OutcomeGroup, Registry, RiskSetOptions};
use crate::data::dictionary::TableName;
use crate::data::panel::{person_periods, PanelWindow};
use crate::data::validate::{validate, ExtractPaths};
use crate::results::cohort::{CohortMember, Group};
use crate::test_support::{assert_close, EXACT};

// R is referred on 2024-03-15 (the index date I); C is referred 50 days later, on
// 2024-05-04 (I + 50), and serves as R's comparison before that; N is never referred.
// C's GP contacts: I − 40, I − 5, I + 10, I + 49 (the last day of follow-up as a
// comparison), I + 50 (the referral day) and I + 70.
const PERSONS: &str = "person_id,sex,birth_date,origin,death_date,emigration_date
C,F,1960-01-01,danish,,
N,M,1961-01-01,danish,,
R,F,1962-01-01,danish,,
";
const COVARIATES: &str = "person_id,year,municipality_code
C,2023,101
N,2023,101
R,2023,101
";
const REFERRALS: &str = "person_id,referral_date,practice_id
R,2024-03-15,GP1
C,2024-05-04,GP1
";
const CONTACTS: &str = "person_id,date,contact_type
C,2024-02-04,gp_consultation
C,2024-03-10,gp_consultation
C,2024-03-25,gp_consultation
C,2024-05-03,gp_consultation
C,2024-05-04,gp_consultation
C,2024-05-24,gp_consultation
N,2024-04-01,gp_consultation
";

fn registry() -> Registry {
    let mut paths = ExtractPaths::default();
    for (table, name, text) in [
        (TableName::Persons, "persons.csv", PERSONS),
        (TableName::Covariates, "covariates.csv", COVARIATES),
        (TableName::Referrals, "referrals.csv", REFERRALS),
        (TableName::Contacts, "contacts.csv", CONTACTS),
    ] {
        paths
            .embedded
            .insert(table, (name.to_string(), text.as_bytes()));
    }
    let extracts = validate(&paths, None).extracts;
    let gp = OutcomeGroup {
        name: "general_practice".into(),
        contact_types: vec!["gp_consultation".into()],
    };
    Registry::from_extracts(&extracts, &[gp], &[]).expect("registry")
}

fn index_date() -> i32 {
    days_from_civil(2024, 3, 15)
}

/// The matched set of R: R itself, C and N as its comparison persons, at R's index date.
fn cohort(registry: &Registry) -> Vec<CohortMember> {
    let person = |id: &str| registry.ids.iter().position(|p| p == id).expect("id") as u32;
    [
        ("R", Group::Referred),
        ("C", Group::Comparison),
        ("N", Group::Comparison),
    ]
    .into_iter()
    .enumerate()
    .map(|(row, (id, group))| CohortMember {
        person: person(id),
        group,
        matched_set: 0,
        index_date: index_date(),
        weight: 1.0,
        row,
    })
    .collect()
}

const WINDOW: PanelWindow = PanelWindow {
    period_days: 30,
    periods_before: 2,
    periods_after: 4,
};

/// The (period, count, exposure) rows of cohort member `m`.
fn rows_of(panel: &crate::data::panel::Panel, m: u32) -> Vec<(i32, f64, f64)> {
    (0..panel.member.len())
        .filter(|&i| panel.member[i] == m)
        .map(|i| (panel.period[i], panel.count[i], panel.exposure[i]))
        .collect()
}

#[test]
fn a_later_referred_comparison_person_is_censored_the_day_before_their_referral() {
    let registry = registry();
    let members = panel_members(&registry, &cohort(&registry));
    assert_eq!(members[0].censor, None, "the referred person");
    assert_eq!(members[1].censor, Some(index_date() + 50), "C");
    assert_eq!(members[2].censor, None, "N, never referred");
    let panel = person_periods(&registry, &members, 0, WINDOW, None);

    // C: periods −2 and −1 before the index date, 0 whole, 1 for the 20 days up to the
    // day before the referral; the contacts on the referral day and after it are not
    // counted, and periods 2 and 3 are not in the panel.
    let c = rows_of(&panel, 1);
    let want = [
        (-2, 1.0, 1.0),
        (-1, 1.0, 1.0),
        (0, 1.0, 1.0),
        (1, 1.0, 20.0 / 30.0),
    ];
    assert_eq!(c.len(), want.len(), "{c:?}");
    for (got, want) in c.iter().zip(want) {
        assert_eq!((got.0, got.1), (want.0, want.1));
        assert_close("exposure", got.2, want.2, EXACT);
    }
    let post_exposure: f64 = c.iter().filter(|r| r.0 >= 0).map(|r| r.2).sum();
    let post_events: f64 = c.iter().filter(|r| r.0 >= 0).map(|r| r.1).sum();
    assert_close("exposure after", post_exposure, 50.0 / 30.0, EXACT);
    assert_eq!(post_events, 2.0);

    // N and R keep the whole window: six periods of full exposure.
    for m in [0, 2] {
        let rows = rows_of(&panel, m);
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![-2, -1, 0, 1, 2, 3]
        );
        assert!(rows.iter().all(|r| r.2 == 1.0), "{rows:?}");
    }

    // Without the censoring, C would count 5 contacts over 4 periods after the index
    // date: the censored panel is not that one.
    let mut uncensored = members.clone();
    uncensored[1].censor = None;
    let whole = rows_of(&person_periods(&registry, &uncensored, 0, WINDOW, None), 1);
    assert_eq!(whole.len(), 6);
    assert_eq!(
        whole.iter().filter(|r| r.0 >= 0).map(|r| r.1).sum::<f64>(),
        4.0
    );
}

#[test]
fn the_matched_comparison_rate_after_the_index_date_stops_at_the_own_referral() {
    let registry = registry();
    let c = registry.ids.iter().position(|p| p == "C").expect("C") as u32;
    let members = [(c, index_date(), 1.0)];
    // 270 days after the index date, cut at the referral (day 50): contacts on days 10
    // and 49.
    let after = window_rate(&registry, 0, &members, false, true, 270, None);
    assert_close(
        "person-years after",
        after.person_years,
        50.0 / 365.25,
        EXACT,
    );
    assert_close("rate after", after.rate, 2.0 / (50.0 / 365.25), EXACT);
    // The window before the index date is untouched.
    let before = window_rate(&registry, 0, &members, true, true, 365, None);
    assert_close(
        "person-years before",
        before.person_years,
        365.0 / 365.25,
        EXACT,
    );
    assert_close("rate before", before.rate, 2.0 / (365.0 / 365.25), EXACT);
    // As a referred person's window (not censored), all 4 contacts of the 270 days.
    let whole = window_rate(&registry, 0, &members, false, false, 270, None);
    assert_close("uncensored rate", whole.rate, 4.0 / (270.0 / 365.25), EXACT);
}

#[test]
fn a_person_referred_later_enters_earlier_risk_sets_only_with_the_option() {
    let registry = registry();
    let c = registry.ids.iter().position(|p| p == "C").expect("C") as u32;
    let in_risk_set = |allow: bool| {
        let options = RiskSetOptions {
            allow_later_referred: allow,
            ..RiskSetOptions::default()
        };
        risk_sets(&registry, &options)
            .rows
            .iter()
            .filter(|r| r.person == c && !r.treated)
            .map(|r| r.month)
            .collect::<Vec<_>>()
    };
    // C is a comparison person in R's risk set of March 2024 only with the option; in
    // May 2024 C is referred.
    assert_eq!(in_risk_set(true), vec![2024 * 12 + 2]);
    assert!(in_risk_set(false).is_empty());
}
