//! Throughput figures of GET_BROKER_RUNTIME_INFO as Apache's StoreStatsService gives them:
//! `putTps`, `getFoundTps`, `getMissTps`, `getTotalTps` and `getTransferedTps`, each the text
//! "<last 10 s> <last 60 s> <last 600 s>" computed from one sample a second (601 kept); a window
//! not yet covered by samples is an empty field, as in Apache.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples kept: ten minutes of one a second, plus the window's start.
const MAX_SAMPLES: usize = 601;
/// The windows of every figure, in seconds.
const WINDOWS: [usize; 3] = [10, 60, 600];

#[derive(Clone, Copy, Default)]
struct Sample {
    at_ms: i64,
    put: u64,
    found: u64,
    miss: u64,
    transferred: u64,
}

/// Counters of message reads and the per-second samples of them and of puts.
#[derive(Default)]
pub struct StoreStats {
    found: AtomicU64,
    miss: AtomicU64,
    transferred: AtomicU64,
    samples: Mutex<VecDeque<Sample>>,
}

impl StoreStats {
    /// Count one read of a queue: whether it found messages, and how many it returned.
    pub fn record_get(&self, found: bool, messages: usize) {
        if found {
            self.found.fetch_add(1, Ordering::Relaxed);
            self.transferred.fetch_add(messages as u64, Ordering::Relaxed);
        } else {
            self.miss.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Take a sample (once a second): `put_total` is the count of messages put so far.
    pub fn sample(&self, at_ms: i64, put_total: u64) {
        let s = Sample {
            at_ms,
            put: put_total,
            found: self.found.load(Ordering::Relaxed),
            miss: self.miss.load(Ordering::Relaxed),
            transferred: self.transferred.load(Ordering::Relaxed),
        };
        let mut q = self.samples.lock();
        q.push_back(s);
        while q.len() > MAX_SAMPLES {
            q.pop_front();
        }
    }

    /// Rate of `f` over the last `secs` samples, if that many intervals are sampled.
    fn rate(q: &VecDeque<Sample>, secs: usize, f: impl Fn(&Sample) -> u64) -> Option<f64> {
        if q.len() <= secs {
            return None;
        }
        let (last, before) = (q[q.len() - 1], q[q.len() - 1 - secs]);
        let ms = (last.at_ms - before.at_ms).max(1) as f64;
        Some(f(&last).saturating_sub(f(&before)) as f64 * 1000.0 / ms)
    }

    /// The runtime-info entries (name, "x y z").
    pub fn runtime_entries(&self) -> Vec<(&'static str, String)> {
        let q = self.samples.lock();
        let figure = |f: &dyn Fn(&Sample) -> u64| {
            WINDOWS
                .iter()
                .map(|w| Self::rate(&q, *w, f).map(java_double).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" ")
        };
        vec![
            ("putTps", figure(&|s| s.put)),
            ("getFoundTps", figure(&|s| s.found)),
            ("getMissTps", figure(&|s| s.miss)),
            ("getTotalTps", figure(&|s| s.found + s.miss)),
            ("getTransferedTps", figure(&|s| s.transferred)),
        ]
    }
}

/// Samples kept per group and topic: one minute of one a second, plus the window's start.
const GROUP_SAMPLES: usize = 61;

/// Messages each consumer group pulled per topic (Apache's GROUP_GET_NUMS statistic), sampled
/// once a second, for the `consumeTps` of GET_CONSUME_STATS: the rate over the last minute.
#[derive(Default)]
pub struct GroupGets {
    /// Keyed `topic@group`, as Apache's stats keys.
    table: Mutex<HashMap<String, GroupEntry>>,
}

struct GroupEntry {
    total: u64,
    samples: VecDeque<(i64, u64)>,
}

impl GroupGets {
    /// Count `messages` pulled by `group` from `topic`.
    pub fn record(&self, topic: &str, group: &str, messages: usize) {
        if messages == 0 {
            return;
        }
        let key = format!("{topic}@{group}");
        let mut t = self.table.lock();
        // A new pair starts from zero now, so its first pulls count towards the rate.
        let e = t.entry(key).or_insert_with(|| GroupEntry {
            total: 0,
            samples: VecDeque::from([(crate::common::time::now_millis(), 0)]),
        });
        e.total += messages as u64;
    }

    /// Take a sample (once a second). A pair with no pull in the last minute is dropped.
    pub fn sample(&self, at_ms: i64) {
        let mut t = self.table.lock();
        t.retain(|_, e| {
            e.samples.push_back((at_ms, e.total));
            while e.samples.len() > GROUP_SAMPLES {
                e.samples.pop_front();
            }
            let idle =
                e.samples.len() == GROUP_SAMPLES && e.samples.front().map(|s| s.1) == Some(e.total);
            !idle
        });
    }

    /// Messages a second `group` pulled from `topic` over the last minute (0 without samples).
    pub fn tps(&self, topic: &str, group: &str) -> f64 {
        let t = self.table.lock();
        let Some(e) = t.get(&format!("{topic}@{group}")) else { return 0.0 };
        match (e.samples.front(), e.samples.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) as f64 * 1000.0 / (b.0 - a.0) as f64,
            _ => 0.0,
        }
    }
}

/// A double as Java's Double.toString writes ordinary values ("12.0", "3.5").
fn java_double(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_tps_is_the_rate_over_the_last_minute() {
        let g = GroupGets::default();
        assert_eq!(g.tps("T", "G"), 0.0);
        let now = crate::common::time::now_millis();
        g.record("T", "G", 30);
        g.sample(now + 2000);
        let first = g.tps("T", "G");
        assert!((14.0..=15.0).contains(&first), "the first pulls count: {first}");
        let g = GroupGets::default();
        for i in 0..=70 {
            g.record("T", "G", 10);
            if i < 5 {
                g.record("U", "G", 1);
            }
            g.sample(i * 1000);
        }
        assert_eq!(g.tps("T", "G"), 10.0, "10 messages a second");
        assert_eq!(g.tps("T", "H"), 0.0, "another group");
        assert_eq!(g.tps("U", "G"), 0.0, "nothing pulled in the last minute");
        assert!(!g.table.lock().contains_key("U@G"), "an idle pair is dropped");
    }

    #[test]
    fn windows_fill_as_samples_arrive() {
        let s = StoreStats::default();
        for i in 0..=10 {
            s.record_get(true, 3);
            s.record_get(false, 0);
            s.sample(i * 1000, i as u64 * 20);
        }
        let e: std::collections::HashMap<_, _> = s.runtime_entries().into_iter().collect();
        assert_eq!(e["putTps"], "20.0  ");
        assert_eq!(e["getFoundTps"], "1.0  ");
        assert_eq!(e["getMissTps"], "1.0  ");
        assert_eq!(e["getTotalTps"], "2.0  ");
        assert_eq!(e["getTransferedTps"], "3.0  ");
        for i in 11..=60 {
            s.sample(i * 1000, 220 + (i as u64 - 10) * 10);
        }
        let e: std::collections::HashMap<_, _> = s.runtime_entries().into_iter().collect();
        // Last 10 s: 10/s; last 60 s: (720 - 0) / 60 = 12/s.
        assert_eq!(e["putTps"], "10.0 12.0 ");
    }
}
