//! Records the versions of the numerical dependencies (from Cargo.lock) for the
//! methods paragraph of the report.

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let wanted = ["polars", "nalgebra", "statrs", "plotters"];
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take().filter(|n| wanted.contains(&n.as_str())) {
                found.push(format!("{n} {}", v.trim_matches('"')));
            }
        }
    }
    found.sort();
    println!("cargo:rustc-env=SHINE_DEPENDENCIES={}", found.join(", "));
}
