//! Snapshots of what a person reads: the human-readable stdout of `shine match`, `did`,
//! `mixed`, `validate` and `plan` on the reference data and the demo extracts, and their
//! main error messages (stderr and exit code for a bad formula, a missing column, a bad
//! flag value). The numbers are checked against R and Python elsewhere; these guard the
//! layout and wording, so that a refactor that changes a printed line shows up in review.
//!
//! Each snapshot (in `tests/snapshots/`) holds the command's exit code, stdout and
//! stderr. The commands run from the repository root with relative paths and `--quiet`
//! (no timings); the repository root and temporary folders are replaced by `[ROOT]` and
//! `[SCRATCH]`/`[TEMP]`, so the snapshots are the same on any machine. After an intended
//! change of the output, regenerate them with
//! `INSTA_UPDATE=always cargo test --release --test snapshots` and review the diff.

mod common;

use std::path::Path;

use common::{demo_extracts, run, shine, Scratch, ROOT};

/// The data the snapshots use, relative to the repository root.
const LALONDE: &str = "tests/reference/matching/lalonde.csv";
const CASTLE: &str = "tests/reference/fixest/castle.csv";
const SLEEPSTUDY: &str = "tests/reference/lmm/sleepstudy.csv";
const SURVEY_PANEL: &str = "tests/reference/lmm/survey_panel.csv";
const DEMO: &str = "examples/demo";

/// `text` with the characters that mean something in a regular expression escaped.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Adds a filter replacing `path` (and its canonical form, where that differs, as on
/// systems whose temporary folder is a symbolic link) by `label`.
fn filter_path(settings: &mut insta::Settings, path: &Path, label: &str) {
    let mut forms = vec![path.to_path_buf()];
    if let Ok(canonical) = path.canonicalize() {
        if canonical != path {
            forms.push(canonical);
        }
    }
    for form in forms {
        let text = form.to_string_lossy();
        let text = text.trim_end_matches('/');
        if !text.is_empty() {
            settings.add_filter(&regex_escape(text), label);
        }
    }
}

/// Runs `shine args` from the repository root and checks its exit code, stdout and
/// stderr against the snapshot `name`. `scratch` is a temporary folder the command
/// reads or writes, shown as `[SCRATCH]`.
fn check(name: &str, args: &[&str], scratch: Option<&Scratch>) {
    let mut command = shine();
    command
        .current_dir(ROOT)
        .args(args)
        // Plain text whatever the terminal or the CI runner asks for.
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    let out = run(&mut command);
    let transcript = format!(
        "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.code.map_or_else(
            || "none (killed by a signal)".to_string(),
            |c| c.to_string()
        ),
        out.stdout,
        out.stderr
    );

    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut shown = format!("shine {}", args.join(" "));
    if let Some(scratch) = scratch {
        filter_path(&mut settings, scratch.path(), "[SCRATCH]");
        shown = shown.replace(&*scratch.path().to_string_lossy(), "[SCRATCH]");
    }
    filter_path(&mut settings, Path::new(ROOT), "[ROOT]");
    filter_path(&mut settings, &std::env::temp_dir(), "[TEMP]");
    settings.set_description(shown);
    settings.bind(|| insta::assert_snapshot!(name, transcript));
}

// --- shine match ---------------------------------------------------------------------

#[test]
fn match_nearest_neighbour() {
    check(
        "match_nearest_neighbour",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--id",
            "id",
            "--formula",
            "treat ~ age + I(age^2) + educ + race + married + nodegree + re74 + re75",
        ],
        None,
    );
}

#[test]
fn match_ratio_caliper_exact_smallest_first() {
    check(
        "match_ratio_caliper_exact_smallest_first",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--id",
            "id",
            "--formula",
            "treat ~ age + educ + race + married + re74",
            "--ratio",
            "2",
            "--caliper",
            "0.2",
            "--exact",
            "race",
            "--order",
            "smallest",
        ],
        None,
    );
}

#[test]
fn match_with_replacement_random_order() {
    check(
        "match_with_replacement_random_order",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--id",
            "id",
            "--formula",
            "treat ~ age + educ + re74",
            "--replace",
            "--ratio",
            "3",
            "--order",
            "random",
            "--seed",
            "7",
        ],
        None,
    );
}

