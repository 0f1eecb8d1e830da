//! GET_BROKER_RUNTIME_INFO's table: every key Apache 4.9's StoreStatsService.getRuntimeInfo,
//! DefaultMessageStore.getRuntimeInfo and AdminBrokerProcessor.prepareRuntimeInfo put there, in
//! their text formats, so rocketmq-exporter's BrokerRuntimeStats (which parses all of it or
//! nothing) and mqadmin brokerStatus read it.
//!
//! Deviations, each for a real value over a placeholder:
//! - `putMessageTimesTotal` is the true count (Apache reports 1 before the first put).
//! - `putMessageDistributeTime` and the put latencies cover the last whole minute, or the
//!   running one before the first minute ends (Apache: "null" and 0 then).
//! - `*Tps` always carry three numbers (see `tps.rs`).
//! - `queryThreadPoolQueue*` describe the query pool; `dispatchMaxBuffer` is 0 (Apache never
//!   sets it either); `remainTransientStoreBufferNumbs` is Integer.MAX_VALUE, as Apache without
//!   a transient store pool; `startAcceptSendRequestTimeStamp` is 0, Apache's default.

use crate::broker::core::Core;
use crate::broker::topics::SCHEDULE_TOPIC;
use crate::broker::tps::java_double;
use crate::common::sys::disk_space;
use crate::common::time::now_millis;
use std::collections::BTreeMap;
use std::path::Path;

/// MixAll.humanReadableByteCount(bytes, false): `512 B`, `93.2 GiB`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let exp = ((bytes as f64).ln() / 1024f64.ln()) as i32;
    let exp = exp.clamp(1, 6);
    let pre = "KMGTPE".chars().nth((exp - 1) as usize).unwrap_or('E');
    format!("{:.1} {pre}iB", bytes as f64 / 1024f64.powi(exp))
}

/// UtilAll.getDiskPartitionSpaceUsedPercent: used / (used + usable), rounded up to 1%, as a
/// ratio; -1 when the path is missing.
fn used_ratio(path: &Path) -> f64 {
    if !path.exists() {
        return -1.0;
    }
    match disk_space(path) {
        Ok((total, free, usable)) if total > 0 => {
            let used = total.saturating_sub(free);
            let entire = (used + usable).max(1);
            let round = u64::from((used * 100) % entire != 0);
            (used * 100 / entire + round) as f64 / 100.0
        }
        _ => -1.0,
    }
}

