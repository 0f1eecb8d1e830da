//! The metric registry: counters, gauges and histograms with labels, plus collectors that
//! compute families at scrape time.
//!
//! Hot paths touch only atomics: a labelled child is looked up once (read lock on its family,
//! write lock only the first time a label set is seen) and the returned handle is kept by the
//! caller. Counters are `u64` and only go up, so they are monotonic by construction. Registration
//! is rare and takes the registry's write lock; a scrape takes read locks and copies values.

use super::snapshot::{FamilySnapshot, Kind, Sample, SampleValue};
use super::MetricsError;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The fixed description of a metric family: its name, help text, type and label names.
/// The catalogue of everything rmq serves is made of these (see [`super::catalog`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Def {
    /// Metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    pub name: &'static str,
    /// One line of help text.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// Label names, in the order values are given.
    pub labels: &'static [&'static str],
}

/// Is `s` a valid metric name?
pub fn valid_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Is `s` a valid label name (and not one of the reserved `__` names)?
pub fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

/// A monotonic counter. Cheap to clone; clones count into the same series.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Add one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Add `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (an `f64` kept as its bits in an atomic).
#[derive(Clone, Default)]
pub struct Gauge(Arc<AtomicU64>);

impl Gauge {
    /// Set the value.
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Add `d` (negative to subtract).
    pub fn add(&self, d: f64) {
        add_f64(&self.0, d);
    }

    /// Add one.
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtract one.
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

fn add_f64(cell: &AtomicU64, d: f64) {
    let mut cur = cell.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(cur) + d).to_bits();
        match cell.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

/// Latency buckets in seconds, 50 µs to 10 s: request handling, appends and flushes.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

/// Powers of two from 1 to 1024: batch sizes (messages per group commit, per pull).
pub const BATCH_BUCKETS: &[f64] =
    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];

struct HistogramCore {
    /// Upper bounds, strictly increasing, finite; `+Inf` is implied.
    bounds: Arc<[f64]>,
    /// Per-bucket (not cumulative) counts; one more than `bounds` for `+Inf`.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

/// A histogram of observations into fixed buckets. `_count` is derived from the bucket counts
/// at scrape time, so a scrape never shows a `+Inf` bucket that disagrees with `_count`.
#[derive(Clone)]
pub struct Histogram(Arc<HistogramCore>);

impl Histogram {
    fn new(bounds: Arc<[f64]>) -> Histogram {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram(Arc::new(HistogramCore { bounds, counts, sum: AtomicU64::new(0) }))
    }

    /// Record one observation.
    pub fn observe(&self, v: f64) {
        let idx = self.0.bounds.partition_point(|b| *b < v);
        if let Some(c) = self.0.counts.get(idx) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        add_f64(&self.0.sum, v);
    }

    /// Record a duration, in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Number of observations so far.
    pub fn count(&self) -> u64 {
        self.0.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Sum of observations so far.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.0.sum.load(Ordering::Relaxed))
    }

    fn value(&self) -> SampleValue {
        let mut acc = 0u64;
        let mut buckets = Vec::with_capacity(self.0.counts.len());
        for (i, c) in self.0.counts.iter().enumerate() {
            acc += c.load(Ordering::Relaxed);
            buckets.push((self.0.bounds.get(i).copied().unwrap_or(f64::INFINITY), acc));
        }
        SampleValue::Histogram { buckets, sum: self.sum(), count: acc }
    }
}

