//! The producer: sync, async, one-way, batch, to a queue, with a selector, orderly.

mod wire;

pub(crate) use wire::{check_topic, send_to_broker};
use wire::{derive_from_default, new_uniq_id, rand_u32, RETRY_CODES};

use super::config::ClientConfig;
use super::error::{Error, ErrorKind, Result};
use super::fault::FaultTable;
use super::instance::{Instance, Member};
use super::message::{deflate, keys, Message};
use super::route::publish_queues;
use super::transaction::{CheckRequest, TxCheck};
use crate::common::service::spawn_thread;
use crate::common::time::now_millis;
use crate::protocol::body::{MessageQueue, TopicRouteData};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::protocol::record::{self, sysflag, BatchItem};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Broker-side outcome of a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// Stored (and flushed/replicated as configured).
    Ok,
    /// Stored, but the synchronous flush timed out.
    FlushDiskTimeout,
    /// Stored, but the synchronous replication timed out.
    FlushSlaveTimeout,
    /// Stored, but no slave is available for synchronous replication.
    SlaveNotAvailable,
}

/// The result of a successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// Status.
    pub status: SendStatus,
    /// The producer's unique id (UNIQ_KEY); comma-separated for a batch.
    pub msg_id: String,
    /// The broker's offset message id(s).
    pub offset_msg_id: String,
    /// The queue the message went to.
    pub queue: MessageQueue,
    /// Offset in that queue (of the first message for a batch).
    pub queue_offset: i64,
    /// Transaction id (transactional messages only).
    pub transaction_id: Option<String>,
}

/// Settings of a producer.
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Producer group.
    pub group: String,
    /// Client settings.
    pub config: ClientConfig,
    /// Timeout of one send (default 3 s).
    pub send_timeout: Duration,
    /// Extra attempts, on other brokers when there are any, after a failed send (default 2).
    pub retry_times: u32,
    /// Bodies larger than this are zlib-compressed (default 4096 bytes).
    pub compress_threshold: usize,
    /// zlib level (default 5).
    pub compress_level: u32,
    /// Largest body accepted (default 4 MiB).
    pub max_message_size: usize,
    /// Avoid brokers that were slow or failing for a while (default false, as Apache).
    pub latency_fault_tolerance: bool,
    /// Queues of a topic the broker creates on first send (default 4).
    pub default_topic_queue_nums: i32,
}

impl ProducerOptions {
    /// Defaults for `group` with the given name servers.
    pub fn new(group: &str, namesrv_addr: &str) -> Self {
        ProducerOptions {
            group: group.to_string(),
            config: ClientConfig::new(namesrv_addr),
            send_timeout: Duration::from_secs(3),
            retry_times: 2,
            compress_threshold: 4096,
            compress_level: 5,
            max_message_size: 4 * 1024 * 1024,
            latency_fault_tolerance: false,
            default_topic_queue_nums: 4,
        }
    }
}

/// The topic a broker uses as template for topics created on first send.
pub(crate) const DEFAULT_TOPIC: &str = "TBW102";
/// Threads running async sends and their callbacks.
const ASYNC_THREADS: usize = 4;
/// Async sends waiting for a thread; more are refused.
const ASYNC_QUEUE: usize = 10_000;

/// A producer. Cheap to clone; all clones share one producer. Send + Sync. Dropping the last
/// clone shuts it down.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

/// Cached writable queues of a topic and the route generation they were derived from.
type PublishEntry = (u64, Arc<Vec<MessageQueue>>);

type Callback = Box<dyn FnOnce(Result<SendResult>) + Send + 'static>;

/// An async send waiting for a worker: the message, the queue when the caller chose one, and the
/// callback.
type AsyncSend = (Message, Option<MessageQueue>, Callback);

struct Inner {
    opts: ProducerOptions,
    state: Mutex<State>,
    topics: Arc<Mutex<BTreeSet<String>>>,
    publish: Mutex<HashMap<String, PublishEntry>>,
    index: AtomicUsize,
    fault: FaultTable,
    async_tx: Mutex<Option<Sender<AsyncSend>>>,
    async_workers: Mutex<Vec<JoinHandle<()>>>,
}

