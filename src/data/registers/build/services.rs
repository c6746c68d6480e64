//! The health insurance register (SSSY: general-practice services by fee week, netted
//! corrections, child services left out) and the 1813 helpline calls.

use super::*;

/// One health insurance row kept for netting: person, (practice, service) as the number
/// of the pair, fee week YYWW, count, and the row's place among all rows read (files in
/// order, rows in order), which orders the contacts and finds the row for a warning.
/// 20 bytes a row: the 2,000,000-person simulation has 75 million.
#[derive(Clone, Copy)]
struct ServiceRow {
    person: u32,
    pair: u32,
    week: i32,
    count: i32,
    at: u32,
}

/// Rows per part when a large Parquet file is read a part at a time (the table of one
/// part, about 350 MB of health insurance rows, is what the import holds of a file).
const PART_ROWS: usize = 1 << 22;

/// A part of a register file: the file's place in the list, the rows, and whether it is
/// the file's last part.
struct FilePart {
    file: usize,
    rows: Option<(usize, usize)>,
    last: bool,
}

/// The parts to read `files` in: Parquet files of more than [`PART_ROWS`] rows in
/// slices, the others whole.
fn parts_of(files: &[RegisterFile]) -> Vec<FilePart> {
    let mut parts = Vec::new();
    for (file, f) in files.iter().enumerate() {
        match parquet_shape(&f.path)
            .map(|s| s.0)
            .filter(|&n| n > PART_ROWS)
        {
            Some(n) => {
                let mut offset = 0;
                while offset < n {
                    let length = PART_ROWS.min(n - offset);
                    parts.push(FilePart {
                        file,
                        rows: Some((offset, length)),
                        last: offset + length == n,
                    });
                    offset += length;
                }
            }
            None => parts.push(FilePart {
                file,
                rows: None,
                last: true,
            }),
        }
    }
    parts
}

pub(super) fn read_sssy(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.sssy.clone();
    let groups = r.groups();
    // Every row, summed per (person, practice, service, fee week) below by sorting (less
    // memory than a hash map of the keys); practices and services as numbers of their
    // text, and the pair of them as a number.
    let mut services: Vec<ServiceRow> = Vec::new();
    let mut texts = Interner::default();
    let mut pairs: HashMap<(u32, u32), u32> = HashMap::default();
    let mut pair_list: Vec<(u32, u32)> = Vec::new();
    // Where the rows of each part start among all rows, with its file and row numbers.
    let mut part_starts: Vec<(u32, usize, RowNumbers)> = Vec::new();
    let mut next_at: u64 = 0;
    // Fee weeks YYWW already found valid.
    let mut valid_weeks = vec![false; 10_000];
    let (mut rows_read, mut used) = (0usize, 0u64);
    let parts = parts_of(files);
    read_ahead(files, &parts, |part, t| {
        let f = &files[part.file];
        if next_at + t.height() as u64 > u64::from(u32::MAX) {
            return Err(RegisterError::Usage(format!(
                "{}: more than {} health insurance rows in all; import fewer years at a time",
                t.file,
                u32::MAX
            )));
        }
        part_starts.push((next_at as u32, part.file, t.rows.clone()));
        let first_at = next_at as u32;
        next_at += t.height() as u64;
        let pnr = t.text(&r.pnr)?;
        let spec = t.text(&r.specialty)?;
        let service = t.text(&r.service)?;
        let week = t.integers(&r.fee_week)?;
        let count = t.integers(&r.count)?;
        let child = t.integers(&r.child)?;
        let practice = t.text(&r.practice)?;
        let (mut other, mut children) = (0, 0);
        let mut last_pair: Option<(Option<String>, Option<String>, u32)> = None;
        services.reserve(t.height());
        for i in 0..t.height() {
            if !spec
                .get(i)
                .is_some_and(|s| r.general_practice.iter().any(|g| s.starts_with(g.as_str())))
            {
                other += 1;
                continue;
            }
            if child[i].unwrap_or(0) != 0 {
                children += 1;
                continue;
            }
            let Some(w) = week[i] else {
                return Err(t.bad(i, &r.fee_week, "the fee week is missing"));
            };
            let cached = usize::try_from(w).ok().filter(|&w| w < valid_weeks.len());
            if !cached.is_some_and(|w| valid_weeks[w]) {
                fee_week(w).map_err(|m| t.bad(i, &r.fee_week, m))?;
                if let Some(w) = cached {
                    valid_weeks[w] = true;
                }
            }
            let Some(n) = count[i] else {
                return Err(t.bad(i, &r.count, "the number of services is missing"));
            };
            let Ok(n) = i32::try_from(n) else {
                return Err(t.bad(i, &r.count, format!("{n} services in one row")));
            };
            let Some(k) = st.person_of(pnr.get(i), "SSSY", &t, i, &r.pnr) else {
                continue;
            };
            // Rows of a person share the practice and often the service: the last
            // pair is checked before the hash maps.
            let (p_text, s_text) = (practice.get(i), service.get(i));
            let pair = match &last_pair {
                Some((p, s, n)) if p.as_deref() == p_text && s.as_deref() == s_text => *n,
                _ => {
                    let key = (texts.number(p_text), texts.number(s_text));
                    let n = *pairs.entry(key).or_insert_with(|| {
                        pair_list.push(key);
                        pair_list.len() as u32 - 1
                    });
                    last_pair = Some((p_text.map(str::to_string), s_text.map(str::to_string), n));
                    n
                }
            };
            // A fee week is YYWW (checked above), so it fits an i32.
            services.push(ServiceRow {
                person: k as u32,
                pair,
                week: w as i32,
                count: n,
                at: first_at + i as u32,
            });
            used += 1;
        }
        st.drop_count("SSSY: not general practice (SPECIALE)", other);
        st.drop_count(
            "SSSY: child's service on a parent's number (BARNMAK)",
            children,
        );
        rows_read += t.height();
        if part.last {
            st.file_read(f, rows_read, used);
            (rows_read, used) = (0, 0);
        }
        Ok(())
    })?;
    drop(pairs);
    let mut outside = 0;
    let mut other_services = 0u64;
    // The net count per key, with the place of the row where the key was first seen.
    // Stable: files come sorted by PNR, in runs that a merge sort uses; the keys differ
    // (`at`), so the order is the same as an unstable sort's.
    services.par_sort_by_key(|s| (s.person, s.pair, s.week, s.at));
    services.dedup_by(|later, first| {
        let same = (later.person, later.pair, later.week) == (first.person, first.pair, first.week);
        if same {
            first.count = first.count.saturating_add(later.count);
        }
        same
    });
    // Contacts are sorted when the table is made, so only the warnings need the order
    // of the rows.
    let kinds: Vec<(u8, &[String])> = groups.iter().map(|g| (type_id(g.0), g.1)).collect();
    let mut negative: Vec<ServiceRow> = Vec::new();
    // The Monday of each fee week YYWW (all checked above).
    let mut mondays: Vec<Option<i32>> = vec![None; 10_000];
    for s in services {
        let service = texts.text(pair_list[s.pair as usize].1);
        let n = s.count;
        let w = s.week;
        if n < 0 {
            negative.push(s);
            continue;
        }
        let Some(kind) = kinds.iter().find(|g| code_in(service, g.1)).map(|g| g.0) else {
            other_services += n as u64;
            count_other_service(st, service, i64::from(n));
            continue;
        };
        let monday = usize::try_from(w).ok().and_then(|w| mondays.get_mut(w));
        let day = match monday {
            Some(Some(day)) => *day,
            other => {
                let (year, week) = fee_week(i64::from(w)).unwrap_or((0, 1));
                let day = monday_of(year, week);
                if let Some(m) = other {
                    *m = Some(day);
                }
                day
            }
        };
        if !st.period.contains(day) {
            outside += n as u64;
            continue;
        }
        for _ in 0..n {
            st.contacts.push((s.person, day, kind));
        }
    }
    negative.sort_unstable_by_key(|s| s.at);
    for s in negative {
        let service = texts.text(pair_list[s.pair as usize].1);
        let (n, w) = (s.count, s.week);
        let at = part_starts.partition_point(|p| p.0 <= s.at) - 1;
        let (first_at, file, rows) = &part_starts[at];
        st.warn(
            "SSSY: negative count with no earlier service",
            &files[*file].path.display().to_string(),
            rows.row((s.at - first_at) as usize),
            &r.count,
            format!("the services of fee week {w:04}, service {service} net to {n}; left out"),
        );
    }
    st.drop_count("SSSY: services outside the extract period", outside);
    st.drop_count(
        "SSSY: general-practice services that are not contacts (other service codes)",
        other_services,
    );
    Ok(())
}

