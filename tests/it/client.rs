//! The Rust client (issue 5) against real rmq-broker processes: every producer and consumer mode,
//! rebalance, name-server failover, interop with Apache's C++ client, the examples.

use crate::util::{Cluster, TestDir};
use rmq::client::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Client logs on stderr when RMQ_CLIENT_LOG is set (error..trace).
fn init_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(l) = std::env::var("RMQ_CLIENT_LOG") {
            let level = l.parse().unwrap_or(log::LevelFilter::Info);
            let _ = simplelog::WriteLogger::init(
                level,
                simplelog::Config::default(),
                std::io::stderr(),
            );
        }
    });
}

/// Short client timers so tests stay fast.
fn fast(cfg: &mut ClientConfig, name: &str) {
    init_log();
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

fn pull_consumer(ns: &str, group: &str) -> PullConsumer {
    let mut o = PullConsumerOptions::new(group, ns);
    fast(&mut o.config, &format!("pc-{group}"));
    o.consume_from = ConsumeFrom::FirstOffset;
    let c = PullConsumer::new(o).unwrap();
    c.start().unwrap();
    c
}

/// Create `topic` with `queues` queues on the cluster's broker and wait for its route.
fn create_topic(cluster: &Cluster, topic: &str, queues: i32) {
    let c = rmq::remoting::RemotingClient::new();
    let req = rmq::protocol::command::RemotingCommand::request(
        rmq::protocol::codes::request::UPDATE_AND_CREATE_TOPIC,
    )
    .with("topic", topic)
    .with("readQueueNums", queues)
    .with("writeQueueNums", queues)
    .with("perm", 6);
    let r = c.invoke(&cluster.broker_addr(), req, Duration::from_secs(5)).unwrap();
    assert_eq!(r.code, 0, "create topic: {:?}", r.remark);
    let ns = cluster.namesrv_addr();
    assert!(crate::util::wait_until(Duration::from_secs(20), || {
        let req = rmq::protocol::command::RemotingCommand::request(
            rmq::protocol::codes::request::GET_ROUTEINFO_BY_TOPIC,
        )
        .with("topic", topic);
        c.invoke(&ns, req, Duration::from_secs(5)).map(|r| r.code == 0).unwrap_or(false)
    }));
}

/// Pull every message of `topic` from offset 0 of each queue until `want` arrived.
fn drain(c: &PullConsumer, topic: &str, expr: &str, want: usize) -> Vec<MessageExt> {
    let qs = c.fetch_queues(topic).unwrap();
    let mut next: BTreeMap<i32, i64> = qs.iter().map(|q| (q.queue_id, 0)).collect();
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_secs(30);
    while out.len() < want && Instant::now() < end {
        let mut any = false;
        for q in &qs {
            let off = next[&q.queue_id];
            let r = c.pull(q, expr, off, 32, Duration::from_secs(5)).unwrap();
            next.insert(q.queue_id, r.next_begin_offset);
            any |= !r.messages.is_empty();
            out.extend(r.messages);
        }
        if !any {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    out
}

#[test]
fn client_producer_modes_and_pull_consumer() {
    let dir = TestDir::new("client-producer");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let topic = "ClientProducerTopic";
    let p = producer(&ns, "PG_modes");

    // Sync: the topic is created on first send from TBW102 (4 queues).
    let mut sent: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..20 {
        let mut m = Message::new(topic, format!("sync-{i}"));
        m.set_tags(if i % 2 == 0 { "even" } else { "odd" });
        m.set_keys(&format!("k{i} kk{i}"));
        m.put_property("idx", &i.to_string());
        let r = p.send(&m).unwrap();
        assert_eq!(r.status, SendStatus::Ok);
        assert_eq!(r.msg_id.len(), 32);
        assert!(!r.offset_msg_id.is_empty());
        assert_eq!(r.queue.topic, topic);
        sent.insert(r.msg_id, m.body().to_vec());
    }
    // Compressed body (over 4 KiB) and the size limit.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let r = p.send(&Message::new(topic, big.clone())).unwrap();
    sent.insert(r.msg_id, big.clone());
    let too_big = Message::new(topic, vec![0u8; 4 * 1024 * 1024 + 1]);
    assert_eq!(p.send(&too_big).unwrap_err().kind(), ErrorKind::MessageTooLarge);
    // Async.
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..10 {
        let tx = tx.clone();
        let body = format!("async-{i}");
        p.send_async(
            Message::new(topic, body.clone()),
            Box::new(move |r| {
                let _ = tx.send((r, body));
            }),
        )
        .unwrap();
    }
    for _ in 0..10 {
        let (r, body) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        sent.insert(r.unwrap().msg_id, body.into_bytes());
    }
    // One-way (ids not returned: counted by body).
    for i in 0..5 {
        p.send_oneway(&Message::new(topic, format!("oneway-{i}"))).unwrap();
    }
    // Batch to one queue.
    let batch: Vec<Message> = (0..8).map(|i| Message::new(topic, format!("batch-{i}"))).collect();
    let r = p.send_batch(&batch).unwrap();
    let ids: Vec<&str> = r.msg_id.split(',').collect();
    assert_eq!(ids.len(), 8);
    for (id, m) in ids.iter().zip(&batch) {
        sent.insert(id.to_string(), m.body().to_vec());
    }
    // To a queue, with a selector, orderly.
    let qs = p.fetch_publish_queues(topic).unwrap();
    assert_eq!(qs.len(), 4);
    let r = p.send_to_queue(&Message::new(topic, "to-queue-2"), &qs[2]).unwrap();
    assert_eq!(r.queue.queue_id, 2);
    sent.insert(r.msg_id, b"to-queue-2".to_vec());
    let r =
        p.send_with_selector(&Message::new(topic, "selected-3"), &mut |q, _| q.len() - 1).unwrap();
    assert_eq!(r.queue.queue_id, 3);
    sent.insert(r.msg_id, b"selected-3".to_vec());
    let mut order_q = BTreeSet::new();
    for i in 0..6 {
        let r = p.send_orderly(&Message::new(topic, format!("order-{i}")), "order-key").unwrap();
        order_q.insert(r.queue.queue_id);
        sent.insert(r.msg_id, format!("order-{i}").into_bytes());
    }
    assert_eq!(order_q.len(), 1, "one sharding key keeps one queue");

    // Everything arrives intact through the pull consumer.
    let c = pull_consumer(&ns, "CG_pull_modes");
    let total = sent.len() + 5;
    let got = drain(&c, topic, "*", total);
    assert_eq!(got.len(), total);
    let mut oneway = 0;
    for m in &got {
        if let Some(b) = sent.get(&m.msg_id) {
            assert_eq!(m.body(), b.as_slice(), "body of {}", m.msg_id);
        } else {
            assert!(m.body().starts_with(b"oneway-"), "unexpected message {:?}", m.msg_id);
            oneway += 1;
        }
        if m.body().starts_with(b"sync-") {
            let i: usize = m.property("idx").unwrap().parse().unwrap();
            assert_eq!(m.keys(), Some(format!("k{i} kk{i}").as_str()));
            assert_eq!(m.tags(), Some(if i.is_multiple_of(2) { "even" } else { "odd" }));
        }
    }
    assert_eq!(oneway, 5);
    let big_got = got.iter().find(|m| m.body().len() == big.len()).unwrap();
    assert_eq!(big_got.sys_flag & 1, 1, "the big body was stored compressed");
    // Order within the orderly queue.
    let order: Vec<String> = got
        .iter()
        .filter(|m| m.body().starts_with(b"order-"))
        .map(|m| String::from_utf8_lossy(m.body()).to_string())
        .collect();
    assert_eq!(order, (0..6).map(|i| format!("order-{i}")).collect::<Vec<_>>());
    // Tag filter (broker hash + client re-check).
    let even = drain(&c, topic, "even", 10);
    assert_eq!(even.len(), 10);
    assert!(even.iter().all(|m| m.tags() == Some("even")));

    // Offsets: commit, fetch, min/max/search.
    let q0 = &c.fetch_queues(topic).unwrap()[0];
    assert_eq!(c.min_offset(q0).unwrap(), 0);
    let max = c.max_offset(q0).unwrap();
    assert!(max > 0);
    c.update_offset(q0, max).unwrap();
    assert_eq!(c.fetch_offset(q0).unwrap(), max);
    assert_eq!(c.search_offset(q0, 0).unwrap(), 0);
    c.shutdown();
    p.shutdown();
    assert_eq!(p.send(&Message::new(topic, "x")).unwrap_err().kind(), ErrorKind::Shutdown);
}

fn push_opts(ns: &str, group: &str, name: &str) -> PushConsumerOptions {
    let mut o = PushConsumerOptions::new(group, ns);
    fast(&mut o.config, name);
    o.consume_from = ConsumeFrom::FirstOffset;
    o.rebalance_interval = Duration::from_millis(500);
    o.lock_interval = Duration::from_millis(500);
    o.suspend_timeout = Duration::from_secs(2);
    o
}

type Seen = Arc<Mutex<Vec<MessageExt>>>;

fn concurrent_consumer(opts: PushConsumerOptions, topic: &str, expr: &str) -> (PushConsumer, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let c = PushConsumer::new(opts).unwrap();
    c.subscribe(topic, expr).unwrap();
    let s = seen.clone();
    c.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
        s.lock().unwrap().extend(msgs.iter().cloned());
        ConsumeStatus::Success
    }))
    .unwrap();
    c.start().unwrap();
    (c, seen)
}

