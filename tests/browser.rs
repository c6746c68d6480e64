//! The demo's `report.html` opened in headless Chromium (Debian's `chromium`, or the
//! browser named by `SHINE_CHROMIUM`). Ignored by default because it needs the browser;
//! `.ci/run` installs it and runs `cargo test --release --test browser -- --ignored`.
//!
//! A small script is put at the top of a copy of the report. It records console errors,
//! uncaught exceptions and resources that fail to load, and once the page has loaded it
//! checks that every figure shows a drawn image and that no table is wider than the
//! page; the browser's DOM dump then carries its findings. The test also stores a
//! screenshot and an A4 PDF print of the report beside the test binaries
//! (`target/tmp/browser/`), and shows that the check fails when a figure's image is
//! removed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{shine, Scratch};

const CHECK: &str = r#"<script>
(function () {
  var problems = [];
  var error = console.error;
  console.error = function () {
    problems.push("console error: " + Array.prototype.join.call(arguments, " "));
    error.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      problems.push("resource failed to load: " + (t.src || t.href));
    } else {
      problems.push("uncaught error: " + e.message);
    }
  }, true);
  window.addEventListener("load", function () {
    var page = document.documentElement.clientWidth;
    document.querySelectorAll("figure").forEach(function (f) {
      var img = f.querySelector("svg, img");
      var box = img ? img.getBoundingClientRect() : null;
      var drawn = img && box.width > 0 && box.height > 0 &&
        (img.tagName.toLowerCase() !== "img" || (img.complete && img.naturalWidth > 0));
      if (!drawn) problems.push("missing image in figure " + f.id);
    });
    document.querySelectorAll("img").forEach(function (img) {
      if (!(img.complete && img.naturalWidth > 0)) problems.push("image not loaded: " + img.src);
    });
    document.querySelectorAll("table").forEach(function (t) {
      var holder = t.parentElement;
      var right = t.getBoundingClientRect().right;
      if (t.scrollWidth > holder.clientWidth + 1 || right > page + 1) {
        var h = holder.previousElementSibling;
        problems.push("table wider than the page: " + (h ? h.textContent : "?"));
      }
    });
    var out = document.createElement("pre");
    out.id = "shine-browser-check";
    out.textContent = JSON.stringify({ figures: document.querySelectorAll("figure").length, problems: problems });
    document.body.appendChild(out);
  });
})();
</script>"#;

fn chromium() -> String {
    std::env::var("SHINE_CHROMIUM").unwrap_or_else(|_| "chromium".to_string())
}

fn headless(args: &[&str], page: &Path) -> std::process::Output {
    let url = format!("file://{}", page.display());
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--window-size=1100,1400",
            "--virtual-time-budget=10000",
        ])
        .args(args)
        .arg(url)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}); install Debian's chromium",
                chromium()
            )
        })
}

/// The check's findings for `html`: the number of figures and the problems.
fn check(dir: &Path, name: &str, html: &str) -> (u64, Vec<String>) {
    let head = "<meta charset=\"utf-8\">";
    assert!(html.contains(head), "report without a charset meta tag");
    let page = dir.join(name);
    std::fs::write(&page, html.replacen(head, &format!("{head}\n{CHECK}"), 1)).expect("write");
    let out = headless(&["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("id=\"shine-browser-check\">").unwrap_or_else(|| {
        panic!(
            "the page never finished loading in {}: {}",
            chromium(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rest = &dom[start + "id=\"shine-browser-check\">".len()..];
    let json = rest[..rest.find("</pre>").expect("end of findings")]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).expect("findings");
    let problems = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_string())
        .collect();
    (v["figures"].as_u64().expect("figure count"), problems)
}

fn stored(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir.join(name)
}

#[test]
#[ignore = "needs headless Chromium; run by .ci/run"]
fn the_report_renders_in_chromium_without_errors() {
    let scratch = Scratch::new("browser");
    let out = scratch.join("results");
    let run = shine()
        .args(["analyse", "--demo", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("run shine");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).expect("report.html");

    let (figures, problems) = check(scratch.path(), "checked.html", &html);
    assert!(figures >= 6, "only {figures} figures in the report");
    assert!(problems.is_empty(), "the report in Chromium: {problems:#?}");

    // The same check fails when one figure loses its image.
    let start = html.find("<svg").expect("an inline figure");
    let end = start + html[start..].find("</svg>").expect("end of svg") + "</svg>".len();
    let broken = format!("{}{}", &html[..start], &html[end..]);
    let (_, problems) = check(scratch.path(), "broken.html", &broken);
    assert!(
        problems.iter().any(|p| p.starts_with("missing image")),
        "a removed image went unnoticed: {problems:?}"
    );
    // And when an image file is missing.
    let missing = html.replacen(
        "</figure>",
        "<img src=\"figures/not-there.png\" alt=\"\"></figure>",
        1,
    );
    let (_, problems) = check(scratch.path(), "missing.html", &missing);
    assert!(
        problems.iter().any(|p| p.contains("not-there.png")),
        "a missing image file went unnoticed: {problems:?}"
    );

    let screenshot = stored("report.png");
    let shot = headless(
        &[&format!("--screenshot={}", screenshot.display())],
        &report,
    );
    assert!(
        screenshot.metadata().is_ok_and(|m| m.len() > 10_000),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let pdf = stored("report.pdf");
    let print = headless(
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
        ],
        &report,
    );
    let bytes = std::fs::read(&pdf)
        .unwrap_or_else(|_| panic!("no PDF print: {}", String::from_utf8_lossy(&print.stderr)));
    assert!(bytes.starts_with(b"%PDF"));
    // A4 is 595 × 842 points (Chromium writes 594.96 × 841.92); the print styles ask
    // for it, and without them Chromium prints on US Letter (612 × 792).
    let text = String::from_utf8_lossy(&bytes);
    let pages = text.matches("/MediaBox [0 0 594.9").count();
    assert!(
        pages >= 5,
        "the PDF print is not A4 or has too few pages ({pages})"
    );
    assert!(!text.contains("/MediaBox [0 0 612"), "a page on US Letter");
    eprintln!(
        "screenshot {} and print {}",
        screenshot.display(),
        pdf.display()
    );
}
