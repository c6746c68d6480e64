//! The hospital registers: LPR2 (`LPR_ADM`, `LPR_DIAG`, and the psychiatric
//! `LPR_PSYK_ADM`, `LPR_PSYK_DIAG`) and LPR3 contacts and diagnoses (the Health Data
//! Authority's `LPR3_KONTAKTER` or Statistics Denmark's `LPR_A_KONTAKT` naming), with the
//! 2019 transition, and the diagnosis-based covariates (Charlson, F codes).

use super::sources::{note_names, Sources};
use super::*;
use crate::data::registers::recipe::Lpr2;

/// Reads LPR2 (somatic, then psychiatric) and LPR3.
pub(super) fn read_hospital(st: &mut State, sources: &Sources) -> Result<(), RegisterError> {
    let lpr = st.recipe.lpr.clone();
    for (name, lpr2) in [
        ("LPR2", &lpr.lpr2),
        ("LPR2 psychiatry", &lpr.lpr2_psychiatry),
    ] {
        read_lpr2(
            st,
            name,
            lpr2,
            &sources.files(&lpr2.contacts)?,
            &sources.files(&lpr2.diagnoses)?,
        )?;
    }
    read_lpr3(
        st,
        &sources.files(&lpr.lpr3.contacts)?,
        &sources.files(&lpr.lpr3.diagnoses)?,
    )
}

#[derive(Clone, Copy)]
enum Kind {
    Emergency,
    Admission { acute: bool },
    Outpatient,
}

impl Kind {
    fn contact_type(self) -> u8 {
        type_id(match self {
            Kind::Emergency => "emergency_department",
            Kind::Admission { acute: true } => "acute_admission",
            Kind::Admission { acute: false } => "planned_admission",
            Kind::Outpatient => "outpatient",
        })
    }
}

