//! Gaps left by earlier work: push-consumer flow control (issue 5), ConsumeFrom for a new group
//! when the broker answers QUERY_NOT_FOUND (issue 5, Apache 4.9's queryConsumerOffset with
//! checkInDiskByConsumeOffset), DELETE_SUBSCRIPTIONGROUP with removeOffset (issue 4).

use crate::util::{wait_until, Cluster, TestDir};
use rmq::client::*;
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

fn fast(cfg: &mut ClientConfig, name: &str) {
    cfg.instance_name = name.to_string();
    cfg.client_ip = "127.0.0.1".into();
    cfg.poll_namesrv_interval = Duration::from_millis(500);
    cfg.heartbeat_interval = Duration::from_millis(500);
    cfg.persist_offset_interval = Duration::from_millis(300);
}

fn producer(ns: &str, group: &str) -> Producer {
    let mut o = ProducerOptions::new(group, ns);
    fast(&mut o.config, &format!("p-{group}"));
    let p = Producer::new(o).unwrap();
    p.start().unwrap();
    p
}

fn push_opts(ns: &str, group: &str, from: ConsumeFrom) -> PushConsumerOptions {
    let mut o = PushConsumerOptions::new(group, ns);
    fast(&mut o.config, &format!("c-{group}"));
    o.consume_from = from;
    o.rebalance_interval = Duration::from_millis(500);
    o.suspend_timeout = Duration::from_secs(2);
    o
}

type Seen = Arc<Mutex<Vec<String>>>;

/// Opens the gate when dropped, so a failing assertion never leaves shutdown waiting on a
/// listener held shut.
struct Opener(Arc<AtomicBool>);

impl Drop for Opener {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A started concurrent consumer recording bodies; the listener waits while `gate` is closed.
fn consumer(opts: PushConsumerOptions, topic: &str, gate: Arc<AtomicBool>) -> (PushConsumer, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let c = PushConsumer::new(opts).unwrap();
    c.subscribe(topic, "*").unwrap();
    let s = seen.clone();
    c.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
        while !gate.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(10));
        }
        s.lock().unwrap().extend(msgs.iter().map(|m| String::from_utf8_lossy(m.body()).into()));
        ConsumeStatus::Success
    }))
    .unwrap();
    c.start().unwrap();
    (c, seen)
}

/// Create `topic` with `queues` queues on the broker and wait for its route.
pub fn create_topic(cluster: &Cluster, topic: &str, queues: i32) {
    let c = RemotingClient::new();
    let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
        .with("topic", topic)
        .with("readQueueNums", queues)
        .with("writeQueueNums", queues)
        .with("perm", 6);
    let r = c.invoke(&cluster.broker_addr(), req, T).unwrap();
    assert_eq!(r.code, 0, "create topic: {:?}", r.remark);
    let ns = cluster.namesrv_addr();
    assert!(wait_until(Duration::from_secs(20), || {
        let req = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic);
        c.invoke(&ns, req, T).map(|r| r.code == 0).unwrap_or(false)
    }));
}

/// QUERY_CONSUMER_OFFSET: (code, offset if any).
pub fn query_offset(addr: &str, group: &str, topic: &str, q: i32) -> (i32, Option<i64>) {
    let req = RemotingCommand::request(rq::QUERY_CONSUMER_OFFSET)
        .with("consumerGroup", group)
        .with("topic", topic)
        .with("queueId", q);
    let r = RemotingClient::new().invoke(addr, req, T).unwrap();
    (r.code, r.field("offset").and_then(|o| o.parse().ok()))
}

fn set(seen: &Seen) -> BTreeSet<String> {
    seen.lock().unwrap().iter().cloned().collect()
}

