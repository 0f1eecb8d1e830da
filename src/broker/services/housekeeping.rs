//! The `broker-housekeeping` service: the broker's periodic chores on one thread, each at its
//! own period read from the live configuration:
//! - once a second, sample the put and get counters for the runtime info's TPS figures
//!   (StoreStatsService's sampling) and note the day marks (BrokerStats.record at midnight);
//! - every 10 s, 10 min and hour, sample the stats items into their minute, hour and day
//!   windows (StatsItem); every minute, rotate the store's put-time distribution;
//! - every `flushConsumerOffsetInterval`, persist the consumer offsets;
//! - every `clientHousekeepingInterval` (10 s), drop the clients silent for
//!   `channelExpiredTimeout` (120 s) and tell the rest of each group to rebalance
//!   (ClientHousekeepingService).

use crate::broker::core::Core;
use crate::common::service::Service;
use crate::common::sys::local_day;
use crate::common::time::now_millis;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Start the service.
pub(crate) fn spawn(core: &Arc<Core>) -> std::io::Result<Service> {
    let c = core.clone();
    Service::spawn("broker-housekeeping", move |ctx| {
        let start = Instant::now();
        let (mut next_tps, mut next_offsets, mut next_scan) = (start, start, start);
        let mut next_stats = STATS_PERIODS.map(|p| start + p);
        loop {
            let now = Instant::now();
            let cfg = c.cfg();
            if now >= next_tps {
                sample_tps(&c);
                next_tps = now + Duration::from_secs(1);
            }
            for (i, next) in next_stats.iter_mut().enumerate() {
                if now >= *next {
                    sample_stats(&c, i);
                    *next += STATS_PERIODS.get(i).copied().unwrap_or(Duration::from_secs(10));
                }
            }
            if now >= next_offsets {
                if now > start {
                    c.offsets.persist(false);
                }
                next_offsets =
                    now + Duration::from_millis(cfg.flush_consumer_offset_interval.max(100));
            }
            if now >= next_scan {
                if now > start {
                    scan_clients(&c, Duration::from_millis(cfg.channel_expired_timeout));
                }
                next_scan = now + Duration::from_millis(cfg.client_housekeeping_interval);
            }
            let next =
                next_stats.iter().fold(next_tps.min(next_offsets).min(next_scan), |a, b| a.min(*b));
            if !ctx.wait(next.saturating_duration_since(Instant::now())) {
                break;
            }
        }
    })
}

fn sample_tps(c: &Core) {
    let now = now_millis();
    let puts = c.store.stats().put_messages();
    c.tps.sample(now, puts);
    c.day_marks.observe(local_day(now), puts, c.tps.transferred_total());
}

/// The periods of the stats items' minute, hour and day windows, and of the put-time
/// distribution (StatsItem's samplers, StoreStatsService.printTps).
const STATS_PERIODS: [Duration; 4] = [
    Duration::from_secs(10),
    Duration::from_secs(600),
    Duration::from_secs(3600),
    Duration::from_secs(60),
];

fn sample_stats(c: &Core, which: usize) {
    match which {
        0..=2 => c.stats.sample(which, now_millis()),
        _ => c.store.stats().rotate_minute(),
    }
}

fn scan_clients(c: &Core, expire: Duration) {
    for g in c.clients.remove_channels(None, Some(expire)) {
        log::info!("consumer group lost silent members group={g}");
        c.clients.notify_ids_changed(&g);
    }
}
