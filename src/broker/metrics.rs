//! The broker's `/metrics` (issue 14): rocketmq-exporter's families computed inside the broker
//! at scrape time, from the same numbers GET_BROKER_RUNTIME_INFO, VIEW_BROKER_STATS_DATA,
//! GET_TOPIC_STATS_INFO and GET_CONSUME_STATS answer (MetricsCollectTask's arithmetic), plus
//! rmq's own families: per-request-code counts, errors and latency (a [`RequestHook`]), the
//! store's histograms and counters, pool queues, connections, parked pulls, store size.
//!
//! `metricsPort` turns it on (0, the default, is off; -1 picks a free port). Served by the
//! shared responder, `metrics::MetricsServer`.

use super::core::Core;
use super::processor::runtime;
use super::stats;
use super::topics::{DLQ_PREFIX, RETRY_PREFIX};
use crate::common::time::now_millis;
use crate::metrics::catalog::{self, Def};
use crate::metrics::{process, FamilySnapshot, MetricsError, Registry, RequestMetrics};
use crate::protocol::command::RemotingCommand;
use crate::protocol::record::decode_view;
use crate::remoting::{ReqCtx, RequestHook};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Counts every request the broker answers, by code and response code.
pub(crate) struct MetricsHook {
    requests: RequestMetrics,
}

impl RequestHook for MetricsHook {
    fn after(&self, ctx: &ReqCtx, resp: Option<&RemotingCommand>, elapsed: Duration) {
        let answer = resp.map_or(0, |r| r.code);
        self.requests.observe(label_code(ctx.code, answer), answer, elapsed);
    }
}

fn label_code(code: i32, answer: i32) -> i32 {
    RequestMetrics::label_code(code, answer)
}

/// A registry with the request families, and the hook that feeds them.
pub(crate) fn registry() -> Result<(Arc<Registry>, Arc<dyn RequestHook>), MetricsError> {
    let registry = Arc::new(Registry::new());
    let hook = MetricsHook { requests: RequestMetrics::register(&registry, "broker")? };
    Ok((registry, Arc::new(hook)))
}

/// Open connections of the broker's ports, read at scrape time.
pub(crate) type ConnCount = Arc<dyn Fn() -> usize + Send + Sync>;

/// Add the scrape-time collectors over `core`.
pub(crate) fn add_collectors(registry: &Registry, core: &Arc<Core>, conns: ConnCount) {
    let c = core.clone();
    registry.register_collector(Arc::new(move |out: &mut Vec<FamilySnapshot>| {
        out.extend(c.store.stats().registry().gather());
        exporter_families(&c, out);
        runtime_families(&c, out);
        own_families(&c, &conns, out);
    }));
    registry.register_collector(Arc::new(process::collect_own));
}

