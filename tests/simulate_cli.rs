//! `shine simulate`: byte-identical output for a seed, valid extracts, clear errors.

mod common;

use std::path::Path;

use common::{read_json, run, shine, Run, Scratch};

fn simulate(out: &Path, extra: &[&str]) -> Run {
    run(shine()
        .args([
            "simulate",
            "--quiet",
            "--referred",
            "50",
            "--pool",
            "1500",
            "--out",
        ])
        .arg(out)
        .args(extra))
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn same_seed_gives_byte_identical_files_in_both_formats() {
    let scratch = Scratch::new("simulate");
    for format in ["csv", "parquet"] {
        let (a, b, c) = (
            scratch.join(format!("a-{format}")),
            scratch.join(format!("b-{format}")),
            scratch.join(format!("c-{format}")),
        );
        for (dir, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
            let out = simulate(dir, &["--seed", seed, "--format", format]);
            assert!(out.success(), "{}", out.stderr);
        }
        let (fa, fb, fc) = (files(&a), files(&b), files(&c));
        let names: Vec<&str> = fa.iter().map(|(n, _)| n.as_str()).collect();
        let ext = format;
        let expected: Vec<String> = vec![
            format!("contacts.{ext}"),
            format!("covariates.{ext}"),
            "extract.toml".into(),
            format!("participation.{ext}"),
            format!("persons.{ext}"),
            format!("proms.{ext}"),
            format!("referrals.{ext}"),
            "truth.json".into(),
        ];
        assert_eq!(names, expected);
        assert!(fa == fb, "seed 7 twice gave different {format} files");
        assert!(fa != fc, "seeds 7 and 8 gave the same {format} files");
        let valid = run(shine().arg("validate").arg(&a));
        assert_eq!(valid.code, Some(0), "{}", valid.stdout);
    }
}

#[test]
fn truth_records_the_true_effects() {
    let scratch = Scratch::new("simulate");
    let dir = scratch.join("truth");
    assert!(simulate(&dir, &["--seed", "3"]).success());
    let truth = read_json(dir.join("truth.json"));
    assert_eq!(truth["rate_ratios"]["general_practice"], 0.85);
    assert_eq!(truth["rate_ratios"]["unplanned_hospital"], 0.9);
    assert_eq!(truth["rate_ratios"]["helpline"], 0.8);
    assert_eq!(truth["survey_changes"]["ucla3"]["3"], -0.6);
    assert_eq!(truth["survey_changes"]["ucla3"]["9"], -0.9);
    assert_eq!(truth["survey_changes"]["eq5d5l_index"]["9"], 0.05);
    assert_eq!(truth["survey_changes"]["eq_vas"]["3"], 3.0);
    assert_eq!(truth["n_referred"], 50);
}

#[test]
fn impossible_sizes_are_refused_with_exit_2() {
    let scratch = Scratch::new("simulate");
    let dir = scratch.join("too-small");
    let out = run(shine()
        .args(["simulate", "--referred", "500", "--pool", "100", "--out"])
        .arg(&dir));
    assert_eq!(out.code, Some(2));
    let stderr = &out.stderr;
    assert!(stderr.contains("--pool"), "{stderr}");
    assert!(!stderr.contains("panicked"));

    let dir = scratch.join("existing");
    assert!(simulate(&dir, &["--seed", "1"]).success());
    let again = simulate(&dir, &["--seed", "1"]);
    assert_eq!(
        again.code,
        Some(2),
        "an existing folder is not overwritten without --force"
    );
    assert!(simulate(&dir, &["--seed", "1", "--force"]).success());
}
