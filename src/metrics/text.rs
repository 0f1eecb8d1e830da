//! Prometheus text exposition format 0.0.4
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>):
//!
//! ```text
//! # HELP <name> <help, with \ and newline escaped>
//! # TYPE <name> counter|gauge|histogram
//! <name>{<label>="<value, with \ " and newline escaped>",...} <value>
//! <name>_bucket{...,le="<bound>"} <cumulative count>     (histograms; last le="+Inf")
//! <name>_sum{...} <sum>
//! <name>_count{...} <count>
//! ```
//!
//! Every family gets its HELP and TYPE lines, even with no series yet, so a scrape shows what
//! exists. Values are Go-parsable floats: integers print without a fraction, `+Inf`, `-Inf`, `NaN`.

use super::snapshot::{FamilySnapshot, SampleValue};
use std::fmt::Write as _;

/// The Content-Type of this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escape help text: `\` → `\\`, newline → `\n`.
pub fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Escape a label value: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label_value(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Format a sample value or a bucket bound.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn write_labels(out: &mut String, labels: &[(String, String)], le: Option<f64>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (k, v) in labels {
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
    }
    if let Some(b) = le {
        if !first {
            out.push(',');
        }
        let _ = write!(out, "le=\"{}\"", format_value(b));
    }
    out.push('}');
}

/// Write `families` in the text format.
pub fn encode(families: &[FamilySnapshot]) -> String {
    let mut out = String::with_capacity(families.len() * 128);
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in &f.samples {
            match &s.value {
                SampleValue::Scalar(v) => {
                    out.push_str(&f.name);
                    write_labels(&mut out, &s.labels, None);
                    let _ = writeln!(out, " {}", format_value(*v));
                }
                SampleValue::Histogram { buckets, sum, count } => {
                    for (le, c) in buckets {
                        let _ = write!(out, "{}_bucket", f.name);
                        write_labels(&mut out, &s.labels, Some(*le));
                        let _ = writeln!(out, " {c}");
                    }
                    let _ = write!(out, "{}_sum", f.name);
                    write_labels(&mut out, &s.labels, None);
                    let _ = writeln!(out, " {}", format_value(*sum));
                    let _ = write!(out, "{}_count", f.name);
                    write_labels(&mut out, &s.labels, None);
                    let _ = writeln!(out, " {count}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::registry::Def;
    use super::super::snapshot::Kind;
    use super::*;

    #[test]
    fn encodes_escapes_and_histograms() {
        let mut c = FamilySnapshot::new(&Def {
            name: "x_total",
            help: "a \\ b\nc",
            kind: Kind::Counter,
            labels: &["topic"],
        });
        c.push(&["q\"u\\o\nte"], 3.0);
        let mut h = FamilySnapshot::new(&Def {
            name: "lat",
            help: "l",
            kind: Kind::Histogram,
            labels: &["code"],
        });
        h.push_histogram(&["10"], &[0.5, 1.0], &[1, 2, 3], 4.25);
        let empty =
            FamilySnapshot::new(&Def { name: "e", help: "", kind: Kind::Gauge, labels: &[] });
        let text = encode(&[c, h, empty]);
        let want = "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\n\
                    x_total{topic=\"q\\\"u\\\\o\\nte\"} 3\n\
                    # HELP lat l\n# TYPE lat histogram\n\
                    lat_bucket{code=\"10\",le=\"0.5\"} 1\n\
                    lat_bucket{code=\"10\",le=\"1\"} 3\n\
                    lat_bucket{code=\"10\",le=\"+Inf\"} 6\n\
                    lat_sum{code=\"10\"} 4.25\nlat_count{code=\"10\"} 6\n\
                    # HELP e \n# TYPE e gauge\n";
        assert_eq!(text, want);
    }

    #[test]
    fn values() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(-3.0), "-3");
        assert_eq!(format_value(0.005), "0.005");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(1e20).parse::<f64>().unwrap(), 1e20);
    }
}
