//! The Rust client (issue 5) against real rmq-broker processes: every producer and consumer mode,
//! rebalance, name-server failover, interop with Apache's C++ client, the examples.

use crate::util::{Cluster, TestDir};
use rmq::client::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Short client timers so tests stay fast.
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
            assert_eq!(m.tags(), Some(if i % 2 == 0 { "even" } else { "odd" }));
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
