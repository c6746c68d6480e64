//! The forest plot of the robustness section: every estimate of each outcome in one
//! figure, a panel per outcome — the main rate ratio, each sensitivity analysis, the
//! negative binomial model and the placebo index date on one log rate-ratio axis, the
//! E-values beside them, and the linear DiD's CR1 and wild cluster bootstrap intervals on
//! an axis of their own — and a panel of the negative-control outcomes. Drawn in points
//! in the figure theme, so that the SVG and the 300 dpi PNG come from the same code.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    column_points, ratio_range, ratio_ticks, render, Draw, Figure, FigureError, Theme,
    AFTER_MATCHING, AXIS, BEFORE_MATCHING, COMPARISON, DOUBLE_COLUMN_MM, FAMILY, GRID, MARK,
    REFERRED, TICK_PT,
};

/// What a row of the forest plot is; sets its marker's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Main,
    Sensitivity,
    NegativeBinomial,
    /// An estimate whose truth is a rate ratio of 1 (placebo date, negative control).
    ExpectedNull,
}

/// One estimate with its 95% interval, and the text printed beside it.
#[derive(Debug, Clone)]
pub struct ForestRow {
    pub label: String,
    pub kind: RowKind,
    pub estimate: f64,
    pub conf_low: f64,
    pub conf_high: f64,
    /// E-values of the estimate and of its interval limit closer to 1, when computed.
    pub e_value: Option<(f64, f64)>,
}

/// The linear DiD of an outcome: its CR1 interval and its wild cluster bootstrap interval
/// (either limit may be infinite).
#[derive(Debug, Clone)]
pub struct LinearIntervals {
    pub estimate: f64,
    pub cr1: (f64, f64),
    pub bootstrap: (f64, f64),
    pub bootstrap_p_value: f64,
    /// E.g. `Rademacher, 9999 draws, 340 clusters (matched sets)`.
    pub bootstrap_label: String,
}

/// One panel: an outcome's rate ratios (or the negative controls), and its linear DiD.
#[derive(Debug, Clone)]
pub struct ForestPanel {
    pub title: String,
    pub rows: Vec<ForestRow>,
    pub linear: Option<LinearIntervals>,
}

/// Row height, panel header and axis heights, in points.
const ROW_PT: f64 = 12.0;
const HEADER_PT: f64 = 15.0;
const AXIS_PT: f64 = 24.0;
const GAP_PT: f64 = 8.0;
const TITLE_BAND_PT: f64 = 26.0;
/// Column edges, in points from the left: labels, plot, estimate text, E-value text.
const PLOT_LEFT: f64 = 170.0;
const PLOT_RIGHT: f64 = 330.0;
const ESTIMATE_TEXT: f64 = 340.0;
const E_VALUE_TEXT: f64 = 440.0;

fn panel_height(panel: &ForestPanel) -> f64 {
    let mut h = HEADER_PT + ROW_PT * panel.rows.len() as f64 + AXIS_PT;
    if panel.linear.is_some() {
        h += HEADER_PT + 2.0 * ROW_PT + AXIS_PT;
    }
    h + GAP_PT
}

/// The forest plot of `panels`, double column; the rate-ratio axis is shared by every
/// panel (log scale, the theme's ticks), so that the panels can be compared.
pub fn forest_plot(title: &str, panels: &[ForestPanel]) -> Result<Figure, FigureError> {
    let range = ratio_range(
        panels
            .iter()
            .flat_map(|p| &p.rows)
            .flat_map(|r| [r.estimate, r.conf_low, r.conf_high]),
    );
    let height = TITLE_BAND_PT + panels.iter().map(panel_height).sum::<f64>() + 4.0;
    render(
        "forest plot",
        (column_points(DOUBLE_COLUMN_MM), height),
        &Forest {
            title: title.to_string(),
            panels: panels.to_vec(),
            range,
            ticks: ratio_ticks(range.0, range.1),
        },
    )
}

struct Forest {
    title: String,
    panels: Vec<ForestPanel>,
    range: (f64, f64),
    ticks: Vec<f64>,
}

/// Formats a limit that may be infinite.
fn limit(v: f64, decimals: usize) -> String {
    if v == f64::INFINITY {
        "∞".into()
    } else if v == f64::NEG_INFINITY {
        "−∞".into()
    } else {
        format!("{v:.decimals$}").replace('-', "−")
    }
}

