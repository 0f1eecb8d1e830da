//! Producer throughput of the Rust client: --threads threads each send --size-byte messages
//! synchronously for --seconds after --warmup seconds; prints TPS and latency percentiles.
//! The counterpart of tests/python/bench_cpp_producer.py (Apache's C++ client) in BENCHMARKS.md.
//!
//! `NAMESRV_ADDR=127.0.0.1:9876 cargo run --release --example bench_producer -- --threads 16`

use rmq::client::{Message, Producer, ProducerOptions, SendStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let mut topic = "BenchClient".to_string();
    let (mut threads, mut size, mut seconds, mut warmup) = (1usize, 1024usize, 10u64, 2u64);
    let mut it = std::env::args().skip(1);
    while let Some(f) = it.next() {
        let v = it.next().unwrap_or_default();
        let n = || -> u64 {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{f} needs a number");
                std::process::exit(2)
            })
        };
        match f.as_str() {
            "--topic" => topic = v.clone(),
            "--threads" => threads = n().max(1) as usize,
            "--size" => size = n() as usize,
            "--seconds" => seconds = n().max(1),
            "--warmup" => warmup = n(),
            _ => {
                eprintln!("flags: --topic T --threads N --size BYTES --seconds S --warmup S");
                std::process::exit(2);
            }
        }
    }
    let ns = std::env::var("NAMESRV_ADDR").unwrap_or_else(|_| "127.0.0.1:9876".into());
    let p = Producer::new(ProducerOptions::new("PG_bench_rust", &ns)).expect("producer options");
    if let Err(e) = p.start() {
        eprintln!("start: {e}");
        std::process::exit(1);
    }
    let body = vec![b'x'; size];
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let end = measure_from + Duration::from_secs(seconds);
    let lat: Arc<Mutex<Vec<Duration>>> = Arc::new(Mutex::new(Vec::new()));
    let fails = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (p, body, topic, lat, fails) =
                (p.clone(), body.clone(), topic.clone(), lat.clone(), fails.clone());
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut failed = 0;
                loop {
                    let t0 = Instant::now();
                    if t0 >= end {
                        break;
                    }
                    let ok = matches!(p.send(&Message::new(&topic, body.clone())), Ok(r) if r.status == SendStatus::Ok);
                    if t0 >= measure_from {
                        if ok {
                            mine.push(t0.elapsed());
                        } else {
                            failed += 1;
                        }
                    }
                }
                lat.lock().unwrap().extend(mine);
                *fails.lock().unwrap() += failed;
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    p.shutdown();
    let mut lat = lat.lock().unwrap().clone();
    lat.sort();
    let pct = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let avg = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|d| d.as_secs_f64()).sum::<f64>() / lat.len() as f64 * 1000.0
    };
    println!(
        "rust-client threads={threads} size={size} msgs={} seconds={seconds} tps={:.0} avg_rt_ms={avg:.3} p50_ms={:.3} p99_ms={:.3} failures={}",
        lat.len(),
        lat.len() as f64 / seconds as f64,
        pct(0.5),
        pct(0.99),
        fails.lock().unwrap()
    );
}
