//! The difference-in-differences stage of `analyse`: for each outcome group, on the
//! matched cohort's person-period panel,
//!
//! - the 2×2 DiD rate ratio: Poisson `count ~ treated_post | member + period` with
//!   offset log(exposure), weighted by the matching weights (MatchIt's ATT weights, as
//!   `fixest::fepois(..., weights = ~weights)` after `MatchIt::matchit`);
//! - the event study: `count ~ i(period, treated, ref = -1) | member + period`, and the
//!   joint pre-trend test of the periods before −1;
//! - the linear DiD on the rate per period (30 days), weighted by exposure times the
//!   matching weight;
//!
//! all with standard errors clustered by matched set (or by person), two-way by matched set
//! and person when a person is in more than one matched set.

use nalgebra::DMatrix;

use super::did_bootstrap::linear_wild_bootstrap;
use super::robustness::{negative_binomial_rate_ratio, rate_ratio_e_value};
use crate::data::cohort::Registry;
use crate::data::panel::{person_periods, Panel, PanelMember, PanelWindow};
use crate::plan::ClusterBy;
use crate::results::cohort::{CohortMember, Group, MatchedCohort};
use crate::results::did::{DidCoefficient, PretrendTest};
use crate::results::outcomes::{EventPoint, NegativeBinomial, OutcomeDid, Placebo, RawRate};
use crate::stats::fixest::{fit_fe, FeFamily, FeFit, FeModel, Vcov, WildBootstrapOptions};

#[derive(Debug, thiserror::Error)]
#[error("difference-in-differences, {outcome}: {message}")]
pub struct DidStageError {
    pub outcome: String,
    pub message: String,
}

/// Which outcomes a DiD stage analyses and which robustness analyses it adds.
#[derive(Debug, Clone, Copy)]
pub struct DidScope {
    pub outcomes: OutcomeSet,
    /// The negative binomial model and E-values of each rate ratio.
    pub negative_binomial: bool,
    /// The placebo index date this many periods back; 0 for none.
    pub placebo_periods: i32,
    /// The wild cluster bootstrap of the linear DiD, when asked for.
    pub linear_bootstrap: Option<WildBootstrapOptions>,
}

/// The outcome groups or the negative-control outcomes of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeSet {
    Groups,
    NegativeControls,
}

