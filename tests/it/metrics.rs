//! Issue 14: the name server's `/metrics` endpoint, scraped over real HTTP and read back with
//! the strict text-format parser.

use crate::util::{wait_until, Cluster, Proc, TestDir, NAMESRV_BIN};
use rmq::metrics::parse::{parse, Exposition};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Send a raw request and return the whole answer.
pub fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// GET /metrics, check the status and content type, parse the body strictly.
pub fn scrape(addr: &str) -> Exposition {
    let resp = http(addr, "GET /metrics HTTP/1.1\r\nHost: test\r\nAccept: text/plain\r\n\r\n");
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), "{head}");
    parse(body).unwrap_or_else(|e| panic!("/metrics does not parse: {e}\n{body}"))
}

#[test]
fn namesrv_serves_metrics_on_metrics_port() {
    let dir = TestDir::new("metrics-ns");
    let cluster = Cluster::start_with(
        &dir.path,
        &["--metricsPort=-1"],
        &["--brokerClusterName=MetricsCluster"],
    );
    let m = cluster.namesrv.addr("metrics");
    let e = scrape(&m);
    for (name, kind) in [
        ("rmq_namesrv_brokers_alive", "gauge"),
        ("rmq_namesrv_topics", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("rmq_process_resident_anon_bytes", "gauge"),
        ("process_threads", "gauge"),
    ] {
        let f = e.families.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(f.kind, kind, "{name}");
        assert!(f.help.as_deref().is_some_and(|h| !h.is_empty()), "{name} has no help");
    }
    assert!(wait_until(Duration::from_secs(10), || {
        scrape(&m).value("rmq_namesrv_brokers_alive", &[("cluster", "MetricsCluster")]) == Some(1.0)
    }));
    // Route lookups by result, and the request counters of the hook.
    let c = rmq::remoting::RemotingClient::new();
    let ns = cluster.namesrv_addr();
    assert!(crate::proto::route(&c, &ns, "NoSuchTopicForMetrics").is_none());
    assert!(crate::proto::route(&c, &ns, "TBW102").is_some());
    let e2 = scrape(&m);
    assert_eq!(e2.value("rmq_namesrv_routes_served_total", &[("result", "not_found")]), Some(1.0));
    assert!(e2.value("rmq_namesrv_routes_served_total", &[("result", "found")]).unwrap() >= 1.0);
    assert!(e2.sum("rmq_requests_total", &[("server", "namesrv"), ("code", "105")]) >= 2.0);
    assert!(e2.sum("rmq_requests_total", &[("code", "103")]) >= 1.0, "the broker registered");
    let topics = scrape(&m).value("rmq_namesrv_topics", &[]).unwrap();
    assert!(topics >= 3.0, "the broker's system topics have routes: {topics}");
    let cpu1 = e.value("process_cpu_seconds_total", &[]).unwrap();
    let cpu2 = scrape(&m).value("process_cpu_seconds_total", &[]).unwrap();
    assert!(cpu2 >= cpu1, "counters never go down: {cpu1} then {cpu2}");
    // Other paths and methods.
    assert!(http(&m, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
    assert!(http(&m, "DELETE /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    // The broker gone, the gauge follows (unregistered on its graceful stop).
    let mut cluster = cluster;
    cluster.broker.stop();
    assert!(wait_until(Duration::from_secs(10), || {
        scrape(&m).value("rmq_namesrv_brokers_alive", &[("cluster", "MetricsCluster")]) != Some(1.0)
    }));
}

#[test]
fn metrics_port_is_off_by_default_and_checked() {
    let dir = TestDir::new("metrics-off");
    let ns = Proc::start(
        NAMESRV_BIN,
        &["--listenPort=0".into(), "--bindAddress=127.0.0.1".into()],
        dir.path.join("ns.log"),
        1,
    );
    assert!(!ns.ready.contains("metrics="), "{}", ns.ready);
    let out = std::process::Command::new(NAMESRV_BIN)
        .args(["--listenPort=0", "--metricsPort=http"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad metricsPort is a configuration error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("metricsPort"));
}
