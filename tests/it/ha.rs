//! Master/slave replication (issue 11) with real rmq-namesrv and rmq-broker processes on
//! loopback: ASYNC_MASTER + SLAVE byte-identical logs and queues, SYNC_MASTER answers (SEND_OK,
//! SLAVE_NOT_AVAILABLE without a slave, FLUSH_SLAVE_TIMEOUT with a frozen one), nothing
//! acknowledged lost when a SYNC_MASTER is killed with SIGKILL, puts refused on a slave, a late
//! slave catching up through the name server, the slave's copy of the master's tables, and Apache's
//! C++ client sending to a SYNC_MASTER killed with SIGKILL five times (every SEND_OK on the slave).

use crate::util::{small_store_args, wait_until, Proc, TestDir, BROKER_BIN, NAMESRV_BIN};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::{decode_record, MessageRecord};
use rmq::remoting::RemotingClient;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(5);
/// 1 MiB commit-log files, so a few thousand messages span several files.
const SEGMENT: &str = "--mappedFileSizeCommitLog=1048576";
const QUEUES: i32 = 4;

/// (queue id, queue offset) → body.
type Messages = BTreeMap<(i32, i64), Vec<u8>>;

fn namesrv(dir: &Path) -> Proc {
    let args = vec![
        "--listenPort=0".to_string(),
        "--bindAddress=127.0.0.1".to_string(),
        format!("--kvConfigPath={}", dir.join("kv.json").display()),
    ];
    Proc::start(NAMESRV_BIN, &args, dir.join("namesrv.log"), 1)
}

/// Broker arguments for `store` under `dir`, registered with `ns`.
fn broker_args(dir: &Path, ns: &str, store: &str, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "-n".to_string(),
        ns.to_string(),
        "--listenPort=0".to_string(),
        "--bindAddress=127.0.0.1".to_string(),
        "--brokerIP1=127.0.0.1".to_string(),
        format!("--storePathRootDir={}", dir.join(store).display()),
        "--brokerName=broker-a".to_string(),
        "--slaveSyncInterval=300".to_string(),
    ];
    a.extend(small_store_args());
    a.push(SEGMENT.to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn start(dir: &Path, args: &[String], log: &str) -> Proc {
    Proc::start(BROKER_BIN, args, dir.join(log), 1)
}

fn call(c: &RemotingClient, addr: &str, req: RemotingCommand) -> RemotingCommand {
    c.invoke(addr, req, T).unwrap_or_else(|e| panic!("{addr}: {e}"))
}

fn create_topic(c: &RemotingClient, addr: &str, topic: &str) {
    let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
        .with("topic", topic)
        .with("defaultTopic", "TBW102")
        .with("readQueueNums", QUEUES)
        .with("writeQueueNums", QUEUES)
        .with("perm", 6)
        .with("topicFilterType", "SINGLE_TAG");
    assert_eq!(call(c, addr, req).code, rs::SUCCESS);
}

fn send_req(topic: &str, queue: i32, body: &[u8]) -> RemotingCommand {
    RemotingCommand::request(rq::SEND_MESSAGE)
        .with("producerGroup", "PG_ha")
        .with("topic", topic)
        .with("defaultTopic", "TBW102")
        .with("defaultTopicQueueNums", QUEUES)
        .with("queueId", queue)
        .with("sysFlag", 0)
        .with("bornTimestamp", 0)
        .with("flag", 0)
        .with("properties", "")
        .with_body(body.to_vec())
}

/// The broker's commit-log max offset (GET_BROKER_RUNTIME_INFO).
fn commit_log_max(c: &RemotingClient, addr: &str) -> i64 {
    let r = call(c, addr, RemotingCommand::request(rq::GET_BROKER_RUNTIME_INFO));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["table"]["commitLogMaxOffset"].as_str().unwrap().parse().unwrap()
}

/// Every message of one queue from offset 0, as (queue offset, body).
fn read_queue(c: &RemotingClient, addr: &str, topic: &str, queue: i32) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut offset = 0i64;
    loop {
        let req = RemotingCommand::request(rq::PULL_MESSAGE)
            .with("consumerGroup", "CG_ha_check")
            .with("topic", topic)
            .with("queueId", queue)
            .with("queueOffset", offset)
            .with("maxMsgNums", 32)
            .with("sysFlag", pull_flag::SUBSCRIPTION)
            .with("commitOffset", 0)
            .with("suspendTimeoutMillis", 0)
            .with("subscription", "*")
            .with("subVersion", 0);
        let r = call(c, addr, req);
        if r.code != rs::SUCCESS {
            // A slave knows a topic once it copied its master's topic configs.
            assert!(
                matches!(r.code, rs::PULL_NOT_FOUND | rs::PULL_RETRY_IMMEDIATELY)
                    || (r.code == rs::TOPIC_NOT_EXIST && out.is_empty()),
                "pull {addr} {topic}/{queue}@{offset}: {} {:?}",
                r.code,
                r.remark
            );
            return out;
        }
        let mut body = &r.body[..];
        while !body.is_empty() {
            let (rec, n): (MessageRecord, usize) = decode_record(body, true).unwrap();
            out.push((rec.queue_offset, rec.body));
            body = &body[n..];
        }
        offset = r.i64_field("nextBeginOffset").unwrap();
    }
}

