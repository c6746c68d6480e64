//! `shine score` on a hand-made proms file.

mod common;

use common::{run, run_ok, shine, Scratch};

const PROMS: &str = "person_id,wave,response_date,ucla_1,ucla_2,ucla_3,eq5d_mo,eq5d_sc,eq5d_ua,eq5d_pd,eq5d_ad,eq5d_vas
a,0,2024-03-01,3,2,2,1,3,2,2,4,55
a,3,2024-06-01,1,1,1,1,1,1,1,2,80
b,0,2024-04-01,2,-9,3,5,5,5,5,5,10
";

#[test]
fn scores_ucla_and_eq5d_and_counts_losses() {
    let dir = Scratch::new("score");
    let input = dir.write("proms.csv", PROMS);
    let out = dir.join("scores.csv");
    let first = run_ok(
        shine()
            .args(["score", "--json", "--proms"])
            .arg(&input)
            .arg("--out")
            .arg(&out),
    );
    let scores = std::fs::read_to_string(&out).expect("scores");
    let lines: Vec<&str> = scores.lines().collect();
    assert_eq!(
        lines[0],
        "person_id,wave,response_date,ucla3_total,ucla3_severe,ucla20_total,eq5d_index,eq5d_vas"
    );
    // UCLA-3 3+2+2 = 7 (severe); EQ-5D-5L 13224 = 0.439 (Jensen et al. 2021).
    assert_eq!(lines[1], "a,0,2024-03-01,7.0,true,,0.439,55.0");
    assert_eq!(lines[2], "a,3,2024-06-01,3.0,false,,0.928,80.0");
    // A missing UCLA item (-9) loses the total; 55555 = -0.758.
    assert_eq!(lines[3], "b,0,2024-04-01,,,,-0.758,10.0");
    let json = first.json();
    assert_eq!(json["counts"][0]["score"], "ucla3_total");
    assert_eq!(json["counts"][0]["lost_to_missing_items"], 1);

    // Prorating over one missing item recovers b's total: (2 + 3) / 2 × 3 = 7.5.
    let prorated = run(shine()
        .args(["score", "--prorate", "1", "--proms"])
        .arg(&input));
    assert!(prorated.success());
    assert!(prorated.stdout.contains("b,0,2024-04-01,7.5,true"));

    // The 3L value set rejects level 5 with the file, row and column.
    let refused = run(shine()
        .args(["score", "--value-set", "dk-3l", "--proms"])
        .arg(&input));
    let stderr = &refused.stderr;
    assert_eq!(refused.code, Some(2), "{stderr}");
    assert!(
        stderr.contains("proms.csv, row 2, column eq5d_ad"),
        "{stderr}"
    );
}
