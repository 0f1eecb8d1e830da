//! What one side of a run (producer or consumer) counts: a latency recorder for the whole run,
//! per-second figures for the progress line, and errors by kind.

use parking_lot::Mutex;
use rmq::metrics::LatencyRecorder;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one side. Latencies are in microseconds.
#[derive(Default)]
pub struct Side {
    /// Whole-run latencies (after the warm-up).
    pub latency: LatencyRecorder,
    /// Messages done (sent OK, or received), warm-up included.
    pub total: AtomicU64,
    /// Messages done after the warm-up.
    pub ok: AtomicU64,
    /// Body bytes of those.
    pub bytes: AtomicU64,
    /// Calls that failed (a failed batch counts once).
    pub failed: AtomicU64,
    /// Async callbacks that reported a failure (Apache's "Response Failed").
    pub response_failed: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    tick_count: AtomicU64,
    tick_sum: AtomicU64,
    tick_max: AtomicU64,
    tick_bytes: AtomicU64,
}

/// One second of one side, for the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tick {
    pub count: u64,
    pub bytes: u64,
    pub avg_us: f64,
    pub max_us: u64,
}

impl Side {
    /// `n` messages of `bytes` done in one call that took `us` (recorded after the warm-up).
    pub fn done(&self, n: u64, bytes: u64, us: u64, measured: bool) {
        self.tick_count.fetch_add(n, Ordering::Relaxed);
        self.tick_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.tick_sum.fetch_add(us * n, Ordering::Relaxed);
        self.tick_max.fetch_max(us, Ordering::Relaxed);
        self.total.fetch_add(n, Ordering::Relaxed);
        if measured {
            self.ok.fetch_add(n, Ordering::Relaxed);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
            for _ in 0..n {
                self.latency.record(us);
            }
        }
    }

    /// A failure of `kind` (counted after the warm-up too, so none is hidden).
    pub fn error(&self, kind: &str, response: bool) {
        if response {
            self.response_failed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        *self.errors.lock().entry(kind.to_string()).or_default() += 1;
    }

    /// Errors by kind.
    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().clone()
    }

    /// The figures since the last tick (and reset them).
    pub fn tick(&self) -> Tick {
        let count = self.tick_count.swap(0, Ordering::Relaxed);
        let sum = self.tick_sum.swap(0, Ordering::Relaxed);
        Tick {
            count,
            bytes: self.tick_bytes.swap(0, Ordering::Relaxed),
            avg_us: if count > 0 { sum as f64 / count as f64 } else { 0.0 },
            max_us: self.tick_max.swap(0, Ordering::Relaxed),
        }
    }
}