/// The DiD models of each outcome of `scope`, or why they could not be fitted.
pub fn did_each(
    registry: &Registry,
    cohort: &MatchedCohort,
    window: PanelWindow,
    extract: Option<(i32, i32)>,
    cluster: ClusterBy,
    scope: DidScope,
) -> Vec<Result<OutcomeDid, DidStageError>> {
    let members = panel_members(registry, &cohort.members);
    let weights: Vec<f64> = cohort.members.iter().map(|m| m.weight).collect();
    let (first, groups) = match scope.outcomes {
        OutcomeSet::Groups => (0, &registry.groups),
        OutcomeSet::NegativeControls => (registry.groups.len(), &registry.negative_controls),
    };
    let mut out = Vec::new();
    for (k, group) in groups.iter().enumerate() {
        let g = first + k;
        out.push((|| -> Result<OutcomeDid, DidStageError> {
            let err = |message: String| DidStageError {
                outcome: group.name.clone(),
                message,
            };
            let panel = person_periods(registry, &members, g, window, extract);
            if panel.member.is_empty() {
                return Err(err(
                    "the panel is empty: no member has follow-up inside the extract period".into(),
                ));
            }
            let fit = |x: DMatrix<f64>,
                       names: Vec<String>,
                       family: FeFamily|
             -> Result<FeFit, DidStageError> {
                fit_panel(
                    &panel, &members, &weights, x, &names, family, cluster, window,
                )
                .map_err(|e| err(e.to_string()))
            };
            let n = panel.member.len();
            let treated_post = DMatrix::from_iterator(
                n,
                1,
                (0..n).map(|i| {
                    f64::from(u8::from(
                        members[panel.member[i] as usize].treated && panel.period[i] >= 0,
                    ))
                }),
            );
            let first = |f: &FeFit, poisson: bool| {
                f.coefficients
                    .first()
                    .map(|c| DidCoefficient::new(c.clone(), poisson))
                    .ok_or_else(|| err("treated_post was dropped as collinear".into()))
            };
            let did = fit(
                treated_post.clone(),
                vec!["treated_post".into()],
                FeFamily::Poisson,
            )?;
            let linear = fit(
                treated_post.clone(),
                vec!["treated_post".into()],
                FeFamily::Gaussian,
            )?;
            let mut linear_coefficient = first(&linear, false)?;
            let linear_bootstrap = match &scope.linear_bootstrap {
                Some(options) => Some(
                    linear_wild_bootstrap(
                        &panel,
                        &members,
                        &weights,
                        &linear,
                        &treated_post,
                        cluster,
                        window,
                        options,
                        &mut linear_coefficient,
                    )
                    .map_err(|e| err(format!("wild cluster bootstrap of the linear DiD: {e}")))?,
                ),
                None => None,
            };

            let periods: Vec<i32> = (-window.periods_before..window.periods_after)
                .filter(|&p| p != -1)
                .collect();
            let names: Vec<String> = periods
                .iter()
                .map(|p| format!("rel_period::{p}:treated"))
                .collect();
            let mut x = DMatrix::zeros(n, periods.len());
            for i in 0..n {
                if members[panel.member[i] as usize].treated {
                    if let Some(j) = periods.iter().position(|&p| p == panel.period[i]) {
                        x[(i, j)] = 1.0;
                    }
                }
            }
            let event = fit(x, names, FeFamily::Poisson)?;
            let event_study: Vec<EventPoint> = event
                .coefficients
                .iter()
                .filter_map(|c| {
                    let p = c
                        .term
                        .strip_prefix("rel_period::")?
                        .split(':')
                        .next()?
                        .parse::<i32>()
                        .ok()?;
                    Some(EventPoint {
                        period: p,
                        estimate: c.estimate,
                        std_error: c.std_error,
                        rate_ratio: c.estimate.exp(),
                        conf_low: c.conf_low.exp(),
                        conf_high: c.conf_high.exp(),
                    })
                })
                .collect();
            let pre: Vec<String> = event_study
                .iter()
                .filter(|e| e.period < -1)
                .map(|e| format!("rel_period::{}:treated", e.period))
                .collect();
            let pretrend_test = if pre.is_empty() {
                None
            } else {
                let w = event
                    .wald_test(&pre)
                    .map_err(|e| err(format!("pre-trend test: {e}")))?;
                Some(PretrendTest {
                    terms: w.terms,
                    statistic: w.statistic,
                    df1: w.df1,
                    df2: w.df2,
                    p_value: w.p_value,
                    chi_squared: w.chi_squared,
                    chi_squared_p_value: w.chi_squared_p_value,
                })
            };
            let rate_ratio = first(&did, true)?;
            let negative_binomial = scope.negative_binomial.then(|| {
                match negative_binomial_rate_ratio(&panel, &members, &weights) {
                    Ok(fit) => NegativeBinomial::Fitted(fit),
                    Err(message) => NegativeBinomial::NotFitted {
                        not_fitted: message,
                    },
                }
            });
            let placebo = (scope.placebo_periods > 0).then(|| {
                match placebo_rate_ratio(
                    &panel,
                    &members,
                    &weights,
                    scope.placebo_periods,
                    cluster,
                    window,
                ) {
                    Ok(rate_ratio) => Placebo::Fitted {
                        periods: scope.placebo_periods,
                        rate_ratio,
                    },
                    Err(message) => Placebo::NotFitted {
                        not_fitted: message,
                    },
                }
            });
            Ok(OutcomeDid {
                outcome: group.name.clone(),
                raw_rates: raw_rates(&panel, &members, &weights, window),
                e_value: if scope.negative_binomial {
                    rate_ratio_e_value(&rate_ratio)
                } else {
                    None
                },
                negative_binomial,
                placebo,
                rate_ratio,
                linear: linear_coefficient,
                linear_bootstrap,
                event_study,
                pretrend_test,
                n_obs: did.n_obs,
                n_dropped: did.n_dropped,
            })
        })());
    }
    out
}