fn bodies(seen: &Seen) -> BTreeSet<String> {
    seen.lock().unwrap().iter().map(|m| String::from_utf8_lossy(m.body()).to_string()).collect()
}

#[test]
fn client_push_concurrent_tags_reconsume_and_offsets() {
    let dir = TestDir::new("client-push");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let topic = "ClientPushTopic";
    let p = producer(&ns, "PG_push");
    for i in 0..200 {
        let mut m = Message::new(topic, format!("m-{i}"));
        m.set_tags(if i % 4 == 0 { "A" } else { "B" });
        p.send(&m).unwrap();
    }
    // All messages, batches of 8, 3 threads.
    let mut o = push_opts(&ns, "CG_push_all", "c-all");
    o.max_batch_size = 8;
    o.thread_count = 3;
    let (c, seen) = concurrent_consumer(o, topic, "*");
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 200));
    let want: BTreeSet<String> = (0..200).map(|i| format!("m-{i}")).collect();
    assert_eq!(bodies(&seen), want);
    // Offsets are committed (every 300 ms and on shutdown): a restart sees only new messages.
    c.shutdown();
    for i in 200..210 {
        p.send(&Message::new(topic, format!("m-{i}"))).unwrap();
    }
    let (c, seen2) = concurrent_consumer(push_opts(&ns, "CG_push_all", "c-all"), topic, "*");
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen2.lock().unwrap().len() >= 10));
    std::thread::sleep(Duration::from_millis(500));
    let want: BTreeSet<String> = (200..210).map(|i| format!("m-{i}")).collect();
    assert_eq!(bodies(&seen2), want, "only new messages after a restart");
    assert_eq!(seen2.lock().unwrap().len(), 10);
    c.shutdown();

    // Tag filter: only A.
    let (c, seen) = concurrent_consumer(push_opts(&ns, "CG_push_a", "c-a"), topic, "A");
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 50));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(seen.lock().unwrap().len(), 50);
    assert!(seen.lock().unwrap().iter().all(|m| m.tags() == Some("A")));
    c.shutdown();

    // ReconsumeLater: redelivered through %RETRY%group with the original topic and a count.
    let tries: Arc<Mutex<BTreeMap<String, Vec<i32>>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let t2 = tries.clone();
    let c = PushConsumer::new(push_opts(&ns, "CG_push_retry", "c-retry")).unwrap();
    c.subscribe(topic, "A").unwrap();
    c.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
        let mut t = t2.lock().unwrap();
        let mut status = ConsumeStatus::Success;
        for m in msgs {
            assert_eq!(m.topic(), "ClientPushTopic");
            let v = t.entry(String::from_utf8_lossy(m.body()).to_string()).or_default();
            v.push(m.reconsume_times);
            if v.len() == 1 {
                status = ConsumeStatus::ReconsumeLater;
            }
        }
        status
    }))
    .unwrap();
    c.start().unwrap();
    assert!(crate::util::wait_until(Duration::from_secs(60), || {
        let t = tries.lock().unwrap();
        t.len() == 50 && t.values().all(|v| v.len() >= 2)
    }));
    for (body, v) in tries.lock().unwrap().iter() {
        assert_eq!(v[0], 0, "{body}");
        assert_eq!(v[1], 1, "{body}: the redelivery carries its reconsume count");
    }
    c.shutdown();
    p.shutdown();
}