/// A family of series sharing a name and label names; `with` selects one series.
pub struct Family<T> {
    def: OwnedDef,
    children: RwLock<BTreeMap<Vec<String>, T>>,
    make: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T: Clone> Family<T> {
    /// The series with these label values (created on first use). Values are matched to the
    /// label names in order; missing values are empty and extra ones are ignored.
    pub fn with(&self, values: &[&str]) -> T {
        let n = self.def.labels.len();
        let key: Vec<String> =
            (0..n).map(|i| values.get(i).copied().unwrap_or("").to_string()).collect();
        if let Some(c) = self.children.read().get(&key) {
            return c.clone();
        }
        self.children.write().entry(key).or_insert_with(|| (self.make)()).clone()
    }

    /// Forget the series with these label values (a deleted topic, a gone connection).
    pub fn remove(&self, values: &[&str]) {
        let key: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        self.children.write().remove(&key);
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }
}

/// A labelled family of counters.
pub type CounterVec = Arc<Family<Counter>>;
/// A labelled family of gauges.
pub type GaugeVec = Arc<Family<Gauge>>;
/// A labelled family of histograms.
pub type HistogramVec = Arc<Family<Histogram>>;

/// Families whose values are computed when scraped (from broker tables, the route table, ...).
/// `collect` must be quick and must not block on I/O; it runs on the HTTP responder's thread.
pub trait Collector: Send + Sync {
    /// Append this collector's families to `out`.
    fn collect(&self, out: &mut Vec<FamilySnapshot>);
}

impl<F: Fn(&mut Vec<FamilySnapshot>) + Send + Sync> Collector for F {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        self(out)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct OwnedDef {
    name: String,
    help: String,
    kind: Kind,
    labels: Vec<String>,
    bounds: Vec<f64>,
}

enum Entry {
    Counter(CounterVec),
    Gauge(GaugeVec),
    Histogram(HistogramVec),
    Collector(Arc<dyn Collector>),
}

/// All metrics of one process part (a broker, a name server).
#[derive(Default)]
pub struct Registry {
    entries: RwLock<Vec<Entry>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Registry({} entries)", self.entries.read().len())
    }
}

fn check(def: &Def, bounds: &[f64]) -> Result<OwnedDef, MetricsError> {
    if !valid_metric_name(def.name) {
        return Err(MetricsError::bad_name(def.name));
    }
    for l in def.labels {
        if !valid_label_name(l) || (def.kind == Kind::Histogram && *l == "le") {
            return Err(MetricsError::bad_label(def.name, l));
        }
    }
    for (i, l) in def.labels.iter().enumerate() {
        if def.labels.iter().skip(i + 1).any(|m| m == l) {
            return Err(MetricsError::bad_label(def.name, l));
        }
    }
    if bounds.iter().any(|b| !b.is_finite()) || bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(MetricsError::bad_buckets(def.name));
    }
    Ok(OwnedDef {
        name: def.name.to_string(),
        help: def.help.to_string(),
        kind: def.kind,
        labels: def.labels.iter().map(|s| s.to_string()).collect(),
        bounds: bounds.to_vec(),
    })
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Find the family named like `d` (same definition: reuse; different: clash), or insert the
    /// one `make` builds, all under one write lock.
    fn register<T>(
        &self,
        d: OwnedDef,
        pick: impl Fn(&Entry) -> Option<(&OwnedDef, Option<Arc<Family<T>>>)>,
        wrap: impl Fn(Arc<Family<T>>) -> Entry,
        make: Box<dyn Fn() -> T + Send + Sync>,
    ) -> Result<Arc<Family<T>>, MetricsError> {
        let mut entries = self.entries.write();
        for e in entries.iter() {
            if let Some((other, fam)) = pick(e) {
                if other.name == d.name {
                    return match fam {
                        Some(f) if *other == d => Ok(f),
                        _ => Err(MetricsError::clash(&d.name)),
                    };
                }
            }
        }
        let f = Arc::new(Family { def: d, children: RwLock::new(BTreeMap::new()), make });
        entries.push(wrap(f.clone()));
        Ok(f)
    }

    /// Register (or look up, when the same definition is already there) a counter family.
    pub fn counter_vec(&self, def: &Def) -> Result<CounterVec, MetricsError> {
        let d = check(&Def { kind: Kind::Counter, ..*def }, &[])?;
        self.register(
            d,
            |e| match e {
                Entry::Counter(f) => Some((&f.def, Some(f.clone()))),
                other => def_of(other).map(|d| (d, None)),
            },
            Entry::Counter,
            Box::new(Counter::default),
        )
    }

