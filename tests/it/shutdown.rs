//! Graceful shutdown (issue 4): SIGTERM while many sends are in flight and a long poll is parked.
//! Every request gets an answer (SEND_OK, a clear refusal, or a closed connection for requests the
//! broker never read), never a silent timeout; the parked pull is answered; the broker leaves the
//! name server and removes its abort file; after a restart every SEND_OK'd message is there.

use crate::proto;
use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOPIC: &str = "ShutdownTopic";

#[derive(Default)]
struct Outcome {
    acked: Mutex<HashMap<(i32, i64), String>>,
    refused: AtomicUsize,
    closed: AtomicUsize,
    timeouts: AtomicUsize,
}

#[test]
fn sigterm_answers_in_flight_requests_unregisters_and_keeps_every_send_ok() {
    sigterm_drain("shutdown", &[]);
}

/// The same under SYNC_FLUSH, where sends are answered from the group commit: sends parked on a
/// flush when the signal lands are answered too.
#[test]
fn sigterm_answers_sends_waiting_for_their_sync_flush() {
    sigterm_drain("shutdown-sync", &["--flushDiskType=SYNC_FLUSH"]);
}

fn sigterm_drain(name: &str, args: &[&str]) {
    let dir = TestDir::new(name);
    let mut cluster = Cluster::start(&dir.path, args);
    let ns = cluster.namesrv_addr();
    let addr = cluster.broker_addr();
    let admin = RemotingClient::new();
    proto::create_topic(&admin, &addr, TOPIC, 4);
    proto::create_topic(&admin, &addr, "ShutdownIdle", 1);
    assert!(proto::cluster_info(&admin, &ns).broker_addr_table.contains_key("broker-a"));

    // A long poll parked on an empty queue, with a suspend time far beyond the test.
    let parked = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let c = RemotingClient::new();
            let req = RemotingCommand::request(rq::PULL_MESSAGE)
                .with("consumerGroup", "CG_idle")
                .with("topic", "ShutdownIdle")
                .with("queueId", 0)
                .with("queueOffset", 0)
                .with("maxMsgNums", 32)
                .with("sysFlag", pull_flag::SUBSCRIPTION | pull_flag::SUSPEND)
                .with("commitOffset", 0)
                .with("suspendTimeoutMillis", 60_000)
                .with("subscription", "*")
                .with("subVersion", 0);
            c.invoke(&addr, req, Duration::from_secs(90))
        })
    };

    // Sixteen senders, two connections: many requests in flight when the signal lands.
    let out = Arc::new(Outcome::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients = [Arc::new(RemotingClient::new()), Arc::new(RemotingClient::new())];
    let mut senders = Vec::new();
    for t in 0..16usize {
        let (c, addr, out, stop) =
            (clients[t % 2].clone(), addr.clone(), out.clone(), stop.clone());
        senders.push(std::thread::spawn(move || {
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("t{t}-{seq}");
                let queue = ((seq as usize + t) % 4) as i32;
                match proto::send_raw(&c, &addr, TOPIC, queue, &body, Duration::from_secs(20)) {
                    Ok(r) if r.code == rs::SUCCESS => {
                        let pos =
                            (r.i32_field("queueId").unwrap(), r.i64_field("queueOffset").unwrap());
                        out.acked.lock().unwrap().insert(pos, body);
                    }
                    Ok(r) => {
                        assert!(r.remark.is_some(), "a refusal must say why (code {})", r.code);
                        out.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) if e.is_timeout() => {
                        out.timeouts.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        // Closed or refused connection: the broker is gone.
                        out.closed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                seq += 1;
            }
        }));
    }
    assert!(wait_until(Duration::from_secs(30), || out.acked.lock().unwrap().len() >= 2000));
    cluster.broker.stop(); // SIGTERM, wait for exit
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let acked = out.acked.lock().unwrap().clone();
    eprintln!(
        "acked={} refused={} closed={} timeouts={}",
        acked.len(),
        out.refused.load(Ordering::Relaxed),
        out.closed.load(Ordering::Relaxed),
        out.timeouts.load(Ordering::Relaxed)
    );
    assert_eq!(out.timeouts.load(Ordering::Relaxed), 0, "no request may be left unanswered");

    assert!(!dir.path.join("store").join("abort").exists(), "a clean stop removes the abort file");
    let info = proto::cluster_info(&admin, &ns);
    assert!(!info.broker_addr_table.contains_key("broker-a"), "the broker unregistered");
    let log = std::fs::read_to_string(dir.path.join("broker-0.log")).unwrap();
    assert!(log.contains("server drained name=broker"), "{log}");
    assert!(log.contains(&format!("unregistered from name server namesrv={ns}")), "{log}");

    cluster.restart_broker();
    assert!(
        std::fs::read_to_string(dir.path.join("broker-1.log"))
            .unwrap()
            .contains("previous_exit=clean"),
        "the restart finds a clean exit"
    );
    let addr = cluster.broker_addr();
    let reader = RemotingClient::new();
    let mut stored = HashMap::new();
    for q in 0..4 {
        for (off, body) in proto::read_queue(&reader, &addr, TOPIC, q) {
            stored.insert((q, off), body);
        }
    }
    for (pos, body) in &acked {
        assert_eq!(stored.get(pos), Some(body), "SEND_OK'd message lost at {pos:?}");
    }
    // And the converse: every message the broker stored was answered (queued requests got
    // their responses before the connections closed).
    let unanswered: Vec<_> = stored.keys().filter(|p| !acked.contains_key(p)).collect();
    assert!(unanswered.is_empty(), "stored but never answered: {unanswered:?}");
    let r = parked
        .join()
        .unwrap()
        .expect("the parked pull must be answered before the connection closes");
    assert_eq!(r.code, rs::PULL_NOT_FOUND, "{:?}", r.remark);
}

#[test]
fn sigint_stops_as_cleanly_as_sigterm() {
    let dir = TestDir::new("shutdown-int");
    let mut cluster = Cluster::start(&dir.path, &[]);
    let c = RemotingClient::new();
    proto::create_topic(&c, &cluster.broker_addr(), TOPIC, 1);
    proto::send_ok(&c, &cluster.broker_addr(), TOPIC, 0, "before-sigint");
    let mut child = cluster.broker.child.take().unwrap();
    let st = std::process::Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    assert!(st.unwrap().success());
    let mut status = None;
    assert!(wait_until(Duration::from_secs(30), || {
        status = child.try_wait().unwrap();
        status.is_some()
    }));
    assert_eq!(status.unwrap().code(), Some(0), "a signalled stop is a clean exit");
    assert!(!dir.path.join("store").join("abort").exists());
    let log = std::fs::read_to_string(dir.path.join("broker-0.log")).unwrap();
    assert!(log.contains("unregistered from name server"), "{log}");
    cluster.restart_broker();
    let msgs = proto::read_queue(&c, &cluster.broker_addr(), TOPIC, 0);
    assert_eq!(msgs, vec![(0, "before-sigint".to_string())]);
}