/// The commit log's first `len` bytes, read from its files.
fn commit_log_bytes(store: &Path, len: u64) -> Vec<u8> {
    let dir = store.join("commitlog");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let start: u64 = f.file_name().unwrap().to_str().unwrap().parse().unwrap();
        assert_eq!(start, out.len() as u64, "commit-log files of {} not contiguous", dir.display());
        out.extend(std::fs::read(&f).unwrap());
        if out.len() as u64 >= len {
            break;
        }
    }
    assert!(out.len() as u64 >= len, "{} holds {} bytes, want {len}", dir.display(), out.len());
    out.truncate(len as usize);
    out
}

/// Send `n` messages from 4 threads (queue = i % QUEUES); every one must get SEND_OK.
fn send_many(addr: &str, topic: &str, from: usize, n: usize) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (addr, topic) = (addr.to_string(), topic.to_string());
            std::thread::spawn(move || {
                let c = RemotingClient::new();
                for i in (from + t..from + n).step_by(4) {
                    let body = format!("ha-{i:08}-{}", "x".repeat(i % 200));
                    let r = call(
                        &c,
                        &addr,
                        send_req(&topic, (i % QUEUES as usize) as i32, body.as_bytes()),
                    );
                    assert_eq!(r.code, rs::SUCCESS, "message {i}: {:?}", r.remark);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Master and slave hold the same log and the same queues.
fn assert_replica_identical(
    c: &RemotingClient,
    dir: &Path,
    master: &str,
    slave: &str,
    topic: &str,
) {
    let max = commit_log_max(c, master);
    let m = commit_log_bytes(&dir.join("master"), max as u64);
    let s = commit_log_bytes(&dir.join("slave"), max as u64);
    if let Some(i) = m.iter().zip(&s).position(|(a, b)| a != b) {
        panic!("commit logs differ at byte {i} of {max}");
    }
    for q in 0..QUEUES {
        let (mq, sq) = (read_queue(c, master, topic, q), read_queue(c, slave, topic, q));
        assert!(!mq.is_empty());
        assert_eq!(
            mq.len(),
            sq.len(),
            "queue {q}: master {} messages, slave {}",
            mq.len(),
            sq.len()
        );
        assert!(mq == sq, "queue {q} differs between master and slave");
    }
}

#[test]
fn ha_async_master_and_slave_hold_identical_logs_queues_and_offsets() {
    let dir = TestDir::new("ha-async");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let master = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "master", &["--brokerRole=ASYNC_MASTER"]),
        "master.log",
    );
    let (ma, ha) = (master.addr("listen"), master.addr("ha"));
    let slave_args = broker_args(
        &dir.path,
        &nsa,
        "slave",
        &["--brokerRole=SLAVE", "--brokerId=1", &format!("--haMasterAddress={ha}")],
    );
    let slave = start(&dir.path, &slave_args, "slave.log");
    let sa = slave.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaAsync";
    create_topic(&c, &ma, topic);
    // A burst of 50,000 messages (the figure).
    let n = 50_000;
    let t0 = Instant::now();
    send_many(&ma, topic, 0, n);
    let sent = t0.elapsed();
    let max = commit_log_max(&c, &ma);
    assert!(max > 3 * 1048576, "{n} messages should span several 1 MiB files, max {max}");
    assert!(
        wait_until(Duration::from_secs(20), || commit_log_max(&c, &sa) == max),
        "slave at {} of {max}",
        commit_log_max(&c, &sa)
    );
    println!(
        "ASYNC_MASTER: {n} messages in {} ms; the slave had all {max} bytes {} ms after the last SEND_OK",
        sent.as_millis(),
        (t0.elapsed() - sent).as_millis()
    );
    // The topic config reaches the slave by the table sync; then every queue reads the same.
    assert!(wait_until(Duration::from_secs(10), || read_queue(&c, &sa, topic, 0).len() == n / 4));
    assert_replica_identical(&c, &dir.path, &ma, &sa, topic);
    // A consumer offset committed on the master appears on the slave (GET_ALL_CONSUMER_OFFSET).
    let commit = RemotingCommand::request(rq::UPDATE_CONSUMER_OFFSET)
        .with("consumerGroup", "CG_ha")
        .with("topic", topic)
        .with("queueId", 2)
        .with("commitOffset", 1234);
    assert_eq!(call(&c, &ma, commit).code, rs::SUCCESS);
    let query = || {
        let q = RemotingCommand::request(rq::QUERY_CONSUMER_OFFSET)
            .with("consumerGroup", "CG_ha")
            .with("topic", topic)
            .with("queueId", 2);
        let r = call(&c, &sa, q);
        (r.code == rs::SUCCESS).then(|| r.i64_field("offset").unwrap())
    };
    assert!(
        wait_until(Duration::from_secs(10), || query() == Some(1234)),
        "slave has {:?}",
        query()
    );
    // A subscription group and the delay offsets (a message delayed by level 1, 1 s, delivered
    // by the master) reach the slave too.
    let group = serde_json::json!({"groupName": "CG_ha_group", "retryMaxTimes": 5});
    let r = call(
        &c,
        &ma,
        RemotingCommand::request(rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
            .with_body(group.to_string().into_bytes()),
    );
    assert_eq!(r.code, rs::SUCCESS);
    let delayed = send_req(topic, 0, b"delayed").with("properties", "DELAY\u{1}1\u{2}");
    assert_eq!(call(&c, &ma, delayed).code, rs::SUCCESS);
    let table = |addr: &str, code: i32| -> String {
        String::from_utf8_lossy(&call(&c, addr, RemotingCommand::request(code)).body).into_owned()
    };
    let delay_offsets = |addr: &str| table(addr, rq::GET_ALL_DELAY_OFFSET);
    assert!(wait_until(Duration::from_secs(10), || delay_offsets(&ma).contains("1:1")));
    assert!(
        wait_until(Duration::from_secs(10), || delay_offsets(&sa) == delay_offsets(&ma)),
        "slave delay offsets {} master {}",
        delay_offsets(&sa),
        delay_offsets(&ma)
    );
    assert!(wait_until(Duration::from_secs(10), || {
        let v: serde_json::Value =
            serde_json::from_str(&table(&sa, rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).unwrap();
        v["subscriptionGroupTable"]["CG_ha_group"]["retryMaxTimes"] == 5
    }));
    drop((slave, master, ns));
}

#[test]
fn ha_a_put_on_a_slave_is_refused_and_a_master_must_have_id_0() {
    let dir = TestDir::new("ha-slave-put");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let slave = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "slave", &["--brokerRole=SLAVE", "--brokerId=1"]),
        "slave.log",
    );
    let c = RemotingClient::new();
    let r = call(&c, &slave.addr("listen"), send_req("TopicOnSlave", 0, b"x"));
    assert_eq!(r.code, rs::SERVICE_NOT_AVAILABLE, "{:?}", r.remark);
    // Bad role/id pairs stop the broker at start with a clear message.
    for (role, id, says) in [
        ("SLAVE", "0", "brokerId > 0"),
        ("SLAVE", "-1", "brokerId > 0"),
        ("SYNC_MASTER", "1", "brokerId=0"),
    ] {
        let args = broker_args(
            &dir.path,
            &nsa,
            "bad",
            &[&format!("--brokerRole={role}"), &format!("--brokerId={id}")],
        );
        let out = std::process::Command::new(BROKER_BIN).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{role}/{id}: {err}");
        assert!(err.contains(says), "{role}/{id}: {err}");
    }
    drop((slave, ns));
}

#[test]
fn ha_sync_master_answers_11_without_slave_12_with_a_frozen_one_and_ok_with_one() {
    let dir = TestDir::new("ha-sync-codes");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let master = start(
        &dir.path,
        &broker_args(
            &dir.path,
            &nsa,
            "master",
            &["--brokerRole=SYNC_MASTER", "--slaveTimeout=600"],
        ),
        "master.log",
    );
    let ma = master.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaSync";
    create_topic(&c, &ma, topic);
    // No slave: SLAVE_NOT_AVAILABLE at once, the message stored all the same.
    let t0 = Instant::now();
    let r = call(&c, &ma, send_req(topic, 0, b"alone"));
    assert_eq!(r.code, rs::SLAVE_NOT_AVAILABLE, "{:?}", r.remark);
    assert!(t0.elapsed() < Duration::from_millis(400), "took {:?}", t0.elapsed());
    assert_eq!(r.i64_field("queueOffset").unwrap(), 0);
    // A slave that finds its master through the name server: SEND_OK.
    let mut slave = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "slave", &["--brokerRole=SLAVE", "--brokerId=1"]),
        "slave.log",
    );
    let mut last = 0;
    assert!(
        wait_until(Duration::from_secs(15), || {
            last = call(&c, &ma, send_req(topic, 0, b"with slave")).code;
            last == rs::SUCCESS
        }),
        "last code {last}"
    );
    // A frozen slave (SIGSTOP: connected, silent): FLUSH_SLAVE_TIMEOUT after slaveTimeout.
    let pid = slave.child.as_ref().unwrap().id().to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    // SIGSTOP takes effect as each thread next runs: wait until every thread is stopped.
    let all_stopped = || {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
        tasks.flatten().all(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
            stat.rsplit(") ").next().is_some_and(|r| r.starts_with('T') || r.starts_with('t'))
        })
    };
    assert!(wait_until(Duration::from_secs(5), all_stopped), "the slave did not stop");
    let t0 = Instant::now();
    let r = call(&c, &ma, send_req(topic, 0, b"frozen"));
    let took = t0.elapsed();
    let _ = std::process::Command::new("kill").args(["-CONT", &pid]).status();
    assert_eq!(r.code, rs::FLUSH_SLAVE_TIMEOUT, "took {took:?}: {:?}", r.remark);
    assert!(took >= Duration::from_millis(550) && took < Duration::from_secs(3), "took {took:?}");
    // Thawed, it acknowledges again.
    assert!(wait_until(Duration::from_secs(10), || call(&c, &ma, send_req(topic, 1, b"thawed"))
        .code
        == rs::SUCCESS));
    // Slave gone: SLAVE_NOT_AVAILABLE again once the master saw its connection close.
    slave.kill9();
    assert!(wait_until(Duration::from_secs(10), || call(&c, &ma, send_req(topic, 1, b"gone"))
        .code
        == rs::SLAVE_NOT_AVAILABLE));
    drop((master, ns));
}

