//! The broker's statistics items (Apache's BrokerStatsManager and StatsItem): a sum and a call
//! count per (stats name, key), sampled into a minute, an hour and a day window, which
//! VIEW_BROKER_STATS_DATA answers and rocketmq-exporter turns into its TPS families.
//!
//! - Keys as Apache builds them: `TOPIC_PUT_NUMS`/`TOPIC_PUT_SIZE` by topic;
//!   `GROUP_GET_NUMS`/`GROUP_GET_SIZE`/`SNDBCK_PUT_NUMS` by `topic@group`;
//!   `GROUP_GET_LATENCY` by `queueId@topic@group` (enableDetailStat); `BROKER_PUT_NUMS`/
//!   `BROKER_GET_NUMS` by the cluster name.
//! - Sampling as StatsItem: every 10 s into the minute window (7 samples kept), every 10 min
//!   into the hour window (7), every hour into the day window (25). A new item starts with the
//!   synthetic zero sample Apache adds one period before its first sample.
//! - Deviation: a window's end is the item's value now, not its last sample, so a figure is at
//!   most a second old rather than ten.
//!
//! Recording is a read-locked map lookup and two atomic adds; an item is created (write lock,
//! one allocation) the first time its key is seen and dropped when its topic or group is deleted.

use crate::protocol::stats_body::{BrokerStatsData, BrokerStatsItem};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Messages put to a topic.
pub const TOPIC_PUT_NUMS: &str = "TOPIC_PUT_NUMS";
/// Bytes put to a topic.
pub const TOPIC_PUT_SIZE: &str = "TOPIC_PUT_SIZE";
/// Messages a group got from a topic.
pub const GROUP_GET_NUMS: &str = "GROUP_GET_NUMS";
/// Bytes a group got from a topic.
pub const GROUP_GET_SIZE: &str = "GROUP_GET_SIZE";
/// Pull latency of a group on a queue (ms per pull).
pub const GROUP_GET_LATENCY: &str = "GROUP_GET_LATENCY";
/// Messages a group sent back for retry.
pub const SNDBCK_PUT_NUMS: &str = "SNDBCK_PUT_NUMS";
/// Messages put to the broker.
pub const BROKER_PUT_NUMS: &str = "BROKER_PUT_NUMS";
/// Messages got from the broker.
pub const BROKER_GET_NUMS: &str = "BROKER_GET_NUMS";

/// Every stats name served.
pub const NAMES: [&str; 8] = [
    TOPIC_PUT_NUMS,
    TOPIC_PUT_SIZE,
    GROUP_GET_NUMS,
    GROUP_GET_SIZE,
    GROUP_GET_LATENCY,
    SNDBCK_PUT_NUMS,
    BROKER_PUT_NUMS,
    BROKER_GET_NUMS,
];

/// Sampling periods (ms) and samples kept of the minute, hour and day windows.
const WINDOWS: [(i64, usize); 3] = [(10_000, 7), (600_000, 7), (3_600_000, 25)];

#[derive(Clone, Copy, Debug, PartialEq)]
struct Snap {
    at_ms: i64,
    times: u64,
    value: u64,
}

struct Item {
    value: AtomicU64,
    times: AtomicU64,
    windows: [Mutex<VecDeque<Snap>>; 3],
}

impl Item {
    fn new(now_ms: i64) -> Item {
        let w = |i: usize| {
            let period = WINDOWS.get(i).map_or(10_000, |w| w.0);
            Mutex::new(VecDeque::from([
                Snap { at_ms: now_ms - period, times: 0, value: 0 },
                Snap { at_ms: now_ms, times: 0, value: 0 },
            ]))
        };
        Item { value: AtomicU64::new(0), times: AtomicU64::new(0), windows: [w(0), w(1), w(2)] }
    }

    fn now(&self, now_ms: i64) -> Snap {
        Snap {
            at_ms: now_ms,
            times: self.times.load(Ordering::Relaxed),
            value: self.value.load(Ordering::Relaxed),
        }
    }

    fn sample(&self, window: usize, now_ms: i64) {
        let keep = WINDOWS.get(window).map_or(7, |w| w.1);
        if let Some(w) = self.windows.get(window) {
            let mut q = w.lock();
            q.push_back(self.now(now_ms));
            while q.len() > keep {
                q.pop_front();
            }
        }
    }

    /// computeStatsData over `window`, ending now.
    fn figure(&self, window: usize, now_ms: i64) -> BrokerStatsItem {
        let Some(w) = self.windows.get(window) else { return BrokerStatsItem::default() };
        let first = w.lock().front().copied();
        let Some(first) = first else { return BrokerStatsItem::default() };
        let last = self.now(now_ms);
        let sum = last.value.saturating_sub(first.value);
        let ms = (last.at_ms - first.at_ms).max(1) as f64;
        let times = last.times.saturating_sub(first.times);
        BrokerStatsItem {
            sum: sum as i64,
            tps: sum as f64 * 1000.0 / ms,
            avgpt: if times > 0 { sum as f64 / times as f64 } else { 0.0 },
        }
    }
}

/// The statistics items of one broker.
#[derive(Default)]
pub struct BrokerStats {
    sets: HashMap<&'static str, RwLock<HashMap<String, Arc<Item>>>>,
}

impl BrokerStats {
    /// Empty items for every name in [`NAMES`].
    pub fn new() -> BrokerStats {
        BrokerStats { sets: NAMES.iter().map(|n| (*n, RwLock::new(HashMap::new()))).collect() }
    }

