//! Issue 14, phase 2: what rocketmq-exporter asks a live broker for: GET_BROKER_RUNTIME_INFO
//! (28) read with a transcription of BrokerRuntimeStats' parse rules, VIEW_BROKER_STATS_DATA
//! (315) for every stats name it and statsAll use, GET_ALL_PRODUCER_INFO (328); the values must
//! be what the test did.

use crate::proto::{self, T};
use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::body::KvTable;
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::stats_body::BrokerStatsData;
use rmq::remoting::RemotingClient;
use std::collections::BTreeMap;
use std::time::Duration;

/// Java's String.split(" "): trailing empty strings are dropped.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(sep).collect();
    while v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// The exporter's Long.parseLong.
fn long(t: &BTreeMap<String, String>, k: &str) -> i64 {
    let v = t.get(k).unwrap_or_else(|| panic!("runtime info lacks {k}"));
    v.parse::<i64>().unwrap_or_else(|_| panic!("{k}={v} is not a long"))
}

/// The exporter's Double.parseDouble (Java accepts what Rust's f64 parser accepts here).
fn double(t: &BTreeMap<String, String>, k: &str) -> f64 {
    let v = t.get(k).unwrap_or_else(|| panic!("runtime info lacks {k}"));
    v.parse::<f64>().unwrap_or_else(|_| panic!("{k}={v} is not a double"))
}

/// Utils.machineReadableByteCount("93.2 GiB") -> bytes.
fn machine_bytes(n: &str, unit: &str) -> f64 {
    let base: f64 = n.parse().unwrap_or_else(|_| panic!("'{n}' is not a number"));
    if unit == "B" {
        return base;
    }
    let exp = "KMGTPE".find(&unit[..1]).unwrap_or_else(|| panic!("unit {unit}")) as i32 + 1;
    base * 1024f64.powi(exp)
}

/// rocketmq-exporter's BrokerRuntimeStats(KVTable), transcribed: every key it reads, parsed as
/// it parses them (all or nothing). Returns the put distribution's buckets.
pub fn check_runtime_info(t: &BTreeMap<String, String>) -> BTreeMap<String, i32> {
    for k in [
        "msgPutTotalTodayNow",
        "sendThreadPoolQueueHeadWaitTimeMills",
        "queryThreadPoolQueueHeadWaitTimeMills",
        "msgGetTotalTodayNow",
        "queryThreadPoolQueueSize",
        "bootTimestamp",
        "msgPutTotalYesterdayMorning",
        "msgGetTotalYesterdayMorning",
        "pullThreadPoolQueueSize",
        "commitLogMinOffset",
        "pullThreadPoolQueueHeadWaitTimeMills",
        "dispatchMaxBuffer",
        "pageCacheLockTimeMills",
        "commitLogMaxOffset",
        "getMessageEntireTimeMax",
        "msgPutTotalTodayMorning",
        "putMessageTimesTotal",
        "msgGetTotalTodayMorning",
        "sendThreadPoolQueueSize",
        "startAcceptSendRequestTimeStamp",
        "putMessageEntireTimeMax",
        "earliestMessageTimeStamp",
        "remainTransientStoreBufferNumbs",
        "queryThreadPoolQueueCapacity",
        "dispatchBehindBytes",
        "putMessageSizeTotal",
        "sendThreadPoolQueueCapacity",
        "pullThreadPoolQueueCapacity",
    ] {
        long(t, k);
    }
    t["brokerVersion"].parse::<i32>().unwrap();
    assert!(t.contains_key("brokerVersionDesc") && t.contains_key("runtime"));
    for k in ["consumeQueueDiskRatio", "commitLogDiskRatio", "putMessageAverageSize"] {
        double(t, k);
    }
    // getOrDefault("putLatency99", "-1"): rmq must send them.
    for k in ["putLatency99", "putLatency999"] {
        let v = double(t, k);
        assert!(v >= 0.0 && t[k].split_once('.').is_some_and(|(_, f)| f.len() == 2), "{k}");
    }
    java_split(&t["remainHowManyDataToFlush"], ' ')[0].parse::<f64>().unwrap();
    for k in ["putTps", "getMissTps", "getTransferedTps", "getTotalTps", "getFoundTps"] {
        let parts = java_split(&t[k], ' ');
        assert_eq!(parts.len(), 3, "{k}={} must have three numbers", t[k]);
        for p in parts {
            p.parse::<f64>().unwrap_or_else(|_| panic!("{k}: '{p}' is not a double"));
        }
    }
    // loadCommitLogDirCapacity: arr[2] arr[3] minus its last char, arr[6] arr[7] likewise.
    let cap = java_split(&t["commitLogDirCapacity"], ' ');
    assert!(cap.len() >= 8 && cap[0] == "Total" && cap[4] == "Free", "{cap:?}");
    let total = machine_bytes(cap[2], &cap[3][..cap[3].len() - 1]);
    let free = machine_bytes(cap[6], &cap[7][..cap[7].len() - 1]);
    assert!(total > 0.0 && free <= total, "{cap:?}");
    // loadPutMessageDistributeTime: "key:value" pairs, brackets stripped, Integer.parseInt.
    let mut buckets = BTreeMap::new();
    for part in java_split(&t["putMessageDistributeTime"], ' ') {
        let (k, v) = part.split_once(':').unwrap_or_else(|| panic!("bad bucket {part}"));
        assert!(k.starts_with('[') && k.ends_with(']'), "{k}");
        buckets.insert(k.replace(['[', ']'], ""), v.parse::<i32>().unwrap());
    }
    assert_eq!(buckets.len(), 13, "{}", t["putMessageDistributeTime"]);
    for (k, v) in t.iter().filter(|(k, _)| k.starts_with("scheduleMessageOffset")) {
        let (a, b) = v.split_once(',').unwrap_or_else(|| panic!("{k}={v}"));
        a.parse::<i64>().unwrap();
        b.parse::<i64>().unwrap();
    }
    buckets
}