/// The cohort's members as the panel needs them. A comparison person referred later
/// (`eligibility.later_referred_as_comparison`) is censored at their own referral: their
/// follow-up and exposure end the day before it ([`Registry::comparison_censor`]), in
/// every model built on the panel (main, negative controls, placebo, negative binomial,
/// bootstrap, sensitivity analyses).
pub(super) fn panel_members(registry: &Registry, members: &[CohortMember]) -> Vec<PanelMember> {
    members
        .iter()
        .map(|m| {
            let treated = m.group == Group::Referred;
            PanelMember {
                person: m.person,
                treated,
                matched_set: m.matched_set as u32,
                index_date: m.index_date,
                censor: if treated {
                    None
                } else {
                    registry.comparison_censor(m.person)
                },
            }
        })
        .collect()
}

/// The placebo DiD: the index date moved `shift` periods back, on the panel's periods
/// before the real index date only — `count ~ treated_placebo_post | member + period`,
/// Poisson with offset log(exposure), weighted and clustered as the main model. With
/// no effect before referral its rate ratio is 1.
fn placebo_rate_ratio(
    panel: &Panel,
    members: &[PanelMember],
    weights: &[f64],
    shift: i32,
    cluster: ClusterBy,
    window: PanelWindow,
) -> Result<DidCoefficient, String> {
    let keep: Vec<usize> = (0..panel.member.len())
        .filter(|&i| panel.period[i] < 0)
        .collect();
    let before = Panel {
        member: keep.iter().map(|&i| panel.member[i]).collect(),
        period: keep.iter().map(|&i| panel.period[i]).collect(),
        count: keep.iter().map(|&i| panel.count[i]).collect(),
        exposure: keep.iter().map(|&i| panel.exposure[i]).collect(),
    };
    let n = before.member.len();
    let x = DMatrix::from_iterator(
        n,
        1,
        (0..n).map(|i| {
            f64::from(u8::from(
                members[before.member[i] as usize].treated && before.period[i] >= -shift,
            ))
        }),
    );
    let fit = fit_panel(
        &before,
        members,
        weights,
        x,
        &["treated_placebo_post".to_string()],
        FeFamily::Poisson,
        cluster,
        window,
    )
    .map_err(|e| e.to_string())?;
    fit.coefficients
        .first()
        .map(|c| DidCoefficient::new(c.clone(), true))
        .ok_or_else(|| "the placebo contrast was dropped as collinear".to_string())
}

/// A fixed-effects fit on the panel: member and period fixed effects; Poisson with
/// offset log(exposure), Gaussian on the rate per period weighted by exposure; both
/// weighted by the members' matching weights.
#[allow(clippy::too_many_arguments)]
fn fit_panel(
    panel: &Panel,
    members: &[PanelMember],
    member_weights: &[f64],
    x: DMatrix<f64>,
    names: &[String],
    family: FeFamily,
    cluster: ClusterBy,
    window: PanelWindow,
) -> Result<FeFit, crate::stats::fixest::FeError> {
    let fixed_effects = panel_fixed_effects(panel, window);
    let vcov = Vcov::Cluster(variance_clusters(panel, members, cluster));
    let model = FeModel::new(family);
    let weight: Vec<f64> = panel
        .member
        .iter()
        .map(|&m| member_weights[m as usize])
        .collect();
    match family {
        FeFamily::Poisson => {
            let offset: Vec<f64> = panel.exposure.iter().map(|e| e.ln()).collect();
            fit_fe(
                &panel.count,
                &x,
                names,
                &fixed_effects,
                Some(&weight),
                Some(&offset),
                &vcov,
                &model,
            )
        }
        FeFamily::Gaussian => {
            let (rate, weight) = linear_outcome(panel, &weight);
            fit_fe(
                &rate,
                &x,
                names,
                &fixed_effects,
                Some(&weight),
                None,
                &vcov,
                &model,
            )
        }
    }
}

