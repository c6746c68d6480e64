//! Figures as SVG and PNG, drawn with plotters from result structs, in one theme.
//!
//! The theme (see [`Theme`]): a figure is laid out in points (1/72 inch) at the width of
//! a single (85 mm) or double (175 mm) journal column; the SVG is drawn at 96 pixels
//! per inch (the CSS pixel) and the PNG at 300 dots per inch, with its pHYs chunk set
//! so that word processors place it at its physical size. One font size scale, a light
//! major grid without minor lines, and the Okabe–Ito colour-blind-safe palette, with
//! referred persons always blue and comparison persons vermillion, before matching
//! orange and after matching bluish green. Rate ratios are drawn on a log axis with
//! ticks at 0.5, 0.75, 1, 1.5 and 2.
//!
//! PNG text is drawn with an embedded font (DejaVu Sans, `assets/fonts/`), so figures
//! render the same on a machine with no system fonts, such as a secure research server.

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

mod forest;
pub use forest::{forest_plot, ForestPanel, ForestRow, LinearIntervals, RowKind};

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Width of a single journal column.
pub const SINGLE_COLUMN_MM: f64 = 85.0;
/// Width of a double (full-page) journal column.
pub const DOUBLE_COLUMN_MM: f64 = 175.0;
/// Resolution of the PNG figures.
pub const PNG_DPI: f64 = 300.0;
/// The CSS pixel: the resolution the SVG figures are drawn at.
const SVG_DPI: f64 = 96.0;
const POINTS_PER_INCH: f64 = 72.0;
const MM_PER_INCH: f64 = 25.4;

/// Okabe–Ito palette (Okabe and Ito 2008), safe for the common colour-vision deficiencies.
pub const REFERRED: RGBColor = RGBColor(0x00, 0x72, 0xb2);
pub const COMPARISON: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
pub const BEFORE_MATCHING: RGBColor = RGBColor(0xe6, 0x9f, 0x00);
pub const AFTER_MATCHING: RGBColor = RGBColor(0x00, 0x9e, 0x73);
const GRID: RGBColor = RGBColor(0xe3, 0xe3, 0xe3);
const AXIS: RGBColor = RGBColor(0x33, 0x33, 0x33);
const MARK: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// The font size scale, in points.
const TITLE_PT: f64 = 9.0;
const AXIS_TITLE_PT: f64 = 8.0;
const TICK_PT: f64 = 7.0;
/// One marker size and line weights, in points.
const POINT_PT: f64 = 2.2;
const LINE_PT: f64 = 1.0;
const THIN_PT: f64 = 0.6;

/// Rate-ratio axis ticks: always 0.5 to 2, extended when an interval reaches beyond.
const RATIO_TICKS: [f64; 11] = [0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 5.0, 10.0];

/// The scale from points to the pixels of one output.
#[derive(Debug, Clone, Copy)]
struct Theme {
    /// Pixels per point.
    scale: f64,
}

impl Theme {
    fn px(self, points: f64) -> i32 {
        (points * self.scale).round() as i32
    }

    fn width(self, points: f64) -> u32 {
        ((points * self.scale).round() as u32).max(1)
    }

    fn size(self, points: f64) -> f64 {
        points * self.scale
    }