#[test]
fn ha_sync_master_killed_mid_stream_loses_no_acknowledged_message() {
    let dir = TestDir::new("ha-sync-kill");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let mut master = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "master", &["--brokerRole=SYNC_MASTER"]),
        "master.log",
    );
    let (ma, ha) = (master.addr("listen"), master.addr("ha"));
    let slave = start(
        &dir.path,
        &broker_args(
            &dir.path,
            &nsa,
            "slave",
            &["--brokerRole=SLAVE", "--brokerId=1", &format!("--haMasterAddress={ha}")],
        ),
        "slave.log",
    );
    let sa = slave.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaKill";
    create_topic(&c, &ma, topic);
    assert!(wait_until(Duration::from_secs(10), || call(&c, &ma, send_req(topic, 0, b"warm-up"))
        .code
        == rs::SUCCESS));
    // 8 senders until the master dies; each keeps what got SEND_OK.
    let acked: Arc<Mutex<Messages>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let (ma, acked, stop) = (ma.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let c = RemotingClient::new();
                let mut i = 0usize;
                let mut other = 0;
                while !stop.load(Ordering::Acquire) {
                    let q = ((t + i) % QUEUES as usize) as i32;
                    let body = format!("kill-{t}-{i:07}-{}", "y".repeat((i * 7) % 300));
                    i += 1;
                    let Ok(r) = c.invoke(&ma, send_req(topic, q, body.as_bytes()), T) else {
                        break;
                    };
                    if r.code == rs::SUCCESS {
                        let off = r.i64_field("queueOffset").unwrap();
                        let qid = r.i32_field("queueId").unwrap();
                        acked.lock().unwrap().insert((qid, off), body.into_bytes());
                    } else {
                        other += 1;
                    }
                }
                other
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    master.kill9();
    stop.store(true, Ordering::Release);
    let refused: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.len() > 500, "only {} sends acknowledged before the kill", acked.len());
    // The master is down; the slave alone has every acknowledged message, byte for byte.
    let mut on_slave = BTreeMap::new();
    assert!(wait_until(Duration::from_secs(10), || {
        on_slave.clear();
        for q in 0..QUEUES {
            for (off, body) in read_queue(&c, &sa, topic, q) {
                on_slave.insert((q, off), body);
            }
        }
        acked.keys().all(|k| on_slave.contains_key(k))
    }));
    for (k, body) in &acked {
        assert_eq!(on_slave.get(k), Some(body), "acknowledged message {k:?} differs on the slave");
    }
    // Nothing else than what was sent: every message on the slave is one of ours.
    for ((q, off), body) in &on_slave {
        let text = String::from_utf8_lossy(body);
        assert!(text == "warm-up" || text.starts_with("kill-"), "garbage at {q}/{off}: {text:?}");
    }
    println!(
        "SYNC_MASTER killed: {} acknowledged, {refused} answered otherwise, {} on the slave, none lost",
        acked.len(),
        on_slave.len()
    );
    drop((slave, ns));
}

