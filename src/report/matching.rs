//! Tables and figures of a propensity-score matching, and the printout of `shine match`:
//! the summary, the JSON report and the results folder.

use serde::Serialize;

use crate::results::matching::{serialize_ps_model, MatchAnalysis, MatchResult, UnitId};
use crate::stats::balance::BalanceRow;
use crate::stats::coefficient::Coefficient;
use crate::stats::matching::MatchOrder;

use super::disclosure::{self, derived::withheld_means};
use super::figures::{self, Figure, FigureError, LovePoint, ScoreSample};
use super::manifest::{OutputFile, SHINE_VERSION};
use super::output::{ResultsFolder, MANIFEST};
use super::print_error::PrintError;
use super::table::{Cell, ResultTable};
use super::table_one::table_one_table;

/// The propensity model, in broom's columns.
pub fn ps_model_table(terms: &[Coefficient]) -> ResultTable {
    let mut t = ResultTable::new(
        "ps_model",
        "Propensity score model (logistic regression)",
        &["term", "estimate", "std_error", "statistic", "p_value"],
    );
    for c in terms {
        t.push(vec![
            Cell::text(&c.term),
            Cell::estimate(c.estimate, 4),
            Cell::estimate(c.std_error, 4),
            Cell::estimate(c.statistic, 3),
            Cell::estimate(c.p_value, 4),
        ]);
    }
    t.notes
        .push("Aliased (collinear) terms have no estimate, as R reports NA.".into());
    t
}

/// Balance before and after matching, as MatchIt's `summary()` computes it for the ATT.
pub fn balance_table(rows: &[BalanceRow], threshold: u64) -> ResultTable {
    let mut t = ResultTable::new(
        "balance",
        "Covariate balance before and after matching",
        &[
            "term",
            "type",
            "mean_treated_before",
            "mean_control_before",
            "smd_before",
            "variance_ratio_before",
            "ecdf_mean_before",
            "ecdf_max_before",
            "mean_treated_after",
            "mean_control_after",
            "smd_after",
            "variance_ratio_after",
            "ecdf_mean_after",
            "ecdf_max_after",
        ],
    );
    let mut any_withheld = false;
    for r in rows {
        let withheld = withheld_means(r, threshold);
        let sample = |means: [f64; 2], rest: [Option<f64>; 4], w: [bool; 2]| {
            let mut cells: Vec<Cell> = means
                .iter()
                .zip(w)
                .map(|(&m, small)| {
                    if small {
                        Cell::Text(disclosure::marker(threshold))
                    } else if w.iter().any(|&s| s) {
                        Cell::Hidden
                    } else {
                        Cell::estimate(m, 4)
                    }
                })
                .collect();
            cells.extend(rest.iter().map(|&v| match v {
                Some(_) if w.iter().any(|&s| s) => Cell::Hidden,
                v => Cell::maybe(v, 4),
            }));
            cells
        };
        any_withheld |= withheld.iter().flatten().any(|&w| w);
        let mut row = vec![
            Cell::text(&r.term),
            Cell::text(if r.binary { "binary" } else { "continuous" }),
        ];
        row.extend(sample(
            [r.mean_treated_before, r.mean_control_before],
            [
                r.smd_before,
                r.variance_ratio_before,
                r.ecdf_mean_before,
                r.ecdf_max_before,
            ],
            withheld[0],
        ));
        row.extend(sample(
            [r.mean_treated_after, r.mean_control_after],
            [
                r.smd_after,
                r.variance_ratio_after,
                r.ecdf_mean_after,
                r.ecdf_max_after,
            ],
            withheld[1],
        ));
        t.push(row);
    }
    if any_withheld {
        t.notes.push(format!(
            "{} replaces the mean (a proportion) of a 0/1 term when the units with the value 1, or those with 0, number 1 to {}; the other group's mean, the SMD and the eCDF differences of that sample are withheld with it ({}): with the other group's mean the statistics would give it back, and after matching the other group's mean is itself close to it.",
            disclosure::marker(threshold),
            threshold.saturating_sub(1),
            disclosure::COMPLEMENTARY_MARKER
        ));
    }
    t.notes.push(
        "Standardised mean differences use the treated group's standard deviation before matching (MatchIt's ATT convention); binary terms are 0/1 and have no variance ratio."
            .into(),
    );
    t
}