    /// Add `value` over `times` calls to item `key` of `name` (an unknown name is ignored).
    pub fn add(&self, name: &str, key: &str, value: u64, times: u64) {
        let Some(set) = self.sets.get(name) else { return };
        let found = set.read().get(key).cloned();
        let item = match found {
            Some(i) => i,
            None => set
                .write()
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(Item::new(crate::common::time::now_millis())))
                .clone(),
        };
        item.value.fetch_add(value, Ordering::Relaxed);
        item.times.fetch_add(times, Ordering::Relaxed);
    }

    /// The minute, hour and day figures of item `key` of `name`, None when it does not exist.
    pub fn data(&self, name: &str, key: &str, now_ms: i64) -> Option<BrokerStatsData> {
        let item = self.sets.get(name)?.read().get(key).cloned()?;
        Some(BrokerStatsData {
            stats_minute: item.figure(0, now_ms),
            stats_hour: item.figure(1, now_ms),
            stats_day: item.figure(2, now_ms),
        })
    }

    /// The minute figure of every item of `name`, by key.
    pub fn minute_all(&self, name: &str, now_ms: i64) -> Vec<(String, BrokerStatsItem)> {
        let Some(set) = self.sets.get(name) else { return Vec::new() };
        let items: Vec<(String, Arc<Item>)> =
            set.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        items.into_iter().map(|(k, i)| (k, i.figure(0, now_ms))).collect()
    }

    /// Take a sample of every item into window 0 (minute), 1 (hour) or 2 (day).
    pub fn sample(&self, window: usize, now_ms: i64) {
        for set in self.sets.values() {
            let items: Vec<Arc<Item>> = set.read().values().cloned().collect();
            for i in items {
                i.sample(window, now_ms);
            }
        }
    }

    /// Forget the items of a deleted topic (BrokerStatsManager.onTopicDeleted).
    pub fn on_topic_deleted(&self, topic: &str) {
        let prefix = format!("{topic}@");
        let infix = format!("@{topic}@");
        self.retain(|name, key| match name {
            TOPIC_PUT_NUMS | TOPIC_PUT_SIZE => key != topic,
            GROUP_GET_LATENCY => !key.contains(&infix),
            BROKER_PUT_NUMS | BROKER_GET_NUMS => true,
            _ => !key.starts_with(&prefix),
        });
    }

    /// Forget the items of a deleted group (BrokerStatsManager.onGroupDeleted).
    pub fn on_group_deleted(&self, group: &str) {
        let suffix = format!("@{group}");
        self.retain(|name, key| match name {
            GROUP_GET_NUMS | GROUP_GET_SIZE | SNDBCK_PUT_NUMS | GROUP_GET_LATENCY => {
                !key.ends_with(&suffix)
            }
            _ => true,
        });
    }

    fn retain(&self, keep: impl Fn(&str, &str) -> bool) {
        for (name, set) in &self.sets {
            set.write().retain(|k, _| keep(name, k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_sum_rate_and_mean_as_stats_item() {
        let s = BrokerStats::new();
        assert!(s.data(TOPIC_PUT_NUMS, "T", 0).is_none(), "unknown until used");
        assert!(s.data("NO_SUCH_STATS", "T", 0).is_none());
        s.add(TOPIC_PUT_NUMS, "T", 30, 3);
        let now = crate::common::time::now_millis();
        let d = s.data(TOPIC_PUT_NUMS, "T", now + 5000).unwrap();
        // Window from the synthetic sample 10 s before creation to now (+5 s): 30 in ~15 s.
        assert_eq!(d.stats_minute.sum, 30);
        assert!((d.stats_minute.tps - 2.0).abs() < 0.1, "{:?}", d.stats_minute);
        assert_eq!(d.stats_minute.avgpt, 10.0);
        assert_eq!(d.stats_hour.sum, 30);
        assert_eq!(d.stats_day.sum, 30);
        // Eight 10 s samples: the minute window keeps 7, so the first 30 drop out of it.
        for i in 1..=8 {
            s.add(TOPIC_PUT_NUMS, "T", 10, 1);
            s.sample(0, now + i * 10_000);
        }
        let d = s.data(TOPIC_PUT_NUMS, "T", now + 80_000).unwrap();
        assert_eq!(d.stats_minute.sum, 60, "{:?}", d.stats_minute);
        assert!((d.stats_minute.tps - 1.0).abs() < 1e-9);
        assert_eq!(d.stats_hour.sum, 110, "the hour window still has all of it");
    }

    #[test]
    fn deleting_a_topic_or_group_forgets_its_items() {
        let s = BrokerStats::new();
        s.add(TOPIC_PUT_NUMS, "T", 1, 1);
        s.add(GROUP_GET_NUMS, "T@G", 1, 1);
        s.add(GROUP_GET_NUMS, "U@G", 1, 1);
        s.add(GROUP_GET_LATENCY, "0@T@H", 1, 1);
        s.add(BROKER_PUT_NUMS, "C", 1, 0);
        s.on_topic_deleted("T");
        assert!(s.data(TOPIC_PUT_NUMS, "T", 0).is_none());
        assert!(s.data(GROUP_GET_NUMS, "T@G", 0).is_none());
        assert!(s.data(GROUP_GET_LATENCY, "0@T@H", 0).is_none());
        assert!(s.data(GROUP_GET_NUMS, "U@G", 0).is_some());
        s.on_group_deleted("G");
        assert!(s.data(GROUP_GET_NUMS, "U@G", 0).is_none());
        assert_eq!(s.data(BROKER_PUT_NUMS, "C", 0).unwrap().stats_day.avgpt, 0.0);
    }
}
