//! The push consumer (DefaultMQPushConsumerImpl): queues allocated by rebalance, a long-polling
//! pull loop per queue, and a fixed pool running the listener, concurrently or in queue order.
//!
//! Threads: `rmq-pull-<queue>` per assigned queue, `rmq-consume-N` (thread_count), and the
//! shared instance timer, which runs rebalance, offset commits, lock renewal and delayed retries.
//! Listeners run on `rmq-consume-N` threads and must not call [`PushConsumer::shutdown`].

mod consume;
mod rebalance;

use super::api::{self, PullArgs, TagExpr};
use super::consumer::{ConsumeStatus, MessageModel, OrderlyStatus, PushConsumerOptions};
use super::error::{Error, ErrorKind, Result};
use super::instance::{Instance, Member};
use super::message::{keys, MessageExt};
use super::offset_store::{default_dir, OffsetStore};
use super::process_queue::ProcessQueue;
use super::producer::{send_to_broker, Outgoing};
use super::pull::{start_offset, PullStatus};
use super::route::{publish_queues, subscribe_queues};
use crate::common::service::spawn_thread;
use crate::common::time::now_millis;
use crate::protocol::body::{ConsumerData, MessageQueue};
use crate::protocol::record;
use crate::remoting::RemotingClient;
use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A concurrent listener: called on a consumer pool thread with up to `max_batch_size` messages.
pub type ConcurrentListener = Arc<dyn Fn(&[MessageExt]) -> ConsumeStatus + Send + Sync>;
/// An orderly listener: called with one queue's messages in order, one thread per queue at a time.
pub type OrderlyListener = Arc<dyn Fn(&[MessageExt]) -> OrderlyStatus + Send + Sync>;

/// Pause after a failed pull (PULL_TIME_DELAY_MILLS_WHEN_EXCEPTION).
const PULL_ERROR_PAUSE: Duration = Duration::from_secs(3);
/// Pause while a queue is over its flow-control thresholds.
const FLOW_PAUSE: Duration = Duration::from_millis(50);
/// Socket timeout of a long poll beyond the broker's suspend time.
const LONG_POLL_MARGIN: Duration = Duration::from_secs(15);
/// Orderly: pause before retrying a suspended queue or waiting for its lock.
const ORDERLY_PAUSE: Duration = Duration::from_millis(1000);
/// Orderly: batches one task consumes before yielding the thread to other queues.
const ORDERLY_BATCHES_PER_TASK: usize = 32;
/// Concurrent: pause before redelivering messages whose send-back failed.
const RETRY_LOCAL_PAUSE: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Listener {
    Concurrent(ConcurrentListener),
    Orderly(OrderlyListener),
}

enum Task {
    Concurrent(Arc<ProcessQueue>, Vec<MessageExt>),
    Orderly(Arc<ProcessQueue>),
}

enum State {
    Created,
    Running(Arc<Instance>, Arc<OffsetStore>),
    Stopped,
}

/// A push consumer. Send + Sync. Dropping it shuts it down.
pub struct PushConsumer {
    inner: Arc<Inner>,
}

struct Inner {
    opts: PushConsumerOptions,
    state: Mutex<State>,
    subs: Mutex<BTreeMap<String, (TagExpr, i64)>>,
    listener: Mutex<Option<Listener>>,
    pqs: Mutex<HashMap<MessageQueue, Arc<ProcessQueue>>>,
    pulls: RemotingClient,
    pull_threads: Mutex<Vec<JoinHandle<()>>>,
    tasks: Mutex<Option<Sender<Task>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    delayed: Mutex<Vec<(Instant, Task)>>,
    stopped: AtomicBool,
    /// Times a pull was held back by flow control (Apache's queueFlowControlTimes).
    flow_control_times: AtomicU64,
    stop_tx: Mutex<Option<Sender<()>>>,
    stop_rx: Receiver<()>,
    next: Mutex<Timers>,
    start_ms: i64,
}

struct Timers {
    rebalance: Instant,
    persist: Instant,
    lock: Instant,
}

/// What the instance sees of a push consumer.
struct Hook(Arc<Inner>);

