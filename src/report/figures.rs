//! Figures as SVG and PNG, drawn with plotters from result structs.
//!
//! PNG text is drawn with an embedded font (DejaVu Sans, `assets/fonts/`), so figures
//! render the same on a machine with no system fonts, such as a secure research server.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

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

/// Drawing code that runs on any plotters backend.
trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Renders with the same drawing code to SVG and to PNG.
fn render<D: Draw>(name: &str, size: (u32, u32), figure: &D) -> Result<Figure, FigureError> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        figure.draw(&root).map_err(draw_err(name))?;
        root.present().map_err(draw_err(name))?;
    }
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        figure.draw(&root).map_err(draw_err(name))?;
        root.present().map_err(draw_err(name))?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(draw_err(name))?;
        writer.write_image_data(&rgb).map_err(draw_err(name))?;
    }
    Ok(Figure { svg, png })
}

const BEFORE: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
const AFTER: RGBColor = RGBColor(0x00, 0x72, 0xb2);

/// One covariate's balance for the love plot.
#[derive(Debug, Clone)]
pub struct LovePoint {
    pub term: String,
    pub smd_before: f64,
    pub smd_after: Option<f64>,
}

/// Love plot: absolute standardised mean difference per covariate before and after
/// matching, with the conventional 0.1 threshold (Austin 2009) marked.
pub fn love_plot(points: &[LovePoint], threshold: f64) -> Result<Figure, FigureError> {
    let n = points.len().max(1);
    let height = 120 + 24 * n as u32;
    let x_max = points
        .iter()
        .flat_map(|p| [Some(p.smd_before.abs()), p.smd_after.map(f64::abs)])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(threshold * 1.5, f64::max)
        * 1.08;
    render(
        "love plot",
        (760, height),
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
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_love(root, self.points, self.threshold, self.x_max)
    }
}

fn draw_love<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[LovePoint],
    threshold: f64,
    x_max: f64,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(e)?;
    let n = points.len() as i32;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Covariate balance (absolute standardised mean difference)",
            (FAMILY, 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(230)
        .build_cartesian_2d(0.0..x_max, (0..n.max(1)).into_segmented())
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("|SMD|")
        .label_style((FAMILY, 13))
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
            BLACK.stroke_width(1),
        )))
        .map_err(e)?;
    let row = |i: usize| SegmentValue::CenterOf(n - 1 - i as i32);
    chart
        .draw_series(
            points
                .iter()
                .enumerate()
                .map(|(i, p)| Circle::new((p.smd_before.abs(), row(i)), 5, BEFORE.filled())),
        )
        .map_err(e)?
        .label("before matching")
        .legend(|(x, y)| Circle::new((x + 8, y), 5, BEFORE.filled()));
    chart
        .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
            p.smd_after
                .map(|a| Circle::new((a.abs(), row(i)), 5, AFTER.filled()))
        }))
        .map_err(e)?
        .label("after matching")
        .legend(|(x, y)| Circle::new((x + 8, y), 5, AFTER.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    Ok(())
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
/// group. The logit scale keeps a rare treatment readable.
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
        (900, 420),
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

impl Draw for Distribution {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_distribution(root, &self.panels, self.y_max, self.lo, self.hi)
    }
}

type Panel = (&'static str, Vec<f64>, Vec<f64>);

fn draw_distribution<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Panel; 2],
    y_max: f64,
    lo: f64,
    hi: f64,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((1, 2));
    for (area, (title, treated, control)) in areas.iter().zip(panels) {
        let bins = treated.len();
        let mut chart = ChartBuilder::on(area)
            .caption(*title, (FAMILY, 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(lo..hi, -y_max..y_max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("propensity score (linear logit)")
            .y_desc("share of group")
            .label_style((FAMILY, 12))
            .y_label_formatter(&|v| format!("{:.2}", v.abs()))
            .draw()
            .map_err(e)?;
        let width = (hi - lo) / bins as f64;
        chart
            .draw_series(treated.iter().enumerate().map(|(b, &h)| {
                Rectangle::new(
                    [
                        (lo + b as f64 * width, 0.0),
                        (lo + (b + 1) as f64 * width, h),
                    ],
                    AFTER.mix(0.8).filled(),
                )
            }))
            .map_err(e)?
            .label("referred")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], AFTER.filled()));
        chart
            .draw_series(control.iter().enumerate().map(|(b, &h)| {
                Rectangle::new(
                    [
                        (lo + b as f64 * width, -h),
                        (lo + (b + 1) as f64 * width, 0.0),
                    ],
                    BEFORE.mix(0.8).filled(),
                )
            }))
            .map_err(e)?
            .label("comparison")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BEFORE.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FAMILY, 12))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

