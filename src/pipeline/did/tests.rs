use super::*;

fn parse_vcov(text: &str) -> Result<VcovSpec, String> {
    text.parse()
}

#[test]
fn vcov_specs_parse() {
    assert_eq!(parse_vcov("iid"), Ok(VcovSpec::Iid));
    assert_eq!(parse_vcov("hetero"), Ok(VcovSpec::Hc1));
    assert_eq!(
        parse_vcov("cluster:unit,period"),
        Ok(VcovSpec::Cluster(vec!["unit".into(), "period".into()]))
    );
    assert!(parse_vcov("cluster:").is_err());
    assert!(parse_vcov("cluster:a,b,c").is_err());
    assert!(parse_vcov("robust").is_err());
}

#[test]
fn event_periods_are_read_from_fixest_names() {
    assert_eq!(event_period("rel_period::-3:treated"), Some(-3.0));
    assert_eq!(event_period("rel_period::2"), Some(2.0));
    assert_eq!(event_period("treated_post"), None);
}
