//! A latency recorder with percentiles, in the manner of HdrHistogram: log-linear buckets (64
//! linear steps per power of two above 128), so any recorded value is known within 1/64 (1.6%)
//! of itself while the memory stays fixed (30 KB). Recording is one atomic add, so many threads
//! share one recorder. rmq-bench reports its p50/p90/p99/p99.9 from it.
#![deny(clippy::indexing_slicing)]

use std::sync::atomic::{AtomicU64, Ordering};

/// Values below this are exact.
const LINEAR: u64 = 128;
/// Linear steps per power of two above LINEAR.
const HALF: u64 = 64;
/// Buckets for every u64.
const BUCKETS: usize = (57 * HALF + 2 * HALF) as usize;

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros() as u64; // >= 7
    let shift = msb - 6;
    (shift * HALF + (v >> shift)) as usize
}

/// The smallest and largest value of bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < LINEAR {
        return (i, i);
    }
    let shift = (i - HALF) / HALF;
    let m = i - shift * HALF;
    let low = m << shift;
    (low, low.saturating_add((1u64 << shift) - 1))
}

/// Recorded values (any unit; rmq-bench uses microseconds).
pub struct LatencyRecorder {
    counts: Box<[AtomicU64]>,
    total: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
    min: AtomicU64,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        LatencyRecorder {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            total: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
        }
    }
}

/// One non-empty bucket of a recorder: values in `low..=high` were seen `count` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Smallest value of the bucket.
    pub low: u64,
    /// Largest value of the bucket.
    pub high: u64,
    /// Observations in it.
    pub count: u64,
}

impl LatencyRecorder {
    /// An empty recorder.
    pub fn new() -> LatencyRecorder {
        LatencyRecorder::default()
    }

    /// Record `v`.
    pub fn record(&self, v: u64) {
        if let Some(c) = self.counts.get(index(v)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
        self.max.fetch_max(v, Ordering::Relaxed);
        self.min.fetch_min(v, Ordering::Relaxed);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Largest value (0 when empty).
    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// Smallest value (0 when empty).
    pub fn min(&self) -> u64 {
        match self.min.load(Ordering::Relaxed) {
            u64::MAX => 0,
            m => m,
        }
    }

    /// Mean (0 when empty).
    pub fn mean(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum.load(Ordering::Relaxed) as f64 / n as f64,
        }
    }

    /// The value at quantile `q` (0.5 = median): the largest value of the bucket holding the
    /// ceil(q·n)-th smallest value, capped by the largest value seen. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let n = self.count();
        if n == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).clamp(1, n);
        let mut acc = 0;
        for (i, c) in self.counts.iter().enumerate() {
            acc += c.load(Ordering::Relaxed);
            if acc >= rank {
                return bounds(i).1.min(self.max()).max(self.min());
            }
        }
        self.max()
    }

    /// Every non-empty bucket, smallest first.
    pub fn buckets(&self) -> Vec<Bucket> {
        self.counts
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let count = c.load(Ordering::Relaxed);
                (count > 0).then(|| {
                    let (low, high) = bounds(i);
                    Bucket { low, high, count }
                })
            })
            .collect()
    }

    /// Add every value of `other`.
    pub fn merge(&self, other: &LatencyRecorder) {
        for (a, b) in self.counts.iter().zip(other.counts.iter()) {
            a.fetch_add(b.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.total.fetch_add(other.count(), Ordering::Relaxed);
        self.sum.fetch_add(other.sum.load(Ordering::Relaxed), Ordering::Relaxed);
        self.max.fetch_max(other.max(), Ordering::Relaxed);
        if other.count() > 0 {
            self.min.fetch_min(other.min(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_every_value() {
        let mut prev_high = None;
        for i in 0..BUCKETS {
            let (lo, hi) = bounds(i);
            assert!(lo <= hi);
            if let Some(p) = prev_high {
                assert_eq!(lo, p + 1, "bucket {i} starts after the last one ends");
            }
            assert_eq!(index(lo), i);
            assert_eq!(index(hi), i);
            prev_high = Some(hi);
            if hi == u64::MAX {
                break;
            }
        }
        assert_eq!(prev_high, Some(u64::MAX));
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles_within_precision() {
        let r = LatencyRecorder::new();
        for v in 1..=100_000u64 {
            r.record(v);
        }
        assert_eq!(r.count(), 100_000);
        assert_eq!((r.min(), r.max()), (1, 100_000));
        assert!((r.mean() - 50_000.5).abs() < 1e-6);
        for (q, want) in [(0.5, 50_000.0), (0.9, 90_000.0), (0.99, 99_000.0), (0.999, 99_900.0)] {
            let got = r.quantile(q) as f64;
            assert!(got >= want && got <= want * (1.0 + 1.0 / 64.0), "q{q}: {got} vs {want}");
        }
        assert_eq!(r.quantile(1.0), 100_000);
        assert_eq!(r.buckets().iter().map(|b| b.count).sum::<u64>(), 100_000);
        let small = LatencyRecorder::new();
        small.record(7);
        assert_eq!((small.quantile(0.5), small.quantile(0.999)), (7, 7));
        assert_eq!(LatencyRecorder::new().quantile(0.5), 0);
        let m = LatencyRecorder::new();
        m.merge(&r);
        m.merge(&small);
        assert_eq!((m.count(), m.min(), m.max()), (100_001, 1, 100_000));
    }
}
