//! Our matchings against MatchIt 4.7.2's, run for run (the current reference:
//! tests/reference/matching/matchit_4.7.2/, made by matching_4.7.2.R). The matched
//! sets must be the same controls, by row, for every treated unit — ties between
//! controls at equal distance included — and the weights, counts and balance
//! statistics the same numbers.

use std::collections::BTreeMap;

use super::matchit::{check_balance, check_subclasses, params_of};
use super::sets;
use crate::stats::balance::reference::{load, num, text, Case, RUNS_472};
use crate::stats::balance::sample_sizes;
use crate::stats::matching::*;
use crate::test_support::{close_within, EXACT};

/// Treated rows whose set of controls differs from MatchIt's match matrix, with
/// ours and MatchIt's.
type Differences = Vec<(usize, Vec<usize>, Vec<usize>)>;

/// A run with its distances read exactly: serde_json's default float parsing may be
/// an ulp off (189 of the 1,566 nhefs distances), and on the tie designs, where many
/// gaps between different pairs of covariate patterns are equal to the last bit,
/// closest/farthest order the pairs by those bits as R computed them.
fn load_exact(run: &str) -> Case {
    let mut case = load(run);
    let raw = text(run);
    let units = raw.find("\"units\"").expect("units");
    let start = units + raw[units..].find("\"distance\": [").expect("distance") + 13;
    let end = start + raw[start..].find(']').expect("end of distance");
    let exact: Vec<f64> = raw[start..end]
        .split(',')
        .map(|x| x.trim().parse::<f64>().expect("number"))
        .collect();
    assert_eq!(exact.len(), case.distance.len(), "{run}");
    case.distance = exact;
    case
}

fn differing_sets(run: &str) -> Differences {
    let case = load_exact(run);
    let m = params_of(&case)
        .fit(&MatchInput::new(&case.distance, &case.treated))
        .unwrap_or_else(|e| panic!("{run}: {e}"));
    let sorted = |v: &[usize]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v
    };
    let ours: BTreeMap<usize, Vec<usize>> = sets(&m);
    case.match_matrix
        .iter()
        .filter_map(|(t, want)| {
            let got = sorted(ours.get(t).map(Vec::as_slice).unwrap_or_default());
            let want = sorted(want);
            (got != want).then_some((*t, got, want))
        })
        .collect()
}

/// One 4.7.2 run: identical matched sets, then everything derived from them.
fn check_run(run: &str) {
    let differences = differing_sets(run);
    assert!(
        differences.is_empty(),
        "{run}: {} treated units matched differently, e.g. (treated row, ours, MatchIt) {:?}",
        differences.len(),
        &differences[..differences.len().min(3)]
    );
    let case = load_exact(run);
    let m = params_of(&case)
        .fit(&MatchInput::new(&case.distance, &case.treated))
        .expect("fit");
    match (m.caliper_width, num(&case.json["caliper_distance_units"])) {
        (Some(g), Some(r)) => assert!(close_within(g, r, EXACT, 0.0), "{run}: caliper {g} vs {r}"),
        (None, None) => {}
        (g, r) => panic!("{run}: caliper {g:?} vs {r:?}"),
    }
    let sizes = &case.json["sample_sizes"];
    let count = |g: &str| sizes[g]["matched"].as_u64().expect("count") as usize;
    assert_eq!(
        m.n_treated_matched,
        count("treated"),
        "{run}: matched treated"
    );
    assert_eq!(
        m.n_controls_matched,
        count("control"),
        "{run}: matched controls"
    );
    let ess = sample_sizes(&case.treated, &m.weights).expect("sizes");
    let want = sizes["control"]["matched_ess"].as_f64().expect("ess");
    assert!(
        close_within(ess.control.matched_ess, want, EXACT, 0.0),
        "{run}: ESS"
    );
    for (i, (&g, &r)) in m.weights.iter().zip(&case.weights).enumerate() {
        assert!(
            close_within(g, r, EXACT, 0.0),
            "{run}: weight of {} is {g}, MatchIt {r}",
            case.ids[i]
        );
    }
    let warnings = case.json["warnings"].as_array().map_or(0, Vec::len);
    assert_eq!(m.warnings.len(), warnings, "{run}: warnings");
    check_balance(run, &case, &m, false);
    check_subclasses(run, &m);
}

#[test]
fn every_matchit_472_run_is_checked() {
    assert_eq!(RUNS_472.len(), 54);
    let orders: Vec<String> = RUNS_472.iter().map(|(run, _)| load(run).order).collect();
    for order in ["largest", "smallest", "data", "closest", "farthest"] {
        assert!(
            orders.iter().any(|o| o == order),
            "no run with order {order}"
        );
    }
}

macro_rules! matchit_472 {
    ($($test:ident: $run:literal;)*) => {
        $(
            #[test]
            fn $test() {
                check_run(concat!("matchit_4.7.2/", $run));
            }
        )*
        /// The list above names every stored run.
        #[test]
        fn the_test_list_is_complete() {
            let mut listed = vec![$(concat!("matchit_4.7.2/", $run)),*];
            listed.sort_unstable();
            let mut stored: Vec<&str> = RUNS_472.iter().map(|(n, _)| *n).collect();
            stored.sort_unstable();
            assert_eq!(listed, stored);
        }
    };
}

