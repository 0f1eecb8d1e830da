//! Per-request-code counts, errors and latency: what a server's `after` request hook feeds
//! (issue 12's hooks; issue 14 "request counts, errors and latency histograms per request code").
//!
//! The series of a code are created on its first request and then found by an integer lookup
//! under a read lock, without allocating; everything else is atomics.

use super::catalog::{REQUESTS, REQUEST_DURATION, REQUEST_ERRORS};
use super::registry::{Counter, CounterVec, Histogram, HistogramVec, Registry, LATENCY_BUCKETS};
use super::MetricsError;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone)]
struct CodeSeries {
    count: Counter,
    latency: Histogram,
}

/// Request metrics of one server (label `server`, e.g. `broker` or `namesrv`).
pub struct RequestMetrics {
    server: String,
    requests: CounterVec,
    errors: CounterVec,
    latency: HistogramVec,
    by_code: RwLock<HashMap<i32, CodeSeries>>,
    by_error: RwLock<HashMap<(i32, i32), Counter>>,
}

impl RequestMetrics {
    /// Register the request families in `registry` for `server`.
    pub fn register(registry: &Registry, server: &str) -> Result<RequestMetrics, MetricsError> {
        Ok(RequestMetrics {
            server: server.to_string(),
            requests: registry.counter_vec(&REQUESTS)?,
            errors: registry.counter_vec(&REQUEST_ERRORS)?,
            latency: registry.histogram_vec(&REQUEST_DURATION, LATENCY_BUCKETS)?,
            by_code: RwLock::new(HashMap::new()),
            by_error: RwLock::new(HashMap::new()),
        })
    }

    /// The `code` label of a request answered `answer`: a code the server does not serve
    /// (REQUEST_CODE_NOT_SUPPORTED, 3) is counted as -1, so a peer sending made-up codes cannot
    /// grow the series without bound.
    pub fn label_code(code: i32, answer: i32) -> i32 {
        if answer == 3 {
            -1
        } else {
            code
        }
    }

    /// Count one request with `code`, answered with `response_code` after `elapsed` (a oneway
    /// request that gets no answer passes 0).
    pub fn observe(&self, code: i32, response_code: i32, elapsed: Duration) {
        let series = self.by_code.read().get(&code).cloned();
        let series = match series {
            Some(s) => s,
            None => {
                let c = code.to_string();
                let labels = [self.server.as_str(), c.as_str()];
                let s = CodeSeries {
                    count: self.requests.with(&labels),
                    latency: self.latency.with(&labels),
                };
                self.by_code.write().entry(code).or_insert(s).clone()
            }
        };
        series.count.inc();
        series.latency.observe_duration(elapsed);
        if response_code != 0 {
            let err = self.by_error.read().get(&(code, response_code)).cloned();
            let err = match err {
                Some(e) => e,
                None => {
                    let (c, r) = (code.to_string(), response_code.to_string());
                    let e = self.errors.with(&[self.server.as_str(), &c, &r]);
                    self.by_error.write().entry((code, response_code)).or_insert(e).clone()
                }
            };
            err.inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::SampleValue;
    use super::*;

    #[test]
    fn counts_by_code_and_error() {
        let r = Registry::new();
        let m = RequestMetrics::register(&r, "broker").unwrap();
        m.observe(10, 0, Duration::from_micros(80));
        m.observe(10, 0, Duration::from_millis(3));
        m.observe(11, 19, Duration::from_millis(1));
        let fams = r.gather();
        let reqs = fams.iter().find(|f| f.name == "rmq_requests_total").unwrap();
        let v: Vec<_> = reqs.samples.iter().map(|s| (s.labels[1].1.clone(), &s.value)).collect();
        assert_eq!(
            v,
            vec![
                ("10".into(), &SampleValue::Scalar(2.0)),
                ("11".into(), &SampleValue::Scalar(1.0))
            ]
        );
        let errs = fams.iter().find(|f| f.name == "rmq_request_errors_total").unwrap();
        assert_eq!(errs.samples.len(), 1);
        assert_eq!(errs.samples[0].labels[2], ("response_code".into(), "19".into()));
        let lat = fams.iter().find(|f| f.name == "rmq_request_duration_seconds").unwrap();
        match &lat.samples[0].value {
            SampleValue::Histogram { count, sum, .. } => {
                assert_eq!(*count, 2);
                assert!((sum - 0.00308).abs() < 1e-9);
            }
            v => panic!("{v:?}"),
        }
    }
}
