//! A strict reader of the text exposition format 0.0.4, for tests and tools that check what a
//! `/metrics` endpoint serves (ours or anyone's). It accepts what Prometheus' own parser
//! accepts (a trailing comma in a label set, as Java's simpleclient writes; optional
//! timestamps) and rejects what a scrape would fail or silently mangle on:
//!
//! - bad metric or label names, duplicate label names, bad escapes, unquoted values;
//! - values that are not floats;
//! - `# TYPE` after a family's samples, or twice; a family's samples split by another family;
//! - the same series (name and label set) twice;
//! - histograms without `le` on a bucket, with buckets that decrease as `le` grows, without a
//!   `+Inf` bucket, or whose `+Inf` bucket differs from `_count`, or missing `_sum`/`_count`;
//! - negative counters.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::registry::{valid_label_name, valid_metric_name};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A parsed sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    /// The full sample name (with `_bucket`, `_sum`, `_count` for histograms).
    pub name: String,
    /// Labels, sorted by name.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

/// A parsed family.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFamily {
    /// `# HELP` text, unescaped.
    pub help: Option<String>,
    /// `# TYPE` word (`untyped` when absent).
    pub kind: String,
    /// Its samples, in order.
    pub samples: Vec<ParsedSample>,
}

/// A whole scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// Families by name.
    pub families: BTreeMap<String, ParsedFamily>,
}

/// Why a body does not parse, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line number (0 for whole-body checks).
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(line: usize, what: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { line, what: what.into() })
}

impl Exposition {
    /// The value of the series `name` whose labels include every pair of `labels`; `None` when
    /// there is none. With several matches, the first.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples(name).into_iter().find(|s| matches(s, labels)).map(|s| s.value)
    }

    /// Every sample named `name` (families and histogram parts alike).
    pub fn samples(&self, name: &str) -> Vec<&ParsedSample> {
        self.families.values().flat_map(|f| f.samples.iter()).filter(|s| s.name == name).collect()
    }

    /// Sum of the values of every series `name` matching `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples(name).into_iter().filter(|s| matches(s, labels)).map(|s| s.value).sum()
    }
}

fn matches(s: &ParsedSample, labels: &[(&str, &str)]) -> bool {
    labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
}

/// The family a sample line belongs to: histogram parts belong to the histogram named without
/// the suffix, when one was declared.
fn family_of(name: &str, types: &BTreeMap<String, String>) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.get(base).is_some_and(|k| k == "histogram" || k == "summary") {
                return base.to_string();
            }
        }
    }
    name.to_string()
}

fn parse_value(s: &str, line: usize) -> Result<f64, ParseError> {
    match s {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().or_else(|_| err(line, format!("value '{s}' is not a float"))),
    }
}

/// Parse `{a="x",b="y"}` starting at `s` (just after the name); returns the labels and the rest.
fn parse_labels(s: &str, line: usize) -> Result<(BTreeMap<String, String>, &str), ParseError> {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = s.strip_prefix('{') else { return Ok((labels, s)) };
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(0);
        let (name, r) = rest.split_at(name_len);
        if !valid_label_name(name) {
            return err(line, format!("bad label name '{name}'"));
        }
        let Some(r) = r.trim_start().strip_prefix('=') else {
            return err(line, format!("label {name} has no '='"));
        };
        let Some(r) = r.trim_start().strip_prefix('"') else {
            return err(line, format!("label {name}'s value is not quoted"));
        };
        let mut value = String::new();
        let mut chars = r.char_indices();
        let end = loop {
            match chars.next() {
                None => return err(line, format!("label {name}'s value is not closed")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return err(line, format!("bad escape in label {name}")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return err(line, format!("label {name} given twice"));
        }
        rest = r.get(end + 1..).unwrap_or("").trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return err(line, "expected ',' or '}' in the label set");
        }
    }
}

/// Parse and validate a whole body.
pub fn parse(text: &str) -> Result<Exposition, ParseError> {
    let mut exp = Exposition::default();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(c) = l.strip_prefix('#') {
            let c = c.trim_start();
            let mut parts = c.splitn(3, ' ');
            let word = parts.next().unwrap_or("");
            if word != "HELP" && word != "TYPE" {
                continue; // an ordinary comment
            }
            let name = parts.next().unwrap_or("");
            if !valid_metric_name(name) {
                return err(line, format!("bad metric name '{name}' in # {word}"));
            }
            let arg = parts.next().unwrap_or("");
            let fam = exp.families.entry(name.to_string()).or_default();
            if word == "HELP" {
                if !helps.insert(name.to_string()) {
                    return err(line, format!("second # HELP for {name}"));
                }
                let mut help = String::new();
                let mut chars = arg.chars();
                while let Some(ch) = chars.next() {
                    match ch {
                        '\\' => match chars.next() {
                            Some('\\') => help.push('\\'),
                            Some('n') => help.push('\n'),
                            _ => return err(line, format!("bad escape in the help of {name}")),
                        },
                        c => help.push(c),
                    }
                }
                fam.help = Some(help);
            } else {
                let kind = arg.trim();
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return err(line, format!("unknown type '{kind}' for {name}"));
                }
                if types.contains_key(name) {
                    return err(line, format!("second # TYPE for {name}"));
                }
                if !fam.samples.is_empty() {
                    return err(line, format!("# TYPE for {name} after its samples"));
                }
                types.insert(name.to_string(), kind.to_string());
                fam.kind = kind.to_string();
            }
            if current.as_deref() != Some(name) {
                if let Some(prev) = current.replace(name.to_string()) {
                    finished.insert(prev);
                }
                if finished.contains(name) {
                    return err(line, format!("{name} is split by other families"));
                }
            }
            continue;
        }
        let name_len = l.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
        let (name, rest) = l.split_at(name_len.unwrap_or(l.len()));
        if !valid_metric_name(name) {
            return err(line, format!("bad metric name '{name}'"));
        }
        let (labels, rest) = parse_labels(rest.trim_start(), line)?;
        let mut fields = rest.split_whitespace();
        let Some(v) = fields.next() else { return err(line, format!("{name} has no value")) };
        let value = parse_value(v, line)?;
        if let Some(ts) = fields.next() {
            if ts.parse::<i64>().is_err() {
                return err(line, format!("timestamp '{ts}' is not an integer"));
            }
        }
        if fields.next().is_some() {
            return err(line, "trailing text after the timestamp");
        }
        let fam_name = family_of(name, &types);
        if current.as_deref() != Some(fam_name.as_str()) {
            if let Some(prev) = current.replace(fam_name.clone()) {
                finished.insert(prev);
            }
            if finished.contains(&fam_name) {
                return err(line, format!("{fam_name} is split by other families"));
            }
        }
        let key = (name.to_string(), labels.clone().into_iter().collect::<Vec<_>>());
        if !series.insert(key) {
            return err(line, format!("series {name}{labels:?} appears twice"));
        }
        let fam = exp.families.entry(fam_name.clone()).or_default();
        if fam.kind.is_empty() {
            fam.kind = "untyped".into();
        }
        if fam.kind == "counter" && value < 0.0 {
            return err(line, format!("counter {name} is negative"));
        }
        if fam.kind == "histogram" && name.ends_with("_bucket") && !labels.contains_key("le") {
            return err(line, format!("{name} has no le label"));
        }
        fam.samples.push(ParsedSample { name: name.to_string(), labels, value });
    }
    for (name, fam) in &mut exp.families {
        if fam.kind.is_empty() {
            fam.kind = "untyped".into();
        }
        if fam.kind == "histogram" {
            check_histogram(name, fam)?;
        }
    }
    Ok(exp)
}