#[test]
fn push_consumer_flow_control_holds_pulls_by_count_and_size_and_loses_nothing() {
    let dir = TestDir::new("gaps-flow");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    create_topic(&cluster, "FlowCount", 1);
    create_topic(&cluster, "FlowSize", 1);
    let p = producer(&ns, "PG_flow");
    const N: usize = 600;
    for i in 0..N {
        p.send(&Message::new("FlowCount", format!("c-{i}"))).unwrap();
    }
    const BIG: usize = 40;
    for i in 0..BIG {
        // 100 KB bodies that do not compress (so the cached size is the body size).
        let mut b = format!("s-{i}-").into_bytes();
        let mut x = i as u32 + 1;
        while b.len() < 100_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            b.push((x >> 16) as u8);
        }
        p.send(&Message::new("FlowSize", b)).unwrap();
    }

    // By count: threshold 50 messages, pulls of 32, a listener held shut.
    let gate = Arc::new(AtomicBool::new(false));
    let mut o = push_opts(&ns, "CG_flow_count", ConsumeFrom::FirstOffset);
    o.pull_threshold_per_queue = 50;
    o.pull_batch_size = 32;
    o.max_batch_size = 1;
    o.thread_count = 1;
    let (c, seen) = consumer(o, "FlowCount", gate.clone());
    let _open = Opener(gate.clone());
    assert!(wait_until(Duration::from_secs(20), || c.flow_stats().1 >= 5), "no flow control");
    let cached = |c: &PushConsumer| c.flow_stats().0.iter().map(|q| q.1).sum::<usize>();
    let held = cached(&c);
    // Pulling stops once the cache is over the threshold: at most one batch past it.
    assert!(held > 50 && held <= 50 + 32, "cached {held} messages with a threshold of 50");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(cached(&c), held, "the consumer went on pulling while over the threshold");
    // The broker's view: nothing committed yet, the whole queue behind.
    assert_eq!(query_offset(&cluster.broker_addr(), "CG_flow_count", "FlowCount", 0).1, Some(0));
    gate.store(true, Ordering::Release);
    assert!(wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= N));
    let want: BTreeSet<String> = (0..N).map(|i| format!("c-{i}")).collect();
    assert_eq!(set(&seen), want);
    assert_eq!(seen.lock().unwrap().len(), N, "no duplicates without a rebalance");
    let addr = cluster.broker_addr();
    assert!(
        wait_until(Duration::from_secs(10), || query_offset(
            &addr,
            "CG_flow_count",
            "FlowCount",
            0
        )
        .1 == Some(N as i64)),
        "the consumer's offset did not reach the end after resuming"
    );
    c.shutdown();

    // By size: threshold 1 MiB, count threshold out of the way, pulls of 4 x 100 KB.
    let gate = Arc::new(AtomicBool::new(false));
    let mut o = push_opts(&ns, "CG_flow_size", ConsumeFrom::FirstOffset);
    o.pull_threshold_per_queue = 10_000;
    o.pull_threshold_size_mib_per_queue = 1;
    o.pull_batch_size = 4;
    o.max_batch_size = 1;
    o.thread_count = 1;
    let (c, seen) = consumer(o, "FlowSize", gate.clone());
    let _open2 = Opener(gate.clone());
    assert!(wait_until(Duration::from_secs(20), || c.flow_stats().1 >= 5), "no flow control");
    // The topic's one queue (the group's retry queue is assigned too, and empty).
    let queue = |c: &PushConsumer| {
        let (qs, _) = c.flow_stats();
        let q = qs.into_iter().find(|q| q.0.topic == "FlowSize").expect("FlowSize assigned");
        (q.1, q.2)
    };
    let (n, bytes) = queue(&c);
    assert!(
        bytes > 1 << 20 && bytes <= (1 << 20) + 4 * 100_010,
        "cached {bytes} bytes with a threshold of 1 MiB"
    );
    assert!(n < BIG, "{n} of {BIG} messages cached: size flow control did not hold");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(queue(&c).0, n, "the consumer went on pulling while over the size");
    gate.store(true, Ordering::Release);
    assert!(wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= BIG));
    let got = set(&seen);
    assert_eq!(got.len(), BIG);
    for i in 0..BIG {
        assert!(got.iter().any(|b| b.starts_with(&format!("s-{i}-"))), "s-{i} lost");
    }
    c.shutdown();
}

