//! The receiving side: a push consumer (its consume pool runs the counting listener) or pull
//! consumers polling. End-to-end latency is receive time minus the send time the producer put
//! in the message (`BENCH_SENT_US`, µs), or minus the born timestamp (ms) for other producers'
//! messages.

use crate::producer::{now_us, SENT_US};
use crate::stats::Side;
use crate::Opts;
use rmq::client::{
    ConsumeFrom, ConsumeStatus, MessageExt, PullConsumer, PullConsumerOptions, PushConsumer,
    PushConsumerOptions,
};
use rmq::common::service::spawn_thread;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where a new group starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    First,
    Last,
    /// Messages stored since the run started.
    Now,
}

fn latency_us(m: &MessageExt) -> u64 {
    let sent = m
        .property(SENT_US)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(m.born_timestamp.saturating_mul(1000));
    (now_us() - sent).max(0) as u64
}

fn count(side: &Side, msgs: &[MessageExt], measure_from: Instant) {
    let measured = Instant::now() >= measure_from;
    for m in msgs {
        side.done(1, m.body().len() as u64, latency_us(m), measured);
    }
}

enum Kind {
    Push(PushConsumer),
    Pull(Arc<PullConsumer>, Vec<JoinHandle<()>>, Arc<AtomicBool>),
}

/// A started consumer.
pub struct Receiver {
    kind: Kind,
}

impl Receiver {
    pub fn start(
        o: &Arc<Opts>,
        side: &Arc<Side>,
        measure_from: Instant,
        start_ms: i64,
    ) -> Result<Receiver, String> {
        let from = match o.from {
            From::First => ConsumeFrom::FirstOffset,
            From::Last => ConsumeFrom::LastOffset,
            From::Now => ConsumeFrom::Timestamp(start_ms - 1000),
        };
        let instance = format!("rmq-bench-c-{}", std::process::id());
        let expr = o.tags.clone().unwrap_or_else(|| "*".into());
        if o.pull {
            let mut po = PullConsumerOptions::new(&o.consumer_group, &o.namesrv);
            po.config.instance_name = instance;
            po.consume_from = from;
            po.rebalance_interval = Duration::from_secs(5);
            let c = Arc::new(PullConsumer::new(po).map_err(|e| e.to_string())?);
            c.subscribe(&o.topic, &expr).map_err(|e| e.to_string())?;
            c.start().map_err(|e| e.to_string())?;
            let stop = Arc::new(AtomicBool::new(false));
            // One polling thread: concurrent poll callers may be handed the same batch.
            let (c2, side, stop2) = (c.clone(), side.clone(), stop.clone());
            let thread = spawn_thread("bench-poll".into(), move || {
                while !stop2.load(Ordering::Relaxed) {
                    match c2.poll(Duration::from_millis(200)) {
                        Ok(msgs) => count(&side, &msgs, measure_from),
                        Err(e) => {
                            side.error(&format!("{:?}", e.kind()), false);
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            })
            .map_err(|e| e.to_string())?;
            let threads = vec![thread];
            return Ok(Receiver { kind: Kind::Pull(c, threads, stop) });
        }
        let mut po = PushConsumerOptions::new(&o.consumer_group, &o.namesrv);
        po.config.instance_name = instance;
        po.consume_from = from;
        po.thread_count = o.consumer_threads;
        po.max_batch_size = 32;
        let c = PushConsumer::new(po).map_err(|e| e.to_string())?;
        c.subscribe(&o.topic, &expr).map_err(|e| e.to_string())?;
        let side = side.clone();
        c.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
            count(&side, msgs, measure_from);
            ConsumeStatus::Success
        }))
        .map_err(|e| e.to_string())?;
        c.start().map_err(|e| e.to_string())?;
        Ok(Receiver { kind: Kind::Push(c) })
    }

    pub fn finish(self) {
        match self.kind {
            Kind::Push(c) => c.shutdown(),
            Kind::Pull(c, threads, stop) => {
                stop.store(true, Ordering::Relaxed);
                for t in threads {
                    let _ = t.join();
                }
                let _ = c.commit();
                c.shutdown();
            }
        }
    }
}