impl Member for Hook {
    fn group(&self) -> &str {
        &self.0.opts.group
    }
    fn is_consumer(&self) -> bool {
        true
    }
    fn topics(&self) -> Vec<String> {
        self.0.subs.lock().keys().cloned().collect()
    }
    fn consumer_data(&self) -> Option<ConsumerData> {
        Some(self.0.consumer_data())
    }
    fn tick(&self, inst: &Arc<Instance>, rebalance_now: bool) {
        self.0.tick(inst, rebalance_now);
    }
    fn running_info(&self) -> Option<serde_json::Value> {
        Some(self.0.running_info())
    }
}

impl Drop for PushConsumer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl PushConsumer {
    /// A consumer with `opts`: subscribe, register a listener, then start.
    pub fn new(opts: PushConsumerOptions) -> Result<PushConsumer> {
        if opts.group.is_empty() {
            return Err(Error::invalid("the consumer group is empty"));
        }
        if opts.thread_count == 0 || opts.max_batch_size == 0 || opts.pull_batch_size == 0 {
            return Err(Error::invalid(
                "thread_count, max_batch_size and pull_batch_size must be at least 1",
            ));
        }
        let pulls = RemotingClient::new();
        opts.config.install_signer(&pulls);
        let (stop_tx, stop_rx) = bounded(0);
        let now = Instant::now();
        Ok(PushConsumer {
            inner: Arc::new(Inner {
                opts,
                state: Mutex::new(State::Created),
                subs: Mutex::new(BTreeMap::new()),
                listener: Mutex::new(None),
                pqs: Mutex::new(HashMap::new()),
                pulls,
                pull_threads: Mutex::new(Vec::new()),
                tasks: Mutex::new(None),
                workers: Mutex::new(Vec::new()),
                delayed: Mutex::new(Vec::new()),
                stopped: AtomicBool::new(false),
                flow_control_times: AtomicU64::new(0),
                stop_tx: Mutex::new(Some(stop_tx)),
                stop_rx,
                next: Mutex::new(Timers { rebalance: now, persist: now, lock: now }),
                start_ms: now_millis(),
            }),
        })
    }

    fn check_created(&self, what: &str) -> Result<()> {
        match *self.inner.state.lock() {
            State::Created => Ok(()),
            _ => Err(Error::state(format!("{what} must be called before start()"))),
        }
    }

    /// Subscribe to `topic` with a tag expression (`"*"` or `"A || B"`); before start.
    pub fn subscribe(&self, topic: &str, expr: &str) -> Result<()> {
        self.check_created("subscribe")?;
        super::producer::check_topic(topic)?;
        self.inner.subs.lock().insert(topic.to_string(), (TagExpr::parse(expr), now_millis()));
        Ok(())
    }

    /// Register the concurrent listener; before start. It runs on the `rmq-consume-N` threads
    /// (`thread_count` of them) with up to `max_batch_size` messages of one queue; messages of a
    /// queue may be handled by several threads at once. A panic counts as
    /// [`ConsumeStatus::ReconsumeLater`]. The listener must not call [`PushConsumer::shutdown`].
    pub fn register_concurrent(&self, l: ConcurrentListener) -> Result<()> {
        self.check_created("register_concurrent")?;
        *self.inner.listener.lock() = Some(Listener::Concurrent(l));
        Ok(())
    }

    /// Register the orderly listener; before start. It runs on the `rmq-consume-N` threads, one
    /// thread per queue at a time, with that queue's messages in offset order; in clustering mode
    /// only while this client holds the queue's lock on the broker. A panic counts as
    /// [`OrderlyStatus::SuspendCurrentQueueAMoment`]. The listener must not call
    /// [`PushConsumer::shutdown`].
    pub fn register_orderly(&self, l: OrderlyListener) -> Result<()> {
        self.check_created("register_orderly")?;
        *self.inner.listener.lock() = Some(Listener::Orderly(l));
        Ok(())
    }