/// One histogram series while checking: `(le, cumulative count)` buckets, `_count`, has `_sum`.
type HistogramParts = (Vec<(f64, f64)>, Option<f64>, bool);

fn check_histogram(name: &str, fam: &ParsedFamily) -> Result<(), ParseError> {
    // Group by the label set without `le`.
    let mut groups: BTreeMap<Vec<(String, String)>, HistogramParts> = BTreeMap::new();
    for s in &fam.samples {
        let mut base = s.labels.clone();
        let le = base.remove("le");
        let key: Vec<(String, String)> = base.into_iter().collect();
        let g = groups.entry(key).or_default();
        if s.name.ends_with("_bucket") {
            let Some(le) = le else { return err(0, format!("{} has no le label", s.name)) };
            g.0.push((parse_value(&le, 0)?, s.value));
        } else if s.name.ends_with("_count") {
            g.1 = Some(s.value);
        } else if s.name.ends_with("_sum") {
            g.2 = true;
        }
    }
    for (labels, (mut buckets, count, has_sum)) in groups {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if buckets.windows(2).any(|w| matches!(w, [a, b] if b.1 < a.1)) {
            return err(0, format!("histogram {name}{labels:?}: buckets decrease"));
        }
        let Some(&(top, top_count)) = buckets.last() else {
            return err(0, format!("histogram {name}{labels:?} has no buckets"));
        };
        if top != f64::INFINITY {
            return err(0, format!("histogram {name}{labels:?} has no +Inf bucket"));
        }
        match count {
            Some(c) if c == top_count => {}
            Some(c) => {
                return err(0, format!("histogram {name}{labels:?}: +Inf {top_count} != count {c}"))
            }
            None => return err(0, format!("histogram {name}{labels:?} has no _count")),
        }
        if !has_sum {
            return err(0, format!("histogram {name}{labels:?} has no _sum"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_java_and_we_write() {
        let body = "# HELP rocketmq_broker_tps BrokerPutNums\n# TYPE rocketmq_broker_tps gauge\n\
                    rocketmq_broker_tps{cluster=\"MQCluster\",broker=\"broker-a\",} 7.0\n\
                    # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n\
                    h_sum 3.5\nh_count 2\nplain 1 1700000000000\n";
        let e = parse(body).unwrap();
        assert_eq!(e.value("rocketmq_broker_tps", &[("broker", "broker-a")]), Some(7.0));
        assert_eq!(e.families["rocketmq_broker_tps"].help.as_deref(), Some("BrokerPutNums"));
        assert_eq!(e.families["h"].samples.len(), 4);
        assert_eq!(e.families["plain"].kind, "untyped");
    }

    #[test]
    fn rejects_what_a_scrape_would_not_take() {
        let bad = [
            "1x 1\n",
            "a{b=\"c\" 1\n",
            "a{b=c} 1\n",
            "a{b=\"c\",b=\"d\"} 1\n",
            "a{__x=\"c\"} 1\n",
            "a{b=\"\\q\"} 1\n",
            "a one\n",
            "a\n",
            "a 1 2 3\n",
            "a 1\na 1\n",
            "a 1\n# TYPE a gauge\n",
            "# TYPE a gauge\n# TYPE a gauge\n",
            "# TYPE a foo\n",
            "a 1\nb 1\na{x=\"y\"} 1\n",
            "# TYPE c counter\nc -1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket 1\n",
        ];
        for b in bad {
            assert!(parse(b).is_err(), "accepted {b:?}");
        }
    }
}
