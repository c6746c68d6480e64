//! `shine analyse --demo`: the results folder, its determinism and disclosure control.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use common::{demo_extracts, read_json, reference, rel_diff, repo_path, shine, Scratch};
use common::{ACCUMULATED, CONVERGED, LOOSE_IRLS};

fn analyse_demo(out: &Path, extra: &[&str]) -> std::process::Output {
    shine()
        .args(["analyse", "--demo", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("run shine analyse")
}

/// Writes simulated extracts into `dir`.
fn simulate(dir: &Path, referred: u32, pool: u32, seed: u32) {
    let out = shine()
        .args([
            "simulate",
            "--quiet",
            "--referred",
            &referred.to_string(),
            "--pool",
            &pool.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(dir)
        .output()
        .expect("run shine simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn demo_writes_the_results_folder_with_a_manifest() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("demo");
    let run = analyse_demo(&out, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let files = tree(&out);
    for f in [
        "manifest.json",
        "results.json",
        "tables/survey_by_wave.csv",
        "tables/survey_by_wave.md",
        "tables/extract_counts.csv",
    ] {
        assert!(files.contains_key(f), "missing {f}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&files["manifest.json"]).expect("json");
    assert_eq!(manifest["seed"], 2026);
    let inputs = manifest["inputs"].as_array().expect("inputs");
    // The five extract tables and the participation table.
    assert_eq!(inputs.len(), 6);
    for input in inputs {
        assert_eq!(input["sha256"].as_str().map(str::len), Some(64));
        assert!(input["rows"].as_u64().is_some_and(|r| r > 0));
    }
    // Every other output is listed with its hash.
    let listed: Vec<&str> = manifest["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["path"].as_str())
        .collect();
    let mut written: Vec<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|f| *f != "manifest.json")
        .collect();
    written.sort_unstable();
    assert_eq!(listed, written);
    let results: serde_json::Value = serde_json::from_slice(&files["results.json"]).expect("json");
    assert_eq!(results["cohort"]["referred"], 350);
}

#[test]
fn outputs_are_byte_identical_across_runs_and_thread_counts() {
    let scratch = Scratch::new("analyse");
    let (a, b, c) = (
        scratch.join("det-a"),
        scratch.join("det-b"),
        scratch.join("det-c"),
    );
    assert!(analyse_demo(&a, &["--threads", "1"]).status.success());
    assert!(analyse_demo(&b, &["--threads", "2"]).status.success());
    assert!(analyse_demo(&c, &[]).status.success());
    let (ta, tb, tc) = (tree(&a), tree(&b), tree(&c));
    assert!(ta == tb, "--threads 1 and 2 differ");
    assert!(ta == tc, "two runs differ");
}

#[test]
fn no_person_id_and_no_small_count_reaches_the_outputs() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("privacy");
    assert!(analyse_demo(&out, &[]).status.success());
    let persons = std::fs::read_to_string(demo_extracts().join("persons.csv")).expect("persons");
    let ids: Vec<&str> = persons
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert!(ids.len() > 1000);
    let mut docx_seen = false;
    for (name, bytes) in tree(&out) {
        let text = String::from_utf8_lossy(&bytes);
        for id in &ids {
            assert!(!text.contains(id), "{name} contains person_id {id}");
        }
        // The Word tables, each as CSV-like text, go through the same check.
        let tables: Vec<String> = if name.ends_with(".csv") {
            vec![text.to_string()]
        } else if name.ends_with(".docx") {
            docx_seen = true;
            docx_tables(&bytes)
                .into_iter()
                .map(|(_, rows)| {
                    rows.iter()
                        .map(|r| {
                            r.iter()
                                .map(|c| c.replace(',', ";"))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .collect()
        } else {
            Vec::new()
        };
        for text in &tables {
            // Label columns (waves, levels, terms) hold names, not counts.
            const LABELS: [&str; 21] = [
                "variable",
                "level",
                "statistic",
                "wave (months)",
                "quantity",
                "step",
                "score",
                "outcome",
                "window",
                "term",
                "type",
                "sample",
                "period",
                "wave",
                // Participation: the follow-up month of the dose-response rows, and their
                // mean changes, which can be whole numbers (a mean change of exactly 1).
                "months",
                "estimate",
                "conf_low",
                "conf_high",
                // Robustness: θ and E-values are ratios, not counts.
                "theta",
                "e_value",
                "e_value_ci",
            ];
            // Parsed as CSV: a quoted label may hold a comma ("loneliness (UCLA-3, 3–9)").
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(text.as_bytes());
            let header: Vec<String> = reader
                .headers()
                .expect("header")
                .iter()
                .map(String::from)
                .collect();
            for record in reader.records() {
                let record = record.expect("record");
                let line: Vec<&str> = record.iter().collect();
                let cells = record
                    .iter()
                    .zip(&header)
                    .filter(|(_, h)| !LABELS.contains(&h.as_str()))
                    .map(|(c, _)| c);
                for cell in cells {
                    if let Ok(n) = cell.parse::<u64>() {
                        assert!(
                            n == 0 || n >= 5,
                            "{name}: count {n} below the threshold in {line:?}"
                        );
                    }
                }
            }
        }
    }
    assert!(docx_seen, "no Word tables in the results folder");
}

/// The tables of a .docx written by shine (stored, uncompressed zip entries): each
/// table's caption and its rows of cell text, the header first.
fn docx_tables(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let text = String::from_utf8_lossy(bytes);
    let start = text.find("<w:document").expect("word/document.xml");
    let body = &text[start..start + text[start..].find("</w:document>").expect("end")];
    let texts = |xml: &str| -> String {
        let mut out = String::new();
        for piece in xml.split("<w:t").skip(1) {
            let open = piece.find('>').expect("tag") + 1;
            if let Some(close) = piece.find("</w:t>") {
                out.push_str(&piece[open..close]);
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    };
    let mut tables = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("<w:tbl>") {
        let caption_start = rest[..at].rfind("<w:p>").expect("caption");
        let caption = texts(&rest[caption_start..at]);
        let end = at + rest[at..].find("</w:tbl>").expect("end of table");
        let rows = rest[at..end]
            .split("<w:tr>")
            .skip(1)
            .map(|row| row.split("<w:tc>").skip(1).map(texts).collect())
            .collect();
        tables.push((caption, rows));
        rest = &rest[end..];
    }
    tables
}

/// Decimals shown in a number's text.
fn decimals(text: &str) -> i32 {
    text.find('.')
        .map_or(0, |dot| (text.len() - dot - 1) as i32)
}

/// `tables/tables.docx` holds Table 1, the balance table, the DiD rate ratios, the survey
/// changes, the participation tables, the sensitivity table and the linear DiD's wild
/// bootstrap, each with the header and cells of its CSV (after the same disclosure
/// control): the same text, or the CSV's number rounded to the decimals the Word table
/// shows.
#[test]
fn the_word_tables_hold_the_numbers_of_the_csvs() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("docx");
    assert!(analyse_demo(&out, &[]).status.success());
    let docx = std::fs::read(out.join("tables/tables.docx")).expect("tables.docx");
    let tables = docx_tables(&docx);
    let names = [
        "table_one",
        "balance",
        "did_rate_ratios",
        "survey_changes",
        "participation",
        "participation_dose_response",
        "sensitivity",
        "did_linear_bootstrap",
    ];
    assert_eq!(names, shine::report::docx::WORD_TABLES);
    assert_eq!(tables.len(), names.len());
    for (i, (name, (caption, rows))) in names.iter().zip(&tables).enumerate() {
        let md = std::fs::read_to_string(out.join(format!("tables/{name}.md"))).expect("md");
        let title = md
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("### ");
        let title = shine::report::docx::unnumbered(title);
        assert_eq!(caption, &format!("Table {}. {title}", i + 1));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(out.join(format!("tables/{name}.csv")))
            .expect("csv");
        let csv: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect();
        assert_eq!(rows.len(), csv.len(), "{name}: rows");
        for (r, (word, plain)) in rows.iter().zip(&csv).enumerate() {
            assert_eq!(word.len(), plain.len(), "{name} row {r}: cells");
            for (w, c) in word.iter().zip(plain) {
                let number = |s: &str| s.replace('−', "-").parse::<f64>().ok();
                let same = w == c
                    || match (number(w), number(c)) {
                        (Some(a), Some(b)) => {
                            (a - b).abs() <= 0.5 * 10f64.powi(-decimals(w)) * (1.0 + 1e-9)
                        }
                        _ => false,
                    };
                assert!(same, "{name} row {r}: Word shows {w:?}, the CSV {c:?}");
            }
        }
    }
}

#[test]
fn an_existing_results_folder_is_kept_without_force() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("force");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("keep.txt"), "mine").expect("write");
    let run = analyse_demo(&out, &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--force"));
    // --force replaces only a folder of shine's results.
    let run = analyse_demo(&out, &["--force"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("not a folder of shine's results"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).expect("kept"),
        "mine"
    );
    let results = scratch.join("results");
    assert!(analyse_demo(&results, &[]).status.success());
    std::fs::write(results.join("stale.txt"), "old").expect("write");
    assert!(analyse_demo(&results, &["--force"]).status.success());
    assert!(!results.join("stale.txt").exists());
    assert!(results.join("manifest.json").exists());
    // No staging folder is left beside it.
    let leftovers = std::fs::read_dir(scratch.path())
        .expect("read")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn the_results_never_overwrite_or_enter_the_inputs() {
    let scratch = Scratch::new("analyse-inputs");
    let extracts = scratch.copy_of(&demo_extracts(), "extracts");
    let before = tree(&extracts);
    let plan = scratch.write("plan.toml", "seed = 3\n");
    let inside = extracts.join("results");
    let relative_back = extracts.join("sub").join("..");
    for (out, force, relation) in [
        (extracts.clone(), true, "is the input"),
        (extracts.clone(), false, "is the input"),
        (inside.clone(), true, "is inside the input"),
        (relative_back, true, "is the input"),
        (scratch.path().to_path_buf(), true, "holds the input"),
        (plan.clone(), true, "is the input"),
    ] {
        let mut command = shine();
        command
            .args(["analyse", "--quiet", "--plan"])
            .arg(&plan)
            .arg(&extracts)
            .arg("--out")
            .arg(&out);
        if force {
            command.arg("--force");
        }
        let run = common::run_failing(&mut command);
        assert_eq!(run.code, Some(2), "{}: {}", out.display(), run.stderr);
        assert!(
            run.stderr.contains(relation),
            "{}: {}",
            out.display(),
            run.stderr
        );
        assert_eq!(
            tree(&extracts),
            before,
            "{}: the inputs changed",
            out.display()
        );
        assert!(!inside.exists());
    }
}

#[test]
fn invalid_extracts_stop_the_analysis_with_exit_2() {
    let scratch = Scratch::new("analyse");
    let dir = scratch.join("invalid-extracts");
    simulate(&dir, 40, 1500, 1);
    let text = std::fs::read_to_string(dir.join("persons.csv")).expect("read");
    std::fs::write(dir.join("persons.csv"), text.replacen(",F,", ",X,", 1)).expect("write");
    let out = scratch.join("invalid-out");
    let run = shine()
        .arg("analyse")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("column sex"), "{stderr}");
    assert!(!out.exists(), "no results folder after invalid extracts");
}

/// Risk-set matching removes the confounding built into the simulated extracts: every
/// covariate's SMD after matching is below 0.1, while the naive comparison of prior
/// general-practice use is visibly off.
#[test]
fn risk_set_matching_balances_every_covariate() {
    let scratch = Scratch::new("analyse");
    for (name, demo) in [("demo", true), ("seed-99", false)] {
        let out = scratch.join(format!("balance-{name}"));
        let run = if demo {
            analyse_demo(&out, &[])
        } else {
            let dir = scratch.join("balance-extracts");
            simulate(&dir, 350, 6000, 99);
            shine()
                .args(["analyse", "--quiet"])
                .arg(&dir)
                .arg("--out")
                .arg(&out)
                .output()
                .expect("analyse")
        };
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let results: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("results"))
                .expect("json");
        let m = &results["matching"];
        for row in m["balance"].as_array().expect("balance") {
            // A binary term resting on 1–4 persons has its statistics withheld.
            let Some(smd) = row["smd_after"].as_f64() else {
                assert_eq!(row["smd_after"], "[s]", "{name}: {}", row["term"]);
                assert_eq!(row["binary"], true, "{name}: {}", row["term"]);
                continue;
            };
            assert!(
                smd.abs() < 0.1,
                "{name}: {} has SMD {smd} after matching",
                row["term"]
            );
        }
        // Suppressed when the unmatched are 1–4 (disclosure control): then 346 or more.
        assert!(
            m["flow"]["referred_matched"]
                .as_u64()
                .map_or(m["flow"]["referred_unmatched"] == "<5", |n| n >= 330),
            "{name}: {}",
            m["flow"]
        );
        let gp_before = m["rates"]
            .as_array()
            .expect("rates")
            .iter()
            .find(|r| r["outcome"] == "general_practice" && r["window"] == "before")
            .expect("gp before");
        let naive = gp_before["naive_ratio"].as_f64().expect("naive");
        let matched = gp_before["matched_ratio"].as_f64().expect("matched");
        assert!(
            (naive - 1.0).abs() > 0.1,
            "{name}: naive prior-use ratio {naive} shows no confounding"
        );
        assert!(
            (matched - 1.0).abs() < (naive - 1.0).abs(),
            "{name}: matched {matched} vs naive {naive}"
        );
    }
}

#[test]
fn the_matched_cohort_is_written_only_when_asked_for() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("export");
    assert!(analyse_demo(&out, &[]).status.success());
    assert!(!out.join("matched_cohort.csv").exists());
    let out = scratch.join("export-on");
    let run = analyse_demo(&out, &["--export-matched"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join("matched_cohort.csv")).expect("matched cohort");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("person_id,group,matched_set,index_date,weight")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let referred = rows.iter().filter(|r| r[1] == "referred").count();
    let comparison = rows.iter().filter(|r| r[1] == "comparison").count();
    assert!(
        referred >= 330 && comparison >= 5 * referred - 60,
        "{referred} referred, {comparison} comparison"
    );
    // A comparison person takes the index date of the referred person of their set.
    let mut index_of_set = std::collections::BTreeMap::new();
    for r in rows.iter().filter(|r| r[1] == "referred") {
        index_of_set.insert(r[2], r[3]);
    }
    for r in rows.iter().filter(|r| r[1] == "comparison") {
        assert_eq!(index_of_set.get(r[2]), Some(&r[3]), "set {}", r[2]);
    }
    // Nobody is twice in one matched set; a comparison person may be in several sets
    // (reused in later risk sets), a referred person only in their own.
    let mut pairs: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[2])).collect();
    pairs.sort_unstable();
    let n = pairs.len();
    pairs.dedup();
    assert_eq!(pairs.len(), n);
    let mut referred: Vec<&str> = rows
        .iter()
        .filter(|r| r[1] == "referred")
        .map(|r| r[0])
        .collect();
    referred.sort_unstable();
    let n = referred.len();
    referred.dedup();
    assert_eq!(referred.len(), n);
}

/// The results do not depend on the row order of the input files (only the manifest,
/// which records the inputs' hashes, may differ).
#[test]
fn outputs_do_not_depend_on_the_row_order_of_the_inputs() {
    let scratch = Scratch::new("analyse");
    let dir = scratch.join("order-a");
    simulate(&dir, 200, 3000, 5);
    let shuffled = scratch.join("order-b");
    std::fs::create_dir_all(&shuffled).expect("mkdir");
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        let text = std::fs::read_to_string(&path).expect("read");
        if path.extension().is_some_and(|e| e == "csv") {
            let mut lines: Vec<&str> = text.lines().collect();
            let header = lines.remove(0);
            // A fixed permutation: reversed, then rotated.
            lines.reverse();
            let k = lines.len() / 3;
            lines.rotate_left(k);
            std::fs::write(
                shuffled.join(&name),
                format!("{header}\n{}\n", lines.join("\n")),
            )
            .expect("write");
        } else {
            std::fs::write(shuffled.join(&name), text).expect("write");
        }
    }
    let run = |extracts: &Path, out: &Path| {
        let r = shine()
            .args(["analyse", "--quiet"])
            .arg(extracts)
            .arg("--out")
            .arg(out)
            .output()
            .expect("analyse");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let mut t = tree(out);
        t.remove("manifest.json");
        t
    };
    let (a, b) = (
        run(&dir, &scratch.join("order-out-a")),
        run(&shuffled, &scratch.join("order-out-b")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs when the input rows are shuffled"
        );
    }
}

/// On simulated extracts the true rate ratio of each outcome group, and the true change
/// from baseline of each survey outcome, lie inside their 95% intervals (the demo and a second simulation; both fixed seeds, so deterministic).
#[test]
fn true_effects_lie_inside_their_intervals() {
    let scratch = Scratch::new("analyse");
    let demo_truth = demo_extracts().join("truth.json");
    let sim = scratch.join("truth-extracts");
    simulate(&sim, 350, 6000, 99);
    for (name, truth_path, extracts) in [
        ("demo", demo_truth, None),
        ("seed-99", sim.join("truth.json"), Some(sim.clone())),
    ] {
        let out = scratch.join(format!("truth-{name}"));
        let run = match &extracts {
            None => analyse_demo(&out, &[]),
            Some(dir) => shine()
                .args(["analyse", "--quiet"])
                .arg(dir)
                .arg("--out")
                .arg(&out)
                .output()
                .expect("analyse"),
        };
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&truth_path).expect("truth")).expect("json");
        let results: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("results"))
                .expect("json");
        let did = results["difference_in_differences"]
            .as_array()
            .expect("did");
        assert_eq!(did.len(), 3);
        for o in did {
            let outcome = o["outcome"].as_str().expect("outcome");
            let true_rr = truth["rate_ratios"][outcome]
                .as_f64()
                .expect("true rate ratio");
            let lo = o["rate_ratio"]["rate_ratio_conf_low"]
                .as_f64()
                .expect("low");
            let hi = o["rate_ratio"]["rate_ratio_conf_high"]
                .as_f64()
                .expect("high");
            assert!(
                lo < true_rr && true_rr < hi,
                "{name}: {outcome}: true {true_rr} outside [{lo}, {hi}]"
            );
            // The E-values follow VanderWeele & Ding's closed form from the rate ratio
            // and the interval limit closer to 1.
            let rr = o["rate_ratio"]["rate_ratio"].as_f64().expect("rr");
            let e = |r: f64| {
                let r = if r < 1.0 { 1.0 / r } else { r };
                r + (r * (r - 1.0)).sqrt()
            };
            let limit = if lo > 1.0 {
                e(lo)
            } else if hi < 1.0 {
                e(hi)
            } else {
                1.0
            };
            let ev = &o["e_value"];
            assert!(
                rel_diff(ev["estimate"].as_f64().expect("e"), e(rr)) < 1e-12,
                "{ev}"
            );
            assert!(
                rel_diff(ev["ci_limit"].as_f64().expect("e ci"), limit) < 1e-12,
                "{ev}"
            );
            // The negative binomial model of the same contrast is fitted, with a
            // positive finite θ, and agrees with the Poisson one in direction.
            let nb = &o["negative_binomial"];
            let theta = nb["theta"]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: {outcome}: {nb}"));
            assert!(theta > 0.0 && theta.is_finite(), "{nb}");
            let nb_rr = nb["rate_ratio"].as_f64().expect("nb rr");
            assert!(nb["conf_low"].as_f64().expect("lo") < nb_rr, "{nb}");
            eprintln!(
                "{name}: {outcome}: true {true_rr:.3}, Poisson {rr:.3} [{lo:.3}, {hi:.3}], negative binomial {nb_rr:.3} [{:.3}, {:.3}], theta {theta:.3}",
                nb["conf_low"].as_f64().unwrap_or(f64::NAN),
                nb["conf_high"].as_f64().unwrap_or(f64::NAN)
            );
        }
        let survey = results["survey_outcomes"].as_array().expect("survey");
        assert_eq!(survey.len(), 3);
        for o in survey {
            let outcome = o["outcome"].as_str().expect("outcome");
            let changes = o["change"].as_array().expect("change");
            assert_eq!(changes.len(), 2);
            for c in changes {
                let wave = c["wave"].as_i64().expect("wave").to_string();
                let truth = truth["survey_changes"][outcome][&wave]
                    .as_f64()
                    .expect("true change");
                let (lo, hi) = (
                    c["conf_low"].as_f64().expect("low"),
                    c["conf_high"].as_f64().expect("high"),
                );
                assert!(
                    lo < truth && truth < hi,
                    "{name}: {outcome} at {wave}: true {truth} outside [{lo}, {hi}]"
                );
            }
        }
    }
}

/// When matched comparison persons answered the survey too, the survey models become
/// `group * factor(wave)` and report the difference between groups in the change.
#[test]
fn surveys_of_both_groups_give_the_difference_in_change() {
    let scratch = Scratch::new("analyse");
    let demo = demo_extracts();
    let dir = scratch.join("both-groups");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for entry in std::fs::read_dir(&demo).expect("demo") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
    let first = scratch.join("both-groups-first");
    let run = analyse_demo(&first, &["--export-matched"]);
    assert!(run.status.success());
    let cohort = std::fs::read_to_string(first.join("matched_cohort.csv")).expect("cohort");
    // Only persons who neither die nor emigrate can answer every wave.
    let persons = std::fs::read_to_string(dir.join("persons.csv")).expect("persons");
    let leavers: std::collections::BTreeSet<String> = persons
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| !c[4].is_empty() || !c[5].is_empty())
        .map(|c| c[0].to_string())
        .collect();
    // Comparison persons matched in one set only (a person reused in later risk sets has
    // one index date per set).
    let mut sets_of_person: std::collections::BTreeMap<&str, usize> = Default::default();
    for l in cohort.lines().skip(1) {
        *sets_of_person
            .entry(l.split(',').next().expect("id"))
            .or_default() += 1;
    }
    let comparison: Vec<(String, String)> = cohort
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[1] == "comparison" && !leavers.contains(c[0]) && sets_of_person[c[0]] == 1)
        .map(|c| (c[0].to_string(), c[3].to_string()))
        .take(200)
        .collect();
    let proms = std::fs::read_to_string(dir.join("proms.csv")).expect("proms");
    let answers: Vec<Vec<String>> = proms
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let mut text = proms.clone();
    for (k, (id, index)) in comparison.iter().enumerate() {
        let day = chrono::NaiveDate::parse_from_str(index, "%Y-%m-%d").expect("date");
        for (wave, offset) in [(0, 3), (3, 95), (9, 280)] {
            let mut row = answers[(k * 3 + wave as usize) % answers.len()].clone();
            row[0] = id.clone();
            row[1] = wave.to_string();
            row[2] = (day + chrono::Duration::days(offset))
                .format("%Y-%m-%d")
                .to_string();
            text.push_str(&row.join(","));
            text.push('\n');
        }
    }
    std::fs::write(dir.join("proms.csv"), text).expect("write");
    let out = scratch.join("both-groups-out");
    let run = shine()
        .args(["analyse", "--quiet"])
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("analyse");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("results"))
            .expect("json");
    for o in results["survey_outcomes"].as_array().expect("survey") {
        assert!(
            o["formula"]
                .as_str()
                .is_some_and(|f| f.contains("group * factor(wave)")),
            "{}",
            o["formula"]
        );
        assert_eq!(
            o["difference_in_change"].as_array().map(Vec::len),
            Some(2),
            "{}",
            o["outcome"]
        );
        assert_eq!(o["change"].as_array().map(Vec::len), Some(2));
    }
}

fn shine_with(args: &[&str]) -> std::process::Output {
    shine().args(args).output().expect("run shine")
}

/// `shine plan` prints the default plan; it checks as valid, and `analyse --plan` with
/// it gives the same results as the default.
#[test]
fn the_printed_plan_is_the_plan_analyse_uses() {
    let scratch = Scratch::new("analyse");
    let printed = shine_with(&["plan"]);
    assert!(printed.status.success());
    let text = String::from_utf8(printed.stdout).expect("utf-8");
    for key in [
        "catchment_municipalities",
        "min_age",
        "covariates",
        "ratio",
        "caliper",
        "exact",
        "period_days",
        "cluster",
        "value_set",
        "threshold",
        "[[sensitivity]]",
        "seed",
    ] {
        assert!(text.contains(key), "the plan lacks {key}");
    }
    let dir = scratch.join("plan-file");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let plan = dir.join("plan.toml");
    // The demo's seed, so that the manifest differs only in where the plan came from.
    std::fs::write(&plan, text.replace("seed = 1\n", "seed = 2026\n")).expect("write");
    let checked = shine_with(&["plan", "--check", plan.to_str().expect("path")]);
    assert!(checked.status.success());
    let (a, b) = (scratch.join("plan-default"), scratch.join("plan-given"));
    assert!(analyse_demo(&a, &[]).status.success());
    let run = analyse_demo(&b, &["--plan", plan.to_str().expect("path")]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (ta, tb) = (tree(&a), tree(&b));
    for (name, bytes) in &ta {
        if name != "manifest.json" {
            assert!(tb.get(name) == Some(bytes), "{name} differs");
        }
    }
    let manifest: serde_json::Value = serde_json::from_slice(&tb["manifest.json"]).expect("json");
    assert_eq!(manifest["plan"]["matching"]["ratio"], 5);
    assert_eq!(manifest["plan"]["seed"], 2026);
    assert!(manifest["plan_source"]
        .as_str()
        .is_some_and(|s| s.ends_with("plan.toml")));
}

/// A plan's settings reach the analysis: ratio, caliper and the sensitivity analyses.
#[test]
fn plan_settings_change_the_analysis() {
    let scratch = Scratch::new("analyse");
    let dir = scratch.join("plan-settings");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "sensitivity = []\n[study]\nreferral_end = \"2025-03-31\"\n[matching]\nratio = 2\ncaliper = 0\n[outcomes]\ncluster = \"person\"\n[survey]\npractice_random_effect = true\n",
    )
    .expect("write");
    let out = scratch.join("plan-settings-out");
    let run = analyse_demo(&out, &["--plan", plan.to_str().expect("path")]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("read"))
            .expect("json");
    let m = &results["matching"];
    assert_eq!(m["options"]["ratio"], 2);
    assert!(m["options"]["caliper"].is_null());
    assert!(m["caliper_width"].is_null());
    // Referrals after the study period's end are excluded; without a caliper every
    // other referred person finds comparison persons.
    let outside = m["flow"]["referred_outside_study_period"]
        .as_u64()
        .expect("n");
    assert!(outside > 20, "{outside}");
    assert_eq!(m["flow"]["referred_in_risk_sets"], 350 - outside);
    assert_eq!(m["flow"]["referred_matched"], 350 - outside);
    assert_eq!(m["flow"]["risk_sets"], 15);
    assert!(m["flow"]["comparison_matched"].as_u64().expect("n") <= 700);
    assert_eq!(results["sensitivity"].as_array().map(Vec::len), Some(0));
    let flow = std::fs::read_to_string(out.join("tables/flow.md")).expect("flow");
    assert!(flow.contains("Matching 1:2"), "{flow}");
    let report = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(report.contains("clustered by person"));
    for o in results["survey_outcomes"].as_array().expect("survey") {
        assert!(
            o["formula"]
                .as_str()
                .is_some_and(|f| f.ends_with("(1 | practice_id/person_id)")),
            "{o}"
        );
    }
}

#[test]
fn numbers_that_differ_beyond_rounding_noise_are_a_change() {
    assert!(same_numbers("a,0.868,x", "a,0.868,x"));
    assert!(same_numbers("a,0.8680000000000001,x", "a,0.868,x"));
    assert!(!same_numbers("a,0.869,x", "a,0.868,x"));
    assert!(!same_numbers("a,<5,x", "a,5,x"));
    assert!(!same_numbers("a,1", "a,1,2"));
}

/// Bad plans end with exit 2 and a message naming the key.
#[test]
fn bad_plans_name_the_key_and_exit_2() {
    let scratch = Scratch::new("analyse");
    let dir = scratch.join("bad-plans");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (i, (text, key)) in [
        ("[matching]\ncalliper = 0.1\n", "calliper"),
        ("[matching]\nratio = 0\n", "matching.ratio"),
        ("[outcomes]\ncluster = \"practice\"\n", "practice"),
        (
            "[[outcomes.groups]]\nname = \"gp\"\ncontact_types = [\"gp_visit\"]\n",
            "outcomes.groups[0].contact_types",
        ),
        (
            "[propensity]\ncovariates = [\"age +\"]\n",
            "propensity.covariates",
        ),
        ("[matching\nratio = 1\n", "line 1"),
    ]
    .into_iter()
    .enumerate()
    {
        let plan = dir.join(format!("plan{i}.toml"));
        std::fs::write(&plan, text).expect("write");
        let out = scratch.join(format!("bad-plan-out-{i}"));
        let run = analyse_demo(&out, &["--plan", plan.to_str().expect("path")]);
        assert_eq!(run.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains(key), "{text}: {stderr}");
        assert!(stderr.contains(&format!("plan{i}.toml")), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists());
    }
}

/// report.html is one self-contained file: every figure inline as SVG, no scripts,
/// nothing loaded from elsewhere; it has the sections the paper needs.
#[test]
fn the_report_is_self_contained_and_complete() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("report");
    assert!(analyse_demo(&out, &[]).status.success());
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(!html.contains("<script"));
    assert!(!html.contains(" src="));
    assert!(!html.contains("<link"));
    assert!(!html.contains("url("));
    let svgs = std::fs::read_dir(out.join("figures"))
        .expect("figures")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "svg"))
        })
        .count();
    // flow, love plot, PS distribution, 2 per outcome group, 1 per survey outcome, and
    // the forest plot of the robustness section.
    assert_eq!(svgs, 13);
    assert_eq!(html.matches("<figure").count(), svgs);
    assert_eq!(html.matches("<svg").count(), svgs);
    for section in [
        "Summary of the main results",
        "Flow of participants",
        "Table 1",
        "difference-in-differences",
        "pretrend",
        "Loneliness and quality of life",
        "responses, % of referred",
        "Sensitivity analyses",
        "figure-forest",
        "wild cluster bootstrap",
        "Participation in the services referred to",
        "test for linear trend",
        "caliper 0.1 SD of the logit",
        "1:1 matching",
        "complete cases",
        "Methods",
        "CR2 bias-reduced correction",
        "shine 0.",
        "polars 0.",
        "STROBE checklist for cohort studies",
        "@media print",
    ] {
        assert!(html.contains(section), "report lacks {section:?}");
    }
}

