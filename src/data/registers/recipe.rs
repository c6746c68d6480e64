//! The register recipes: which files, variables and codes make the extract tables.
//!
//! The recipes are TOML files embedded from `recipes/` (one per register, each rule with
//! its source). A user's recipe file (`shine import --recipe FILE`) holds only what it
//! changes, in the same form; it is laid over the embedded ones key by key, and a key the
//! recipes do not know is an error.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The embedded recipes, in the order `--explain` prints them.
pub const EMBEDDED: [(&str, &str); 11] = [
    ("bef.toml", include_str!("../../../recipes/bef.toml")),
    ("dod.toml", include_str!("../../../recipes/dod.toml")),
    ("vnds.toml", include_str!("../../../recipes/vnds.toml")),
    ("udda.toml", include_str!("../../../recipes/udda.toml")),
    ("ind.toml", include_str!("../../../recipes/ind.toml")),
    ("dream.toml", include_str!("../../../recipes/dream.toml")),
    (
        "practice.toml",
        include_str!("../../../recipes/practice.toml"),
    ),
    ("sssy.toml", include_str!("../../../recipes/sssy.toml")),
    ("lpr.toml", include_str!("../../../recipes/lpr.toml")),
    (
        "diagnoses.toml",
        include_str!("../../../recipes/diagnoses.toml"),
    ),
    (
        "external.toml",
        include_str!("../../../recipes/external.toml"),
    ),
];

/// A recipe that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecipeError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// The accepted names of one register or variable, compared without case; the first
/// one a folder or file has is used. A recipe gives one name (`pnr = "PNR"`) or a list
/// (`pnr = ["PNR", "V_CPR"]`) when registers are delivered under several namings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names(Vec<String>);

impl Names {
    /// Every accepted name, in the recipe's order.
    pub fn all(&self) -> &[String] {
        &self.0
    }

    /// The recipe's first name, the one messages use when no file is at hand.
    pub fn first(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }
}

impl From<&str> for Names {
    fn from(name: &str) -> Names {
        Names(vec![name.to_string()])
    }
}

/// The first name, so that `&names` can be given where one name is asked for.
impl std::ops::Deref for Names {
    type Target = str;
    fn deref(&self) -> &str {
        self.first()
    }
}

impl std::fmt::Display for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" or "))
    }
}

impl PartialEq<&str> for Names {
    fn eq(&self, other: &&str) -> bool {
        self.0.len() == 1 && self.0[0] == *other
    }
}