#[test]
fn ha_a_late_and_a_restarted_slave_catch_up_through_the_name_server() {
    let dir = TestDir::new("ha-late");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let master = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "master", &["--brokerRole=ASYNC_MASTER"]),
        "master.log",
    );
    let ma = master.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaLate";
    create_topic(&c, &ma, topic);
    send_many(&ma, topic, 0, 8_000);
    // No haMasterAddress: the slave learns the master's HA address from the name server.
    let slave_args = broker_args(&dir.path, &nsa, "slave", &["--brokerRole=SLAVE", "--brokerId=1"]);
    let mut slave = start(&dir.path, &slave_args, "slave.log");
    let max = commit_log_max(&c, &ma);
    assert!(
        wait_until(Duration::from_secs(20), || commit_log_max(&c, &slave.addr("listen")) == max)
    );
    // Killed, more sent, restarted on the same store: it catches up from where it was.
    slave.kill9();
    send_many(&ma, topic, 8_000, 4_000);
    slave = start(&dir.path, &slave_args, "slave-2.log");
    let sa = slave.addr("listen");
    let max = commit_log_max(&c, &ma);
    assert!(
        wait_until(Duration::from_secs(20), || commit_log_max(&c, &sa) == max),
        "slave at {} of {max}",
        commit_log_max(&c, &sa)
    );
    assert!(wait_until(Duration::from_secs(10), || read_queue(&c, &sa, topic, 3).len() == 3_000));
    assert_replica_identical(&c, &dir.path, &ma, &sa, topic);
    drop((slave, master, ns));
}