    /// Register (or look up) a gauge family.
    pub fn gauge_vec(&self, def: &Def) -> Result<GaugeVec, MetricsError> {
        let d = check(&Def { kind: Kind::Gauge, ..*def }, &[])?;
        self.register(
            d,
            |e| match e {
                Entry::Gauge(f) => Some((&f.def, Some(f.clone()))),
                other => def_of(other).map(|d| (d, None)),
            },
            Entry::Gauge,
            Box::new(Gauge::default),
        )
    }

    /// Register (or look up) a histogram family with these bucket upper bounds (finite,
    /// strictly increasing; `+Inf` is added).
    pub fn histogram_vec(&self, def: &Def, buckets: &[f64]) -> Result<HistogramVec, MetricsError> {
        let d = check(&Def { kind: Kind::Histogram, ..*def }, buckets)?;
        let bounds: Arc<[f64]> = buckets.into();
        self.register(
            d,
            |e| match e {
                Entry::Histogram(f) => Some((&f.def, Some(f.clone()))),
                other => def_of(other).map(|d| (d, None)),
            },
            Entry::Histogram,
            Box::new(move || Histogram::new(bounds.clone())),
        )
    }

    /// A counter without labels.
    pub fn counter(&self, def: &Def) -> Result<Counter, MetricsError> {
        Ok(self.counter_vec(def)?.with(&[]))
    }

    /// A gauge without labels.
    pub fn gauge(&self, def: &Def) -> Result<Gauge, MetricsError> {
        Ok(self.gauge_vec(def)?.with(&[]))
    }

    /// A histogram without labels.
    pub fn histogram(&self, def: &Def, buckets: &[f64]) -> Result<Histogram, MetricsError> {
        Ok(self.histogram_vec(def, buckets)?.with(&[]))
    }

    /// Add a collector; its families are merged into every scrape.
    pub fn register_collector(&self, c: Arc<dyn Collector>) {
        self.entries.write().push(Entry::Collector(c));
    }

    /// Copy every family's current values, in registration order. Families a collector emits
    /// under a name seen before are merged into it when the type matches, and dropped (logged)
    /// when it does not.
    pub fn gather(&self) -> Vec<FamilySnapshot> {
        let mut out: Vec<FamilySnapshot> = Vec::new();
        let entries = self.entries.read();
        for e in entries.iter() {
            match e {
                Entry::Counter(f) => {
                    out.push(snapshot(f, |c: &Counter| SampleValue::Scalar(c.get() as f64)))
                }
                Entry::Gauge(f) => out.push(snapshot(f, |g: &Gauge| SampleValue::Scalar(g.get()))),
                Entry::Histogram(f) => out.push(snapshot(f, Histogram::value)),
                Entry::Collector(c) => c.collect(&mut out),
            }
        }
        drop(entries);
        merge(out)
    }
}

fn def_of(e: &Entry) -> Option<&OwnedDef> {
    match e {
        Entry::Counter(f) => Some(&f.def),
        Entry::Gauge(f) => Some(&f.def),
        Entry::Histogram(f) => Some(&f.def),
        Entry::Collector(_) => None,
    }
}

fn snapshot<T>(f: &Family<T>, value: impl Fn(&T) -> SampleValue) -> FamilySnapshot {
    let children = f.children.read();
    let samples = children
        .iter()
        .map(|(vals, child)| Sample {
            labels: f.def.labels.iter().cloned().zip(vals.iter().cloned()).collect(),
            value: value(child),
        })
        .collect();
    FamilySnapshot {
        name: f.def.name.clone(),
        help: f.def.help.clone(),
        kind: f.def.kind,
        label_names: f.def.labels.clone(),
        samples,
    }
}

