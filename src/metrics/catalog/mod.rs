//! Every metric family rmq serves, in one place: the names, help, types and label sets the
//! broker and the name server register, and docs/METRICS.md lists. A test checks that the
//! document names each of them.
//!
//! [`EXPORTER`] and [`BROKER_RUNTIME`] are Apache rocketmq-exporter's families with its exact
//! names and label sets (RMQMetricsCollector.java; values as MetricsCollectTask.java computes
//! them), so its Grafana dashboards (10477) and alert rules work unchanged. All are gauges, as
//! there. [`RMQ`] are rmq's own; [`super::process`] adds the standard `process_*` families.
//! Label order is the exporter's; Prometheus does not care about it, dashboards neither.

mod exporter;
mod own;
mod runtime;

pub use exporter::*;
pub use own::*;
pub use runtime::*;

pub use super::registry::Def;
pub use super::snapshot::Kind;

/// Labels of every `rocketmq_brokeruntime_*` family: cluster, broker address, broker host (empty,
/// as the exporter sends), `brokerVersionDesc`, `bootTimestamp`, `brokerVersion`.
pub const RUNTIME_LABELS: &[&str] =
    &["cluster", "brokerIP", "brokerHost", "des", "boottime", "broker_version"];
/// Labels of the per-broker families.
pub const BROKER_LABELS: &[&str] = &["cluster", "brokerIP", "broker"];
/// Labels of the per-topic families.
pub const TOPIC_LABELS: &[&str] = &["cluster", "broker", "topic"];
/// Labels of the per-group families.
pub const GROUP_LABELS: &[&str] = &["cluster", "broker", "topic", "group"];
/// Labels of the group diff families.
pub const DIFF_LABELS: &[&str] = &["group", "topic", "countOfOnlineConsumers", "msgModel"];