/// One LPR2 pair of tables (`label` names it in the report): contacts before the switch
/// date, and the diagnoses of the contacts kept (record numbers are the pair's own).
fn read_lpr2(
    st: &mut State,
    label: &str,
    r: &Lpr2,
    contacts: &[RegisterFile],
    diagnoses: &[RegisterFile],
) -> Result<(), RegisterError> {
    let switch = st.recipe.switch_day();
    let mut records: HashMap<String, (u32, i32)> = HashMap::default();
    for f in contacts {
        let t = Table::read(&f.path)?;
        note_names(
            st,
            &t,
            &[
                &r.contact_id,
                &r.pnr,
                &r.start_date,
                &r.end_date,
                &r.patient_type,
                &r.admission_type,
            ],
        );
        let id = t.text(&r.contact_id)?;
        let pnr = t.text(&r.pnr)?;
        let pnr_name = t.label(&r.pnr);
        let start = t.dates(&r.start_date)?;
        let pattype = t.text(&r.patient_type)?;
        let indm = t.text(&r.admission_type)?;
        let end = if t.has(&r.end_date) {
            t.dates(&r.end_date)?
        } else {
            vec![None; t.height()]
        };
        let mut used = 0;
        let mut late = 0;
        for i in 0..t.height() {
            let Some(d) = start[i] else {
                return Err(t.bad(i, &r.start_date, "the start date is missing"));
            };
            if d >= switch {
                late += 1;
                continue;
            }
            let Some(k) = st.person_of(pnr.get(i), label, &t, i, &pnr_name) else {
                continue;
            };
            if let Some(e) = end[i] {
                if e < d {
                    st.warn(
                        "LPR: contact ends before it starts",
                        &t.file,
                        t.rows.row(i),
                        &t.label(&r.end_date),
                        format!(
                            "{} is before {}; the contact is left out",
                            format_date(e),
                            format_date(d)
                        ),
                    );
                    continue;
                }
            }
            let Some(rec) = id.get(i) else {
                return Err(t.bad(i, &r.contact_id, "the record number is missing"));
            };
            records.insert(rec.to_string(), (k as u32, d));
            used += 1;
            if !st.period.contains(d) {
                continue;
            }
            let p = pattype.get(i).unwrap_or("");
            let kind = if code_in(p, &r.emergency_room) {
                Kind::Emergency
            } else if code_in(p, &r.inpatient) {
                Kind::Admission {
                    acute: indm.get(i).is_some_and(|c| code_in(c, &r.acute)),
                }
            } else if code_in(p, &r.outpatient) {
                Kind::Outpatient
            } else {
                st.warn(
                    &format!("{label}: unknown patient type"),
                    &t.file,
                    t.rows.row(i),
                    &t.label(&r.patient_type),
                    format!("{p:?}; the contact is not counted"),
                );
                continue;
            };
            st.contacts.push((k as u32, d, kind.contact_type()));
        }
        st.drop_count(
            &format!("{label}: record on or after the LPR3 switch date"),
            late,
        );
        st.file_read(f, t.height(), used);
    }
    for f in diagnoses {
        let t = Table::read(&f.path)?;
        note_names(st, &t, &[&r.contact_id, &r.diagnosis]);
        let id = t.text(&r.contact_id)?;
        let code = t.text(&r.diagnosis)?;
        let mut used = 0;
        let mut orphan = 0;
        for i in 0..t.height() {
            let (Some(rec), Some(c)) = (id.get(i), code.get(i)) else {
                continue;
            };
            match records.get(rec) {
                Some(&(k, d)) => {
                    let c = st.codes.number(c);
                    st.diagnoses[k as usize].push((d, c));
                    used += 1;
                }
                None => orphan += 1,
            }
        }
        st.drop_count(&format!("{label}: diagnosis of no kept contact"), orphan);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

fn read_lpr3(
    st: &mut State,
    contacts: &[RegisterFile],
    diagnoses: &[RegisterFile],
) -> Result<(), RegisterError> {
    let lpr = st.recipe.lpr.clone();
    let r = &lpr.lpr3;
    let switch = st.recipe.switch_day();
    let admission_seconds = (lpr.admission_hours * 3600.0).round() as i64;
    // Contact id → (person, day, the row's content for duplicate checks)
    let mut seen: HashMap<String, (u32, i32, Lpr3Content)> = HashMap::default();
    let mut texts = Interner::default();
    for f in contacts {
        let t = Table::read(&f.path)?;
        note_names(
            st,
            &t,
            &[
                &r.contact_id,
                &r.pnr,
                &r.start_date,
                &r.start_time,
                &r.end_date,
                &r.end_time,
                &r.contact_type,
                &r.priority,
                &r.unit_type,
                &r.reporting_system,
            ],
        );
        let n = t.height();
        seen.reserve(n);
        let id = t.text(&r.contact_id)?;
        let pnr = t.text(&r.pnr)?;
        let pnr_name = t.label(&r.pnr);
        let start = t.date_times(&r.start_date)?;
        let start_time = if t.has(&r.start_time) {
            t.times(&r.start_time)?
        } else {
            vec![None; n]
        };
        let end = t.date_times(&r.end_date)?;
        let end_time = if t.has(&r.end_time) {
            t.times(&r.end_time)?
        } else {
            vec![None; n]
        };
        let ctype = t.text(&r.contact_type)?;
        let priority = t.text(&r.priority)?;
        let unit = t.text(&r.unit_type)?;
        let system = if t.has(&r.reporting_system) {
            t.text(&r.reporting_system)?
        } else {
            Texts::missing(n)
        };
        let mut used = 0;
        let (mut early, mut other_system, mut same) = (0, 0, 0);
        for i in 0..n {
            if system
                .get(i)
                .is_some_and(|s| !s.eq_ignore_ascii_case("LPR3"))
            {
                other_system += 1;
                continue;
            }
            let Some((d, s0)) = start[i] else {
                return Err(t.bad(i, &r.start_date, "the start date is missing"));
            };
            if d < switch {
                early += 1;
                continue;
            }
            let Some(cid) = id.get(i) else {
                return Err(t.bad(i, &r.contact_id, "the contact id is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "LPR3", &t, i, &pnr_name) else {
                continue;
            };
            let begin = i64::from(d) * 86_400 + start_time[i].unwrap_or(s0);
            let finish = end[i].map(|(e, s)| i64::from(e) * 86_400 + end_time[i].unwrap_or(s));
            // The PNR is the person's: one person, one PNR.
            let content = Lpr3Content {
                begin,
                finish,
                contact_type: texts.number(ctype.get(i)),
                priority: texts.number(priority.get(i)),
                unit: texts.number(unit.get(i)),
            };
            if let Some((old_person, _, old)) = seen.get(cid) {
                if *old_person == k as u32 && *old == content {
                    same += 1;
                } else {
                    st.warn(
                        "LPR3: contact id twice with different content",
                        &t.file,
                        t.rows.row(i),
                        &t.label(&r.contact_id),
                        format!("{cid}: the first row is kept"),
                    );
                }
                continue;
            }
            if let Some(e) = finish {
                if e < begin {
                    st.warn(
                        "LPR: contact ends before it starts",
                        &t.file,
                        t.rows.row(i),
                        &t.label(&r.end_date),
                        format!("contact {cid} ends before it starts; it is left out"),
                    );
                    continue;
                }
            }
            seen.insert(cid.to_string(), (k as u32, d, content));
            used += 1;
            if !st.period.contains(d) {
                continue;
            }
            if !ctype.get(i).is_some_and(|c| code_in(c, &r.physical_types)) {
                *st.report
                    .code_groups
                    .entry("LPR3 contacts not counted (not physical attendance)".into())
                    .or_default()
                    .entry(ctype.get(i).unwrap_or_default().to_string())
                    .or_default() += 1;
                continue;
            }
            let acute = match priority.get(i) {
                Some(p) if code_in(p, &lpr.acute) => true,
                Some(p) if code_in(p, &lpr.planned) => false,
                other => {
                    st.warn(
                        "LPR3: unknown priority",
                        &t.file,
                        t.rows.row(i),
                        &t.label(&r.priority),
                        format!("{:?}: taken as planned", other.unwrap_or("")),
                    );
                    false
                }
            };
            let kind = if unit
                .get(i)
                .is_some_and(|u| r.emergency_units.iter().any(|e| e.eq_ignore_ascii_case(u)))
            {
                Kind::Emergency
            } else if finish.is_some_and(|e| e - begin >= admission_seconds) {
                Kind::Admission { acute }
            } else {
                Kind::Outpatient
            };
            st.contacts.push((k as u32, d, kind.contact_type()));
        }
        st.drop_count(
            "LPR3: contact before the LPR3 switch date (reported by LPR2)",
            early,
        );
        st.drop_count(
            "LPR3: reported by another system (LPRINDBERETNINGSSYSTEM)",
            other_system,
        );
        st.drop_count("LPR3: the same contact twice (identical rows)", same);
        st.file_read(f, n, used);
    }
    for f in diagnoses {
        let t = Table::read(&f.path)?;
        note_names(st, &t, &[&r.contact_id, &r.diagnosis, &r.retracted]);
        let id = t.text(&r.contact_id)?;
        let code = t.text(&r.diagnosis)?;
        let retracted = if t.has(&r.retracted) {
            t.text(&r.retracted)?
        } else {
            Texts::missing(t.height())
        };
        let mut used = 0;
        let (mut orphan, mut withdrawn) = (0, 0);
        for i in 0..t.height() {
            let (Some(cid), Some(c)) = (id.get(i), code.get(i)) else {
                continue;
            };
            if retracted
                .get(i)
                .is_some_and(|v| r.retracted_values.iter().any(|x| x.eq_ignore_ascii_case(v)))
            {
                withdrawn += 1;
                continue;
            }
            match seen.get(cid) {
                Some(&(k, d, _)) => {
                    let c = st.codes.number(c);
                    st.diagnoses[k as usize].push((d, c));
                    used += 1;
                }
                None => orphan += 1,
            }
        }
        st.drop_count("LPR3: diagnosis of no kept contact", orphan);
        st.drop_count("LPR3: diagnosis later retracted", withdrawn);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

/// What an LPR3 contact row says besides its id and person (texts as numbers), to tell
/// a repeated row from a different contact under the same id.
#[derive(PartialEq)]
struct Lpr3Content {
    begin: i64,
    finish: Option<i64>,
    contact_type: u32,
    priority: u32,
    unit: u32,
}

pub(super) fn diagnosis_covariates(st: &mut State) {
    let d = &st.recipe.diagnoses;
    // Per code number: the Charlson conditions it belongs to, and whether it is an F code.
    let conditions: Vec<Vec<usize>> = st
        .codes
        .codes
        .iter()
        .map(|code| {
            d.charlson
                .iter()
                .enumerate()
                .filter(|(_, c)| c.codes.iter().any(|p| code.starts_with(p.as_str())))
                .map(|(j, _)| j)
                .collect()
        })
        .collect();
    let psychiatric_code: Vec<bool> = st
        .codes
        .codes
        .iter()
        .map(|code| d.psychiatric.iter().any(|p| code.starts_with(p.as_str())))
        .collect();
    for list in &mut st.diagnoses {
        list.sort_unstable();
        list.dedup();
    }
    let mut present = vec![false; d.charlson.len()];
    for row in &mut st.covs {
        let end = days_from_civil(row.year, 12, 31);
        let charlson_from = days_from_civil(row.year - d.charlson_years, 12, 31);
        let psych_from = days_from_civil(row.year - d.psychiatric_years, 12, 31);
        present.fill(false);
        let mut psychiatric = false;
        for &(day, code) in &st.diagnoses[row.person] {
            if day > end {
                break;
            }
            if day > charlson_from {
                for &j in &conditions[code as usize] {
                    present[j] = true;
                }
            }
            if day > psych_from && psychiatric_code[code as usize] {
                psychiatric = true;
            }
        }
        row.charlson = d
            .charlson
            .iter()
            .zip(&present)
            .filter(|(_, &p)| p)
            .map(|(c, _)| i64::from(c.weight))
            .sum();
        row.psychiatric = psychiatric;
    }
}
