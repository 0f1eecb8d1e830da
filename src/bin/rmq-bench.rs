//! `rmq-bench`: bounded load generators. `producer` mode: N threads sync-send S-byte messages
//! through the remoting client to one broker and print TPS and latency percentiles, in the
//! columns of Apache's benchmark Producer plus p50/p99/p99.9.

use rmq::common::config::parse_args;
use rmq::common::logging;
use rmq::protocol::body::TopicRouteData;
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::encode_properties;
use rmq::remoting::RemotingClient;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELP: &str =
    "usage: rmq-bench producer (-n NAMESRV | --broker ADDR) [--topic BenchTopic] [--threads 1]
                  [--size 1024] [--seconds 10] [--warmup 2] [--queues 4]
Sends SEND_MESSAGE_V2 synchronously from each thread for --seconds after --warmup seconds,
then prints TPS, average/max RT and p50/p99/p99.9 latency. Loopback addresses only.";

struct Opts {
    namesrv: Option<String>,
    broker: Option<String>,
    topic: String,
    threads: usize,
    size: usize,
    seconds: u64,
    warmup: u64,
    queues: i32,
}

fn opts(sets: &[(String, String)]) -> Result<Opts, String> {
    let mut o = Opts {
        namesrv: None,
        broker: None,
        topic: "BenchTopic".into(),
        threads: 1,
        size: 1024,
        seconds: 10,
        warmup: 2,
        queues: 4,
    };
    for (k, v) in sets {
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("--{k} needs a number"));
        match k.as_str() {
            "namesrvAddr" | "namesrv" => o.namesrv = Some(v.clone()),
            "broker" => o.broker = Some(v.clone()),
            "topic" => o.topic = v.clone(),
            "threads" => o.threads = num(v)?.max(1) as usize,
            "size" => o.size = num(v)? as usize,
            "seconds" => o.seconds = num(v)?.max(1),
            "warmup" => o.warmup = num(v)?,
            "queues" => o.queues = num(v)?.max(1) as i32,
            other => return Err(format!("unknown option --{other}")),
        }
    }
    Ok(o)
}

fn find_broker(client: &RemotingClient, o: &Opts) -> Result<String, String> {
    if let Some(b) = &o.broker {
        return Ok(b.clone());
    }
    let ns = o.namesrv.as_deref().ok_or("give -n NAMESRV or --broker ADDR")?;
    for topic in [o.topic.as_str(), "TBW102"] {
        let req = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic);
        let resp = client.invoke(ns, req, Duration::from_secs(3)).map_err(|e| e.to_string())?;
        if resp.code == rs::SUCCESS {
            let route = TopicRouteData::decode(&resp.body).map_err(|e| e.to_string())?;
            if let Some(addr) = route.broker_datas.iter().find_map(|b| b.broker_addrs.get(&0)) {
                return Ok(addr.clone());
            }
        }
    }
    Err("no broker found in the name server".into())
}

fn main() -> ExitCode {
    logging::init();
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) != Some("producer") {
        eprintln!("{HELP}");
        return ExitCode::from(2);
    }
    argv.remove(0);
    let args = match parse_args(argv, &[]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rmq-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if args.has("help") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let o = match opts(&args.sets) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rmq-bench: {e}");
            return ExitCode::from(2);
        }
    };
    match run(o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmq-bench: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(o: Opts) -> Result<(), String> {
    let client = Arc::new(RemotingClient::new());
    let broker = find_broker(&client, &o)?;
    let create = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
        .with("topic", &o.topic)
        .with("defaultTopic", "TBW102")
        .with("readQueueNums", o.queues)
        .with("writeQueueNums", o.queues)
        .with("perm", 6)
        .with("topicFilterType", "SINGLE_TAG");
    let r = client.invoke(&broker, create, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    if r.code != rs::SUCCESS {
        return Err(format!("cannot create topic: {:?}", r.remark));
    }
    println!(
        "# rmq-bench producer broker={} topic={} threads={} size={} seconds={} cores={} commit={}",
        broker,
        o.topic,
        o.threads,
        o.size,
        o.seconds,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        option_env!("RMQ_GIT_COMMIT").unwrap_or("unknown")
    );
    let body = vec![b'x'; o.size];
    let failures = Arc::new(AtomicU64::new(0));
    let warm_end = Instant::now() + Duration::from_secs(o.warmup);
    let end = warm_end + Duration::from_secs(o.seconds);
    let mut handles = Vec::new();
    for t in 0..o.threads {
        let client = client.clone();
        let broker = broker.clone();
        let topic = o.topic.clone();
        let body = body.clone();
        let failures = failures.clone();
        let queues = o.queues;
        handles.push(std::thread::spawn(move || {
            let mut lat = Vec::with_capacity(1 << 20);
            let mut i: u64 = 0;
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let props = encode_properties([("WAIT", "true")]);
                let req = RemotingCommand::request(rq::SEND_MESSAGE_V2)
                    .with("a", "BenchProducer")
                    .with("b", &topic)
                    .with("c", "TBW102")
                    .with("d", queues)
                    .with("e", ((t as u64 + i) % queues as u64) as i32)
                    .with("f", 0)
                    .with("g", rmq::common::time::now_millis())
                    .with("h", 0)
                    .with("i", props)
                    .with("j", 0)
                    .with("k", false)
                    .with("m", false)
                    .with_body(body.clone());
                let t0 = Instant::now();
                let ok = matches!(client.invoke(&broker, req, Duration::from_secs(3)), Ok(r) if r.code == rs::SUCCESS);
                let us = t0.elapsed().as_micros() as u64;
                if t0 >= warm_end {
                    if ok {
                        lat.push(us);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
            lat
        }));
    }
    let mut all: Vec<u64> = Vec::new();
    for h in handles {
        all.extend(h.join().map_err(|_| "a sender thread panicked")?);
    }
    all.sort_unstable();
    let n = all.len() as f64;
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let idx = ((p * n).ceil() as usize).clamp(1, all.len()) - 1;
        all[idx] as f64 / 1000.0
    };
    let avg = if all.is_empty() { 0.0 } else { all.iter().sum::<u64>() as f64 / n / 1000.0 };
    println!(
        "Send TPS: {:.0} | Max RT(ms): {:.3} | Average RT(ms): {:.3} | Send Failed: {} | p50(ms): {:.3} | p99(ms): {:.3} | p99.9(ms): {:.3} | sent: {}",
        n / o.seconds as f64,
        all.last().copied().unwrap_or(0) as f64 / 1000.0,
        avg,
        failures.load(Ordering::Relaxed),
        pct(0.50),
        pct(0.99),
        pct(0.999),
        all.len()
    );
    client.shutdown();
    Ok(())
}
