//! `data-dictionary/README.md` is generated from the dictionary: fail when it is stale.

use std::process::Command;

#[test]
fn data_dictionary_readme_is_up_to_date() {
    let out = Command::new(env!("CARGO_BIN_EXE_shine"))
        .args(["dictionary", "--format", "markdown"])
        .output()
        .expect("run shine dictionary");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data-dictionary/README.md");
    let committed = std::fs::read_to_string(path).expect("read data-dictionary/README.md");
    assert!(
        generated == committed,
        "data-dictionary/README.md is stale: run `cargo run --release -- dictionary --format markdown > data-dictionary/README.md`"
    );
}

#[test]
fn dictionary_json_lists_every_table_and_column() {
    let out = Command::new(env!("CARGO_BIN_EXE_shine"))
        .args(["dictionary", "--format", "json"])
        .output()
        .expect("run shine dictionary");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let tables = json["tables"].as_array().expect("tables");
    let names: Vec<&str> = tables.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        ["persons", "covariates", "referrals", "contacts", "proms"]
    );
    for t in tables {
        for c in t["columns"].as_array().expect("columns") {
            for field in ["name", "type", "required", "description", "register"] {
                assert!(!c[field].is_null(), "{} lacks {field}", c["name"]);
            }
        }
    }
    let one = Command::new(env!("CARGO_BIN_EXE_shine"))
        .args(["dictionary", "--table", "nope"])
        .output()
        .expect("run");
    assert_eq!(one.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&one.stderr).contains("no such table"));
}
