//! `rmq-bench`: bounded load generators in the spirit of Apache's benchmark Producer and
//! Consumer (example/.../benchmark/), over `rmq::client`. Modes: `producer` (sync, async,
//! oneway, batch, delayed, transactional, or raw SEND_MESSAGE_V2), `consumer` (push or pull,
//! end-to-end latency), `both`. A progress line each second on stderr (rewritten in place on a
//! terminal), a summary with percentiles and errors by kind on stdout (`--json` for scripts),
//! the broker's CPU and memory over the run (`--broker-pid`), and `--histogram FILE` for the
//! latency distribution as CSV and SVG.
//!
//! Exit codes: 0 the run did what was asked; 1 it failed (sends failed, fewer messages received
//! than `--count`, cannot start); 2 usage error.

mod consumer;
mod plot;
mod producer;
mod report;
mod stats;

use consumer::{From, Receiver};
use producer::{Run, SendMode, Senders};
use rmq::admin::{Admin, Target, TopicOptions};
use rmq::common::config::parse_args;
use rmq::common::logging;
use rmq::metrics::process::ProcStats;
use serde_json::{json, Value};
use stats::Side;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELP: &str = "usage: rmq-bench producer|consumer|both [options]

  -n, --namesrv ADDR      name servers (default $NAMESRV_ADDR)
  --topic NAME            topic (BenchTopic); producer and both create it with --queues queues
  --queues N              queues per broker (4)
  --threads N             sending threads (1)
  --size BYTES            body size (1024)
  --count N               send exactly N messages (consumer: receive N), then stop
  --seconds S             run for S seconds after the warm-up (10; the limit with --count: 300)
  --warmup S              seconds not measured (2; 0 with --count)
  --rate N                send at most N messages a second in all (default: as fast as possible)
  --send MODE             sync | async | oneway | batch | transaction | raw (sync)
  --batch N               messages per batch send (16)
  --inflight N            async sends waiting per thread (64)
  --delay-level L         delay level 1-18 on every message (0: none)
  --tags TAG              tag of every message, and the consumer's expression
  --group NAME            producer group (BenchProducer)
  --broker ADDR           raw mode: the broker to send to (default: from the route)
  --consumer push|pull    consumer kind (push)
  --consumer-group NAME   consumer group (both: a new one per run; consumer: BenchConsumer)
  --consumer-threads N    push consumer's consume threads (4; pull polls on one thread)
  --from first|last|now   where a new consumer group starts (consumer: last, both: now)
  --broker-pid PID        report this local broker's CPU seconds and RSS over the run
  --histogram FILE        write the latency distribution to FILE (CSV) and FILE.svg
  --json                  print the summary as JSON
  --quiet                 no progress line
Loopback brokers only; every run is bounded by --count or --seconds.";

/// Every option of a run.
pub struct Opts {
    pub role: String,
    pub namesrv: String,
    pub topic: String,
    pub queues: i32,
    pub threads: usize,
    pub size: usize,
    pub count: Option<u64>,
    pub seconds: Option<u64>,
    pub warmup: u64,
    pub rate: Option<u64>,
    pub mode: SendMode,
    pub batch: usize,
    pub inflight: usize,
    pub delay_level: i32,
    pub tags: Option<String>,
    pub group: String,
    pub broker: Option<String>,
    pub pull: bool,
    pub consumer_group: String,
    pub consumer_threads: usize,
    pub from: From,
    pub broker_pid: Option<u32>,
    pub histogram: Option<PathBuf>,
    pub json: bool,
    pub quiet: bool,
}

