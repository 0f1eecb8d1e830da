//! The sending side: N threads through `rmq::client` (sync, async, one-way, batch, delayed,
//! transactional) or, with `--raw`, SEND_MESSAGE_V2 straight through the remoting client to
//! one broker (the path of the earlier BENCHMARKS.md figures).

use crate::stats::Side;
use crate::Opts;
use crossbeam_channel::bounded;
use rmq::client::{
    LocalTxState, Message, MessageExt, Producer, ProducerOptions, SendStatus, TransactionListener,
    TransactionProducer,
};
use rmq::common::service::spawn_thread;
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::encode_properties;
use rmq::remoting::RemotingClient;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Property carrying the send time in µs since the epoch, for end-to-end latency finer than the
/// born timestamp's milliseconds.
pub const SENT_US: &str = "BENCH_SENT_US";

/// How messages are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    Sync,
    Async,
    Oneway,
    Batch,
    Transaction,
    Raw,
}

impl SendMode {
    pub fn parse(s: &str) -> Option<SendMode> {
        Some(match s {
            "sync" => SendMode::Sync,
            "async" => SendMode::Async,
            "oneway" => SendMode::Oneway,
            "batch" => SendMode::Batch,
            "transaction" => SendMode::Transaction,
            "raw" => SendMode::Raw,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SendMode::Sync => "sync",
            SendMode::Async => "async",
            SendMode::Oneway => "oneway",
            SendMode::Batch => "batch",
            SendMode::Transaction => "transaction",
            SendMode::Raw => "raw",
        }
    }
}

pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Shared state of a run: the stop flag, the message budget, the warm-up end, the pace.
pub struct Run {
    pub stop: AtomicBool,
    /// Messages left to send (`--count`); negative means no budget.
    budget: AtomicI64,
    pub measure_from: Instant,
    /// `--rate`: nanoseconds between two messages of the whole run (0: as fast as possible).
    gap_ns: u64,
    /// The slot (ns after `start`) the next message may go at, with `--rate`.
    next_ns: AtomicU64,
    start: Instant,
}

impl Run {
    pub fn new(count: Option<u64>, warmup: Duration, rate: Option<u64>) -> Run {
        let start = Instant::now();
        Run {
            stop: AtomicBool::new(false),
            budget: AtomicI64::new(count.map(|c| c as i64).unwrap_or(-1)),
            measure_from: start + warmup,
            gap_ns: rate.filter(|r| *r > 0).map(|r| 1_000_000_000 / r).unwrap_or(0),
            next_ns: AtomicU64::new(0),
            start,
        }
    }

    /// With `--rate`, wait for this call's slot: `n` messages take `n` gaps of the shared
    /// schedule. A schedule more than 50 ms behind (the threads could not keep up) restarts
    /// from now, so a stall is not followed by a burst.
    fn pace(&self, n: u64) {
        if self.gap_ns == 0 {
            return;
        }
        let now = self.start.elapsed().as_nanos() as u64;
        let floor = now.saturating_sub(50_000_000);
        let mut slot = self.next_ns.load(Ordering::Relaxed);
        loop {
            let at = slot.max(floor);
            match self.next_ns.compare_exchange_weak(
                slot,
                at + n * self.gap_ns,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    slot = at;
                    break;
                }
                Err(s) => slot = s,
            }
        }
        if slot > now {
            std::thread::sleep(Duration::from_nanos(slot - now));
        }
    }

    /// Claim up to `n` messages of the budget, at the `--rate` pace; 0 when it is spent or
    /// the run stops.
    pub fn claim(&self, n: u64) -> u64 {
        if self.stop.load(Ordering::Relaxed) {
            return 0;
        }
        self.pace(n);
        if self.stop.load(Ordering::Relaxed) {
            return 0;
        }
        let mut cur = self.budget.load(Ordering::Relaxed);
        loop {
            if cur < 0 {
                return n;
            }
            if cur == 0 {
                return 0;
            }
            let take = (n as i64).min(cur);
            match self.budget.compare_exchange_weak(
                cur,
                cur - take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take as u64,
                Err(c) => cur = c,
            }
        }
    }