#[test]
fn ha_consumers_read_from_the_slave_while_the_master_is_down() {
    use rmq::client::{
        ConsumeFrom, ConsumeStatus, Message, MessageExt, Producer, ProducerOptions, PushConsumer,
        PushConsumerOptions,
    };
    use std::collections::BTreeSet;
    let dir = TestDir::new("ha-failover");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let mut master = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "master", &["--brokerRole=ASYNC_MASTER"]),
        "master.log",
    );
    let (ma, ha) = (master.addr("listen"), master.addr("ha"));
    let slave = start(
        &dir.path,
        &broker_args(
            &dir.path,
            &nsa,
            "slave",
            &["--brokerRole=SLAVE", "--brokerId=1", &format!("--haMasterAddress={ha}")],
        ),
        "slave.log",
    );
    let sa = slave.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaFailover";
    create_topic(&c, &ma, topic);
    let mut po = ProducerOptions::new("PG_ha_failover", &nsa);
    po.config.instance_name = "p-ha-failover".into();
    po.config.client_ip = "127.0.0.1".into();
    let p = Producer::new(po).unwrap();
    p.start().unwrap();
    let n = 1000;
    for i in 0..n {
        p.send(&Message::new(topic, format!("f-{i}"))).unwrap();
    }
    p.shutdown();
    let max = commit_log_max(&c, &ma);
    assert!(wait_until(Duration::from_secs(10), || commit_log_max(&c, &sa) == max));
    assert!(wait_until(Duration::from_secs(10), || read_queue(&c, &sa, topic, 0).len() == n / 4));
    // suggestWhichBrokerId: the master (0) unless slaveReadEnable; then the slave (the group's
    // whichBrokerWhenConsumeSlowly, 1) for a consumer further behind than
    // accessMessageInMemoryMaxRatio of memory (0 %: any). A slave never moves an offset.
    let pull_at = |addr: &str, offset: i64| {
        let req = RemotingCommand::request(rq::PULL_MESSAGE)
            .with("consumerGroup", "CG_ha_suggest")
            .with("topic", topic)
            .with("queueId", 0)
            .with("queueOffset", offset)
            .with("maxMsgNums", 1)
            .with("sysFlag", pull_flag::SUBSCRIPTION)
            .with("commitOffset", 0)
            .with("suspendTimeoutMillis", 0)
            .with("subscription", "*")
            .with("subVersion", 0);
        let r = call(&c, addr, req);
        (r.code, r.i64_field("suggestWhichBrokerId").unwrap())
    };
    assert_eq!(pull_at(&ma, 0), (rs::SUCCESS, 0));
    let update = RemotingCommand::request(rq::UPDATE_BROKER_CONFIG)
        .with_body(b"slaveReadEnable=true\naccessMessageInMemoryMaxRatio=0\n".to_vec());
    assert_eq!(call(&c, &ma, update).code, rs::SUCCESS);
    assert_eq!(pull_at(&ma, 0), (rs::SUCCESS, 1));
    assert_eq!(pull_at(&ma, 100_000).0, rs::PULL_OFFSET_MOVED);
    assert_eq!(pull_at(&sa, 100_000), (rs::PULL_RETRY_IMMEDIATELY, 0));
    // The master dies; the name server drops it, the route keeps the slave.
    master.kill9();
    let mut o = PushConsumerOptions::new("CG_ha_failover", &nsa);
    o.config.instance_name = "c-ha-failover".into();
    o.config.client_ip = "127.0.0.1".into();
    o.config.poll_namesrv_interval = Duration::from_millis(500);
    o.config.heartbeat_interval = Duration::from_millis(500);
    o.config.persist_offset_interval = Duration::from_millis(300);
    o.consume_from = ConsumeFrom::FirstOffset;
    o.rebalance_interval = Duration::from_millis(500);
    o.suspend_timeout = Duration::from_secs(2);
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let consumer = PushConsumer::new(o).unwrap();
    consumer.subscribe(topic, "*").unwrap();
    let s = seen.clone();
    consumer
        .register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
            let mut s = s.lock().unwrap();
            s.extend(msgs.iter().map(|m| String::from_utf8_lossy(m.body()).into_owned()));
            ConsumeStatus::Success
        }))
        .unwrap();
    consumer.start().unwrap();
    let all: BTreeSet<String> = (0..n).map(|i| format!("f-{i}")).collect();
    let got = wait_until(Duration::from_secs(20), || *seen.lock().unwrap() == all);
    consumer.shutdown();
    assert!(got, "consumed {} of {n} from the slave", seen.lock().unwrap().len());
    // Its offsets were committed to the slave.
    let q = RemotingCommand::request(rq::QUERY_CONSUMER_OFFSET)
        .with("consumerGroup", "CG_ha_failover")
        .with("topic", topic)
        .with("queueId", 0);
    let r = call(&c, &sa, q);
    assert_eq!((r.code, r.i64_field("offset").ok()), (rs::SUCCESS, Some(n as i64 / 4)));
    drop((slave, ns));
}

