//! Apache's PyPI bindings, unchanged, on rmq's librocketmq.so: `rocketmq` 0.4.4 (built for the
//! 1.2.x library) from the interop venv, and `rocketmq-python-cvs` 2.1.0.3 (the 2.1.0 library)
//! from its own venv. Each installed package is copied to a directory of its own with its
//! bundled librocketmq.so replaced by ours, and put first on PYTHONPATH; nothing else changes.
//! The programs are tests/python/interop.py (produce with tags, keys and properties, push, pull
//! from offset 0, orderly, delayed, broadcasting) and tests/python/compat_binding.py (batch,
//! async callbacks, the bindings' own push and pull API, destroyed handles, transactions through
//! ctypes on the 2.x C API, the log-path setters). $HOME is an empty directory that must stay
//! empty (broadcasting consumers, which keep offsets in $HOME/.rocketmq_offsets as Apache's do,
//! get homes of their own).

use super::{lib_path, BROKER_FLAGS};
use crate::ffi::run;
use crate::util::{wait_until, Cluster, TestDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Which Apache binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// PyPI `rocketmq` 0.4.4.
    V1,
    /// PyPI `rocketmq-python-cvs` 2.1.0.3.
    V2,
}

struct Env {
    python: PathBuf,
    /// The installed package directory (with Apache's library).
    installed: PathBuf,
    /// Directory put on PYTHONPATH: holds the copy `rocketmq/` with our library.
    path: PathBuf,
}

/// `rocketmq-python-cvs` 2.1.0.3 in its own venv (it imports as `rocketmq` too). Its sdist
/// carries a prebuilt librocketmq.so, so installing it builds nothing.
fn cvs_python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compat-cvs-venv");
    let out = Command::new("bash")
        .arg(format!("{ROOT}/tests/python/setup_venv.sh"))
        .arg(&venv)
        .env("RMQ_PY_PKG", "rocketmq-python-cvs==2.1.0.3")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "setup_venv.sh (rocketmq-python-cvs): {}",
        String::from_utf8_lossy(&out.stdout)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().lines().next_back().unwrap().trim())
}

fn env(b: Binding) -> &'static Env {
    static V1: OnceLock<Env> = OnceLock::new();
    static V2: OnceLock<Env> = OnceLock::new();
    let cell = if b == Binding::V1 { &V1 } else { &V2 };
    cell.get_or_init(|| {
        let python = match b {
            Binding::V1 => crate::interop::python().to_path_buf(),
            Binding::V2 => cvs_python(),
        };
        let find = "import importlib.util; print(importlib.util.find_spec('rocketmq').submodule_search_locations[0])";
        let o = Command::new(&python).args(["-c", find]).output().unwrap();
        assert!(o.status.success(), "cannot locate the rocketmq package: {}", String::from_utf8_lossy(&o.stderr));
        let installed = PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("compat-py-{b:?}"));
        let copy = path.join("rocketmq");
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&copy).unwrap();
        for e in std::fs::read_dir(&installed).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && p.file_name().is_some_and(|n| n != "librocketmq.so") {
                std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
            }
        }
        std::fs::copy(lib_path(), copy.join("librocketmq.so")).unwrap();
        // The copy imports and the library it loaded is ours.
        let check = "from rocketmq import ffi; import ctypes; \
                     ffi.dll.ShowProducerVersion.restype = ctypes.c_char_p; \
                     p = ffi.dll.CreateProducer(b'g'); \
                     print(ffi._DYLIB_PATH); print(ffi.dll.ShowProducerVersion(ctypes.c_void_p(p)).decode())";
        let o = Command::new(&python).args(["-c", check]).env("PYTHONPATH", &path).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.starts_with(&copy.join("librocketmq.so").display().to_string()) && text.contains("rmq-compat"),
            "the copied binding does not load our library: {text} {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Env { python, installed, path }
    })
}

/// The installed binding's ffi.py (the list of C functions it calls).
/// The PYTHONPATH that loads PyPI `rocketmq` 0.4.4 with rmq's librocketmq.so (tests/it/acl.rs).
pub fn v1_pythonpath() -> PathBuf {
    env(Binding::V1).path.clone()
}

pub fn binding_ffi_py(b: Binding) -> PathBuf {
    env(b).installed.join("ffi.py")
}

