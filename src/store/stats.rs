//! What the store counts about itself (issue 14): the parts of Apache's StoreStatsService that
//! only the store sees (put totals, the put-time distribution and its percentiles, the longest
//! put and get, how long the append lock has been held) and the store's own metric families
//! (append and flush latency histograms, group-commit batch sizes, put counters).
//!
//! Recording is atomics only. The distribution and the percentile buckets cover one minute:
//! [`StoreStats::rotate_minute`] (called once a minute by the broker) makes the minute just
//! ended the one reported, as Apache's printTps resets them every 60 s. Until the first rotation
//! the running minute is reported (Apache answers "null" then).

use crate::metrics::catalog::{
    STORE_APPEND_DURATION, STORE_FLUSH_DURATION, STORE_GROUP_COMMIT_BATCH, STORE_PUT_BYTES,
    STORE_PUT_MESSAGES,
};
use crate::metrics::{Counter, Histogram, Registry, BATCH_BUCKETS, LATENCY_BUCKETS};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Labels of putMessageDistributeTime, in order (StoreStatsService.PUT_MESSAGE_ENTIRE_TIME_MAX_DESC).
pub const DISTRIBUTION_LABELS: [&str; 13] = [
    "[<=0ms]",
    "[0~10ms]",
    "[10~50ms]",
    "[50~100ms]",
    "[100~200ms]",
    "[200~500ms]",
    "[500ms~1s]",
    "[1~2s]",
    "[2~3s]",
    "[3~4s]",
    "[4~5s]",
    "[5~10s]",
    "[10s~]",
];

/// Upper bounds (ms) of the distribution's buckets but the last.
const DISTRIBUTION_BOUNDS: [u64; 12] = [0, 9, 49, 99, 199, 499, 999, 1999, 2999, 3999, 4999, 9999];

/// Apache's percentile buckets (PUT_MESSAGE_ENTIRE_TIME_BUCKETS): (step ms, count) runs, then
/// one bucket for everything above 10 s.
const PX_RUNS: [(u64, u64); 7] =
    [(1, 20), (2, 15), (5, 10), (10, 10), (50, 6), (100, 5), (1000, 9)];

fn px_bounds() -> Vec<u64> {
    let mut out = Vec::with_capacity(76);
    let mut at = 0;
    for (step, n) in PX_RUNS {
        for _ in 0..n {
            at += step;
            out.push(at);
        }
    }
    out.push(u64::MAX);
    out
}

