//! The wild cluster bootstrap of `analyse`'s linear DiD: the restricted wild cluster
//! bootstrap (WCR) of `rate ~ treated_post | member + period`, weighted by exposure times
//! the matching weight and clustered as its standard errors (matched set or person).
//! The weighted WCR is the unweighted one on √w-scaled data
//! ([`wild_cluster_bootstrap_weighted`]).

use nalgebra::DMatrix;

use super::did_stage::{linear_outcome, panel_clusters, panel_fixed_effects};
use crate::data::panel::{Panel, PanelMember, PanelWindow};
use crate::plan::ClusterBy;
use crate::results::did::{BootstrapInfo, DidCoefficient};
use crate::stats::fixest::{
    wild_cluster_bootstrap_weighted, FeFit, WildBootstrapError, WildBootstrapOptions,
};

/// Bootstraps `treated_post` of the fitted linear DiD `linear` and writes the p-value
/// and the test-inversion interval into `coefficient`'s `boot_*` columns.
///
/// # Errors
/// The bootstrap's [`WildBootstrapError`] (e.g. fewer than 2 clusters).
#[allow(clippy::too_many_arguments)]
pub fn linear_wild_bootstrap(
    panel: &Panel,
    members: &[PanelMember],
    member_weights: &[f64],
    linear: &FeFit,
    treated_post: &DMatrix<f64>,
    cluster: ClusterBy,
    window: PanelWindow,
    options: &WildBootstrapOptions,
    coefficient: &mut DidCoefficient,
) -> Result<BootstrapInfo, WildBootstrapError> {
    let row_weights: Vec<f64> = panel
        .member
        .iter()
        .map(|&m| member_weights[m as usize])
        .collect();
    let (rate, weight) = linear_outcome(panel, &row_weights);
    let fixed_effects = panel_fixed_effects(panel, window);
    let (cluster_name, clusters) = panel_clusters(panel, members, cluster);
    let b = wild_cluster_bootstrap_weighted(
        linear,
        &rate,
        treated_post,
        &["treated_post".to_string()],
        &fixed_effects,
        None,
        Some(&weight),
        &clusters,
        "treated_post",
        options,
    )?;
    coefficient.boot_p_value = Some(b.p_value);
    coefficient.boot_conf_low = Some(b.conf_low);
    coefficient.boot_conf_high = Some(b.conf_high);
    Ok(BootstrapInfo {
        method: "wild",
        weights: b.weights,
        draws: b.draws,
        full_enumeration: b.full_enumeration,
        clusters: b.clusters,
        cluster: cluster_name,
        seed: b.seed,
        confidence_level: options.confidence_level,
    })
}