    /// Start consuming: join the client instance, heartbeat, and rebalance at once.
    pub fn start(&self) -> Result<()> {
        let inner = &self.inner;
        let o = &inner.opts;
        let mut st = inner.state.lock();
        match *st {
            State::Created => {}
            State::Running(..) => return Err(Error::state("the push consumer is already started")),
            State::Stopped => return Err(Error::shut_down("push consumer")),
        }
        if inner.subs.lock().is_empty() {
            return Err(Error::state("subscribe to at least one topic before start()"));
        }
        if inner.listener.lock().is_none() {
            return Err(Error::state("register a listener before start()"));
        }
        if o.model == MessageModel::Clustering {
            inner
                .subs
                .lock()
                .insert(api::retry_topic(&o.group), (TagExpr::parse("*"), now_millis()));
        }
        let inst = Instance::acquire(&o.config)?;
        let store = match o.model {
            MessageModel::Clustering => OffsetStore::remote(&o.group),
            MessageModel::Broadcasting => OffsetStore::local(
                o.offset_store_dir.as_deref().unwrap_or(&default_dir()),
                &inst.client_id,
                &o.group,
            )?,
        };
        let (tx, rx) = unbounded::<Task>();
        {
            let mut workers = inner.workers.lock();
            for i in 0..o.thread_count {
                let rx = rx.clone();
                let me = inner.clone();
                let h = spawn_thread(format!("rmq-consume-{i}"), move || {
                    for t in rx.iter() {
                        me.run_task(t);
                    }
                })
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
                workers.push(h);
            }
        }
        *inner.tasks.lock() = Some(tx);
        *st = State::Running(inst.clone(), Arc::new(store));
        drop(st);
        for t in self.inner.subs.lock().keys() {
            if let Err(e) = inst.update_route(t) {
                log::debug!("no route yet topic={t} err={e}");
            }
        }
        if let Err(e) = inst.register(Arc::new(Hook(inner.clone()))) {
            self.shutdown_inner(false);
            return Err(e);
        }
        inst.send_heartbeat();
        inst.wake_rebalance();
        log::info!("push consumer started group={} client={}", o.group, inst.client_id);
        Ok(())
    }

    /// Flow-control view for tests and diagnostics: each assigned queue with its cached message
    /// count and body bytes (ProcessQueue), and how many times a pull was held back because a
    /// queue was over `pull_threshold_per_queue` or `pull_threshold_size_mib_per_queue`.
    #[doc(hidden)]
    pub fn flow_stats(&self) -> (Vec<(MessageQueue, usize, usize)>, u64) {
        let mut qs: Vec<(MessageQueue, usize, usize)> = self
            .inner
            .pqs
            .lock()
            .values()
            .map(|pq| {
                let (n, b) = pq.load();
                (pq.mq.clone(), n, b)
            })
            .collect();
        qs.sort_by(|a, b| a.0.cmp(&b.0));
        (qs, self.inner.flow_control_times.load(Ordering::Relaxed))
    }

    /// Stop: waits for running listener calls, commits offsets, unregisters. Idempotent.
    pub fn shutdown(&self) {
        self.shutdown_inner(true);
    }

    fn shutdown_inner(&self, registered: bool) {
        let inner = &self.inner;
        let (inst, store) = {
            let mut st = inner.state.lock();
            match std::mem::replace(&mut *st, State::Stopped) {
                State::Running(i, s) => (i, s),
                _ => return,
            }
        };
        inner.stopped.store(true, Ordering::Release);
        inner.stop_tx.lock().take();
        // Cut long polls short, then wait for the pull loops. A loop that passed its stop check
        // just before the flag was set may open a fresh connection: close again until all ended.
        let pulls: Vec<JoinHandle<()>> = inner.pull_threads.lock().drain(..).collect();
        loop {
            inner.pulls.shutdown();
            if pulls.iter().all(|h| h.is_finished()) {
                break;
            }
            // Pull loops end within one failed request of the close.
            std::thread::park_timeout(Duration::from_millis(20));
        }
        for h in pulls {
            let _ = h.join();
        }
        let current = std::thread::current().id();
        // Running listener calls finish; queued tasks are skipped (their offsets stay behind).
        inner.tasks.lock().take();
        inner.delayed.lock().clear();
        for h in inner.workers.lock().drain(..) {
            if h.thread().id() != current {
                let _ = h.join();
            }
        }
        let pqs: Vec<Arc<ProcessQueue>> = inner.pqs.lock().drain().map(|(_, p)| p).collect();
        for pq in &pqs {
            pq.set_dropped();
        }
        let mqs: Vec<MessageQueue> = pqs.iter().map(|p| p.mq.clone()).collect();
        store.persist_all(&inst, &mqs);
        if inner.is_orderly() && inner.opts.model == MessageModel::Clustering {
            let mut by_broker: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
            for mq in mqs {
                by_broker.entry(mq.broker_name.clone()).or_default().push(mq);
            }
            for (b, qs) in by_broker {
                api::unlock_batch(&inst, &b, &inner.opts.group, &qs);
            }
        }
        if registered {
            inst.unregister(&inner.opts.group, true);
        }
        log::info!("push consumer stopped group={}", inner.opts.group);
    }
}

