//! The Python binding (bindings/python, package `rmq`): pip-installed into a venv under
//! target/tmp, loading the librmq the harness built (RMQ_LIB); its unit and drift tests, the
//! Python examples against a live broker, 100,000 messages end to end, and interop with Apache's
//! C++ client's Python package (tests/python/interop.py) both ways.

use super::{bodies, check_orderly, lib_path, received, run, run_ok, ROOT};
use crate::util::{Cluster, TestDir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The venv's python with `rmq` installed from a copy of bindings/python (no build files left in
/// the repository). A missing tool is a failure, never a skip.
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let venv = tmp.join("ffi-venv");
        let py = venv.join("bin/python");
        if !py.exists() {
            let st =
                Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3");
            assert!(st.success(), "python3 -m venv {} failed", venv.display());
        }
        let src = tmp.join("ffi-pysrc");
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(src.join("rmq")).unwrap();
        let from = Path::new(ROOT).join("bindings/python");
        for f in ["pyproject.toml", "README.md"] {
            std::fs::copy(from.join(f), src.join(f)).unwrap();
        }
        for e in std::fs::read_dir(from.join("rmq")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                std::fs::copy(&p, src.join("rmq").join(p.file_name().unwrap())).unwrap();
            }
        }
        let pip = |isolated: bool| {
            let mut c = Command::new(&py);
            c.args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--force-reinstall",
                "--no-deps",
            ]);
            if !isolated {
                // Quiet: this first attempt fails harmlessly where the venv lacks `wheel`.
                c.arg("--no-build-isolation").stderr(std::process::Stdio::null());
            }
            c.arg(&src).status().is_ok_and(|s| s.success())
        };
        // Offline-friendly first (the venv's own setuptools), then pip's isolated build.
        assert!(pip(false) || pip(true), "pip install bindings/python failed");
        py
    })
}

pub(crate) fn py_cmd(script: &str) -> Command {
    let mut c = Command::new(python());
    c.arg(Path::new(ROOT).join(script)).env("RMQ_LIB", lib_path()).env("PYTHONUNBUFFERED", "1");
    c
}

pub(crate) fn last_json(stdout: &str) -> Value {
    let last = stdout.lines().rfind(|l| l.trim_start().starts_with('{')).unwrap_or("{}");
    serde_json::from_str(last).unwrap_or(Value::Null)
}

/// binding_e2e.py with `args`; requires exit 0 and returns its JSON.
fn e2e(args: &[&str], timeout: Duration) -> Value {
    last_json(&run_ok(py_cmd("tests/python/binding_e2e.py").args(args), timeout))
}

#[test]
fn python_binding_unit_drift_and_broker_tests_pass() {
    let dir = TestDir::new("ffi-py-unit");
    let cluster = Cluster::start(&dir.path, &[]);
    let o = run(
        Command::new(python())
            .args(["-m", "unittest", "discover", "-v", "-s"])
            .arg(Path::new(ROOT).join("bindings/python/tests"))
            .current_dir(&dir.path)
            .env("RMQ_LIB", lib_path())
            .env("RMQ_HEADER", Path::new(ROOT).join("include/rmq.h"))
            .env("RMQ_NAMESRV", cluster.namesrv_addr()),
        Duration::from_secs(180),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "python unit tests failed:\n{err}");
    let ran: usize = err
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ").and_then(|r| r.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0);
    assert!(ran >= 10 && err.contains("test_struct_layouts_match (test_drift"), "{err}");
    assert!(!err.contains("skipped"), "the broker tests must run here: {err}");
}

#[test]
fn python_examples_produce_and_consume_against_a_broker() {
    let dir = TestDir::new("ffi-py-examples");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let t = Duration::from_secs(120);
    for (mode, n) in [("sync", 100), ("async", 100)] {
        let topic = format!("PyTopic_{mode}");
        let out = run_ok(
            py_cmd("examples/python/producer.py").args([&ns, &topic, &n.to_string(), mode]),
            t,
        );
        assert!(out.contains(&format!("sent {n}")), "{out}");
        let out = run_ok(
            py_cmd("examples/python/pull_consumer.py").args([
                &ns,
                &topic,
                "CG_py_pull",
                &n.to_string(),
                "60",
            ]),
            t,
        );
        let set: BTreeSet<String> = received(&out).into_iter().map(|g| g.2).collect();
        assert_eq!(set, bodies(&topic, n), "{mode}: pulled bodies differ");
    }
    let out = run_ok(
        py_cmd("examples/python/push_consumer.py").args([
            &ns,
            "PyTopic_sync",
            "CG_py_push",
            "100",
            "90",
        ]),
        t,
    );
    let set: BTreeSet<String> = received(&out).into_iter().map(|g| g.2).collect();
    assert_eq!(set, bodies("PyTopic_sync", 100));

    run_ok(
        py_cmd("examples/python/producer.py").args([&ns, "PyTopic_orderly", "80", "orderly"]),
        t,
    );
    let out = run_ok(
        py_cmd("examples/python/orderly_consumer.py").args([
            &ns,
            "PyTopic_orderly",
            "CG_py_orderly",
            "80",
            "90",
        ]),
        t,
    );
    check_orderly(&received(&out), 4, 20);
}

#[test]
fn python_100k_messages_end_to_end_and_interop_with_apache_client() {
    let dir = TestDir::new("ffi-py-100k");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let t = Duration::from_secs(600);

    // 100,000 messages through the binding both ways, every field checked by the consumer.
    let v = e2e(
        &[
            "produce",
            "--namesrv",
            &ns,
            "--topic",
            "PyBig",
            "--group",
            "PG_py",
            "--count",
            "100000",
            "--mode",
            "async",
        ],
        t,
    );
    assert_eq!(v["ok"], 100_000, "{v}");
    eprintln!("python binding: 100000 async sends in {} s", v["seconds"]);
    let v = e2e(
        &[
            "push",
            "--namesrv",
            &ns,
            "--topic",
            "PyBig",
            "--group",
            "CG_py_big",
            "--expect-start",
            "0",
            "--expect-count",
            "100000",
            "--timeout",
            "400",
        ],
        t,
    );
    assert_eq!(v["distinct"], 100_000, "{v}");
    assert_eq!(v["missing"], 0, "{v}");
    assert_eq!(v["bad_count"], 0, "{v}");

    // Apache's client sends, our binding consumes (pull), fields checked.
    let home = &dir.path;
    crate::interop::produce(&ns, "PyInterA", 0, 2000, home);
    let v = e2e(
        &[
            "pull",
            "--namesrv",
            &ns,
            "--topic",
            "PyInterA",
            "--group",
            "CG_py_inter",
            "--expect-start",
            "0",
            "--expect-count",
            "2000",
        ],
        t,
    );
    assert_eq!(v["distinct"], 2000, "{v}");
    assert_eq!(v["bad_count"], 0, "{v}");

    // Our binding sends (sync), Apache's client consumes (push), fields checked.
    let v = e2e(
        &[
            "produce",
            "--namesrv",
            &ns,
            "--topic",
            "PyInterB",
            "--group",
            "PG_py",
            "--count",
            "2000",
        ],
        t,
    );
    assert_eq!(v["ok"], 2000, "{v}");
    let (code, v) = crate::interop::consume("push", &ns, "PyInterB", "CG_apache", 0, 2000, home);
    assert_eq!(code, 0, "Apache's client could not consume what the binding sent: {v}");
    assert_eq!(v["distinct"], 2000, "{v}");
    assert_eq!(v["bad_count"], 0, "{v}");
}