enum State {
    Created,
    Running(Arc<Instance>),
    Stopped,
}

/// What the instance sees of a producer: its group and topics (no back reference, so dropping
/// the last `Producer` ends it).
struct Hook {
    group: String,
    topics: Arc<Mutex<BTreeSet<String>>>,
    /// Set for transaction producers: where CHECK_TRANSACTION_STATE requests go.
    checker: Option<Arc<dyn TxCheck>>,
}

impl Member for Hook {
    fn group(&self) -> &str {
        &self.group
    }
    fn is_consumer(&self) -> bool {
        false
    }
    fn topics(&self) -> Vec<String> {
        self.topics.lock().iter().cloned().collect()
    }
    fn check_transaction(&self, req: CheckRequest) -> bool {
        match &self.checker {
            Some(c) => {
                c.check(req);
                true
            }
            None => false,
        }
    }
}

/// How a message goes out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sync,
    Oneway,
}

/// One encoded send request, ready for any queue.
pub(crate) struct Outgoing {
    pub topic: String,
    pub body: Vec<u8>,
    pub flag: i32,
    pub sys_flag: i32,
    pub properties: String,
    pub uniq_ids: String,
    pub batch: bool,
    pub reconsume_times: Option<i32>,
    pub max_reconsume_times: Option<i32>,
}

