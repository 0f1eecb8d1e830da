//! The progress line and the summary, in the columns of Apache's benchmark Producer.java
//! ("Send TPS", "Max RT(ms)", "Average RT(ms)", "Send Failed", "Response Failed") and
//! Consumer.java (TPS, FAIL, AVG/MAX(B2C) RT), plus percentiles, MB/s and errors by kind.

use crate::stats::{Side, Tick};
use rmq::metrics::process::ProcStats;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// One side's summary as JSON.
pub fn side_json(s: &Side, secs: f64, done_key: &str) -> Value {
    let r = &s.latency;
    let ok = s.ok.load(Ordering::Relaxed);
    let bytes = s.bytes.load(Ordering::Relaxed);
    json!({
        done_key: s.total.load(Ordering::Relaxed),
        "measured": ok,
        "failed": s.failed.load(Ordering::Relaxed),
        "response_failed": s.response_failed.load(Ordering::Relaxed),
        "tps": if secs > 0.0 { ok as f64 / secs } else { 0.0 },
        "mb_per_s": if secs > 0.0 { bytes as f64 / secs / 1e6 } else { 0.0 },
        "avg_ms": r.mean() / 1000.0,
        "p50_ms": ms(r.quantile(0.5)),
        "p90_ms": ms(r.quantile(0.9)),
        "p99_ms": ms(r.quantile(0.99)),
        "p999_ms": ms(r.quantile(0.999)),
        "max_ms": ms(r.max()),
        "errors": s.errors(),
    })
}

/// The broker's resource use over the run.
pub fn broker_json(pid: u32, start: &ProcStats, end: &ProcStats, msgs: u64) -> Value {
    let cpu = end.cpu_seconds() - start.cpu_seconds();
    json!({
        "pid": pid,
        "cpu_seconds": cpu,
        "user_seconds": end.user_seconds - start.user_seconds,
        "system_seconds": end.system_seconds - start.system_seconds,
        "cpu_us_per_msg": if msgs > 0 { cpu * 1e6 / msgs as f64 } else { 0.0 },
        "rss_bytes": end.rss_bytes,
        "rss_anon_bytes": end.rss_anon_bytes,
        "threads": end.threads,
    })
}

fn f(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn n(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn percentiles(v: &Value) -> String {
    format!(
        "p50(ms): {:.3} | p90(ms): {:.3} | p99(ms): {:.3} | p99.9(ms): {:.3} | max(ms): {:.3} | MB/s: {:.2}",
        f(v, "p50_ms"),
        f(v, "p90_ms"),
        f(v, "p99_ms"),
        f(v, "p999_ms"),
        f(v, "max_ms"),
        f(v, "mb_per_s")
    )
}

fn errors(v: &Value, out: &mut String) {
    if let Some(m) = v.get("errors").and_then(Value::as_object) {
        for (k, c) in m {
            let _ = writeln!(out, "  error {k}: {c}");
        }
    }
}

/// The text summary of a whole run (the JSON's content).
pub fn text(summary: &Value) -> String {
    let mut out = String::new();
    if let Some(p) = summary.get("producer") {
        let _ = writeln!(
            out,
            "[Complete] Send Total: {} Send TPS: {:.0} Max RT(ms): {:.3} Average RT(ms): {:7.3} Send Failed: {} Response Failed: {}",
            n(p, "sent"),
            f(p, "tps"),
            f(p, "max_ms"),
            f(p, "avg_ms"),
            n(p, "failed"),
            n(p, "response_failed")
        );
        let _ = writeln!(out, "  send RT {}", percentiles(p));
        errors(p, &mut out);
    }
    if let Some(c) = summary.get("consumer") {
        let _ = writeln!(
            out,
            "[Complete] Receive Total: {} TPS: {:.0} FAIL: {} AVG(B2C) RT(ms): {:7.3} MAX(B2C) RT(ms): {:.3}",
            n(c, "received"),
            f(c, "tps"),
            n(c, "failed"),
            f(c, "avg_ms"),
            f(c, "max_ms")
        );
        let _ = writeln!(out, "  end-to-end {}", percentiles(c));
        errors(c, &mut out);
    }
    if let Some(b) = summary.get("broker") {
        let _ = writeln!(
            out,
            "broker pid {}: CPU {:.2} s (user {:.2}, sys {:.2}), {:.1} us/msg, RSS {:.1} MB, RssAnon {:.1} MB, {} threads",
            n(b, "pid"),
            f(b, "cpu_seconds"),
            f(b, "user_seconds"),
            f(b, "system_seconds"),
            f(b, "cpu_us_per_msg"),
            n(b, "rss_bytes") as f64 / 1e6,
            n(b, "rss_anon_bytes") as f64 / 1e6,
            n(b, "threads")
        );
    }
    out
}

/// One progress line: elapsed seconds and each side's last second.
pub fn progress(elapsed: u64, send: Option<Tick>, recv: Option<Tick>) -> String {
    let mut out = format!("[{elapsed:>4}s]");
    let part = |name: &str, t: Tick| {
        format!(
            " {name} {:>8} msg/s {:>7.2} MB/s avg {:>7.3} ms max {:>8.3} ms",
            t.count,
            t.bytes as f64 / 1e6,
            t.avg_us / 1000.0,
            ms(t.max_us)
        )
    };
    if let Some(t) = send {
        out.push_str(&part("send", t));
    }
    if let Some(t) = recv {
        if send.is_some() {
            out.push_str(" |");
        }
        out.push_str(&part("recv", t));
    }
    out
}
