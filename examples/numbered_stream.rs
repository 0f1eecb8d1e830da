//! Produce or consume a numbered stream, one stdout line per event, so that a test (or an operator)
//! can check every acknowledged message against what was consumed. Both modes run until stdin
//! closes (or --count sends); tests/it/netns.rs runs them on hosts of their own.
//!
//! ```text
//! numbered_stream produce --namesrv A;B --topic T [--group G] [--count N] [--interval-ms MS]
//!                         [--send-timeout-ms MS] [--avoid-faulty true|false]
//!     sends body "stream-<i>" (keys "<i>") for i = 0, 1, ... and prints per send
//!     "OK <i> <broker> <queue> <offset> <unix-ms>" (SEND_OK), "STORED <i> <status> <broker>
//!     <queue> <offset> <unix-ms>" (stored, not SEND_OK: a flush or slave timeout) or
//!     "FAIL <i> <unix-ms> <error>", then "produced ok=<n> failed=<m>"
//! numbered_stream consume --namesrv A;B --topic T [--group G]
//!     a clustering push consumer from the first offset: "READY role=consumer" once started, then
//!     per delivery "GOT <i> <broker> <queue> <offset> <reconsume-times> <unix-ms>" (or
//!     "BAD <broker> <queue> <offset> <body>" for a body that is not "stream-<i>"), and
//!     "consumed <n>" after stdin closed and the consumer shut down
//! ```
//!
//! The name servers default to NAMESRV_ADDR; RMQ_LOG=info sends client logs to stderr.

use rmq::client::{
    ConsumeFrom, ConsumeStatus, Message, MessageExt, Producer, ProducerOptions, PushConsumer,
    PushConsumerOptions, SendStatus,
};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Args {
    mode: String,
    namesrv: String,
    topic: String,
    group: String,
    count: Option<u64>,
    interval: Duration,
    send_timeout: Duration,
    avoid_faulty: bool,
}

fn main() {
    if let Ok(l) = std::env::var("RMQ_LOG") {
        let level = l.parse().unwrap_or(log::LevelFilter::Info);
        let _ =
            simplelog::WriteLogger::init(level, simplelog::Config::default(), std::io::stderr());
    }
    let a = args();
    // Both modes stop when stdin closes: the caller holds the other end of the pipe.
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        s.store(true, Ordering::SeqCst);
    });
    match a.mode.as_str() {
        "produce" => produce(&a, &stop),
        "consume" => consume(&a, &stop),
        other => usage(&format!("unknown mode '{other}'")),
    }
}

fn produce(a: &Args, stop: &AtomicBool) {
    let mut opts = ProducerOptions::new(&a.group, &a.namesrv);
    opts.send_timeout = a.send_timeout;
    opts.latency_fault_tolerance = a.avoid_faulty;
    let producer = Producer::new(opts).unwrap_or_else(|e| fail("producer", e));
    producer.start().unwrap_or_else(|e| fail("producer start", e));
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) && a.count.is_none_or(|n| i < n) {
        let mut msg = Message::new(&a.topic, format!("stream-{i}"));
        msg.set_tags("stream");
        msg.set_keys(&i.to_string());
        match producer.send(&msg) {
            Ok(r) => {
                let q = &r.queue;
                let at =
                    format!("{} {} {} {}", q.broker_name, q.queue_id, r.queue_offset, now_ms());
                if r.status == SendStatus::Ok {
                    ok += 1;
                    println!("OK {i} {at}");
                } else {
                    failed += 1;
                    println!("STORED {i} {:?} {at}", r.status);
                }
            }
            Err(e) => {
                failed += 1;
                let e = e.to_string().replace('\n', " ");
                println!("FAIL {i} {} {e}", now_ms());
            }
        }
        i += 1;
        std::thread::sleep(a.interval);
    }
    producer.shutdown();
    println!("produced ok={ok} failed={failed}");
}

fn consume(a: &Args, stop: &AtomicBool) {
    let mut opts = PushConsumerOptions::new(&a.group, &a.namesrv);
    opts.consume_from = ConsumeFrom::FirstOffset;
    let consumer = PushConsumer::new(opts).unwrap_or_else(|e| fail("consumer", e));
    consumer.subscribe(&a.topic, "*").unwrap_or_else(|e| fail("subscribe", e));
    let received = Arc::new(AtomicUsize::new(0));
    let r = received.clone();
    consumer
        .register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
            for m in msgs {
                print_delivery(m);
            }
            r.fetch_add(msgs.len(), Ordering::SeqCst);
            ConsumeStatus::Success
        }))
        .unwrap_or_else(|e| fail("listener", e));
    consumer.start().unwrap_or_else(|e| fail("consumer start", e));
    println!("READY role=consumer");
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    consumer.shutdown();
    println!("consumed {}", received.load(Ordering::SeqCst));
}

fn print_delivery(m: &MessageExt) {
    let body = String::from_utf8_lossy(m.body());
    let (b, q, o) = (&m.broker_name, m.queue_id, m.queue_offset);
    match body.strip_prefix("stream-").and_then(|i| i.parse::<u64>().ok()) {
        Some(i) => println!("GOT {i} {b} {q} {o} {} {}", m.reconsume_times, now_ms()),
        None => println!("BAD {b} {q} {o} {body}"),
    }
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_else(|| usage("no mode given"));
    if mode == "--help" || mode == "-h" {
        usage("");
    }
    let mut a = Args {
        mode,
        namesrv: std::env::var("NAMESRV_ADDR").unwrap_or_else(|_| "127.0.0.1:9876".to_string()),
        topic: "TopicTest".to_string(),
        group: String::new(),
        count: None,
        interval: Duration::ZERO,
        send_timeout: Duration::from_secs(3),
        avoid_faulty: false,
    };
    while let Some(flag) = it.next() {
        let Some(v) = it.next() else { usage(&format!("{flag} needs a value")) };
        let num = || v.parse::<u64>().unwrap_or_else(|_| usage(&format!("{flag}: not a number")));
        match flag.as_str() {
            "--namesrv" => a.namesrv = v.clone(),
            "--topic" => a.topic = v.clone(),
            "--group" => a.group = v.clone(),
            "--count" => a.count = Some(num()),
            "--interval-ms" => a.interval = Duration::from_millis(num()),
            "--send-timeout-ms" => a.send_timeout = Duration::from_millis(num()),
            "--avoid-faulty" => {
                a.avoid_faulty = v.parse().unwrap_or_else(|_| usage("--avoid-faulty: true|false"))
            }
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if a.group.is_empty() {
        a.group = format!("numbered_stream_{}", a.mode);
    }
    a
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("numbered_stream: {msg}");
    }
    eprintln!(
        "usage: numbered_stream produce|consume --namesrv ADDRS --topic T [--group G] \
         [--count N] [--interval-ms MS] [--send-timeout-ms MS] [--avoid-faulty true|false]"
    );
    std::process::exit(if msg.is_empty() { 0 } else { 2 })
}

fn fail(what: &str, e: rmq::client::Error) -> ! {
    eprintln!("numbered_stream: {what}: {e}");
    std::process::exit(1)
}
