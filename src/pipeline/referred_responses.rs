//! The survey responses of referred persons. The survey by wave describes the referred
//! persons (its shares are of the referred); a response of anyone else (a comparison
//! person answering for the difference in change, a pool person's id typed into the
//! survey) would inflate its counts and means. `validate` warns of each such row; the
//! mixed models take the answers of matched comparison persons only.

use std::collections::HashSet;

use polars::prelude::*;

/// The rows of `proms` whose `person_id` is in `referrals`; all rows when there is no
/// referrals table (nothing to compare with; `validate` has already said so).
///
/// # Errors
/// A polars error if either table lacks a text `person_id` column.
pub fn referred_responses(
    proms: &DataFrame,
    referrals: Option<&DataFrame>,
) -> PolarsResult<DataFrame> {
    let Some(referrals) = referrals else {
        return Ok(proms.clone());
    };
    let referred: HashSet<&str> = referrals
        .column("person_id")?
        .str()?
        .iter()
        .flatten()
        .collect();
    let keep: BooleanChunked = proms
        .column("person_id")?
        .str()?
        .iter()
        .map(|id| Some(id.is_some_and(|id| referred.contains(id))))
        .collect();
    if keep.all() {
        return Ok(proms.clone());
    }
    proms.filter(&keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_of_persons_never_referred_are_left_out() {
        let proms = df!(
            "person_id" => ["P1", "P2", "P9", "P1"],
            "wave" => [0i64, 0, 0, 3],
        )
        .unwrap();
        let referrals = df!("person_id" => ["P1", "P2"]).unwrap();
        let kept = referred_responses(&proms, Some(&referrals)).unwrap();
        let ids: Vec<&str> = kept
            .column("person_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["P1", "P2", "P1"]);
        assert_eq!(referred_responses(&proms, None).unwrap().height(), 4);
    }
}
