//! The extract tables: columns, types and codes of the data dictionary, unique sorted
//! keys, and events that respect the calendar and the eligibility rules.

use super::*;

/// Column names and polars dtypes, read from the data dictionary itself.
fn dictionary(table: &str) -> Vec<(String, DataType, bool, toml::Value)> {
    let path = format!(
        "{}/data-dictionary/{table}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    value["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let dtype = match c["type"].as_str().unwrap() {
                "string" | "enumeration" => DataType::String,
                "integer" => DataType::Int64,
                "float" => DataType::Float64,
                "date" => DataType::Date,
                "boolean" => DataType::Boolean,
                other => panic!("unknown type {other}"),
            };
            (
                c["name"].as_str().unwrap().to_string(),
                dtype,
                c["required"].as_bool().unwrap_or(false),
                c.clone(),
            )
        })
        .collect()
}

#[test]
fn columns_dtypes_and_values_follow_the_dictionary() {
    let x = simulate(&small()).unwrap();
    for (name, df) in tables(&x) {
        let columns = dictionary(name);
        let got: Vec<(String, DataType)> = df
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().clone()))
            .collect();
        let want: Vec<(String, DataType)> =
            columns.iter().map(|c| (c.0.clone(), c.1.clone())).collect();
        assert_eq!(got, want, "columns of {name}");
        assert!(df.height() > 0, "{name} is empty");
        for (col, dtype, required, spec) in &columns {
            let column = df.column(col).unwrap();
            if *required {
                assert_eq!(column.null_count(), 0, "{name}.{col} is required");
            }
            if let Some(values) = spec.get("values").and_then(|v| v.as_array()) {
                let codes: Vec<&str> = values.iter().map(|v| v["code"].as_str().unwrap()).collect();
                for v in column.str().unwrap().iter().flatten() {
                    assert!(codes.contains(&v), "{name}.{col}: {v} is not a code");
                }
            }
            if *dtype == DataType::Int64 {
                let values: Vec<i64> = column.i64().unwrap().iter().flatten().collect();
                if let Some(min) = spec.get("min").and_then(|v| v.as_integer()) {
                    assert!(values.iter().all(|&v| v >= min), "{name}.{col} below min");
                }
                if let Some(max) = spec.get("max").and_then(|v| v.as_integer()) {
                    assert!(values.iter().all(|&v| v <= max), "{name}.{col} above max");
                }
                if let Some(allowed) = spec.get("allowed").and_then(|v| v.as_array()) {
                    let allowed: Vec<i64> =
                        allowed.iter().map(|v| v.as_integer().unwrap()).collect();
                    assert!(values.iter().all(|v| allowed.contains(v)), "{name}.{col}");
                }
            }
        }
    }
    // Every UCLA-20 item is empty; other optional columns have some nulls.
    for j in 1..=20 {
        let c = x.proms.column(&format!("ucla20_{j}")).unwrap();
        assert_eq!(c.null_count(), x.proms.height());
    }
    assert!(x.covariates.column("education").unwrap().null_count() > 0);
    assert!(x.persons.column("death_date").unwrap().null_count() < x.persons.height());
    let vas: Vec<f64> = x
        .proms
        .column("eq5d_vas")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert!(vas
        .iter()
        .all(|v| (0.0..=100.0).contains(v) && v.fract() == 0.0));
}

#[test]
fn keys_are_unique_and_rows_sorted() {
    let x = simulate(&small()).unwrap();
    let n = small().referred + small().pool;
    let ids = strings(&x.persons, "person_id");
    assert_eq!(ids.len(), n);
    for (k, id) in ids.iter().enumerate() {
        assert_eq!(id.as_deref(), Some(format!("P{:08}", k + 1).as_str()));
    }

    let cov: Vec<(String, i64)> = strings(&x.covariates, "person_id")
        .into_iter()
        .zip(ints(&x.covariates, "year"))
        .map(|(a, b)| (a.unwrap(), b.unwrap()))
        .collect();
    assert!(
        cov.windows(2).all(|w| w[0] < w[1]),
        "covariates not sorted/unique"
    );

    let referrals: Vec<String> = strings(&x.referrals, "person_id")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(referrals.len(), small().referred);
    assert!(referrals.windows(2).all(|w| w[0] < w[1]));
    // Referred persons are spread over the id range, not the first ids.
    let last = id_number(referrals.last().unwrap());
    assert!(
        last > small().referred * 2,
        "referred persons got the first ids"
    );

    let proms: Vec<(String, i64)> = strings(&x.proms, "person_id")
        .into_iter()
        .zip(ints(&x.proms, "wave"))
        .map(|(a, b)| (a.unwrap(), b.unwrap()))
        .collect();
    assert!(
        proms.windows(2).all(|w| w[0] < w[1]),
        "proms not sorted/unique"
    );
    assert!(proms
        .iter()
        .all(|(id, _)| referrals.binary_search(id).is_ok()));

    let contacts: Vec<(String, i32, String)> = strings(&x.contacts, "person_id")
        .into_iter()
        .zip(days(&x.contacts, "date"))
        .zip(strings(&x.contacts, "contact_type"))
        .map(|((a, b), c)| (a.unwrap(), b.unwrap(), c.unwrap()))
        .collect();
    assert!(
        contacts.windows(2).all(|w| w[0] <= w[1]),
        "contacts not sorted"
    );
    // Same-day repeats of one type exist in a population this size.
    assert!(contacts.windows(2).any(|w| w[0] == w[1]));
}