/// Run `script` (under tests/python) with the binding; returns (exit code, last-line JSON).
fn driver(b: Binding, script: &str, args: &[&str], home: &Path) -> (i32, Value) {
    let e = env(b);
    let mut c = Command::new(&e.python);
    c.arg(format!("{ROOT}/tests/python/{script}"))
        .args(args)
        .env("PYTHONPATH", &e.path)
        .env("PYTHONUNBUFFERED", "1")
        .env("HOME", home)
        .env_remove("ROCKETMQ_CLIENT_LOG_DIR");
    let o = run(&mut c, Duration::from_secs(240));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = stdout.lines().rfind(|l| l.trim_start().starts_with('{')).unwrap_or("{}");
    let v: Value = serde_json::from_str(last).unwrap_or(Value::Null);
    if !o.status.success() {
        eprintln!(
            "{script} {args:?} ({b:?}) exit {:?}\nstderr: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    (o.status.code().unwrap_or(-1), v)
}

fn ok(b: Binding, script: &str, args: &[&str], home: &Path) -> Value {
    let (code, v) = driver(b, script, args, home);
    assert_eq!(code, 0, "{script} {args:?} ({b:?}): {v}");
    v
}

fn produce(b: Binding, ns: &str, topic: &str, start: u64, n: u64, extra: &[&str], home: &Path) {
    let (s, n_s) = (start.to_string(), n.to_string());
    let mut a = vec![
        "produce",
        "--namesrv",
        ns,
        "--topic",
        topic,
        "--group",
        "PG_compat_py",
        "--count",
        &n_s,
        "--start",
        &s,
    ];
    a.extend(extra);
    let v = ok(b, "interop.py", &a, home);
    assert_eq!(v["ok"], n, "{v}");
}

/// interop.py `cmd` ("push" or "pull") as consumer group `group`, expecting messages 0..n.
fn consume(
    b: Binding,
    ns: &str,
    topic: &str,
    (cmd, group): (&str, &str),
    n: u64,
    extra: &[&str],
    home: &Path,
) -> Value {
    let n_s = n.to_string();
    let mut a =
        vec![cmd, "--namesrv", ns, "--topic", topic, "--group", group, "--expect-start", "0"];
    a.extend(["--expect-count", &n_s, "--timeout", "120"]);
    a.extend(extra);
    let v = ok(b, "interop.py", &a, home);
    assert_eq!(
        (v["missing"].as_u64(), v["bad_count"].as_u64()),
        (Some(0), Some(0)),
        "{cmd} {topic}: {v}"
    );
    v
}

fn extra_cmd(b: Binding, cmd: &str, ns: &str, topic: &str, n: u64, home: &Path) -> Value {
    let n_s = n.to_string();
    let group = format!("G_compat_{cmd}");
    ok(
        b,
        "compat_binding.py",
        &[cmd, "--namesrv", ns, "--topic", topic, "--group", &group, "--count", &n_s],
        home,
    )
}

fn assert_empty(home: &Path, what: &str) {
    let entries: Vec<_> = std::fs::read_dir(home).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(entries.is_empty(), "{what} wrote under $HOME: {entries:?}");
}

/// Two broadcasting consumers of one group each get every message.
fn broadcast(b: Binding, ns: &str, topic: &str, dir: &Path) {
    let home = dir.join("producer-home");
    std::fs::create_dir_all(&home).unwrap();
    produce(b, ns, topic, 1_000_000, 4, &[], &home);
    let mut ready = Vec::new();
    let mut consumers = Vec::new();
    for name in ["a", "b"] {
        let h = dir.join(format!("cast-{name}"));
        std::fs::create_dir_all(&h).unwrap();
        let rf = h.join("ready");
        ready.push(rf.clone());
        let (ns, topic) = (ns.to_string(), topic.to_string());
        consumers.push(std::thread::spawn(move || {
            let rf = rf.display().to_string();
            let extra =
                ["--broadcast", "--ready-file", rf.as_str(), "--ready-queues", "4", "--idle", "1"];
            consume(b, &ns, &topic, ("push", "CG_compat_cast"), 50, &extra, &h)
        }));
    }
    // Broadcasting consumers start at the queues' ends: warm up until both saw all four queues.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut w = 1_000_100;
    while !ready.iter().all(|f| f.exists()) {
        assert!(Instant::now() < deadline, "broadcast consumers never became ready");
        produce(b, ns, topic, w, 8, &[], &home);
        w += 8;
        wait_until(Duration::from_secs(2), || ready.iter().all(|f| f.exists()));
    }
    produce(b, ns, topic, 0, 50, &[], &home);
    for c in consumers {
        let v = c.join().unwrap();
        assert_eq!(v["distinct"], 50, "{v}");
    }
}

/// Everything both bindings must do against rmq-broker through our library.
fn exercise(b: Binding) {
    let dir = TestDir::new(&format!("compat-py-{b:?}"));
    let cluster = Cluster::start(&dir.path, &BROKER_FLAGS);
    let ns = cluster.namesrv_addr();
    let home = dir.path.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let t = |s: &str| format!("Compat{b:?}_{s}");

    // Tags, keys and properties (interop.py checks each, and the body's checksum property).
    produce(b, &ns, &t("plain"), 0, 100, &[], &home);
    let v = consume(b, &ns, &t("plain"), ("push", "CG_compat_push"), 100, &[], &home);
    assert_eq!((v["distinct"].as_u64(), v["duplicates"].as_u64()), (Some(100), Some(0)), "{v}");
    let v = consume(b, &ns, &t("plain"), ("pull", "CG_compat_pull"), 100, &[], &home);
    assert_eq!(v["distinct"], 100, "{v}");
    assert!(
        v["offsets"].as_object().unwrap().values().map(|o| o.as_i64().unwrap()).sum::<i64>() == 100,
        "{v}"
    );
    // Tag filtering by the broker and the client.
    let v = consume(
        b,
        &ns,
        &t("plain"),
        ("push", "CG_compat_tags"),
        100,
        &["--expression", "TagA || TagC"],
        &home,
    );
    assert_eq!((v["distinct"].as_u64(), v["unwanted"].as_u64()), (Some(67), Some(0)), "{v}");
    // Orderly: per-key order with the binding's hashing selector and an orderly consumer.
    produce(b, &ns, &t("orderly"), 0, 80, &["--order-keys", "4"], &home);
    let v = consume(
        b,
        &ns,
        &t("orderly"),
        ("push", "CG_compat_orderly"),
        80,
        &["--orderly", "--order-keys", "4"],
        &home,
    );
    assert_eq!(v["order_violations"].as_array().unwrap().len(), 0, "{v}");
    // Delayed: level 2 is 2 s on this broker.
    produce(b, &ns, &t("delay"), 0, 10, &["--delay-level", "2"], &home);
    let v =
        consume(b, &ns, &t("delay"), ("push", "CG_compat_delay"), 10, &["--idle", "0.5"], &home);
    assert!(v["min_delay_ms"].as_i64().unwrap() >= 2000, "delivered before its delay: {v}");
    // E_RECONSUME_LATER through send-back: redelivered with reconsume times 1 and more.
    produce(b, &ns, &t("later"), 0, 5, &[], &home);
    let v = consume(
        b,
        &ns,
        &t("later"),
        ("push", "CG_compat_later"),
        5,
        &["--reconsume-later", "1"],
        &home,
    );
    assert!(v["reconsumed"].as_u64().unwrap() > 0, "{v}");
    // The bindings' own API: batch, async (success and exception callbacks), push, pull.
    let v = extra_cmd(b, "batch", &ns, &t("batch"), 50, &home);
    assert_eq!((v["batches"].as_u64(), v["distinct"].as_u64()), (Some(5), Some(50)), "{v}");
    let v = extra_cmd(b, "async", &ns, &t("async"), 50, &home);
    assert_eq!(v["ok"], 50, "{v}");
    produce(b, &ns, &t("api"), 0, 40, &[], &home);
    let v = extra_cmd(b, "pushapi", &ns, &t("api"), 40, &home);
    assert_eq!(v["distinct"], 40, "{v}");
    let v = extra_cmd(b, "pullapi", &ns, &t("api"), 40, &home);
    assert_eq!(v["distinct"], 40, "{v}");
    let v = extra_cmd(b, "handles", &ns, &t("handles"), 0, &home);
    assert_eq!(v["checks"], 14, "{v}");
    if b == Binding::V2 {
        // Transactions through ctypes on the 2.x C API: commit, rollback, unknown then check-back.
        let v = extra_cmd(b, "txn", &ns, &t("txn"), 30, &home);
        assert_eq!(v["checked"]["unknown"].as_array().unwrap().len(), 10, "{v}");
    }
    assert_empty(&home, "the binding");
    broadcast(b, &ns, &t("cast"), &dir.path);
}

#[test]
fn compat_binding_0_4_4_unchanged_runs_on_our_library() {
    exercise(Binding::V1);
}

#[test]
fn compat_binding_2_1_unchanged_runs_on_our_library_with_transactions() {
    exercise(Binding::V2);
}

#[test]
fn compat_log_path_setters_are_honoured_and_home_stays_empty() {
    let dir = TestDir::new("compat-logs");
    let cluster = Cluster::start(&dir.path, &BROKER_FLAGS);
    let ns = cluster.namesrv_addr();
    for b in [Binding::V1, Binding::V2] {
        let home = dir.path.join(format!("home-{b:?}"));
        let logs = dir.path.join(format!("logs-{b:?}/nested"));
        std::fs::create_dir_all(&home).unwrap();
        let d = logs.display().to_string();
        let topic = format!("CompatLogs{b:?}");
        let v = ok(
            b,
            "compat_binding.py",
            &["logpath", "--namesrv", &ns, "--topic", &topic, "--group", "G_logs", "--dir", &d],
            &home,
        );
        assert_eq!(v["files"].as_array().unwrap().len(), 1, "{v}");
        let name = v["files"][0].as_str().unwrap();
        assert!(name.ends_with("_rocketmq-cpp.log"), "{v}");
        let text = std::fs::read_to_string(logs.join(name)).unwrap();
        assert!(text.contains("producer started group=G_logs"), "{text}");
        assert!(text.contains("push consumer started group=G_logs_c"), "{text}");
        assert!(text.contains("(debug)"), "the DEBUG level set is applied: {text}");
        assert_empty(&home, "a program that set its log path");
    }
}