/// A run killed before it finishes leaves no results folder.
///
/// The run is killed when it reports (on stderr) that matching is done, in the middle of
/// the pipeline, rather than after a fixed time, which a fast machine could outrun.
#[test]
fn an_interrupted_run_leaves_no_results_folder() {
    let scratch = Scratch::new("analyse");
    let dir = scratch.join("interrupt-extracts");
    simulate(&dir, 350, 30000, 5);
    let out = scratch.join("interrupt-out");
    let mut child = shine()
        .arg("analyse")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stages = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    for line in stages.by_ref() {
        let line = line.expect("read stderr");
        let matched = line.starts_with("match ");
        seen.push(line);
        if matched {
            break;
        }
    }
    let finished = child.try_wait().expect("wait").is_some();
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(
        !finished,
        "the run finished before it could be interrupted: {seen:?}"
    );
    assert!(!out.exists(), "a results folder was left behind");
}

/// Whether two texts are the same, numbers compared to a relative 1e-9 (so that the
/// last bits of a floating-point sum on another CPU do not count as a change).
fn same_numbers(a: &str, b: &str) -> bool {
    fn tokens(text: &str) -> Vec<(bool, &str)> {
        let numeric = |c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E');
        let mut out = Vec::new();
        let mut start = 0;
        let mut kind = None;
        for (i, c) in text.char_indices() {
            let k = numeric(c);
            if kind.is_some_and(|p| p != k) {
                out.push((kind == Some(true), &text[start..i]));
                start = i;
            }
            kind = Some(k);
        }
        out.push((kind == Some(true), &text[start..]));
        out
    }
    let (ta, tb) = (tokens(a), tokens(b));
    ta.len() == tb.len()
        && ta.iter().zip(&tb).all(|(&(na, x), &(_, y))| {
            if x == y {
                return true;
            }
            match (na, x.parse::<f64>(), y.parse::<f64>()) {
                (true, Ok(p), Ok(q)) => (p - q).abs() <= ACCUMULATED * p.abs().max(q.abs()),
                _ => false,
            }
        })
}