fn opts(role: &str, sets: &[(String, String)], switches: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        role: role.to_string(),
        namesrv: std::env::var("NAMESRV_ADDR").unwrap_or_default(),
        topic: "BenchTopic".into(),
        queues: 4,
        threads: 1,
        size: 1024,
        count: None,
        seconds: None,
        warmup: 2,
        rate: None,
        mode: SendMode::Sync,
        batch: 16,
        inflight: 64,
        delay_level: 0,
        tags: None,
        group: "BenchProducer".into(),
        broker: None,
        pull: false,
        consumer_group: String::new(),
        consumer_threads: 4,
        from: if role == "both" { From::Now } else { From::Last },
        broker_pid: None,
        histogram: None,
        json: switches.iter().any(|s| s == "json"),
        quiet: switches.iter().any(|s| s == "quiet"),
    };
    let mut warmup_set = false;
    for (k, v) in sets {
        let num = |v: &str| {
            v.trim().parse::<u64>().map_err(|_| format!("--{k} needs a number, not '{v}'"))
        };
        match k.as_str() {
            "namesrvAddr" | "namesrv" => o.namesrv = v.clone(),
            "topic" => o.topic = v.clone(),
            "queues" => o.queues = num(v)?.clamp(1, 1024) as i32,
            "threads" => o.threads = num(v)?.clamp(1, 1024) as usize,
            "size" => o.size = num(v)? as usize,
            "count" => o.count = Some(num(v)?),
            "seconds" => o.seconds = Some(num(v)?.max(1)),
            "warmup" => {
                o.warmup = num(v)?;
                warmup_set = true;
            }
            "rate" => o.rate = Some(num(v)?).filter(|r| *r > 0),
            "send" | "mode" => {
                o.mode = SendMode::parse(v).ok_or_else(|| format!("--send {v}: not a send mode"))?
            }
            "batch" => o.batch = num(v)?.clamp(1, 1024) as usize,
            "inflight" => o.inflight = num(v)?.clamp(1, 10_000) as usize,
            "delay-level" => o.delay_level = num(v)?.min(18) as i32,
            "tags" => o.tags = Some(v.clone()),
            "group" => o.group = v.clone(),
            "broker" => {
                o.broker = Some(v.clone());
                o.mode = SendMode::Raw;
            }
            "consumer" => match v.as_str() {
                "push" => o.pull = false,
                "pull" => o.pull = true,
                _ => return Err(format!("--consumer {v}: push or pull")),
            },
            "consumer-group" => o.consumer_group = v.clone(),
            "consumer-threads" => o.consumer_threads = num(v)?.clamp(1, 256) as usize,
            "from" => {
                o.from = match v.as_str() {
                    "first" => From::First,
                    "last" => From::Last,
                    "now" => From::Now,
                    _ => return Err(format!("--from {v}: first, last or now")),
                }
            }
            "broker-pid" => o.broker_pid = Some(num(v)? as u32),
            "histogram" => o.histogram = Some(PathBuf::from(v)),
            other => return Err(format!("unknown option --{other} (see --help)")),
        }
    }
    if o.count == Some(0) {
        return Err("--count must be positive".into());
    }
    if o.count.is_some() && !warmup_set {
        o.warmup = 0;
    }
    if o.size == 0 {
        return Err("--size must be positive".into());
    }
    if o.namesrv.trim().is_empty()
        && !(o.mode == SendMode::Raw && o.broker.is_some() && role == "producer")
    {
        return Err("give -n NAMESRV (or $NAMESRV_ADDR)".into());
    }
    if o.mode == SendMode::Raw && o.delay_level > 0 {
        return Err("--send raw sends plain messages; --delay-level needs the client".into());
    }
    if o.consumer_group.is_empty() {
        o.consumer_group = if role == "both" {
            format!("BenchConsumer_{}_{}", std::process::id(), rmq::common::time::now_millis())
        } else {
            "BenchConsumer".into()
        };
    }
    Ok(o)
}

