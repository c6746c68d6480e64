//! The programme's own files: the referral list and the survey answers.

use super::*;

pub(super) struct Referral {
    pub(super) person: usize,
    pub(super) date: i32,
    pub(super) practice: Option<String>,
    pub(super) source: Option<String>,
}

pub(super) fn read_referrals(
    st: &mut State,
    files: &[RegisterFile],
) -> Result<Vec<Referral>, RegisterError> {
    let r = st.recipe.referrals.clone();
    let mut out: Vec<Referral> = Vec::new();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let date = t.dates(&r.referral_date)?;
        let practice = t.text(&r.practice)?;
        let source = if t.has(&r.source) {
            t.text(&r.source)?
        } else {
            Texts::missing(t.height())
        };
        let mut used = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let Some(d) = date_i else {
                return Err(t.bad(i, &r.referral_date, "the referral date is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "referrals", &t, i, &r.pnr) else {
                continue;
            };
            if out.iter().any(|x| x.person == k) {
                return Err(t.bad(
                    i,
                    &r.pnr,
                    format!("{} is referred twice", st.persons[k].pnr),
                ));
            }
            out.push(Referral {
                person: k,
                date: d,
                practice: practice.owned(i),
                source: source.owned(i),
            });
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    Ok(out)
}

/// Survey answers: (person, wave, date, items in the dictionary's order, VAS).
pub(super) struct Answer {
    pub(super) person: usize,
    pub(super) wave: i64,
    pub(super) date: i32,
    pub(super) items: Vec<Option<i64>>,
    pub(super) vas: Option<f64>,
}

/// The integer item columns of the proms table, in order.
pub(super) fn item_columns() -> Vec<String> {
    let mut v: Vec<String> = (1..=3).map(|j| format!("ucla_{j}")).collect();
    v.extend((1..=20).map(|j| format!("ucla20_{j}")));
    v.extend(
        ["mo", "sc", "ua", "pd", "ad"]
            .iter()
            .map(|d| format!("eq5d_{d}")),
    );
    v
}

pub(super) fn read_survey(
    st: &mut State,
    files: &[RegisterFile],
) -> Result<Vec<Answer>, RegisterError> {
    let r = st.recipe.survey.clone();
    let items = item_columns();
    let mut out = Vec::new();
    let mut keys: std::collections::HashSet<(usize, i64)> = std::collections::HashSet::new();
    for f in files {
        let t = Table::read(&f.path)?;
        let n = t.height();
        let pnr = t.text(&r.pnr)?;
        let wave = t.integers(&r.wave)?;
        let date = t.dates(&r.response_date)?;
        let mut values = Vec::with_capacity(items.len());
        for name in &items {
            values.push(if t.has(name) {
                t.integers(name)?
            } else {
                vec![None; n]
            });
        }
        let vas = if t.has("EQ5D_VAS") {
            t.numbers("EQ5D_VAS")?
        } else {
            vec![None; n]
        };
        let mut used = 0;
        for i in 0..n {
            let w = match wave[i] {
                Some(w @ (0 | 3 | 9)) => w,
                other => {
                    return Err(t.bad(
                        i,
                        &r.wave,
                        format!("{other:?} is not a survey wave (0, 3 or 9)"),
                    ))
                }
            };
            let Some(d) = date[i] else {
                return Err(t.bad(i, &r.response_date, "the response date is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "survey", &t, i, &r.pnr) else {
                continue;
            };
            if !keys.insert((k, w)) {
                return Err(t.bad(
                    i,
                    &r.wave,
                    format!("{} answered wave {w} twice", st.persons[k].pnr),
                ));
            }
            out.push(Answer {
                person: k,
                wave: w,
                date: d,
                items: values.iter().map(|v| v[i]).collect(),
                vas: vas[i],
            });
            used += 1;
        }
        st.file_read(f, n, used);
    }
    Ok(out)
}
