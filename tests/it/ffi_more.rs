//! Options of the C ABI and the bindings that were only checked for argument validation
//! (issue 6), now checked by what the broker stores and delivers: compress threshold (the stored
//! record is flagged compressed and the Rust consumer reads the body intact), max message size,
//! broadcasting, consume from first offset / timestamp, max batch size, max reconsume times; the
//! C++ wrapper's send_with_selector / send_to_queue / send_batch.

use crate::ffi::{compile, run_ok};
use crate::util::{Cluster, TestDir};
use rmq::client::{ConsumeFrom, PullConsumer, PullConsumerOptions};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::{decode_record, sysflag, MessageRecord};
use rmq::remoting::RemotingClient;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

/// Every stored record of one queue from offset 0 (raw PULL_MESSAGE, bodies as stored).
fn records(addr: &str, topic: &str, queue: i32) -> Vec<MessageRecord> {
    let c = RemotingClient::new();
    let mut out = Vec::new();
    let mut off = 0i64;
    loop {
        let req = RemotingCommand::request(rq::PULL_MESSAGE)
            .with("consumerGroup", "CG_ffi_more_raw")
            .with("topic", topic)
            .with("queueId", queue)
            .with("queueOffset", off)
            .with("maxMsgNums", 32)
            .with("sysFlag", pull_flag::SUBSCRIPTION)
            .with("commitOffset", 0)
            .with("suspendTimeoutMillis", 0)
            .with("subscription", "*")
            .with("subVersion", 0);
        let r = c.invoke(addr, req, T).unwrap();
        if r.code != rs::SUCCESS {
            return out;
        }
        let mut b = &r.body[..];
        while !b.is_empty() {
            let (rec, n) = decode_record(b, true).expect("a damaged record");
            out.push(rec);
            b = &b[n..];
        }
        off = r.i64_field("nextBeginOffset").unwrap();
    }
}

fn max_offset(addr: &str, topic: &str, queue: i32) -> i64 {
    let req =
        RemotingCommand::request(rq::GET_MAX_OFFSET).with("topic", topic).with("queueId", queue);
    RemotingClient::new().invoke(addr, req, T).unwrap().i64_field("offset").unwrap_or(-1)
}