    fn title(self) -> TextStyle<'static> {
        TextStyle::from((FAMILY, self.size(TITLE_PT)).into_font())
    }

    fn radius(self) -> i32 {
        self.px(POINT_PT).max(1)
    }

    fn line(self, color: RGBColor) -> ShapeStyle {
        color.stroke_width(self.width(LINE_PT))
    }

    fn thin(self, color: RGBColor) -> ShapeStyle {
        color.stroke_width(self.width(THIN_PT))
    }

    /// Light major grid only, one font scale, thin dark axes.
    fn mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
        self,
        mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    ) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
        mesh.light_line_style(TRANSPARENT)
            .bold_line_style(GRID.stroke_width(self.width(0.5)))
            .axis_style(AXIS.stroke_width(self.width(THIN_PT)))
            .label_style((FAMILY, self.size(TICK_PT)))
            .axis_desc_style((FAMILY, self.size(AXIS_TITLE_PT)))
            .set_all_tick_mark_size(self.px(2.5))
    }

    /// The legend box in the theme.
    fn legend<'a, 'b, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
        self,
        chart: &'b mut ChartContext<'a, DB, CT>,
        position: SeriesLabelPosition,
    ) -> Result<(), String> {
        chart
            .configure_series_labels()
            .position(position)
            .label_font((FAMILY, self.size(TICK_PT)))
            .background_style(WHITE.mix(0.9))
            .border_style(GRID.stroke_width(self.width(0.5)))
            .margin(self.px(4.0))
            .legend_area_size(self.px(12.0))
            .draw()
            .map_err(|e| format!("{e:?}"))
    }

    /// A vertical dashed line from `y.0` to `y.1` at `x`.
    fn dashed_vertical(self, x: f64, y: (f64, f64), log: bool) -> Vec<PathElement<(f64, f64)>> {
        let (a, b) = if log { (y.0.ln(), y.1.ln()) } else { y };
        (0..24)
            .map(|k| {
                let t = a + (b - a) * f64::from(k) / 24.0;
                let u = t + (b - a) / 48.0;
                let (t, u) = if log { (t.exp(), u.exp()) } else { (t, u) };
                PathElement::new(vec![(x, t), (x, u)], self.thin(MARK))
            })
            .collect()
    }
}

/// A numeric axis, linear or logarithmic, with labelled ticks at given values.
#[derive(Debug, Clone)]
struct Axis {
    range: (f64, f64),
    log: bool,
    ticks: Vec<f64>,
}

impl Axis {
    fn linear(range: (f64, f64), ticks: Vec<f64>) -> Axis {
        Axis {
            range,
            log: false,
            ticks,
        }
    }

    /// A log axis; `range` must be positive.
    fn log(range: (f64, f64), ticks: Vec<f64>) -> Axis {
        Axis {
            range,
            log: true,
            ticks,
        }
    }

    fn scale(&self, v: f64) -> f64 {
        if self.log {
            v.ln()
        } else {
            v
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.scale(self.range.0), self.scale(self.range.1));
        let t = (self.scale(*value) - a) / (b - a);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.0..self.range.1
    }
}

/// Ticks for a rate-ratio axis on `lo..hi`.
fn ratio_ticks(lo: f64, hi: f64) -> Vec<f64> {
    RATIO_TICKS
        .iter()
        .copied()
        .filter(|t| (0.5..=2.0).contains(t) || (*t >= lo && *t <= hi))
        .collect()
}

/// The range of a rate-ratio axis: 0.5 to 2 at least, the intervals, and a margin.
fn ratio_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((0.5f64, 2.0f64), |(a, b), v| (a.min(v), b.max(v)));
    (lo / 1.12, hi * 1.12)
}

/// Labels every `step`-th integer so that about ten fit.
fn period_ticks(first: i32, last: i32) -> Vec<f64> {
    let span = (last - first).max(1);
    let step = ((span + 1) as f64 / 10.0).ceil().max(1.0) as i32;
    (first..=last)
        .filter(|p| p.rem_euclid(step) == 0)
        .map(f64::from)
        .collect()
}

/// One figure in both formats.
#[derive(Debug, Clone)]
pub struct Figure {
    pub svg: String,
    pub png: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FigureError {
    #[error("drawing {figure}: {message}")]
    Draw { figure: String, message: String },
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is a valid TrueType file; registration cannot fail for it.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

fn draw_err<E: std::fmt::Debug>(figure: &str) -> impl Fn(E) -> FigureError + '_ {
    move |e| FigureError::Draw {
        figure: figure.to_string(),
        message: format!("{e:?}"),
    }
}

/// Drawing code that runs on any plotters backend, in the theme's pixels.
trait Draw {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        theme: Theme,
    ) -> Result<(), String>;
}

/// A figure's width in points for a width in millimetres.
fn column_points(mm: f64) -> f64 {
    mm / MM_PER_INCH * POINTS_PER_INCH
}