impl Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Names, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let names = match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(name) => vec![name],
            OneOrMany::Many(names) => names,
        };
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_string()).collect();
        if names.is_empty() || names.iter().any(String::is_empty) {
            return Err(serde::de::Error::custom(
                "a name, or a list of names, none of them empty",
            ));
        }
        Ok(Names(names))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub bef: Bef,
    pub dod: Dod,
    pub vnds: Vnds,
    pub udda: Udda,
    pub ind: Ind,
    pub dream: Dream,
    pub practice: Practice,
    pub sssy: Sssy,
    pub lpr: Lpr,
    pub diagnoses: Diagnoses,
    pub helpline: Helpline,
    pub referrals: Referrals,
    pub survey: Survey,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bef {
    pub register: Names,
    pub pnr: Names,
    pub sex: Names,
    pub male: Vec<String>,
    pub female: Vec<String>,
    pub birth_date: Names,
    pub origin: Names,
    pub danish: Vec<String>,
    pub immigrant: Vec<String>,
    pub descendant: Vec<String>,
    pub municipality: Names,
    pub household_size: Names,
    /// The month whose file is a year's snapshot when BEF comes quarterly
    /// (`BEF{YYYY}{MM}`).
    pub snapshot_month: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dod {
    pub register: Names,
    pub pnr: Names,
    pub death_date: Names,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Vnds {
    pub register: Names,
    pub pnr: Names,
    pub direction: Names,
    pub immigration: Vec<String>,
    pub emigration: Vec<String>,
    pub date: Names,
    /// The registers that replace `register` since 2026, read together.
    pub registers_2026: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Udda {
    pub register: Names,
    pub pnr: Names,
    pub education: Names,
    pub basic: Vec<String>,
    pub upper_secondary: Vec<String>,
    pub tertiary_short_medium: Vec<String>,
    pub tertiary_long: Vec<String>,
    pub not_stated: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ind {
    pub register: Names,
    pub pnr: Names,
    pub income: Names,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dream {
    pub register: Names,
    pub pnr: Names,
    pub week_prefix: String,
    pub empty_weeks: String,
    pub employed: Vec<String>,
    pub unemployed: Vec<String>,
    pub sick_leave: Vec<String>,
    pub disability_pension: Vec<String>,
    pub retired: Vec<String>,
    pub student: Vec<String>,
    pub other: Vec<String>,
    pub unknown: Vec<String>,
}

impl Dream {
    /// The employment groups and their codes, in the dictionary's order.
    pub fn groups(&self) -> [(&'static str, &[String]); 7] {
        [
            ("employed", &self.employed),
            ("unemployed", &self.unemployed),
            ("sick_leave", &self.sick_leave),
            ("disability_pension", &self.disability_pension),
            ("retired", &self.retired),
            ("student", &self.student),
            ("other", &self.other),
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Practice {
    pub register: Names,
    pub pnr: Names,
    pub practice: Names,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sssy {
    pub register: Names,
    pub pnr: Names,
    pub practice: Names,
    pub specialty: Names,
    pub general_practice: Vec<String>,
    pub service: Names,
    pub fee_week: Names,
    pub count: Names,
    pub child: Names,
    pub gp_consultation: Vec<String>,
    pub gp_phone: Vec<String>,
    pub gp_email: Vec<String>,
    pub gp_home_visit: Vec<String>,
}

impl Sssy {
    /// The general-practice contact types and their service codes.
    pub fn groups(&self) -> [(&'static str, &[String]); 4] {
        [
            ("gp_consultation", &self.gp_consultation),
            ("gp_phone", &self.gp_phone),
            ("gp_email", &self.gp_email),
            ("gp_home_visit", &self.gp_home_visit),
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lpr {
    pub switch_date: String,
    pub admission_hours: f64,
    pub acute: Vec<String>,
    pub planned: Vec<String>,
    pub lpr3: Lpr3,
    pub lpr2: Lpr2,
    /// LPR2's psychiatric contacts and diagnoses (separate tables before 2019).
    pub lpr2_psychiatry: Lpr2,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lpr3 {
    pub contacts: Names,
    pub diagnoses: Names,
    pub contact_id: Names,
    pub pnr: Names,
    pub start_date: Names,
    pub start_time: Names,
    pub end_date: Names,
    pub end_time: Names,
    pub contact_type: Names,
    pub priority: Names,
    pub unit_type: Names,
    pub reporting_system: Names,
    pub diagnosis: Names,
    /// A diagnosis later retracted (optional variable) and the values that say so.
    pub retracted: Names,
    pub retracted_values: Vec<String>,
    pub physical_types: Vec<String>,
    pub emergency_units: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lpr2 {
    pub contacts: Names,
    pub diagnoses: Names,
    pub contact_id: Names,
    pub pnr: Names,
    pub start_date: Names,
    pub end_date: Names,
    pub patient_type: Names,
    pub inpatient: Vec<String>,
    pub outpatient: Vec<String>,
    pub emergency_room: Vec<String>,
    pub admission_type: Names,
    pub acute: Vec<String>,
    pub diagnosis: Names,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Diagnoses {
    pub charlson_years: i32,
    pub psychiatric_years: i32,
    pub psychiatric: Vec<String>,
    pub charlson: Vec<CharlsonCondition>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CharlsonCondition {
    pub condition: String,
    pub weight: u8,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Helpline {
    pub register: Names,
    pub pnr: Names,
    pub date: Names,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Referrals {
    pub register: Names,
    pub pnr: Names,
    pub referral_date: Names,
    pub practice: Names,
    pub source: Names,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    pub register: Names,
    pub pnr: Names,
    pub wave: Names,
    pub response_date: Names,
}

/// One table a recipe reads: its section (`lpr.lpr3`), its role there (`contacts`), its
/// accepted names, and the variables read from it as (role, accepted names).
#[derive(Debug, Clone)]
pub struct RecipeTable {
    pub section: &'static str,
    pub role: &'static str,
    pub names: Names,
    pub variables: Vec<(&'static str, Names)>,
}

/// Lays `over` onto `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn embedded_table() -> toml::Table {
    let mut all = toml::Table::new();
    for (name, text) in EMBEDDED {
        // The embedded recipes are checked by the tests.
        let table: toml::Table = toml::from_str(text)
            .unwrap_or_else(|e| panic!("embedded recipe {name} does not parse: {e}"));
        merge(&mut all, table);
    }
    all
}

impl Recipe {
    /// The embedded recipes.
    pub fn embedded() -> Recipe {
        Recipe::from_table(embedded_table(), "embedded recipes").unwrap_or_else(|e| panic!("{e}"))
    }

    /// The embedded recipes with a user's recipe file laid over them.
    ///
    /// # Errors
    /// A file that cannot be read, is not TOML, names a key the recipes do not have, or
    /// gives a value of the wrong kind; the message names the file and the key.
    pub fn with_file(path: &Path) -> Result<Recipe, RecipeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::Io {
            file: file.clone(),
            source,
        })?;
        let over: toml::Table = toml::from_str(&text).map_err(|e| RecipeError::Invalid {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let mut all = embedded_table();
        merge(&mut all, over);
        Recipe::from_table(all, &file)
    }

    fn from_table(table: toml::Table, file: &str) -> Result<Recipe, RecipeError> {
        let recipe: Recipe =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| RecipeError::Invalid {
                    file: file.to_string(),
                    message: e.to_string(),
                })?;
        recipe.check().map_err(|message| RecipeError::Invalid {
            file: file.to_string(),
            message,
        })?;
        Ok(recipe)
    }

    fn check(&self) -> Result<(), String> {
        if crate::data::calendar::parse_iso_date(&self.lpr.switch_date).is_none() {
            return Err(format!(
                "lpr.switch_date = {:?} is not an ISO date (YYYY-MM-DD)",
                self.lpr.switch_date
            ));
        }
        if self.lpr.admission_hours.is_nan() || self.lpr.admission_hours <= 0.0 {
            return Err("lpr.admission_hours must be positive".into());
        }
        if self.diagnoses.charlson_years < 1 || self.diagnoses.psychiatric_years < 1 {
            return Err("diagnoses.charlson_years and psychiatric_years must be at least 1".into());
        }
        if !(1..=12).contains(&self.bef.snapshot_month) {
            return Err(format!(
                "bef.snapshot_month = {} is not a month (1 to 12)",
                self.bef.snapshot_month
            ));
        }
        let groups: Vec<&str> = self.dream.groups().iter().map(|g| g.0).collect();
        if !groups.contains(&self.dream.empty_weeks.as_str()) {
            return Err(format!(
                "dream.empty_weeks = {:?} is not one of {}",
                self.dream.empty_weeks,
                groups.join(", ")
            ));
        }
        Ok(())
    }

    /// The resolved recipe as TOML (`shine import --explain`).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Every table the recipe reads with the variables read from it, for `shine import
    /// --explain`.
    pub fn tables(&self) -> Vec<RecipeTable> {
        let v = |pairs: &[(&'static str, &Names)]| -> Vec<(&'static str, Names)> {
            pairs.iter().map(|(k, n)| (*k, (*n).clone())).collect()
        };
        let (b, l3) = (&self.bef, &self.lpr.lpr3);
        let mut tables = vec![
            (
                "bef",
                "register",
                b.register.clone(),
                v(&[
                    ("pnr", &b.pnr),
                    ("sex", &b.sex),
                    ("birth_date", &b.birth_date),
                    ("origin", &b.origin),
                    ("municipality", &b.municipality),
                    ("household_size", &b.household_size),
                ]),
            ),
            (
                "dod",
                "register",
                self.dod.register.clone(),
                v(&[("pnr", &self.dod.pnr), ("death_date", &self.dod.death_date)]),
            ),
        ];
        let vnds = v(&[
            ("pnr", &self.vnds.pnr),
            ("direction", &self.vnds.direction),
            ("date", &self.vnds.date),
        ]);
        tables.push(("vnds", "register", self.vnds.register.clone(), vnds.clone()));
        for name in &self.vnds.registers_2026 {
            tables.push((
                "vnds",
                "registers_2026",
                Names::from(name.as_str()),
                vnds.clone(),
            ));
        }
        tables.extend([
            (
                "udda",
                "register",
                self.udda.register.clone(),
                v(&[("pnr", &self.udda.pnr), ("education", &self.udda.education)]),
            ),
            (
                "ind",
                "register",
                self.ind.register.clone(),
                v(&[("pnr", &self.ind.pnr), ("income", &self.ind.income)]),
            ),
            (
                "dream",
                "register",
                self.dream.register.clone(),
                v(&[("pnr", &self.dream.pnr)]),
            ),
            (
                "practice",
                "register",
                self.practice.register.clone(),
                v(&[
                    ("pnr", &self.practice.pnr),
                    ("practice", &self.practice.practice),
                ]),
            ),
            (
                "sssy",
                "register",
                self.sssy.register.clone(),
                v(&[
                    ("pnr", &self.sssy.pnr),
                    ("practice", &self.sssy.practice),
                    ("specialty", &self.sssy.specialty),
                    ("service", &self.sssy.service),
                    ("fee_week", &self.sssy.fee_week),
                    ("count", &self.sssy.count),
                    ("child", &self.sssy.child),
                ]),
            ),
            (
                "lpr.lpr3",
                "contacts",
                l3.contacts.clone(),
                v(&[
                    ("contact_id", &l3.contact_id),
                    ("pnr", &l3.pnr),
                    ("start_date", &l3.start_date),
                    ("start_time", &l3.start_time),
                    ("end_date", &l3.end_date),
                    ("end_time", &l3.end_time),
                    ("contact_type", &l3.contact_type),
                    ("priority", &l3.priority),
                    ("unit_type", &l3.unit_type),
                    ("reporting_system", &l3.reporting_system),
                ]),
            ),
            (
                "lpr.lpr3",
                "diagnoses",
                l3.diagnoses.clone(),
                v(&[
                    ("contact_id", &l3.contact_id),
                    ("diagnosis", &l3.diagnosis),
                    ("retracted", &l3.retracted),
                ]),
            ),
        ]);
        for (section, l2) in [
            ("lpr.lpr2", &self.lpr.lpr2),
            ("lpr.lpr2_psychiatry", &self.lpr.lpr2_psychiatry),
        ] {
            tables.push((
                section,
                "contacts",
                l2.contacts.clone(),
                v(&[
                    ("contact_id", &l2.contact_id),
                    ("pnr", &l2.pnr),
                    ("start_date", &l2.start_date),
                    ("end_date", &l2.end_date),
                    ("patient_type", &l2.patient_type),
                    ("admission_type", &l2.admission_type),
                ]),
            ));
            tables.push((
                section,
                "diagnoses",
                l2.diagnoses.clone(),
                v(&[("contact_id", &l2.contact_id), ("diagnosis", &l2.diagnosis)]),
            ));
        }
        tables.extend([
            (
                "helpline",
                "register",
                self.helpline.register.clone(),
                v(&[("pnr", &self.helpline.pnr), ("date", &self.helpline.date)]),
            ),
            (
                "referrals",
                "register",
                self.referrals.register.clone(),
                v(&[
                    ("pnr", &self.referrals.pnr),
                    ("referral_date", &self.referrals.referral_date),
                    ("practice", &self.referrals.practice),
                    ("source", &self.referrals.source),
                ]),
            ),
            (
                "survey",
                "register",
                self.survey.register.clone(),
                v(&[
                    ("pnr", &self.survey.pnr),
                    ("wave", &self.survey.wave),
                    ("response_date", &self.survey.response_date),
                ]),
            ),
        ]);
        tables
            .into_iter()
            .map(|(section, role, names, variables)| RecipeTable {
                section,
                role,
                names,
                variables,
            })
            .collect()
    }

    /// The LPR2/LPR3 switch date (days since 1970-01-01).
    pub fn switch_day(&self) -> i32 {
        crate::data::calendar::parse_iso_date(&self.lpr.switch_date).unwrap_or(0)
    }
}

/// The group whose code list matches `code` with the longest prefix.
pub fn group_by_prefix<'a, G: Copy>(code: &str, groups: &'a [(G, &'a [String])]) -> Option<G> {
    let mut best: Option<(usize, G)> = None;
    for &(group, codes) in groups {
        for c in codes {
            if code.starts_with(c.as_str()) && best.is_none_or(|(len, _)| c.len() > len) {
                best = Some((c.len(), group));
            }
        }
    }
    best.map(|(_, g)| g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_recipes_parse_and_explain_reads_back() {
        let recipe = Recipe::embedded();
        assert_eq!(recipe.bef.register, "BEF");
        assert_eq!(recipe.sssy.gp_consultation, vec!["0101".to_string()]);
        assert_eq!(recipe.diagnoses.charlson.len(), 19);
        // The original Charlson weights sum to 37, the dictionary's maximum.
        let total: u32 = recipe
            .diagnoses
            .charlson
            .iter()
            .map(|c| u32::from(c.weight))
            .sum();
        assert_eq!(total, 37);
        let back: Recipe = toml::from_str(&recipe.to_toml()).unwrap();
        assert_eq!(back, recipe);
    }

    #[test]
    fn a_user_file_overrides_keys_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        std::fs::write(
            &path,
            "[sssy]\ngp_phone = [\"0201\", \"0202\"]\n[lpr]\nswitch_date = \"2019-02-01\"\n",
        )
        .unwrap();
        let recipe = Recipe::with_file(&path).unwrap();
        assert_eq!(
            recipe.sssy.gp_phone,
            vec!["0201".to_string(), "0202".to_string()]
        );
        assert_eq!(recipe.sssy.gp_consultation, vec!["0101".to_string()]);
        assert_eq!(
            recipe.switch_day(),
            crate::data::calendar::days_from_civil(2019, 2, 1)
        );
        std::fs::write(&path, "[sssy]\ngp_phones = []\n").unwrap();
        let e = Recipe::with_file(&path).unwrap_err().to_string();
        assert!(e.contains("gp_phones"), "{e}");
        std::fs::write(&path, "[lpr]\nswitch_date = \"March\"\n").unwrap();
        let e = Recipe::with_file(&path).unwrap_err().to_string();
        assert!(e.contains("switch_date"), "{e}");
    }

    #[test]
    fn names_are_one_name_or_a_list_and_never_empty() {
        let recipe = Recipe::embedded();
        assert_eq!(
            recipe.lpr.lpr3.contacts.all(),
            ["LPR3_KONTAKTER".to_string(), "LPR_A_KONTAKT".to_string()]
        );
        assert_eq!(recipe.lpr.lpr3.contacts.first(), "LPR3_KONTAKTER");
        assert_eq!(recipe.lpr.lpr2_psychiatry.pnr.all().len(), 2);
        assert_eq!(recipe.bef.snapshot_month, 12);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        std::fs::write(&path, "[bef]\npnr = [\"CPR\", \"PNR\"]\n").unwrap();
        let recipe = Recipe::with_file(&path).unwrap();
        assert_eq!(recipe.bef.pnr.all(), ["CPR".to_string(), "PNR".to_string()]);
        let back: Recipe = toml::from_str(&recipe.to_toml()).unwrap();
        assert_eq!(back.bef.pnr, recipe.bef.pnr);
        std::fs::write(&path, "[bef]\npnr = []\n").unwrap();
        let e = Recipe::with_file(&path).unwrap_err().to_string();
        assert!(e.contains("none of them empty"), "{e}");
        std::fs::write(&path, "[bef]\nsnapshot_month = 13\n").unwrap();
        let e = Recipe::with_file(&path).unwrap_err().to_string();
        assert!(e.contains("snapshot_month"), "{e}");
    }

    #[test]
    fn the_longest_prefix_wins() {
        let a = vec!["50".to_string()];
        let b = vec!["5080".to_string()];
        let groups = [("a", a.as_slice()), ("b", b.as_slice())];
        assert_eq!(group_by_prefix("5080", &groups), Some("b"));
        assert_eq!(group_by_prefix("5090", &groups), Some("a"));
        assert_eq!(group_by_prefix("6000", &groups), None);
    }
}
