//! The denominator of the standardised mean difference: the treated group's SD, or
//! MatchIt's pooled SD when that is zero.

use super::moments::select;

/// MatchIt's threshold below which a mean difference is not standardised and an SD is
/// treated as zero (`sqrt(.Machine$double.eps)`).
pub(super) const SQRT_EPS: f64 = 1.490_116_119_384_765_6e-8;

/// The SMD denominator for the ATT: the SD of the treated group with unit weights
/// (binary: `sqrt(p (1 − p))`), falling back to MatchIt's pooled SD when it is not
/// finite or below `sqrt(ε)` (e.g. a covariate constant among the treated).
pub fn smd_denominator(values: &[f64], binary: bool, treated: &[bool]) -> f64 {
    let x1: Vec<f64> = select(values, treated, true).collect();
    let s = unit_variance(&x1, binary).sqrt();
    if s.is_finite() && s >= SQRT_EPS {
        s
    } else {
        pooled_sd(values, binary, treated)
    }
}

/// MatchIt's `pooled_sd(..., contribution = "proportional")` with unit weights:
/// binary `Σ_g s_g (1 − s_g / n_g) / n` (s_g = number of ones in group g); continuous
/// the within-group centred sum of squares over n − 1.
fn pooled_sd(values: &[f64], binary: bool, treated: &[bool]) -> f64 {
    let n = values.len() as f64;
    let var = [true, false]
        .iter()
        .map(|&flag| {
            let x: Vec<f64> = select(values, treated, flag).collect();
            let ng = x.len() as f64;
            let sum: f64 = x.iter().sum();
            if binary {
                sum * (1.0 - sum / ng) / n
            } else {
                let mean = sum / ng;
                x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
            }
        })
        .sum::<f64>();
    var.sqrt()
}

/// MatchIt's `wvar` with unit weights: `p (1 − p)` for binary, else the n − 1 variance.
fn unit_variance(x: &[f64], binary: bool) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if binary {
        mean * (1.0 - mean)
    } else {
        x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    }
}
