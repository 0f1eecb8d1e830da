//! The C ABI (issue 6): librmq built by `cargo build -p rmq-ffi`, installed with ffi/install.sh into
//! a test prefix, and the C and C++ examples compiled with pkg-config and run against a live
//! rmq-broker; bad input over the ABI; valgrind over the C programs. Python: ffi/python.rs.

pub(crate) mod python;

use crate::util::{Cluster, TestDir};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `target/<profile>` of this test binary (target/debug/deps/it-… → target/debug).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// librmq built once per test run and installed (lib, include, pkgconfig) under target/tmp.
pub fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let release = profile_dir().file_name().is_some_and(|n| n == "release");
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(ROOT).args(["build", "-p", "rmq-ffi"]);
        if release {
            build.arg("--release");
        }
        let st = build.status().expect("cargo build -p rmq-ffi");
        assert!(st.success(), "cargo build -p rmq-ffi failed");
        let prefix = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ffi-prefix");
        let target = profile_dir().parent().unwrap().to_path_buf();
        let st = Command::new("bash")
            .current_dir(ROOT)
            .arg("ffi/install.sh")
            .arg(&prefix)
            .args(if release { ["--no-build", "--no-build"] } else { ["--debug", "--no-build"] })
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .unwrap();
        assert!(st.success(), "ffi/install.sh failed");
        prefix
    })
}

pub fn lib_path() -> PathBuf {
    prefix().join("lib/librmq.so")
}

/// `pkg-config --cflags --libs rmq` against the test prefix.
fn pkg_config() -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(["--cflags", "--libs", "rmq"])
        .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
        .output()
        .expect("pkg-config must be installed");
    assert!(out.status.success(), "pkg-config rmq: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().split_whitespace().map(str::to_string).collect()
}

/// Compile C (`-std=c99`/`c11`) or C++17 sources into `dir/name` with the installed librmq.
pub fn compile(srcs: &[&str], dir: &Path, name: &str, std: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let cpp = std.starts_with("c++"); // rmq.hpp comes from the installed prefix, like rmq.h
    let mut cmd = Command::new(if cpp { "g++" } else { "gcc" });
    cmd.arg(format!("-std={std}")).args(["-Wall", "-Wextra", "-Werror", "-pthread", "-g"]);
    cmd.args(extra);
    for s in srcs {
        cmd.arg(Path::new(ROOT).join(s));
    }
    cmd.args(pkg_config())
        .arg(format!("-Wl,-rpath,{}", prefix().join("lib").display()))
        .arg("-o")
        .arg(&out);
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "compiling {srcs:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Compile a C program against librmq.a (static), as README.md shows: the archive plus
/// `pkg-config --static --libs-only-l rmq` for the system libraries it needs.
fn compile_static(src: &str, dir: &Path, name: &str) -> PathBuf {
    let libs = Command::new("pkg-config")
        .args(["--static", "--libs-only-l", "rmq"])
        .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
        .output()
        .unwrap();
    let libs: Vec<String> = String::from_utf8(libs.stdout)
        .unwrap()
        .split_whitespace()
        .filter(|l| *l != "-lrmq")
        .map(str::to_string)
        .collect();
    let out = dir.join(name);
    let o = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg(format!("-I{}", prefix().join("include").display()))
        .arg(Path::new(ROOT).join(src))
        .arg(prefix().join("lib/librmq.a"))
        .args(libs)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "static link of {src} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Run a program to completion within `timeout` (killed by PID after it).
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    // Drain the pipes on threads so a chatty program never blocks on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let end = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} (pid {pid}) did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// Run and require exit 0; returns stdout.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> String {
    let desc = format!("{cmd:?}");
    let o = run(cmd, timeout);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{desc} exited {:?} (signal {:?})\nstdout (tail): {}\nstderr: {}",
        o.status.code(),
        std::os::unix::process::ExitStatusExt::signal(&o.status),
        stdout.lines().rev().take(20).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

/// valgrind, installed with apt-get if missing (a missing tool is a failure, never a skip).
fn valgrind() -> &'static str {
    static V: OnceLock<()> = OnceLock::new();
    V.get_or_init(|| {
        let have =
            Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
        if !have {
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
            let st = Command::new("apt-get")
                .args(["install", "-y", "-qq", "valgrind"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .expect("apt-get");
            assert!(st.success(), "valgrind is missing and apt-get install valgrind failed");
        }
    });
    "valgrind"
}

/// A command running `bin` under valgrind memcheck: any invalid access or definite/indirect leak
/// makes it exit 99. (Rust's process-wide statics show as "possibly lost"/"still reachable".)
pub fn under_valgrind(bin: &Path) -> Command {
    let mut c = Command::new(valgrind());
    c.args([
        "-q",
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,indirect",
        "--show-possibly-lost=no",
        "--show-reachable=no",
    ])
    .arg(bin);
    c
}

/// Bodies from "received <queue> <offset> <body>" lines.
pub fn received(stdout: &str) -> Vec<(i32, i64, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("received "))
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            let q = it.next().unwrap().parse().unwrap();
            let off = it.next().unwrap().parse().unwrap();
            (q, off, it.next().unwrap_or("").to_string())
        })
        .collect()
}