/// Sample sizes as MatchIt's summary prints them.
pub fn counts_table(m: &MatchAnalysis) -> ResultTable {
    let mut t = ResultTable::new(
        "match_counts",
        "Sample sizes",
        &["sample", "control", "treated"],
    );
    let s = &m.sizes;
    t.push(vec![
        Cell::text("all"),
        Cell::Count(s.control.all as u64),
        Cell::Count(s.treated.all as u64),
    ]);
    t.push(vec![
        Cell::text("matched (effective sample size)"),
        Cell::number(s.control.matched_ess, 2),
        Cell::number(s.treated.matched_ess, 2),
    ]);
    t.push(vec![
        Cell::text("matched"),
        Cell::Count(s.control.matched as u64),
        Cell::Count(s.treated.matched as u64),
    ]);
    t.push(vec![
        Cell::text("unmatched"),
        Cell::Count(s.control.unmatched as u64),
        Cell::Count(s.treated.unmatched as u64),
    ]);
    t
}

/// The love plot (every balance row except the distance) and the propensity-score
/// distribution before and after, from per-row linear logits, treatment and weights.
pub fn figures(
    balance: &[BalanceRow],
    distance: &[f64],
    treated: &[bool],
    weights: &[f64],
    threshold: u64,
) -> Result<Vec<(&'static str, Figure)>, FigureError> {
    let points: Vec<LovePoint> = balance
        .iter()
        .filter(|r| r.term != "distance")
        .filter_map(|r| {
            // A standardised difference the balance table withholds (a binary term
            // resting on 1 to threshold − 1 persons) is not drawn either.
            let [before, after] = withheld_means(r, threshold);
            if before.contains(&true) {
                return None;
            }
            Some(LovePoint {
                term: r.term.clone(),
                smd_before: r.smd_before?,
                smd_after: r.smd_after.filter(|_| !after.contains(&true)),
            })
        })
        .collect();
    let love = figures::love_plot(&points, 0.1)?;
    let group = |in_group: bool, weighted: bool| {
        let rows: Vec<usize> = (0..treated.len())
            .filter(|&i| treated[i] == in_group)
            .collect();
        ScoreSample {
            scores: rows.iter().map(|&i| distance[i]).collect(),
            weights: rows
                .iter()
                .map(|&i| if weighted { weights[i] } else { 1.0 })
                .collect(),
        }
    };
    let distribution = figures::propensity_distribution(
        (&group(true, false), &group(false, false)),
        (&group(true, true), &group(false, true)),
        threshold as usize,
    )?;
    Ok(vec![("love_plot", love), ("ps_distribution", distribution)])
}

/// What `shine match` prints: the summary or the JSON report for stdout, and the
/// results folder when the result carries the detail for one.
#[derive(Debug)]
pub struct MatchPrintout {
    pub stdout: String,
    pub folder: Option<ResultsFolder>,
}

/// The printout of `shine match`: JSON when `json`, else the summary and the sample
/// size, propensity model and balance tables in Markdown.
///
/// # Errors
/// A figure that cannot be drawn, or matched rows that cannot be written as CSV.
pub fn print_match(result: &MatchResult, json: bool) -> Result<MatchPrintout, PrintError> {
    let analysis = &result.analysis;
    let tables = [
        counts_table(analysis),
        ps_model_table(&analysis.ps_model),
        balance_table(&analysis.balance, 0),
    ];
    let stdout = if json {
        json_text(result)?
    } else {
        let mut text = describe(result);
        for table in &tables {
            text.push('\n');
            text.push_str(&table.to_markdown(0));
        }
        text
    };
    let folder = match &result.detail {
        Some(detail) => {
            let mut folder = ResultsFolder::default();
            for table in &tables {
                folder.add(&format!("{}.csv", table.name), table.to_csv(0));
                folder.add(&format!("{}.md", table.name), table.to_markdown(0));
            }
            let table1 = table_one_table(
                &detail.table_one_before,
                Some(&detail.table_one_after),
                ("treated", "control"),
                0,
            );
            folder.add("table1.csv", table1.to_csv(0));
            folder.add("table1.md", table1.to_markdown(0));
            let mut bytes = Vec::new();
            crate::data::write::write_csv(&mut detail.matched_rows.clone(), &mut bytes)?;
            folder.add("matched.csv", bytes);
            folder.add("pairs.csv", pairs_csv(result));
            for (name, figure) in figures(
                &analysis.balance,
                &analysis.distance,
                &analysis.treated,
                &analysis.matching.weights,
                0,
            )? {
                folder.add(&format!("{name}.svg"), figure.svg);
                folder.add(&format!("{name}.png"), figure.png);
            }
            // What wrote the folder and the SHA-256 of every file: lets `--force`
            // recognise shine's results, and a reader check them.
            let manifest = MatchManifest {
                shine_version: SHINE_VERSION,
                command: "match",
                outputs: folder.listing(),
            };
            folder.add(MANIFEST, serde_json::to_vec_pretty(&manifest)?);
            Some(folder)
        }
        None => None,
    };
    Ok(MatchPrintout { stdout, folder })
}

