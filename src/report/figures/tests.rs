use super::*;

#[test]
fn love_plot_renders_both_formats_deterministically() {
    let points = vec![
        LovePoint {
            term: "age".into(),
            smd_before: 0.45,
            smd_after: Some(0.03),
        },
        LovePoint {
            term: "sexM".into(),
            smd_before: -0.2,
            smd_after: Some(-0.05),
        },
    ];
    let a = love_plot(&points, 0.1).expect("draw");
    let b = love_plot(&points, 0.1).expect("draw");
    assert!(a.svg.starts_with("<svg") && a.svg.contains("sexM"));
    assert_eq!(&a.png[1..4], b"PNG");
    assert_eq!(a.png, b.png);
    assert_eq!(a.svg, b.svg);
}

#[test]
fn png_text_is_drawn_with_the_embedded_font() {
    // A PNG with a caption has many more distinct dark pixels than the same frame
    // without text would; check the caption area is not blank.
    let points = vec![LovePoint {
        term: "covariate".into(),
        smd_before: 0.3,
        smd_after: None,
    }];
    let fig = love_plot(&points, 0.1).expect("draw");
    let decoder = png::Decoder::new(std::io::Cursor::new(&fig.png));
    let mut reader = decoder.read_info().expect("png");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    let width = info.width as usize;
    // The caption sits in the top 12 points.
    let rows = (12.0 * PNG_DPI / POINTS_PER_INCH) as usize;
    let dark = buf[..width * 3 * rows]
        .chunks(3)
        .filter(|p| p.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark > 50,
        "caption text missing from PNG ({dark} dark pixels)"
    );
}

#[test]
fn shares_sum_to_one_per_group() {
    let s = ScoreSample {
        scores: vec![0.1, 0.5, 0.99, 1.0],
        weights: vec![1.0, 1.0, 2.0, 0.0],
    };
    let h = shares(&s, 10, 0.0, 1.0, 0);
    assert!((h.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((h[9] - 0.5).abs() < 1e-12);
}

#[test]
fn pngs_are_300_dpi_at_the_width_of_a_journal_column() {
    let points = vec![LovePoint {
        term: "age".into(),
        smd_before: 0.3,
        smd_after: Some(0.02),
    }];
    let love = love_plot(&points, 0.1).expect("draw");
    let event = event_study("rate ratio", &events(), -1).expect("draw");
    for (fig, mm) in [(&love, DOUBLE_COLUMN_MM), (&event, SINGLE_COLUMN_MM)] {
        let reader = png::Decoder::new(std::io::Cursor::new(&fig.png))
            .read_info()
            .expect("png");
        let info = reader.info();
        let dims = info.pixel_dims.expect("pHYs chunk");
        assert_eq!(dims.unit, png::Unit::Meter);
        // 300 dots per inch is 11811 per metre.
        assert_eq!((dims.xppu, dims.yppu), (11811, 11811));
        let inches = f64::from(info.width) / PNG_DPI;
        assert!(
            (inches * MM_PER_INCH - mm).abs() < 0.2,
            "{} px wide",
            info.width
        );
    }
}

fn events() -> Vec<EventEstimate> {
    [
        (-3, 1.1, 0.8, 1.5),
        (-2, 0.95, 0.7, 1.3),
        (0, 1.4, 1.05, 1.9),
        (1, 1.6, 1.2, 2.1),
    ]
    .iter()
    .map(|&(period, rate_ratio, conf_low, conf_high)| EventEstimate {
        period,
        rate_ratio,
        conf_low,
        conf_high,
    })
    .collect()
}

/// The position of the leftmost text `label` in an SVG (the y-axis tick label).
fn label_y(svg: &str, label: &str) -> f64 {
    // plotters puts a text's content on its own line.
    let svg = svg.replace(">\n", ">").replace("\n</text>", "</text>");
    let svg = svg.as_str();
    let attr = |attrs: &str, name: &str| -> f64 {
        let key = format!(" {name}=\"");
        let at = attrs.find(&key).expect("attribute") + key.len();
        attrs[at..at + attrs[at..].find('"').expect("quote")]
            .parse()
            .expect("number")
    };
    svg.match_indices(&format!(">{label}</text>"))
        .map(|(end, _)| {
            let start = svg[..end].rfind("<text").expect("text element");
            (attr(&svg[start..end], "x"), attr(&svg[start..end], "y"))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or_else(|| panic!("no tick label {label}"))
        .1
}

#[test]
fn rate_ratios_are_on_a_log_axis_with_the_journal_ticks() {
    let fig = event_study("rate ratio", &events(), -1).expect("draw");
    let y: Vec<f64> = ["0.5", "0.75", "1", "1.5", "2"]
        .iter()
        .map(|l| label_y(&fig.svg, l))
        .collect();
    // On a log axis 0.5 and 2 lie at the same distance from 1, and 0.75 → 1 is
    // log(4/3), 1 → 1.5 is log(3/2) of it.
    let (below, above) = (y[0] - y[2], y[2] - y[4]);
    assert!(
        (below - above).abs() <= 1.0,
        "0.5 and 2 not symmetric: {y:?}"
    );
    let ratio = (y[1] - y[2]) / (y[2] - y[3]);
    let expected = (4.0f64 / 3.0).ln() / 1.5f64.ln();
    assert!((ratio - expected).abs() < 0.05, "{ratio} vs {expected}");
}

#[test]
fn ratio_ticks_cover_wide_intervals() {
    assert_eq!(ratio_ticks(0.45, 2.2), vec![0.5, 0.75, 1.0, 1.5, 2.0]);
    assert_eq!(
        ratio_ticks(0.15, 4.5),
        vec![0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0]
    );
    let (lo, hi) = ratio_range([0.9, 1.2].into_iter());
    assert!(lo < 0.5 && hi > 2.0);
}