fn bodies(topic: &str, n: usize) -> BTreeSet<String> {
    (0..n).map(|i| format!("{topic}-{i}")).collect()
}

/// Each order's sequence numbers (bodies "order-<k>:<seq>") must arrive ascending and complete.
pub fn check_orderly(got: &[(i32, i64, String)], orders: usize, per_order: usize) {
    let mut seqs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut queue_of: BTreeMap<String, i32> = BTreeMap::new();
    for (q, _, b) in got {
        let (order, seq) = b.split_once(':').unwrap_or_else(|| panic!("bad orderly body {b}"));
        seqs.entry(order.to_string()).or_default().push(seq.parse().unwrap());
        let prev = *queue_of.entry(order.to_string()).or_insert(*q);
        assert_eq!(prev, *q, "{order} was spread over queues {prev} and {q}");
    }
    assert_eq!(seqs.len(), orders, "orders seen: {:?}", seqs.keys());
    for (order, s) in &seqs {
        let want: Vec<usize> = (0..per_order).collect();
        assert_eq!(s, &want, "{order} arrived out of order or incomplete");
    }
}

/// Wait until the name server has a route for `topic`.
fn wait_for_route(ns: &str, topic: &str) {
    let c = rmq::remoting::RemotingClient::new();
    let found = crate::util::wait_until(Duration::from_secs(30), || {
        let req = rmq::protocol::command::RemotingCommand::request(
            rmq::protocol::codes::request::GET_ROUTEINFO_BY_TOPIC,
        )
        .with("topic", topic);
        c.invoke(ns, req, Duration::from_secs(5)).is_ok_and(|r| r.code == 0)
    });
    assert!(found, "no route for {topic} on the name server");
}

#[test]
fn c_abi_bad_input_gets_a_status_plain_and_under_valgrind() {
    let dir = TestDir::new("ffi-bad");
    let bin = compile(&["tests/c/abi_bad_input.c"], &dir.path, "abi_bad_input", "c99", &[]);
    let out = run_ok(&mut Command::new(&bin), Duration::from_secs(60));
    let last = out.lines().last().unwrap_or("");
    assert!(last.ends_with("passed, 0 failed") && !last.starts_with("0 "), "{out}");
    let out = run_ok(&mut under_valgrind(&bin), Duration::from_secs(120));
    assert!(out.contains("passed, 0 failed"), "{out}");
}

#[test]
fn c_examples_produce_and_consume_against_a_broker() {
    let dir = TestDir::new("ffi-c");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let producer = compile(&["examples/c/producer.c"], &dir.path, "producer", "c11", &[]);
    let pull = compile(&["examples/c/pull_consumer.c"], &dir.path, "pull_consumer", "c11", &[]);
    let push = compile(&["examples/c/push_consumer.c"], &dir.path, "push_consumer", "c11", &[]);
    let orderly =
        compile(&["examples/c/orderly_consumer.c"], &dir.path, "orderly_consumer", "c11", &[]);
    let static_producer = compile_static("examples/c/producer.c", &dir.path, "producer_static");
    let t = Duration::from_secs(120);

    // Every send mode into its own topic; the pull consumer gets exactly the bodies sent. The
    // batch run uses the producer linked statically against librmq.a.
    for (mode, n) in [("sync", 200), ("async", 200), ("batch", 100), ("oneway", 50)] {
        let topic = format!("CTopic_{mode}");
        let bin = if mode == "batch" { &static_producer } else { &producer };
        let out = run_ok(Command::new(bin).args([&ns, &topic, &n.to_string(), mode]), t);
        assert!(out.contains(&format!("sent {n}")), "{out}");
        // The topic was auto-created by the sends; the broker registers it with the name server
        // asynchronously (a oneway producer may exit before that), and the pull consumer's first
        // route lookup must find it.
        wait_for_route(&ns, &topic);
        let out =
            run_ok(Command::new(&pull).args([&ns, &topic, "CG_c_pull", &n.to_string(), "60"]), t);
        let got = received(&out);
        assert_eq!(got.len(), n, "{mode}: pulled {} of {n}", got.len());
        let set: BTreeSet<String> = got.iter().map(|g| g.2.clone()).collect();
        assert_eq!(set, bodies(&topic, n), "{mode}: bodies differ");
    }
    // The pull consumer committed its offsets: a second run of the group finds nothing new.
    let out = run(Command::new(&pull).args([&ns, "CTopic_sync", "CG_c_pull", "1", "3"]), t).stdout;
    assert!(received(&String::from_utf8_lossy(&out)).is_empty(), "committed offsets did not hold");

    // Push consumer: every message of the sync topic, once.
    let out = run_ok(Command::new(&push).args([&ns, "CTopic_sync", "CG_c_push", "200", "90"]), t);
    let got = received(&out);
    let set: BTreeSet<String> = got.iter().map(|g| g.2.clone()).collect();
    assert_eq!(set, bodies("CTopic_sync", 200));

    // Selector, send to queue, publish queues, orderly keys, every received-message getter,
    // offsets and the log callback.
    let modes = compile(&["tests/c/send_modes.c"], &dir.path, "send_modes", "c11", &[]);
    let out = run_ok(Command::new(&modes).args([&ns, "CTopic_modes"]), t);
    assert!(out.contains(" passed, 0 failed"), "{out}");

    // Orderly: 4 orders x 25 steps, sent with sharding keys, consumed in order per order.
    run_ok(Command::new(&producer).args([&ns, "CTopic_orderly", "100", "orderly"]), t);
    let out = run_ok(
        Command::new(&orderly).args([&ns, "CTopic_orderly", "CG_c_orderly", "100", "90"]),
        t,
    );
    check_orderly(&received(&out), 4, 25);
}

