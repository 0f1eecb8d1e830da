//! Issue 3: retention with 1 MiB commit-log segments and a short reserve time (old files go,
//! offsets stay consistent, a consumer of an old offset is moved to the new min), then a full
//! disk (diskSpaceWarningLevelRatio=0): sends fail with SERVICE_NOT_AVAILABLE, reads keep working.

use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::decode_record;
use rmq::remoting::RemotingClient;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

/// Send one message to `topic`/`queue` (no WAIT); returns the response.
pub fn send(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    body: Vec<u8>,
) -> RemotingCommand {
    let req = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_store")
        .with("b", topic)
        .with("c", "TBW102")
        .with("d", 1)
        .with("e", queue)
        .with("f", 0)
        .with("g", 0)
        .with("h", 0)
        .with("i", "WAIT\u{1}false\u{2}")
        .with_body(body);
    c.invoke(addr, req, T).unwrap()
}

/// One PULL_MESSAGE; returns (code, nextBeginOffset, [(queue offset, body)]).
pub fn pull(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    offset: i64,
) -> (i32, i64, Vec<(i64, Vec<u8>)>) {
    let req = RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", "CG_store")
        .with("topic", topic)
        .with("queueId", queue)
        .with("queueOffset", offset)
        .with("maxMsgNums", 32)
        .with("sysFlag", pull_flag::SUBSCRIPTION)
        .with("commitOffset", 0)
        .with("suspendTimeoutMillis", 0)
        .with("subscription", "*")
        .with("subVersion", 0);
    let r = c.invoke(addr, req, T).unwrap();
    let mut out = Vec::new();
    let mut b = &r.body[..];
    while r.code == rs::SUCCESS && !b.is_empty() {
        let (rec, n) = decode_record(b, true).expect("the broker served a damaged record");
        out.push((rec.queue_offset, rec.body));
        b = &b[n..];
    }
    (r.code, r.i64_field("nextBeginOffset").unwrap(), out)
}

/// Every message from `from` to the end of the queue.
pub fn pull_all(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    from: i64,
) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut off = from;
    loop {
        let (code, next, msgs) = pull(c, addr, topic, queue, off);
        if code != rs::SUCCESS {
            assert_eq!(code, rs::PULL_NOT_FOUND, "pull at {off}");
            return out;
        }
        out.extend(msgs);
        off = next;
    }
}

fn min_offset(c: &RemotingClient, addr: &str, topic: &str) -> i64 {
    let req = RemotingCommand::request(rq::GET_MIN_OFFSET).with("topic", topic).with("queueId", 0);
    c.invoke(addr, req, T).unwrap().i64_field("offset").unwrap()
}

fn body(i: usize) -> Vec<u8> {
    let mut b = format!("msg-{i:05}-").into_bytes();
    b.resize(4000, b'a' + (i % 26) as u8);
    b
}

fn files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[test]
fn retention_moves_min_offsets_and_full_disk_refuses_sends() {
    let dir = TestDir::new("retention");
    let all_hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let delete_when = format!("--deleteWhen={}", all_hours.join(";"));
    let mut cluster = Cluster::start(
        &dir.path,
        &[
            "--mapedFileSizeCommitLog=1048576",
            "--mapedFileSizeConsumeQueue=2000",
            "--fileReservedTimeMillis=1500",
            &delete_when,
            "--cleanResourceInterval=200",
        ],
    );
    let c = RemotingClient::new();
    let addr = cluster.broker_addr();
    const N: usize = 1500; // about 6 MiB: six full segments and a current one
                           // Commit-log offset of each message, from its offset message id (last 16 hex digits).
    let mut phys = Vec::with_capacity(N);
    for i in 0..N {
        let r = send(&c, &addr, "RetTopic", 0, body(i));
        assert_eq!(r.code, rs::SUCCESS, "send {i}: {:?}", r.remark);
        let id = r.field("msgId").unwrap().to_string();
        phys.push(u64::from_str_radix(&id[id.len() - 16..], 16).unwrap());
    }
    // Once only the newest segment is left, the queue's min offset is its first message.
    let last_seg = phys[N - 1] / 1048576 * 1048576;
    let expected_min = phys.iter().position(|&p| p >= last_seg).unwrap() as i64;
    let log_dir = dir.path.join("store/commitlog");
    let cq_dir = dir.path.join("store/consumequeue/RetTopic/0");
    // Consume-queue files are written by the asynchronous dispatch thread.
    assert!(wait_until(T, || files(&cq_dir) >= 15), "consume queue files: {}", files(&cq_dir));
    assert!(
        wait_until(Duration::from_secs(20), || files(&log_dir) == 1),
        "expired segments were not deleted: {} left",
        files(&log_dir)
    );
    // The retention run updates queue min offsets just after deleting segments: wait for it.
    assert!(
        wait_until(T, || min_offset(&c, &addr, "RetTopic") == expected_min),
        "min offset {} != {expected_min}",
        min_offset(&c, &addr, "RetTopic")
    );
    let min = expected_min;
    assert!(files(&cq_dir) < 15, "consume queue files were not deleted");
    // A consumer at offset 0 is moved to the new min offset.
    let (code, next, _) = pull(&c, &addr, "RetTopic", 0, 0);
    assert_eq!((code, next), (rs::PULL_OFFSET_MOVED, min));
    let rest = pull_all(&c, &addr, "RetTopic", 0, min);
    assert_eq!(rest.len(), N - min as usize);
    for (k, (qo, b)) in rest.iter().enumerate() {
        assert_eq!(*qo, min + k as i64);
        assert_eq!(*b, body(min as usize + k));
    }
    // New sends continue the queue.
    assert_eq!(send(&c, &addr, "RetTopic", 0, body(N)).i64_field("queueOffset").unwrap(), N as i64);

    // Full disk: restart with a warning level the disk always exceeds.
    cluster.broker.stop();
    cluster.broker_args.push("--diskSpaceWarningLevelRatio=0".into());
    cluster.broker_args.push("--cleanFileForciblyEnable=false".into());
    cluster.restart_broker();
    let addr = cluster.broker_addr();
    let r = send(&c, &addr, "RetTopic", 0, body(N + 1));
    assert_eq!(r.code, rs::SERVICE_NOT_AVAILABLE);
    assert!(r.remark.as_deref().unwrap_or("").contains("disk is full"), "{:?}", r.remark);
    let log = std::fs::read_to_string(&cluster.broker.log).unwrap();
    assert!(log.contains("disk full"), "no disk-full log line");
    let min2 = min_offset(&c, &addr, "RetTopic");
    assert_eq!(min2, min);
    let rest = pull_all(&c, &addr, "RetTopic", 0, min2);
    assert_eq!(rest.len(), N + 1 - min as usize);
    assert_eq!(rest.last().unwrap().1, body(N));

    // Space again: sends work and append after the last stored message.
    cluster.broker.stop();
    cluster.broker_args.truncate(cluster.broker_args.len() - 2);
    cluster.restart_broker();
    let addr = cluster.broker_addr();
    let r = send(&c, &addr, "RetTopic", 0, body(N + 1));
    assert_eq!((r.code, r.i64_field("queueOffset").unwrap()), (rs::SUCCESS, N as i64 + 1));
}