/// Renders with the same drawing code to SVG (96 dpi) and to PNG (300 dpi); `size` is
/// in points.
fn render<D: Draw>(name: &str, size: (f64, f64), figure: &D) -> Result<Figure, FigureError> {
    register_font();
    let mut svg = String::new();
    {
        let theme = Theme {
            scale: SVG_DPI / POINTS_PER_INCH,
        };
        let pixels = (theme.width(size.0), theme.width(size.1));
        let root = SVGBackend::with_string(&mut svg, pixels).into_drawing_area();
        figure.draw(&root, theme).map_err(draw_err(name))?;
        root.present().map_err(draw_err(name))?;
    }
    let theme = Theme {
        scale: PNG_DPI / POINTS_PER_INCH,
    };
    let pixels = (theme.width(size.0), theme.width(size.1));
    let mut rgb = vec![0u8; (pixels.0 * pixels.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, pixels).into_drawing_area();
        figure.draw(&root, theme).map_err(draw_err(name))?;
        root.present().map_err(draw_err(name))?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, pixels.0, pixels.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let per_metre = (PNG_DPI / MM_PER_INCH * 1000.0).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
        let mut writer = encoder.write_header().map_err(draw_err(name))?;
        writer.write_image_data(&rgb).map_err(draw_err(name))?;
    }
    Ok(Figure { svg, png })
}

/// One covariate's balance for the love plot.
#[derive(Debug, Clone)]
pub struct LovePoint {
    pub term: String,
    pub smd_before: f64,
    pub smd_after: Option<f64>,
}

/// Love plot: absolute standardised mean difference per covariate before and after
/// matching, with the conventional 0.1 threshold (Austin 2009) marked; double column.
pub fn love_plot(points: &[LovePoint], threshold: f64) -> Result<Figure, FigureError> {
    let n = points.len().max(1);
    let height = 70.0 + 11.0 * n as f64;
    let x_max = points
        .iter()
        .flat_map(|p| [Some(p.smd_before.abs()), p.smd_after.map(f64::abs)])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(threshold * 1.5, f64::max)
        * 1.08;
    render(
        "love plot",
        (column_points(DOUBLE_COLUMN_MM), height),
        &Love {
            points,
            threshold,
            x_max,
        },
    )
}

struct Love<'a> {
    points: &'a [LovePoint],
    threshold: f64,
    x_max: f64,
}

impl Draw for Love<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let (points, threshold, x_max) = (self.points, self.threshold, self.x_max);
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let n = points.len() as i32;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Covariate balance (absolute standardised mean difference)",
                t.title(),
            )
            .margin(t.px(6.0))
            .x_label_area_size(t.px(24.0))
            .y_label_area_size(t.px(150.0))
            .build_cartesian_2d(0.0..x_max, (0..n.max(1)).into_segmented())
            .map_err(e)?;
        t.mesh(&mut chart.configure_mesh())
            .disable_y_mesh()
            .x_desc("|SMD|")
            .y_labels(points.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if (0..n).contains(i) => points
                    .get((n - 1 - *i) as usize)
                    .map_or_else(String::new, |p| p.term.clone()),
                _ => String::new(),
            })
            .draw()
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    (threshold, SegmentValue::Exact(0)),
                    (threshold, SegmentValue::Exact(n.max(1))),
                ],
                t.thin(MARK),
            )))
            .map_err(e)?;
        let row = |i: usize| SegmentValue::CenterOf(n - 1 - i as i32);
        let r = t.radius();
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| {
                Circle::new((p.smd_before.abs(), row(i)), r, BEFORE_MATCHING.filled())
            }))
            .map_err(e)?
            .label("before matching")
            .legend(move |(x, y)| Circle::new((x + r, y), r, BEFORE_MATCHING.filled()));
        chart
            .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
                p.smd_after
                    .map(|a| Circle::new((a.abs(), row(i)), r, AFTER_MATCHING.filled()))
            }))
            .map_err(e)?
            .label("after matching")
            .legend(move |(x, y)| Circle::new((x + r, y), r, AFTER_MATCHING.filled()));
        t.legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// Propensity scores of one group, with weights (1 before matching).