/// Utils.getFixedDouble: two decimals.
fn fixed(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn family(def: &Def) -> FamilySnapshot {
    FamilySnapshot::new(def)
}

/// Store time of the message at `offset` of a queue (0 when there is none).
fn store_time_at(c: &Core, topic: &str, queue_id: i32, offset: i64) -> i64 {
    let r = c.store.get_messages(topic, queue_id, offset, 1, 1 << 20, &|_| true);
    r.messages
        .first()
        .and_then(|m| decode_view(m, false).ok())
        .map(|(v, _)| v.store_timestamp)
        .unwrap_or(0)
}

fn exporter_families(c: &Core, out: &mut Vec<FamilySnapshot>) {
    let cfg = c.cfg();
    let (cluster, broker, ip) =
        (cfg.broker_cluster_name.as_str(), cfg.broker_name.as_str(), c.addr());
    let now = now_millis();
    let tps =
        |name: &str, key: &str| c.stats.data(name, key, now).map_or(0.0, |d| d.stats_minute.tps);

    let mut f = family(&catalog::BROKER_TPS);
    f.push(&[cluster, &ip, broker], fixed(tps(stats::BROKER_PUT_NUMS, cluster)));
    out.push(f);
    let mut f = family(&catalog::BROKER_QPS);
    f.push(&[cluster, &ip, broker], fixed(tps(stats::BROKER_GET_NUMS, cluster)));
    out.push(f);
    // A master and slave pair's difference (the exporter subtracts the slave's commit-log max
    // from the master's): a master knows each slave's acknowledged offset, so it serves one
    // series per connected slave, brokerIP being the slave's address, plus rmq's own lag family.
    let mut diff = family(&catalog::BROKER_COMMITLOG_DIFF);
    let mut lag = family(&catalog::HA_REPLICATION_LAG);
    for st in c.repl.slave_states() {
        let slave = st.addr.to_string();
        diff.push(&[cluster, &slave, broker], st.lag_bytes as f64);
        lag.push(&[&slave], st.lag_bytes as f64);
    }
    out.push(diff);
    out.push(lag);

    // Put rates per topic (collectBrokerStatsTopic skips retry and DLQ topics).
    let mut put_tps = family(&catalog::PRODUCER_TPS);
    let mut put_size = family(&catalog::PRODUCER_MESSAGE_SIZE);
    for (name, fam) in
        [(stats::TOPIC_PUT_NUMS, &mut put_tps), (stats::TOPIC_PUT_SIZE, &mut put_size)]
    {
        for (topic, item) in c.stats.minute_all(name, now) {
            if !topic.starts_with(RETRY_PREFIX) && !topic.starts_with(DLQ_PREFIX) {
                fam.push(&[cluster, broker, &topic], fixed(item.tps));
            }
        }
    }
    out.push(put_tps);
    out.push(put_size);

    // Get rates and send-backs per topic and group.
    let mut get_tps = family(&catalog::CONSUMER_TPS);
    let mut get_size = family(&catalog::CONSUMER_MESSAGE_SIZE);
    let mut send_back = family(&catalog::SEND_BACK_NUMS);
    for (name, fam, sum) in [
        (stats::GROUP_GET_NUMS, &mut get_tps, false),
        (stats::GROUP_GET_SIZE, &mut get_size, false),
        (stats::SNDBCK_PUT_NUMS, &mut send_back, true),
    ] {
        for (key, item) in c.stats.minute_all(name, now) {
            if let Some((topic, group)) = key.split_once('@') {
                let v = if sum { item.sum as f64 } else { fixed(item.tps) };
                fam.push(&[cluster, broker, topic, group], v);
            }
        }
    }
    out.extend([get_tps, get_size, send_back]);

    // Offsets per topic (collectTopicOffset), and per topic and group (collectConsumerOffset).
    let mut offset = family(&catalog::PRODUCER_OFFSET);
    let mut retry_offset = family(&catalog::TOPIC_RETRY_OFFSET);
    let mut dlq_offset = family(&catalog::TOPIC_DLQ_OFFSET);
    let mut consumer_offset = family(&catalog::CONSUMER_OFFSET);
    let mut latency = family(&catalog::GROUP_GET_LATENCY_BY_STORETIME);
    let mut diff = family(&catalog::GROUP_DIFF);
    let mut retry_diff = family(&catalog::GROUP_RETRYDIFF);
    let mut dlq_diff = family(&catalog::GROUP_DLQDIFF);
    let mut groups_seen = BTreeSet::new();
    for topic in c.topics.names() {
        let Some(tc) = c.topics.get(&topic) else { continue };
        let total: i64 =
            (0..tc.write_queue_nums).map(|q| c.store.max_offset_in_queue(&topic, q).max(0)).sum();
        if topic.starts_with(RETRY_PREFIX) {
            retry_offset.push(&[cluster, broker, &topic], total as f64);
        } else if let Some(group) = topic.strip_prefix(DLQ_PREFIX) {
            dlq_offset.push(&[cluster, broker, group], total as f64);
        } else {
            offset.push(&[cluster, broker, &topic], total as f64);
        }
        let mut groups = c.offsets.groups_of(&topic);
        groups.extend(c.clients.groups_subscribing(&topic));
        for group in groups {
            let online = c.clients.consumer_group(&group);
            // GET_CONSUME_STATS skips a topic an online group does not subscribe to.
            if let Some(g) = &online {
                if !g.subscriptions.is_empty() && !g.subscriptions.contains_key(&topic) {
                    continue;
                }
            }
            groups_seen.insert(group.clone());
            let count = online.as_ref().map_or(0, |g| g.channels.len());
            let clustering = online.as_ref().is_none_or(|g| g.message_model != "BROADCASTING");
            let (mut lag, mut consumed, mut max_latency) = (0i64, 0i64, 0i64);
            for q in 0..tc.read_queue_nums {
                let b = c.store.max_offset_in_queue(&topic, q).max(0);
                let o = c.offsets.query(&group, &topic, q).unwrap_or(0).max(0);
                lag += b - o;
                consumed += o;
                if clustering && b > o {
                    let at = store_time_at(c, &topic, q, o);
                    if at > 0 {
                        max_latency = max_latency.max(now - at);
                    }
                }
            }
            consumer_offset.push(&[cluster, broker, &topic, &group], consumed as f64);
            if clustering {
                latency.push(&[cluster, broker, &topic, &group], max_latency.max(0) as f64);
                let labels = [group.as_str(), topic.as_str(), &count.to_string(), "1"];
                let fam = if topic.starts_with(RETRY_PREFIX) {
                    &mut retry_diff
                } else if topic.starts_with(DLQ_PREFIX) {
                    &mut dlq_diff
                } else {
                    &mut diff
                };
                fam.push(&labels, lag as f64);
            }
        }
    }
    out.extend([offset, retry_offset, dlq_offset, consumer_offset, latency, diff, retry_diff]);
    out.push(dlq_diff);

    // Online consumers per group (buildClientAddresses) and producers per group.
    let mut gc = family(&catalog::GROUP_COUNT);
    groups_seen.extend(c.clients.consumer_group_names());
    for group in groups_seen {
        let Some(g) = c.clients.consumer_group(&group) else { continue };
        let addrs: Vec<String> = g.channels.values().map(|ch| ch.conn.peer().to_string()).collect();
        let ids: Vec<&str> = g.channels.values().map(|ch| ch.client_id.as_str()).collect();
        gc.push(&[&addrs.join(","), &ids.join(","), &group], g.channels.len() as f64);
    }
    out.push(gc);
    let mut pc = family(&catalog::PRODUCER_COUNT);
    for (group, chs) in c.clients.producers() {
        pc.push(&[cluster, broker, &group], chs.len() as f64);
    }
    out.push(pc);
}

/// The value of one `rocketmq_brokeruntime_*` family from the runtime table, as the exporter
/// derives it. The key comes from the family's help text ("GET_BROKER_RUNTIME_INFO <key> ..."),
/// so the catalogue stays the one list.
fn runtime_value(def: &Def, t: &BTreeMap<String, String>, disk: Option<(u64, u64)>) -> Option<f64> {
    let rest = def.help.strip_prefix("GET_BROKER_RUNTIME_INFO ")?;
    let key: String = rest.chars().take_while(|ch| ch.is_ascii_alphanumeric()).collect();
    let detail = &rest[key.len()..];
    let value = t.get(&key)?;
    match key.as_str() {
        "putMessageDistributeTime" => {
            let label = detail.trim().trim_end_matches('.');
            value.split(' ').find_map(|p| {
                let (k, v) = p.split_once(':')?;
                (k == label).then(|| v.parse::<f64>().ok()).flatten()
            })
        }
        "commitLogDirCapacity" => {
            let (total, free) = disk?;
            Some(if detail.contains("Free") { free as f64 } else { total as f64 })
        }
        k if k.ends_with("Tps") => {
            let i = ["first", "second", "third"].iter().position(|w| detail.contains(w))?;
            value.split(' ').nth(i)?.parse().ok()
        }
        _ => value.split(' ').next()?.parse().ok(),
    }
}

fn runtime_families(c: &Core, out: &mut Vec<FamilySnapshot>) {
    let cfg = c.cfg();
    let mut t = runtime::table(c);
    // Exact bytes rather than the table's human-readable text.
    let unflushed = (c.store.commit_log_max_offset() - c.store.commit_log_flushed_offset()).max(0);
    t.insert("remainHowManyDataToFlush".into(), unflushed.to_string());
    let disk =
        crate::common::sys::disk_space(&cfg.store_path_root_dir).ok().map(|(t, _, u)| (t, u));
    let get = |k: &str| t.get(k).cloned().unwrap_or_default();
    let (des, boot, version) =
        (get("brokerVersionDesc"), get("bootTimestamp"), get("brokerVersion"));
    let ip = c.addr();
    let labels = [cfg.broker_cluster_name.as_str(), &ip, "", &des, &boot, &version];
    for def in catalog::BROKER_RUNTIME {
        let mut f = family(def);
        if let Some(v) = runtime_value(def, &t, disk) {
            f.push(&labels, v);
        }
        out.push(f);
    }
}

/// Bytes and files under `dir`, recursively.
fn dir_usage(dir: &Path) -> (u64, u64) {
    let mut stack = vec![dir.to_path_buf()];
    let (mut bytes, mut files) = (0, 0);
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => {
                    bytes += m.len();
                    files += 1;
                }
                Err(_) => {}
            }
        }
    }
    (bytes, files)
}