/// `manifest.json` of a `match --out` folder.
#[derive(Serialize)]
struct MatchManifest {
    shine_version: &'static str,
    command: &'static str,
    /// Every other file written, with its SHA-256, in path order.
    outputs: Vec<OutputFile>,
}

/// The warnings of a matching, one line each, for stderr.
pub fn warnings(result: &MatchResult) -> Vec<String> {
    result
        .analysis
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect()
}

/// MatchIt's name of a matching order (`m.order`), as `--order` takes it.
pub fn order_name(order: MatchOrder) -> &'static str {
    match order {
        MatchOrder::Largest => "largest",
        MatchOrder::Smallest => "smallest",
        MatchOrder::Data => "data",
        MatchOrder::Random => "random",
        MatchOrder::Closest => "closest",
        MatchOrder::Farthest => "farthest",
    }
}

/// The method in a sentence, and how many units were matched.
fn describe(result: &MatchResult) -> String {
    let (spec, m) = (&result.spec, &result.analysis);
    let caliper = match (spec.caliper, m.matching.caliper_width) {
        (Some(c), Some(w)) => format!(", caliper {c} SD ({w:.4} on the logit scale)"),
        _ => String::new(),
    };
    let exact = if spec.exact.is_empty() {
        String::new()
    } else {
        format!(", exact on {}", spec.exact.join(", "))
    };
    format!(
        "Nearest-neighbour matching on the linear logit of the propensity score, 1:{}{caliper}{exact}, {} replacement, order {}.\n{} of {} treated matched to {} controls.\n",
        spec.ratio,
        if spec.replace { "with" } else { "without" },
        order_name(spec.order),
        m.matching.n_treated_matched,
        m.matching.n_treated,
        m.matching.n_controls_matched,
    )
}

#[derive(Serialize)]
struct PairJson<'a> {
    treated: &'a UnitId,
    control: &'a UnitId,
    subclass: usize,
}

#[derive(Serialize)]
struct WeightJson<'a> {
    id: &'a UnitId,
    weight: f64,
}

#[derive(Serialize)]
struct BalanceJson<'a> {
    term: &'a str,
    smd_before: Option<f64>,
    smd_after: Option<f64>,
    variance_ratio_before: Option<f64>,
    variance_ratio_after: Option<f64>,
    ecdf_mean_after: Option<f64>,
    ecdf_max_after: Option<f64>,
}

/// The `--json` report, serialised straight from the results (no intermediate tree:
/// a million weights stay cheap).
#[derive(Serialize)]
struct MatchJson<'a> {
    #[serde(serialize_with = "serialize_ps_model")]
    ps_model: &'a [Coefficient],
    pairs: Vec<PairJson<'a>>,
    weights: Vec<WeightJson<'a>>,
    balance: Vec<BalanceJson<'a>>,
    n_treated: usize,
    n_treated_matched: usize,
    n_controls_matched: usize,
    caliper_width: Option<f64>,
}

/// The `--json` report as serde_json's pretty printer writes it, with the weights (one
/// object per row of the table) written in parts on the pool's threads.
fn json_text(result: &MatchResult) -> Result<String, PrintError> {
    let text = serde_json::to_string_pretty(&json_report(result, false))?;
    match with_weights(&text, &result.ids, &result.analysis.matching.weights)? {
        Some(text) => Ok(text),
        None => Ok(serde_json::to_string_pretty(&json_report(result, true))? + "\n"),
    }
}