/// Counts a general-practice service code that no contact group of the recipe lists, so
/// that the report shows which codes a project may want to add.
fn count_other_service(st: &mut State, service: &str, n: i64) {
    *st.report
        .code_groups
        .entry("SSSY: general-practice service codes not counted as contacts (YDELSESNUMMER; add one to a gp_ list of the recipe to count it)".into())
        .or_default()
        .entry(service.to_string())
        .or_default() += n.unsigned_abs();
}

/// Calls `f` with each part's table in order while the next part is read on another
/// thread of the pool (at most two tables in memory).
fn read_ahead(
    files: &[RegisterFile],
    parts: &[FilePart],
    mut f: impl FnMut(&FilePart, Table) -> Result<(), RegisterError> + Send,
) -> Result<(), RegisterError> {
    let read = |part: &FilePart| {
        Table::read_part(
            &files[part.file].path,
            Part {
                rows: part.rows,
                keep: None,
            },
        )
    };
    let Some(first) = parts.first() else {
        return Ok(());
    };
    let mut next = read(first);
    for (j, part) in parts.iter().enumerate() {
        let table = next?;
        let (ahead, done) = rayon::join(|| parts.get(j + 1).map(read), || f(part, table));
        done?;
        match ahead {
            Some(t) => next = t,
            None => break,
        }
    }
    Ok(())
}

pub(super) fn read_helpline(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.helpline.clone();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let date = t.dates(&r.date)?;
        let mut used = 0;
        let mut outside = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let Some(d) = date_i else {
                return Err(t.bad(i, &r.date, "the time of the call is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "1813", &t, i, &r.pnr) else {
                continue;
            };
            if !st.period.contains(d) {
                outside += 1;
                continue;
            }
            st.contacts.push((k as u32, d, type_id("helpline_1813")));
            used += 1;
        }
        st.drop_count("1813: calls outside the extract period", outside);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}
