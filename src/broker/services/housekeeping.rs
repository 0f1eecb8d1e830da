//! The `broker-housekeeping` service: the broker's periodic chores on one thread, each at its
//! own period read from the live configuration:
//! - once a second, sample the put and get counters for the runtime info's TPS figures
//!   (StoreStatsService's sampling);
//! - every `flushConsumerOffsetInterval`, persist the consumer offsets;
//! - every `clientHousekeepingInterval` (10 s), drop the clients silent for
//!   `channelExpiredTimeout` (120 s) and tell the rest of each group to rebalance
//!   (ClientHousekeepingService).

use crate::broker::core::Core;
use crate::common::service::Service;
use crate::common::time::now_millis;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Start the service.
pub(crate) fn spawn(core: &Arc<Core>) -> std::io::Result<Service> {
    let c = core.clone();
    Service::spawn("broker-housekeeping", move |ctx| {
        let start = Instant::now();
        let (mut next_tps, mut next_offsets, mut next_scan) = (start, start, start);
        loop {
            let now = Instant::now();
            let cfg = c.cfg();
            if now >= next_tps {
                sample_tps(&c);
                next_tps = now + Duration::from_secs(1);
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
            let next = next_tps.min(next_offsets).min(next_scan);
            if !ctx.wait(next.saturating_duration_since(Instant::now())) {
                break;
            }
        }
    })
}

fn sample_tps(c: &Core) {
    let puts: i64 = c.store.queues().iter().map(|(t, q)| c.store.max_offset_in_queue(t, *q)).sum();
    let now = now_millis();
    c.tps.sample(now, puts.max(0) as u64);
    c.group_gets.sample(now);
}

fn scan_clients(c: &Core, expire: Duration) {
    for g in c.clients.remove_channels(None, Some(expire)) {
        log::info!("consumer group lost silent members group={g}");
        c.clients.notify_ids_changed(&g);
    }
}
