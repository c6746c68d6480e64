//! Which files make each register: the recipe's accepted names (the first a folder has,
//! or several when their years do not meet), one file per register and year (two
//! namings or two copies of a year would count its records twice), the year's snapshot
//! of quarterly BEF, and VNDS or the registers that replace it since 2026.

use std::cell::RefCell;

use super::*;
use crate::data::registers::recipe::{Bef, Names, Vnds};

/// The report group that lists the names used where the recipe accepts several.
const NAMES_USED: &str =
    "Names used where the recipe accepts several (recipe's first name: name found)";
/// The report group that lists the BEF years read from another quarter.
const BEF_QUARTER: &str =
    "BEF: years without the snapshot quarter (bef.snapshot_month); the latest quarter read";

pub(super) struct Sources<'a> {
    files: &'a BTreeMap<String, Vec<RegisterFile>>,
    /// Report groups and dropped counts, added to the report by [`Sources::report`].
    groups: RefCell<BTreeMap<&'static str, BTreeMap<String, u64>>>,
    dropped: RefCell<BTreeMap<String, u64>>,
}

impl<'a> Sources<'a> {
    pub(super) fn new(files: &'a BTreeMap<String, Vec<RegisterFile>>) -> Sources<'a> {
        Sources {
            files,
            groups: RefCell::default(),
            dropped: RefCell::default(),
        }
    }

    fn of(&self, name: &str) -> &'a [RegisterFile] {
        self.files
            .get(&name.to_ascii_uppercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The files of a register under any of its accepted names.
    ///
    /// # Errors
    /// Two files of one year (two namings, or a year delivered twice), or a file without
    /// a year next to others (a file of all years and yearly files).
    pub(super) fn files(&self, names: &Names) -> Result<Vec<RegisterFile>, RegisterError> {
        let mut found = Vec::new();
        for name in names.all() {
            let files = self.of(name);
            if files.is_empty() {
                continue;
            }
            if !name.eq_ignore_ascii_case(names.first()) {
                *self
                    .groups
                    .borrow_mut()
                    .entry(NAMES_USED)
                    .or_default()
                    .entry(format!(
                        "{}: {}",
                        names.first().to_ascii_uppercase(),
                        name.to_ascii_uppercase()
                    ))
                    .or_default() += files.len() as u64;
            }
            found.extend_from_slice(files);
        }
        one_file_per_year(&found)?;
        found.sort_by(|a, b| {
            (a.year, a.month)
                .cmp(&(b.year, b.month))
                .then(a.path.cmp(&b.path))
        });
        Ok(found)
    }

    /// BEF: yearly files, or quarterly ones (`BEF{YYYY}{MM}`) of which the year's
    /// snapshot is the file of `snapshot_month`, else the year's latest quarter.
    pub(super) fn bef(&self, bef: &Bef) -> Result<Vec<RegisterFile>, RegisterError> {
        let files = self.files(&bef.register)?;
        let mut by_year: BTreeMap<Option<u16>, Vec<RegisterFile>> = BTreeMap::new();
        for f in files {
            by_year.entry(f.year).or_default().push(f);
        }
        let mut kept = Vec::new();
        let mut other_quarters = 0;
        for (_, mut year) in by_year {
            // One file of the year (yearly), or its quarters in month order.
            if year.len() == 1 && year[0].month.is_none() {
                kept.append(&mut year);
                continue;
            }
            let chosen = year
                .iter()
                .position(|f| f.month == Some(bef.snapshot_month))
                .unwrap_or_else(|| {
                    let last = year.len() - 1;
                    *self
                        .groups
                        .borrow_mut()
                        .entry(BEF_QUARTER)
                        .or_default()
                        .entry(year[last].path.display().to_string())
                        .or_default() += 1;
                    last
                });
            other_quarters += year.len() as u64 - 1;
            kept.push(year.swap_remove(chosen));
        }
        if other_quarters > 0 {
            self.dropped.borrow_mut().insert(
                format!(
                    "BEF: quarterly files of other quarters than the year's snapshot (month {})",
                    bef.snapshot_month
                ),
                other_quarters,
            );
        }
        Ok(kept)
    }

    /// VNDS, or the registers that replace it since 2026 (read together; they hold
    /// immigrations, emigrations and the years before 2005 apart).
    ///
    /// # Errors
    /// As [`Sources::files`], and files of both VNDS and its successors.
    pub(super) fn vnds(&self, vnds: &Vnds) -> Result<Vec<RegisterFile>, RegisterError> {
        let old = self.files(&vnds.register)?;
        let mut new = Vec::new();
        for name in &vnds.registers_2026 {
            new.extend(self.files(&Names::from(name.as_str()))?);
        }
        if let (Some(a), Some(b)) = (old.first(), new.first()) {
            return Err(RegisterError::Usage(format!(
                "{} and {}: {} and the registers that replace it ({}) hold the same \
                 migrations; keep one delivery",
                a.path.display(),
                b.path.display(),
                vnds.register,
                vnds.registers_2026.join(", ")
            )));
        }
        Ok(if old.is_empty() { new } else { old })
    }

    /// Adds what was chosen to the report.
    pub(super) fn report(self, st: &mut State) {
        for (group, counts) in self.groups.into_inner() {
            let into = st.report.code_groups.entry(group.to_string()).or_default();
            for (name, n) in counts {
                *into.entry(name).or_default() += n;
            }
        }
        for (reason, n) in self.dropped.into_inner() {
            st.drop_count(&reason, n);
        }
    }
}

/// Every register name the recipe reads (upper case).
pub(super) fn known_registers(recipe: &Recipe) -> Vec<String> {
    let lpr = &recipe.lpr;
    let mut names: Vec<&str> = [
        &recipe.bef.register,
        &recipe.dod.register,
        &recipe.vnds.register,
        &recipe.practice.register,
        &recipe.udda.register,
        &recipe.ind.register,
        &recipe.dream.register,
        &lpr.lpr2.contacts,
        &lpr.lpr2.diagnoses,
        &lpr.lpr2_psychiatry.contacts,
        &lpr.lpr2_psychiatry.diagnoses,
        &lpr.lpr3.contacts,
        &lpr.lpr3.diagnoses,
        &recipe.sssy.register,
        &recipe.helpline.register,
        &recipe.referrals.register,
        &recipe.survey.register,
    ]
    .iter()
    .flat_map(|n| n.all().iter().map(String::as_str))
    .collect();
    names.extend(recipe.vnds.registers_2026.iter().map(String::as_str));
    names.iter().map(|n| n.to_ascii_uppercase()).collect()
}

/// Two files may not hold the same year of a register: a file without a year holds
/// them all, and two files of one year (or one quarter) would count its records twice.
fn one_file_per_year(files: &[RegisterFile]) -> Result<(), RegisterError> {
    let clash = |a: &RegisterFile, b: &RegisterFile, what: String| {
        RegisterError::Usage(format!(
            "{} and {} both hold {what}: two namings or two copies of the same records \
             would count them twice; keep one (or move it out of the folder)",
            a.path.display(),
            b.path.display()
        ))
    };
    if files.len() > 1 {
        if let Some(all) = files.iter().find(|f| f.year.is_none()) {
            let other = files.iter().find(|f| !std::ptr::eq(*f, all)).unwrap_or(all);
            return Err(clash(all, other, format!("{} (every year)", all.register)));
        }
    }
    let mut seen: BTreeMap<(Option<u16>, Option<u8>), &RegisterFile> = BTreeMap::new();
    for f in files {
        if let Some(first) = seen.insert((f.year, f.month), f) {
            let year = f.year.map_or_else(String::new, |y| y.to_string());
            let when = match f.month {
                Some(m) => format!("{year}, month {m:02}"),
                None => year,
            };
            return Err(clash(first, f, format!("{} {when}", f.register)));
        }
    }
    // A year given both as one yearly file and as quarters.
    for f in files.iter().filter(|f| f.month.is_none()) {
        if let Some(q) = files.iter().find(|q| q.year == f.year && q.month.is_some()) {
            let year = f.year.map_or_else(String::new, |y| y.to_string());
            return Err(clash(f, q, format!("{} {year}", f.register)));
        }
    }
    Ok(())
}

/// Notes the variables of `t` found under another of the recipe's names than the first.
pub(super) fn note_names(st: &mut State, t: &Table, variables: &[&Names]) {
    for names in variables.iter().filter(|n| n.all().len() > 1) {
        let Some(used) = t.name(*names) else {
            continue;
        };
        let first = names.first().to_ascii_uppercase();
        if used != first {
            *st.report
                .code_groups
                .entry(NAMES_USED.to_string())
                .or_default()
                .entry(format!("{first}: {used}"))
                .or_default() += 1;
        }
    }
}
