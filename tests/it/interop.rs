//! Interop with Apache's C++ client (PyPI `rocketmq` 0.4.4, librocketmq.so + ctypes), installed
//! into a venv by the test itself: produce, push-consume, pull-consume, committed offsets.

use crate::util::{Cluster, TestDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The venv's python, created once per test run (a missing tool is a failure, never a skip).
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interop-venv");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/setup_venv.sh");
        let out =
            Command::new("bash").arg(script).arg(&venv).stderr(Stdio::inherit()).output().unwrap();
        assert!(
            out.status.success(),
            "setup_venv.sh failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let py =
            String::from_utf8(out.stdout).unwrap().lines().next_back().unwrap().trim().to_string();
        PathBuf::from(py)
    })
}

/// Run tests/python/interop.py with `args`; returns (exit code, last-line JSON).
pub fn interop(args: &[String], timeout: Duration, home: &Path) -> (i32, Value) {
    finish(spawn_interop(args, home), args, timeout)
}

/// Start tests/python/interop.py with `args` (stdout and stderr piped).
pub fn spawn_interop(args: &[String], home: &Path) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py");
    Command::new(python())
        .arg(script)
        .args(args)
        // The C++ client writes its logs under $HOME/logs; keep them in the test dir.
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait (killing it by PID after `timeout`) for an interop.py started by [`spawn_interop`];
/// returns (exit code, last-line JSON).
pub fn finish(mut child: Child, args: &[String], timeout: Duration) -> (i32, Value) {
    let end = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("interop.py {:?} did not finish within {:?}", args.first(), timeout);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rfind(|l| l.trim_start().starts_with('{')).unwrap_or("{}");
    let v: Value = serde_json::from_str(last).unwrap_or(Value::Null);
    if !status.success() {
        eprintln!(
            "interop.py {:?} exit {:?}\nstdout: {}\nstderr: {}",
            args,
            status.code(),
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (status.code().unwrap_or(-1), v)
}

pub fn produce(ns: &str, topic: &str, start: u64, count: u64, home: &Path) -> Value {
    let args: Vec<String> =
        ["produce", "--namesrv", ns, "--topic", topic, "--group", "PG_interop", "--count"]
            .iter()
            .map(|s| s.to_string())
            .chain([count.to_string(), "--start".into(), start.to_string()])
            .collect();
    let (code, v) = interop(&args, Duration::from_secs(300), home);
    assert_eq!(code, 0, "produce failed: {v}");
    assert_eq!(v["ok"], count, "every send must be SEND_OK: {v}");
    v
}

pub fn consume(
    mode: &str,
    ns: &str,
    topic: &str,
    group: &str,
    start: u64,
    count: u64,
    home: &Path,
) -> (i32, Value) {
    let args: Vec<String> = [mode, "--namesrv", ns, "--topic", topic, "--group", group]
        .iter()
        .map(|s| s.to_string())
        .chain([
            "--expect-start".into(),
            start.to_string(),
            "--expect-count".into(),
            count.to_string(),
            "--timeout".into(),
            "180".into(),
        ])
        .collect();
    interop(&args, Duration::from_secs(300), home)
}

fn broker_offset(broker: &str, code: i32, group: &str, topic: &str, q: i32) -> Option<i64> {
    let req = rmq::protocol::command::RemotingCommand::request(code)
        .with("consumerGroup", group)
        .with("topic", topic)
        .with("queueId", q);
    let r =
        rmq::remoting::RemotingClient::new().invoke(broker, req, Duration::from_secs(5)).ok()?;
    (r.code == 0).then(|| r.field("offset").and_then(|o| o.parse().ok())).flatten()
}

/// A push consume run ([`consume`]) that shuts the C++ consumer down only once the broker holds
/// its committed offsets at the end of each of the topic's `queues` queues. The C++ client
/// (1.2.x, RemoteBrokerOffsetStore::updateConsumeOffsetToBroker) commits on shutdown with a
/// ONEWAY request and then closes its connections, so that last commit can be lost; its
/// periodic commit (every 5 s) is what this waits for. Fails if the offsets never get there.
#[allow(clippy::too_many_arguments)]
pub fn push_until_committed(
    ns: &str,
    broker: &str,
    topic: &str,
    queues: i32,
    group: &str,
    start: u64,
    count: u64,
    home: &Path,
) -> (i32, Value) {
    use rmq::protocol::codes::request as rq;
    let hold = home.join(format!("hold-{group}-{start}"));
    let _ = std::fs::remove_file(&hold);
    let args: Vec<String> = ["push", "--namesrv", ns, "--topic", topic, "--group", group]
        .iter()
        .map(|s| s.to_string())
        .chain([
            "--expect-start".into(),
            start.to_string(),
            "--expect-count".into(),
            count.to_string(),
            "--timeout".into(),
            "180".into(),
            "--hold-file".into(),
            hold.display().to_string(),
        ])
        .collect();
    let mut child = spawn_interop(&args, home);
    let end = Instant::now() + Duration::from_secs(240);
    let committed = || {
        (0..queues).all(|q| {
            let max = broker_offset(broker, rq::GET_MAX_OFFSET, group, topic, q);
            let done = broker_offset(broker, rq::QUERY_CONSUMER_OFFSET, group, topic, q);
            max.is_some() && done == max
        })
    };
    let mut all_committed = false;
    while Instant::now() < end && child.try_wait().ok().flatten().is_none() {
        if committed() {
            all_committed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::fs::write(&hold, b"go").unwrap();
    let (code, v) = finish(child, &args, Duration::from_secs(120));
    assert!(all_committed, "the C++ consumer never committed the end of every queue: {v}");
    (code, v)
}

#[test]
fn cpp_client_produce_push_pull_and_offsets_hold() {
    let dir = TestDir::new("interop");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let home = &dir.path;
    let topic = "InteropTopic";
    produce(&ns, topic, 0, 10_000, home);

    // The topic was auto-created through TBW102 with the client's 4 queues.
    let c = rmq::remoting::RemotingClient::new();
    let mut total = 0;
    for q in 0..4 {
        let r = c
            .invoke(
                &cluster.broker_addr(),
                rmq::protocol::command::RemotingCommand::request(
                    rmq::protocol::codes::request::GET_MAX_OFFSET,
                )
                .with("topic", topic)
                .with("queueId", q),
                Duration::from_secs(5),
            )
            .unwrap();
        let n: i64 = r.field("offset").unwrap().parse().unwrap();
        assert!(n > 0, "queue {q} got no messages");
        total += n;
    }
    assert_eq!(total, 10_000);

    let broker = cluster.broker_addr();
    let (code, v) = push_until_committed(&ns, &broker, topic, 4, "CG_push", 0, 10_000, home);
    assert_eq!(code, 0, "push consume failed: {v}");
    assert_eq!(v["distinct"], 10_000);
    assert_eq!(v["missing"], 0);
    assert_eq!(v["bad_count"], 0, "{v}");

    let (code, v) = consume("pull", &ns, topic, "CG_pull", 0, 10_000, home);
    assert_eq!(code, 0, "pull consume failed: {v}");
    assert_eq!(v["distinct"], 10_000);
    assert_eq!(v["bad_count"], 0, "{v}");

    // Restart the push consumer: its committed offsets hold, only new messages arrive.
    produce(&ns, topic, 10_000, 200, home);
    let (code, v) = consume("push", &ns, topic, "CG_push", 10_000, 200, home);
    assert_eq!(code, 0, "second push consume failed: {v}");
    assert_eq!(v["distinct"], 200);
    assert_eq!(v["outside"], 0, "committed offsets must hold (no redelivery of old messages): {v}");
}

/// Under SYNC_FLUSH the broker answers sends from the group commit (a responder thread writes
/// the response): Apache's C++ client gets SEND_OK for every send and every message is there.
#[test]
fn cpp_client_sends_to_a_sync_flush_broker() {
    let dir = TestDir::new("interop-sync");
    let cluster = Cluster::start(&dir.path, &["--flushDiskType=SYNC_FLUSH"]);
    let ns = cluster.namesrv_addr();
    let topic = "InteropSyncTopic";
    produce(&ns, topic, 0, 2_000, &dir.path);
    let (code, v) = consume("pull", &ns, topic, "CG_sync_pull", 0, 2_000, &dir.path);
    assert_eq!(code, 0, "pull consume failed: {v}");
    assert_eq!(v["distinct"], 2_000);
    assert_eq!(v["bad_count"], 0, "{v}");
}