#[test]
fn c_examples_and_lifecycles_run_clean_under_valgrind() {
    let dir = TestDir::new("ffi-valgrind");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let producer = compile(&["examples/c/producer.c"], &dir.path, "producer", "c11", &[]);
    let pull = compile(&["examples/c/pull_consumer.c"], &dir.path, "pull_consumer", "c11", &[]);
    let push = compile(&["examples/c/push_consumer.c"], &dir.path, "push_consumer", "c11", &[]);
    let lifecycle = compile(&["tests/c/lifecycle.c"], &dir.path, "lifecycle", "c11", &[]);
    let t = Duration::from_secs(300);

    for mode in ["sync", "async"] {
        let out = run_ok(under_valgrind(&producer).args([&ns, "VgTopic", "20", mode]), t);
        assert!(out.contains("sent 20"), "{out}");
    }
    let out = run_ok(under_valgrind(&pull).args([&ns, "VgTopic", "CG_vg_pull", "40", "120"]), t);
    assert_eq!(received(&out).len(), 40);
    let out = run_ok(under_valgrind(&push).args([&ns, "VgTopic", "CG_vg_push", "40", "120"]), t);
    // Both runs above sent VgTopic-0..19: 40 messages, 20 distinct bodies.
    let got = received(&out);
    assert!(got.len() >= 40, "push consumer under valgrind got {} of 40", got.len());
    let set: BTreeSet<String> = got.into_iter().map(|g| g.2).collect();
    assert_eq!(set, bodies("VgTopic", 20));

    let out = run_ok(under_valgrind(&lifecycle).args([&ns, "VgTopic", "CG_vg_lifecycle"]), t);
    assert!(out.contains("passed, 0 failed"), "{out}");
    let modes = compile(&["tests/c/send_modes.c"], &dir.path, "send_modes", "c11", &[]);
    let out = run_ok(under_valgrind(&modes).args([&ns, "VgTopic_modes"]), t);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn cpp_examples_produce_and_consume_against_a_broker() {
    let dir = TestDir::new("ffi-cpp");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let build =
        |name: &str| compile(&[&format!("examples/cpp/{name}.cpp")], &dir.path, name, "c++17", &[]);
    let (producer, push, orderly, pull) = (
        build("producer"),
        build("push_consumer"),
        build("orderly_consumer"),
        build("pull_consumer"),
    );
    let t = Duration::from_secs(120);

    for (mode, n) in [("sync", 150), ("async", 150)] {
        let topic = format!("CppTopic_{mode}");
        let out = run_ok(Command::new(&producer).args([&ns, &topic, &n.to_string(), mode]), t);
        assert!(out.contains(&format!("sent {n}")), "{out}");
        let out =
            run_ok(Command::new(&pull).args([&ns, &topic, "CG_cpp_pull", &n.to_string(), "60"]), t);
        let set: BTreeSet<String> = received(&out).into_iter().map(|g| g.2).collect();
        assert_eq!(set, bodies(&topic, n), "{mode}: pulled bodies differ");
    }
    let out =
        run_ok(Command::new(&push).args([&ns, "CppTopic_async", "CG_cpp_push", "150", "90"]), t);
    let set: BTreeSet<String> = received(&out).into_iter().map(|g| g.2).collect();
    assert_eq!(set, bodies("CppTopic_async", 150));

    run_ok(Command::new(&producer).args([&ns, "CppTopic_orderly", "80", "orderly"]), t);
    let out = run_ok(
        Command::new(&orderly).args([&ns, "CppTopic_orderly", "CG_cpp_orderly", "80", "90"]),
        t,
    );
    check_orderly(&received(&out), 4, 20);
}