/// Wait until the broker has dispatched `n` messages of `topic` into its 4 queues (sends are
/// answered before the dispatch thread indexes them).
fn wait_stored(addr: &str, topic: &str, n: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let total = || (0..4).map(|q| max_offset(addr, topic, q).max(0)).sum::<i64>();
    while total() < n && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The body tests/c/options.c sends over its compress threshold.
fn big_body() -> Vec<u8> {
    (0..20000usize).map(|i| b'a' + ((i * 7 + i / 100) % 26) as u8).collect()
}

/// The one message of `topic`, read raw (must be stored compressed) and through the Rust pull
/// consumer (must come out as `want`).
fn check_compressed(ns: &str, addr: &str, topic: &str, want: &[u8]) {
    wait_stored(addr, topic, 1);
    let recs: Vec<MessageRecord> = (0..4).flat_map(|q| records(addr, topic, q)).collect();
    assert_eq!(recs.len(), 1, "{topic}: one message stored");
    assert_ne!(recs[0].sys_flag & sysflag::COMPRESSED, 0, "{topic}: stored uncompressed");
    assert!(recs[0].body.len() < want.len() / 2, "{topic}: stored body not compressed");
    let mut o = PullConsumerOptions::new("CG_ffi_more_pull", ns);
    o.config.instance_name = format!("pc-{topic}");
    o.config.client_ip = "127.0.0.1".into();
    o.consume_from = ConsumeFrom::FirstOffset;
    let c = PullConsumer::new(o).unwrap();
    c.start().unwrap();
    let mut got = Vec::new();
    for q in c.fetch_queues(topic).unwrap() {
        let r = c.pull(&q, "*", 0, 32, T).unwrap();
        got.extend(r.messages);
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body(), want, "{topic}: body changed on the way");
    c.shutdown();
}

#[test]
fn c_abi_producer_and_push_consumer_options_take_effect() {
    let dir = TestDir::new("ffi-more-c");
    // A new group's start is the client's choice only once offset 0 is "on disk" (Apache 4.9).
    let cluster = Cluster::start(&dir.path, &["--accessMessageInMemoryMaxRatio=0"]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let bin = compile(&["tests/c/options.c"], &dir.path, "options", "c11", &[]);
    // HOME: broadcasting consumers keep their offsets in $HOME/.rocketmq_offsets.
    let out = run_ok(
        Command::new(&bin).args([&ns, "COptTopic"]).env("HOME", &dir.path),
        Duration::from_secs(90),
    );
    assert!(out.contains(" passed, 0 failed") && out.contains("big 20000"), "{out}");
    check_compressed(&ns, &addr, "COptTopic_big", &big_body());
    // max reconsume times 0: the failed message went straight to the group's DLQ.
    assert_eq!(max_offset(&addr, "%DLQ%CG_c_dlq", 0), 1);
    assert_eq!(max_offset(&addr, "%RETRY%CG_c_dlq", 0), 0, "it must not be retried");
}

#[test]
fn cpp_wrapper_selector_queue_and_batch_land_where_reported() {
    let dir = TestDir::new("ffi-more-cpp");
    let cluster = Cluster::start(&dir.path, &[]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let bin = compile(&["tests/cpp/send_modes.cpp"], &dir.path, "send_modes", "c++17", &[]);
    let out = run_ok(Command::new(&bin).args([&ns, "CppModes"]), Duration::from_secs(60));
    assert!(out.contains(" passed, 0 failed"), "{out}");
    let sent: Vec<(i32, i64, String)> = crate::ffi::received(
        &out.lines()
            .filter_map(|l| l.strip_prefix("sent "))
            .map(|l| format!("received {l}\n"))
            .collect::<String>(),
    );
    assert_eq!(sent.len(), 8 + 3 + 5, "{out}");
    // Selector picks i % 4, send_to_queue the 4th queue, the batch one queue.
    for (i, s) in sent[..8].iter().enumerate() {
        assert_eq!(s.0, i as i32 % 4, "sel-{i}");
    }
    assert!(sent[8..11].iter().all(|s| s.0 == 3));
    assert!(sent[11..].iter().all(|s| s.0 == sent[11].0));
    wait_stored(&addr, "CppModes", 16);
    let stored: Vec<Vec<MessageRecord>> = (0..4).map(|q| records(&addr, "CppModes", q)).collect();
    assert_eq!(stored.iter().map(Vec::len).sum::<usize>(), 16, "exactly what was sent is stored");
    for (q, off, body) in &sent {
        let rec = stored[*q as usize]
            .iter()
            .find(|r| r.queue_offset == *off)
            .unwrap_or_else(|| panic!("nothing at queue {q} offset {off}"));
        assert_eq!(rec.body, body.as_bytes(), "queue {q} offset {off}");
    }
}

#[test]
fn python_binding_producer_and_push_consumer_options_take_effect() {
    let dir = TestDir::new("ffi-more-py");
    let cluster = Cluster::start(&dir.path, &["--accessMessageInMemoryMaxRatio=0"]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let out = run_ok(
        crate::ffi::python::py_cmd("tests/python/options_e2e.py")
            .args([&ns, "PyOptTopic"])
            .env("HOME", &dir.path),
        Duration::from_secs(90),
    );
    let v = crate::ffi::python::last_json(&out);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["too_large"], "RMQ_STATUS_MESSAGE_TOO_LARGE");
    check_compressed(&ns, &addr, "PyOptTopic_big", &big_body());
    assert_eq!(max_offset(&addr, "%DLQ%PYG_dlq", 0), 1);
    assert_eq!(max_offset(&addr, "%RETRY%PYG_dlq", 0), 0, "it must not be retried");
}
