//! librocketmq.so, the drop-in replacement for Apache rocketmq-client-cpp's C library (issue 15):
//! built by `cargo build -p rmq-compat`, its soname, dependencies and exported symbols checked,
//! C programs written against Apache's API (tests/c/compat) compiled against
//! include/rocketmq and run against rmq-broker, plainly and under valgrind. The PyPI bindings
//! loading it unchanged: python.rs.

pub(crate) mod python;

use crate::ffi::{run_ok, under_valgrind};
use crate::util::{Cluster, TestDir};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Broker flags: transaction checks every 300 ms for halves older than 1 s; 1 s retry delays.
const BROKER_FLAGS: [&str; 3] = [
    "--transactionCheckInterval=300",
    "--transactionTimeOut=1000",
    "--messageDelayLevel=1s 2s 1s 1s 1s",
];

/// `target/<profile>` of this test binary (target/debug/deps/it-… → target/debug).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// The directory holding librocketmq.so, built once per test run and copied there alone (as an
/// install would put it), so programs link and load exactly this file.
pub fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let release = profile_dir().file_name().is_some_and(|n| n == "release");
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(ROOT).args(["build", "-p", "rmq-compat"]);
        if release {
            build.arg("--release");
        }
        assert!(build.status().expect("cargo build -p rmq-compat").success(), "build failed");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compat-lib");
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = dir.join("librocketmq.so.tmp");
        std::fs::copy(profile_dir().join("librocketmq.so"), &tmp).unwrap();
        std::fs::rename(&tmp, dir.join("librocketmq.so")).unwrap();
        dir
    })
}

pub fn lib_path() -> PathBuf {
    lib_dir().join("librocketmq.so")
}

/// Compile tests/c/compat/`name`.c against include/rocketmq and librocketmq.so, as a program
/// written for Apache's library is built: `-I.../rocketmq -lrocketmq`.
fn compile(name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(name);
    let o = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pthread", "-g"])
        .arg(format!("-I{ROOT}/include/rocketmq"))
        .arg(format!("{ROOT}/tests/c/compat/{name}.c"))
        .arg(format!("-L{}", lib_dir().display()))
        .arg("-lrocketmq")
        .arg(format!("-Wl,-rpath,{}", lib_dir().display()))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("gcc must be installed");
    assert!(
        o.status.success(),
        "compiling {name}.c failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// "received <queue> <offset> <body> <tags> <keys> <idx>" lines: body → (queue, tags, keys, idx).
fn received(stdout: &str) -> Vec<(String, i32, String, String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("received "))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            (at(2), at(0).parse().unwrap(), at(3), at(4), at(5))
        })
        .collect()
}

/// Every message i of `topic` exactly as tests/c/compat/producer.c built it.
fn assert_all_fields(got: &[(String, i32, String, String, String)], topic: &str, n: usize) {
    let by_body: BTreeMap<&str, _> = got.iter().map(|g| (g.0.as_str(), g)).collect();
    assert_eq!(by_body.len(), n, "distinct bodies of {topic}: {}", by_body.len());
    for i in 0..n {
        let body = format!("{topic}-{i}");
        let g = by_body.get(body.as_str()).unwrap_or_else(|| panic!("{body} missing"));
        assert_eq!(
            (g.2.as_str(), g.3.as_str(), g.4.as_str()),
            (&*format!("Tag{}", i % 3), &*format!("key-{i}"), &*i.to_string())
        );
    }
}

/// Bodies "order-<k>:<seq>": each order complete, ascending, in one queue.
fn assert_orderly(got: &[(String, i32, String, String, String)], orders: usize, per_order: usize) {
    let mut seqs: BTreeMap<String, (i32, Vec<usize>)> = BTreeMap::new();
    for (body, q, ..) in got {
        let (order, seq) =
            body.split_once(':').unwrap_or_else(|| panic!("bad orderly body {body}"));
        let e = seqs.entry(order.to_string()).or_insert((*q, Vec::new()));
        assert_eq!(e.0, *q, "{order} spread over queues");
        e.1.push(seq.parse().unwrap());
    }
    assert_eq!(seqs.len(), orders, "{:?}", seqs.keys());
    for (order, (_, s)) in seqs {
        assert_eq!(s, (0..per_order).collect::<Vec<_>>(), "{order} out of order or incomplete");
    }
}