/// `text`, serde_json's pretty printout of an object whose `weights` are an empty list,
/// with the list of `{id, weight}` objects put in their place as the printer writes
/// it, and a line end; `None` when there are no weights or `text` has no such list.
fn with_weights(
    text: &str,
    ids: &[UnitId],
    weights: &[f64],
) -> Result<Option<String>, serde_json::Error> {
    // A key at the top level: values never hold a raw line end (JSON escapes it).
    const EMPTY: &str = "\n  \"weights\": []";
    let at = match text.find(EMPTY) {
        Some(at) if !ids.is_empty() && ids.len() == weights.len() => at,
        _ => return Ok(None),
    };
    const PART: usize = 1 << 15;
    let parts = crate::stats::map_indices(ids.len().div_ceil(PART), |k| {
        let rows = k * PART..ids.len().min((k + 1) * PART);
        let mut out: Vec<u8> = Vec::with_capacity(rows.len() * 48);
        for i in rows {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            out.extend_from_slice(b"    {\n      \"id\": ");
            serde_json::to_writer(&mut out, &ids[i])?;
            out.extend_from_slice(b",\n      \"weight\": ");
            serde_json::to_writer(&mut out, &weights[i])?;
            out.extend_from_slice(b"\n    }");
        }
        Ok::<_, serde_json::Error>(out)
    });
    let listed: usize = parts.iter().flatten().map(Vec::len).sum();
    let mut out = Vec::with_capacity(text.len() + listed + 32);
    out.extend_from_slice(&text.as_bytes()[..at]);
    out.extend_from_slice(b"\n  \"weights\": [\n");
    for part in parts {
        out.extend_from_slice(&part?);
    }
    out.extend_from_slice(b"\n  ]");
    out.extend_from_slice(&text.as_bytes()[at + EMPTY.len()..]);
    out.push(b'\n');
    // serde_json writes UTF-8, and the rest is copied from its text.
    Ok(Some(String::from_utf8(out).unwrap_or_else(|e| {
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    })))
}

/// The `--json` report; `weights`: with the weights (else an empty list in their place).
fn json_report(result: &MatchResult, weights: bool) -> MatchJson<'_> {
    let (m, ids) = (&result.analysis, &result.ids);
    MatchJson {
        ps_model: &m.ps_model,
        pairs: m
            .matching
            .pairs
            .iter()
            .map(|p| PairJson {
                treated: &ids[p.treated],
                control: &ids[p.control],
                subclass: p.subclass,
            })
            .collect(),
        weights: if weights {
            ids.iter()
                .zip(&m.matching.weights)
                .map(|(id, &weight)| WeightJson { id, weight })
                .collect()
        } else {
            Vec::new()
        },
        balance: m
            .balance
            .iter()
            .map(|r| BalanceJson {
                term: &r.term,
                smd_before: r.smd_before,
                smd_after: r.smd_after,
                variance_ratio_before: r.variance_ratio_before,
                variance_ratio_after: r.variance_ratio_after,
                ecdf_mean_after: r.ecdf_mean_after,
                ecdf_max_after: r.ecdf_max_after,
            })
            .collect(),
        n_treated: m.matching.n_treated,
        n_treated_matched: m.matching.n_treated_matched,
        n_controls_matched: m.matching.n_controls_matched,
        caliper_width: m.matching.caliper_width,
    }
}

/// `pairs.csv`: every (treated, control) link by matched set, by id.
fn pairs_csv(result: &MatchResult) -> String {
    let ids = &result.ids;
    let mut out = String::from("subclass,treated,control\n");
    for p in &result.analysis.matching.pairs {
        out.push_str(&format!(
            "{},{},{}\n",
            p.subclass, ids[p.treated], ids[p.control]
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Doc<'a> {
        before: Vec<f64>,
        weights: Vec<WeightJson<'a>>,
        after: &'a str,
    }

    #[test]
    fn weights_written_in_parts_are_the_pretty_printers_text() {
        // More rows than a part, ids of every kind, weights of every kind.
        let n = 3 * (1 << 15) + 17;
        let ids: Vec<UnitId> = (0..n)
            .map(|i| match i % 4 {
                0 => UnitId::Integer(i as i64 - 7),
                1 => UnitId::Number(i as f64 / 3.0),
                2 => UnitId::Text(format!("p\"{i}\\\n")),
                _ => UnitId::Number(f64::NAN),
            })
            .collect();
        let weights: Vec<f64> = (0..n)
            .map(|i| [0.0, 1.0, 0.4, 1.0 / 3.0, 1e-300, 7.25e21][i % 6])
            .collect();
        let doc = |listed: bool| Doc {
            before: vec![1.5, -0.0],
            weights: if listed {
                ids.iter()
                    .zip(&weights)
                    .map(|(id, &weight)| WeightJson { id, weight })
                    .collect()
            } else {
                Vec::new()
            },
            after: "weights: []",
        };
        let expected = serde_json::to_string_pretty(&doc(true)).expect("JSON") + "\n";
        let empty = serde_json::to_string_pretty(&doc(false)).expect("JSON");
        let spliced = with_weights(&empty, &ids, &weights).expect("JSON");
        assert!(spliced.as_deref() == Some(expected.as_str()));
        assert_eq!(with_weights(&empty, &[], &[]).expect("JSON"), None);
    }
}