#[test]
fn ha_slave_read_enable_sends_a_lagging_pull_consumer_to_the_slave() {
    use rmq::client::{MessageQueue, PullConsumer, PullConsumerOptions, PullStatus};
    let dir = TestDir::new("ha-slave-read");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    // accessMessageInMemoryMaxRatio=0: every consumer counts as reading from disk.
    let read = ["--slaveReadEnable=true", "--accessMessageInMemoryMaxRatio=0"];
    let mut margs = vec!["--brokerRole=ASYNC_MASTER"];
    margs.extend(read);
    let master = start(&dir.path, &broker_args(&dir.path, &nsa, "master", &margs), "master.log");
    let (ma, ha) = (master.addr("listen"), master.addr("ha"));
    let ham = format!("--haMasterAddress={ha}");
    let mut sargs = vec!["--brokerRole=SLAVE", "--brokerId=1", ham.as_str()];
    sargs.extend(read);
    let slave = start(&dir.path, &broker_args(&dir.path, &nsa, "slave", &sargs), "slave.log");
    let sa = slave.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaSlaveRead";
    create_topic(&c, &ma, topic);
    let mq = MessageQueue { topic: topic.into(), broker_name: "broker-a".into(), queue_id: 0 };
    for i in 0..40 {
        let r = call(&c, &ma, send_req(topic, 0, format!("r-{i}").as_bytes()));
        assert_eq!(r.code, rs::SUCCESS);
    }
    let max = commit_log_max(&c, &ma);
    assert!(wait_until(Duration::from_secs(10), || commit_log_max(&c, &sa) == max));
    assert!(wait_until(Duration::from_secs(10), || read_queue(&c, &sa, topic, 0).len() == 40));
    let mut o = PullConsumerOptions::new("CG_ha_read", &nsa);
    o.config.instance_name = "c-ha-read".into();
    o.config.client_ip = "127.0.0.1".into();
    let consumer = PullConsumer::new(o).unwrap();
    consumer.start().unwrap();
    let timeout = Duration::from_secs(2);
    let first = consumer.pull(&mq, "*", 0, 10, timeout).unwrap();
    assert_eq!((first.status, first.messages.len()), (PullStatus::Found, 10));
    // The master suggested its slave: freeze the master; the next pulls go to the slave.
    let pid = master.child.as_ref().unwrap().id().to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    let mut offset = first.next_begin_offset;
    let mut bodies: Vec<String> =
        first.messages.iter().map(|m| String::from_utf8_lossy(m.body()).into_owned()).collect();
    let outcome = (|| {
        while offset < 40 {
            let r = consumer.pull(&mq, "*", offset, 10, timeout)?;
            bodies
                .extend(r.messages.iter().map(|m| String::from_utf8_lossy(m.body()).into_owned()));
            offset = r.next_begin_offset;
        }
        Ok::<_, rmq::client::Error>(())
    })();
    let _ = std::process::Command::new("kill").args(["-CONT", &pid]).status();
    outcome.expect("pulls from the slave while the master is frozen");
    assert_eq!(bodies, (0..40).map(|i| format!("r-{i}")).collect::<Vec<_>>());
    consumer.shutdown();
    drop((slave, master, ns));
}

