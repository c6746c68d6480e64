//! Person-period panels of the matched cohort: contacts of each outcome group per
//! 30-day period counted from the index date, with the share of the period each person
//! was under observation (alive, resident, inside the extract) as exposure.

use super::cohort::Registry;

/// The periods of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelWindow {
    /// Days per period.
    pub period_days: i32,
    /// Periods before the index date (period −1 ends the day before it).
    pub periods_before: i32,
    /// Periods from the index date on (period 0 starts on it).
    pub periods_after: i32,
}

impl Default for PanelWindow {
    /// SHINE's windows: 12 periods of 30 days before the index date, 9 after.
    fn default() -> Self {
        PanelWindow {
            period_days: 30,
            periods_before: 12,
            periods_after: 9,
        }
    }
}

/// One member of the cohort as the panel needs them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelMember {
    pub person: u32,
    pub treated: bool,
    pub matched_set: u32,
    pub index_date: i32,
    /// The day follow-up ends (exclusive) for reasons of the design, e.g. a comparison
    /// person's own later referral.
    pub censor: Option<i32>,
}

/// The panel of one outcome group, one row per member and period with any exposure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    /// Member index (into the members given), period (−before..after−1), counts, exposure.
    pub member: Vec<u32>,
    pub period: Vec<i32>,
    pub count: Vec<f64>,
    /// Share of the period under observation, in (0, 1].
    pub exposure: Vec<f64>,
}

/// Builds the panel of outcome group `group`; `extract` is the extract period (first
/// and last day), which bounds the observation.
pub fn person_periods(
    registry: &Registry,
    members: &[PanelMember],
    group: usize,
    window: PanelWindow,
    extract: Option<(i32, i32)>,
) -> Panel {
    let mut panel = Panel::default();
    for (m, member) in members.iter().enumerate() {
        let dates = registry.contact_dates(group, member.person);
        let mut end = registry.exit(member.person).unwrap_or(i32::MAX);
        if let Some(c) = member.censor {
            end = end.min(c);
        }
        let mut start = registry.birth[member.person as usize];
        if let Some((first, last)) = extract {
            start = start.max(first);
            end = end.min(last + 1);
        }
        for p in -window.periods_before..window.periods_after {
            let from = member.index_date + p * window.period_days;
            let to = from + window.period_days;
            let (lo, hi) = (from.max(start), to.min(end));
            if hi <= lo {
                continue;
            }
            let count = dates.partition_point(|&d| d < hi) - dates.partition_point(|&d| d < lo);
            panel.member.push(m as u32);
            panel.period.push(p);
            panel.count.push(count as f64);
            panel
                .exposure
                .push(f64::from(hi - lo) / f64::from(window.period_days));
        }
    }
    panel
}
