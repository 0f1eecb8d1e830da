//! kill -9 during heavy SYNC_FLUSH sending from several threads, five rounds: after each
//! restart every SEND_OK'd message is there with its body, and nothing appears that was never
//! sent (issue 3's crash test, on the skeleton's store).

use crate::util::{Cluster, TestDir};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::decode_record;
use rmq::remoting::RemotingClient;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(5);
const TOPIC: &str = "CrashTopic";
const QUEUES: i32 = 4;

fn send(c: &RemotingClient, addr: &str, queue: i32, body: &str) -> Option<(i32, i64)> {
    let req = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_crash")
        .with("b", TOPIC)
        .with("c", "TBW102")
        .with("d", QUEUES)
        .with("e", queue)
        .with("f", 0)
        .with("g", 0)
        .with("h", 0)
        .with("i", "WAIT\u{1}true")
        .with_body(body.as_bytes().to_vec());
    let r = c.invoke(addr, req, T).ok()?;
    (r.code == rs::SUCCESS)
        .then(|| (r.i32_field("queueId").unwrap(), r.i64_field("queueOffset").unwrap()))
}

/// Every message of a queue, in order, as (offset, body).
fn read_queue(c: &RemotingClient, addr: &str, queue: i32) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let req = RemotingCommand::request(rq::PULL_MESSAGE)
            .with("consumerGroup", "CG_crash")
            .with("topic", TOPIC)
            .with("queueId", queue)
            .with("queueOffset", offset)
            .with("maxMsgNums", 32)
            .with("sysFlag", pull_flag::SUBSCRIPTION)
            .with("commitOffset", 0)
            .with("suspendTimeoutMillis", 0)
            .with("subscription", "*")
            .with("subVersion", 0);
        let r = c.invoke(addr, req, T).unwrap();
        if r.code != rs::SUCCESS {
            assert!(
                r.code == rs::PULL_NOT_FOUND,
                "unexpected pull result {} {:?}",
                r.code,
                r.remark
            );
            return out;
        }
        let mut body = &r.body[..];
        while !body.is_empty() {
            let (rec, n) = decode_record(body, true).expect("the broker served a damaged record");
            out.push((rec.queue_offset, String::from_utf8(rec.body).unwrap()));
            body = &body[n..];
        }
        offset = r.i64_field("nextBeginOffset").unwrap();
    }
}

#[test]
fn kill9_under_sync_flush_keeps_every_acknowledged_message() {
    let dir = TestDir::new("crash-sync");
    let mut cluster = Cluster::start(
        &dir.path,
        &["--flushDiskType=SYNC_FLUSH", "--mapedFileSizeCommitLog=262144"],
    );
    let admin = RemotingClient::new();
    let create = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
        .with("topic", TOPIC)
        .with("defaultTopic", "TBW102")
        .with("readQueueNums", QUEUES)
        .with("writeQueueNums", QUEUES)
        .with("perm", 6)
        .with("topicFilterType", "SINGLE_TAG");
    assert_eq!(admin.invoke(&cluster.broker_addr(), create, T).unwrap().code, rs::SUCCESS);
    let acked: Arc<Mutex<HashMap<(i32, i64), String>>> = Arc::default();
    let attempted: Arc<Mutex<HashSet<String>>> = Arc::default();
    for round in 0..5u64 {
        let addr = cluster.broker_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let mut senders = Vec::new();
        for t in 0..4 {
            let (addr, stop, acked, attempted) =
                (addr.clone(), stop.clone(), acked.clone(), attempted.clone());
            senders.push(std::thread::spawn(move || {
                let c = RemotingClient::new();
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body =
                        format!("round{round}-t{t}-{seq}-{}", "x".repeat((seq % 200) as usize));
                    attempted.lock().unwrap().insert(body.clone());
                    match send(&c, &addr, ((seq + t) % QUEUES as u64) as i32, &body) {
                        Some(pos) => {
                            acked.lock().unwrap().insert(pos, body);
                        }
                        None => break,
                    }
                    seq += 1;
                }
            }));
        }
        // Let the senders run for a pseudo-random while, then kill the broker mid-stream.
        std::thread::sleep(Duration::from_millis(300 + (round * 137) % 500));
        cluster.broker.kill9();
        stop.store(true, Ordering::Relaxed);
        for s in senders {
            s.join().unwrap();
        }
        cluster.restart_broker();
        let addr = cluster.broker_addr();
        let reader = RemotingClient::new();
        let acked = acked.lock().unwrap();
        let attempted = attempted.lock().unwrap();
        let mut stored = HashMap::new();
        for q in 0..QUEUES {
            for (off, body) in read_queue(&reader, &addr, q) {
                assert!(
                    attempted.contains(&body),
                    "round {round}: phantom message {body:?} at {q}/{off}"
                );
                stored.insert((q, off), body);
            }
        }
        for (pos, body) in acked.iter() {
            assert_eq!(
                stored.get(pos),
                Some(body),
                "round {round}: acknowledged message lost at {pos:?}"
            );
        }
        eprintln!("round {round}: {} acknowledged, {} stored", acked.len(), stored.len());
        assert!(
            acked.len() as u64 > (round + 1) * 10,
            "senders made too little progress to test anything"
        );
    }
}