    pub fn measured(&self, t0: Instant) -> bool {
        t0 >= self.measure_from
    }
}

struct Commit;

impl TransactionListener for Commit {
    fn execute_local(&self, _msg: &Message) -> LocalTxState {
        LocalTxState::Commit
    }
    fn check_local(&self, _msg: &MessageExt) -> LocalTxState {
        LocalTxState::Commit
    }
}

enum Sender {
    Client(Producer),
    Tx(TransactionProducer),
    Raw(Arc<RemotingClient>, String),
}

/// A started sender and its threads.
pub struct Senders {
    sender: Arc<Sender>,
    threads: Vec<JoinHandle<()>>,
}

fn message(o: &Opts, body: &[u8]) -> Message {
    let mut m = Message::new(&o.topic, body.to_vec());
    if let Some(t) = &o.tags {
        m.set_tags(t);
    }
    if o.delay_level > 0 {
        m.set_delay_level(o.delay_level);
    }
    m.put_property(SENT_US, &now_us().to_string());
    m
}

fn status_ok(s: SendStatus) -> Result<(), &'static str> {
    match s {
        SendStatus::Ok => Ok(()),
        SendStatus::FlushDiskTimeout => Err("FLUSH_DISK_TIMEOUT"),
        SendStatus::FlushSlaveTimeout => Err("FLUSH_SLAVE_TIMEOUT"),
        SendStatus::SlaveNotAvailable => Err("SLAVE_NOT_AVAILABLE"),
    }
}

fn kind(e: &rmq::client::Error) -> String {
    match e.code() {
        Some(c) => format!("{:?}({c})", e.kind()),
        None => format!("{:?}", e.kind()),
    }
}

fn raw_send(
    c: &RemotingClient,
    broker: &str,
    o: &Opts,
    queue: i32,
    body: &[u8],
) -> Result<(), String> {
    let props = encode_properties([("WAIT", "true"), (SENT_US, &now_us().to_string())]);
    let req = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", &o.group)
        .with("b", &o.topic)
        .with("c", "TBW102")
        .with("d", o.queues)
        .with("e", queue)
        .with("f", 0)
        .with("g", rmq::common::time::now_millis())
        .with("h", 0)
        .with("i", props)
        .with("j", 0)
        .with("k", false)
        .with("m", false)
        .with_body(body.to_vec());
    match c.invoke(broker, req, Duration::from_secs(3)) {
        Ok(r) if r.code == rs::SUCCESS => Ok(()),
        Ok(r) => Err(format!("code({})", r.code)),
        Err(e) if e.is_timeout() => Err("Timeout".into()),
        Err(_) => Err("Network".into()),
    }
}

impl Senders {
    /// Start the sender and `o.threads` threads sending until the budget or the stop flag.
    pub fn start(
        o: &Arc<Opts>,
        run: &Arc<Run>,
        side: &Arc<Side>,
        broker: &str,
    ) -> Result<Senders, String> {
        let mut po = ProducerOptions::new(&o.group, &o.namesrv);
        po.config.instance_name = format!("rmq-bench-{}", std::process::id());
        po.retry_times = 0;
        let sender = Arc::new(match o.mode {
            SendMode::Raw => Sender::Raw(Arc::new(RemotingClient::new()), broker.to_string()),
            SendMode::Transaction => {
                let p =
                    TransactionProducer::new(po, Arc::new(Commit)).map_err(|e| e.to_string())?;
                p.start().map_err(|e| e.to_string())?;
                Sender::Tx(p)
            }
            _ => {
                let p = Producer::new(po).map_err(|e| e.to_string())?;
                p.start().map_err(|e| e.to_string())?;
                p.fetch_publish_queues(&o.topic)
                    .map_err(|e| format!("no route to {}: {e}", o.topic))?;
                Sender::Client(p)
            }
        });
        let mut threads = Vec::new();
        for t in 0..o.threads {
            let (o, run, side, sender) = (o.clone(), run.clone(), side.clone(), sender.clone());
            let h = spawn_thread(format!("bench-send-{t}"), move || {
                worker(t, &o, &run, &side, &sender)
            })
            .map_err(|e| e.to_string())?;
            threads.push(h);
        }
        Ok(Senders { sender, threads })
    }