#[test]
fn client_push_broadcasting_and_orderly() {
    let dir = TestDir::new("client-bcast");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let topic = "ClientBcastTopic";
    create_topic(&cluster, topic, 4);
    let p = producer(&ns, "PG_bcast");
    // Broadcasting: two consumers of one group both get everything; offsets in local files.
    let offdir = dir.path.join("offsets");
    let mk = |name: &str| {
        let mut o = push_opts(&ns, "CG_bcast", name);
        o.model = MessageModel::Broadcasting;
        o.offset_store_dir = Some(offdir.clone());
        o
    };
    let (c1, s1) = concurrent_consumer(mk("b1"), topic, "*");
    let (c2, s2) = concurrent_consumer(mk("b2"), topic, "*");
    for i in 0..40 {
        p.send(&Message::new(topic, format!("b-{i}"))).unwrap();
    }
    let want: BTreeSet<String> = (0..40).map(|i| format!("b-{i}")).collect();
    assert!(crate::util::wait_until(Duration::from_secs(30), || {
        s1.lock().unwrap().len() >= 40 && s2.lock().unwrap().len() >= 40
    }));
    assert_eq!(bodies(&s1), want);
    assert_eq!(bodies(&s2), want);
    c1.shutdown();
    c2.shutdown();
    let f = offdir.join("127.0.0.1@b1").join("CG_bcast").join("offsets.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    let sum: i64 =
        v["offsetTable"].as_array().unwrap().iter().map(|e| e["offset"].as_i64().unwrap()).sum();
    assert_eq!(sum, 40, "broadcast offsets in {}: {v}", f.display());
    // Restarted, it resumes from its file: nothing old again.
    let (c1, s1) = concurrent_consumer(mk("b1"), topic, "*");
    p.send(&Message::new(topic, "b-new")).unwrap();
    assert!(crate::util::wait_until(Duration::from_secs(30), || !s1.lock().unwrap().is_empty()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(bodies(&s1), ["b-new".to_string()].into_iter().collect());
    c1.shutdown();

    // Orderly: per sharding key, messages arrive in send order, one thread per queue at a time.
    let otopic = "ClientOrderTopic";
    create_topic(&cluster, otopic, 4);
    for i in 0..100 {
        let key = format!("key-{}", i % 5);
        p.send_orderly(&Message::new(otopic, format!("{key}:{i}")), &key).unwrap();
    }
    let got: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let busy: Arc<Mutex<BTreeSet<i32>>> = Arc::new(Mutex::new(BTreeSet::new()));
    let overlap = Arc::new(AtomicUsize::new(0));
    let suspended = Arc::new(AtomicUsize::new(0));
    let (g, b, ov, su) = (got.clone(), busy.clone(), overlap.clone(), suspended.clone());
    let mut o = push_opts(&ns, "CG_order", "o1");
    o.thread_count = 4;
    o.max_batch_size = 3;
    let c = PushConsumer::new(o).unwrap();
    c.subscribe(otopic, "*").unwrap();
    c.register_orderly(Arc::new(move |msgs: &[MessageExt]| {
        let q = msgs[0].queue_id;
        if !b.lock().unwrap().insert(q) {
            ov.fetch_add(1, Ordering::SeqCst);
        }
        // The first batch of queue 0 is suspended once: it must come back first, in order.
        let status = if q == 0 && su.fetch_add(1, Ordering::SeqCst) == 0 {
            OrderlyStatus::SuspendCurrentQueueAMoment
        } else {
            g.lock()
                .unwrap()
                .extend(msgs.iter().map(|m| String::from_utf8_lossy(m.body()).to_string()));
            OrderlyStatus::Success
        };
        std::thread::sleep(Duration::from_millis(2));
        b.lock().unwrap().remove(&q);
        status
    }))
    .unwrap();
    c.start().unwrap();
    assert!(
        crate::util::wait_until(Duration::from_secs(60), || got.lock().unwrap().len() >= 100),
        "orderly got {}",
        got.lock().unwrap().len()
    );
    c.shutdown();
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 100);
    assert_eq!(overlap.load(Ordering::SeqCst), 0, "one thread per queue at a time");
    for k in 0..5 {
        let seq: Vec<usize> = got
            .iter()
            .filter(|s| s.starts_with(&format!("key-{k}:")))
            .map(|s| s.split(':').nth(1).unwrap().parse().unwrap())
            .collect();
        let mut sorted = seq.clone();
        sorted.sort();
        assert_eq!(seq, sorted, "key-{k} out of order");
        assert_eq!(seq.len(), 20);
    }
    p.shutdown();
}

#[test]
fn client_rebalance_three_consumers_one_stopped_loses_nothing() {
    let dir = TestDir::new("client-rebalance");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let topic = "ClientRebalanceTopic";
    create_topic(&cluster, topic, 8);
    let acked: Arc<Mutex<BTreeMap<String, usize>>> = Arc::new(Mutex::new(BTreeMap::new()));
    // (consumer index, queue id) seen after the stop.
    let after_stop: Arc<Mutex<BTreeSet<(usize, i32)>>> = Arc::new(Mutex::new(BTreeSet::new()));
    let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let per_consumer: Vec<Arc<AtomicUsize>> =
        (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let mut consumers = Vec::new();
    for (idx, counter) in per_consumer.iter().enumerate() {
        let c = PushConsumer::new(push_opts(&ns, "CG_rebalance", &format!("r{idx}"))).unwrap();
        c.subscribe(topic, "*").unwrap();
        let (a, s, st, n) = (acked.clone(), after_stop.clone(), stopped.clone(), counter.clone());
        c.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
            for m in msgs {
                *a.lock()
                    .unwrap()
                    .entry(String::from_utf8_lossy(m.body()).to_string())
                    .or_default() += 1;
                if st.load(Ordering::SeqCst) {
                    s.lock().unwrap().insert((idx, m.queue_id));
                }
            }
            n.fetch_add(msgs.len(), Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            ConsumeStatus::Success
        }))
        .unwrap();
        c.start().unwrap();
        consumers.push(Some(c));
    }
    let p = producer(&ns, "PG_rebalance");
    let total = 3000;
    let mut sent = 0;
    let mut send = |n: usize| {
        for _ in 0..n {
            p.send(&Message::new(topic, format!("r-{sent}"))).unwrap();
            sent += 1;
        }
    };
    send(1500);
    // All three take part; one is stopped while the backlog is being consumed (listeners take
    // 2 ms a message); the other two take its queues.
    assert!(crate::util::wait_until(Duration::from_secs(30), || {
        per_consumer.iter().all(|n| n.load(Ordering::SeqCst) > 0)
            && per_consumer[2].load(Ordering::SeqCst) >= 50
    }));
    consumers[2].take().unwrap().shutdown();
    stopped.store(true, Ordering::SeqCst);
    let before_stop = acked.lock().unwrap().len();
    send(total - 1500);
    let ok =
        crate::util::wait_until(Duration::from_secs(60), || acked.lock().unwrap().len() >= total);
    let a = acked.lock().unwrap().clone();
    let dups: usize = a.values().map(|n| n - 1).sum();
    eprintln!(
        "rebalance: sent={total} distinct_acked={} duplicates={dups} (at-least-once) \
         acked_before_stop={before_stop} per_consumer={:?}",
        a.len(),
        per_consumer.iter().map(|n| n.load(Ordering::SeqCst)).collect::<Vec<_>>()
    );
    assert!(ok, "only {} of {total} messages consumed", a.len());
    let want: BTreeSet<String> = (0..total).map(|i| format!("r-{i}")).collect();
    assert_eq!(a.keys().cloned().collect::<BTreeSet<_>>(), want);
    // Messages sent after the stop came through all 8 queues, on the two remaining consumers.
    let s = after_stop.lock().unwrap().clone();
    assert!(s.iter().all(|(c, _)| *c < 2), "the stopped consumer consumed after shutdown: {s:?}");
    let queues: BTreeSet<i32> = s.iter().map(|(_, q)| *q).collect();
    assert_eq!(queues, (0..8).collect::<BTreeSet<i32>>());
    for c in consumers.into_iter().flatten() {
        c.shutdown();
    }
    p.shutdown();
}

#[test]
fn client_namesrv_failover() {
    use crate::util::{Proc, BROKER_BIN, NAMESRV_BIN};
    let dir = TestDir::new("client-failover");
    let start_ns = |i: usize| {
        Proc::start(
            NAMESRV_BIN,
            &[
                "--listenPort=0".to_string(),
                "--bindAddress=127.0.0.1".to_string(),
                format!("--kvConfigPath={}", dir.path.join(format!("kv{i}.json")).display()),
            ],
            dir.path.join(format!("namesrv{i}.log")),
            1,
        )
    };
    let mut ns1 = start_ns(1);
    let ns2 = start_ns(2);
    let list = format!("{};{}", ns1.addr("listen"), ns2.addr("listen"));
    let _broker = Proc::start(
        BROKER_BIN,
        &[
            "-n".to_string(),
            list.clone(),
            "--listenPort=0".to_string(),
            "--bindAddress=127.0.0.1".to_string(),
            "--brokerIP1=127.0.0.1".to_string(),
            format!("--storePathRootDir={}", dir.path.join("store").display()),
            "--brokerName=broker-a".to_string(),
        ]
        .into_iter()
        .chain(crate::util::small_store_args())
        .collect::<Vec<_>>(),
        dir.path.join("broker.log"),
        1,
    );
    let topic = "ClientFailoverTopic";
    let p = producer(&list, "PG_failover");
    let (c, seen) =
        concurrent_consumer(push_opts(&list, "CG_failover", "f1"), "ClientFailoverTopic", "*");
    // The consumer may start before the topic exists; the first send creates it.
    for i in 0..50 {
        p.send(&Message::new(topic, format!("f-{i}"))).unwrap();
    }
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 50));
    ns1.kill9();
    for i in 50..100 {
        p.send(&Message::new(topic, format!("f-{i}"))).unwrap();
    }
    // A topic nobody looked up before needs the surviving name server.
    let other = "ClientFailoverTopic2";
    let r = p.send(&Message::new(other, "fresh")).unwrap();
    assert_eq!(r.status, SendStatus::Ok);
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 100));
    let want: BTreeSet<String> = (0..100).map(|i| format!("f-{i}")).collect();
    assert_eq!(bodies(&seen), want);
    // A consumer started after the failure finds its routes through the second name server.
    let (c2, seen2) = concurrent_consumer(push_opts(&list, "CG_failover2", "f2"), other, "*");
    assert!(crate::util::wait_until(Duration::from_secs(30), || !seen2.lock().unwrap().is_empty()));
    assert_eq!(bodies(&seen2), ["fresh".to_string()].into_iter().collect());
    c.shutdown();
    c2.shutdown();
    p.shutdown();
}

