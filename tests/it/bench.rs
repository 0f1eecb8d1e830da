//! Issue 14: rmq-bench runs bounded by a message count, and what its summary says it sent is
//! what the broker stored (the sum of the topic's max offsets).

use crate::util::{wait_until, Cluster, TestDir};
use rmq::admin::Admin;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const BENCH_BIN: &str = env!("CARGO_BIN_EXE_rmq-bench");

fn bench(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BENCH_BIN).args(args).env_remove("NAMESRV_ADDR").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bench_json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--json", "--quiet"]);
    let (code, out, err) = bench(&a);
    assert_eq!(code, 0, "rmq-bench {args:?}: {err}\n{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn stored(admin: &Admin, topic: &str) -> i64 {
    admin.topic_status(topic).unwrap().iter().map(|q| q.max_offset - q.min_offset).sum()
}

/// The consume queues are built by the broker's dispatch thread shortly after SEND_OK, so the
/// stored count is polled (with a deadline) rather than read once.
fn stored_is(admin: &Admin, topic: &str, n: i64) -> bool {
    wait_until(Duration::from_secs(20), || stored(admin, topic) == n) || {
        eprintln!("{topic}: stored {} of {n}", stored(admin, topic));
        false
    }
}

#[test]
fn bench_fixed_count_summaries_match_what_the_broker_stored() {
    let dir = TestDir::new("bench");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let admin = Admin::new(&ns).unwrap();
    let pid = cluster.broker.child.as_ref().unwrap().id().to_string();
    let hist = dir.path.join("lat.csv");

    // Sync sends from 4 threads into 4 queues, with the broker's resource use and a histogram.
    let j = bench_json(&[
        "producer",
        "-n",
        &ns,
        "--topic",
        "BenchSync",
        "--threads",
        "4",
        "--queues",
        "4",
        "--size",
        "256",
        "--count",
        "1000",
        "--broker-pid",
        &pid,
        "--histogram",
        hist.to_str().unwrap(),
    ]);
    let p = &j["producer"];
    assert_eq!((p["sent"].as_u64(), p["failed"].as_u64()), (Some(1000), Some(0)), "{j}");
    assert!(stored_is(&admin, "BenchSync", 1000));
    assert_eq!(admin.topic_status("BenchSync").unwrap().len(), 4);
    for k in ["p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"] {
        assert!(p[k].as_f64().is_some_and(|v| v > 0.0), "{k}: {j}");
    }
    assert!(
        p["p50_ms"].as_f64() <= p["p99_ms"].as_f64()
            && p["p99_ms"].as_f64() <= p["max_ms"].as_f64()
    );
    let mb = p["mb_per_s"].as_f64().unwrap();
    let tps = p["tps"].as_f64().unwrap();
    assert!((mb - tps * 256.0 / 1e6).abs() < 1e-6 * tps.max(1.0), "MB/s = TPS x size: {j}");
    let b = &j["broker"];
    assert!(
        b["cpu_seconds"].as_f64().is_some_and(|c| c >= 0.0) && b["rss_bytes"].as_u64() > Some(0),
        "{j}"
    );
    let csv = std::fs::read_to_string(&hist).unwrap();
    let counted: u64 =
        csv.lines().skip(1).map(|l| l.split(',').nth(3).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(counted, 1000, "the histogram holds every send");
    let svg = std::fs::read_to_string(dir.path.join("lat.csv.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline") && svg.trim_end().ends_with("</svg>")
    );

    // Async and one-way: every message lands (one-way answers nothing, so wait for the store).
    let j = bench_json(&[
        "producer",
        "-n",
        &ns,
        "--topic",
        "BenchAsync",
        "--send",
        "async",
        "--count",
        "600",
        "--threads",
        "2",
    ]);
    assert_eq!(j["producer"]["sent"], 600, "{j}");
    assert!(stored_is(&admin, "BenchAsync", 600));
    let j = bench_json(&[
        "producer",
        "-n",
        &ns,
        "--topic",
        "BenchOneway",
        "--send",
        "oneway",
        "--count",
        "300",
    ]);
    assert_eq!(j["producer"]["sent"], 300, "{j}");
    assert!(stored_is(&admin, "BenchOneway", 300));

    // Both at once, batches of 10 and a pull consumer: what was sent was received and stored.
    let j = bench_json(&[
        "both",
        "-n",
        &ns,
        "--topic",
        "BenchBoth",
        "--send",
        "batch",
        "--batch",
        "10",
        "--count",
        "500",
        "--consumer",
        "pull",
    ]);
    assert_eq!(
        (j["producer"]["sent"].as_u64(), j["consumer"]["received"].as_u64()),
        (Some(500), Some(500)),
        "{j}"
    );
    assert!(stored_is(&admin, "BenchBoth", 500));
    assert!(j["consumer"]["p99_ms"].as_f64().is_some_and(|v| v > 0.0), "{j}");

    // --rate paces the whole run: 200 messages at 400/s take about half a second.
    let j = bench_json(&[
        "producer",
        "-n",
        &ns,
        "--topic",
        "BenchPaced",
        "--count",
        "200",
        "--rate",
        "400",
        "--threads",
        "4",
    ]);
    assert_eq!(j["producer"]["sent"], 200, "{j}");
    let secs = j["elapsed_s"].as_f64().unwrap();
    let tps = j["producer"]["tps"].as_f64().unwrap();
    assert!(secs >= 0.45 && tps <= 450.0, "paced at 400/s: {secs} s, {tps} msg/s: {j}");
    assert!(stored_is(&admin, "BenchPaced", 200));

    // The text summary keeps Apache's Producer.java columns.
    let (code, out, _) =
        bench(&["producer", "-n", &ns, "--topic", "BenchText", "--count", "50", "--quiet"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Send TPS: ")
            && out.contains("Max RT(ms): ")
            && out.contains("Average RT(ms): ")
            && out.contains("Send Failed: 0")
            && out.contains("Response Failed: 0")
            && out.contains("p99.9(ms): "),
        "{out}"
    );
    assert!(stored_is(&admin, "BenchText", 50));

    // Usage errors exit 2, an unreachable name server 1.
    assert_eq!(bench(&["sideways"]).0, 2);
    assert_eq!(bench(&["producer", "-n", &ns, "--count", "0"]).0, 2);
    assert_eq!(bench(&["producer", "-n", &ns, "--send", "teleport"]).0, 2);
    assert_eq!(bench(&["producer"]).0, 2, "no name server");
    assert_eq!(bench(&["producer", "-n", "127.0.0.1:1", "--count", "1", "--quiet"]).0, 1);
}