fn merge(families: Vec<FamilySnapshot>) -> Vec<FamilySnapshot> {
    let mut out: Vec<FamilySnapshot> = Vec::with_capacity(families.len());
    for f in families {
        match out.iter_mut().find(|o| o.name == f.name) {
            Some(o) if o.kind == f.kind => o.samples.extend(f.samples),
            Some(_) => log::warn!("metric family dropped name={} reason=\"type clash\"", f.name),
            None => out.push(f),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQS: Def =
        Def { name: "t_requests_total", help: "h", kind: Kind::Counter, labels: &["code"] };

    #[test]
    fn counters_gauges_histograms_gather() {
        let r = Registry::new();
        let c = r.counter_vec(&REQS).unwrap();
        c.with(&["10"]).inc();
        c.with(&["10"]).add(2);
        c.with(&["11"]).inc();
        let g = r.gauge(&Def { name: "t_g", help: "g", kind: Kind::Gauge, labels: &[] }).unwrap();
        g.set(5.0);
        g.dec();
        let h = r
            .histogram(
                &Def { name: "t_h", help: "h", kind: Kind::Histogram, labels: &[] },
                &[1.0, 2.0],
            )
            .unwrap();
        for v in [0.5, 1.0, 1.5, 3.0] {
            h.observe(v);
        }
        let fams = r.gather();
        assert_eq!(fams.len(), 3);
        assert_eq!(fams[0].samples.len(), 2);
        assert_eq!(fams[0].samples[0].value, SampleValue::Scalar(3.0));
        assert_eq!(fams[1].samples[0].value, SampleValue::Scalar(4.0));
        assert_eq!(
            fams[2].samples[0].value,
            SampleValue::Histogram {
                buckets: vec![(1.0, 2), (2.0, 3), (f64::INFINITY, 4)],
                sum: 6.0,
                count: 4
            }
        );
    }

    #[test]
    fn registration_is_idempotent_and_checked() {
        let r = Registry::new();
        let a = r.counter_vec(&REQS).unwrap();
        let b = r.counter_vec(&REQS).unwrap();
        a.with(&["1"]).inc();
        assert_eq!(b.with(&["1"]).get(), 1, "same family");
        assert!(r.gauge_vec(&Def { kind: Kind::Gauge, ..REQS }).is_err(), "type clash");
        assert!(r.counter(&Def { name: "1bad", ..REQS }).is_err());
        assert!(r.counter_vec(&Def { name: "t_x", labels: &["__r"], ..REQS }).is_err());
        assert!(r.counter_vec(&Def { name: "t_y", labels: &["a", "a"], ..REQS }).is_err());
        let hd = Def { name: "t_z", help: "", kind: Kind::Histogram, labels: &["le"] };
        assert!(r.histogram_vec(&hd, &[1.0]).is_err());
        assert!(r.histogram_vec(&Def { labels: &[], ..hd }, &[2.0, 1.0]).is_err());
        assert!(r.histogram_vec(&Def { labels: &[], ..hd }, &[f64::NAN]).is_err());
        assert_eq!(r.gather().len(), 1);
    }

    #[test]
    fn collectors_merge_by_name() {
        let r = Registry::new();
        r.counter_vec(&REQS).unwrap().with(&["1"]).inc();
        r.register_collector(Arc::new(|out: &mut Vec<FamilySnapshot>| {
            let mut f = FamilySnapshot::new(&REQS);
            f.push(&["2"], 7.0);
            out.push(f);
            let mut g = FamilySnapshot::new(&Def { kind: Kind::Gauge, ..REQS });
            g.push(&["3"], 1.0);
            out.push(g);
        }));
        let fams = r.gather();
        assert_eq!(fams.len(), 1);
        assert_eq!(fams[0].samples.len(), 2, "the gauge of the same name is dropped");
    }

    #[test]
    fn names() {
        assert!(valid_metric_name("rocketmq_broker_tps"));
        assert!(valid_metric_name("a:b_c"));
        assert!(!valid_metric_name(""));
        assert!(!valid_metric_name("a-b"));
        assert!(valid_label_name("brokerIP"));
        assert!(!valid_label_name("__name__"));
        assert!(!valid_label_name("a:b"));
    }
}