/// SHA-1 (FIPS 180-4), for the `check` property interop.py puts on and expects from messages.
fn sha1_hex8(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64) * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t =
                a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(v);
        }
    }
    format!("{:08x}", h[0])
}

/// interop.py's message `i`: body, tags, keys, idx and check properties.
fn interop_body(i: usize, size: usize) -> String {
    const PATTERN: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    let prefix = format!("body-{i}-");
    if size <= prefix.len() {
        return prefix;
    }
    let n = size - prefix.len();
    prefix + &PATTERN.repeat(n / PATTERN.len() + 1)[..n]
}

fn interop_message(topic: &str, i: usize, size: usize) -> Message {
    let body = interop_body(i, size);
    let mut m = Message::new(topic, body.clone());
    m.set_tags(&format!("Tag{}", ["A", "B", "C"][i % 3]));
    m.set_keys(&format!("key-{i}"));
    m.put_property("idx", &i.to_string());
    m.put_property("check", &sha1_hex8(body.as_bytes()));
    m
}

/// Check a message against interop.py's scheme; returns its index.
fn check_interop(m: &MessageExt, size: usize) -> usize {
    let i: usize = m.property("idx").unwrap().parse().unwrap();
    assert_eq!(m.body(), interop_body(i, size).as_bytes(), "body of {i}");
    assert_eq!(m.tags(), Some(format!("Tag{}", ["A", "B", "C"][i % 3]).as_str()));
    assert_eq!(m.keys(), Some(format!("key-{i}").as_str()));
    assert_eq!(m.property("check"), Some(sha1_hex8(m.body()).as_str()));
    i
}

