//! The health insurance register (SSSY: general-practice services by fee week, netted
//! corrections, child services left out) and the 1813 helpline calls.

use super::*;

/// The services of a person, practice, service code and fee week (practice and service
/// as numbers of their text).
type ServiceKey = (u32, u32, u32, i32);
/// Their net count, and the file and row where they were first seen.
type ServiceSum = (i64, u32, u32);

pub(super) fn read_sssy(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.sssy.clone();
    let groups = r.groups();
    // (person, practice, service, fee week) and (count, file, row) of every row, summed
    // per key below by sorting (less memory than a hash map of the keys); practices and
    // services as numbers of their text.
    let mut services: Vec<(ServiceKey, ServiceSum)> = Vec::new();
    let mut texts = Interner::default();
    let mut file_names = Vec::new();
    // Fee weeks YYWW already found valid.
    let mut valid_weeks = vec![false; 10_000];
    read_ahead(files, |f, t| {
        let pnr = t.text(&r.pnr)?;
        let spec = t.text(&r.specialty)?;
        let service = t.text(&r.service)?;
        let week = t.integers(&r.fee_week)?;
        let count = t.integers(&r.count)?;
        let child = t.integers(&r.child)?;
        let practice = t.text(&r.practice)?;
        let (mut used, mut other, mut children) = (0, 0, 0);
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
            let Some(k) = st.person_of(pnr.get(i), "SSSY", &t, i, &r.pnr) else {
                continue;
            };
            // A fee week is YYWW (checked above), so it fits an i32.
            let key = (
                k as u32,
                texts.number(practice.get(i)),
                texts.number(service.get(i)),
                w as i32,
            );
            services.push((key, (n, file_names.len() as u32, t.rows.row(i) as u32)));
            used += 1;
        }
        st.drop_count("SSSY: not general practice (SPECIALE)", other);
        st.drop_count(
            "SSSY: child's service on a parent's number (BARNMAK)",
            children,
        );
        st.file_read(f, t.height(), used);
        file_names.push(t.file.clone());
        Ok(())
    })?;
    let mut outside = 0;
    let mut other_services = 0u64;
    // The net count per key, with the file and row where the key was first seen.
    services.sort_unstable_by_key(|&(key, (_, file, row))| (key, file, row));
    services.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 .0 += later.1 .0;
        }
        same
    });
    services.sort_unstable_by_key(|&(key, (_, file, row))| (file, row, key));
    let kinds: Vec<(u8, &[String])> = groups.iter().map(|g| (type_id(g.0), g.1)).collect();
    for ((k, _, service, w), (n, file, row)) in services {
        let service = texts.text(service);
        if n < 0 {
            st.warn(
                "SSSY: negative count with no earlier service",
                &file_names[file as usize],
                row as usize,
                &r.count,
                format!("the services of fee week {w:04}, service {service} net to {n}; left out"),
            );
            continue;
        }
        let Some(kind) = kinds.iter().find(|g| code_in(service, g.1)).map(|g| g.0) else {
            other_services += n as u64;
            count_other_service(st, service, n);
            continue;
        };
        let (year, week) = fee_week(i64::from(w)).unwrap_or((0, 1));
        let day = monday_of(year, week);
        if !st.period.contains(day) {
            outside += n as u64;
            continue;
        }
        for _ in 0..n {
            st.contacts.push((k, day, kind));
        }
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

/// Calls `f` with each file's table in order while the next file is read on another
/// thread of the pool (at most two tables in memory).
fn read_ahead(
    files: &[RegisterFile],
    mut f: impl FnMut(&RegisterFile, Table) -> Result<(), RegisterError> + Send,
) -> Result<(), RegisterError> {
    let Some(first) = files.first() else {
        return Ok(());
    };
    let mut next = Table::read(&first.path);
    for (j, file) in files.iter().enumerate() {
        let table = next?;
        let (ahead, done) = rayon::join(
            || files.get(j + 1).map(|g| Table::read(&g.path)),
            || f(file, table),
        );
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