#[test]
fn compat_c_programs_written_for_apaches_api_run_against_rmq_broker() {
    let dir = TestDir::new("compat-c");
    let cluster = Cluster::start(&dir.path, &BROKER_FLAGS);
    let ns = cluster.namesrv_addr();
    let [producer, push, pull, txn] =
        ["producer", "push_consumer", "pull_consumer", "transaction_producer"]
            .map(|n| compile(n, &dir.path));
    let t = Duration::from_secs(120);

    // Every send mode; the pull consumer reads each topic from offset 0 and checks every field.
    for (mode, n) in [("sync", 60), ("async", 60), ("async2", 60), ("oneway", 30), ("batch", 60)] {
        let topic = format!("CompatC_{mode}");
        let out = run_ok(Command::new(&producer).args([&ns, &topic, &n.to_string(), mode]), t);
        assert!(out.contains(&format!("sent {n}")), "{mode}: {out}");
        let out = run_ok(
            Command::new(&pull).args([&ns, &topic, "CG_compat_pull", &n.to_string(), "60"]),
            t,
        );
        assert_all_fields(&received(&out), &topic, n);
    }
    // Push: every message once, with its fields.
    let out =
        run_ok(Command::new(&push).args([&ns, "CompatC_sync", "CG_compat_push", "60", "60"]), t);
    assert_all_fields(&received(&out), "CompatC_sync", 60);
    // E_RECONSUME_LATER: each message comes back through send-back and the retry topic, with
    // reconsume times > 0 (the program counts only those).
    let out = run_ok(
        Command::new(&push).args([&ns, "CompatC_async", "CG_compat_later", "60", "90", "later"]),
        t,
    );
    assert_all_fields(&received(&out), "CompatC_async", 60);
    // Orderly, with a selector and with sharding keys: per-order sequence in one queue.
    for mode in ["orderly", "sharding"] {
        let topic = format!("CompatC_{mode}");
        run_ok(Command::new(&producer).args([&ns, &topic, "80", mode]), t);
        let out = run_ok(
            Command::new(&push).args([
                &ns,
                &topic,
                &format!("CG_compat_{mode}"),
                "80",
                "60",
                "orderly",
            ]),
            t,
        );
        assert_orderly(&received(&out), 4, 20);
    }
    // Transactions: commits visible, rollbacks never, unknowns resolved by the checker.
    let out = run_ok(Command::new(&txn).args([&ns, "CompatC_txn", "6", "60"]), t);
    assert!(out.contains("sent 18 executed 18 checked 6 bad 0 refused 1"), "{out}");
    let out = run_ok(Command::new(&pull).args([&ns, "CompatC_txn", "CG_compat_txn", "9", "30"]), t);
    let bodies: BTreeSet<String> = received(&out).into_iter().map(|g| g.0).collect();
    let mut want: BTreeSet<String> = (0..6).map(|i| format!("commit-{i}")).collect();
    want.extend([0, 2, 4].map(|i| format!("unknown-{i}")));
    assert_eq!(bodies, want);
}

#[test]
fn compat_lifecycles_bad_handles_and_round_trips_run_clean_under_valgrind() {
    let dir = TestDir::new("compat-valgrind");
    let cluster = Cluster::start(&dir.path, &BROKER_FLAGS);
    let ns = cluster.namesrv_addr();
    let life = compile("lifecycle", &dir.path);
    let t = Duration::from_secs(300);
    let out = run_ok(Command::new(&life).args([&ns, "CompatLife", "CG_life", "1000", "10"]), t);
    assert!(out.contains("round trips 1000 of 1000") && out.contains(" passed, 0 failed"), "{out}");
    // Under memcheck: no invalid access, no definite or indirect leak (exit 99 otherwise) across
    // 1,000 send/receive round trips, 10 start/shutdown loops and the wrong-order cases.
    let out =
        run_ok(under_valgrind(&life).args([&ns, "CompatLifeVg", "CG_life_vg", "1000", "10"]), t);
    assert!(out.contains("round trips 1000 of 1000") && out.contains(" passed, 0 failed"), "{out}");
    let producer = compile("producer", &dir.path);
    for mode in ["async", "batch"] {
        let out = run_ok(under_valgrind(&producer).args([&ns, "CompatVg", "20", mode]), t);
        assert!(out.contains("sent 20"), "{out}");
    }
    let push = compile("push_consumer", &dir.path);
    let out = run_ok(under_valgrind(&push).args([&ns, "CompatVg", "CG_vg_push", "20", "120"]), t);
    assert!(received(&out).len() >= 20, "{out}");
    let txn = compile("transaction_producer", &dir.path);
    let out = run_ok(under_valgrind(&txn).args([&ns, "CompatVgTxn", "2", "120"]), t);
    assert!(out.contains("checked 2 bad 0"), "{out}");
}