#[test]
fn client_interop_with_cpp_client_both_ways() {
    assert_eq!(sha1_hex8(b"abc"), "a9993e36");
    let dir = TestDir::new("client-interop");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let home = &dir.path;

    // Ours -> C++: small and compressed (6000-byte) bodies, tags, keys, properties.
    let topic = "ClientToCpp";
    let p = producer(&ns, "PG_interop_rs");
    for i in 0..300 {
        let size = if i % 2 == 0 { 100 } else { 6000 };
        p.send(&interop_message(topic, i, size)).unwrap();
    }
    let (code, v) = crate::interop::consume("push", &ns, topic, "CG_cpp_push", 0, 300, home);
    assert_eq!(code, 0, "C++ push consumer: {v}");
    assert_eq!(v["distinct"], 300, "{v}");
    assert_eq!(v["bad_count"], 0, "{v}");
    let (code, v) = crate::interop::consume("pull", &ns, topic, "CG_cpp_pull", 0, 300, home);
    assert_eq!(code, 0, "C++ pull consumer: {v}");
    assert_eq!(v["distinct"], 300, "{v}");
    assert_eq!(v["bad_count"], 0, "{v}");

    // C++ -> ours: 5000-byte bodies, which the C++ client compresses.
    let ctopic = "CppToClient";
    let args: Vec<String> = [
        "produce",
        "--namesrv",
        &ns,
        "--topic",
        ctopic,
        "--group",
        "PG_interop_cpp",
        "--count",
        "200",
        "--start",
        "0",
        "--body-size",
        "5000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, v) = crate::interop::interop(&args, Duration::from_secs(300), home);
    assert_eq!(code, 0, "C++ produce: {v}");
    assert_eq!(v["ok"], 200, "{v}");
    let (c, seen) = concurrent_consumer(push_opts(&ns, "CG_rs_push", "i1"), ctopic, "*");
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 200));
    c.shutdown();
    let msgs = seen.lock().unwrap().clone();
    let idx: BTreeSet<usize> = msgs.iter().map(|m| check_interop(m, 5000)).collect();
    assert_eq!(idx, (0..200).collect::<BTreeSet<_>>());
    assert!(msgs.iter().all(|m| m.sys_flag & 1 == 1), "the C++ client compressed the bodies");
    // Tag filter on the C++ client's tags.
    let (c, seen) = concurrent_consumer(push_opts(&ns, "CG_rs_tag", "i2"), ctopic, "TagB || TagC");
    assert!(crate::util::wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 133));
    std::thread::sleep(Duration::from_millis(300));
    c.shutdown();
    let idx: BTreeSet<usize> =
        seen.lock().unwrap().iter().map(|m| check_interop(m, 5000)).collect();
    assert_eq!(idx, (0..200).filter(|i| i % 3 != 0).collect::<BTreeSet<_>>());
    // And through the pull consumer.
    let pc = pull_consumer(&ns, "CG_rs_pull");
    let got = drain(&pc, ctopic, "*", 200);
    assert_eq!(got.len(), 200);
    let idx: BTreeSet<usize> = got.iter().map(|m| check_interop(m, 5000)).collect();
    assert_eq!(idx.len(), 200);
    pc.shutdown();
    p.shutdown();
}