/// One event-study estimate on the rate-ratio scale.
#[derive(Debug, Clone, Copy)]
pub struct EventEstimate {
    pub period: i32,
    pub rate_ratio: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// Event-study plot: rate ratio per 30-day period relative to the index date with 95%
/// intervals, the reference period (−1, ratio 1) marked hollow, a line at ratio 1 and a
/// dashed line at the index date.
pub fn event_study(
    title: &str,
    points: &[EventEstimate],
    reference: i32,
) -> Result<Figure, FigureError> {
    let lo = points
        .iter()
        .map(|p| p.conf_low)
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::min);
    let hi = points
        .iter()
        .map(|p| p.conf_high)
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
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
    let pad = (hi - lo).max(0.1) * 0.08;
    let event = Event {
        title: title.to_string(),
        points: points.to_vec(),
        reference,
        x: (f64::from(first) - 0.7, f64::from(last) + 0.7),
        y: ((lo - pad).max(0.0), hi + pad),
    };
    render("event study", (820, 460), &event)
}

struct Event {
    title: String,
    points: Vec<EventEstimate>,
    reference: i32,
    x: (f64, f64),
    y: (f64, f64),
}

impl Draw for Event {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FAMILY, 17))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("period of 30 days relative to the index date")
            .y_desc("rate ratio (95% CI)")
            .label_style((FAMILY, 12))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(self.x.0, 1.0), (self.x.1, 1.0)],
                BLACK.stroke_width(1),
            )))
            .map_err(e)?;
        // The index date falls between periods −1 and 0.
        let dashes = (0..20).map(|k| {
            let t = self.y.0 + (self.y.1 - self.y.0) * f64::from(k) / 20.0;
            let u = t + (self.y.1 - self.y.0) / 40.0;
            PathElement::new(vec![(-0.5, t), (-0.5, u)], BEFORE.stroke_width(1))
        });
        chart.draw_series(dashes).map_err(e)?;
        chart
            .draw_series(self.points.iter().map(|p| {
                PathElement::new(
                    vec![
                        (f64::from(p.period), p.conf_low),
                        (f64::from(p.period), p.conf_high),
                    ],
                    AFTER.stroke_width(2),
                )
            }))
            .map_err(e)?;
        chart
            .draw_series(
                self.points
                    .iter()
                    .map(|p| Circle::new((f64::from(p.period), p.rate_ratio), 4, AFTER.filled())),
            )
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (f64::from(self.reference), 1.0),
                5,
                BLACK.stroke_width(1),
            )))
            .map_err(e)?;
        Ok(())
    }
}

/// Raw contact rate per period of the referred and their matched comparison persons,
/// with a dashed line at the index date.
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
        y_max: if hi > 0.0 { hi } else { 1.0 },
    };
    render("raw rates", (820, 420), &rates)
}

struct Rates {
    title: String,
    periods: Vec<i32>,
    referred: Vec<f64>,
    comparison: Vec<f64>,
    x: (f64, f64),
    y_max: f64,
}

impl Draw for Rates {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FAMILY, 17))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(self.x.0..self.x.1, 0.0..self.y_max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("period of 30 days relative to the index date")
            .y_desc("contacts per person per 30 days")
            .label_style((FAMILY, 12))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(e)?;
        let dashes = (0..20).map(|k| {
            let t = self.y_max * f64::from(k) / 20.0;
            PathElement::new(
                vec![(-0.5, t), (-0.5, t + self.y_max / 40.0)],
                BLACK.stroke_width(1),
            )
        });
        chart.draw_series(dashes).map_err(e)?;
        for (values, color, name) in [
            (&self.referred, AFTER, "referred"),
            (&self.comparison, BEFORE, "matched comparison"),
        ] {
            let points: Vec<(f64, f64)> = self
                .periods
                .iter()
                .zip(values.iter())
                .filter(|(_, v)| v.is_finite())
                .map(|(&p, &v)| (f64::from(p), v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(e)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(e)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FAMILY, 12))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(e)?;
        Ok(())
    }
}