/// The committed expected results of the example (`examples/demo-results/`: tables and
/// results.json) are what the current code produces, so any change to a number shows
/// up in review. After an intended change, regenerate them with
/// `SHINE_UPDATE_EXPECTED=1 cargo test --release --test analyse_cli committed`.
#[test]
fn committed_expected_results_are_reproduced() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("expected");
    assert!(analyse_demo(&out, &[]).status.success());
    let expected = repo_path("examples/demo-results");
    let produced: BTreeMap<String, Vec<u8>> = tree(&out)
        .into_iter()
        .filter(|(name, _)| name == "results.json" || name.starts_with("tables/"))
        .collect();
    if std::env::var_os("SHINE_UPDATE_EXPECTED").is_some() {
        let _ = std::fs::remove_dir_all(&expected);
        for (name, bytes) in &produced {
            let path = expected.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write");
        }
    }
    let committed = tree(&expected);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&produced),
        "the set of files differs"
    );
    let differ: Vec<&String> = produced
        .iter()
        .filter(|(name, bytes)| {
            committed.get(*name).is_none_or(|c| {
                !same_numbers(&String::from_utf8_lossy(c), &String::from_utf8_lossy(bytes))
            })
        })
        .map(|(name, _)| name)
        .collect();
    assert!(
        differ.is_empty(),
        "these results differ from examples/demo-results: {differ:?}; if the change is intended, regenerate with SHINE_UPDATE_EXPECTED=1"
    );
}