#[derive(Debug, Clone)]
pub struct ScoreSample {
    pub scores: Vec<f64>,
    pub weights: Vec<f64>,
}

/// Share of the group's weight in each of `bins` equal bins on `[lo, hi]`; a bin with
/// 1 to `min_count − 1` persons is left empty (disclosure control).
fn shares(sample: &ScoreSample, bins: usize, lo: f64, hi: f64, min_count: usize) -> Vec<f64> {
    let mut h = vec![0.0; bins];
    let mut persons = vec![0usize; bins];
    let total: f64 = sample.weights.iter().sum();
    if total <= 0.0 || hi <= lo {
        return h;
    }
    for (s, w) in sample.scores.iter().zip(&sample.weights) {
        if s.is_finite() {
            let b = (((s - lo) / (hi - lo) * bins as f64).max(0.0) as usize).min(bins - 1);
            h[b] += w / total;
            if *w > 0.0 {
                persons[b] += 1;
            }
        }
    }
    for (share, &n) in h.iter_mut().zip(&persons) {
        if n > 0 && n < min_count {
            *share = 0.0;
        }
    }
    h
}

/// Mirrored histograms of the linear logit of the propensity score — referred above,
/// comparison below — before (left) and after (right) matching, each as a share of its
/// group; double column. The logit scale keeps a rare treatment readable.
///
/// Bins holding 1 to `min_count − 1` persons are not drawn (disclosure control; 0 draws
/// every bin).
pub fn propensity_distribution(
    before: (&ScoreSample, &ScoreSample),
    after: (&ScoreSample, &ScoreSample),
    min_count: usize,
) -> Result<Figure, FigureError> {
    const BINS: usize = 30;
    let all = before
        .0
        .scores
        .iter()
        .chain(&before.1.scores)
        .filter(|s| s.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &s| {
        (a.min(s), b.max(s))
    });
    let (lo, hi) = if lo < hi {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let panels = [
        (
            "Before matching",
            shares(before.0, BINS, lo, hi, min_count),
            shares(before.1, BINS, lo, hi, min_count),
        ),
        (
            "After matching",
            shares(after.0, BINS, lo, hi, min_count),
            shares(after.1, BINS, lo, hi, min_count),
        ),
    ];
    let y_max = panels
        .iter()
        .flat_map(|(_, t, c)| t.iter().chain(c))
        .fold(0.05f64, |a, &b| a.max(b))
        * 1.1;
    render(
        "propensity score distribution",
        (column_points(DOUBLE_COLUMN_MM), 230.0),
        &Distribution {
            panels,
            y_max,
            lo,
            hi,
        },
    )
}

struct Distribution {
    panels: [Panel; 2],
    y_max: f64,
    lo: f64,
    hi: f64,
}

type Panel = (&'static str, Vec<f64>, Vec<f64>);

impl Draw for Distribution {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let (lo, hi, y_max) = (self.lo, self.hi, self.y_max);
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let areas = root.split_evenly((1, 2));
        for (area, (title, treated, control)) in areas.iter().zip(&self.panels) {
            let bins = treated.len();
            let mut chart = ChartBuilder::on(area)
                .caption(*title, t.title())
                .margin(t.px(6.0))
                .x_label_area_size(t.px(24.0))
                .y_label_area_size(t.px(34.0))
                .build_cartesian_2d(lo..hi, -y_max..y_max)
                .map_err(e)?;
            t.mesh(&mut chart.configure_mesh())
                .x_desc("propensity score (linear logit)")
                .y_desc("share of group")
                .y_label_formatter(&|v| format!("{:.2}", v.abs()))
                .draw()
                .map_err(e)?;
            let width = (hi - lo) / bins as f64;
            let key = t.px(4.0);
            chart
                .draw_series(treated.iter().enumerate().map(|(b, &h)| {
                    Rectangle::new(
                        [
                            (lo + b as f64 * width, 0.0),
                            (lo + (b + 1) as f64 * width, h),
                        ],
                        REFERRED.mix(0.85).filled(),
                    )
                }))
                .map_err(e)?
                .label("referred")
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - key), (x + 2 * key, y + key)], REFERRED.filled())
                });
            chart
                .draw_series(control.iter().enumerate().map(|(b, &h)| {
                    Rectangle::new(
                        [
                            (lo + b as f64 * width, -h),
                            (lo + (b + 1) as f64 * width, 0.0),
                        ],
                        COMPARISON.mix(0.85).filled(),
                    )
                }))
                .map_err(e)?
                .label("comparison")
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - key), (x + 2 * key, y + key)], COMPARISON.filled())
                });
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(lo, 0.0), (hi, 0.0)],
                    t.thin(AXIS),
                )))
                .map_err(e)?;
            t.legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