/// The panel's fixed effects: member and period.
pub(super) fn panel_fixed_effects(panel: &Panel, window: PanelWindow) -> Vec<(String, Vec<u32>)> {
    vec![
        ("member".to_string(), panel.member.clone()),
        (
            "period".to_string(),
            panel
                .period
                .iter()
                .map(|&p| (p + window.periods_before) as u32)
                .collect(),
        ),
    ]
}

/// The clusters of the standard errors: each row's matched set or person.
pub(super) fn panel_clusters(
    panel: &Panel,
    members: &[PanelMember],
    cluster: ClusterBy,
) -> (String, Vec<u32>) {
    match cluster {
        ClusterBy::MatchedSet => (
            "matched_set".to_string(),
            panel
                .member
                .iter()
                .map(|&m| members[m as usize].matched_set)
                .collect(),
        ),
        ClusterBy::Person => ("person".to_string(), panel_persons(panel, members)),
    }
}

/// The person of each panel row (a person matched in several sets has one member in
/// each).
fn panel_persons(panel: &Panel, members: &[PanelMember]) -> Vec<u32> {
    panel
        .member
        .iter()
        .map(|&m| members[m as usize].person)
        .collect()
}

/// The clustering of the standard errors: by `cluster`, and two-way by matched set and
/// person when a person is in more than one matched set (comparison persons reused in
/// later risk sets, or a comparison person referred later), as
/// `fixest`'s `cluster = ~matched_set + person` (Cameron, Gelbach & Miller 2011): the
/// rows of one person in different sets overlap in calendar time and are correlated.
fn variance_clusters(
    panel: &Panel,
    members: &[PanelMember],
    cluster: ClusterBy,
) -> Vec<(String, Vec<u32>)> {
    let mut out = vec![panel_clusters(panel, members, cluster)];
    if cluster == ClusterBy::MatchedSet && person_in_several_sets(members) {
        out.push(("person".to_string(), panel_persons(panel, members)));
    }
    out
}

/// Whether some person is a member of more than one matched set.
fn person_in_several_sets(members: &[PanelMember]) -> bool {
    let mut persons: Vec<u32> = members.iter().map(|m| m.person).collect();
    persons.sort_unstable();
    persons.windows(2).any(|w| w[0] == w[1])
}

/// The linear DiD's outcome and weights: the rate per period, weighted by exposure
/// times the row's matching weight.
pub(super) fn linear_outcome(panel: &Panel, row_weights: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = panel.member.len();
    let rate = (0..n).map(|i| panel.count[i] / panel.exposure[i]).collect();
    let weight = (0..n).map(|i| row_weights[i] * panel.exposure[i]).collect();
    (rate, weight)
}

/// Contacts per person per period by group and period: sums of (weighted) contacts over
/// sums of (weighted) exposure.
fn raw_rates(
    panel: &Panel,
    members: &[PanelMember],
    weights: &[f64],
    window: PanelWindow,
) -> Vec<RawRate> {
    let periods = (window.periods_before + window.periods_after) as usize;
    let mut sums = vec![[0.0f64; 4]; periods];
    for i in 0..panel.member.len() {
        let m = panel.member[i] as usize;
        let slot = &mut sums[(panel.period[i] + window.periods_before) as usize];
        let (w, k) = if members[m].treated {
            (1.0, 0)
        } else {
            (weights[m], 2)
        };
        slot[k] += w * panel.count[i];
        slot[k + 1] += w * panel.exposure[i];
    }
    sums.iter()
        .enumerate()
        .map(|(j, s)| RawRate {
            period: j as i32 - window.periods_before,
            referred: if s[1] > 0.0 { s[0] / s[1] } else { f64::NAN },
            comparison: if s[3] > 0.0 { s[2] / s[3] } else { f64::NAN },
        })
        .collect()
}

#[cfg(test)]
mod tests;