#[test]
fn match_writing_its_outputs() {
    let scratch = Scratch::new("snapshot-match");
    let out = scratch.join("matched");
    check(
        "match_writing_its_outputs",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--id",
            "id",
            "--formula",
            "treat ~ age + educ + race + married + re74",
            "--out",
            &out.to_string_lossy(),
        ],
        Some(&scratch),
    );
}

#[test]
fn match_error_missing_column() {
    check(
        "match_error_missing_column",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--formula",
            "treat ~ age + nosuch",
        ],
        None,
    );
}

#[test]
fn match_error_bad_formula() {
    check(
        "match_error_bad_formula",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--formula",
            "treat ~ age +",
        ],
        None,
    );
}

#[test]
fn match_error_bad_ratio() {
    check(
        "match_error_bad_ratio",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--formula",
            "treat ~ age + educ",
            "--ratio",
            "0",
        ],
        None,
    );
}

#[test]
fn match_error_bad_caliper() {
    check(
        "match_error_bad_caliper",
        &[
            "match",
            "--quiet",
            "--data",
            LALONDE,
            "--formula",
            "treat ~ age + educ",
            "--caliper=-0.2",
        ],
        None,
    );
}

// --- shine did -----------------------------------------------------------------------

#[test]
fn did_two_way_fixed_effects_clustered() {
    check(
        "did_two_way_fixed_effects_clustered",
        &[
            "did",
            "--quiet",
            "--data",
            CASTLE,
            "--formula",
            "l_homicide ~ post | sid + year",
            "--vcov",
            "cluster:sid",
        ],
        None,
    );
}

#[test]
fn did_poisson_heteroskedasticity_robust() {
    check(
        "did_poisson_heteroskedasticity_robust",
        &[
            "did",
            "--quiet",
            "--data",
            CASTLE,
            "--formula",
            "homicide ~ post | sid + year",
            "--family",
            "poisson",
            "--vcov",
            "hc1",
        ],
        None,
    );
}

#[test]
fn did_event_study() {
    check(
        "did_event_study",
        &[
            "did",
            "--quiet",
            "--data",
            CASTLE,
            "--formula",
            "l_homicide ~ i(rel_year, post, ref = -1) | sid + year",
            "--vcov",
            "cluster:sid",
        ],
        None,
    );
}

#[test]
fn did_error_missing_column() {
    check(
        "did_error_missing_column",
        &[
            "did",
            "--quiet",
            "--data",
            CASTLE,
            "--formula",
            "l_homicide ~ post | sid + yeer",
        ],
        None,
    );
}

#[test]
fn did_error_bad_formula() {
    check(
        "did_error_bad_formula",
        &[
            "did",
            "--quiet",
            "--data",
            CASTLE,
            "--formula",
            "l_homicide ~ post | (sid",
        ],
        None,
    );
}

#[test]
fn did_error_bad_vcov() {
    check(
        "did_error_bad_vcov",
        &[
            "did",
            "--quiet",
            "--data",
            CASTLE,
            "--formula",
            "l_homicide ~ post | sid + year",
            "--vcov",
            "bogus",
        ],
        None,
    );
}

// --- shine mixed ---------------------------------------------------------------------

#[test]
fn mixed_correlated_random_slopes() {
    check(
        "mixed_correlated_random_slopes",
        &[
            "mixed",
            "--quiet",
            "--data",
            SLEEPSTUDY,
            "--formula",
            "Reaction ~ Days + (Days | Subject)",
        ],
        None,
    );
}

#[test]
fn mixed_maximum_likelihood_uncorrelated_residual_df() {
    check(
        "mixed_maximum_likelihood_uncorrelated_residual_df",
        &[
            "mixed",
            "--quiet",
            "--data",
            SLEEPSTUDY,
            "--formula",
            "Reaction ~ Days + (Days || Subject)",
            "--method",
            "ml",
            "--df",
            "residual",
        ],
        None,
    );
}

#[test]
fn mixed_estimated_marginal_means() {
    check(
        "mixed_estimated_marginal_means",
        &[
            "mixed",
            "--quiet",
            "--data",
            SURVEY_PANEL,
            "--formula",
            "score ~ factor(wave) * group + (1 | person_id)",
            "--emmeans",
            "wave | group",
        ],
        None,
    );
}