fn zeros(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

fn take(cells: &[AtomicU64]) -> Vec<u64> {
    cells.iter().map(|c| c.swap(0, Ordering::AcqRel)).collect()
}

fn read(cells: &[AtomicU64]) -> Vec<u64> {
    cells.iter().map(|c| c.load(Ordering::Acquire)).collect()
}

/// The store's statistics; one per store, shared by its threads.
pub struct StoreStats {
    put_messages: AtomicU64,
    put_bytes: AtomicU64,
    put_failed: AtomicU64,
    put_max_ms: AtomicU64,
    get_max_ms: AtomicU64,
    /// When the append lock was taken (ms since the epoch), 0 while it is free.
    lock_since_ms: AtomicI64,
    distribution: Box<[AtomicU64]>,
    px_bounds: Vec<u64>,
    px: Box<[AtomicU64]>,
    /// The last whole minute: (distribution, percentile buckets).
    last: Mutex<Option<(Vec<u64>, Vec<u64>)>>,
    registry: Arc<Registry>,
    append: Histogram,
    flush: Histogram,
    group_commit: Histogram,
    put_messages_total: Counter,
    put_bytes_total: Counter,
}

impl Default for StoreStats {
    fn default() -> Self {
        StoreStats::new()
    }
}

impl StoreStats {
    /// Empty statistics with their own registry.
    pub fn new() -> StoreStats {
        let registry = Arc::new(Registry::new());
        let reg =
            |r: Result<Histogram, _>| r.expect("invariant: the catalogue's store defs are valid");
        let append = reg(registry.histogram(&STORE_APPEND_DURATION, LATENCY_BUCKETS));
        let flush = reg(registry.histogram(&STORE_FLUSH_DURATION, LATENCY_BUCKETS));
        let group_commit = reg(registry.histogram(&STORE_GROUP_COMMIT_BATCH, BATCH_BUCKETS));
        let counter =
            |d| registry.counter(d).expect("invariant: the catalogue's store defs are valid");
        let put_messages_total = counter(&STORE_PUT_MESSAGES);
        let put_bytes_total = counter(&STORE_PUT_BYTES);
        let px_bounds = px_bounds();
        StoreStats {
            put_messages: AtomicU64::new(0),
            put_bytes: AtomicU64::new(0),
            put_failed: AtomicU64::new(0),
            put_max_ms: AtomicU64::new(0),
            get_max_ms: AtomicU64::new(0),
            lock_since_ms: AtomicI64::new(0),
            distribution: zeros(DISTRIBUTION_LABELS.len()),
            px: zeros(px_bounds.len()),
            px_bounds,
            last: Mutex::new(None),
            registry,
            append,
            flush,
            group_commit,
            put_messages_total,
            put_bytes_total,
        }
    }

    /// The store's metric families (append, flush, group commit, puts).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// A put of `messages` records, `bytes` long, stored after `elapsed` (call to result).
    pub(super) fn record_put(&self, messages: u64, bytes: u64, elapsed: Duration) {
        self.put_messages.fetch_add(messages, Ordering::Relaxed);
        self.put_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.put_messages_total.add(messages);
        self.put_bytes_total.add(bytes);
        let ms = elapsed.as_millis() as u64;
        let i = DISTRIBUTION_BOUNDS.partition_point(|b| *b < ms);
        if let Some(c) = self.distribution.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let j = self.px_bounds.partition_point(|b| *b < ms);
        if let Some(c) = self.px.get(j) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.put_max_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// A put refused or failed.
    pub(super) fn record_put_failed(&self) {
        self.put_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The append lock was taken at `now_ms` (`None`: released).
    pub(super) fn lock_taken(&self, now_ms: Option<i64>) {
        self.lock_since_ms.store(now_ms.unwrap_or(0), Ordering::Release);
    }

    /// Time from taking the append lock to the record written.
    pub(super) fn record_append(&self, d: Duration) {
        self.append.observe_duration(d);
    }

    /// One commit-log flush.
    pub(super) fn record_flush(&self, d: Duration) {
        self.flush.observe_duration(d);
    }

    /// One group commit answered `n` waiting sends.
    pub(super) fn record_group_commit(&self, n: usize) {
        self.group_commit.observe(n as f64);
    }

    /// A get that took `elapsed`.
    pub(super) fn record_get(&self, elapsed: Duration) {
        self.get_max_ms.fetch_max(elapsed.as_millis() as u64, Ordering::Relaxed);
    }

    /// Make the running minute the reported one and start a new one.
    pub fn rotate_minute(&self) {
        let d = take(&self.distribution);
        let p = take(&self.px);
        *self.last.lock() = Some((d, p));
    }

    fn reported(&self) -> (Vec<u64>, Vec<u64>) {
        match &*self.last.lock() {
            Some((d, p)) => (d.clone(), p.clone()),
            None => (read(&self.distribution), read(&self.px)),
        }
    }

    /// Messages put since start (putMessageTimesTotal).
    pub fn put_messages(&self) -> u64 {
        self.put_messages.load(Ordering::Relaxed)
    }

    /// Bytes put since start (putMessageSizeTotal).
    pub fn put_bytes(&self) -> u64 {
        self.put_bytes.load(Ordering::Relaxed)
    }

    /// Puts that failed since start (putMessageFailedTimes).
    pub fn put_failed(&self) -> u64 {
        self.put_failed.load(Ordering::Relaxed)
    }

    /// Longest put so far, ms (putMessageEntireTimeMax).
    pub fn put_max_ms(&self) -> u64 {
        self.put_max_ms.load(Ordering::Relaxed)
    }

    /// Longest get so far, ms (getMessageEntireTimeMax).
    pub fn get_max_ms(&self) -> u64 {
        self.get_max_ms.load(Ordering::Relaxed)
    }

    /// How long the append lock has been held now, ms (pageCacheLockTimeMills; 0 when free).
    pub fn lock_held_ms(&self, now_ms: i64) -> i64 {
        match self.lock_since_ms.load(Ordering::Acquire) {
            0 => 0,
            since => (now_ms - since).max(0),
        }
    }

    /// The reported minute's distribution, as Apache writes it: `[<=0ms]:N [0~10ms]:N ... `
    /// (thirteen `label:count` pairs, each followed by a space).
    pub fn distribution_text(&self) -> String {
        let (d, _) = self.reported();
        let mut out = String::with_capacity(200);
        for (label, n) in DISTRIBUTION_LABELS.iter().zip(d) {
            out.push_str(label);
            out.push(':');
            out.push_str(&n.to_string());
            out.push(' ');
        }
        out
    }

    /// The put time (ms) at quantile `q` of the reported minute, interpolated within its bucket
    /// as findPutMessageEntireTimePX does (0 without puts).
    pub fn put_latency(&self, q: f64) -> f64 {
        let (_, counts) = self.reported();
        px_of(&self.px_bounds, &counts, q)
    }
}

fn px_of(bounds: &[u64], counts: &[u64], q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    let index = (total as f64 * q) as u64;
    let mut pass = 0u64;
    for (i, (&bound, &count)) in bounds.iter().zip(counts).enumerate() {
        if index <= pass + count {
            let rel = (index - pass) as f64;
            let share = if count == 0 { 0.0 } else { rel / count as f64 };
            let low = if i == 0 { 0 } else { bounds.get(i - 1).copied().unwrap_or(0) };
            // The open last bucket has no width to interpolate in: report its lower bound.
            let width = if bound == u64::MAX { 0.0 } else { (bound - low) as f64 };
            return low as f64 + width * share;
        }
        pass += count;
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_and_percentiles_follow_apache() {
        let s = StoreStats::new();
        assert_eq!(
            s.distribution_text(),
            "[<=0ms]:0 [0~10ms]:0 [10~50ms]:0 [50~100ms]:0 [100~200ms]:0 [200~500ms]:0 \
             [500ms~1s]:0 [1~2s]:0 [2~3s]:0 [3~4s]:0 [4~5s]:0 [5~10s]:0 [10s~]:0 "
        );
        assert_eq!(s.put_latency(0.99), 0.0);
        for ms in [0u64, 0, 5, 9, 10, 49, 50, 150, 999, 1000, 10_000, 20_000] {
            s.record_put(1, 100, Duration::from_millis(ms));
        }
        let t = s.distribution_text();
        assert!(
            t.starts_with("[<=0ms]:2 [0~10ms]:2 [10~50ms]:2 [50~100ms]:1 [100~200ms]:1 "),
            "{t}"
        );
        assert!(t.ends_with("[500ms~1s]:1 [1~2s]:1 [2~3s]:0 [3~4s]:0 [4~5s]:0 [5~10s]:0 [10s~]:2 "));
        assert_eq!((s.put_messages(), s.put_bytes(), s.put_max_ms()), (12, 1200, 20_000));
        s.rotate_minute();
        assert!(s.distribution_text().starts_with("[<=0ms]:2 "), "the last minute is reported");
        s.rotate_minute();
        assert!(s.distribution_text().starts_with("[<=0ms]:0 "));
        assert_eq!(s.put_messages(), 12, "totals are not reset");
    }

    #[test]
    fn percentiles_interpolate_in_buckets() {
        let bounds = px_bounds();
        assert_eq!(bounds.len(), 76);
        assert_eq!((bounds[19], bounds[20], bounds[74]), (20, 22, 10_000));
        let mut counts = vec![0u64; bounds.len()];
        counts[4] = 100; // 100 puts in (4, 5] ms
        assert!((px_of(&bounds, &counts, 0.99) - 4.99).abs() < 1e-9);
        assert!((px_of(&bounds, &counts, 0.5) - 4.5).abs() < 1e-9);
        let s = StoreStats::new();
        for _ in 0..1000 {
            s.record_put(1, 1, Duration::from_millis(3));
        }
        let p = s.put_latency(0.999);
        assert!((2.0..=3.0).contains(&p), "{p}");
    }
}
