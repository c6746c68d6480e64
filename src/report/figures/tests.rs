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
    // The caption sits in the top 30 rows.
    let dark = buf[..width * 3 * 30]
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
