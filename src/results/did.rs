//! Results of a difference-in-differences or event-study fit: the coefficients in
//! broom's columns, the variance they were computed with, and the joint pre-trend test.

use serde::{Serialize, Serializer};

use crate::stats::coefficient::Coefficient;
use crate::stats::fixest::{BootstrapWeights, FeFamily};
use crate::stats::vcov::WaldTest;

/// The joint Wald test that every pre-period event-study coefficient is zero: F = W / q
/// on (q, residual df) degrees of freedom (fixest's `wald()`) and W on q degrees of
/// freedom (pyfixest's `wald_test`).
pub type PretrendTest = WaldTest;

/// The variance of the estimates, as the user asks for it (fixest's `vcov`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcovSpec {
    /// Homoskedastic.
    Iid,
    /// Heteroskedasticity-robust (HC1).
    Hc1,
    /// Cluster-robust (CR1) by one or two columns.
    Cluster(Vec<String>),
}

impl std::str::FromStr for VcovSpec {
    type Err = String;

    /// `iid`, `hc1` (or `hetero`), `cluster:COL` or `cluster:COL1,COL2`. The message
    /// of an error does not repeat the value: clap's names the flag and the value.
    fn from_str(text: &str) -> Result<VcovSpec, String> {
        match text.trim() {
            "iid" => Ok(VcovSpec::Iid),
            "hc1" | "hetero" => Ok(VcovSpec::Hc1),
            t => match t.strip_prefix("cluster:") {
                Some(cols) => {
                    let cols: Vec<String> = cols
                        .split(['+', ','])
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    if cols.is_empty() || cols.len() > 2 {
                        Err("name one or two clustering columns, e.g. cluster:unit or cluster:unit,period".into())
                    } else {
                        Ok(VcovSpec::Cluster(cols))
                    }
                }
                None => Err("expected iid, hc1 or cluster:COL[,COL]".into()),
            },
        }
    }
}

impl std::fmt::Display for VcovSpec {
    /// The form `--vcov` takes: `iid`, `hc1`, `cluster:COL[,COL]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VcovSpec::Iid => f.write_str("iid"),
            VcovSpec::Hc1 => f.write_str("hc1"),
            VcovSpec::Cluster(c) => write!(f, "cluster:{}", c.join(",")),
        }
    }
}

impl Serialize for VcovSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One coefficient of a difference-in-differences model; for Poisson also the rate
/// ratio `exp(β)` and its interval.
#[derive(Debug, Clone, Serialize)]
pub struct DidCoefficient {
    #[serde(flatten)]
    pub coefficient: Coefficient,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ratio_conf_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ratio_conf_high: Option<f64>,
    /// Wild cluster bootstrap (WCR) p-value of H0: coefficient = 0, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_p_value: Option<f64>,
    /// Wild cluster bootstrap interval by test inversion (±∞, written as null, when the
    /// p-value never falls below the level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_conf_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_conf_high: Option<f64>,
}

/// How the bootstrap columns were computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapInfo {
    /// `wild` (restricted wild cluster bootstrap, null imposed).
    pub method: &'static str,
    pub weights: BootstrapWeights,
    /// Draws used: the requested B, or 2^G under full enumeration.
    pub draws: usize,
    pub full_enumeration: bool,
    pub clusters: usize,
    pub cluster: String,
    pub seed: u64,
    pub confidence_level: f64,
}

impl DidCoefficient {
    /// The row of a fitted coefficient; `poisson` adds the rate ratio.
    pub fn new(coefficient: Coefficient, poisson: bool) -> DidCoefficient {
        let exp = |x: f64| poisson.then(|| x.exp());
        DidCoefficient {
            rate_ratio: exp(coefficient.estimate),
            rate_ratio_conf_low: exp(coefficient.conf_low),
            rate_ratio_conf_high: exp(coefficient.conf_high),
            coefficient,
            boot_p_value: None,
            boot_conf_low: None,
            boot_conf_high: None,
        }
    }
}

/// A fitted difference-in-differences model.
#[derive(Debug, Clone, Serialize)]
pub struct DidResult {
    pub coefficients: Vec<DidCoefficient>,
    pub n_obs: usize,
    /// Rows with a missing value plus rows the fixed effects drop (singletons, groups
    /// with an outcome of zero throughout under Poisson).
    pub n_dropped: usize,
    pub vcov: VcovSpec,
    pub family: FeFamily,
    /// Regressors dropped as collinear with the fixed effects or each other.
    pub collinear: Vec<String>,
    pub converged: bool,
    pub iterations: usize,
    pub pretrend_test: Option<PretrendTest>,
    /// The wild cluster bootstrap behind the `boot_*` columns, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapInfo>,
}