#[test]
fn events_respect_the_calendar_and_eligibility() {
    let x = simulate(&small()).unwrap();
    let n = x.persons.height();
    let birth: Vec<i32> = days(&x.persons, "birth_date")
        .into_iter()
        .flatten()
        .collect();
    let death = days(&x.persons, "death_date");
    let emig = days(&x.persons, "emigration_date");
    let exit: Vec<i32> = (0..n)
        .map(|k| death[k].or(emig[k]).unwrap_or(i32::MAX))
        .collect();
    assert!((0..n).all(|k| death[k].is_none() || emig[k].is_none()));
    for k in 0..n {
        let age = age_on(birth[k], AGE_REFERENCE);
        assert!((16..=100).contains(&age));
        if let Some(d) = death[k].or(emig[k]) {
            assert!((EXTRACT_START..=EXTRACT_END).contains(&d));
        }
    }
    assert!(birth.iter().any(|&b| age_on(b, AGE_REFERENCE) < 18));

    // Contacts inside the extract period and not after death or emigration.
    let ids = strings(&x.contacts, "person_id");
    for (id, d) in ids.iter().zip(days(&x.contacts, "date")) {
        let k = id_number(id.as_deref().unwrap()) - 1;
        let d = d.unwrap();
        assert!((EXTRACT_START..=EXTRACT_END).contains(&d));
        assert!(d <= exit[k]);
    }

    // Snapshot rows only while alive and resident on 31 December.
    for (id, year) in strings(&x.covariates, "person_id")
        .iter()
        .zip(ints(&x.covariates, "year"))
    {
        let k = id_number(id.as_deref().unwrap()) - 1;
        assert!(exit[k] > year_end(year.unwrap() as i32));
    }

    // Referred: adult, alive, resident, listed with a participating practice.
    let participating: Vec<String> = x
        .truth
        .parameters
        .population
        .participating_practices
        .clone();
    let referral_dates = days(&x.referrals, "referral_date");
    let practices = strings(&x.referrals, "practice_id");
    let cov_ids = strings(&x.covariates, "person_id");
    let cov_years = ints(&x.covariates, "year");
    let cov_practice = strings(&x.covariates, "practice_id");
    let cov_muni = ints(&x.covariates, "municipality_code");
    for ((id, r), practice) in strings(&x.referrals, "person_id")
        .iter()
        .zip(referral_dates)
        .zip(practices)
    {
        let id = id.as_deref().unwrap();
        let k = id_number(id) - 1;
        let r = r.unwrap();
        assert!((STUDY_START..=STUDY_END).contains(&r));
        assert!(age_on(birth[k], r) >= 18);
        assert!(exit[k] > r);
        let practice = practice.unwrap();
        assert!(participating.contains(&practice));
        // The snapshot of the year before the referral agrees.
        let year_before = i64::from(civil_from_days(r).0 - 1);
        let row = (0..cov_ids.len())
            .find(|&j| cov_ids[j].as_deref() == Some(id) && cov_years[j] == Some(year_before))
            .unwrap();
        assert_eq!(cov_muni[row], Some(101));
        assert_eq!(cov_practice[row].as_deref(), Some(practice.as_str()));
    }

    // Survey answers inside their windows, before exit, inside the extract.
    let referral_of: BTreeMap<String, i32> = strings(&x.referrals, "person_id")
        .into_iter()
        .flatten()
        .zip(days(&x.referrals, "referral_date").into_iter().flatten())
        .collect();
    for ((id, wave), date) in strings(&x.proms, "person_id")
        .iter()
        .zip(ints(&x.proms, "wave"))
        .zip(days(&x.proms, "response_date"))
    {
        let id = id.as_deref().unwrap();
        let (r, date) = (referral_of[id], date.unwrap());
        let w = WAVES.iter().position(|&w| Some(w) == wave).unwrap();
        let (lo, hi) = WAVE_WINDOWS[w];
        assert!((r + lo..=r + hi).contains(&(date)));
        assert!(date < exit[id_number(id) - 1] && date <= EXTRACT_END);
    }
}