/// A p-value to four decimals, or "< 0.0001" below what four decimals show.
fn p_text(p: f64) -> String {
    if p < 0.000_05 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

fn color_of(kind: RowKind) -> RGBColor {
    match kind {
        RowKind::Main => REFERRED,
        RowKind::Sensitivity => MARK,
        RowKind::NegativeBinomial => AFTER_MATCHING,
        RowKind::ExpectedNull => COMPARISON,
    }
}

/// Text of `size` points anchored at its vertical centre.
fn label_style(t: Theme, size: f64, h: HPos, color: &'static RGBColor) -> TextStyle<'static> {
    TextStyle::from((FAMILY, t.size(size)).into_font())
        .color(color)
        .pos(Pos::new(h, VPos::Center))
}

/// Ticks for the linear DiD's axis: four to six round values over `lo..hi`.
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

impl Draw for Forest {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let text = |size: f64, h: HPos, color: &'static RGBColor| label_style(t, size, h, color);
        let px = |v: f64| t.px(v);
        let (left, right) = (px(PLOT_LEFT), px(PLOT_RIGHT));
        let log_x = |v: f64| {
            let (a, b) = (self.range.0.ln(), self.range.1.ln());
            let v = v.clamp(self.range.0, self.range.1);
            left + ((v.ln() - a) / (b - a) * f64::from(right - left)).round() as i32
        };
        let thin = t.thin(AXIS);
        let grid = GRID.stroke_width(t.width(0.5));
        root.draw(&Text::new(
            self.title.clone(),
            (px(6.0), px(TITLE_BAND_PT / 2.0)),
            t.title().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(e)?;
        let mut y = TITLE_BAND_PT;
        for panel in &self.panels {
            // Header: the outcome, and the column titles.
            let header = px(y + HEADER_PT / 2.0);
            root.draw(&Text::new(
                panel.title.clone(),
                (px(6.0), header),
                text(8.0, HPos::Left, &AXIS),
            ))
            .map_err(e)?;
            for (x, label) in [
                (ESTIMATE_TEXT, "rate ratio (95% CI)"),
                (E_VALUE_TEXT, "E-value (CI)"),
            ] {
                root.draw(&Text::new(
                    label,
                    (px(x), header),
                    text(TICK_PT, HPos::Left, &MARK),
                ))
                .map_err(e)?;
            }
            y += HEADER_PT;
            let top = px(y);
            let bottom = px(y + ROW_PT * panel.rows.len() as f64);
            for &tick in &self.ticks {
                let x = log_x(tick);
                root.draw(&PathElement::new(vec![(x, top), (x, bottom)], grid))
                    .map_err(e)?;
            }
            let one = log_x(1.0);
            root.draw(&PathElement::new(vec![(one, top), (one, bottom)], thin))
                .map_err(e)?;
            for row in &panel.rows {
                let cy = px(y + ROW_PT / 2.0);
                root.draw(&Text::new(
                    row.label.clone(),
                    (px(12.0), cy),
                    text(TICK_PT, HPos::Left, &AXIS),
                ))
                .map_err(e)?;
                let color = color_of(row.kind);
                if row.estimate.is_finite() {
                    root.draw(&PathElement::new(
                        vec![(log_x(row.conf_low), cy), (log_x(row.conf_high), cy)],
                        t.line(color),
                    ))
                    .map_err(e)?;
                    root.draw(&Circle::new(
                        (log_x(row.estimate), cy),
                        t.radius(),
                        color.filled(),
                    ))
                    .map_err(e)?;
                    root.draw(&Text::new(
                        format!(
                            "{:.3} ({:.3} to {:.3})",
                            row.estimate, row.conf_low, row.conf_high
                        ),
                        (px(ESTIMATE_TEXT), cy),
                        text(TICK_PT, HPos::Left, &AXIS),
                    ))
                    .map_err(e)?;
                }
                if let Some((estimate, ci)) = row.e_value {
                    root.draw(&Text::new(
                        format!("{estimate:.2} ({ci:.2})"),
                        (px(E_VALUE_TEXT), cy),
                        text(TICK_PT, HPos::Left, &AXIS),
                    ))
                    .map_err(e)?;
                }
                y += ROW_PT;
            }
            // The rate-ratio axis.
            root.draw(&PathElement::new(
                vec![(left, bottom), (right, bottom)],
                thin,
            ))
            .map_err(e)?;
            for &tick in &self.ticks {
                let x = log_x(tick);
                root.draw(&PathElement::new(
                    vec![(x, bottom), (x, bottom + px(2.5))],
                    thin,
                ))
                .map_err(e)?;
                root.draw(&Text::new(
                    format!("{tick}"),
                    (x, bottom + px(7.0)),
                    text(TICK_PT, HPos::Center, &AXIS),
                ))
                .map_err(e)?;
            }
            root.draw(&Text::new(
                "rate ratio (log scale)",
                ((left + right) / 2, bottom + px(17.0)),
                text(TICK_PT, HPos::Center, &AXIS),
            ))
            .map_err(e)?;
            y += AXIS_PT;
            if let Some(linear) = &panel.linear {
                y = self.draw_linear(root, t, linear, y)?;
            }
            y += GAP_PT;
        }
        Ok(())
    }
}

impl Forest {
    /// The linear DiD block: CR1 and bootstrap intervals on a linear axis; returns the
    /// y (points) below it.
    fn draw_linear<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
        linear: &LinearIntervals,
        mut y: f64,
    ) -> Result<f64, String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        let text = |h: HPos, color: &'static RGBColor| label_style(t, TICK_PT, h, color);
        let px = |v: f64| t.px(v);
        let (left, right) = (px(PLOT_LEFT), px(PLOT_RIGHT));
        let finite = [
            linear.estimate,
            linear.cr1.0,
            linear.cr1.1,
            linear.bootstrap.0,
            linear.bootstrap.1,
            0.0,
        ]
        .into_iter()
        .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let pad = ((hi - lo) * 0.08).max(1e-9);
        let (lo, hi) = (lo - pad, hi + pad);
        let x_of = |v: f64| {
            let v = v.clamp(lo, hi);
            left + ((v - lo) / (hi - lo) * f64::from(right - left)).round() as i32
        };
        let header = px(y + HEADER_PT / 2.0);
        root.draw(&Text::new(
            "linear DiD, contacts per person per 30 days",
            (px(12.0), header),
            text(HPos::Left, &MARK),
        ))
        .map_err(e)?;
        root.draw(&Text::new(
            "change (95% CI)",
            (px(ESTIMATE_TEXT), header),
            text(HPos::Left, &MARK),
        ))
        .map_err(e)?;
        root.draw(&Text::new(
            "p",
            (px(E_VALUE_TEXT), header),
            text(HPos::Left, &MARK),
        ))
        .map_err(e)?;
        y += HEADER_PT;
        let top = px(y);
        let bottom = px(y + 2.0 * ROW_PT);
        let ticks = linear_ticks(lo, hi);
        let grid = GRID.stroke_width(t.width(0.5));
        let thin = t.thin(AXIS);
        for &tick in &ticks {
            root.draw(&PathElement::new(
                vec![(x_of(tick), top), (x_of(tick), bottom)],
                grid,
            ))
            .map_err(e)?;
        }
        root.draw(&PathElement::new(
            vec![(x_of(0.0), top), (x_of(0.0), bottom)],
            thin,
        ))
        .map_err(e)?;
        let rows = [
            ("cluster-robust (CR1) interval", linear.cr1, REFERRED, None),
            (
                linear.bootstrap_label.as_str(),
                linear.bootstrap,
                BEFORE_MATCHING,
                Some(linear.bootstrap_p_value),
            ),
        ];
        for (label, (low, high), color, p) in rows {
            let cy = px(y + ROW_PT / 2.0);
            root.draw(&Text::new(
                label.to_string(),
                (px(12.0), cy),
                text(HPos::Left, &AXIS),
            ))
            .map_err(e)?;
            root.draw(&PathElement::new(
                vec![(x_of(low), cy), (x_of(high), cy)],
                t.line(color),
            ))
            .map_err(e)?;
            root.draw(&Circle::new(
                (x_of(linear.estimate), cy),
                t.radius(),
                color.filled(),
            ))
            .map_err(e)?;
            let d = 4;
            root.draw(&Text::new(
                format!(
                    "{} ({} to {})",
                    limit(linear.estimate, d),
                    limit(low, d),
                    limit(high, d)
                ),
                (px(ESTIMATE_TEXT), cy),
                text(HPos::Left, &AXIS),
            ))
            .map_err(e)?;
            if let Some(p) = p {
                root.draw(&Text::new(
                    p_text(p),
                    (px(E_VALUE_TEXT), cy),
                    text(HPos::Left, &AXIS),
                ))
                .map_err(e)?;
            }
            y += ROW_PT;
        }
        root.draw(&PathElement::new(
            vec![(left, bottom), (right, bottom)],
            thin,
        ))
        .map_err(e)?;
        for &tick in &ticks {
            let x = x_of(tick);
            root.draw(&PathElement::new(
                vec![(x, bottom), (x, bottom + px(2.5))],
                thin,
            ))
            .map_err(e)?;
            root.draw(&Text::new(
                limit(tick, 3)
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string(),
                (x, bottom + px(7.0)),
                text(HPos::Center, &AXIS),
            ))
            .map_err(e)?;
        }
        root.draw(&Text::new(
            "difference in the change (linear scale)",
            ((left + right) / 2, bottom + px(17.0)),
            text(HPos::Center, &AXIS),
        ))
        .map_err(e)?;
        Ok(y + AXIS_PT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panels() -> Vec<ForestPanel> {
        let row = |label: &str, kind, estimate: f64| ForestRow {
            label: label.into(),
            kind,
            estimate,
            conf_low: estimate * 0.8,
            conf_high: estimate * 1.25,
            e_value: (kind == RowKind::Main).then_some((1.68, 1.5)),
        };
        vec![
            ForestPanel {
                title: "contacts with general practice".into(),
                rows: vec![
                    row("main analysis (Poisson DiD)", RowKind::Main, 0.835),
                    row("1:1 matching", RowKind::Sensitivity, 0.86),
                    row(
                        "negative binomial (NB2, θ = 1.86)",
                        RowKind::NegativeBinomial,
                        0.84,
                    ),
                    row(
                        "placebo index date (expected 1)",
                        RowKind::ExpectedNull,
                        1.01,
                    ),
                ],
                linear: Some(LinearIntervals {
                    estimate: -0.13,
                    cr1: (-0.18, -0.08),
                    bootstrap: (-0.19, f64::INFINITY),
                    bootstrap_p_value: 0.0002,
                    bootstrap_label: "wild cluster bootstrap (WCR, Rademacher)".into(),
                }),
            },
            ForestPanel {
                title: "negative-control outcomes".into(),
                rows: vec![row(
                    "planned admissions (expected 1)",
                    RowKind::ExpectedNull,
                    3.2,
                )],
                linear: None,
            },
        ]
    }

    #[test]
    fn forest_plot_draws_every_row_in_both_formats_deterministically() {
        let a = forest_plot("Every estimate", &panels()).expect("draw");
        let b = forest_plot("Every estimate", &panels()).expect("draw");
        assert_eq!(a.svg, b.svg);
        assert_eq!(a.png, b.png);
        assert_eq!(&a.png[1..4], b"PNG");
        for text in [
            "main analysis (Poisson DiD)",
            "1:1 matching",
            "0.835 (0.668 to 1.044)",
            "1.68 (1.50)",
            "planned admissions (expected 1)",
            "wild cluster bootstrap (WCR, Rademacher)",
            // An infinite bootstrap limit is written, not drawn off the page.
            "∞",
        ] {
            assert!(a.svg.contains(text), "{text} missing from the SVG");
        }
        // The axis reaches the widest interval (3.2 × 1.25 = 4) with the tick at 4.
        assert!(a.svg.contains(">\n4\n</text>"), "tick 4 missing");
    }

    #[test]
    fn linear_ticks_are_round_and_include_zero() {
        let t = linear_ticks(-0.19, 0.01);
        assert!(t.contains(&0.0), "{t:?}");
        // Steps of 0.05: every tick a multiple of it.
        assert!(
            t.iter()
                .all(|v| ((v / 0.05).round() * 0.05 - v).abs() < 1e-12),
            "{t:?}"
        );
        assert!(t.len() >= 3 && t.len() <= 6, "{t:?}");
    }

    #[test]
    fn p_values_below_four_decimals_are_written_as_a_bound() {
        assert_eq!(p_text(0.0), "< 0.0001");
        assert_eq!(p_text(0.000_049), "< 0.0001");
        assert_eq!(p_text(0.000_05), "0.0001");
        assert_eq!(p_text(0.2882), "0.2882");
    }
}
