use super::*;

fn member(person: u32, matched_set: u32) -> PanelMember {
    PanelMember {
        person,
        treated: false,
        matched_set,
        index_date: 0,
        censor: None,
    }
}

/// Five rows: members 0–2 one period each, member 3 two periods.
fn panel() -> Panel {
    Panel {
        member: vec![0, 1, 2, 3, 3],
        period: vec![-1, -1, -1, -1, 0],
        count: vec![0.0; 5],
        exposure: vec![1.0; 5],
    }
}

#[test]
fn a_person_in_two_matched_sets_is_a_second_cluster_dimension() {
    // Person 2 is a comparison person in sets 1 and 2.
    let reused = [member(1, 1), member(2, 1), member(3, 2), member(2, 2)];
    assert_eq!(
        variance_clusters(&panel(), &reused, ClusterBy::MatchedSet),
        vec![
            ("matched_set".to_string(), vec![1, 1, 2, 2, 2]),
            ("person".to_string(), vec![1, 2, 3, 2, 2]),
        ]
    );
    // Clustered by person, the two members of person 2 are one cluster.
    assert_eq!(
        variance_clusters(&panel(), &reused, ClusterBy::Person),
        vec![("person".to_string(), vec![1, 2, 3, 2, 2])]
    );
}

#[test]
fn without_a_person_in_two_sets_the_clusters_are_the_matched_sets() {
    let once = [member(1, 1), member(2, 1), member(3, 2), member(4, 2)];
    assert_eq!(
        variance_clusters(&panel(), &once, ClusterBy::MatchedSet),
        vec![("matched_set".to_string(), vec![1, 1, 2, 2, 2])]
    );
}