/// Model-based mean per survey wave with 95% intervals.
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
        y: (lo - pad, hi + pad),
    };
    render("trajectory", (640, 420), &t)
}

struct Trajectory {
    title: String,
    y_label: String,
    points: Vec<(i64, f64, f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
}

impl Draw for Trajectory {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FAMILY, 17))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("months after referral (survey wave)")
            .y_desc(self.y_label.as_str())
            .label_style((FAMILY, 12))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(e)?;
        let line: Vec<(f64, f64)> = self.points.iter().map(|p| (p.0 as f64, p.1)).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), AFTER.stroke_width(2)))
            .map_err(e)?;
        chart
            .draw_series(self.points.iter().map(|p| {
                PathElement::new(
                    vec![(p.0 as f64, p.2), (p.0 as f64, p.3)],
                    AFTER.stroke_width(2),
                )
            }))
            .map_err(e)?;
        chart
            .draw_series(line.iter().map(|&p| Circle::new(p, 4, AFTER.filled())))
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
/// with an optional exclusion box to its right.
#[derive(Debug, Clone)]
pub struct FlowDiagram {
    pub title: String,
    /// The main boxes, top to bottom, each with the exclusions leaving after it.
    pub steps: Vec<(FlowBox, Option<FlowBox>)>,
}

const FLOW_WIDTH: u32 = 900;
const FLOW_LINE: i32 = 20;

impl FlowDiagram {
    fn box_height(b: &FlowBox) -> i32 {
        b.lines.len() as i32 * FLOW_LINE + 16
    }

    fn height(&self) -> u32 {
        let boxes: i32 = self
            .steps
            .iter()
            .map(|(main, _)| Self::box_height(main) + 40)
            .sum();
        (boxes + 60) as u32
    }
}

impl Draw for FlowDiagram {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
        root.fill(&WHITE).map_err(e)?;
        let text = TextStyle::from((FAMILY, 15).into_font()).color(&BLACK);
        let title = TextStyle::from((FAMILY, 18).into_font()).color(&BLACK);
        root.draw(&Text::new(self.title.clone(), (20, 14), title))
            .map_err(e)?;
        let (main_x, main_w) = (40, 400);
        let (side_x, side_w) = (500, 370);
        let mut y = 50;
        for (i, (main, side)) in self.steps.iter().enumerate() {
            let h = Self::box_height(main);
            root.draw(&Rectangle::new(
                [(main_x, y), (main_x + main_w, y + h)],
                BLACK.stroke_width(1),
            ))
            .map_err(e)?;
            for (k, line) in main.lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (main_x + 10, y + 8 + k as i32 * FLOW_LINE),
                    text.clone(),
                ))
                .map_err(e)?;
            }
            let bottom = y + h;
            if let Some(side) = side {
                let sh = Self::box_height(side);
                let sy = bottom + 20 - sh / 2;
                let mid = bottom + 20;
                root.draw(&PathElement::new(
                    vec![(main_x + main_w / 2, mid), (side_x, mid)],
                    BLACK.stroke_width(1),
                ))
                .map_err(e)?;
                root.draw(&Rectangle::new(
                    [(side_x, sy), (side_x + side_w, sy + sh)],
                    RGBColor(0x55, 0x55, 0x55).stroke_width(1),
                ))
                .map_err(e)?;
                for (k, line) in side.lines.iter().enumerate() {
                    root.draw(&Text::new(
                        line.clone(),
                        (side_x + 10, sy + 8 + k as i32 * FLOW_LINE),
                        text.clone(),
                    ))
                    .map_err(e)?;
                }
            }
            if i + 1 < self.steps.len() {
                let x = main_x + main_w / 2;
                root.draw(&PathElement::new(
                    vec![(x, bottom), (x, bottom + 40)],
                    BLACK.stroke_width(1),
                ))
                .map_err(e)?;
                root.draw(&Polygon::new(
                    vec![(x - 5, bottom + 32), (x + 5, bottom + 32), (x, bottom + 40)],
                    BLACK.filled(),
                ))
                .map_err(e)?;
            }
            y = bottom + 40;
        }
        Ok(())
    }
}

/// Draws a flow diagram.
pub fn flow_diagram(diagram: &FlowDiagram) -> Result<Figure, FigureError> {
    render("flow diagram", (FLOW_WIDTH, diagram.height()), diagram)
}

#[cfg(test)]
mod tests;
