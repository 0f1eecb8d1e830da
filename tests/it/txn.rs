//! Transactional messages end to end: half messages, END_TRANSACTION, the broker's check-back,
//! a broker restart between half and check, Apache's C++ client (Python `rocketmq` 0.4.4) as
//! transaction producer, and the C ABI through the Python binding.

use crate::util::{wait_until, Cluster, TestDir};
use rmq::client::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Broker flags: check every 300 ms, halves older than 1 s are checked.
const FAST_CHECK: [&str; 2] = ["--transactionCheckInterval=300", "--transactionTimeOut=1000"];

fn fast(cfg: &mut ClientConfig, name: &str) {
    cfg.instance_name = name.to_string();
    cfg.client_ip = "127.0.0.1".into();
    cfg.poll_namesrv_interval = Duration::from_millis(500);
    cfg.heartbeat_interval = Duration::from_millis(300);
}

pub fn create_topic(broker: &str, ns: &str, topic: &str, queues: i32) {
    let c = rmq::remoting::RemotingClient::new();
    let req = rmq::protocol::command::RemotingCommand::request(
        rmq::protocol::codes::request::UPDATE_AND_CREATE_TOPIC,
    )
    .with("topic", topic)
    .with("readQueueNums", queues)
    .with("writeQueueNums", queues)
    .with("perm", 6);
    let r = c.invoke(broker, req, Duration::from_secs(5)).unwrap();
    assert_eq!(r.code, 0, "create topic: {:?}", r.remark);
    assert!(wait_until(Duration::from_secs(20), || {
        let req = rmq::protocol::command::RemotingCommand::request(
            rmq::protocol::codes::request::GET_ROUTEINFO_BY_TOPIC,
        )
        .with("topic", topic);
        c.invoke(ns, req, Duration::from_secs(5)).map(|r| r.code == 0).unwrap_or(false)
    }));
}

