//! `--histogram FILE`: the latency distribution as CSV (FILE) and as an SVG plot (FILE with
//! `.svg`): latency against percentile on a "nines" axis (0, 90, 99, 99.9, ...), the usual way
//! to read a tail (HdrHistogram's percentile plots).

use rmq::metrics::LatencyRecorder;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One curve: a label and its recorder (µs).
pub struct Series<'a> {
    pub label: &'a str,
    pub rec: &'a LatencyRecorder,
}

/// `side,low_us,high_us,count,cumulative,percentile` per non-empty bucket.
pub fn csv(series: &[Series]) -> String {
    let mut out = String::from("side,low_us,high_us,count,cumulative,percentile\n");
    for s in series {
        let total = s.rec.count().max(1) as f64;
        let mut cum = 0;
        for b in s.rec.buckets() {
            cum += b.count;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{:.6}",
                s.label,
                b.low,
                b.high,
                b.count,
                cum,
                cum as f64 / total * 100.0
            );
        }
    }
    out
}

/// x position of a percentile on the nines axis: -log10(1 - p), capped at `max_nines`.
fn nines(p: f64, max_nines: f64) -> f64 {
    if p >= 1.0 {
        return max_nines;
    }
    (-(1.0 - p).log10()).min(max_nines)
}

const W: f64 = 720.0;
const H: f64 = 400.0;
const L: f64 = 70.0;
const R: f64 = 40.0;
const T: f64 = 40.0;
const B: f64 = 50.0;
const COLORS: [&str; 3] = ["#1f77b4", "#d62728", "#2ca02c"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A "nice" step for about `n` ticks over `span`.
fn step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

/// The SVG document.
pub fn svg(title: &str, series: &[Series]) -> String {
    let total: u64 = series.iter().map(|s| s.rec.count()).max().unwrap_or(0);
    let max_nines = ((total.max(10) as f64).log10().ceil()).clamp(2.0, 6.0);
    let max_ms = series.iter().map(|s| s.rec.max()).max().unwrap_or(1).max(1) as f64 / 1000.0;
    let ystep = step(max_ms, 5.0);
    let ymax = (max_ms / ystep).ceil() * ystep;
    let px = |n: f64| L + n / max_nines * (W - L - R);
    let py = |ms: f64| H - B - ms / ymax * (H - T - B);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    // Grid and axes.
    for i in 0..=(max_nines as usize) {
        let x = px(i as f64);
        let label = match i {
            0 => "0%".to_string(),
            1 => "90%".to_string(),
            n => format!("99.{}%", "9".repeat(n - 2)).replace("99.%", "99%"),
        };
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{T}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ddd\"/>",
            H - B
        );
        let _ = writeln!(
            out,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            H - B + 16.0
        );
    }
    let mut v = 0.0;
    while v <= ymax + 1e-9 {
        let y = py(v);
        let _ = writeln!(
            out,
            "<line x1=\"{L}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>",
            W - R
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            L - 6.0,
            y + 4.0,
            trim(v)
        );
        v += ystep;
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">percentile</text>"#,
        (L + W - R) / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        out,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">latency (ms)</text>"#,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0
    );
    let _ = writeln!(
        out,
        "<rect x=\"{L}\" y=\"{T}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>",
        W - L - R,
        H - T - B
    );
    // Curves: a step per bucket, at its upper bound.
    for (i, s) in series.iter().enumerate() {
        let n = s.rec.count();
        if n == 0 {
            continue;
        }
        let color = COLORS[i % COLORS.len()];
        let mut pts = Vec::new();
        let mut cum = 0u64;
        let mut prev_x = px(0.0);
        for b in s.rec.buckets() {
            let y = py(b.high.min(s.rec.max()) as f64 / 1000.0);
            pts.push(format!("{prev_x:.1},{y:.1}"));
            cum += b.count;
            let x = px(nines(cum as f64 / n as f64, max_nines));
            pts.push(format!("{x:.1},{y:.1}"));
            prev_x = x;
        }
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        let ly = T + 16.0 + i as f64 * 16.0;
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{} (n={n}, p50 {} ms, p99 {} ms, max {} ms)</text>"#,
            L + 10.0,
            L + 30.0,
            L + 36.0,
            ly + 4.0,
            esc(s.label),
            ms(s.rec.quantile(0.5)),
            ms(s.rec.quantile(0.99)),
            ms(s.rec.max())
        );
    }
    out.push_str("</svg>\n");
    out
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Write `path` (CSV) and `path.svg`; returns the SVG's path.
pub fn write(path: &Path, title: &str, series: &[Series]) -> std::io::Result<PathBuf> {
    std::fs::write(path, csv(series))?;
    let mut svg_path = path.as_os_str().to_owned();
    svg_path.push(".svg");
    let svg_path = PathBuf::from(svg_path);
    std::fs::write(&svg_path, svg(title, series))?;
    Ok(svg_path)
}