/// One event-study estimate on the rate-ratio scale.
#[derive(Debug, Clone, Copy)]
pub struct EventEstimate {
    pub period: i32,
    pub rate_ratio: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// Event-study plot, single column: rate ratio per 30-day period relative to the index
/// date with 95% intervals on a log axis, the reference period (−1, ratio 1) marked
/// hollow, a line at ratio 1 and a dashed line at the index date.
pub fn event_study(
    title: &str,
    points: &[EventEstimate],
    reference: i32,
) -> Result<Figure, FigureError> {
    let y = ratio_range(
        points
            .iter()
            .flat_map(|p| [p.conf_low, p.conf_high, p.rate_ratio]),
    );
    let first = points
        .iter()
        .map(|p| p.period)
        .chain([reference])
        .min()
        .unwrap_or(-1);
    let last = points
        .iter()
        .map(|p| p.period)
        .chain([reference])
        .max()
        .unwrap_or(0);
    let event = Event {
        title: title.to_string(),
        points: points.to_vec(),
        reference,
        x: (f64::from(first) - 0.7, f64::from(last) + 0.7),
        x_ticks: period_ticks(first, last),
        y,
    };
    render(
        "event study",
        (column_points(SINGLE_COLUMN_MM), 190.0),
        &event,
    )
}

struct Event {
    title: String,
    points: Vec<EventEstimate>,
    reference: i32,
    x: (f64, f64),
    x_ticks: Vec<f64>,
    y: (f64, f64),
}

impl Draw for Event {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, t.title())
            .margin(t.px(6.0))
            .x_label_area_size(t.px(24.0))
            .y_label_area_size(t.px(34.0))
            .build_cartesian_2d(
                Axis::linear(self.x, self.x_ticks.clone()),
                Axis::log(self.y, ratio_ticks(self.y.0, self.y.1)),
            )
            .map_err(e)?;
        t.mesh(&mut chart.configure_mesh())
            .x_desc("30-day period relative to the index date")
            .y_desc("rate ratio (95% CI, log scale)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v}"))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(self.x.0, 1.0), (self.x.1, 1.0)],
                t.thin(AXIS),
            )))
            .map_err(e)?;
        // The index date falls between periods −1 and 0.
        chart
            .draw_series(t.dashed_vertical(-0.5, self.y, true))
            .map_err(e)?;
        chart
            .draw_series(self.points.iter().map(|p| {
                PathElement::new(
                    vec![
                        (f64::from(p.period), p.conf_low),
                        (f64::from(p.period), p.conf_high),
                    ],
                    t.line(REFERRED),
                )
            }))
            .map_err(e)?;
        let r = t.radius();
        chart
            .draw_series(
                self.points.iter().map(|p| {
                    Circle::new((f64::from(p.period), p.rate_ratio), r, REFERRED.filled())
                }),
            )
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (f64::from(self.reference), 1.0),
                r,
                t.line(AXIS),
            )))
            .map_err(e)?;
        Ok(())
    }
}

