//! The robustness analyses of each outcome's rate ratio that referees ask for: the
//! negative binomial model of the same contrast (is the Poisson model's overdispersion
//! handled?) and the E-values (how strong would unmeasured confounding have to be?).

use nalgebra::{DMatrix, DVector};

use crate::data::panel::{Panel, PanelMember};
use crate::results::did::DidCoefficient;
use crate::results::outcomes::NegBinRateRatio;
use crate::stats::evalue::{evalue, EValue, RatioMeasure};
use crate::stats::glm::Family;
use crate::stats::glm::{fit_negative_binomial, NegBinOptions};

/// The columns of the negative binomial model.
const TERMS: [&str; 4] = ["(Intercept)", "referred", "post", "referred:post"];

/// The E-values of a Poisson DiD's rate ratio and of its interval limit closer to 1;
/// `None` when the model gave no rate ratio or its interval is not finite.
pub fn rate_ratio_e_value(c: &DidCoefficient) -> Option<EValue> {
    let (rr, low, high) = (
        c.rate_ratio?,
        c.rate_ratio_conf_low?,
        c.rate_ratio_conf_high?,
    );
    evalue(rr, low, high, RatioMeasure::RateRatio).ok()
}

/// The rate ratio of the change after the index date in referred persons against their
/// matched comparison persons, from a negative binomial (NB2) model of each member's
/// contacts summed before and after the index date:
/// `count ~ referred * post + offset(log(exposure))`, weighted by the matching weights,
/// as `MASS::glm.nb` fits it. Exposure is the observed share of the periods summed, so
/// the rate is per period. A member contributes a row for each side of the index date
/// with any exposure.
///
/// # Errors
/// The fit's message (e.g. no overdispersion: θ runs off to infinity, so the Poisson
/// model is the negative binomial's limit and nothing is to be gained).
pub fn negative_binomial_rate_ratio(
    panel: &Panel,
    members: &[PanelMember],
    weights: &[f64],
) -> Result<NegBinRateRatio, String> {
    // Counts and exposure per member and side of the index date, in member order.
    let mut count = vec![[0.0_f64; 2]; members.len()];
    let mut exposure = vec![[0.0_f64; 2]; members.len()];
    for i in 0..panel.member.len() {
        let m = panel.member[i] as usize;
        let side = usize::from(panel.period[i] >= 0);
        count[m][side] += panel.count[i];
        exposure[m][side] += panel.exposure[i];
    }
    let mut rows: Vec<[f64; 4]> = Vec::new();
    let (mut y, mut w, mut offset) = (Vec::new(), Vec::new(), Vec::new());
    for (m, member) in members.iter().enumerate() {
        for side in 0..2 {
            if exposure[m][side] <= 0.0 || weights[m] <= 0.0 {
                continue;
            }
            let referred = f64::from(u8::from(member.treated));
            let post = side as f64;
            rows.push([1.0, referred, post, referred * post]);
            y.push(count[m][side]);
            w.push(weights[m]);
            offset.push(exposure[m][side].ln());
        }
    }
    let n = rows.len();
    let x = DMatrix::from_fn(n, TERMS.len(), |i, j| rows[i][j]);
    let names: Vec<String> = TERMS.iter().map(|t| t.to_string()).collect();
    let fit = fit_negative_binomial(
        &x,
        &DVector::from_vec(y),
        Some(&DVector::from_vec(w)),
        Some(&DVector::from_vec(offset)),
        &names,
        &NegBinOptions::new(Family::Poisson),
    )
    .map_err(|e| e.to_string())?;
    let c = fit
        .coefficients
        .iter()
        .find(|c| c.term == "referred:post")
        .filter(|c| c.estimate.is_finite())
        .ok_or("the interaction referred:post could not be estimated")?;
    Ok(NegBinRateRatio {
        rate_ratio: c.estimate.exp(),
        conf_low: c.conf_low.exp(),
        conf_high: c.conf_high.exp(),
        p_value: c.p_value,
        theta: fit.theta,
        theta_std_error: fit.theta_std_error,
        n_obs: n,
    })
}