#[test]
fn mixed_nested_cluster_robust() {
    check(
        "mixed_nested_cluster_robust",
        &[
            "mixed",
            "--quiet",
            "--data",
            SURVEY_PANEL,
            "--formula",
            "score ~ factor(wave) * group + age + (1 | practice_id/person_id)",
            "--vcov",
            "cr1",
        ],
        None,
    );
}

#[test]
fn mixed_error_missing_grouping_column() {
    check(
        "mixed_error_missing_grouping_column",
        &[
            "mixed",
            "--quiet",
            "--data",
            SLEEPSTUDY,
            "--formula",
            "Reaction ~ Days + (Days | Nope)",
        ],
        None,
    );
}

#[test]
fn mixed_error_bad_formula() {
    check(
        "mixed_error_bad_formula",
        &[
            "mixed",
            "--quiet",
            "--data",
            SLEEPSTUDY,
            "--formula",
            "Reaction ~ Days + (Days | )",
        ],
        None,
    );
}

#[test]
fn mixed_error_bad_method() {
    check(
        "mixed_error_bad_method",
        &[
            "mixed",
            "--quiet",
            "--data",
            SLEEPSTUDY,
            "--formula",
            "Reaction ~ Days + (1 | Subject)",
            "--method",
            "bayes",
        ],
        None,
    );
}

// --- shine validate ------------------------------------------------------------------

#[test]
fn validate_demo_extracts() {
    check(
        "validate_demo_extracts",
        &["validate", "--quiet", DEMO],
        None,
    );
}

/// Three kinds of problem in a copy of the demo extracts: a missing column, a value
/// outside its code list (three times) and a date that does not exist.
#[test]
fn validate_corrupted_extracts() {
    let scratch = Scratch::new("snapshot-validate");
    let extracts = scratch.copy_of(&demo_extracts(), "extracts");
    let edit = |file: &str, change: &dyn Fn(&str) -> String| {
        let path = extracts.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, change(&text)).expect("write");
    };
    edit("persons.csv", &|text| {
        // Drop the column `sex` (the second).
        text.lines()
            .map(|line| {
                let mut fields: Vec<&str> = line.split(',').collect();
                fields.remove(1);
                fields.join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    edit("contacts.csv", &|text| {
        text.replacen(",gp_phone", ",gp_video", 3)
    });
    edit("proms.csv", &|text| {
        // The response date of the fourth answer: February has no 30th.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut fields: Vec<&str> = lines[4].split(',').collect();
        fields[2] = "2024-02-30";
        lines[4] = fields.join(",");
        lines.join("\n") + "\n"
    });
    check(
        "validate_corrupted_extracts",
        &["validate", "--quiet", &extracts.to_string_lossy()],
        Some(&scratch),
    );
}

#[test]
fn validate_error_missing_folder() {
    check(
        "validate_error_missing_folder",
        &["validate", "--quiet", "examples/no-such-extracts"],
        None,
    );
}

// --- shine plan ----------------------------------------------------------------------

#[test]
fn plan_default() {
    check("plan_default", &["plan", "--quiet"], None);
}

#[test]
fn plan_check_valid() {
    let scratch = Scratch::new("snapshot-plan");
    let plan = scratch.write(
        "plan.toml",
        "sensitivity = []\n[matching]\nratio = 2\ncaliper = 0\n",
    );
    check(
        "plan_check_valid",
        &["plan", "--quiet", "--check", &plan.to_string_lossy()],
        Some(&scratch),
    );
}

#[test]
fn plan_error_unknown_key() {
    let scratch = Scratch::new("snapshot-plan");
    let plan = scratch.write("plan.toml", "[matching]\ncalliper = 0.1\n");
    check(
        "plan_error_unknown_key",
        &["plan", "--quiet", "--check", &plan.to_string_lossy()],
        Some(&scratch),
    );
}

#[test]
fn plan_error_bad_value() {
    let scratch = Scratch::new("snapshot-plan");
    let plan = scratch.write("plan.toml", "[matching]\nratio = 0\n");
    check(
        "plan_error_bad_value",
        &["plan", "--quiet", "--check", &plan.to_string_lossy()],
        Some(&scratch),
    );
}
