//! `report.html`: one self-contained file (inline CSS and SVG figures, no scripts, no
//! links out), readable offline on a secure research server.

use std::fmt::Write as _;

use super::did::label as outcome_label;
use super::disclosure::Rule;
use super::figures::Figure;
use super::table::ResultTable;
use crate::data::instruments::ValueSet;
use crate::plan::{ClusterBy, Plan, SurveyErrors};
use crate::results::analysis::{AnalysisRun, Estimand};
use crate::results::cohort::CohortCounts;

/// Versions of the numerical dependencies, from Cargo.lock at build time.
pub const DEPENDENCIES: &str = env!("SHINE_DEPENDENCIES");

/// Everything the report shows; tables and figures as already built for the folder.
pub struct Report<'a> {
    pub plan: &'a Plan,
    pub tables: &'a [ResultTable],
    pub figures: &'a [(String, Figure)],
    pub main: &'a AnalysisRun,
    pub sensitivity: &'a [AnalysisRun],
    pub cohort: &'a CohortCounts,
    /// The disclosure rule (suppression, rounding) of every count shown.
    pub rule: Rule,
    pub software: String,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em}h2{font-size:1.3em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em}\
table{border-collapse:collapse;margin:.8em 0;font-size:.8em}th,td{border:1px solid #ccc;padding:.2em .35em;text-align:left;vertical-align:top}\
th,td:first-child{overflow-wrap:anywhere}td:first-child{min-width:8em}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}p.note{font-size:.8em;color:#555;margin:.2em 0}\
figure{margin:1em 0}figure svg{width:100%;max-width:660px;height:auto}figcaption{font-size:.85em;color:#444}\
.summary li{margin:.3em 0}.wide{overflow-x:auto}nav ol{columns:2;font-size:.9em}\
@page{size:A4;margin:18mm 15mm}\
@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.35}nav{display:none}\
h2{break-before:page;border-bottom:none}h2#summary{break-before:auto}h2,h3{break-after:avoid}\
figure,tr,p.note{break-inside:avoid}table{break-inside:auto;font-size:8.5pt}thead{display:table-header-group}\
.wide{overflow:visible}a{color:inherit;text-decoration:none}th{background:none}figure svg{width:auto;max-width:100%}}";

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