/// The pipeline's DiD equals pyfixest 0.60 refitted on the cohort `analyse --demo`
/// matched: the weighted Poisson rate ratio and the weighted linear DiD per outcome
/// group, with standard errors clustered by matched set
/// (`tests/reference/analyse/did_reference.py`).
#[test]
fn the_did_agrees_with_pyfixest_on_the_matched_cohort() {
    let scratch = Scratch::new("analyse");
    let out = scratch.join("did-reference");
    let run = analyse_demo(&out, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("results"))
            .expect("json");
    let reference = read_json(reference("analyse/did_reference.json"));
    let close = |a: f64, b: f64, tol: f64| rel_diff(a, b) <= tol;
    let mut checked = 0;
    for o in results["difference_in_differences"]
        .as_array()
        .expect("did")
    {
        let name = o["outcome"].as_str().expect("outcome");
        let r = &reference["outcomes"][name];
        let f = |v: &serde_json::Value| v.as_f64().expect("number");
        let log_rr = f(&o["rate_ratio"]["estimate"]);
        assert!(
            close(log_rr, f(&r["poisson_estimate"]), CONVERGED),
            "{name}: log rate ratio {log_rr} vs {}",
            r["poisson_estimate"]
        );
        // pyfixest stops its IRLS at a looser tolerance; the SEs agree to 1e-5.
        assert!(
            close(
                f(&o["rate_ratio"]["std_error"]),
                f(&r["poisson_std_error"]),
                LOOSE_IRLS
            ),
            "{name}: SE {} vs {}",
            o["rate_ratio"]["std_error"],
            r["poisson_std_error"]
        );
        assert!(
            close(
                f(&o["linear"]["estimate"]),
                f(&r["linear_estimate"]),
                CONVERGED
            ),
            "{name}"
        );
        assert!(
            close(
                f(&o["linear"]["std_error"]),
                f(&r["linear_std_error"]),
                CONVERGED
            ),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_tiny_population_ends_with_a_message_not_a_panic() {
    // 12 referred persons: a survey model whose p-value came out NaN used to panic
    // inside statrs; now the analysis either runs or stops with a message.
    let scratch = Scratch::new("analyse-tiny");
    let extracts = scratch.join("extracts");
    simulate(&extracts, 12, 500, 5);
    let run = common::run_failing(
        shine()
            .args(["analyse", "--quiet"])
            .arg(&extracts)
            .arg("--out")
            .arg(scratch.join("out")),
    );
    assert!(
        matches!(run.code, Some(0..=2)),
        "{:?}: {}",
        run.code,
        run.stderr
    );
    assert!(
        run.success() || run.stderr.starts_with("error: "),
        "{}",
        run.stderr
    );
}