pub fn runtime_info(c: &RemotingClient, addr: &str) -> BTreeMap<String, String> {
    let r = c.invoke(addr, RemotingCommand::request(rq::GET_BROKER_RUNTIME_INFO), T).unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let kv: KvTable = rmq::protocol::json::from_fastjson(&r.body).unwrap();
    kv.table
}

fn stats(c: &RemotingClient, addr: &str, name: &str, key: &str) -> RemotingCommand {
    let req = RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA)
        .with("statsName", name)
        .with("statsKey", key);
    c.invoke(addr, req, T).unwrap()
}

fn stats_ok(c: &RemotingClient, addr: &str, name: &str, key: &str) -> BrokerStatsData {
    let r = stats(c, addr, name, key);
    assert_eq!(r.code, rs::SUCCESS, "{name} {key}: {:?}", r.remark);
    BrokerStatsData::decode(&r.body).unwrap()
}

#[test]
fn runtime_info_and_stats_data_match_what_was_sent_and_pulled() {
    let dir = TestDir::new("broker-stats");
    let cluster = Cluster::start(&dir.path, &["--brokerClusterName=StatsCluster"]);
    let addr = cluster.broker_addr();
    let c = RemotingClient::new();

    // A young broker already answers everything the exporter parses.
    let t = runtime_info(&c, &addr);
    check_runtime_info(&t);
    assert_eq!(long(&t, "putMessageTimesTotal"), 0);
    assert_eq!(t["putTps"], "0.0 0.0 0.0", "no samples yet, or nothing put");

    let (topic, group, n) = ("StatsTopic", "StatsGroup", 30i64);
    proto::create_topic(&c, &addr, topic, 2);
    let body = "x".repeat(100);
    for i in 0..n {
        proto::send_ok(&c, &addr, topic, (i % 2) as i32, &body);
    }
    assert!(wait_until(Duration::from_secs(10), || {
        long(&runtime_info(&c, &addr), "dispatchBehindBytes") == 0
    }));
    let mut pulled = 0;
    for q in 0..2 {
        let mut offset = 0;
        while let Some((msgs, next)) = proto::pull(&c, &addr, group, topic, q, offset, 64).unwrap()
        {
            pulled += msgs.len() as i64;
            offset = next;
        }
    }
    assert_eq!(pulled, n);

    let t = runtime_info(&c, &addr);
    let buckets = check_runtime_info(&t);
    assert_eq!(long(&t, "putMessageTimesTotal"), n);
    assert_eq!(long(&t, "msgPutTotalTodayNow"), n);
    assert_eq!(long(&t, "msgGetTotalTodayNow"), pulled);
    assert_eq!(buckets.values().map(|v| *v as i64).sum::<i64>(), n, "{buckets:?}");
    // A fresh store: every byte of the commit log is one of these puts.
    let size = long(&t, "putMessageSizeTotal");
    assert_eq!(size, long(&t, "commitLogMaxOffset"));
    assert!(size > n * 100, "{size}");
    assert_eq!(double(&t, "putMessageAverageSize"), size as f64 / n as f64);
    assert_eq!(long(&t, "sendThreadPoolQueueCapacity"), 10_000);
    assert_eq!(long(&t, "queryThreadPoolQueueCapacity"), 20_000);
    assert!(long(&t, "earliestMessageTimeStamp") > 0);
    assert!(
        wait_until(Duration::from_secs(5), || {
            let t = runtime_info(&c, &addr);
            java_split(&t["putTps"], ' ').iter().skip(1).all(|p| p.parse::<f64>().unwrap() > 0.0)
        }),
        "the put rate shows once sampled"
    );

    // VIEW_BROKER_STATS_DATA, keyed as BrokerStatsManager keys them.
    let tp = stats_ok(&c, &addr, "TOPIC_PUT_NUMS", topic);
    assert_eq!((tp.stats_minute.sum, tp.stats_hour.sum, tp.stats_day.sum), (n, n, n));
    assert_eq!(tp.stats_minute.avgpt, 1.0, "one message per send");
    assert!(tp.stats_minute.tps > 0.0);
    let size_stats = stats_ok(&c, &addr, "TOPIC_PUT_SIZE", topic);
    assert_eq!(size_stats.stats_minute.sum, size, "every byte went to this topic");
    assert_eq!(stats_ok(&c, &addr, "BROKER_PUT_NUMS", "StatsCluster").stats_minute.sum, n);
    assert_eq!(stats_ok(&c, &addr, "BROKER_GET_NUMS", "StatsCluster").stats_minute.sum, pulled);
    let key = format!("{topic}@{group}");
    assert_eq!(stats_ok(&c, &addr, "GROUP_GET_NUMS", &key).stats_minute.sum, pulled);
    assert!(stats_ok(&c, &addr, "GROUP_GET_SIZE", &key).stats_minute.sum >= pulled * 100);
    let lat = stats_ok(&c, &addr, "GROUP_GET_LATENCY", &format!("0@{key}"));
    assert!(lat.stats_minute.avgpt >= 0.0 && lat.stats_minute.sum >= 0);
    // Unknown items and names: Apache's remark, SYSTEM_ERROR.
    for (name, key) in [
        ("TOPIC_PUT_NUMS", "NoSuchTopic"),
        ("SNDBCK_PUT_NUMS", key.as_str()),
        ("NO_SUCH_STATS", topic),
    ] {
        let r = stats(&c, &addr, name, key);
        assert_eq!(r.code, rs::SYSTEM_ERROR);
        assert_eq!(r.remark, Some(format!("The stats <{name}> <{key}> not exist")));
    }
    let r = c.invoke(&addr, RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA), T).unwrap();
    assert_eq!(r.code, rs::SYSTEM_ERROR, "missing header fields are refused, not a panic");

    // GET_ALL_PRODUCER_INFO: the producer group of a heartbeat, as ProducerTableInfo.
    proto::heartbeat(&c, &addr, "127.0.0.1@stats", "StatsGroup2", topic, Some("StatsProducer"));
    let r = c.invoke(&addr, RemotingCommand::request(rq::GET_ALL_PRODUCER_INFO), T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let infos = v["data"]["StatsProducer"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(infos.len(), 1, "{v}");
    assert_eq!(infos[0]["clientId"], "127.0.0.1@stats");
    assert!(infos[0]["remoteIP"].as_str().unwrap().starts_with("/127.0.0.1:"), "{v}");
    assert!(infos[0]["lastUpdateTimestamp"].as_i64().unwrap() > 0);
}
