//! Throughput figures of GET_BROKER_RUNTIME_INFO as Apache's StoreStatsService gives them:
//! `putTps`, `getFoundTps`, `getMissTps`, `getTotalTps` and `getTransferedTps`, each the text
//! "<last 10 s> <last 60 s> <last 600 s>" computed from one sample a second (601 kept). A window
//! not yet covered by samples gives the rate over the samples there are (Apache leaves the field
//! empty, which rocketmq-exporter's parser cannot read), so every figure has three numbers.
//! Also the day marks of msgPutTotalTodayMorning and its kin (BrokerStats.record).

use parking_lot::Mutex;
use std::collections::VecDeque;
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

    /// Rate of `f` over the last `secs` sampled intervals, or over all there are when fewer
    /// (0 before the second sample).
    fn rate(q: &VecDeque<Sample>, secs: usize, f: impl Fn(&Sample) -> u64) -> f64 {
        let n = secs.min(q.len().saturating_sub(1));
        let (Some(last), Some(before)) = (q.back(), q.get(q.len().saturating_sub(1 + n))) else {
            return 0.0;
        };
        if n == 0 {
            return 0.0;
        }
        let ms = (last.at_ms - before.at_ms).max(1) as f64;
        f(last).saturating_sub(f(before)) as f64 * 1000.0 / ms
    }

    /// Messages returned by gets since start (getMessageTransferedMsgCount).
    pub fn transferred_total(&self) -> u64 {
        self.transferred.load(Ordering::Relaxed)
    }

    /// The runtime-info entries (name, "x y z").
    pub fn runtime_entries(&self) -> Vec<(&'static str, String)> {
        let q = self.samples.lock();
        let figure = |f: &dyn Fn(&Sample) -> u64| {
            WINDOWS.iter().map(|w| java_double(Self::rate(&q, *w, f))).collect::<Vec<_>>().join(" ")
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

/// Put and get totals at the last two local midnights (BrokerStats.record, run at each
/// midnight): msgPutTotalTodayMorning, msgPutTotalYesterdayMorning and the msgGet ones. Zero
/// until the broker has seen a midnight, as in Apache.
#[derive(Default)]
pub struct DayMarks {
    inner: Mutex<Marks>,
}

#[derive(Default, Clone, Copy)]
struct Marks {
    day: Option<i64>,
    today: (u64, u64),
    yesterday: (u64, u64),
}

impl DayMarks {
    /// Note the totals (puts, gets) on local day `day` (days since the epoch, local time): the
    /// first call of a new day moves today's marks to yesterday's and takes these as today's.
    pub fn observe(&self, day: i64, puts: u64, gets: u64) {
        let mut m = self.inner.lock();
        match m.day {
            None => m.day = Some(day),
            Some(d) if d != day => {
                m.yesterday = m.today;
                m.today = (puts, gets);
                m.day = Some(day);
            }
            Some(_) => {}
        }
    }

    /// ((put today morning, get today morning), (put yesterday morning, get yesterday morning)).
    pub fn marks(&self) -> ((u64, u64), (u64, u64)) {
        let m = *self.inner.lock();
        (m.today, m.yesterday)
    }
}

/// A double as Java's Double.toString writes ordinary values ("12.0", "3.5").
pub(crate) fn java_double(v: f64) -> String {
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
    fn day_marks_move_at_midnight() {
        let d = DayMarks::default();
        d.observe(100, 5, 1);
        assert_eq!(d.marks(), ((0, 0), (0, 0)), "no midnight seen yet");
        d.observe(100, 9, 2);
        d.observe(101, 10, 3);
        assert_eq!(d.marks(), ((10, 3), (0, 0)));
        d.observe(102, 30, 4);
        assert_eq!(d.marks(), ((30, 4), (10, 3)));
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
        // Ten intervals sampled: the 60 s and 600 s windows use what there is.
        assert_eq!(e["putTps"], "20.0 20.0 20.0");
        assert_eq!(e["getFoundTps"], "1.0 1.0 1.0");
        assert_eq!(e["getMissTps"], "1.0 1.0 1.0");
        assert_eq!(e["getTotalTps"], "2.0 2.0 2.0");
        assert_eq!(e["getTransferedTps"], "3.0 3.0 3.0");
        for i in 11..=60 {
            s.sample(i * 1000, 220 + (i as u64 - 10) * 10);
        }
        let e: std::collections::HashMap<_, _> = s.runtime_entries().into_iter().collect();
        // Last 10 s: 10/s; last 60 s: (720 - 0) / 60 = 12/s.
        assert_eq!(e["putTps"], "10.0 12.0 12.0");
        let young = StoreStats::default();
        let e: std::collections::HashMap<_, _> = young.runtime_entries().into_iter().collect();
        assert_eq!(e["putTps"], "0.0 0.0 0.0", "no samples yet");
    }
}