/// Everything in `topic` (every queue from offset 0), after `want` arrived or `wait` passed.
pub fn pull_everything(
    ns: &str,
    group: &str,
    topic: &str,
    want: usize,
    wait: Duration,
) -> Vec<MessageExt> {
    let mut o = PullConsumerOptions::new(group, ns);
    fast(&mut o.config, &format!("pc-{group}"));
    let c = PullConsumer::new(o).unwrap();
    c.start().unwrap();
    let qs = c.fetch_queues(topic).unwrap();
    let mut next: BTreeMap<i32, i64> = qs.iter().map(|q| (q.queue_id, 0)).collect();
    let mut out = Vec::new();
    let end = Instant::now() + wait;
    loop {
        let mut any = false;
        for q in &qs {
            let r = c.pull(q, "*", next[&q.queue_id], 32, Duration::from_secs(5)).unwrap();
            next.insert(q.queue_id, r.next_begin_offset);
            any |= !r.messages.is_empty();
            out.extend(r.messages);
        }
        if !any {
            if out.len() >= want || Instant::now() >= end {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    c.shutdown();
    out
}

fn bodies(msgs: &[MessageExt]) -> BTreeSet<String> {
    msgs.iter().map(|m| String::from_utf8_lossy(m.body()).into_owned()).collect()
}

/// Decides by body prefix; records every check.
struct ByBody {
    checks: Mutex<Vec<String>>,
}

impl TransactionListener for ByBody {
    fn execute_local(&self, msg: &Message) -> LocalTxState {
        let b = String::from_utf8_lossy(msg.body()).into_owned();
        if b.starts_with("commit") {
            LocalTxState::Commit
        } else if b.starts_with("rollback") {
            LocalTxState::Rollback
        } else {
            LocalTxState::Unknown
        }
    }
    fn check_local(&self, msg: &MessageExt) -> LocalTxState {
        let b = String::from_utf8_lossy(msg.body()).into_owned();
        self.checks.lock().unwrap().push(b.clone());
        if b.starts_with("unknown-c") || b.starts_with("pending") {
            LocalTxState::Commit
        } else if b.starts_with("unknown-r") {
            LocalTxState::Rollback
        } else {
            LocalTxState::Unknown
        }
    }
}

/// The check service's half-queue progress (QUERY_CONSUMER_OFFSET of CID_RMQ_SYS_TRANS).
fn trans_offset(addr: &str) -> Option<i64> {
    use rmq::protocol::codes::{request as rq, response as rs};
    let c = rmq::remoting::RemotingClient::new();
    let req = rmq::protocol::command::RemotingCommand::request(rq::QUERY_CONSUMER_OFFSET)
        .with("consumerGroup", "CID_RMQ_SYS_TRANS")
        .with("topic", "RMQ_SYS_TRANS_HALF_TOPIC")
        .with("queueId", 0);
    let r = c.invoke(addr, req, Duration::from_secs(5)).ok()?;
    (r.code == rs::SUCCESS).then(|| r.i64_field("offset").ok()).flatten()
}

fn tx_producer(ns: &str, group: &str, name: &str, l: Arc<ByBody>) -> TransactionProducer {
    let mut o = ProducerOptions::new(group, ns);
    fast(&mut o.config, name);
    let p = TransactionProducer::new(o, l).unwrap();
    p.start().unwrap();
    p
}

/// Commit is consumable, rollback never is, unknown is settled by the check-back; the halves
/// never reach consumers; committed copies carry the commit sysflag and no half properties.
#[test]
fn txn_commit_rollback_and_check() {
    let dir = TestDir::new("txn-basic");
    let cluster = Cluster::start(&dir.path, &FAST_CHECK);
    let ns = cluster.namesrv_addr();
    let topic = "TxTopic";
    create_topic(&cluster.broker_addr(), &ns, topic, 2);
    let l = Arc::new(ByBody { checks: Mutex::new(Vec::new()) });
    let p = tx_producer(&ns, "PG_tx", "tx-basic", l.clone());
    let mut ids = BTreeMap::new();
    for name in ["commit-0", "commit-1", "commit-2", "rollback-0", "rollback-1", "unknown-c-0"]
        .into_iter()
        .chain(["unknown-c-1", "unknown-r-0", "unknown-r-1"])
    {
        let mut m = Message::new(topic, name);
        m.set_tags("T");
        let r = p.send_in_transaction(&m).unwrap();
        assert_eq!(r.status, SendStatus::Ok);
        assert_eq!(r.queue.topic, topic);
        assert_eq!(r.transaction_id.as_deref(), Some(r.msg_id.as_str()));
        ids.insert(name.to_string(), r.msg_id);
    }
    // Before any check (1 s timeout) only the commits are visible.
    let early = pull_everything(&ns, "CG_tx_early", topic, 3, Duration::from_secs(10));
    let early_bodies = bodies(&early);
    for b in &early_bodies {
        assert!(b.starts_with("commit") || b.starts_with("unknown-c"), "{b} consumable");
    }
    assert!(early_bodies.contains("commit-0") && early_bodies.contains("commit-2"));
    // Every unknown is checked and its answer applied.
    assert!(wait_until(Duration::from_secs(20), || {
        let c: BTreeSet<String> = l.checks.lock().unwrap().iter().cloned().collect();
        ["unknown-c-0", "unknown-c-1", "unknown-r-0", "unknown-r-1"].iter().all(|b| c.contains(*b))
    }));
    let want: BTreeSet<String> = ["commit-0", "commit-1", "commit-2", "unknown-c-0", "unknown-c-1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let got = pull_everything(&ns, "CG_tx_all", topic, 5, Duration::from_secs(15));
    // Let a late (wrong) commit of a rollback show up if there were one.
    std::thread::sleep(Duration::from_millis(1000));
    let got2 = pull_everything(&ns, "CG_tx_all2", topic, 5, Duration::from_secs(15));
    assert_eq!(bodies(&got), want);
    assert_eq!(got2.len(), 5, "each committed message exactly once: {:?}", bodies(&got2));
    assert_eq!(bodies(&got2), want);
    for m in &got2 {
        let b = String::from_utf8_lossy(m.body()).into_owned();
        assert_eq!(m.msg_id, ids[&b], "the committed copy keeps the producer's id");
        assert_eq!(m.sys_flag & 0xC, 0x8, "TRANSACTION_COMMIT_TYPE");
        assert_eq!(m.tags(), Some("T"));
        assert_eq!(m.property("TRAN_MSG"), None);
        assert_eq!(m.property("REAL_TOPIC"), None);
        assert_eq!(m.property("PGROUP"), Some("PG_tx"));
    }
    // Commits and rollbacks ended by the producer are never checked.
    let checks = l.checks.lock().unwrap().clone();
    assert!(checks.iter().all(|b| b.starts_with("unknown")), "checked: {checks:?}");
    p.shutdown();
}

/// A broker restart between the half and its check keeps the transaction checkable, and the
/// transactions finished before the restart are neither checked nor delivered again.
#[test]
fn txn_pending_survives_broker_restart() {
    let dir = TestDir::new("txn-restart");
    let mut flags = FAST_CHECK.to_vec();
    flags.push("--transactionCheckMax=100");
    let mut cluster = Cluster::start(&dir.path, &flags);
    let ns = cluster.namesrv_addr();
    let topic = "TxRestartTopic";
    create_topic(&cluster.broker_addr(), &ns, topic, 1);
    let l1 = Arc::new(ByBody { checks: Mutex::new(Vec::new()) });
    let p1 = tx_producer(&ns, "PG_txr", "tx-restart-1", l1.clone());
    for b in ["commit-before", "rollback-before", "pending-0"] {
        p1.send_in_transaction(&Message::new(topic, b)).unwrap();
    }
    // The producer goes away before any check could reach it.
    p1.shutdown();
    // The check service passed the two finished halves and stopped at the pending one: its
    // progress is a consumer offset of Apache's system group.
    let addr = cluster.broker_addr();
    assert!(wait_until(Duration::from_secs(10), || trans_offset(&addr) == Some(2)));
    cluster.broker.stop();
    let offsets =
        std::fs::read_to_string(dir.path.join("store/config/consumerOffset.json")).unwrap();
    assert!(offsets.contains("RMQ_SYS_TRANS_HALF_TOPIC@CID_RMQ_SYS_TRANS"), "{offsets}");
    cluster.restart_broker();
    let ns = cluster.namesrv_addr();
    let l2 = Arc::new(ByBody { checks: Mutex::new(Vec::new()) });
    let p2 = tx_producer(&ns, "PG_txr", "tx-restart-2", l2.clone());
    // A plain send makes the producer know (and heartbeat) the restarted broker.
    assert!(wait_until(Duration::from_secs(20), || p2
        .producer()
        .send(&Message::new(topic, "plain-after"))
        .is_ok()));
    assert!(wait_until(Duration::from_secs(20), || l2
        .checks
        .lock()
        .unwrap()
        .contains(&"pending-0".to_string())));
    let want: BTreeSet<String> =
        ["commit-before", "pending-0", "plain-after"].iter().map(|s| s.to_string()).collect();
    let got = pull_everything(&ns, "CG_txr", topic, 3, Duration::from_secs(15));
    std::thread::sleep(Duration::from_millis(1000));
    let got2 = pull_everything(&ns, "CG_txr2", topic, 3, Duration::from_secs(15));
    assert_eq!(bodies(&got), want);
    assert_eq!(got2.len(), 3, "{:?}", bodies(&got2));
    let checks = l2.checks.lock().unwrap().clone();
    assert!(checks.iter().all(|b| b == "pending-0"), "checked after restart: {checks:?}");
    assert!(wait_until(Duration::from_secs(10), || trans_offset(&cluster.broker_addr())
        .is_some_and(|o| o > 2)));
    assert!(l1.checks.lock().unwrap().is_empty());
    p2.shutdown();
}

/// The C ABI through the Python binding: rmq.TransactionProducer commits, rolls back and answers
/// checks on librmq's checker thread; a binding pull consumer sees exactly the committed messages.
#[test]
fn txn_python_binding_over_c_abi() {
    let dir = TestDir::new("txn-py");
    let cluster = Cluster::start(&dir.path, &FAST_CHECK);
    let ns = cluster.namesrv_addr();
    let topic = "TxPyTopic";
    create_topic(&cluster.broker_addr(), &ns, topic, 2);
    let script = std::path::Path::new(crate::ffi::ROOT).join("tests/python/txn_binding.py");
    let out = crate::ffi::run(
        std::process::Command::new(crate::ffi::python::python())
            .arg(script)
            .args([&ns, topic])
            .current_dir(&dir.path)
            .env("RMQ_LIB", crate::ffi::lib_path())
            .env("PYTHONUNBUFFERED", "1"),
        Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rfind(|l| l.trim_start().starts_with('{')).unwrap_or("{}");
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or(serde_json::Value::Null);
    assert!(
        out.status.success() && v["ok"] == true,
        "txn_binding.py failed: {v}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["consumed"], serde_json::json!(["commit-0", "unknown-c-0"]));
    assert_eq!(v["states"]["rollback-0"], "ROLLBACK");
}

/// The C++ wrapper (bindings/cpp/rmq.hpp) over the C ABI: examples/cpp/transaction_producer.cpp
/// commits one message, rolls one back and leaves one to the check, which commits it.
#[test]
fn txn_cpp_wrapper_example() {
    let dir = TestDir::new("txn-cpp");
    let cluster = Cluster::start(&dir.path, &FAST_CHECK);
    let ns = cluster.namesrv_addr();
    let topic = "TxCppTopic";
    create_topic(&cluster.broker_addr(), &ns, topic, 2);
    let bin = crate::ffi::compile(
        &["examples/cpp/transaction_producer.cpp"],
        &dir.path,
        "transaction_producer",
        "c++17",
        &[],
    );
    let out = crate::ffi::run_ok(
        std::process::Command::new(&bin).args([&ns, topic]),
        Duration::from_secs(60),
    );
    for line in ["sent commit-0 0 ", "sent rollback-0 1 ", "sent unknown-0 2 ", "checked unknown-0"]
    {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert!(!out.contains("checked commit-0") && !out.contains("checked rollback-0"), "{out}");
    let got = pull_everything(&ns, "CG_txcpp", topic, 2, Duration::from_secs(15));
    std::thread::sleep(Duration::from_millis(500));
    let got2 = pull_everything(&ns, "CG_txcpp2", topic, 2, Duration::from_secs(15));
    let want: BTreeSet<String> = ["commit-0", "unknown-0"].iter().map(|s| s.to_string()).collect();
    assert_eq!(bodies(&got), want);
    assert_eq!(got2.len(), 2, "{:?}", bodies(&got2));
}

/// The wire format as Apache's Java client sees it, with raw frames: a SEND_MESSAGE_V2 half
/// (sysFlag TRANSACTION_PREPARED_TYPE, TRAN_MSG, PGROUP) is answered with the half's queue offset
/// and invisible to pulls; the broker's one-way CHECK_TRANSACTION_STATE carries Apache's header
/// fields and the message with its real topic and queue; END_TRANSACTION validates group and
/// offsets, and a commit makes the message pullable.
#[test]
fn txn_wire_format_half_check_and_end() {
    use rmq::protocol::codes::{request as rq, response as rs};
    use rmq::protocol::command::RemotingCommand;
    let dir = TestDir::new("txn-wire");
    let cluster = Cluster::start(&dir.path, &FAST_CHECK);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let topic = "TxWireTopic";
    create_topic(&addr, &ns, topic, 2);
    let c = rmq::remoting::RemotingClient::new();
    let (tx, rx) = std::sync::mpsc::channel::<RemotingCommand>();
    let tx = Mutex::new(tx);
    c.set_request_handler(Arc::new(move |_conn, req| {
        let _ = tx.lock().unwrap().send(req);
        None
    }));
    crate::proto::heartbeat_as(
        &c,
        &addr,
        "127.0.0.1@wire",
        "CG_wire",
        topic,
        Some("PG_wire"),
        Some("JAVA"),
    );
    let uniq = "7F0000010B1A18B4AAC2000000000001";
    let props = format!("TRAN_MSG\u{1}true\u{2}PGROUP\u{1}PG_wire\u{2}UNIQ_KEY\u{1}{uniq}\u{2}TAGS\u{1}tw\u{2}WAIT\u{1}true\u{2}");
    let send = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_wire")
        .with("b", topic)
        .with("c", "TBW102")
        .with("d", 4)
        .with("e", 1)
        .with("f", 4)
        .with("g", rmq::common::time::now_millis())
        .with("h", 0)
        .with("i", props)
        .with("j", 0)
        .with("k", false)
        .with_body(b"wire-body".to_vec());
    let r = c.invoke(&addr, send, crate::proto::T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(r.i32_field("queueId").unwrap(), 1);
    assert_eq!(r.i64_field("queueOffset").unwrap(), 0, "offset in the half queue");
    let half_id = r.field("msgId").unwrap().to_string();
    let (_, half_phys) = rmq::protocol::record::decode_offset_msg_id(&half_id).unwrap();
    assert!(crate::proto::read_queue(&c, &addr, topic, 1).is_empty(), "the half is invisible");
    assert!(wait_until(Duration::from_secs(10), || {
        crate::proto::read_queue(&c, &addr, "RMQ_SYS_TRANS_HALF_TOPIC", 0).first()
            == Some(&(0, "wire-body".to_string()))
    }));
    assert!(crate::proto::read_queue(&c, &addr, topic, 1).is_empty(), "the half is invisible");
    // No END_TRANSACTION: after transactionTimeOut the broker asks this connection.
    let end_at = Instant::now() + Duration::from_secs(15);
    let check = loop {
        let left = end_at.saturating_duration_since(Instant::now());
        let cmd = rx.recv_timeout(left).expect("no CHECK_TRANSACTION_STATE");
        // The heartbeat's consumer group also gets NOTIFY_CONSUMER_IDS_CHANGED.
        if cmd.code == rq::CHECK_TRANSACTION_STATE {
            break cmd;
        }
    };
    assert!(check.is_oneway());
    assert_eq!(check.field("msgId"), Some(uniq));
    assert_eq!(check.field("transactionId"), Some(uniq));
    let table_offset = check.i64_field("tranStateTableOffset").unwrap();
    let log_offset = check.i64_field("commitLogOffset").unwrap();
    assert_eq!(table_offset, 1, "the check is about the half's re-put copy");
    assert_ne!(log_offset, half_phys);
    let offset_id = check.field("offsetMsgId").unwrap().to_string();
    assert_eq!(rmq::protocol::record::decode_offset_msg_id(&offset_id).unwrap().1, log_offset);
    let (rec, _) = rmq::protocol::record::decode_record(&check.body, false).unwrap();
    assert_eq!(
        (rec.topic.as_str(), rec.queue_id, rec.body.as_slice()),
        (topic, 1, &b"wire-body"[..])
    );
    assert_eq!((rec.queue_offset, rec.physical_offset), (table_offset, log_offset));
    let p = rmq::protocol::record::parse_properties(&rec.properties);
    assert!(p.contains(&("PGROUP".into(), "PG_wire".into())));
    assert!(p.contains(&("TRANSACTION_CHECK_TIMES".into(), "1".into())));
    // END_TRANSACTION (two-way here, to see the answers).
    let end = |group: &str, table: i64, log: i64, what: i32| {
        let req = RemotingCommand::request(rq::END_TRANSACTION)
            .with("producerGroup", group)
            .with("tranStateTableOffset", table)
            .with("commitLogOffset", log)
            .with("commitOrRollback", what)
            .with("fromTransactionCheck", true)
            .with("msgId", uniq)
            .with("transactionId", uniq);
        c.invoke(&addr, req, crate::proto::T).unwrap()
    };
    let r = end("PG_other", table_offset, log_offset, 8);
    assert_eq!((r.code, r.remark.as_deref()), (rs::SYSTEM_ERROR, Some("The producer group wrong")));
    let r = end("PG_wire", table_offset + 1, log_offset, 8);
    assert_eq!(r.remark.as_deref(), Some("The transaction state table offset wrong"));
    let r = end("PG_wire", table_offset, log_offset + 1, 8);
    assert_eq!(r.remark.as_deref(), Some("Find prepared transaction message failed"));
    assert!(crate::proto::read_queue(&c, &addr, topic, 1).is_empty());
    let r = end("PG_wire", table_offset, log_offset, 8);
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert!(wait_until(Duration::from_secs(10), || {
        crate::proto::read_queue(&c, &addr, topic, 1) == vec![(0, "wire-body".to_string())]
    }));
    // The op record names the copy's half-queue offset.
    assert!(wait_until(Duration::from_secs(10), || {
        crate::proto::read_queue(&c, &addr, "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0)
            == vec![(0, table_offset.to_string())]
    }));
}
