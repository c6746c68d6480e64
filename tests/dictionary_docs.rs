//! `data-dictionary/README.md` is generated from the dictionary: fail when it is stale.

mod common;

use common::{repo_path, run, shine};

#[test]
fn data_dictionary_readme_is_up_to_date() {
    let out = shine()
        .args(["dictionary", "--format", "markdown"])
        .output()
        .expect("run shine dictionary");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let committed = std::fs::read_to_string(repo_path("data-dictionary/README.md"))
        .expect("read data-dictionary/README.md");
    assert!(
        generated == committed,
        "data-dictionary/README.md is stale: run `cargo run --release -- dictionary --format markdown > data-dictionary/README.md`"
    );
}

#[test]
fn dictionary_json_lists_every_table_and_column() {
    let out = run(shine().args(["dictionary", "--format", "json"]));
    assert!(out.success());
    let json = out.json();
    let tables = json["tables"].as_array().expect("tables");
    let names: Vec<&str> = tables.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "persons",
            "covariates",
            "referrals",
            "contacts",
            "proms",
            "participation"
        ]
    );
    for t in tables {
        for c in t["columns"].as_array().expect("columns") {
            for field in ["name", "type", "required", "description", "register"] {
                assert!(!c[field].is_null(), "{} lacks {field}", c["name"]);
            }
        }
    }
    let one = run(shine().args(["dictionary", "--table", "nope"]));
    assert_eq!(one.code, Some(2));
    assert!(one.stderr.contains("no such table"));
}