matchit_472! {
    lalonde_r1_cal02_norepl: "lalonde_r1_cal0.2_norepl";
    lalonde_r1_cal02_norepl_closest: "lalonde_r1_cal0.2_norepl_closest";
    lalonde_r1_cal02_norepl_farthest: "lalonde_r1_cal0.2_norepl_farthest";
    lalonde_r1_cal02_repl: "lalonde_r1_cal0.2_repl";
    lalonde_r1_nocal_norepl: "lalonde_r1_nocal_norepl";
    lalonde_r1_nocal_norepl_closest: "lalonde_r1_nocal_norepl_closest";
    lalonde_r1_nocal_norepl_data: "lalonde_r1_nocal_norepl_data";
    lalonde_r1_nocal_norepl_farthest: "lalonde_r1_nocal_norepl_farthest";
    lalonde_r1_nocal_norepl_smallest: "lalonde_r1_nocal_norepl_smallest";
    lalonde_r1_nocal_repl: "lalonde_r1_nocal_repl";
    lalonde_r3_cal02_norepl: "lalonde_r3_cal0.2_norepl";
    lalonde_r3_cal02_norepl_closest: "lalonde_r3_cal0.2_norepl_closest";
    lalonde_r3_cal02_norepl_data: "lalonde_r3_cal0.2_norepl_data";
    lalonde_r3_cal02_norepl_farthest: "lalonde_r3_cal0.2_norepl_farthest";
    lalonde_r3_cal02_norepl_smallest: "lalonde_r3_cal0.2_norepl_smallest";
    lalonde_r3_cal02_repl: "lalonde_r3_cal0.2_repl";
    lalonde_r3_nocal_norepl: "lalonde_r3_nocal_norepl";
    lalonde_r3_nocal_norepl_closest: "lalonde_r3_nocal_norepl_closest";
    lalonde_r3_nocal_norepl_farthest: "lalonde_r3_nocal_norepl_farthest";
    lalonde_r3_nocal_repl: "lalonde_r3_nocal_repl";
    lalonde_ties_r1_nocal_norepl: "lalonde_ties_r1_nocal_norepl";
    lalonde_ties_r1_nocal_norepl_closest: "lalonde_ties_r1_nocal_norepl_closest";
    lalonde_ties_r1_nocal_norepl_data: "lalonde_ties_r1_nocal_norepl_data";
    lalonde_ties_r1_nocal_repl: "lalonde_ties_r1_nocal_repl";
    lalonde_ties_r3_cal02_norepl: "lalonde_ties_r3_cal0.2_norepl";
    lalonde_ties_r3_nocal_norepl_farthest: "lalonde_ties_r3_nocal_norepl_farthest";
    lalonde_ties_r3_nocal_repl: "lalonde_ties_r3_nocal_repl";
    nhefs_r1_cal02_norepl: "nhefs_r1_cal0.2_norepl";
    nhefs_r1_cal02_norepl_closest: "nhefs_r1_cal0.2_norepl_closest";
    nhefs_r1_cal02_norepl_farthest: "nhefs_r1_cal0.2_norepl_farthest";
    nhefs_r1_cal02_repl: "nhefs_r1_cal0.2_repl";
    nhefs_r1_nocal_norepl: "nhefs_r1_nocal_norepl";
    nhefs_r1_nocal_norepl_closest: "nhefs_r1_nocal_norepl_closest";
    nhefs_r1_nocal_norepl_data: "nhefs_r1_nocal_norepl_data";
    nhefs_r1_nocal_norepl_farthest: "nhefs_r1_nocal_norepl_farthest";
    nhefs_r1_nocal_norepl_smallest: "nhefs_r1_nocal_norepl_smallest";
    nhefs_r1_nocal_repl: "nhefs_r1_nocal_repl";
    nhefs_r3_cal02_norepl: "nhefs_r3_cal0.2_norepl";
    nhefs_r3_cal02_norepl_closest: "nhefs_r3_cal0.2_norepl_closest";
    nhefs_r3_cal02_norepl_data: "nhefs_r3_cal0.2_norepl_data";
    nhefs_r3_cal02_norepl_farthest: "nhefs_r3_cal0.2_norepl_farthest";
    nhefs_r3_cal02_norepl_smallest: "nhefs_r3_cal0.2_norepl_smallest";
    nhefs_r3_cal02_repl: "nhefs_r3_cal0.2_repl";
    nhefs_r3_nocal_norepl: "nhefs_r3_nocal_norepl";
    nhefs_r3_nocal_norepl_closest: "nhefs_r3_nocal_norepl_closest";
    nhefs_r3_nocal_norepl_farthest: "nhefs_r3_nocal_norepl_farthest";
    nhefs_r3_nocal_repl: "nhefs_r3_nocal_repl";
    nhefs_ties_r1_nocal_norepl: "nhefs_ties_r1_nocal_norepl";
    nhefs_ties_r1_nocal_norepl_closest: "nhefs_ties_r1_nocal_norepl_closest";
    nhefs_ties_r1_nocal_norepl_data: "nhefs_ties_r1_nocal_norepl_data";
    nhefs_ties_r1_nocal_repl: "nhefs_ties_r1_nocal_repl";
    nhefs_ties_r3_cal02_norepl: "nhefs_ties_r3_cal0.2_norepl";
    nhefs_ties_r3_nocal_norepl_farthest: "nhefs_ties_r3_nocal_norepl_farthest";
    nhefs_ties_r3_nocal_repl: "nhefs_ties_r3_nocal_repl";
}