#[test]
fn ha_offsets_committed_to_the_slave_survive_the_masters_return() {
    let dir = TestDir::new("ha-offsets-return");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    let margs = broker_args(
        &dir.path,
        &nsa,
        "master",
        &["--brokerRole=ASYNC_MASTER", "--flushConsumerOffsetInterval=100"],
    );
    let mut master = start(&dir.path, &margs, "master.log");
    let ma = master.addr("listen");
    let slave = start(
        &dir.path,
        &broker_args(&dir.path, &nsa, "slave", &["--brokerRole=SLAVE", "--brokerId=1"]),
        "slave.log",
    );
    let sa = slave.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaOffsets";
    create_topic(&c, &ma, topic);
    for i in 0..20 {
        assert_eq!(
            call(&c, &ma, send_req(topic, 0, format!("o-{i}").as_bytes())).code,
            rs::SUCCESS
        );
    }
    let commit = |addr: &str, offset: i64| {
        let req = RemotingCommand::request(rq::UPDATE_CONSUMER_OFFSET)
            .with("consumerGroup", "CG_ha_ret")
            .with("topic", topic)
            .with("queueId", 0)
            .with("commitOffset", offset);
        assert_eq!(call(&c, addr, req).code, rs::SUCCESS);
    };
    let query = |addr: &str| {
        let q = RemotingCommand::request(rq::QUERY_CONSUMER_OFFSET)
            .with("consumerGroup", "CG_ha_ret")
            .with("topic", topic)
            .with("queueId", 0);
        let r = call(&c, addr, q);
        (r.code == rs::SUCCESS).then(|| r.i64_field("offset").unwrap())
    };
    commit(&ma, 5);
    assert!(wait_until(Duration::from_secs(10), || query(&sa) == Some(5)));
    std::thread::sleep(Duration::from_millis(400)); // the master persisted offset 5
                                                    // The master dies; the consumer goes on on the slave and commits 15 there.
    master.kill9();
    commit(&sa, 15);
    // The master comes back (new ports; the slave finds it through the name server) with its
    // stale table: it takes over 15, and the slave's copy does not bring 5 back.
    master = start(&dir.path, &margs, "master-2.log");
    let ma = master.addr("listen");
    assert!(
        wait_until(Duration::from_secs(10), || query(&ma) == Some(15)),
        "the returning master has {:?}",
        query(&ma)
    );
    let log = || std::fs::read_to_string(dir.path.join("slave.log")).unwrap_or_default();
    let found = format!("slave syncs from master Some(\"{ma}\")");
    assert!(
        wait_until(Duration::from_secs(10), || log().contains(&found)),
        "the slave did not find the returning master"
    );
    std::thread::sleep(Duration::from_millis(1000)); // several copies from the master
    assert_eq!((query(&ma), query(&sa)), (Some(15), Some(15)));
    // Later commits on the master reach the slave as before.
    commit(&ma, 18);
    assert!(wait_until(Duration::from_secs(10), || query(&sa) == Some(18)));
    drop((slave, master, ns));
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Every record of one queue of `addr` from offset 0 (properties included).
fn read_records(c: &RemotingClient, addr: &str, topic: &str, queue: i32) -> Vec<MessageRecord> {
    let mut out = Vec::new();
    let mut offset = 0i64;
    loop {
        let req = RemotingCommand::request(rq::PULL_MESSAGE)
            .with("consumerGroup", "CG_ha_check")
            .with("topic", topic)
            .with("queueId", queue)
            .with("queueOffset", offset)
            .with("maxMsgNums", 32)
            .with("sysFlag", pull_flag::SUBSCRIPTION)
            .with("commitOffset", 0)
            .with("suspendTimeoutMillis", 0)
            .with("subscription", "*")
            .with("subVersion", 0);
        let Ok(r) = c.invoke(addr, req, T) else { return out };
        if r.code != rs::SUCCESS {
            return out;
        }
        let mut body = &r.body[..];
        while !body.is_empty() {
            let (rec, n): (MessageRecord, usize) = decode_record(body, true).unwrap();
            out.push(rec);
            body = &body[n..];
        }
        offset = r.i64_field("nextBeginOffset").unwrap();
    }
}

/// One SEND_OK seen by the C++ client: (msg id, queue offset, body).
type Ack = (String, i64, Vec<u8>);

/// The UNIQ_KEY property as the C API hands it to the client: cut at the first NUL.
///
/// Apache's C++ client 1.0.1 (PyPI `rocketmq` 0.4.4) builds ids in one buffer shared by all
/// threads, with sprintf("%02X ") writing a NUL after each pair; under 8 sending threads a copy
/// taken mid-write now and then carries a NUL as its last byte. The broker stores those bytes as
/// sent, and the client reports the id up to that NUL.
fn uniq_key_as_c_string(properties: &str) -> Option<&str> {
    let value = properties.split('\u{2}').find_map(|pair| pair.strip_prefix("UNIQ_KEY\u{1}"))?;
    value.split('\0').next()
}

/// Run tests/python/ha_cpp_send.py against `ns` until `sending` has passed after its first
/// SEND_OK, SIGKILL `master`, then kill the client (by PID); returns what it saw acknowledged.
fn cpp_send_until_master_killed(
    home: &Path,
    ns: &str,
    topic: &str,
    prefix: &str,
    sending: Duration,
    master: &mut Proc,
) -> Vec<Ack> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ha_cpp_send.py");
    let mut child = Command::new(crate::interop::python())
        .arg(script)
        .args(["--namesrv", ns, "--topic", topic, "--prefix", prefix, "--threads", "8"])
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(home.join(format!("{prefix}.stderr"))).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            // Whole lines only: the client is killed mid-stream, and its last line may be cut
            // (an "OK id" without offset and body is a send it never finished reporting).
            let mut r = std::io::BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(n) if n > 0 && buf.ends_with(b"\n") => {
                        let l = String::from_utf8_lossy(&buf[..n - 1]).into_owned();
                        lines.lock().unwrap().push(l);
                    }
                    _ => break,
                }
            }
        })
    };
    let first_ok = || lines.lock().unwrap().iter().any(|l| l.starts_with("OK "));
    let started = wait_until(Duration::from_secs(20), first_ok);
    if started {
        std::thread::sleep(sending);
    }
    master.kill9();
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap();
    assert!(started, "{prefix}: no SEND_OK from the C++ client within 20 s");
    let lines = std::mem::take(&mut *lines.lock().unwrap());
    // Lines of the form "OK id offset body" with this round's body; anything else on the
    // client's stdout (the C++ library writes there too) is reported and skipped.
    let mut acks = Vec::new();
    for l in lines.iter().filter_map(|l| l.strip_prefix("OK ")) {
        let mut f = l.splitn(3, ' ');
        let (id, off, body) = (f.next(), f.next().map(str::parse::<i64>), f.next());
        match (id, off, body) {
            (Some(id), Some(Ok(off)), Some(body))
                if !id.is_empty() && body.starts_with(&format!("{prefix}-")) =>
            {
                acks.push((id.to_string(), off, body.as_bytes().to_vec()))
            }
            _ => eprintln!("{prefix}: skipped a malformed client line: {l:?}"),
        }
    }
    acks
}

