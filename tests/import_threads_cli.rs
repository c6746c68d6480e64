//! `shine import` writes the same files, byte for byte, whatever the number of threads
//! (register files are read ahead on the thread pool but applied in their order).

mod common;

use common::{run, shine, Scratch};

#[test]
fn import_outputs_do_not_depend_on_the_thread_count() {
    let scratch = Scratch::new("import-threads");
    let raw = scratch.join("raw");
    let out = run(shine()
        .args(["simulate", "--quiet", "--raw"])
        .args(["--referred", "30", "--pool", "1200", "--seed", "5"])
        .arg("--out")
        .arg(&raw));
    assert!(out.success(), "{}", out.stderr);
    let (one, two) = (scratch.join("one"), scratch.join("two"));
    for (threads, dir) in [("1", &one), ("2", &two)] {
        let out = run(shine()
            .args(["--threads", threads, "import", "--quiet", "--registers"])
            .arg(&raw)
            .arg("--out")
            .arg(dir));
        assert!(out.success(), "{}", out.stderr);
    }
    for file in [
        "persons.parquet",
        "covariates.parquet",
        "referrals.parquet",
        "contacts.parquet",
        "proms.parquet",
        "extract.toml",
        "import_report.json",
        "import_report.md",
    ] {
        let a = std::fs::read(one.join(file)).unwrap();
        let b = std::fs::read(two.join(file)).unwrap();
        assert!(!a.is_empty(), "{file} is empty");
        assert!(a == b, "{file} differs between 1 and 2 threads");
    }
}
