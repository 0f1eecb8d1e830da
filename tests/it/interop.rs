//! Interop with Apache's C++ client (PyPI `rocketmq` 0.4.4, librocketmq.so + ctypes), installed
//! into a venv by the test itself: produce, push-consume, pull-consume, committed offsets.

use crate::util::{Cluster, TestDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py");
    let mut child = Command::new(python())
        .arg(script)
        .args(args)
        // The C++ client writes its logs under $HOME/logs; keep them in the test dir.
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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

    let (code, v) = consume("push", &ns, topic, "CG_push", 0, 10_000, home);
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