#[test]
fn new_group_consume_from_last_timestamp_first_when_offset_zero_is_on_disk() {
    let dir = TestDir::new("gaps-from");
    // accessMessageInMemoryMaxRatio=0: every stored message counts as "on disk", so as Apache's
    // broker the queue's offset 0 is not offered to a new group (QUERY_NOT_FOUND) and each
    // client applies its ConsumeFrom policy.
    let cluster = Cluster::start(&dir.path, &["--accessMessageInMemoryMaxRatio=0"]);
    let ns = cluster.namesrv_addr();
    let addr = cluster.broker_addr();
    let topic = "FromTopic";
    create_topic(&cluster, topic, 1);
    // An empty queue still starts at 0 (no entry at offset 0 to be on disk).
    assert_eq!(query_offset(&addr, "CG_new", topic, 0), (rs::SUCCESS, Some(0)));
    let p = producer(&ns, "PG_from");
    for i in 0..10 {
        p.send(&Message::new(topic, format!("old-{i}"))).unwrap();
    }
    // Once dispatched to the consume queue, offset 0 is on disk: not found.
    assert!(wait_until(T, || query_offset(&addr, "CG_new", topic, 0).0 == rs::QUERY_NOT_FOUND));
    std::thread::sleep(Duration::from_millis(50));
    let ts = rmq::common::time::now_millis();
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..10 {
        p.send(&Message::new(topic, format!("mid-{i}"))).unwrap();
    }

    let open = Arc::new(AtomicBool::new(true));
    let (last, seen_last) =
        consumer(push_opts(&ns, "CG_last", ConsumeFrom::LastOffset), topic, open.clone());
    // Probe until the LastOffset consumer pulls, then send the messages it must all get.
    let mut probes = BTreeSet::new();
    for k in 0..150 {
        let b = format!("probe-{k}");
        p.send(&Message::new(topic, b.clone())).unwrap();
        probes.insert(b);
        if wait_until(Duration::from_millis(200), || !seen_last.lock().unwrap().is_empty()) {
            break;
        }
    }
    assert!(!seen_last.lock().unwrap().is_empty(), "the LastOffset consumer never consumed");
    let news: BTreeSet<String> = (0..10).map(|i| format!("new-{i}")).collect();
    for b in &news {
        p.send(&Message::new(topic, b.clone())).unwrap();
    }
    assert!(wait_until(Duration::from_secs(20), || set(&seen_last).is_superset(&news)));
    let got = set(&seen_last);
    assert!(
        got.iter().all(|b| b.starts_with("probe-") || b.starts_with("new-")),
        "LastOffset consumed what was there before it started: {got:?}"
    );

    // Timestamp: everything stored from `ts` on, nothing older.
    let mut since: BTreeSet<String> = (0..10).map(|i| format!("mid-{i}")).collect();
    since.extend(probes.iter().cloned());
    since.extend(news.iter().cloned());
    let (by_ts, seen_ts) =
        consumer(push_opts(&ns, "CG_ts", ConsumeFrom::Timestamp(ts)), topic, open.clone());
    assert!(wait_until(Duration::from_secs(20), || seen_ts.lock().unwrap().len() >= since.len()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(set(&seen_ts), since);
    assert_eq!(seen_ts.lock().unwrap().len(), since.len());

    // FirstOffset: the whole queue.
    let (first, seen_first) =
        consumer(push_opts(&ns, "CG_first", ConsumeFrom::FirstOffset), topic, open);
    let total = 10 + since.len();
    assert!(wait_until(Duration::from_secs(20), || seen_first.lock().unwrap().len() >= total));
    let got = set(&seen_first);
    assert_eq!(got.len(), total);
    assert!(got.contains("old-0") && got.contains("old-9"));
    for c in [last, by_ts, first] {
        c.shutdown();
    }
}

#[test]
fn delete_subscription_group_with_remove_offset_drops_its_offsets() {
    let dir = TestDir::new("gaps-delgroup");
    let cluster = Cluster::start(&dir.path, &[]);
    let addr = cluster.broker_addr();
    let c = RemotingClient::new();
    let commit = |group: &str, topic: &str, q: i32, off: i64| {
        let req = RemotingCommand::request(rq::UPDATE_CONSUMER_OFFSET)
            .with("consumerGroup", group)
            .with("topic", topic)
            .with("queueId", q)
            .with("commitOffset", off);
        assert_eq!(c.invoke(&addr, req, T).unwrap().code, rs::SUCCESS);
    };
    commit("G_keep", "TA", 0, 5);
    commit("G_drop", "TA", 0, 7);
    commit("G_drop", "TB", 1, 9);
    commit("G_drop_not", "TA", 0, 11);
    let delete = |group: &str, remove: Option<bool>| {
        let mut req =
            RemotingCommand::request(rq::DELETE_SUBSCRIPTIONGROUP).with("groupName", group);
        if let Some(r) = remove {
            req = req.with("removeOffset", r);
        }
        assert_eq!(c.invoke(&addr, req, T).unwrap().code, rs::SUCCESS);
    };
    // Without removeOffset (Apache's default false) the offsets stay.
    delete("G_keep", None);
    delete("G_drop_not", Some(false));
    assert_eq!(query_offset(&addr, "G_keep", "TA", 0), (rs::SUCCESS, Some(5)));
    assert_eq!(query_offset(&addr, "G_drop_not", "TA", 0), (rs::SUCCESS, Some(11)));
    delete("G_drop", Some(true));
    // Gone on both topics: an empty/unknown queue answers 0 as for a new group.
    let all = RemotingCommand::request(rq::GET_ALL_CONSUMER_OFFSET);
    let text = String::from_utf8(c.invoke(&addr, all, T).unwrap().body).unwrap();
    assert!(!text.contains("@G_drop\""), "{text}");
    assert!(text.contains("TA@G_keep") && text.contains("TA@G_drop_not"), "{text}");
    // Persisted that way: a restart does not bring them back.
    let mut cluster = cluster;
    cluster.broker.stop();
    cluster.restart_broker();
    let addr = cluster.broker_addr();
    let all = RemotingCommand::request(rq::GET_ALL_CONSUMER_OFFSET);
    let text = String::from_utf8(c.invoke(&addr, all, T).unwrap().body).unwrap();
    assert!(!text.contains("@G_drop\"") && text.contains("TA@G_keep"), "{text}");
}

#[test]
fn runtime_info_reports_put_and_get_tps_as_apache() {
    let dir = TestDir::new("gaps-tps");
    let cluster = Cluster::start(&dir.path, &[]);
    let addr = cluster.broker_addr();
    let c = RemotingClient::new();
    let info = || {
        let r = c.invoke(&addr, RemotingCommand::request(rq::GET_BROKER_RUNTIME_INFO), T).unwrap();
        let kv: rmq::protocol::body::KvTable = serde_json::from_slice(&r.body).unwrap();
        kv.table
    };
    let first = |t: &std::collections::BTreeMap<String, String>, k: &str| {
        t.get(k).and_then(|v| v.split(' ').next()).and_then(|x| x.parse::<f64>().ok())
    };
    // Right after boot no window is covered yet: Apache leaves three empty fields, which
    // rocketmq-exporter cannot parse; rmq gives the rate over the samples it has (issue 14).
    assert_eq!(info().get("putTps").map(String::as_str), Some("0.0 0.0 0.0"));
    let t = info();
    assert_eq!(first(&t, "putTps"), Some(0.0), "nothing was put yet: {t:?}");
    // Now put and read 50 messages: the next samples show them in the 10 s window.
    for i in 0..50 {
        let r = crate::retention::send(&c, &addr, "TpsTopic", 0, format!("m-{i}").into_bytes());
        assert_eq!(r.code, rs::SUCCESS);
    }
    // Dispatch is asynchronous: pull once the queue holds all 50, so exactly 50 are transferred.
    let max_offset = || {
        let req = RemotingCommand::request(rq::GET_MAX_OFFSET)
            .with("topic", "TpsTopic")
            .with("queueId", 0);
        c.invoke(&addr, req, T).unwrap().i64_field("offset").unwrap_or(-1)
    };
    assert!(
        wait_until(Duration::from_secs(10), || max_offset() == 50),
        "dispatch did not reach 50"
    );
    assert_eq!(crate::retention::pull_all(&c, &addr, "TpsTopic", 0, 0).len(), 50);
    // Rates over the same window once a sample follows all of it: 50 put and 50 transferred (in
    // found reads, then one miss at the end); total = found + miss.
    let mut t = info();
    let shows = |t: &std::collections::BTreeMap<String, String>| {
        let v = |k| first(t, k).unwrap_or(0.0);
        v("putTps") > 0.0
            && (v("putTps") - v("getTransferedTps")).abs() < 1e-6
            && v("getFoundTps") > 0.0
            && v("getMissTps") > 0.0
    };
    assert!(
        wait_until(Duration::from_secs(5), || {
            t = info();
            shows(&t)
        }),
        "the puts and reads do not show as equal rates: {t:?}"
    );
    for k in ["putTps", "getFoundTps", "getMissTps", "getTotalTps", "getTransferedTps"] {
        let v = t.get(k).unwrap_or_else(|| panic!("no {k} in {t:?}"));
        assert_eq!(v.split(' ').count(), 3, "{k} is not 'x y z': {v:?}");
    }
    let (found, miss) = (first(&t, "getFoundTps").unwrap(), first(&t, "getMissTps").unwrap());
    assert!((first(&t, "getTotalTps").unwrap() - (found + miss)).abs() < 1e-6, "{t:?}");
}
