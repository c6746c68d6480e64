//! The STROBE checklist for cohort studies (von Elm et al. 2007; 22 items) as an
//! appendix table of the report: for each item, where the report answers it, or that it
//! is for the authors to write. The item descriptions are short paraphrases; the full
//! wording is in the published checklist.

use std::fmt::Write as _;

/// Where an item is answered: a section or table of the report (its anchor and name),
/// or nothing (the authors write it).
type Answer = &'static [(&'static str, &'static str)];

/// The 22 items: number, section, what the item asks, and where the report answers it.
pub const ITEMS: [(&str, &str, &str, Answer); 22] = [
    ("1", "Title and abstract", "Name the design in the title or abstract; give an informative, balanced abstract.", &[]),
    ("2", "Background/rationale", "Scientific background and rationale for the study.", &[]),
    ("3", "Objectives", "Specific objectives, including any prespecified hypotheses.", &[]),
    ("4", "Study design", "Key elements of the design, early in the paper.", &[("methods", "Methods: risk-set matched cohort, difference-in-differences")]),
    ("5", "Setting", "Setting, locations and relevant dates (recruitment, exposure, follow-up, data collection).", &[("methods", "Methods: catchment and outcome periods"), ("table-extract_counts", "extract counts")]),
    ("6", "Participants", "Eligibility criteria, sources and selection of participants, follow-up; for matched studies the matching criteria and number of unexposed per exposed.", &[("methods", "Methods: eligibility and 1:k matching"), ("flow", "flow of participants")]),
    ("7", "Variables", "Define outcomes, exposures, predictors, confounders and effect modifiers.", &[("methods", "Methods: covariates, outcome groups, survey scores"), ("table-ps_model", "propensity model")]),
    ("8", "Data sources/measurement", "Sources of data and methods of measurement for each variable; comparability across groups.", &[("methods", "Methods: registers, survey instruments and value sets")]),
    ("9", "Bias", "Efforts to address potential sources of bias.", &[("table1", "covariate balance"), ("sensitivity", "sensitivity analyses"), ("table-event_study", "event study (pre-trends)")]),
    ("10", "Study size", "How the study size was arrived at.", &[("flow", "flow of participants (size given; its justification is the authors')")]),
    ("11", "Quantitative variables", "How quantitative variables were handled; groupings and why.", &[("methods", "Methods: periods, prior use window, covariate terms")]),
    ("12", "Statistical methods", "All statistical methods incl. confounding control, subgroups and interactions, missing data, loss to follow-up, matching, sensitivity analyses.", &[("methods", "Methods"), ("sensitivity", "sensitivity analyses")]),
    ("13", "Participants", "Numbers at each stage, reasons for non-participation; flow diagram.", &[("flow", "flow diagram and table")]),
    ("14", "Descriptive data", "Characteristics of participants; missing data per variable; follow-up time.", &[("table-table_one", "Table 1"), ("table-survey_by_wave", "survey responses by wave"), ("table-score_completeness", "score completeness")]),
    ("15", "Outcome data", "Numbers of outcome events or summary measures over time.", &[("did", "observed rates by period"), ("table-survey_by_wave", "survey means by wave")]),
    ("16", "Main results", "Unadjusted and adjusted estimates with precision (95% CI); confounders adjusted for; absolute risk where meaningful.", &[("table-did_rate_ratios", "rate ratios"), ("table-naive_vs_matched", "naive vs matched"), ("table-survey_changes", "survey changes")]),
    ("17", "Other analyses", "Other analyses done: subgroups, interactions, sensitivity analyses.", &[("sensitivity", "sensitivity and robustness tables")]),
    ("18", "Key results", "Summarise key results with reference to the objectives.", &[("summary", "summary of the main results (the discussion is the authors')")]),
    ("19", "Limitations", "Limitations, sources of bias or imprecision, their direction and size.", &[]),
    ("20", "Interpretation", "Cautious overall interpretation in the light of objectives, limitations, other analyses and evidence.", &[]),
    ("21", "Generalisability", "External validity of the results.", &[]),
    ("22", "Funding", "Sources of funding and role of funders.", &[]),
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The checklist as an HTML section of the appendix.
pub fn html() -> String {
    let mut out = String::from(
        "<h3 id=\"strobe\">STROBE checklist for cohort studies</h3>\n<div class=\"wide\"><table class=\"strobe\">\n<thead><tr><th>Item</th><th>Section</th><th>Recommendation (abridged)</th><th>Where this report answers it</th></tr></thead>\n<tbody>\n",
    );
    for (number, section, asks, answer) in ITEMS {
        let where_ = if answer.is_empty() {
            "<em>For the authors to write.</em>".to_string()
        } else {
            answer
                .iter()
                .map(|(anchor, name)| format!("<a href=\"#{anchor}\">{}</a>", escape(name)))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{number}</td><td>{}</td><td>{}</td><td>{where_}</td></tr>",
            escape(section),
            escape(asks)
        );
    }
    out.push_str("</tbody>\n</table></div>\n<p class=\"note\">STROBE: von Elm E, Altman DG, Egger M, et al. The Strengthening the Reporting of Observational Studies in Epidemiology (STROBE) statement. Lancet 2007;370:1453–7. Items 1–3 and 19–22 are the authors' to write; for items 10 and 18 the report gives the numbers and the authors the argument.</p>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checklist_has_the_22_items_in_order() {
        let numbers: Vec<u32> = ITEMS.iter().map(|i| i.0.parse().expect("number")).collect();
        assert_eq!(numbers, (1..=22).collect::<Vec<_>>());
        let html = html();
        assert_eq!(html.matches("<tr><td class=\"n\">").count(), 22);
        assert_eq!(html.matches("For the authors to write").count(), 7);
    }
}