/// Names after `dll.` in a binding's ffi.py (not `cdll.`): every C function the binding calls.
fn binding_symbols(ffi_py: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(ffi_py).unwrap();
    let mut out = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("dll.") {
        let standalone =
            !rest[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        rest = &rest[at + 4..];
        let name: String =
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if standalone && !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Functions the headers declare (`ROCKETMQCLIENT_API <type> Name(`).
fn header_functions() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(format!("{ROOT}/include/rocketmq")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for decl in text.split("ROCKETMQCLIENT_API ").skip(1) {
            let head = decl.split('(').next().unwrap();
            if let Some(name) =
                head.split(|c: char| c.is_whitespace() || c == '*').rfind(|s| !s.is_empty())
            {
                out.insert(name.to_string());
            }
        }
    }
    out.remove("__attribute__");
    out
}

#[test]
fn compat_library_exports_what_bindings_and_headers_name_and_needs_only_libc() {
    let lib = lib_path();
    let dynamic = Command::new("readelf").arg("-d").arg(&lib).output().expect("readelf (binutils)");
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(dynamic.contains("Library soname: [librocketmq.so]"), "{dynamic}");
    let allowed = ["libc.so.6", "libm.so.6", "libpthread.so.0", "libz.so.1"];
    for line in dynamic.lines().filter(|l| l.contains("(NEEDED)")) {
        let name = line.split('[').nth(1).and_then(|s| s.split(']').next()).unwrap();
        // ld-linux is glibc's own dynamic loader (every dynamic object's interpreter).
        assert!(
            allowed.contains(&name) || name.starts_with("ld-linux"),
            "depends on {name}:\n{dynamic}"
        );
    }
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm (binutils)");
    let exported: BTreeSet<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    let mut wanted = header_functions();
    assert!(wanted.len() > 90, "header parse found only {}", wanted.len());
    let (b1, b2) =
        (python::binding_ffi_py(python::Binding::V1), python::binding_ffi_py(python::Binding::V2));
    let (s1, s2) = (binding_symbols(&b1), binding_symbols(&b2));
    assert!(s1.len() > 80 && s2.len() > 80, "ffi.py parse: {} and {}", s1.len(), s2.len());
    wanted.extend(s1);
    wanted.extend(s2);
    let missing: Vec<&String> = wanted.iter().filter(|s| !exported.contains(*s)).collect();
    assert!(missing.is_empty(), "not exported: {missing:?}");
    // The headers compile alone, in C99 (pedantic) and C++.
    let dir = TestDir::new("compat-headers");
    let src = dir.path.join("all.c");
    let includes: String =
        ["CProducer", "CPushConsumer", "CPullConsumer", "CErrorMessage", "CBatchMessage"]
            .iter()
            .map(|h| format!("#include \"{h}.h\"\n"))
            .collect();
    std::fs::write(&src, format!("{includes}int main(void) {{ return OK; }}\n")).unwrap();
    for (cc, std) in [("gcc", "-std=c99"), ("g++", "-std=c++11")] {
        let o = Command::new(cc)
            .args([
                std,
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-x",
                if cc == "gcc" { "c" } else { "c++" },
            ])
            .arg(format!("-I{ROOT}/include/rocketmq"))
            .arg(&src)
            .arg("-o")
            .arg(dir.path.join(format!("all-{cc}")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{cc}: {}", String::from_utf8_lossy(&o.stderr));
    }
}
