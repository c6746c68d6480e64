//! The plan's `survey.standard_errors = "model_kenward_roger"` reaches the survey models:
//! their intervals use Kenward–Roger's adjusted standard errors and df, and the results
//! and the report say so. The default plan keeps the cluster-robust CR2 intervals.

mod common;

use common::{read_json, shine, Scratch};

#[test]
fn the_plan_option_switches_the_survey_models_to_kenward_roger() {
    let scratch = Scratch::new("plan-kr");
    let dir = scratch.join("plan");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "[survey]\nstandard_errors = \"model_kenward_roger\"\n",
    )
    .expect("write");
    let run_with = |out: &std::path::Path, plan: Option<&std::path::Path>| {
        let mut cmd = shine();
        cmd.args(["analyse", "--demo", "--quiet", "--out"]).arg(out);
        if let Some(p) = plan {
            cmd.arg("--plan").arg(p);
        }
        let run = cmd.output().expect("run shine analyse");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        read_json(out.join("results.json"))
    };
    let kr = run_with(&scratch.join("kr-out"), Some(&plan));
    let default = run_with(&scratch.join("default-out"), None);
    let outcomes = kr["survey_outcomes"].as_array().expect("survey outcomes");
    assert!(!outcomes.is_empty());
    for (o, d) in outcomes.iter().zip(
        default["survey_outcomes"]
            .as_array()
            .expect("survey outcomes"),
    ) {
        let se = o["standard_errors"].as_str().expect("standard_errors");
        assert!(se.contains("Kenward-Roger"), "{se}");
        let dse = d["standard_errors"].as_str().expect("standard_errors");
        assert!(
            dse.contains("CR2"),
            "the default stays cluster-robust: {dse}"
        );
        // Same point estimates, other intervals.
        let (a, b) = (&o["change"][0], &d["change"][0]);
        assert_eq!(a["estimate"], b["estimate"], "{}", o["outcome"]);
        assert_ne!(a["df"], b["df"], "{}", o["outcome"]);
    }
    let report =
        std::fs::read_to_string(scratch.join("kr-out").join("report.html")).expect("report");
    assert!(report.contains("Kenward-Roger"));
}