fn own_families(c: &Core, conns: &ConnCount, out: &mut Vec<FamilySnapshot>) {
    let pools = c.pool_stats();
    let mut depth = family(&catalog::POOL_QUEUE_DEPTH);
    let mut cap = family(&catalog::POOL_QUEUE_CAPACITY);
    let mut rejected = family(&catalog::REQUESTS_REJECTED);
    for p in &pools {
        depth.push(&["broker", &p.name], p.queued as f64);
        cap.push(&["broker", &p.name], p.capacity as f64);
        rejected.push(&["broker", &p.name], p.rejected as f64);
    }
    out.extend([rejected, depth, cap]);

    // Connections: those of a consumer, of a producer (and no consumer), the rest.
    let (consumers, producers) = c.clients.connection_ids();
    let producers: HashSet<u64> = producers.difference(&consumers).copied().collect();
    let total = conns();
    let mut f = family(&catalog::CONNECTIONS);
    f.push(&["broker", "consumer"], consumers.len() as f64);
    f.push(&["broker", "producer"], producers.len() as f64);
    f.push(&["broker", "other"], total.saturating_sub(consumers.len() + producers.len()) as f64);
    out.push(f);

    let cfg = c.cfg();
    let root = &cfg.store_path_root_dir;
    let commit = cfg.store_path_commit_log.clone().unwrap_or_else(|| root.join("commitlog"));
    let mut bytes = family(&catalog::STORE_BYTES);
    let mut files = family(&catalog::STORE_FILES);
    for (kind, dir) in [
        ("commitlog", commit),
        ("consumequeue", root.join("consumequeue")),
        ("index", root.join("index")),
    ] {
        let (b, n) = dir_usage(&dir);
        bytes.push(&[kind], b as f64);
        files.push(&[kind], n as f64);
    }
    out.extend([bytes, files]);
    let mut lag = family(&catalog::STORE_DISPATCH_LAG);
    lag.push(&[], c.store.dispatch_behind_bytes().max(0) as f64);
    out.push(lag);
    let mut parked = family(&catalog::PULLS_PARKED);
    parked.push(&[], c.hold.len() as f64);
    out.push(parked);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_family_finds_its_key() {
        let mut t = BTreeMap::new();
        for (k, v) in [
            ("putTps", "1.5 2.5 3.5"),
            ("putMessageDistributeTime", "[<=0ms]:4 [0~10ms]:5 [10s~]:6 "),
            ("msgPutTotalTodayNow", "12"),
            ("putLatency99", "0.25"),
            ("remainHowManyDataToFlush", "512"),
            ("commitLogDirCapacity", "Total : 1.0 GiB, Free : 512.0 MiB."),
        ] {
            t.insert(k.to_string(), v.to_string());
        }
        let v = |d: &Def| runtime_value(d, &t, Some((100, 40)));
        assert_eq!(v(&catalog::RT_PUT_TPS10), Some(1.5));
        assert_eq!(v(&catalog::RT_PUT_TPS60), Some(2.5));
        assert_eq!(v(&catalog::RT_PUT_TPS600), Some(3.5));
        assert_eq!(v(&catalog::RT_PMDT_0MS), Some(4.0));
        assert_eq!(v(&catalog::RT_PMDT_0TO10MS), Some(5.0));
        assert_eq!(v(&catalog::RT_PMDT_10STOMORE), Some(6.0));
        assert_eq!(v(&catalog::RT_MSG_PUT_TOTAL_TODAY_NOW), Some(12.0));
        assert_eq!(v(&catalog::RT_PUT_LATENCY_99), Some(0.25));
        assert_eq!(v(&catalog::RT_REMAIN_HOWMANYDATA_TOFLUSH), Some(512.0));
        assert_eq!(v(&catalog::RT_COMMITLOGDIR_CAPACITY_TOTAL), Some(100.0));
        assert_eq!(v(&catalog::RT_COMMITLOGDIR_CAPACITY_FREE), Some(40.0));
        assert_eq!(v(&catalog::RT_GETMISS_TPS10), None, "absent key");
        for d in catalog::BROKER_RUNTIME {
            assert!(d.help.starts_with("GET_BROKER_RUNTIME_INFO "), "{}", d.name);
        }
    }
}
