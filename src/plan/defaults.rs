//! The SHINE study's plan: the defaults that `shine plan` prints and every key left out
//! of a plan file keeps.

use super::file::{
    Disclosure, Eligibility, Matching, OutcomeGroupPlan, Outcomes, PlanFile, Propensity,
    Sensitivity, Study, Survey,
};
use super::{ClusterBy, Plan, SurveyErrors, DEFAULT_THRESHOLD};
use crate::data::cohort::RiskSetOptions;
use crate::data::instruments::ValueSet;
use crate::data::panel::PanelWindow;

impl Default for Plan {
    /// The SHINE plan. Its values are fixed here and checked by a test, so making it
    /// cannot fail.
    fn default() -> Self {
        Plan::from_file(PlanFile::default()).expect("the default plan is valid")
    }
}

impl Default for PlanFile {
    fn default() -> Self {
        let sensitivity = |name: &str, label: &str| Sensitivity {
            name: name.into(),
            label: label.into(),
            caliper: None,
            ratio: None,
            cluster: None,
            complete_cases: None,
            covariates: None,
        };
        PlanFile {
            seed: 1,
            study: Study::default(),
            eligibility: Eligibility::default(),
            propensity: Propensity::default(),
            matching: Matching::default(),
            outcomes: Outcomes::default(),
            survey: Survey::default(),
            disclosure: Disclosure::default(),
            sensitivity: vec![
                Sensitivity {
                    caliper: Some(0.1),
                    ..sensitivity("caliper_0.1", "caliper 0.1 SD of the logit")
                },
                Sensitivity {
                    ratio: Some(1),
                    ..sensitivity("ratio_1", "1:1 matching")
                },
                Sensitivity {
                    cluster: Some(ClusterBy::Person),
                    ..sensitivity("cluster_person", "standard errors clustered by person")
                },
                Sensitivity {
                    complete_cases: Some(true),
                    ..sensitivity("complete_cases", "survey: complete cases only")
                },
            ],
        }
    }
}

impl Default for Study {
    fn default() -> Self {
        Study {
            catchment_municipalities: RiskSetOptions::default().catchment,
            referral_start: String::new(),
            referral_end: String::new(),
        }
    }
}

impl Default for Eligibility {
    fn default() -> Self {
        let r = RiskSetOptions::default();
        Eligibility {
            min_age: r.min_age,
            later_referred_as_comparison: r.allow_later_referred,
        }
    }
}

impl Default for Propensity {
    fn default() -> Self {
        let mut covariates: Vec<String> = [
            "age",
            "I(age^2)",
            "sex",
            "origin",
            "living_alone",
            "education",
            "income_quintile",
            "employment",
            "charlson_index",
            "psychiatric_diagnosis_5y",
        ]
        .map(String::from)
        .to_vec();
        covariates.extend(
            crate::data::cohort::default_outcome_groups()
                .iter()
                .map(|g| format!("prior_{}", g.name)),
        );
        covariates.push("index_month".into());
        Propensity {
            covariates,
            prior_use_days: RiskSetOptions::default().prior_days,
        }
    }
}

impl Default for Matching {
    fn default() -> Self {
        Matching {
            ratio: 5,
            caliper: 0.2,
            exact: vec!["sex".into()],
            reuse_comparisons: true,
        }
    }
}

impl Default for Outcomes {
    fn default() -> Self {
        let w = PanelWindow::default();
        Outcomes {
            period_days: w.period_days,
            periods_before: w.periods_before,
            periods_after: w.periods_after,
            cluster: ClusterBy::MatchedSet,
            linear_bootstrap: super::file::LinearBootstrap::Wild,
            bootstrap_weights: super::file::BootstrapWeights::Rademacher,
            bootstrap_reps: 9_999,
            groups: crate::data::cohort::default_outcome_groups()
                .into_iter()
                .map(|g| OutcomeGroupPlan {
                    name: g.name,
                    contact_types: g.contact_types,
                })
                .collect(),
            negative_controls: crate::data::cohort::default_negative_controls()
                .into_iter()
                .map(|g| OutcomeGroupPlan {
                    name: g.name,
                    contact_types: g.contact_types,
                })
                .collect(),
            placebo_periods: 6,
        }
    }
}

impl Default for Survey {
    fn default() -> Self {
        Survey {
            value_set: ValueSet::Dk5L,
            prorate_max_missing: 0,
            complete_cases: false,
            practice_random_effect: false,
            standard_errors: SurveyErrors::Robust,
        }
    }
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            threshold: DEFAULT_THRESHOLD,
            round_to: 1,
        }
    }
}