/// Raw contact rate per period of the referred and their matched comparison persons,
/// with a dashed line at the index date; single column.
pub fn raw_rates(
    title: &str,
    periods: &[i32],
    referred: &[f64],
    comparison: &[f64],
) -> Result<Figure, FigureError> {
    let values = referred.iter().chain(comparison).filter(|v| v.is_finite());
    let hi = values.fold(0.0f64, |a, &b| a.max(b)) * 1.15;
    let first = periods.first().copied().unwrap_or(-1);
    let last = periods.last().copied().unwrap_or(0);
    let rates = Rates {
        title: title.to_string(),
        periods: periods.to_vec(),
        referred: referred.to_vec(),
        comparison: comparison.to_vec(),
        x: (f64::from(first) - 0.5, f64::from(last) + 0.5),
        x_ticks: period_ticks(first, last),
        y_max: if hi > 0.0 { hi } else { 1.0 },
    };
    render(
        "raw rates",
        (column_points(SINGLE_COLUMN_MM), 190.0),
        &rates,
    )
}

struct Rates {
    title: String,
    periods: Vec<i32>,
    referred: Vec<f64>,
    comparison: Vec<f64>,
    x: (f64, f64),
    x_ticks: Vec<f64>,
    y_max: f64,
}

impl Draw for Rates {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, t.title())
            .margin(t.px(6.0))
            .x_label_area_size(t.px(24.0))
            .y_label_area_size(t.px(34.0))
            .build_cartesian_2d(Axis::linear(self.x, self.x_ticks.clone()), 0.0..self.y_max)
            .map_err(e)?;
        t.mesh(&mut chart.configure_mesh())
            .x_desc("30-day period relative to the index date")
            .y_desc("contacts per person per 30 days")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(t.dashed_vertical(-0.5, (0.0, self.y_max), false))
            .map_err(e)?;
        let r = t.radius();
        let key = t.px(10.0);
        for (values, color, name) in [
            (&self.referred, REFERRED, "referred"),
            (&self.comparison, COMPARISON, "matched comparison"),
        ] {
            let points: Vec<(f64, f64)> = self
                .periods
                .iter()
                .zip(values.iter())
                .filter(|(_, v)| v.is_finite())
                .map(|(&p, &v)| (f64::from(p), v))
                .collect();
            let line = t.line(color);
            chart
                .draw_series(LineSeries::new(points.clone(), line))
                .map_err(e)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + key, y)], line));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, r, color.filled())))
                .map_err(e)?;
        }
        t.legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// Model-based mean per survey wave with 95% intervals; single column.
pub fn trajectory(
    title: &str,
    y_label: &str,
    points: &[(i64, f64, f64, f64)],
) -> Result<Figure, FigureError> {
    let lo = points.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.3).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo).abs() * 0.15).max(1e-6);
    let last = points.iter().map(|p| p.0).max().unwrap_or(9) as f64;
    let t = Trajectory {
        title: title.to_string(),
        y_label: y_label.to_string(),
        points: points.to_vec(),
        x: (-0.8, last + 0.8),
        x_ticks: points.iter().map(|p| p.0 as f64).collect(),
        y: (lo - pad, hi + pad),
    };
    render("trajectory", (column_points(SINGLE_COLUMN_MM), 190.0), &t)
}

struct Trajectory {
    title: String,
    y_label: String,
    points: Vec<(i64, f64, f64, f64)>,
    x: (f64, f64),
    x_ticks: Vec<f64>,
    y: (f64, f64),
}

impl Draw for Trajectory {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, t.title())
            .margin(t.px(6.0))
            .x_label_area_size(t.px(24.0))
            .y_label_area_size(t.px(38.0))
            .build_cartesian_2d(
                Axis::linear(self.x, self.x_ticks.clone()),
                self.y.0..self.y.1,
            )
            .map_err(e)?;
        t.mesh(&mut chart.configure_mesh())
            .x_desc("months after referral (survey wave)")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(e)?;
        let line: Vec<(f64, f64)> = self.points.iter().map(|p| (p.0 as f64, p.1)).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), t.line(REFERRED)))
            .map_err(e)?;
        chart
            .draw_series(self.points.iter().map(|p| {
                PathElement::new(vec![(p.0 as f64, p.2), (p.0 as f64, p.3)], t.line(REFERRED))
            }))
            .map_err(e)?;
        let r = t.radius();
        chart
            .draw_series(line.iter().map(|&p| Circle::new(p, r, REFERRED.filled())))
            .map_err(e)?;
        Ok(())
    }
}