/// Build the examples once (`cargo build --examples`) and return their directory.
fn examples_dir() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = std::process::Command::new(cargo)
                .args(["build", "--examples"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .unwrap();
            assert!(st.success(), "cargo build --examples failed");
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/examples")
        })
        .clone()
}

fn run_example(name: &str, ns: &str, home: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = std::process::Command::new(examples_dir().join(name))
        .args(args)
        .env("NAMESRV_ADDR", ns)
        .env("HOME", home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn client_examples_run_against_a_broker() {
    let dir = TestDir::new("client-examples");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let lines =
        run_example("producer", &ns, &dir.path, &["--topic", "ExampleTopic", "--count", "12"]);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("sent ") && l.contains("status=Ok")).count(),
        12
    );
    assert_eq!(lines.last().unwrap(), "sent 12 of 12 messages");
    for (ex, group) in [
        ("push_consumer", "EG_push"),
        ("pull_consumer", "EG_pull"),
        ("broadcast_consumer", "EG_bcast"),
    ] {
        let lines = run_example(
            ex,
            &ns,
            &dir.path,
            &["--topic", "ExampleTopic", "--group", group, "--count", "12", "--timeout", "60"],
        );
        let got: BTreeSet<&str> = lines
            .iter()
            .filter(|l| l.starts_with("received topic=ExampleTopic"))
            .filter_map(|l| l.split("body=").nth(1))
            .collect();
        let want: BTreeSet<String> = (0..12).map(|i| format!("Hello RocketMQ {i}")).collect();
        assert_eq!(got, want.iter().map(String::as_str).collect(), "{ex}: {lines:?}");
        assert!(lines.last().unwrap().starts_with("received "), "{ex}");
    }
    let lines = run_example(
        "ordered_producer",
        &ns,
        &dir.path,
        &["--topic", "ExampleOrder", "--count", "8"],
    );
    assert_eq!(lines.last().unwrap(), "sent 8 of 8 messages");
    let lines = run_example(
        "orderly_consumer",
        &ns,
        &dir.path,
        &["--topic", "ExampleOrder", "--group", "EG_order", "--count", "8", "--timeout", "60"],
    );
    let steps: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split("body=").nth(1))
        .filter(|b| b.starts_with("order-1 "))
        .collect();
    assert_eq!(steps, vec!["order-1 step 0", "order-1 step 1"], "{lines:?}");
    assert_eq!(lines.last().unwrap(), "received 8 messages");
}