/// Create the topic on every master (or the raw broker) and wait for its route.
fn prepare(o: &Opts) -> Result<String, String> {
    if o.namesrv.trim().is_empty() {
        let b = o.broker.clone().unwrap_or_default();
        let admin = Admin::direct(Duration::from_secs(5));
        let t = TopicOptions {
            topic: o.topic.clone(),
            read_queues: o.queues,
            write_queues: o.queues,
            ..Default::default()
        };
        admin.update_topic(&Target::Broker(b.clone()), &t).map_err(|e| e.to_string())?;
        return Ok(b);
    }
    let admin = Admin::new(&o.namesrv).map_err(|e| e.to_string())?;
    let masters: Vec<String> = match &o.broker {
        Some(b) => vec![b.clone()],
        None => {
            admin.masters(None).map_err(|e| e.to_string())?.into_iter().map(|(_, a)| a).collect()
        }
    };
    if masters.is_empty() {
        return Err("no broker is registered with the name server".into());
    }
    if o.role != "consumer" {
        let t = TopicOptions {
            topic: o.topic.clone(),
            read_queues: o.queues,
            write_queues: o.queues,
            ..Default::default()
        };
        for m in &masters {
            admin.update_topic(&Target::Broker(m.clone()), &t).map_err(|e| e.to_string())?;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = admin.topic_route(&o.topic).is_ok_and(|r| {
                r.queues.len() >= masters.len()
                    && r.queues.iter().all(|q| q.write_queue_nums == o.queues)
            });
            if ready {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("the route of {} did not appear on the name server", o.topic));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    admin.shutdown();
    Ok(masters[0].clone())
}

fn run(o: Opts) -> Result<(Value, bool), String> {
    let o = Arc::new(o);
    let broker = prepare(&o)?;
    let broker_start = match o.broker_pid {
        Some(pid) => Some(ProcStats::read(pid).map_err(|e| format!("--broker-pid {pid}: {e}"))?),
        None => None,
    };
    let start = Instant::now();
    let start_ms = rmq::common::time::now_millis();
    let warmup = Duration::from_secs(o.warmup);
    let run = Arc::new(Run::new(o.count, warmup, o.rate));
    let sends = o.role != "consumer";
    let recvs = o.role != "producer";
    let send_side = Arc::new(Side::default());
    let recv_side = Arc::new(Side::default());
    let receiver = if recvs {
        Some(Receiver::start(&o, &recv_side, run.measure_from, start_ms)?)
    } else {
        None
    };
    let senders = if sends { Some(Senders::start(&o, &run, &send_side, &broker)?) } else { None };
    let limit = Duration::from_secs(o.seconds.unwrap_or(if o.count.is_some() { 300 } else { 10 }));
    let deadline = run.measure_from + limit;
    let tty = std::io::stderr().is_terminal();
    let mut send_end: Option<Instant> = None;
    let mut drain_deadline: Option<Instant> = None;
    let mut tick = 0u64;
    let mut next = start + Duration::from_secs(1);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = Instant::now();
        if send_end.is_none() && senders.as_ref().is_some_and(Senders::done) {
            send_end = Some(now);
        }
        if now >= next {
            tick += 1;
            next += Duration::from_secs(1);
            if !o.quiet {
                let line = report::progress(
                    tick,
                    sends.then(|| send_side.tick()),
                    recvs.then(|| recv_side.tick()),
                );
                let mut err = std::io::stderr().lock();
                let _ = if tty { write!(err, "\r{line}\x1b[K") } else { writeln!(err, "{line}") };
                let _ = err.flush();
            }
        }
        if now >= deadline {
            run.stop.store(true, Ordering::Relaxed);
        }
        let received = recv_side.total.load(Ordering::Relaxed);
        let finished = match (sends, recvs) {
            (true, false) => send_end.is_some(),
            (false, _) => o.count.is_some_and(|c| received >= c) || now >= deadline,
            (true, true) => {
                send_end.is_some() && {
                    // Give the consumer time to catch up with what was sent.
                    let grace = if now >= deadline { 10 } else { 60 };
                    let d = *drain_deadline.get_or_insert(now + Duration::from_secs(grace));
                    received >= send_side.total.load(Ordering::Relaxed) || now >= d
                }
            }
        };
        if finished {
            break;
        }
    }
    if tty && !o.quiet {
        eprintln!();
    }
    run.stop.store(true, Ordering::Relaxed);
    let end = Instant::now();
    if let Some(s) = senders {
        s.finish();
    }
    let send_end = send_end.unwrap_or(end);
    if let Some(r) = receiver {
        r.finish();
    }
    let measured =
        |until: Instant| until.saturating_duration_since(run.measure_from.max(start)).as_secs_f64();
    let mut summary = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "mode": o.role,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "commit": option_env!("RMQ_GIT_COMMIT").unwrap_or("unknown"),
        "config": {
            "topic": o.topic, "queues": o.queues, "threads": o.threads, "size": o.size,
            "send": o.mode.name(), "batch": o.batch, "count": o.count, "seconds": o.seconds,
            "warmup": o.warmup, "rate": o.rate, "delay_level": o.delay_level,
            "consumer": if o.pull { "pull" } else { "push" }, "consumer_group": o.consumer_group,
        },
        "elapsed_s": end.duration_since(start).as_secs_f64(),
    });
    let mut ok = true;
    if sends {
        let p = report::side_json(&send_side, measured(send_end), "sent");
        ok &= p["failed"] == 0 && p["response_failed"] == 0;
        if let Some(c) = o.count {
            ok &= send_side.total.load(Ordering::Relaxed) == c;
        }
        summary["producer"] = p;
    }
    if recvs {
        let c = report::side_json(&recv_side, measured(end), "received");
        if let Some(n) = o.count {
            ok &= recv_side.total.load(Ordering::Relaxed) >= n;
        }
        summary["consumer"] = c;
    }
    if let (Some(pid), Some(s)) = (o.broker_pid, broker_start) {
        let e = ProcStats::read(pid).map_err(|e| format!("--broker-pid {pid}: {e}"))?;
        let msgs =
            send_side.total.load(Ordering::Relaxed).max(recv_side.total.load(Ordering::Relaxed));
        summary["broker"] = report::broker_json(pid, &s, &e, msgs);
    }
    if let Some(path) = &o.histogram {
        let mut series = Vec::new();
        if sends {
            series.push(plot::Series { label: "send RT", rec: &send_side.latency });
        }
        if recvs {
            series.push(plot::Series { label: "end-to-end", rec: &recv_side.latency });
        }
        let title = format!("rmq-bench {} {} x{} {} B", o.role, o.mode.name(), o.threads, o.size);
        let svg =
            plot::write(path, &title, &series).map_err(|e| format!("{}: {e}", path.display()))?;
        summary["histogram"] = json!({ "csv": path, "svg": svg });
    }
    Ok((summary, ok))
}

fn main() -> ExitCode {
    // The client's lifecycle lines would interleave with the progress line.
    if std::env::var_os("RMQ_LOG").is_none() {
        std::env::set_var("RMQ_LOG", "warn");
    }
    logging::init();
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let role = argv.first().cloned().unwrap_or_default();
    if role == "-h" || role == "--help" {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if !["producer", "consumer", "both"].contains(&role.as_str()) {
        eprintln!("{HELP}");
        return ExitCode::from(2);
    }
    argv.remove(0);
    let args = match parse_args(argv, &["json", "quiet"]) {
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
    let o = match opts(&role, &args.sets, &args.switches) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rmq-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let json_out = o.json;
    match run(o) {
        Ok((summary, ok)) => {
            if json_out {
                println!("{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
            } else {
                println!(
                    "# rmq-bench {} | cores={} commit={}",
                    summary["command"].as_str().unwrap_or(""),
                    summary["cores"],
                    summary["commit"].as_str().unwrap_or("")
                );
                print!("{}", report::text(&summary));
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("rmq-bench: {e}");
            ExitCode::from(1)
        }
    }
}
