//! The population registers: BEF (persons, households), DOD, VNDS (migrations), the
//! practice list, UDDA (education), IND (income) and DREAM (main attachment per year).

use super::*;

pub(super) fn read_bef(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = &st.recipe.bef;
    st.cov_index = CovIndex::new(files.iter().filter_map(|f| f.year.map(i32::from)).collect());
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name (e.g. {}2024)",
                f.path.display(),
                r.register,
                r.register
            )));
        };
        let year = i32::from(year);
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let sex = t.text(&r.sex)?;
        let birth = t.dates(&r.birth_date)?;
        let origin = t.text(&r.origin)?;
        let kom = t.integers(&r.municipality)?;
        let household = t.integers(&r.household_size)?;
        st.index.reserve(t.height());
        let mut last = usize::MAX;
        let mut used = 0u64;
        for i in 0..t.height() {
            let Some(p) = pnr.get(i) else {
                return Err(t.bad(i, &r.pnr, "the PNR is missing"));
            };
            let female = match sex.get(i) {
                Some(c) if code_in(c, &r.female) => true,
                Some(c) if code_in(c, &r.male) => false,
                other => {
                    return Err(t.bad(
                        i,
                        &r.sex,
                        format!(
                            "unknown code {:?} (the recipe lists male {:?}, female {:?})",
                            other.unwrap_or(""),
                            r.male,
                            r.female
                        ),
                    ))
                }
            };
            let origin_code: &'static str = match origin.get(i) {
                Some(c) if code_in(c, &r.danish) => "danish",
                Some(c) if code_in(c, &r.immigrant) => "immigrant",
                Some(c) if code_in(c, &r.descendant) => "descendant",
                other => {
                    return Err(t.bad(
                        i,
                        &r.origin,
                        format!("unknown code {:?}", other.unwrap_or("")),
                    ))
                }
            };
            let Some(b) = birth[i] else {
                return Err(t.bad(i, &r.birth_date, "the birth date is missing"));
            };
            let Some(m) = kom[i] else {
                return Err(t.bad(i, &r.municipality, "the municipality is missing"));
            };
            // Each year's file in the order of the first: the next person is tried
            // before the hash map.
            let found = match st.nearby(p, last) {
                Some(k) => Some(k),
                None => st.index.get(p).copied(),
            };
            let k = match found {
                Some(k) => {
                    let q = &st.persons[k];
                    if q.female != female || q.birth != b || q.origin != origin_code {
                        st.warn(
                            "BEF: sex, birth date or origin differs between years",
                            &t.file,
                            t.rows.row(i),
                            &r.pnr,
                            format!("{p}: the latest year's values are used"),
                        );
                        let q = &mut st.persons[k];
                        q.female = female;
                        q.birth = b;
                        q.origin = origin_code;
                    }
                    k
                }
                None => {
                    st.persons.push(PersonRow {
                        pnr: p.to_string(),
                        female,
                        birth: b,
                        origin: origin_code,
                        death: None,
                        emigration: None,
                        moves: Vec::new(),
                    });
                    st.index.insert(p.to_string(), st.persons.len() - 1);
                    st.pnr_keys.push(pnr_key(p).unwrap_or(0));
                    st.persons.len() - 1
                }
            };
            last = k;
            if st.cov_index.contains_key(&(k, year)) {
                return Err(t.bad(i, &r.pnr, format!("{p} occurs twice in {year}")));
            }
            let living_alone = match household[i] {
                None => None,
                Some(n) if n >= 1 => Some(n == 1),
                Some(n) => {
                    st.warn(
                        "BEF: household size below 1",
                        &t.file,
                        t.rows.row(i),
                        &r.household_size,
                        format!("{n}: living alone is left missing"),
                    );
                    None
                }
            };
            st.cov_index.insert((k, year), st.covs.len());
            st.covs.push(CovRow {
                person: k,
                year,
                municipality: m,
                living_alone,
                ..Default::default()
            });
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