/// One box of a flow diagram: its lines of text.
#[derive(Debug, Clone)]
pub struct FlowBox {
    pub lines: Vec<String>,
}

/// A STROBE-style flow diagram: a column of main boxes joined by arrows, each step
/// with an optional exclusion box to its right; double column.
#[derive(Debug, Clone)]
pub struct FlowDiagram {
    pub title: String,
    /// The main boxes, top to bottom, each with the exclusions leaving after it.
    pub steps: Vec<(FlowBox, Option<FlowBox>)>,
}

/// Line height and gap between boxes in points.
const FLOW_LINE: f64 = 10.5;
const FLOW_GAP: f64 = 20.0;

impl FlowDiagram {
    fn box_height(b: &FlowBox) -> f64 {
        b.lines.len() as f64 * FLOW_LINE + 8.0
    }

    fn height(&self) -> f64 {
        let boxes: f64 = self
            .steps
            .iter()
            .map(|(main, _)| Self::box_height(main) + FLOW_GAP)
            .sum();
        boxes + 30.0 - FLOW_GAP / 2.0
    }
}

impl Draw for FlowDiagram {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: Theme,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let text = TextStyle::from((FAMILY, t.size(AXIS_TITLE_PT)).into_font()).color(&BLACK);
        root.draw(&Text::new(
            self.title.clone(),
            (t.px(10.0), t.px(7.0)),
            t.title(),
        ))
        .map_err(e)?;
        let (main_x, main_w) = (t.px(20.0), t.px(215.0));
        let (side_x, side_w) = (t.px(265.0), t.px(215.0));
        let line = t.px(FLOW_LINE);
        let pad = t.px(4.0);
        let gap = t.px(FLOW_GAP);
        let mut y = t.px(25.0);
        for (i, (main, side)) in self.steps.iter().enumerate() {
            let h = t.px(Self::box_height(main));
            root.draw(&Rectangle::new(
                [(main_x, y), (main_x + main_w, y + h)],
                t.thin(AXIS),
            ))
            .map_err(e)?;
            for (k, l) in main.lines.iter().enumerate() {
                root.draw(&Text::new(
                    l.clone(),
                    (main_x + 2 * pad, y + pad + k as i32 * line),
                    text.clone(),
                ))
                .map_err(e)?;
            }
            let bottom = y + h;
            if let Some(side) = side {
                let sh = t.px(Self::box_height(side));
                let mid = bottom + gap / 2;
                let sy = mid - sh / 2;
                root.draw(&PathElement::new(
                    vec![(main_x + main_w / 2, mid), (side_x, mid)],
                    t.thin(AXIS),
                ))
                .map_err(e)?;
                root.draw(&Rectangle::new(
                    [(side_x, sy), (side_x + side_w, sy + sh)],
                    t.thin(MARK),
                ))
                .map_err(e)?;
                for (k, l) in side.lines.iter().enumerate() {
                    root.draw(&Text::new(
                        l.clone(),
                        (side_x + 2 * pad, sy + pad + k as i32 * line),
                        text.clone(),
                    ))
                    .map_err(e)?;
                }
            }
            if i + 1 < self.steps.len() {
                let x = main_x + main_w / 2;
                let head = t.px(3.0);
                root.draw(&PathElement::new(
                    vec![(x, bottom), (x, bottom + gap)],
                    t.thin(AXIS),
                ))
                .map_err(e)?;
                root.draw(&Polygon::new(
                    vec![
                        (x - head, bottom + gap - 2 * head),
                        (x + head, bottom + gap - 2 * head),
                        (x, bottom + gap),
                    ],
                    AXIS.filled(),
                ))
                .map_err(e)?;
            }
            y = bottom + gap;
        }
        Ok(())
    }
}

/// Draws a flow diagram.
pub fn flow_diagram(diagram: &FlowDiagram) -> Result<Figure, FigureError> {
    render(
        "flow diagram",
        (column_points(DOUBLE_COLUMN_MM), diagram.height()),
        diagram,
    )
}

#[cfg(test)]
mod tests;
