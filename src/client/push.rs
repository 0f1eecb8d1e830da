//! The push consumer (DefaultMQPushConsumerImpl): queues allocated by rebalance, a long-polling
//! pull loop per queue, and a fixed pool running the listener, concurrently or in queue order.
//!
//! Threads: `rmq-pull-<queue>` per assigned queue, `rmq-consume-N` (thread_count), and the
//! shared instance timer, which runs rebalance, offset commits, lock renewal and delayed retries.
//! Listeners run on `rmq-consume-N` threads and must not call [`PushConsumer::shutdown`].

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
use std::sync::atomic::{AtomicBool, Ordering};
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
        let (stop_tx, stop_rx) = bounded(0);
        let now = Instant::now();
        Ok(PushConsumer {
            inner: Arc::new(Inner {
                opts,
                state: Mutex::new(State::Created),
                subs: Mutex::new(BTreeMap::new()),
                listener: Mutex::new(None),
                pqs: Mutex::new(HashMap::new()),
                pulls: RemotingClient::new(),
                pull_threads: Mutex::new(Vec::new()),
                tasks: Mutex::new(None),
                workers: Mutex::new(Vec::new()),
                delayed: Mutex::new(Vec::new()),
                stopped: AtomicBool::new(false),
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

    /// Register the concurrent listener; before start.
    pub fn register_concurrent(&self, l: ConcurrentListener) -> Result<()> {
        self.check_created("register_concurrent")?;
        *self.inner.listener.lock() = Some(Listener::Concurrent(l));
        Ok(())
    }

    /// Register the orderly listener; before start.
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
        // Cut long polls short, then wait for the pull loops.
        inner.pulls.shutdown();
        let current = std::thread::current().id();
        for h in inner.pull_threads.lock().drain(..) {
            let _ = h.join();
        }
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

    /// RebalanceImpl.rebalanceByTopic for every subscription.
    fn rebalance(self: &Arc<Self>, inst: &Arc<Instance>) {
        let topics: Vec<String> = self.subs.lock().keys().cloned().collect();
        for topic in topics {
            if self.is_stopped() {
                return;
            }
            let route = match inst.route(&topic) {
                Some(r) => r,
                None => match inst.route_or_fetch(&topic) {
                    Ok(r) => r,
                    Err(e) => {
                        log::debug!("rebalance: no route topic={topic} err={e}");
                        continue;
                    }
                },
            };
            let mqs = subscribe_queues(&topic, &route);
            let mine: BTreeSet<MessageQueue> = match self.opts.model {
                MessageModel::Broadcasting => mqs.into_iter().collect(),
                MessageModel::Clustering => {
                    let cids = match api::consumer_ids(inst, &self.opts.group, &topic) {
                        Ok(c) => c,
                        Err(e) => {
                            log::debug!("rebalance: no consumer list topic={topic} err={e}");
                            continue;
                        }
                    };
                    if !cids.contains(&inst.client_id) {
                        // Our heartbeat has not reached this broker yet.
                        inst.send_heartbeat();
                    }
                    self.opts
                        .allocate
                        .allocate(&self.opts.group, &inst.client_id, &mqs, &cids)
                        .into_iter()
                        .collect()
                }
            };
            self.update_queues(inst, &topic, &mine);
        }
    }

    fn update_queues(
        self: &Arc<Self>,
        inst: &Arc<Instance>,
        topic: &str,
        mine: &BTreeSet<MessageQueue>,
    ) {
        let Some((_, store)) = self.running() else { return };
        let orderly_locking = self.is_orderly() && self.opts.model == MessageModel::Clustering;
        let gone: Vec<Arc<ProcessQueue>> = {
            let mut pqs = self.pqs.lock();
            let gone: Vec<MessageQueue> =
                pqs.keys().filter(|q| q.topic == topic && !mine.contains(*q)).cloned().collect();
            gone.iter().filter_map(|q| pqs.remove(q)).collect()
        };
        for pq in gone {
            pq.set_dropped();
            if orderly_locking {
                // Let a running listener call finish before the lock goes.
                let guard = pq.consume_lock.try_lock_for(Duration::from_secs(1));
                store.persist(inst, &pq.mq);
                api::unlock_batch(
                    inst,
                    &pq.mq.broker_name,
                    &self.opts.group,
                    std::slice::from_ref(&pq.mq),
                );
                drop(guard);
            } else {
                store.persist(inst, &pq.mq);
            }
            store.remove(&pq.mq);
            log::info!(
                "queue released group={} topic={} broker={} queue={}",
                self.opts.group,
                pq.mq.topic,
                pq.mq.broker_name,
                pq.mq.queue_id
            );
        }
        let new: Vec<MessageQueue> = {
            let pqs = self.pqs.lock();
            mine.iter().filter(|q| !pqs.contains_key(*q)).cloned().collect()
        };
        for mq in new {
            if self.is_stopped() {
                return;
            }
            let pq = Arc::new(ProcessQueue::new(mq.clone()));
            if orderly_locking {
                match api::lock_batch(
                    inst,
                    &mq.broker_name,
                    &self.opts.group,
                    std::slice::from_ref(&mq),
                ) {
                    Ok(locked) if locked.contains(&mq) => pq.set_locked(true),
                    Ok(_) => {
                        log::debug!(
                            "queue locked by another consumer topic={} queue={}",
                            mq.topic,
                            mq.queue_id
                        );
                        continue;
                    }
                    Err(e) => {
                        log::debug!(
                            "lock failed topic={} queue={} err={}",
                            mq.topic,
                            mq.queue_id,
                            e
                        );
                        continue;
                    }
                }
            }
            store.remove(&mq);
            let offset = match start_offset(inst, &store, &mq, self.opts.consume_from) {
                Ok(o) => o,
                Err(e) => {
                    log::warn!(
                        "cannot find where to start group={} topic={} queue={} err={}",
                        self.opts.group,
                        mq.topic,
                        mq.queue_id,
                        e
                    );
                    continue;
                }
            };
            store.update(&mq, offset, false);
            self.pqs.lock().insert(mq.clone(), pq.clone());
            log::info!(
                "queue assigned group={} topic={} broker={} queue={} offset={}",
                self.opts.group,
                mq.topic,
                mq.broker_name,
                mq.queue_id,
                offset
            );
            let me = self.clone();
            let inst2 = inst.clone();
            let name = format!(
                "rmq-pull-{}-{}",
                mq.queue_id,
                mq.topic.chars().take(12).collect::<String>()
            );
            match spawn_thread(name, move || me.pull_loop(&inst2, &pq, offset)) {
                Ok(h) => {
                    let mut ts = self.pull_threads.lock();
                    ts.retain(|h| !h.is_finished());
                    ts.push(h);
                }
                Err(e) => log::error!("cannot start a pull thread err={e}"),
            }
        }
    }

    fn lock_all(&self, inst: &Instance) {
        let pqs: Vec<Arc<ProcessQueue>> = self.pqs.lock().values().cloned().collect();
        let mut by_broker: BTreeMap<String, Vec<Arc<ProcessQueue>>> = BTreeMap::new();
        for pq in pqs {
            by_broker.entry(pq.mq.broker_name.clone()).or_default().push(pq);
        }
        for (b, pqs) in by_broker {
            let mqs: Vec<MessageQueue> = pqs.iter().map(|p| p.mq.clone()).collect();
            match api::lock_batch(inst, &b, &self.opts.group, &mqs) {
                Ok(ok) => {
                    for pq in pqs {
                        pq.set_locked(ok.contains(&pq.mq));
                    }
                }
                Err(e) => log::debug!("lock renewal failed broker={b} err={e}"),
            }
        }
    }

    /// Wait up to `d`; false when the consumer stops or the queue is dropped.
    fn pause(&self, pq: &ProcessQueue, d: Duration) -> bool {
        select! {
            recv(self.stop_rx) -> _ => {}
            recv(pq.drop_signal()) -> _ => {}
            default(d) => {}
        }
        !self.is_stopped() && !pq.is_dropped()
    }

    /// One queue's long-polling pull loop (PullMessageService + DefaultMQPushConsumerImpl.pullMessage).
    fn pull_loop(&self, inst: &Instance, pq: &Arc<ProcessQueue>, mut offset: i64) {
        let mq = &pq.mq;
        let orderly = self.is_orderly();
        let threshold_bytes =
            self.opts.pull_threshold_size_mib_per_queue.saturating_mul(1024 * 1024);
        let Some((_, store)) = self.running() else { return };
        while !self.is_stopped() && !pq.is_dropped() {
            let (count, bytes) = pq.load();
            if count > self.opts.pull_threshold_per_queue || bytes > threshold_bytes {
                if !self.pause(pq, FLOW_PAUSE) {
                    break;
                }
                continue;
            }
            if orderly && self.opts.model == MessageModel::Clustering && !pq.is_locked() {
                if !self.pause(pq, Duration::from_millis(100)) {
                    break;
                }
                continue;
            }
            let Some((expr, ver)) = self.subs.lock().get(&mq.topic).cloned() else { break };
            let commit = if self.opts.model == MessageModel::Clustering {
                store.read_memory(mq).filter(|o| *o > 0)
            } else {
                None
            };
            let args = PullArgs {
                group: &self.opts.group,
                mq,
                expr: &expr,
                sub_version: ver,
                offset,
                max_nums: self.opts.pull_batch_size,
                commit_offset: commit,
                suspend: Some(self.opts.suspend_timeout),
                timeout: self.opts.suspend_timeout + LONG_POLL_MARGIN,
            };
            let r = match api::pull(inst, &self.pulls, &args) {
                Ok(r) => r,
                Err(e) => {
                    if self.is_stopped() || pq.is_dropped() {
                        break;
                    }
                    log::debug!("pull failed topic={} queue={} err={}", mq.topic, mq.queue_id, e);
                    if !self.pause(pq, PULL_ERROR_PAUSE) {
                        break;
                    }
                    continue;
                }
            };
            if pq.is_dropped() {
                break;
            }
            match r.status {
                PullStatus::Found => {
                    offset = r.next_begin_offset;
                    self.dispatch(pq, r.messages);
                }
                PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => {
                    offset = r.next_begin_offset;
                    if pq.is_empty() {
                        store.update(mq, offset, true);
                    }
                }
                PullStatus::OffsetIllegal => {
                    log::warn!(
                        "pull offset illegal group={} topic={} queue={} offset={} next={}",
                        self.opts.group,
                        mq.topic,
                        mq.queue_id,
                        offset,
                        r.next_begin_offset
                    );
                    offset = r.next_begin_offset;
                    store.update(mq, offset, false);
                    store.persist(inst, mq);
                }
            }
        }
    }

    fn dispatch(&self, pq: &Arc<ProcessQueue>, msgs: Vec<MessageExt>) {
        let schedule = pq.put(&msgs);
        match self.listener.lock().clone() {
            Some(Listener::Orderly(_)) if schedule => self.submit(Task::Orderly(pq.clone())),
            Some(Listener::Orderly(_)) => {}
            Some(Listener::Concurrent(_)) => {
                let mut msgs = msgs;
                while !msgs.is_empty() {
                    let rest = msgs.split_off(self.opts.max_batch_size.min(msgs.len()));
                    self.submit(Task::Concurrent(pq.clone(), msgs));
                    msgs = rest;
                }
            }
            None => {}
        }
    }

    fn run_task(&self, t: Task) {
        if self.is_stopped() {
            return;
        }
        let listener = self.listener.lock().clone();
        match (t, listener) {
            (Task::Concurrent(pq, msgs), Some(Listener::Concurrent(l))) => {
                self.consume_concurrently(&pq, msgs, &l)
            }
            (Task::Orderly(pq), Some(Listener::Orderly(l))) => self.consume_orderly(&pq, &l),
            _ => {}
        }
    }

    /// Retry-topic messages show their original topic (resetRetryAndNamespace).
    fn reset_retry_topic(&self, msgs: &mut [MessageExt]) {
        let retry = api::retry_topic(&self.opts.group);
        for m in msgs {
            if m.message.topic() == retry {
                if let Some(t) = m.message.property(keys::RETRY_TOPIC).map(str::to_string) {
                    m.message.set_topic(&t);
                }
            }
        }
    }

    fn consume_concurrently(
        &self,
        pq: &Arc<ProcessQueue>,
        mut msgs: Vec<MessageExt>,
        l: &ConcurrentListener,
    ) {
        if pq.is_dropped() {
            return;
        }
        let Some((inst, store)) = self.running() else { return };
        self.reset_retry_topic(&mut msgs);
        let status = match std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))) {
            Ok(s) => s,
            Err(_) => {
                log::warn!(
                    "the listener panicked; the messages will be consumed again group={}",
                    self.opts.group
                );
                ConsumeStatus::ReconsumeLater
            }
        };
        let mut failed = Vec::new();
        if status == ConsumeStatus::ReconsumeLater {
            if self.opts.model == MessageModel::Broadcasting {
                log::warn!(
                    "broadcasting: reconsume-later messages are dropped group={} count={}",
                    self.opts.group,
                    msgs.len()
                );
            } else {
                for m in &msgs {
                    if !self.send_back(&inst, m) {
                        failed.push(m.clone());
                    }
                }
            }
        }
        if pq.is_dropped() {
            return;
        }
        let done: Vec<i64> = msgs
            .iter()
            .filter(|m| !failed.iter().any(|f| f.queue_offset == m.queue_offset))
            .map(|m| m.queue_offset)
            .collect();
        if let Some(o) = pq.remove(&done) {
            store.update(&pq.mq, o, true);
        }
        if !failed.is_empty() {
            self.submit_later(Task::Concurrent(pq.clone(), failed), RETRY_LOCAL_PAUSE);
        }
    }

    fn max_reconsume(&self) -> i32 {
        if self.opts.max_reconsume_times < 0 {
            16
        } else {
            self.opts.max_reconsume_times
        }
    }

    /// CONSUMER_SEND_MSG_BACK, else a plain send to the retry topic (Apache's sendMessageBack).
    fn send_back(&self, inst: &Instance, m: &MessageExt) -> bool {
        let max = self.max_reconsume();
        let e = match api::send_back(inst, &self.opts.group, m, 0, max) {
            Ok(()) => return true,
            Err(e) => e,
        };
        log::warn!("send-back failed, resending to the retry topic msg={} err={}", m.msg_id, e);
        let topic = api::retry_topic(&self.opts.group);
        let mut props = m.properties().clone();
        props.entry(keys::RETRY_TOPIC.into()).or_insert_with(|| m.topic().to_string());
        props.entry(keys::ORIGIN_MESSAGE_ID.into()).or_insert_with(|| m.msg_id.clone());
        props.insert(keys::DELAY.into(), (3 + m.reconsume_times).to_string());
        props.remove(keys::MIN_OFFSET);
        props.remove(keys::MAX_OFFSET);
        let out = Outgoing {
            topic: topic.clone(),
            body: m.body().to_vec(),
            flag: m.flag(),
            sys_flag: 0,
            properties: record::encode_properties(
                props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            uniq_ids: m.msg_id.clone(),
            batch: false,
            reconsume_times: Some(m.reconsume_times + 1),
            max_reconsume_times: Some(max),
        };
        let route = match inst.route_or_fetch(&topic) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("resend to retry topic failed msg={} err={}", m.msg_id, e);
                return false;
            }
        };
        let mqs = publish_queues(&topic, &route);
        let Some(mq) = mqs.get(m.queue_id.unsigned_abs() as usize % mqs.len().max(1)) else {
            return false;
        };
        let deadline = Instant::now() + inst.cfg.request_timeout;
        match send_to_broker(inst, &self.opts.group, 1, &out, mq, false, deadline) {
            Ok(_) => true,
            Err(e) => {
                log::warn!("resend to retry topic failed msg={} err={}", m.msg_id, e);
                false
            }
        }
    }

    /// ConsumeMessageOrderlyService.ConsumeRequest: one thread per queue, messages in order.
    fn consume_orderly(&self, pq: &Arc<ProcessQueue>, l: &OrderlyListener) {
        let Some((_, store)) = self.running() else { return };
        let _one_thread = pq.consume_lock.lock();
        for _ in 0..ORDERLY_BATCHES_PER_TASK {
            if pq.is_dropped() || self.is_stopped() {
                pq.deactivate();
                return;
            }
            if self.opts.model == MessageModel::Clustering && !pq.is_locked() {
                self.submit_later(Task::Orderly(pq.clone()), ORDERLY_PAUSE / 10);
                return;
            }
            let mut msgs = pq.take(self.opts.max_batch_size);
            if msgs.is_empty() {
                return;
            }
            self.reset_retry_topic(&mut msgs);
            let status = match std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))) {
                Ok(s) => s,
                Err(_) => {
                    log::warn!(
                        "the orderly listener panicked; retrying the queue group={}",
                        self.opts.group
                    );
                    OrderlyStatus::SuspendCurrentQueueAMoment
                }
            };
            match status {
                OrderlyStatus::Success => {
                    if let Some(o) = pq.commit() {
                        if !pq.is_dropped() {
                            store.update(&pq.mq, o, false);
                        }
                    }
                }
                OrderlyStatus::SuspendCurrentQueueAMoment => {
                    pq.rollback();
                    self.submit_later(Task::Orderly(pq.clone()), ORDERLY_PAUSE);
                    return;
                }
            }
        }
        self.submit(Task::Orderly(pq.clone()));
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
    fn needs_subscription_and_listener() {
        let c = PushConsumer::new(PushConsumerOptions::new("G", "127.0.0.1:1")).unwrap();
        assert_eq!(c.start().unwrap_err().kind(), ErrorKind::IllegalState);
        c.subscribe("T", "*").unwrap();
        assert_eq!(c.start().unwrap_err().kind(), ErrorKind::IllegalState);
        assert!(c.subscribe("bad topic", "*").is_err());
        c.shutdown();
    }
}