impl Producer {
    /// A producer with `opts`; call [`Producer::start`] before sending.
    pub fn new(opts: ProducerOptions) -> Result<Producer> {
        if opts.group.is_empty() {
            return Err(Error::invalid("the producer group is empty"));
        }
        if opts.config.namesrv_list().is_empty() {
            return Err(Error::invalid(
                "no name server address: set namesrv_addr (\"host:9876;host2:9876\") or NAMESRV_ADDR",
            ));
        }
        Ok(Producer {
            inner: Arc::new(Inner {
                opts,
                state: Mutex::new(State::Created),
                topics: Arc::new(Mutex::new(BTreeSet::new())),
                publish: Mutex::new(HashMap::new()),
                index: AtomicUsize::new(rand_u32() as usize),
                fault: FaultTable::default(),
                async_tx: Mutex::new(None),
                async_workers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Join the client instance (routes, heartbeats) and start the async-send threads.
    pub fn start(&self) -> Result<()> {
        self.start_with(None)
    }

    /// Start, with a transaction checker for CHECK_TRANSACTION_STATE requests.
    pub(crate) fn start_with(&self, checker: Option<Arc<dyn TxCheck>>) -> Result<()> {
        let mut st = self.inner.state.lock();
        match *st {
            State::Created => {}
            State::Running(_) => return Err(Error::state("the producer is already started")),
            State::Stopped => return Err(Error::shut_down("producer")),
        }
        let inst = Instance::acquire(&self.inner.opts.config)?;
        inst.register(Arc::new(Hook {
            group: self.inner.opts.group.clone(),
            topics: self.inner.topics.clone(),
            checker,
        }))?;
        let (tx, rx) = bounded::<AsyncSend>(ASYNC_QUEUE);
        let mut workers = self.inner.async_workers.lock();
        for i in 0..ASYNC_THREADS {
            let rx: Receiver<AsyncSend> = rx.clone();
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let h = spawn_thread(format!("rmq-producer-async-{i}"), move || {
                for (msg, mq, cb) in rx.iter() {
                    let r = match (weak.upgrade(), mq) {
                        (Some(inner), None) => inner
                            .send_default(&msg, Mode::Sync)
                            .map(|r| r.unwrap_or_else(empty_result)),
                        (Some(inner), Some(mq)) => inner.send_to_queue(&msg, &mq, Mode::Sync),
                        (None, _) => Err(Error::shut_down("producer")),
                    };
                    cb(r);
                }
            })
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
            workers.push(h);
        }
        *self.inner.async_tx.lock() = Some(tx);
        *st = State::Running(inst);
        log::info!("producer started group={}", self.inner.opts.group);
        Ok(())
    }

    /// Finish queued async sends, unregister and stop. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    /// Send and wait for the broker's answer, retrying on another broker after a failure.
    pub fn send(&self, msg: &Message) -> Result<SendResult> {
        self.inner.send_default(msg, Mode::Sync).map(|r| r.unwrap_or_else(empty_result))
    }

    /// Send without blocking; `cb` runs on a producer thread (`rmq-producer-async-N`) with the
    /// outcome. Fails at once when the producer is not running or 10 000 sends are queued.
    pub fn send_async(&self, msg: Message, cb: Callback) -> Result<()> {
        self.queue_async((msg, None, cb))
    }

    /// As [`Producer::send_async`], to the given queue (one attempt, no other queue is tried).
    pub fn send_async_to_queue(&self, msg: Message, mq: MessageQueue, cb: Callback) -> Result<()> {
        self.queue_async((msg, Some(mq), cb))
    }

    fn queue_async(&self, job: AsyncSend) -> Result<()> {
        self.inner.instance()?;
        let tx = self.inner.async_tx.lock().clone().ok_or_else(|| Error::shut_down("producer"))?;
        match tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(Error::state(format!(
                "{ASYNC_QUEUE} async sends are already waiting; slow down or wait for callbacks"
            ))),
            Err(TrySendError::Disconnected(_)) => Err(Error::shut_down("producer")),
        }
    }

    /// Send without waiting for an answer (one attempt).
    pub fn send_oneway(&self, msg: &Message) -> Result<()> {
        self.inner.send_default(msg, Mode::Oneway).map(|_| ())
    }

    /// Send messages of one topic as one batch to one queue. Batches are not compressed.
    pub fn send_batch(&self, msgs: &[Message]) -> Result<SendResult> {
        let inner = &self.inner;
        let inst = inner.instance()?;
        let out = inner.encode_batch(msgs)?;
        let mqs = inner.publish_queues(&inst, &out.topic)?;
        inner.send_with_retries(&inst, &out, &mqs).map(|r| r.unwrap_or_else(empty_result))
    }

    /// Send to the given queue (one attempt, no other queue is tried).
    pub fn send_to_queue(&self, msg: &Message, mq: &MessageQueue) -> Result<SendResult> {
        self.inner.send_to_queue(msg, mq, Mode::Sync)
    }

    /// Send to the given queue without waiting for an answer (one attempt).
    pub fn send_oneway_to_queue(&self, msg: &Message, mq: &MessageQueue) -> Result<()> {
        self.inner.send_to_queue(msg, mq, Mode::Oneway).map(|_| ())
    }

    /// Send to the queue `selector` picks: it gets the topic's writable queues and returns an
    /// index into them.
    pub fn send_with_selector(
        &self,
        msg: &Message,
        selector: &mut dyn FnMut(&[MessageQueue], &Message) -> usize,
    ) -> Result<SendResult> {
        let inst = self.inner.instance()?;
        let out = self.inner.encode(msg)?;
        let mqs = self.inner.publish_queues(&inst, &out.topic)?;
        let i = selector(&mqs, msg);
        let mq = mqs.get(i).ok_or_else(|| {
            Error::invalid(format!(
                "the selector chose queue index {i} but topic '{}' has {} queues",
                out.topic,
                mqs.len()
            ))
        })?;
        let deadline = Instant::now() + self.inner.opts.send_timeout;
        self.inner
            .send_kernel(&inst, &out, mq, Mode::Sync, deadline)
            .map(|r| r.unwrap_or_else(empty_result))
    }

    /// Send to queue `|javaHash(sharding_key)| % queue count` (Apache's SelectMessageQueueByHash),
    /// so one key's messages stay in order while the queue count holds.
    pub fn send_orderly(&self, msg: &Message, sharding_key: &str) -> Result<SendResult> {
        let h = record::tag_hash(sharding_key).unsigned_abs() as usize;
        self.send_with_selector(msg, &mut |mqs, _| if mqs.is_empty() { 0 } else { h % mqs.len() })
    }

    /// Send a transaction half message (sysflag TRANSACTION_PREPARED_TYPE), with retries.
    pub(crate) fn send_half(&self, msg: &Message) -> Result<SendResult> {
        let inst = self.inner.instance()?;
        let mut out = self.inner.encode(msg)?;
        out.sys_flag |= sysflag::TRANSACTION_PREPARED;
        let mqs = self.inner.publish_queues(&inst, &out.topic)?;
        self.inner.send_with_retries(&inst, &out, &mqs).map(|r| r.unwrap_or_else(empty_result))
    }

    /// The running client instance.
    pub(crate) fn instance(&self) -> Result<Arc<Instance>> {
        self.inner.instance()
    }

    /// The producer group.
    pub fn group(&self) -> &str {
        &self.inner.opts.group
    }

    /// The writable queues of `topic` (a route lookup when needed).
    pub fn fetch_publish_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let inst = self.inner.instance()?;
        Ok(self.inner.publish_queues(&inst, topic)?.as_ref().clone())
    }
}

fn empty_result() -> SendResult {
    SendResult {
        status: SendStatus::Ok,
        msg_id: String::new(),
        offset_msg_id: String::new(),
        queue: MessageQueue { topic: String::new(), broker_name: String::new(), queue_id: 0 },
        queue_offset: 0,
        transaction_id: None,
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    fn send_to_queue(&self, msg: &Message, mq: &MessageQueue, mode: Mode) -> Result<SendResult> {
        let inst = self.instance()?;
        if mq.topic != msg.topic() {
            return Err(Error::invalid(format!(
                "the queue belongs to topic '{}' but the message to '{}'",
                mq.topic,
                msg.topic()
            )));
        }
        let out = self.encode(msg)?;
        self.topics.lock().insert(out.topic.clone());
        let deadline = Instant::now() + self.opts.send_timeout;
        self.send_kernel(&inst, &out, mq, mode, deadline).map(|r| r.unwrap_or_else(empty_result))
    }

    fn instance(&self) -> Result<Arc<Instance>> {
        match &*self.state.lock() {
            State::Running(i) => Ok(i.clone()),
            State::Created => Err(Error::not_started("producer")),
            State::Stopped => Err(Error::shut_down("producer")),
        }
    }

    fn shutdown(&self) {
        let inst = {
            let mut st = self.state.lock();
            match std::mem::replace(&mut *st, State::Stopped) {
                State::Running(i) => i,
                _ => return,
            }
        };
        // Dropping the sender lets the workers finish what is queued, then exit.
        self.async_tx.lock().take();
        let current = std::thread::current().id();
        for h in self.async_workers.lock().drain(..) {
            if h.thread().id() != current {
                let _ = h.join();
            }
        }
        inst.unregister(&self.opts.group, false);
        log::info!("producer stopped group={}", self.opts.group);
    }

    /// Validate, give the message its unique id, compress.
    fn encode(&self, msg: &Message) -> Result<Outgoing> {
        check_topic(msg.topic())?;
        self.check_body(msg.body().len())?;
        let mut props = msg.properties().clone();
        let uniq = match props.get(keys::UNIQ_KEY) {
            Some(u) if !u.is_empty() => u.clone(),
            _ => {
                let u = new_uniq_id();
                props.insert(keys::UNIQ_KEY.into(), u.clone());
                u
            }
        };
        props.entry(keys::WAIT.into()).or_insert_with(|| "true".into());
        let mut sys_flag = 0;
        let mut body = None;
        if msg.body().len() >= self.opts.compress_threshold {
            match deflate(msg.body(), self.opts.compress_level) {
                Ok(z) => {
                    body = Some(z);
                    sys_flag |= sysflag::COMPRESSED;
                }
                Err(e) => log::warn!("compression failed, sending uncompressed err={e}"),
            }
        }
        Ok(Outgoing {
            topic: msg.topic().to_string(),
            body: body.unwrap_or_else(|| msg.body().to_vec()),
            flag: msg.flag(),
            sys_flag,
            properties: record::encode_properties(
                props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            uniq_ids: uniq,
            batch: false,
            reconsume_times: None,
            max_reconsume_times: None,
        })
    }

    fn encode_batch(&self, msgs: &[Message]) -> Result<Outgoing> {
        let first = msgs.first().ok_or_else(|| Error::invalid("the batch is empty"))?;
        let topic = first.topic();
        check_topic(topic)?;
        let mut items = Vec::with_capacity(msgs.len());
        let mut ids = Vec::with_capacity(msgs.len());
        for m in msgs {
            if m.topic() != topic {
                return Err(Error::invalid(format!(
                    "every message of a batch must have the same topic ('{topic}' and '{}')",
                    m.topic()
                )));
            }
            if m.delay_level() > 0 {
                return Err(Error::invalid("delayed messages cannot be sent in a batch"));
            }
            if m.body().is_empty() {
                return Err(Error::invalid("a message of the batch has an empty body"));
            }
            let mut props = m.properties().clone();
            let u = props
                .get(keys::UNIQ_KEY)
                .filter(|u| !u.is_empty())
                .cloned()
                .unwrap_or_else(new_uniq_id);
            props.insert(keys::UNIQ_KEY.into(), u.clone());
            props.entry(keys::WAIT.into()).or_insert_with(|| "true".into());
            ids.push(u);
            items.push(BatchItem {
                flag: m.flag(),
                body: m.body().to_vec(),
                properties: record::encode_properties(
                    props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                ),
            });
        }
        let mut body = Vec::new();
        record::encode_batch_body(&items, &mut body);
        self.check_body(body.len())?;
        // Batch-level properties are appended by the broker to every inner message, so they
        // carry no UNIQ_KEY (DefaultMQProducerImpl sets ids only on the inner messages).
        Ok(Outgoing {
            topic: topic.to_string(),
            body,
            flag: 0,
            sys_flag: 0,
            properties: record::encode_properties([(keys::WAIT, "true")]),
            uniq_ids: ids.join(","),
            batch: true,
            reconsume_times: None,
            max_reconsume_times: None,
        })
    }

    fn check_body(&self, len: usize) -> Result<()> {
        if len == 0 {
            return Err(Error::invalid("the message body is empty"));
        }
        if len > self.opts.max_message_size {
            return Err(Error::new(
                ErrorKind::MessageTooLarge,
                format!(
                    "the message body is {len} bytes, over the maximum of {} bytes \
                     (ProducerOptions::max_message_size; the broker has its own limit too)",
                    self.opts.max_message_size
                ),
            ));
        }
        Ok(())
    }

    /// The writable queues of `topic`, cached per route generation. A topic the name servers do
    /// not know yet gets TBW102's route, so the broker creates it on first send (Apache's
    /// tryToFindTopicPublishInfo).
    fn publish_queues(&self, inst: &Instance, topic: &str) -> Result<Arc<Vec<MessageQueue>>> {
        let gen = inst.route_generation();
        if let Some((g, q)) = self.publish.lock().get(topic) {
            if *g == gen && !q.is_empty() {
                return Ok(q.clone());
            }
        }
        self.topics.lock().insert(topic.to_string());
        let mut queues = inst.route(topic).map(|r| publish_queues(topic, &r)).unwrap_or_default();
        if queues.is_empty() {
            match inst.update_route(topic) {
                Ok(_) => {
                    queues =
                        inst.route(topic).map(|r| publish_queues(topic, &r)).unwrap_or_default()
                }
                Err(e) if e.code() == Some(rs::TOPIC_NOT_EXIST) => {
                    let r = inst.route_or_fetch(DEFAULT_TOPIC).map_err(|d| {
                        Error::new(
                            ErrorKind::NoRoute,
                            format!(
                                "topic '{topic}' has no route and the default topic route is \
                                 unavailable too (create the topic or enable autoCreateTopicEnable): {d}"
                            ),
                        )
                    })?;
                    let derived = derive_from_default(&r, self.opts.default_topic_queue_nums);
                    queues = publish_queues(topic, &derived);
                    inst.put_route(topic, derived);
                }
                Err(e) => return Err(e),
            }
        }
        if queues.is_empty() {
            return Err(Error::new(
                ErrorKind::NoRoute,
                format!("topic '{topic}' has no writable queue on any broker with a master"),
            ));
        }
        let q = Arc::new(queues);
        self.publish.lock().insert(topic.to_string(), (inst.route_generation(), q.clone()));
        Ok(q)
    }

    fn select_queue<'a>(&self, mqs: &'a [MessageQueue], last: Option<&str>) -> &'a MessageQueue {
        let n = mqs.len().max(1);
        if self.opts.latency_fault_tolerance {
            for _ in 0..n {
                let i = self.index.fetch_add(1, Ordering::Relaxed) % n;
                if let Some(mq) = mqs.get(i) {
                    if self.fault.is_available(&mq.broker_name) {
                        return mq;
                    }
                }
            }
            if let Some(b) = self.fault.pick_one_at_least() {
                let on_b: Vec<&MessageQueue> = mqs.iter().filter(|m| m.broker_name == b).collect();
                if !on_b.is_empty() {
                    let i = self.index.fetch_add(1, Ordering::Relaxed) % on_b.len();
                    return on_b[i];
                }
            }
        } else if let Some(last) = last {
            for _ in 0..n {
                let i = self.index.fetch_add(1, Ordering::Relaxed) % n;
                if let Some(mq) = mqs.get(i).filter(|m| m.broker_name != last) {
                    return mq;
                }
            }
        }
        let i = self.index.fetch_add(1, Ordering::Relaxed) % n;
        &mqs[i.min(mqs.len() - 1)]
    }

    fn send_default(&self, msg: &Message, mode: Mode) -> Result<Option<SendResult>> {
        let inst = self.instance()?;
        let out = self.encode(msg)?;
        let mqs = self.publish_queues(&inst, &out.topic)?;
        if mode == Mode::Oneway {
            let mq = self.select_queue(&mqs, None);
            let deadline = Instant::now() + self.opts.send_timeout;
            return self.send_kernel(&inst, &out, mq, mode, deadline);
        }
        self.send_with_retries(&inst, &out, &mqs)
    }

    /// DefaultMQProducerImpl.sendDefaultImpl: up to 1 + retry_times attempts within the send
    /// timeout, each on another broker when there is one; retried broker codes as Apache's.
    fn send_with_retries(
        &self,
        inst: &Instance,
        out: &Outgoing,
        mqs: &[MessageQueue],
    ) -> Result<Option<SendResult>> {
        let start = Instant::now();
        let deadline = start + self.opts.send_timeout;
        let mut last_broker: Option<String> = None;
        let mut last_err = None;
        for attempt in 0..=self.opts.retry_times {
            if attempt > 0 && Instant::now() >= deadline {
                break;
            }
            let mq = self.select_queue(mqs, last_broker.as_deref());
            let t0 = Instant::now();
            match self.send_kernel(inst, out, mq, Mode::Sync, deadline) {
                Ok(r) => {
                    self.fault.update(&mq.broker_name, t0.elapsed(), false);
                    return Ok(r);
                }
                Err(e) => {
                    self.fault.update(&mq.broker_name, t0.elapsed(), true);
                    log::debug!(
                        "send failed topic={} broker={} attempt={} err={}",
                        out.topic,
                        mq.broker_name,
                        attempt,
                        e
                    );
                    let retry = match e.code() {
                        Some(c) => RETRY_CODES.contains(&c),
                        None => matches!(
                            e.kind(),
                            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::NoRoute
                        ),
                    };
                    last_broker = Some(mq.broker_name.clone());
                    last_err = Some(e);
                    if !retry {
                        break;
                    }
                }
            }
        }
        let e = last_err.unwrap_or_else(|| Error::new(ErrorKind::Timeout, "send timed out"));
        Err(Error::with_context(
            e,
            &format!(
                "send to topic '{}' failed after {} ms",
                out.topic,
                start.elapsed().as_millis()
            ),
        ))
    }

    fn send_kernel(
        &self,
        inst: &Instance,
        out: &Outgoing,
        mq: &MessageQueue,
        mode: Mode,
        deadline: Instant,
    ) -> Result<Option<SendResult>> {
        send_to_broker(
            inst,
            &self.opts.group,
            self.opts.default_topic_queue_nums,
            out,
            mq,
            mode == Mode::Oneway,
            deadline,
        )
    }
}
