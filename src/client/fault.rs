//! Latency fault tolerance (MQFaultStrategy.java, LatencyFaultToleranceImpl.java): a broker whose
//! last send was slow or failed is avoided for a while, longer the slower it was.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Send latencies (ms) at or above which a broker is held back for the matching duration.
const LATENCY_MAX: [u64; 7] = [50, 100, 550, 1000, 2000, 3000, 15000];
/// How long (ms) a broker is avoided after a send with the matching latency.
const NOT_AVAILABLE: [u64; 7] = [0, 0, 30_000, 60_000, 120_000, 180_000, 600_000];
/// A failed send counts as this latency (ms), as in Apache.
const ISOLATION_LATENCY: u64 = 30_000;

/// Which brokers are currently avoided.
#[derive(Default)]
pub(crate) struct FaultTable {
    items: Mutex<HashMap<String, Instant>>,
}

impl FaultTable {
    /// Record a send to `broker` that took `latency`, or failed when `failed`.
    pub fn update(&self, broker: &str, latency: Duration, failed: bool) {
        let ms = if failed { ISOLATION_LATENCY } else { latency.as_millis() as u64 };
        let hold = not_available_for(ms);
        let mut items = self.items.lock();
        if hold == 0 {
            items.remove(broker);
        } else {
            items.insert(broker.to_string(), Instant::now() + Duration::from_millis(hold));
        }
    }

    /// True when `broker` is not being avoided.
    pub fn is_available(&self, broker: &str) -> bool {
        self.items.lock().get(broker).is_none_or(|until| Instant::now() >= *until)
    }

    /// Of the avoided brokers, the one that becomes available first.
    pub fn pick_one_at_least(&self) -> Option<String> {
        self.items.lock().iter().min_by_key(|(_, until)| **until).map(|(b, _)| b.clone())
    }
}

fn not_available_for(latency_ms: u64) -> u64 {
    LATENCY_MAX
        .iter()
        .zip(NOT_AVAILABLE.iter())
        .rev()
        .find(|(max, _)| latency_ms >= **max)
        .map(|(_, d)| *d)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_apache_table() {
        assert_eq!(not_available_for(10), 0);
        assert_eq!(not_available_for(120), 0);
        assert_eq!(not_available_for(600), 30_000);
        assert_eq!(not_available_for(30_000), 600_000);
        let t = FaultTable::default();
        t.update("a", Duration::from_millis(5), false);
        assert!(t.is_available("a"));
        t.update("a", Duration::ZERO, true);
        assert!(!t.is_available("a"));
        assert_eq!(t.pick_one_at_least().as_deref(), Some("a"));
        t.update("a", Duration::from_millis(1), false);
        assert!(t.is_available("a"));
    }
}