impl Inner {
    fn is_orderly(&self) -> bool {
        matches!(*self.listener.lock(), Some(Listener::Orderly(_)))
    }

    fn running(&self) -> Option<(Arc<Instance>, Arc<OffsetStore>)> {
        match &*self.state.lock() {
            State::Running(i, s) => Some((i.clone(), s.clone())),
            _ => None,
        }
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.opts.group.clone(),
            consume_type: "CONSUME_PASSIVELY".into(),
            message_model: self.opts.model.java_name().into(),
            consume_from_where: self.opts.consume_from.java_name().into(),
            subscription_data_set: self
                .subs
                .lock()
                .iter()
                .map(|(t, (e, v))| e.subscription_data(t, *v))
                .collect(),
            unit_mode: false,
        }
    }

    fn running_info(&self) -> serde_json::Value {
        let queues: Vec<String> = self
            .pqs
            .lock()
            .keys()
            .map(|q| format!("{}:{}:{}", q.topic, q.broker_name, q.queue_id))
            .collect();
        serde_json::json!({
            "properties": {
                "PROP_CONSUME_TYPE": "CONSUME_PASSIVELY",
                "PROP_CONSUMEORDERLY": self.is_orderly().to_string(),
                "PROP_THREADPOOL_CORE_SIZE": self.opts.thread_count.to_string(),
                "PROP_CONSUMER_START_TIMESTAMP": self.start_ms.to_string(),
                "PROP_CLIENT_VERSION": "rmq",
                "PROP_NAMESERVER_ADDR": self.opts.config.namesrv_addr,
                "rmqAssignedQueues": queues.join(","),
            },
            "subscriptionSet": self.consumer_data().subscription_data_set,
            "mqTable": {},
            "statusTable": {},
        })
    }

    /// Periodic work on the instance timer.
    fn tick(self: &Arc<Self>, inst: &Arc<Instance>, rebalance_now: bool) {
        if self.is_stopped() {
            return;
        }
        let now = Instant::now();
        let (rebalance, persist, lock) = {
            let mut t = self.next.lock();
            let r = rebalance_now || now >= t.rebalance;
            if r {
                t.rebalance = now + self.opts.rebalance_interval;
            }
            let p = now >= t.persist;
            if p {
                t.persist = now + self.opts.config.persist_offset_interval;
            }
            let l = now >= t.lock;
            if l {
                t.lock = now + self.opts.lock_interval;
            }
            (r, p, l)
        };
        if lock && self.is_orderly() && self.opts.model == MessageModel::Clustering {
            self.lock_all(inst);
        }
        if rebalance {
            self.rebalance(inst);
        }
        if persist {
            if let Some((inst, store)) = self.running() {
                let mqs: Vec<MessageQueue> = self.pqs.lock().keys().cloned().collect();
                store.persist_all(&inst, &mqs);
            }
        }
        let due: Vec<Task> = {
            let mut d = self.delayed.lock();
            let (ready, wait): (Vec<_>, Vec<_>) = d.drain(..).partition(|(t, _)| *t <= now);
            *d = wait;
            ready.into_iter().map(|(_, t)| t).collect()
        };
        for t in due {
            self.submit(t);
        }
    }

    fn submit(&self, t: Task) {
        if let Some(tx) = self.tasks.lock().as_ref() {
            let _ = tx.send(t);
        }
    }

    fn submit_later(&self, t: Task, after: Duration) {
        if !self.is_stopped() {
            self.delayed.lock().push((Instant::now() + after, t));
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((inst, _)) = self.running() {
            log::debug!(
                "push consumer dropped while running group={} client={}",
                self.opts.group,
                inst.client_id
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<PushConsumer>();
        check::<crate::client::Producer>();
        check::<crate::client::PullConsumer>();
    }

    #[test]
    fn needs_subscription_and_listener() {
        let c = PushConsumer::new(PushConsumerOptions::new("G", "127.0.0.1:1")).unwrap();
        assert_eq!(c.start().unwrap_err().kind(), ErrorKind::IllegalState);
        c.subscribe("T", "*").unwrap();
        assert_eq!(c.start().unwrap_err().kind(), ErrorKind::IllegalState);
        assert!(c.subscribe("bad topic", "*").is_err());
        c.shutdown();
    }
}
