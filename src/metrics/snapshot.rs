//! Values copied out of the registry for one scrape: what the text encoder writes and what
//! collectors produce.

use super::registry::Def;

/// The metric type, as the `# TYPE` line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Only goes up (reset only by a restart).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative buckets with `_bucket{le=...}`, `_sum` and `_count`.
    Histogram,
}

impl Kind {
    /// The word on the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One series' value.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    /// A counter or gauge value.
    Scalar(f64),
    /// Cumulative `(upper bound, count)` pairs ending with `+Inf`, the sum and the count.
    Histogram {
        /// `(le, cumulative count)`, the last one `(+Inf, count)`.
        buckets: Vec<(f64, u64)>,
        /// Sum of observations.
        sum: f64,
        /// Number of observations.
        count: u64,
    },
}

/// One series: label pairs and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `(name, value)` pairs in the family's label order.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: SampleValue,
}

/// One family at scrape time.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySnapshot {
    /// Metric name.
    pub name: String,
    /// Help text.
    pub help: String,
    /// Type.
    pub kind: Kind,
    /// Label names of every series, in order.
    pub label_names: Vec<String>,
    /// Series.
    pub samples: Vec<Sample>,
}

impl FamilySnapshot {
    /// An empty family described by `def`; collectors fill it with [`FamilySnapshot::push`].
    pub fn new(def: &Def) -> FamilySnapshot {
        FamilySnapshot {
            name: def.name.to_string(),
            help: def.help.to_string(),
            kind: def.kind,
            label_names: def.labels.iter().map(|s| s.to_string()).collect(),
            samples: Vec::new(),
        }
    }

    fn labels(&self, values: &[&str]) -> Vec<(String, String)> {
        self.label_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), values.get(i).copied().unwrap_or("").to_string()))
            .collect()
    }

    /// Add a counter or gauge series; `values` are matched in order to the label names (missing
    /// ones are empty, extra ones ignored).
    pub fn push(&mut self, values: &[&str], v: f64) {
        let labels = self.labels(values);
        self.samples.push(Sample { labels, value: SampleValue::Scalar(v) });
    }

    /// Add a histogram series from per-bucket (not cumulative) counts: `counts[i]` observations
    /// fell at or below `bounds[i]` and above the bound before; `counts[bounds.len()]`, if
    /// present, above the last bound.
    pub fn push_histogram(&mut self, values: &[&str], bounds: &[f64], counts: &[u64], sum: f64) {
        let mut acc = 0u64;
        let mut buckets = Vec::with_capacity(bounds.len() + 1);
        for (i, b) in bounds.iter().enumerate() {
            acc += counts.get(i).copied().unwrap_or(0);
            buckets.push((*b, acc));
        }
        acc += counts.get(bounds.len()).copied().unwrap_or(0);
        buckets.push((f64::INFINITY, acc));
        let labels = self.labels(values);
        self.samples
            .push(Sample { labels, value: SampleValue::Histogram { buckets, sum, count: acc } });
    }
}