/// StoreStatsService's `runtime`: `[ 0 days, 1 hours, 2 minutes, 3 seconds ]`.
fn runtime_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!(
        "[ {} days, {} hours, {} minutes, {} seconds ]",
        s / 86_400,
        (s % 86_400) / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

/// The runtime-info table of the broker `c` now.
pub(crate) fn table(c: &Core) -> BTreeMap<String, String> {
    let cfg = c.cfg();
    let now = now_millis();
    let st = c.store.stats();
    let mut t: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        t.insert(k.to_string(), v);
    };

    // StoreStatsService.getRuntimeInfo.
    let puts = st.put_messages();
    let bytes = st.put_bytes();
    put("bootTimestamp", c.boot_timestamp.to_string());
    put("runtime", runtime_text(now - c.boot_timestamp));
    put("putMessageEntireTimeMax", st.put_max_ms().to_string());
    put("putMessageTimesTotal", puts.to_string());
    put("putMessageFailedTimes", st.put_failed().to_string());
    put("putMessageSizeTotal", bytes.to_string());
    put("putMessageDistributeTime", st.distribution_text());
    put("putMessageAverageSize", java_double(bytes as f64 / puts.max(1) as f64));
    put("dispatchMaxBuffer", "0".into());
    put("getMessageEntireTimeMax", st.get_max_ms().to_string());
    for (k, v) in c.tps.runtime_entries() {
        put(k, v);
    }
    put("putLatency99", format!("{:.2}", st.put_latency(0.99)));
    put("putLatency999", format!("{:.2}", st.put_latency(0.999)));

    // DefaultMessageStore.getRuntimeInfo.
    let root = &cfg.store_path_root_dir;
    let commit_dir = cfg.store_path_commit_log.clone().unwrap_or_else(|| root.join("commitlog"));
    let ratio = used_ratio(&commit_dir);
    put(&format!("commitLogDiskRatio_{}", commit_dir.display()), java_double(ratio));
    put("commitLogDiskRatio", java_double(ratio));
    put("consumeQueueDiskRatio", java_double(used_ratio(&root.join("consumequeue"))));
    for (level, offset) in c.delay_offsets.all() {
        let max = c.store.max_offset_in_queue(SCHEDULE_TOPIC, level - 1);
        put(&format!("scheduleMessageOffset_{level}"), format!("{offset},{max}"));
    }
    put("commitLogMinOffset", c.store.commit_log_min_offset().to_string());
    put("commitLogMaxOffset", c.store.commit_log_max_offset().to_string());

    // Replication state (rmq keys; Apache 4.x has none, so brokerStatus could not show it):
    // a master lists its connected slaves as `addr:ackedOffset:lagBytes` separated by `;`, a
    // slave its master and whether it is streaming.
    put("brokerRole", cfg.broker_role.to_string());
    if let Some(ha) = c.repl.ha_addr() {
        let slaves = c.repl.slave_states();
        put("haServerAddr", ha.to_string());
        put("haSlaveCount", slaves.len().to_string());
        let list: Vec<String> = slaves
            .iter()
            .map(|s| format!("{}:{}:{}", s.addr, s.acked_offset, s.lag_bytes))
            .collect();
        put("haSlaves", list.join(";"));
    }
    if let Some(st) = c.repl.slave_status() {
        put("haMasterAddress", st.master_addr.unwrap_or_default());
        put("haSlaveStreaming", st.streaming.to_string());
        put("haMasterOffset", st.master_offset.to_string());
        put("haLastContactTimestamp", st.last_contact_ms.to_string());
    }

    // AdminBrokerProcessor.prepareRuntimeInfo.
    put("brokerVersionDesc", "V4_9_8".into());
    put("brokerVersion", crate::protocol::codes::RMQ_VERSION.to_string());
    let gets = c.tps.transferred_total();
    let ((put_today, get_today), (put_yesterday, get_yesterday)) = c.day_marks.marks();
    put("msgPutTotalYesterdayMorning", put_yesterday.to_string());
    put("msgPutTotalTodayMorning", put_today.to_string());
    put("msgPutTotalTodayNow", puts.to_string());
    put("msgGetTotalYesterdayMorning", get_yesterday.to_string());
    put("msgGetTotalTodayMorning", get_today.to_string());
    put("msgGetTotalTodayNow", gets.to_string());
    for (key, pool, capacity) in [
        ("send", "send", cfg.send_thread_pool_queue_capacity),
        ("pull", "pull", cfg.pull_thread_pool_queue_capacity),
        ("query", "query", cfg.query_thread_pool_queue_capacity),
    ] {
        let p = c.pool(pool);
        put(&format!("{key}ThreadPoolQueueSize"), p.queued.to_string());
        put(&format!("{key}ThreadPoolQueueCapacity"), capacity.to_string());
        put(&format!("{key}ThreadPoolQueueHeadWaitTimeMills"), p.head_wait_ms.to_string());
    }
    put("dispatchBehindBytes", c.store.dispatch_behind_bytes().to_string());
    put("pageCacheLockTimeMills", st.lock_held_ms(now).to_string());
    let earliest = c
        .store
        .queues()
        .iter()
        .map(|(t, q)| c.store.earliest_message_time(t, *q))
        .filter(|t| *t > 0)
        .min()
        .unwrap_or(0);
    put("earliestMessageTimeStamp", earliest.to_string());
    put("startAcceptSendRequestTimeStamp", "0".into());
    put("remainTransientStoreBufferNumbs", i32::MAX.to_string());
    let unflushed = c.store.commit_log_max_offset() - c.store.commit_log_flushed_offset();
    put("remainHowManyDataToFlush", human_bytes(unflushed.max(0) as u64));
    if root.exists() {
        if let Ok((total, _, usable)) = disk_space(root) {
            put(
                "commitLogDirCapacity",
                format!("Total : {}, Free : {}.", human_bytes(total), human_bytes(usable)),
            );
        }
    }

    // rmq's own, for rmq-admin brokerStatus.
    put("brokerName", cfg.broker_name.clone());
    put("brokerPermission", cfg.broker_permission.to_string());
    put("topicCount", c.topics.names().len().to_string());
    put("consumerGroupsOnline", c.clients.consumer_group_names().len().to_string());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_apache() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(100_073_283_994), "93.2 GiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
        assert_eq!(runtime_text(90_061_000), "[ 1 days, 1 hours, 1 minutes, 1 seconds ]");
        let r = used_ratio(Path::new("/"));
        assert!((0.0..=1.0).contains(&r), "{r}");
        assert_eq!(used_ratio(Path::new("/no/such/dir")), -1.0);
    }
}
