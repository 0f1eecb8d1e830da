//! Metrics (issue 14): a small registry of counters, gauges and histograms with labels, the
//! Prometheus text format 0.0.4, a `/metrics` HTTP responder, and the catalogue of every family
//! rmq serves (docs/METRICS.md is its table).
//!
//! ```
//! use rmq::metrics::{catalog, Registry, RequestMetrics};
//! use std::time::Duration;
//!
//! let registry = Registry::new();
//! let reqs = RequestMetrics::register(&registry, "broker").unwrap();
//! reqs.observe(10, 0, Duration::from_micros(120)); // a SEND_MESSAGE answered SUCCESS
//! let topics = registry.gauge(&catalog::NAMESRV_TOPICS).unwrap();
//! topics.set(3.0);
//! let text = rmq::metrics::text::encode(&registry.gather());
//! assert!(text.contains("rmq_requests_total{server=\"broker\",code=\"10\"} 1"));
//! rmq::metrics::parse::parse(&text).unwrap();
//! ```
//!
//! Layering: this module uses only `common`; the broker, the store and the name server feed it.

pub mod catalog;
pub mod http;
pub mod latency;
pub mod parse;
pub mod process;
mod registry;
mod request;
mod snapshot;
pub mod text;

pub use http::{MetricsPort, MetricsServer};
pub use latency::LatencyRecorder;
pub use registry::{
    valid_label_name, valid_metric_name, Collector, Counter, CounterVec, Def, Family, Gauge,
    GaugeVec, Histogram, HistogramVec, Registry, BATCH_BUCKETS, LATENCY_BUCKETS,
};
pub use request::RequestMetrics;
pub use snapshot::{FamilySnapshot, Kind, Sample, SampleValue};

use std::fmt;

/// Why a family could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsError {
    kind: ErrorKind,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ErrorKind {
    BadName,
    BadLabel(String),
    BadBuckets,
    Clash,
}

impl MetricsError {
    fn bad_name(name: &str) -> Self {
        MetricsError { kind: ErrorKind::BadName, name: name.into() }
    }
    fn bad_label(name: &str, label: &str) -> Self {
        MetricsError { kind: ErrorKind::BadLabel(label.into()), name: name.into() }
    }
    fn bad_buckets(name: &str) -> Self {
        MetricsError { kind: ErrorKind::BadBuckets, name: name.into() }
    }
    fn clash(name: &str) -> Self {
        MetricsError { kind: ErrorKind::Clash, name: name.into() }
    }
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.name;
        match &self.kind {
            ErrorKind::BadName => write!(f, "'{n}' is not a valid metric name"),
            ErrorKind::BadLabel(l) => {
                write!(f, "metric {n}: label '{l}' is invalid, reserved or repeated")
            }
            ErrorKind::BadBuckets => {
                write!(f, "metric {n}: bucket bounds must be finite and increasing")
            }
            ErrorKind::Clash => {
                write!(f, "metric {n} is already registered with another type or labels")
            }
        }
    }
}

impl std::error::Error for MetricsError {}
