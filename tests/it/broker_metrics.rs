//! Issue 14, phase 2: the broker's `/metrics` (metricsPort), scraped over real HTTP and read
//! with the strict text-format parser, after Apache's C++ client produced N messages and a push
//! consumer group consumed them all: the exporter's families must say exactly that.

use crate::broker_stats::runtime_info;
use crate::interop::{produce, push_until_committed};
use crate::metrics::scrape;
use crate::proto::{self, T};
use crate::util::{wait_until, Cluster, TestDir, BROKER_BIN};
use rmq::metrics::{catalog, Kind};
use rmq::remoting::RemotingClient;
use std::time::Duration;

#[test]
fn broker_metrics_match_what_the_cpp_client_produced_and_consumed() {
    let dir = TestDir::new("metrics-broker");
    let cluster = Cluster::start(&dir.path, &["--metricsPort=-1", "--brokerClusterName=MCluster"]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let m = cluster.broker.addr("metrics");
    let c = RemotingClient::new();

    // Every family of the catalogue the broker serves, with its type and help.
    let e = scrape(&m);
    for d in catalog::EXPORTER.iter().chain(catalog::BROKER_RUNTIME).chain(catalog::RMQ) {
        if d.name.starts_with("rmq_namesrv_") || d.name == catalog::HA_REPLICATION_LAG.name {
            continue;
        }
        let f = e.families.get(d.name).unwrap_or_else(|| panic!("{} is not served", d.name));
        let kind = match d.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        assert_eq!(f.kind, kind, "{}", d.name);
        assert!(f.help.as_deref().is_some_and(|h| !h.is_empty()), "{} has no help", d.name);
    }
    for d in catalog::BROKER_RUNTIME {
        assert!(e.families[d.name].samples.len() == 1, "{} has no value", d.name);
    }
    for name in ["process_cpu_seconds_total", "process_resident_memory_bytes"] {
        assert!(e.families.contains_key(name), "{name}");
    }
    let sends = |e: &rmq::metrics::parse::Exposition| {
        e.sum("rmq_requests_total", &[("code", "310")])
            + e.sum("rmq_requests_total", &[("code", "10")])
    };
    let sends_before = sends(&e);

    // Apache's C++ client produces N and a group consumes all of it.
    let n = 200u64;
    let topic = "MetricsTopic";
    proto::create_topic(&c, &addr, topic, 4);
    assert!(wait_until(Duration::from_secs(20), || proto::route(&c, &ns, topic).is_some()));
    produce(&ns, topic, 0, n, &dir.path);
    let (code, v) = push_until_committed(&ns, &addr, topic, 4, "MetricsGroup", 0, n, &dir.path);
    assert_eq!(code, 0, "{v}");

    let tg = [("topic", topic), ("group", "MetricsGroup")];
    assert!(
        wait_until(Duration::from_secs(30), || {
            let e = scrape(&m);
            e.sum("rocketmq_producer_offset", &[("topic", topic)]) == n as f64
                && e.sum("rocketmq_consumer_offset", &tg) == n as f64
                && e.value("rocketmq_group_diff", &tg) == Some(0.0)
        }),
        "offsets and diff never matched {n}"
    );
    let e = scrape(&m);
    let labels = [("cluster", "MCluster"), ("broker", "broker-a"), ("topic", topic)];
    assert_eq!(e.value("rocketmq_producer_offset", &labels), Some(n as f64));
    assert_eq!(e.value("rocketmq_group_get_latency_by_storetime", &tg), Some(0.0), "caught up");
    assert_eq!(e.value("rocketmq_group_diff", &[("msgModel", "1"), ("topic", topic)]), Some(0.0));
    // Rates of the last minute (how much of the run is in it depends on the client's pace).
    assert!(e.value("rocketmq_producer_tps", &labels).unwrap() >= 0.0);
    assert!(e.value("rocketmq_producer_message_size", &labels).unwrap() >= 0.0);
    assert!(e.value("rocketmq_consumer_tps", &tg).unwrap() >= 0.0);
    assert!(e.value("rocketmq_consumer_message_size", &tg).unwrap() >= 0.0);
    assert!(e.value("rocketmq_broker_tps", &[("cluster", "MCluster")]).unwrap() >= 0.0);
    assert!(e.value("rocketmq_broker_qps", &[("brokerIP", addr.as_str())]).unwrap() >= 0.0);
    // The broker-runtime gauges are the runtime info's numbers.
    let t = runtime_info(&c, &addr);
    let rt = |name: &str| e.value(name, &[("cluster", "MCluster"), ("brokerIP", addr.as_str())]);
    assert_eq!(rt("rocketmq_brokeruntime_msg_put_total_today_now"), Some(n as f64));
    assert_eq!(rt("rocketmq_brokeruntime_putmessage_times_total"), Some(n as f64));
    assert_eq!(
        rt("rocketmq_brokeruntime_commitlog_maxoffset"),
        t["commitLogMaxOffset"].parse::<f64>().ok()
    );
    assert_eq!(
        rt("rocketmq_brokeruntime_send_threadpoolqueue_capacity"),
        Some(10_000.0),
        "sendThreadPoolQueueCapacity"
    );
    // The distribution buckets are the runtime info's (the reported minute may roll between
    // two reads, so compare until both agree).
    assert!(
        wait_until(Duration::from_secs(5), || {
            let e = scrape(&m);
            let t = runtime_info(&c, &addr);
            let ours: f64 = e
                .families
                .keys()
                .filter(|k| k.starts_with("rocketmq_brokeruntime_pmdt_"))
                .filter_map(|k| e.value(k, &[("brokerIP", addr.as_str())]))
                .sum();
            let theirs: f64 = t["putMessageDistributeTime"]
                .split_whitespace()
                .filter_map(|p| p.split_once(':')?.1.parse::<f64>().ok())
                .sum();
            ours == theirs
        }),
        "the pmdt gauges are not the runtime info's distribution"
    );

    // rmq's own: requests by code, the latency histogram, the store's counters and sizes.
    let moved = sends(&e) - sends_before;
    assert!(moved >= n as f64, "send counters moved by {moved}");
    assert!(e.sum("rmq_requests_total", &[("code", "11")]) > 0.0, "pulls are counted");
    let count = e.sum("rmq_request_duration_seconds_count", &[("code", "310")])
        + e.sum("rmq_request_duration_seconds_count", &[("code", "10")]);
    assert!(count >= n as f64, "every send is in the latency histogram");
    assert_eq!(e.value("rmq_store_put_messages_total", &[]), Some(n as f64));
    assert_eq!(e.value("rmq_store_append_duration_seconds_count", &[]), Some(n as f64));
    assert_eq!(
        e.value("rmq_store_put_bytes_total", &[]),
        t["putMessageSizeTotal"].parse::<f64>().ok()
    );
    assert!(e.value("rmq_store_bytes", &[("kind", "commitlog")]).unwrap() > 0.0);
    assert!(e.value("rmq_store_files", &[("kind", "consumequeue")]).unwrap() >= 4.0);
    assert_eq!(e.value("rmq_pool_queue_capacity", &[("pool", "send")]), Some(10_000.0));
    assert_eq!(e.sum("rmq_requests_rejected_total", &[]), 0.0);
    let cpu = e.value("process_cpu_seconds_total", &[]).unwrap();
    assert!(scrape(&m).value("process_cpu_seconds_total", &[]).unwrap() >= cpu);
    // Unknown codes are counted with their error under one label value (-1), however many.
    for code in [9999, 9998] {
        let r = c.invoke(&addr, rmq::protocol::command::RemotingCommand::request(code), T).unwrap();
        assert_eq!(r.code, rmq::protocol::codes::response::REQUEST_CODE_NOT_SUPPORTED);
    }
    let e = scrape(&m);
    assert_eq!(e.sum("rmq_request_errors_total", &[("code", "-1"), ("response_code", "3")]), 2.0);
    assert_eq!(e.sum("rmq_requests_total", &[("code", "9999")]), 0.0);
}

#[test]
fn broker_metrics_port_is_off_by_default_and_checked() {
    let dir = TestDir::new("metrics-broker-off");
    let cluster = Cluster::start(&dir.path, &[]);
    assert!(!cluster.broker.ready.contains("metrics="), "{}", cluster.broker.ready);
    let out = std::process::Command::new(BROKER_BIN)
        .args(["--standalone", "--listenPort=0", "--metricsPort=http"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad metricsPort is a configuration error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("metricsPort"));
}

#[test]
fn sync_flush_group_commits_and_flushes_are_measured() {
    let dir = TestDir::new("metrics-sync");
    let cluster = Cluster::start(&dir.path, &["--metricsPort=-1", "--flushDiskType=SYNC_FLUSH"]);
    let (addr, m) = (cluster.broker_addr(), cluster.broker.addr("metrics"));
    let c = RemotingClient::new();
    proto::create_topic(&c, &addr, "SyncTopic", 2);
    let n = 20;
    for i in 0..n {
        proto::send_ok(&c, &addr, "SyncTopic", i % 2, "synced");
    }
    let e = scrape(&m);
    // Every send waited (WAIT=true): each is answered by one group commit, unless a flush made
    // for an earlier one already covered its bytes when it asked (then it waits for nothing).
    let waited = e.value("rmq_store_group_commit_batch_messages_sum", &[]).unwrap();
    let commits = e.value("rmq_store_group_commit_batch_messages_count", &[]).unwrap();
    assert!((1.0..=n as f64).contains(&waited), "{waited}");
    assert!(commits >= 1.0 && commits <= waited, "{commits} commits for {waited} sends");
    assert!(e.value("rmq_store_flush_duration_seconds_count", &[]).unwrap() >= commits);
    assert_eq!(e.value("rmq_store_put_messages_total", &[]), Some(n as f64));
    assert_eq!(e.sum("rmq_requests_total", &[("code", "310")]), n as f64);
    assert_eq!(e.sum("rmq_request_errors_total", &[("code", "310")]), 0.0);
    assert_eq!(e.value("rmq_connections", &[("kind", "other")]), Some(1.0), "this client");
}