#[test]
fn ha_cpp_client_sync_master_killed_five_times_slave_keeps_every_send_ok() {
    let dir = TestDir::new("ha-cpp-kill");
    let ns = namesrv(&dir.path);
    let nsa = ns.addr("listen");
    // Fixed ports, so the restarted master is where the slave and the name server expect it.
    let (port, ha_port) = loop {
        let (p, h) = (free_port(), free_port());
        if p != h && h != p.saturating_sub(2) && p > 2 {
            break (p, h);
        }
    };
    let mut margs = broker_args(&dir.path, &nsa, "master", &["--brokerRole=SYNC_MASTER"]);
    margs.retain(|a| a != "--listenPort=0");
    margs.push(format!("--listenPort={port}"));
    margs.push(format!("--haListenPort={ha_port}"));
    let mut master = start(&dir.path, &margs, "master.log");
    let ma = master.addr("listen");
    let slave = start(
        &dir.path,
        &broker_args(
            &dir.path,
            &nsa,
            "slave",
            &[
                "--brokerRole=SLAVE",
                "--brokerId=1",
                &format!("--haMasterAddress=127.0.0.1:{ha_port}"),
            ],
        ),
        "slave.log",
    );
    let sa = slave.addr("listen");
    let c = RemotingClient::new();
    let topic = "TopicHaCppKill";
    create_topic(&c, &ma, topic);
    assert!(wait_until(Duration::from_secs(10), || call(&c, &ma, send_req(topic, 0, b"warm-up"))
        .code
        == rs::SUCCESS));
    let mut acked: Vec<Ack> = Vec::new();
    for round in 0..5 {
        let prefix = format!("r{round}");
        let got = cpp_send_until_master_killed(
            &dir.path,
            &nsa,
            topic,
            &prefix,
            Duration::from_millis(1200),
            &mut master,
        );
        assert!(got.len() > 50, "round {round}: only {} SEND_OK before the kill", got.len());
        acked.extend(got);
        // The master is down: the slave alone serves every acknowledged message of every round,
        // at the queue offset the client was told, with the client's message id, byte for byte.
        // A body can be stored twice: the C++ client resends a send that failed (for example
        // one answered FLUSH_SLAVE_TIMEOUT) to another queue. At-least-once allows that; what
        // must hold is that each acknowledged send is on the slave where the client was told.
        let mut on_slave: BTreeMap<Vec<u8>, Vec<MessageRecord>> = BTreeMap::new();
        let all_there = wait_until(Duration::from_secs(10), || {
            on_slave.clear();
            for q in 0..QUEUES {
                for rec in read_records(&c, &sa, topic, q) {
                    on_slave.entry(rec.body.clone()).or_default().push(rec);
                }
            }
            acked.iter().all(|(_, off, b)| {
                on_slave.get(b).is_some_and(|v| v.iter().any(|r| r.queue_offset == *off))
            })
        });
        let missing = acked
            .iter()
            .filter(|(_, off, b)| {
                !on_slave.get(b).is_some_and(|v| v.iter().any(|r| r.queue_offset == *off))
            })
            .count();
        assert!(
            all_there,
            "round {round}: {missing} of {} SEND_OK messages not on the slave at their offset",
            acked.len()
        );
        for (id, off, body) in &acked {
            let rec = on_slave[body].iter().find(|r| r.queue_offset == *off).unwrap();
            assert_eq!(
                uniq_key_as_c_string(&rec.properties),
                Some(id.as_str()),
                "{}: msg id {id} not in {:?}",
                String::from_utf8_lossy(body),
                rec.properties
            );
        }
        println!(
            "round {round}: {} SEND_OK in all, {} bodies on the slave, none lost",
            acked.len(),
            on_slave.len()
        );
        // The master comes back on its store; the slave reconnects and both hold the same log.
        master = start(&dir.path, &margs, &format!("master-{round}.log"));
        assert!(
            wait_until(Duration::from_secs(15), || commit_log_max(&c, &sa)
                == commit_log_max(&c, &ma)),
            "round {round}: slave at {} of the restarted master's {}",
            commit_log_max(&c, &sa),
            commit_log_max(&c, &ma)
        );
    }
    drop((slave, ns));
}