impl Report<'_> {
    fn table(&self, name: &str) -> Option<&ResultTable> {
        self.tables.iter().find(|t| t.name == name)
    }

    fn figure(&self, name: &str) -> Option<&Figure> {
        self.figures.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    fn push_table(&self, out: &mut String, name: &str) {
        let Some(table) = self.table(name) else {
            return;
        };
        let protected = table.protected(self.rule.threshold);
        let cells = table.rendered(self.rule);
        let _ = write!(
            out,
            "<h3 id=\"table-{}\">{}</h3>\n<div class=\"wide\"><table>\n<thead><tr>",
            escape(&table.name),
            escape(&table.title)
        );
        for c in &table.columns {
            // Snake-case column names may wrap after an underscore.
            let _ = write!(out, "<th>{}</th>", escape(c).replace('_', "_<wbr>"));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &cells {
            out.push_str("<tr>");
            for cell in row {
                let numeric = cell
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '<' || c == '−');
                let class = if numeric { " class=\"n\"" } else { "" };
                let _ = write!(out, "<td{class}>{}</td>", escape(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
        for note in protected.notes_after_disclosure(self.rule) {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&note));
        }
    }

    fn push_figure(&self, out: &mut String, name: &str, caption: &str) {
        let Some(figure) = self.figure(name) else {
            return;
        };
        let svg = figure
            .svg
            .trim_start_matches(|c| c != '<')
            .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .trim();
        let _ = write!(
            out,
            "<figure id=\"figure-{}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(name),
            escape(caption)
        );
    }

    fn summary(&self) -> String {
        let mut out = String::from("<ul class=\"summary\">\n");
        let c = &self.main.cohort.flow;
        let count = |n: usize| self.rule.count_text(n as u64);
        let _ = writeln!(
            out,
            "<li>{} referred persons were matched to {} comparison persons from the registers (1:{} risk-set matching; a comparison person is counted once per matched set they are in).</li>",
            count(c.referred_matched),
            count(c.comparison_matched),
            self.main.settings.ratio
        );
        for e in self.main.key_estimates() {
            let survey = |what: &str, wave: i64| {
                let d = if e.outcome == "eq5d5l_index" { 3 } else { 2 };
                format!(
                    "{}: {what} at {wave} months {:.d$} (95% CI {:.d$} to {:.d$}).",
                    outcome_label(&e.outcome),
                    e.estimate,
                    e.conf_low,
                    e.conf_high
                )
            };
            let text = match e.estimand {
                Estimand::RateRatio => format!(
                    "{}: rate ratio for the change after referral {:.2} (95% CI {:.2} to {:.2}).",
                    outcome_label(&e.outcome),
                    e.estimate,
                    e.conf_low,
                    e.conf_high
                ),
                Estimand::Change { wave } => survey("change from baseline", wave),
                Estimand::DifferenceInChange { wave } => {
                    survey("difference between groups in the change", wave)
                }
            };
            let _ = writeln!(out, "<li>{}</li>", escape(&text));
        }
        out.push_str("</ul>\n");
        out
    }

    /// The methods paragraph, written from the resolved plan.
    fn methods(&self) -> String {
        let p = self.plan;
        let catchment: Vec<String> = p
            .study
            .catchment_municipalities
            .iter()
            .map(i64::to_string)
            .collect();
        let caliper = match p.matching.caliper {
            Some(c) => format!(
                "within a caliper of {} standard deviations of the linear logit (Austin 2011)",
                c.width()
            ),
            None => "without a caliper".to_string(),
        };
        let exact = if p.matching.exact.is_empty() {
            String::new()
        } else {
            format!(", exactly on {}", p.matching.exact.join(", "))
        };
        let cluster = match p.outcomes.cluster {
            ClusterBy::MatchedSet => "matched set",
            ClusterBy::Person => "person",
        };
        let groups: Vec<String> = p
            .outcomes
            .groups
            .iter()
            .map(|g| format!("{} ({})", g.name, g.contact_types.join(", ")))
            .collect();
        let random = if p.survey.practice_random_effect {
            "(1 | practice_id/person_id)"
        } else {
            "(1 | person_id)"
        };
        let value_set = match p.survey.value_set {
            ValueSet::Dk5L => "EQ-5D-5L index with the Danish value set (Jensen et al. 2021)",
            ValueSet::Dk3L => {
                "EQ-5D-3L index with the Danish TTO value set (Wittrup-Jensen et al. 2009)"
            }
        };
        let sensitivity: Vec<String> = p.sensitivity.iter().map(|s| s.label.clone()).collect();
        let mut text = format!(
            "Each referred person was matched at the month of referral (risk-set matching; Li, Propert and Rosenbaum 2001) to persons who had not been referred, were at least {min_age} years old, alive and resident, and lived in municipality {catchment} according to the register snapshot of the preceding year{later}. \
             Propensity scores were estimated by one logistic regression over the stacked monthly risk sets with {covariates}, all measured as of the first day of the month of the risk set, with prior healthcare use counted over the {prior} days before it. \
             Comparison person-months with a covariate level that no referred person had were removed (common support). \
             Referred persons were matched 1:{ratio} by greedy nearest-neighbour matching on the linear logit{exact}, {caliper}, {reuse}; comparison persons took the index date of the person they were matched to. \
             Balance was assessed by standardised mean differences (threshold 0.1). ",
            min_age = p.eligibility.min_age,
            catchment = catchment.join(", "),
            later = if p.eligibility.later_referred_as_comparison {
                "; persons referred later could serve as comparison persons until the day before their own referral, where their follow-up as comparison persons was censored (Lu 2005)"
            } else {
                ""
            },
            covariates = p.propensity.covariates.terms().join(", "),
            prior = p.propensity.prior_use_days,
            ratio = p.matching.ratio,
            reuse = if p.matching.reuse_comparisons {
                "each month's comparison persons drawn from everyone at risk that month, so that a person could be matched again in a later month (as incidence-density sampling does; Lubin and Gail 1984), with standard errors then clustered two-way by matched set and person"
            } else {
                "without replacement across risk sets taken in calendar order"
            },
        );
        let _ = write!(
            text,
            "Healthcare contacts were counted in {period}-day periods, {before} before and {after} after the index date, for the outcome groups {groups}. \
             The change after referral was estimated by Poisson regression with person and period fixed effects and the log of the time under observation as offset (difference-in-differences, reported as rate ratios), with matching weights and standard errors clustered by {cluster}; an event study with period −1 as reference gave the pre-trend test (joint Wald test of the earlier periods). \
             Survey outcomes (UCLA-3 loneliness; {value_set}; EQ VAS) were analysed with linear mixed models, score ~ factor(wave) + age + sex + {random}, fitted by REML on all available responses{cc}; changes from baseline are reported with {errors}. \
             Sensitivity analyses: {sensitivity}. \
             Counts below {threshold} are suppressed in all outputs, with complementary suppression where a total would reveal them. ",
            period = p.outcomes.period_days,
            before = p.outcomes.periods_before,
            after = p.outcomes.periods_after,
            groups = groups.join("; "),
            cc = if p.survey.complete_cases {
                " of persons who answered every wave"
            } else {
                " (valid under missingness at random)"
            },
            sensitivity = if sensitivity.is_empty() {
                "none".to_string()
            } else {
                sensitivity.join("; ")
            },
            threshold = p.disclosure.threshold,
            errors = match p.survey.standard_errors {
                SurveyErrors::Robust => "cluster-robust standard errors by person (by practice with the practice random effect) with the CR2 bias-reduced correction and Satterthwaite degrees of freedom (Liang and Zeger 1986; Bell and McCaffrey 2002; Pustejovsky and Tipton 2018)",
                SurveyErrors::RobustCr1 => "cluster-robust (CR1) standard errors by person (by practice with the practice random effect; Liang and Zeger 1986) and t intervals on clusters − 1 degrees of freedom",
                SurveyErrors::Model => "model-based standard errors and Satterthwaite degrees of freedom (Kuznetsova et al. 2017)",
                SurveyErrors::ModelKenwardRoger => "model-based standard errors and degrees of freedom with the Kenward-Roger small-sample adjustment (Kenward and Roger 1997; Halekoh and Højsgaard 2014)",
            },
        );
        if self.rule.rounds() {
            let _ = write!(
                text,
                "The counts that are shown were then rounded to the nearest multiple of {base} (conventional rounding, a half base rounded up; Hundepool et al. 2010), every cell and every total on its own, so parts need not add up to their totals; percentages, means, weighted sums that are not whole and all estimates were computed from the unrounded data. ",
                base = self.rule.round_to
            );
        }
        if let Some(b) = p.linear_bootstrap_options() {
            let _ = write!(
                text,
                "The linear difference-in-differences (contacts per person per 30 days, weighted by exposure and the matching weights) was also tested with the restricted wild cluster bootstrap (null imposed; Cameron, Gelbach and Miller 2008; Roodman et al. 2019), clustered as its standard errors, with {:?} weights and {} draws, the interval by test inversion; the weighted model was bootstrapped as least squares on data multiplied by the square root of the weights. ",
                b.weights, b.reps
            );
        }
        let _ = write!(
            text,
            "Analyses were run with {} ({DEPENDENCIES}); the propensity model, matching, fixed-effects regression and mixed models reproduce R's glm and MatchIt (Ho et al. 2011), fixest (Bergé 2018) and lme4/lmerTest (Bates et al. 2015) to numerical precision on reference data sets. Seed {}.",
            self.software, p.seed
        );
        text
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>SHINE: results of the matched analysis</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>SHINE: effect of social prescribing on healthcare use, loneliness and quality of life</h1>\n<p>{} persons in the extract, {} referred; {}.</p>\n",
            self.rule.count_text(self.cohort.persons),
            self.rule.count_text(self.cohort.referred),
            escape(&self.software)
        );
        out.push_str("<nav><ol><li><a href=\"#summary\">Summary</a></li><li><a href=\"#flow\">Flow of participants</a></li><li><a href=\"#table1\">Table 1 and balance</a></li><li><a href=\"#did\">Healthcare use</a></li><li><a href=\"#survey\">Loneliness and quality of life</a></li><li><a href=\"#sensitivity\">Sensitivity analyses</a></li><li><a href=\"#methods\">Methods</a></li><li><a href=\"#appendix\">Appendix</a></li></ol></nav>\n");
        out.push_str("<h2 id=\"summary\">Summary of the main results</h2>\n");
        out.push_str(&self.summary());

        out.push_str("<h2 id=\"flow\">Flow of participants</h2>\n");
        self.push_figure(
            &mut out,
            "flow",
            "From referral to the matched cohort (STROBE), with exclusions and their reasons.",
        );
        self.push_table(&mut out, "flow");

        out.push_str("<h2 id=\"table1\">Table 1 and covariate balance</h2>\n");
        self.push_table(&mut out, "table_one");
        self.push_figure(
            &mut out,
            "love_plot",
            "Absolute standardised mean differences before and after matching; 0.1 marked.",
        );
        self.push_figure(
            &mut out,
            "ps_distribution",
            "Distribution of the linear propensity score, referred and comparison persons, before and after matching.",
        );
        self.push_table(&mut out, "balance");

        out.push_str("<h2 id=\"did\">Healthcare use: difference-in-differences</h2>\n");
        self.push_table(&mut out, "did_rate_ratios");
        for o in &self.main.did {
            let label = outcome_label(&o.outcome);
            self.push_figure(
                &mut out,
                &format!("event_study_{}", o.outcome),
                &format!("Event study, {label}: rate ratio per 30-day period relative to period −1, 95% CI."),
            );
            self.push_figure(
                &mut out,
                &format!("raw_rates_{}", o.outcome),
                &format!("Observed rates, {label}: contacts per person per period, referred and matched comparison persons."),
            );
        }
        self.push_table(&mut out, "did_linear");
        self.push_table(&mut out, "did_linear_bootstrap");
        self.push_table(&mut out, "naive_vs_matched");

        out.push_str("<h2 id=\"survey\">Loneliness and quality of life</h2>\n");
        self.push_table(&mut out, "survey_by_wave");
        self.push_table(&mut out, "survey_changes");
        for o in &self.main.survey {
            self.push_figure(
                &mut out,
                &format!("trajectory_{}", o.outcome),
                &format!(
                    "Model-based mean by wave, {}, 95% CI.",
                    outcome_label(&o.outcome)
                ),
            );
        }

        self.push_table(&mut out, "participation");
        self.push_table(&mut out, "participation_dose_response");

        out.push_str("<h2 id=\"sensitivity\">Sensitivity analyses</h2>\n");
        self.push_table(&mut out, "sensitivity");
        self.push_table(&mut out, "robustness");
        self.push_figure(
            &mut out,
            "forest",
            "Every estimate of each outcome: the main rate ratio, each sensitivity analysis, the negative binomial model and the placebo index date (expected 1) on a log scale with 95% CI and the E-values of the main estimate and of its CI limit closer to 1; below each outcome, the linear DiD with its cluster-robust (CR1) and wild cluster bootstrap 95% intervals and the bootstrap p-value; last, the negative-control outcomes (expected 1).",
        );
        self.push_table(&mut out, "negative_controls");

        out.push_str("<h2 id=\"methods\">Methods</h2>\n");
        let _ = writeln!(out, "<p>{}</p>", escape(&self.methods()));

        out.push_str("<h2 id=\"appendix\">Appendix</h2>\n");
        for name in [
            "ps_model",
            "event_study",
            "extract_counts",
            "score_completeness",
        ] {
            self.push_table(&mut out, name);
        }
        out.push_str(&super::strobe::html());
        out.push_str("</body>\n</html>\n");
        out
    }
}