pub(super) fn read_dod(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.dod.clone();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let date = t.dates(&r.death_date)?;
        let mut used = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let Some(k) = st.person_of(pnr.get(i), "DOD", &t, i, &r.pnr) else {
                continue;
            };
            let Some(d) = date_i else { continue };
            if d < st.persons[k].birth {
                return Err(t.bad(
                    i,
                    &r.death_date,
                    format!(
                        "{} is before the birth date in BEF ({})",
                        format_date(d),
                        format_date(st.persons[k].birth)
                    ),
                ));
            }
            match st.persons[k].death {
                Some(old) if old != d => {
                    st.warn(
                        "DOD: two different death dates",
                        &t.file,
                        t.rows.row(i),
                        &r.death_date,
                        format!(
                            "{} and {}: the earlier is used",
                            format_date(old),
                            format_date(d)
                        ),
                    );
                    st.persons[k].death = Some(old.min(d));
                }
                _ => st.persons[k].death = Some(d),
            }
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

pub(super) fn read_vnds(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.vnds.clone();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let dir = t.text(&r.direction)?;
        let date = t.dates(&r.date)?;
        let mut used = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let out = match dir.get(i) {
                Some(c) if code_in(c, &r.emigration) => true,
                Some(c) if code_in(c, &r.immigration) => false,
                other => {
                    return Err(t.bad(
                        i,
                        &r.direction,
                        format!(
                            "unknown code {:?} (expected {:?} or {:?})",
                            other.unwrap_or(""),
                            r.immigration,
                            r.emigration
                        ),
                    ))
                }
            };
            let Some(d) = date_i else {
                return Err(t.bad(i, &r.date, "the date of the move is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "VNDS", &t, i, &r.pnr) else {
                continue;
            };
            st.persons[k].moves.push((d, out));
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    for p in &mut st.persons {
        // Stable: moves on one day keep the order of the files.
        p.moves.sort_by_key(|m| m.0);
        p.emigration = match p.moves.last() {
            Some(&(d, true)) => Some(d),
            _ => None,
        };
    }
    Ok(())
}

pub(super) fn read_practice(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.practice.clone();
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name",
                f.path.display(),
                r.register
            )));
        };
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let practice = t.text(&r.practice)?;
        let mut used = 0;
        let mut other_year = 0;
        for i in 0..t.height() {
            let Some(k) = st.person_of(pnr.get(i), "practice listing", &t, i, &r.pnr) else {
                continue;
            };
            match st.cov_index.get(&(k, i32::from(year))) {
                Some(&c) => {
                    st.covs[c].practice = practice.owned(i);
                    used += 1;
                }
                None => other_year += 1,
            }
        }
        st.drop_count("practice listing: person not in BEF that year", other_year);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

pub(super) fn read_udda(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.udda.clone();
    let groups: Vec<(&'static str, &[String])> = vec![
        (EDUCATION[0], r.basic.as_slice()),
        (EDUCATION[1], r.upper_secondary.as_slice()),
        (EDUCATION[2], r.tertiary_short_medium.as_slice()),
        (EDUCATION[3], r.tertiary_long.as_slice()),
        ("", r.not_stated.as_slice()),
    ];
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name",
                f.path.display(),
                r.register
            )));
        };
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let code = t.text(&r.education)?;
        let mut used = 0;
        let mut other_year = 0;
        for i in 0..t.height() {
            let Some(k) = st.person_of(pnr.get(i), "UDDA", &t, i, &r.pnr) else {
                continue;
            };
            let Some(&c) = st.cov_index.get(&(k, i32::from(year))) else {
                other_year += 1;
                continue;
            };
            let group = match code.get(i) {
                None => None,
                Some(c) => {
                    match group_by_prefix(c, &groups) {
                        Some("") => None,
                        Some(g) => Some(g),
                        None => {
                            st.warn("UDDA: unknown HFAUDD code", &t.file, t.rows.row(i), &r.education, format!("{c:?} is in no group of the recipe; the education is left missing"));
                            None
                        }
                    }
                }
            };
            st.covs[c].education = group;
            used += 1;
        }
        st.drop_count("UDDA: person not in BEF that year", other_year);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

pub(super) fn read_ind(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.ind.clone();
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name",
                f.path.display(),
                r.register
            )));
        };
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let income = t.numbers(&r.income)?;
        let mut used = 0;
        let mut other_year = 0;
        for (i, &income_i) in income.iter().enumerate() {
            let Some(k) = st.person_of(pnr.get(i), "IND", &t, i, &r.pnr) else {
                continue;
            };
            let Some(&c) = st.cov_index.get(&(k, i32::from(year))) else {
                other_year += 1;
                continue;
            };
            st.covs[c].income = income_i;
            used += 1;
        }
        st.drop_count("IND: person not in BEF that year", other_year);
        st.file_read(f, t.height(), used);
    }
    // Quintiles within each year: incomes in `f64::total_cmp` order, ties in PNR order.
    let total_order = |x: f64| {
        let bits = x.to_bits() as i64;
        bits ^ (((bits >> 63) as u64) >> 1) as i64
    };
    let mut by_year: BTreeMap<i32, Vec<(i64, u32, usize)>> = BTreeMap::new();
    for (c, row) in st.covs.iter().enumerate() {
        if let Some(x) = row.income {
            by_year
                .entry(row.year)
                .or_default()
                .push((total_order(x), st.pnr_rank[row.person], c));
        }
    }
    for rows in by_year.values_mut() {
        // A person has one row a year: the keys differ, so an unstable sort gives one order.
        rows.par_sort_unstable();
        let n = rows.len();
        for (rank, &(_, _, c)) in rows.iter().enumerate() {
            st.covs[c].quintile = Some((1 + 5 * rank / n) as i64);
        }
    }
    Ok(())
}

/// Week columns of DREAM read at a time from a Parquet file.
const DREAM_COLUMNS: usize = 16;