#[test]
fn client_producer_retries_on_another_broker() {
    use crate::util::{Proc, BROKER_BIN};
    let dir = TestDir::new("client-retry");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let mut broker_b = Proc::start(
        BROKER_BIN,
        &[
            "-n".to_string(),
            ns.clone(),
            "--listenPort=0".to_string(),
            "--bindAddress=127.0.0.1".to_string(),
            "--brokerIP1=127.0.0.1".to_string(),
            format!("--storePathRootDir={}", dir.path.join("store-b").display()),
            "--brokerName=broker-b".to_string(),
        ]
        .into_iter()
        .chain(crate::util::small_store_args())
        .collect::<Vec<_>>(),
        dir.path.join("broker-b.log"),
        1,
    );
    let topic = "ClientRetryTopic";
    let c = rmq::remoting::RemotingClient::new();
    for addr in [cluster.broker_addr(), broker_b.addr("listen")] {
        let req = rmq::protocol::command::RemotingCommand::request(
            rmq::protocol::codes::request::UPDATE_AND_CREATE_TOPIC,
        )
        .with("topic", topic)
        .with("readQueueNums", 2)
        .with("writeQueueNums", 2)
        .with("perm", 6);
        assert_eq!(c.invoke(&addr, req, Duration::from_secs(5)).unwrap().code, 0);
    }
    let mut o = ProducerOptions::new("PG_retry", &ns);
    fast(&mut o.config, "p-retry");
    o.latency_fault_tolerance = true;
    let p = Producer::new(o).unwrap();
    p.start().unwrap();
    assert!(crate::util::wait_until(Duration::from_secs(20), || {
        // Both brokers' registrations reach the name server; routes refresh every 500 ms.
        p.fetch_publish_queues(topic).map(|q| q.len() == 4).unwrap_or(false)
    }));
    // broker-b serves its queues before it dies.
    let qs = p.fetch_publish_queues(topic).unwrap();
    let on_b = qs.iter().find(|q| q.broker_name == "broker-b").unwrap();
    let r = p.send_to_queue(&Message::new(topic, "before"), on_b).unwrap();
    assert_eq!(r.queue.broker_name, "broker-b");
    // broker-b dies; the name server still lists it, so sends fail over to broker-a.
    broker_b.kill9();
    for i in 0..30 {
        let r = p.send(&Message::new(topic, format!("y-{i}"))).unwrap();
        assert_eq!(r.status, SendStatus::Ok);
        assert_eq!(r.queue.broker_name, "broker-a");
    }
    let pc = pull_consumer(&ns, "CG_retry");
    let qs: Vec<MessageQueue> = pc
        .fetch_queues(topic)
        .unwrap()
        .into_iter()
        .filter(|q| q.broker_name == "broker-a")
        .collect();
    // The store dispatches to consume queues just after the send returns: poll.
    let mut ys = 0;
    crate::util::wait_until(Duration::from_secs(10), || {
        ys = 0;
        for q in &qs {
            let r = pc.pull(q, "*", 0, 64, Duration::from_secs(5)).unwrap();
            ys += r.messages.iter().filter(|m| m.body().starts_with(b"y-")).count();
        }
        ys >= 30
    });
    assert_eq!(ys, 30);
    pc.shutdown();
    p.shutdown();
}