/// rocketmq-exporter's per-broker, per-topic and per-group families.
pub const EXPORTER: &[Def] = &[
    BROKER_TPS,
    BROKER_QPS,
    BROKER_COMMITLOG_DIFF,
    PRODUCER_TPS,
    PRODUCER_MESSAGE_SIZE,
    PRODUCER_OFFSET,
    TOPIC_RETRY_OFFSET,
    TOPIC_DLQ_OFFSET,
    CONSUMER_TPS,
    CONSUMER_MESSAGE_SIZE,
    CONSUMER_OFFSET,
    GROUP_GET_LATENCY_BY_STORETIME,
    SEND_BACK_NUMS,
    GROUP_DIFF,
    GROUP_RETRYDIFF,
    GROUP_DLQDIFF,
    GROUP_COUNT,
    PRODUCER_COUNT,
];
/// rocketmq-exporter's `rocketmq_brokeruntime_*` families, from GET_BROKER_RUNTIME_INFO.
pub const BROKER_RUNTIME: &[Def] = &[
    RT_MSG_PUT_TOTAL_TODAY_NOW,
    RT_MSG_GETTOTAL_TODAY_NOW,
    RT_MSG_PUTTOTAL_TODAYMORNING,
    RT_MSG_GETTOTAL_TODAYMORNING,
    RT_MSG_PUTTOTAL_YESTERDAYMORNING,
    RT_MSG_GETTOTAL_YESTERDAYMORNING,
    RT_DISPATCH_BEHIND_BYTES,
    RT_PUT_MESSAGE_SIZE_TOTAL,
    RT_PUT_MESSAGE_AVERAGE_SIZE,
    RT_PUTMESSAGE_TIMES_TOTAL,
    RT_PUTMESSAGE_ENTIRE_TIME_MAX,
    RT_GETMESSAGE_ENTIRE_TIME_MAX,
    RT_REMAIN_TRANSIENTSTORE_BUFFER_NUMBS,
    RT_EARLIEST_MESSAGE_TIMESTAMP,
    RT_START_ACCEPT_SENDREQUEST_TIME,
    RT_PAGECACHE_LOCK_TIME_MILLS,
    RT_COMMITLOG_DISK_RATIO,
    RT_CONSUMEQUEUE_DISK_RATIO,
    RT_COMMITLOGDIR_CAPACITY_FREE,
    RT_COMMITLOGDIR_CAPACITY_TOTAL,
    RT_COMMITLOG_MAXOFFSET,
    RT_COMMITLOG_MINOFFSET,
    RT_REMAIN_HOWMANYDATA_TOFLUSH,
    RT_DISPATCH_MAXBUFFER,
    RT_PUT_LATENCY_99,
    RT_PUT_LATENCY_999,
    RT_SEND_THREADPOOL_QUEUE_SIZE,
    RT_SEND_THREADPOOLQUEUE_CAPACITY,
    RT_SEND_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS,
    RT_PULL_THREADPOOLQUEUE_SIZE,
    RT_PULL_THREADPOOLQUEUE_CAPACITY,
    RT_PULL_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS,
    RT_QUERY_THREADPOOLQUEUE_SIZE,
    RT_QUERY_THREADPOOL_QUEUE_CAPACITY,
    RT_QUERY_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS,
    RT_PUT_TPS10,
    RT_GETFOUND_TPS10,
    RT_GETMISS_TPS10,
    RT_GETTOTAL_TPS10,
    RT_GETTRANSFERED_TPS10,
    RT_PUT_TPS60,
    RT_GETFOUND_TPS60,
    RT_GETMISS_TPS60,
    RT_GETTOTAL_TPS60,
    RT_GETTRANSFERED_TPS60,
    RT_PUT_TPS600,
    RT_GETFOUND_TPS600,
    RT_GETMISS_TPS600,
    RT_GETTOTAL_TPS600,
    RT_GETTRANSFERED_TPS600,
    RT_PMDT_0MS,
    RT_PMDT_0TO10MS,
    RT_PMDT_10TO50MS,
    RT_PMDT_50TO100MS,
    RT_PMDT_100TO200MS,
    RT_PMDT_200TO500MS,
    RT_PMDT_500TO1S,
    RT_PMDT_1TO2S,
    RT_PMDT_2TO3S,
    RT_PMDT_3TO4S,
    RT_PMDT_4TO5S,
    RT_PMDT_5TO10S,
    RT_PMDT_10STOMORE,
];
/// rocketmq-exporter's consumer-client families: it asks every online consumer for its running info
/// (GET_CONSUMER_RUNNING_INFO through the broker), which a scrape-time collector must not do.
pub const CLIENT_RUNTIME: &[Def] = &[
    CLIENT_CONSUME_FAIL_MSG_COUNT,
    CLIENT_CONSUME_FAIL_MSG_TPS,
    CLIENT_CONSUME_OK_MSG_TPS,
    CLIENT_CONSUME_RT,
    CLIENT_CONSUMER_PULL_RT,
    CLIENT_CONSUMER_PULL_TPS,
];
/// rmq's own families (broker, store, name server).
pub const RMQ: &[Def] = &[
    REQUESTS,
    REQUEST_ERRORS,
    REQUEST_DURATION,
    REQUESTS_REJECTED,
    POOL_QUEUE_DEPTH,
    POOL_QUEUE_CAPACITY,
    CONNECTIONS,
    STORE_APPEND_DURATION,
    STORE_FLUSH_DURATION,
    STORE_GROUP_COMMIT_BATCH,
    STORE_PUT_MESSAGES,
    STORE_PUT_BYTES,
    STORE_BYTES,
    STORE_FILES,
    STORE_DISPATCH_LAG,
    PULLS_PARKED,
    HA_REPLICATION_LAG,
    NAMESRV_BROKERS_ALIVE,
    NAMESRV_TOPICS,
    NAMESRV_ROUTES_SERVED,
];

#[cfg(test)]
mod tests {
    use super::super::registry::Registry;
    use super::*;

    #[test]
    fn every_family_registers_and_names_are_unique() {
        let r = Registry::new();
        let mut seen = std::collections::BTreeSet::new();
        for d in EXPORTER.iter().chain(BROKER_RUNTIME).chain(CLIENT_RUNTIME).chain(RMQ) {
            assert!(seen.insert(d.name), "{} twice", d.name);
            let ok = match d.kind {
                Kind::Counter => r.counter_vec(d).is_ok(),
                Kind::Gauge => r.gauge_vec(d).is_ok(),
                Kind::Histogram => r.histogram_vec(d, &[1.0]).is_ok(),
            };
            assert!(ok, "{}", d.name);
        }
        for d in RMQ {
            assert_eq!(d.kind == Kind::Counter, d.name.ends_with("_total"), "{}", d.name);
        }
        assert_eq!(BROKER_RUNTIME.len(), 63);
    }

    #[test]
    fn docs_list_every_family() {
        let doc = include_str!("../../../docs/METRICS.md");
        for d in EXPORTER.iter().chain(BROKER_RUNTIME).chain(CLIENT_RUNTIME).chain(RMQ) {
            assert!(doc.contains(&format!("`{}`", d.name)), "docs/METRICS.md lacks {}", d.name);
        }
    }
}