pub(super) fn read_dream(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.dream.clone();
    let groups = r.groups();
    let empty = groups
        .iter()
        .position(|g| g.0 == r.empty_weeks)
        .unwrap_or(0);
    // The slot of each code: the 7 groups, then 7 = "unknown".
    let mut slot_of: HashMap<&str, usize> = HashMap::default();
    for (g, (_, codes)) in groups.iter().enumerate() {
        for c in codes.iter() {
            slot_of.entry(c.as_str()).or_insert(g);
        }
    }
    for c in &r.unknown {
        slot_of.insert(c.as_str(), 7);
    }
    // Weeks counted per covariate row: 7 groups and "unknown".
    let mut weeks: HashMap<usize, [u16; 8]> = HashMap::default();
    let mut years_seen: std::collections::BTreeSet<i32> = std::collections::BTreeSet::new();
    let prefix = r.week_prefix.to_ascii_uppercase();
    let cov_years: std::collections::BTreeSet<i32> = st.covs.iter().map(|c| c.year).collect();
    for f in files {
        // A Parquet file is read a group of week columns at a time (the whole DREAM
        // table of 2,000,000 persons takes 4 GB); other formats whole.
        let shape = parquet_shape(&f.path);
        let pnr_name = r.pnr.to_ascii_uppercase();
        let only_pnr = |n: &str| n == pnr_name;
        let t = Table::read_part(
            &f.path,
            Part {
                rows: None,
                keep: shape
                    .is_some()
                    .then_some(&only_pnr as &(dyn Fn(&str) -> bool + Sync)),
            },
        )?;
        let names: Vec<String> = match &shape {
            Some((_, names)) => names.clone(),
            None => t
                .frame
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect(),
        };
        let pnr = t.text(&r.pnr)?;
        let rows: Vec<Option<usize>> = (0..t.height())
            .map(|i| st.person_of(pnr.get(i), "DREAM", &t, i, &r.pnr))
            .collect();
        let mut week_columns: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for n in &names {
            let Some(rest) = n.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()) {
                let yy: i32 = rest[..2].parse().unwrap_or(0);
                let year = if yy > 90 { 1900 + yy } else { 2000 + yy };
                week_columns.entry(year).or_default().push(n.to_string());
            }
        }
        let mut unknown: Vec<(usize, String, String)> = Vec::new();
        for (year, names) in &week_columns {
            if !cov_years.contains(year) {
                continue;
            }
            years_seen.insert(*year);
            let cov_of: Vec<Option<usize>> = rows
                .iter()
                .map(|k| k.and_then(|k| st.cov_index.get(&(k, *year)).copied()))
                .collect();
            let mut counts: Vec<[u16; 8]> = vec![[0; 8]; rows.len()];
            let mut last: (String, usize) = (String::new(), empty);
            for group in names.chunks(DREAM_COLUMNS) {
                let in_group = |n: &str| group.iter().any(|g| g == n);
                let part;
                let source = if shape.is_some() {
                    part = Table::read_part(
                        &f.path,
                        Part {
                            rows: None,
                            keep: Some(&in_group),
                        },
                    )?;
                    &part
                } else {
                    &t
                };
                for name in group {
                    source.for_each_text(name, |i, code| {
                        if rows[i].is_none() {
                            return;
                        }
                        let slot = match code {
                            None => empty,
                            // Weeks repeat their codes: the last one is checked first.
                            Some(code) if code == last.0 => last.1,
                            Some(code) => match slot_of.get(code) {
                                Some(&g) => {
                                    last = (code.to_string(), g);
                                    g
                                }
                                None => {
                                    if unknown.len() < 1000 {
                                        unknown.push((i, name.clone(), code.to_string()));
                                    }
                                    return;
                                }
                            },
                        };
                        counts[i][slot] += 1;
                    })?;
                }
            }
            for (i, c) in cov_of.iter().enumerate() {
                if let Some(c) = c {
                    weeks.insert(*c, counts[i]);
                }
            }
        }
        for (i, name, code) in unknown {
            st.warn(
                "DREAM: unknown benefit code",
                &t.file,
                t.rows.row(i),
                &name,
                format!("{code:?} is in no group of the recipe; the week is not counted"),
            );
        }
        let used = rows.iter().filter(|k| k.is_some()).count() as u64;
        st.file_read(f, t.height(), used);
    }
    for (c, row) in st.covs.iter_mut().enumerate() {
        if !years_seen.contains(&row.year) {
            continue;
        }
        row.employment = match weeks.get(&c) {
            // Not in DREAM: no benefit in any week.
            None => Some(groups[empty].0),
            Some(w) => {
                if w[7] > 0 {
                    None
                } else {
                    let best = (0..7).fold(0, |b, g| if w[g] > w[b] { g } else { b });
                    Some(groups[best].0)
                }
            }
        };
    }
    Ok(())
}