    /// Wait for the threads (each waits for its async answers), then shut the sender down.
    pub fn finish(self) {
        for t in self.threads {
            let _ = t.join();
        }
        match &*self.sender {
            Sender::Client(p) => p.shutdown(),
            Sender::Tx(p) => p.shutdown(),
            Sender::Raw(c, _) => c.shutdown(),
        }
    }

    /// True once every sending thread has ended (budget spent).
    pub fn done(&self) -> bool {
        self.threads.iter().all(|t| t.is_finished())
    }
}

fn worker(t: usize, o: &Opts, run: &Run, side: &Arc<Side>, sender: &Sender) {
    let body = vec![b'x'; o.size];
    let per_call = if o.mode == SendMode::Batch { o.batch as u64 } else { 1 };
    // Async: at most `inflight` sends waiting per thread; a callback returns its token.
    let (tok_tx, tok_rx) = bounded::<()>(o.inflight);
    let mut i: u64 = 0;
    loop {
        let n = run.claim(per_call);
        if n == 0 {
            break;
        }
        let t0 = Instant::now();
        let measured = run.measured(t0);
        let bytes = n * o.size as u64;
        match (sender, o.mode) {
            (Sender::Raw(c, broker), _) => {
                let q = ((t as u64 + i) % o.queues as u64) as i32;
                match raw_send(c, broker, o, q, &body) {
                    Ok(()) => side.done(1, bytes, t0.elapsed().as_micros() as u64, measured),
                    Err(k) => side.error(&k, false),
                }
            }
            (Sender::Tx(p), _) => match p.send_in_transaction(&message(o, &body)) {
                Ok(r) => match status_ok(r.status) {
                    Ok(()) => side.done(1, bytes, t0.elapsed().as_micros() as u64, measured),
                    Err(k) => side.error(k, false),
                },
                Err(e) => side.error(&kind(&e), false),
            },
            (Sender::Client(p), SendMode::Async) => {
                if tok_tx.send(()).is_err() {
                    break;
                }
                let (side2, rx) = (side.clone(), tok_rx.clone());
                let cb = Box::new(move |r: rmq::client::Result<rmq::client::SendResult>| {
                    let us = t0.elapsed().as_micros() as u64;
                    match r
                        .map_err(|e| kind(&e))
                        .and_then(|r| status_ok(r.status).map_err(str::to_string))
                    {
                        Ok(()) => side2.done(1, bytes, us, measured),
                        Err(k) => side2.error(&k, true),
                    }
                    let _ = rx.try_recv();
                });
                if let Err(e) = p.send_async(message(o, &body), cb) {
                    let _ = tok_rx.try_recv();
                    side.error(&kind(&e), false);
                }
            }
            (Sender::Client(p), SendMode::Oneway) => match p.send_oneway(&message(o, &body)) {
                Ok(()) => side.done(1, bytes, t0.elapsed().as_micros() as u64, measured),
                Err(e) => side.error(&kind(&e), false),
            },
            (Sender::Client(p), SendMode::Batch) => {
                let msgs: Vec<Message> = (0..n).map(|_| message(o, &body)).collect();
                match p.send_batch(&msgs) {
                    Ok(r) => match status_ok(r.status) {
                        Ok(()) => side.done(n, bytes, t0.elapsed().as_micros() as u64, measured),
                        Err(k) => side.error(k, false),
                    },
                    Err(e) => side.error(&kind(&e), false),
                }
            }
            (Sender::Client(p), _) => match p.send(&message(o, &body)) {
                Ok(r) => match status_ok(r.status) {
                    Ok(()) => side.done(1, bytes, t0.elapsed().as_micros() as u64, measured),
                    Err(k) => side.error(k, false),
                },
                Err(e) => side.error(&kind(&e), false),
            },
        }
        i += 1;
    }
    // Async: wait for this thread's outstanding callbacks (each returns its token).
    if o.mode == SendMode::Async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !tok_rx.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
