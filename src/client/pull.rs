//! The pull consumer: explicit pulls by queue and offset, and a poll-style convenience API.

use super::api::{self, PullArgs, TagExpr};
use super::config::ClientConfig;
use super::consumer::{AllocateAveragely, AllocateStrategy, ConsumeFrom, MessageModel};
use super::error::{Error, ErrorKind, Result};
use super::instance::{Instance, Member};
use super::message::MessageExt;
use super::offset_store::{default_dir, OffsetStore};
use super::route::subscribe_queues;
use crate::common::time::now_millis;
use crate::protocol::body::{ConsumerData, MessageQueue};
use crate::remoting::RemotingClient;
use crossbeam_channel::{bounded, select, Receiver, Sender};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Outcome of one pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// Messages found.
    Found,
    /// Nothing new at this offset.
    NoNewMsg,
    /// Messages exist, but none match the expression.
    NoMatchedMsg,
    /// The offset is out of range; start again from `next_begin_offset`.
    OffsetIllegal,
}

/// Result of one pull.
#[derive(Debug, Clone)]
pub struct PullResult {
    /// Status.
    pub status: PullStatus,
    /// The offset to pull next.
    pub next_begin_offset: i64,
    /// Smallest offset of the queue.
    pub min_offset: i64,
    /// Offset after the last message of the queue.
    pub max_offset: i64,
    /// Messages (tags filtered on the client too).
    pub messages: Vec<MessageExt>,
}

/// Settings of a pull consumer.
#[derive(Debug, Clone)]
pub struct PullConsumerOptions {
    /// Consumer group.
    pub group: String,
    /// Client settings.
    pub config: ClientConfig,
    /// Clustering (default) or broadcasting.
    pub model: MessageModel,
    /// Poll style: where a queue without a committed offset starts (default: last offset).
    pub consume_from: ConsumeFrom,
    /// Poll style: most messages per pull (default 32).
    pub pull_batch_size: u32,
    /// Poll style: how often queues are re-allocated among the group (default 20 s).
    pub rebalance_interval: Duration,
    /// Directory of broadcasting offset files (default `~/.rocketmq_offsets`).
    pub offset_store_dir: Option<PathBuf>,
}

impl PullConsumerOptions {
    /// Defaults for `group` with the given name servers.
    pub fn new(group: &str, namesrv_addr: &str) -> Self {
        PullConsumerOptions {
            group: group.to_string(),
            config: ClientConfig::new(namesrv_addr),
            model: MessageModel::Clustering,
            consume_from: ConsumeFrom::LastOffset,
            pull_batch_size: 32,
            rebalance_interval: Duration::from_secs(20),
            offset_store_dir: None,
        }
    }
}

/// A pull consumer. Send + Sync. Dropping it shuts it down.
pub struct PullConsumer {
    inner: Arc<Inner>,
}

struct Inner {
    opts: PullConsumerOptions,
    state: Mutex<State>,
    subs: Arc<Mutex<BTreeMap<String, (TagExpr, i64)>>>,
    poll: Mutex<PollState>,
    pulls: RemotingClient,
    stop_tx: Mutex<Option<Sender<()>>>,
    stop_rx: Receiver<()>,
}

enum State {
    Created,
    Running(Arc<Instance>, Arc<OffsetStore>),
    Stopped,
}

#[derive(Default)]
struct PollState {
    queues: Vec<MessageQueue>,
    next: HashMap<MessageQueue, i64>,
    rebalanced: Option<Instant>,
    turn: usize,
}

/// What the instance sees of a pull consumer.
struct Hook {
    group: String,
    model: MessageModel,
    consume_from: ConsumeFrom,
    subs: Arc<Mutex<BTreeMap<String, (TagExpr, i64)>>>,
}

impl Member for Hook {
    fn group(&self) -> &str {
        &self.group
    }
    fn is_consumer(&self) -> bool {
        true
    }
    fn topics(&self) -> Vec<String> {
        self.subs.lock().keys().cloned().collect()
    }
    fn consumer_data(&self) -> Option<ConsumerData> {
        Some(ConsumerData {
            group_name: self.group.clone(),
            consume_type: "CONSUME_ACTIVELY".into(),
            message_model: self.model.java_name().into(),
            consume_from_where: self.consume_from.java_name().into(),
            subscription_data_set: self
                .subs
                .lock()
                .iter()
                .map(|(t, (e, v))| e.subscription_data(t, *v))
                .collect(),
            unit_mode: false,
        })
    }
    fn running_info(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "properties": {"PROP_CONSUME_TYPE": "CONSUME_ACTIVELY", "PROP_CLIENT_VERSION": "rmq"},
            "subscriptionSet": self.consumer_data().map(|c| c.subscription_data_set).unwrap_or_default(),
            "mqTable": {},
            "statusTable": {},
        }))
    }
}

impl Drop for PullConsumer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl PullConsumer {
    /// A pull consumer with `opts`.
    pub fn new(opts: PullConsumerOptions) -> Result<PullConsumer> {
        if opts.group.is_empty() {
            return Err(Error::invalid("the consumer group is empty"));
        }
        let pulls = RemotingClient::new();
        opts.config.install_signer(&pulls);
        let (stop_tx, stop_rx) = bounded(0);
        Ok(PullConsumer {
            inner: Arc::new(Inner {
                opts,
                state: Mutex::new(State::Created),
                subs: Arc::new(Mutex::new(BTreeMap::new())),
                poll: Mutex::new(PollState::default()),
                pulls,
                stop_tx: Mutex::new(Some(stop_tx)),
                stop_rx,
            }),
        })
    }

    /// Join the client instance (routes, heartbeats).
    pub fn start(&self) -> Result<()> {
        let o = &self.inner.opts;
        let mut st = self.inner.state.lock();
        match *st {
            State::Created => {}
            State::Running(..) => return Err(Error::state("the pull consumer is already started")),
            State::Stopped => return Err(Error::shut_down("pull consumer")),
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
        inst.register(Arc::new(Hook {
            group: o.group.clone(),
            model: o.model,
            consume_from: o.consume_from,
            subs: self.inner.subs.clone(),
        }))?;
        *st = State::Running(inst, Arc::new(store));
        log::info!("pull consumer started group={}", o.group);
        Ok(())
    }

    /// Commit polled offsets, unregister and stop. Idempotent.
    pub fn shutdown(&self) {
        let (inst, store) = {
            let mut st = self.inner.state.lock();
            match std::mem::replace(&mut *st, State::Stopped) {
                State::Running(i, s) => (i, s),
                _ => return,
            }
        };
        self.inner.stop_tx.lock().take();
        let queues = self.inner.poll.lock().queues.clone();
        store.persist_all(&inst, &queues);
        self.inner.pulls.shutdown();
        inst.unregister(&self.inner.opts.group, true);
        log::info!("pull consumer stopped group={}", self.inner.opts.group);
    }

    fn running(&self) -> Result<(Arc<Instance>, Arc<OffsetStore>)> {
        match &*self.inner.state.lock() {
            State::Running(i, s) => Ok((i.clone(), s.clone())),
            State::Created => Err(Error::not_started("pull consumer")),
            State::Stopped => Err(Error::shut_down("pull consumer")),
        }
    }

    /// The readable queues of `topic` (a route lookup when needed).
    pub fn fetch_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let (inst, _) = self.running()?;
        let _ = inst.update_route(topic);
        let r = inst.route_or_fetch(topic)?;
        let q = subscribe_queues(topic, &r);
        if q.is_empty() {
            return Err(Error::new(
                ErrorKind::NoRoute,
                format!("topic '{topic}' has no readable queue"),
            ));
        }
        Ok(q)
    }

    /// Pull up to `max_nums` messages matching `expr` from `mq` at `offset`. Answers at once
    /// (NoNewMsg when there is nothing); `timeout` bounds the request.
    pub fn pull(
        &self,
        mq: &MessageQueue,
        expr: &str,
        offset: i64,
        max_nums: u32,
        timeout: Duration,
    ) -> Result<PullResult> {
        let (inst, _) = self.running()?;
        if offset < 0 {
            return Err(Error::invalid(format!("offset {offset} is negative")));
        }
        let expr = TagExpr::parse(expr);
        let args = PullArgs {
            group: &self.inner.opts.group,
            mq,
            expr: &expr,
            sub_version: 0,
            offset,
            max_nums: max_nums.clamp(1, 1024),
            commit_offset: None,
            suspend: None,
            timeout,
        };
        self.ensure_broker(&inst, &mq.topic);
        api::pull(&inst, &self.inner.pulls, &args)
    }

    fn ensure_broker(&self, inst: &Instance, topic: &str) {
        if inst.route(topic).is_none() {
            let _ = inst.update_route(topic);
        }
    }

    /// The group's committed offset of `mq` (-1 when none): from the broker, or from the local
    /// file in broadcasting mode.
    pub fn fetch_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let (inst, store) = self.running()?;
        self.ensure_broker(&inst, &mq.topic);
        store.read_store(&inst, mq)
    }

    /// Commit `offset` for `mq` (to the broker, or to the local file in broadcasting mode).
    pub fn update_offset(&self, mq: &MessageQueue, offset: i64) -> Result<()> {
        let (inst, store) = self.running()?;
        self.ensure_broker(&inst, &mq.topic);
        store.update(mq, offset, false);
        if store.is_local() {
            store.persist(&inst, mq);
            return Ok(());
        }
        api::update_offset(&inst, &self.inner.opts.group, mq, offset)
    }

    /// Smallest offset of `mq`.
    pub fn min_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let (inst, _) = self.running()?;
        self.ensure_broker(&inst, &mq.topic);
        api::min_offset(&inst, mq)
    }

    /// Offset after the last message of `mq`.
    pub fn max_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let (inst, _) = self.running()?;
        self.ensure_broker(&inst, &mq.topic);
        api::max_offset(&inst, mq)
    }

    /// The first offset of `mq` stored at or after `timestamp_ms`.
    pub fn search_offset(&self, mq: &MessageQueue, timestamp_ms: i64) -> Result<i64> {
        let (inst, _) = self.running()?;
        self.ensure_broker(&inst, &mq.topic);
        api::search_offset(&inst, mq, timestamp_ms)
    }

    /// Poll style: subscribe to `topic` with `expr` (before or after start).
    pub fn subscribe(&self, topic: &str, expr: &str) -> Result<()> {
        super::producer::check_topic(topic)?;
        self.inner.subs.lock().insert(topic.to_string(), (TagExpr::parse(expr), now_millis()));
        self.inner.poll.lock().rebalanced = None;
        if let Ok((inst, _)) = self.running() {
            let _ = inst.update_route(topic);
            inst.send_heartbeat();
        }
        Ok(())
    }

    /// Poll style: messages from the subscribed topics' queues allocated to this consumer,
    /// waiting up to `timeout` for some. Offsets advance past what is returned; [`commit`]
    /// stores them.
    ///
    /// [`commit`]: PullConsumer::commit
    pub fn poll(&self, timeout: Duration) -> Result<Vec<MessageExt>> {
        let (inst, store) = self.running()?;
        if self.inner.subs.lock().is_empty() {
            return Err(Error::state("poll needs a subscription; call subscribe() first"));
        }
        let end = Instant::now() + timeout;
        loop {
            self.rebalance_if_due(&inst, &store);
            let queues = self.inner.poll.lock().queues.clone();
            let n = queues.len();
            let start = self.inner.poll.lock().turn;
            for i in 0..n {
                let Some(mq) = queues.get((start + i) % n) else { continue };
                let Some(got) = self.poll_queue(&inst, &store, mq)? else { continue };
                self.inner.poll.lock().turn = (start + i + 1) % n.max(1);
                return Ok(got);
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            select! {
                recv(self.inner.stop_rx) -> _ => return Err(Error::shut_down("pull consumer")),
                default(left.min(Duration::from_millis(100))) => {}
            }
        }
    }

    fn poll_queue(
        &self,
        inst: &Instance,
        store: &OffsetStore,
        mq: &MessageQueue,
    ) -> Result<Option<Vec<MessageExt>>> {
        let next = self.inner.poll.lock().next.get(mq).copied();
        let offset = match next {
            Some(o) => o,
            None => match start_offset(inst, store, mq, self.inner.opts.consume_from) {
                Ok(o) => o,
                Err(e) => {
                    log::debug!(
                        "no start offset topic={} queue={} err={}",
                        mq.topic,
                        mq.queue_id,
                        e
                    );
                    return Ok(None);
                }
            },
        };
        let Some((expr, ver)) = self.inner.subs.lock().get(&mq.topic).cloned() else {
            return Ok(None);
        };
        let args = PullArgs {
            group: &self.inner.opts.group,
            mq,
            expr: &expr,
            sub_version: ver,
            offset,
            max_nums: self.inner.opts.pull_batch_size.max(1),
            commit_offset: None,
            suspend: None,
            timeout: inst.cfg.request_timeout,
        };
        let r = match api::pull(inst, &self.inner.pulls, &args) {
            Ok(r) => r,
            Err(e) => {
                log::debug!("poll pull failed topic={} queue={} err={}", mq.topic, mq.queue_id, e);
                return Ok(None);
            }
        };
        let next = if r.status == PullStatus::OffsetIllegal {
            r.next_begin_offset
        } else {
            r.next_begin_offset.max(offset)
        };
        self.inner.poll.lock().next.insert(mq.clone(), next);
        if r.status != PullStatus::Found || r.messages.is_empty() {
            if r.status != PullStatus::Found {
                store.update(mq, next, false);
            }
            return Ok(None);
        }
        // Everything returned counts as consumed once committed.
        store.update(mq, next, false);
        Ok(Some(r.messages))
    }

    fn rebalance_if_due(&self, inst: &Arc<Instance>, store: &OffsetStore) {
        let due = {
            let p = self.inner.poll.lock();
            p.rebalanced.is_none_or(|t| t.elapsed() >= self.inner.opts.rebalance_interval)
        };
        if !due {
            return;
        }
        let subs: Vec<String> = self.inner.subs.lock().keys().cloned().collect();
        let mut all = Vec::new();
        for t in &subs {
            let _ = inst.update_route(t);
            let Some(r) = inst.route(t) else { continue };
            let mqs = subscribe_queues(t, &r);
            match self.inner.opts.model {
                MessageModel::Broadcasting => all.extend(mqs),
                MessageModel::Clustering => {
                    inst.send_heartbeat();
                    match api::consumer_ids(inst, &self.inner.opts.group, t) {
                        Ok(cids) => all.extend(AllocateAveragely.allocate(
                            &self.inner.opts.group,
                            &inst.client_id,
                            &mqs,
                            &cids,
                        )),
                        Err(e) => {
                            log::debug!("consumer list failed topic={t} err={e}");
                            all.extend(mqs)
                        }
                    }
                }
            }
        }
        let mut p = self.inner.poll.lock();
        let gone: Vec<MessageQueue> =
            p.queues.iter().filter(|q| !all.contains(q)).cloned().collect();
        for q in &gone {
            p.next.remove(q);
        }
        p.queues = all;
        p.rebalanced = Some(Instant::now());
        drop(p);
        for q in &gone {
            store.persist(inst, q);
            store.remove(q);
        }
    }

    /// Poll style: commit the offsets of what `poll` returned.
    pub fn commit(&self) -> Result<()> {
        let (inst, store) = self.running()?;
        let queues = self.inner.poll.lock().queues.clone();
        if store.is_local() {
            store.persist_all(&inst, &queues);
            return Ok(());
        }
        for mq in &queues {
            if let Some(o) = store.read_memory(mq) {
                api::update_offset(&inst, &self.inner.opts.group, mq, o)?;
            }
        }
        Ok(())
    }
}

/// Where a queue starts (RebalancePushImpl.computePullFromWhere): the committed offset, else by
/// `from`; retry topics start at 0 (or their end for timestamps).
pub(crate) fn start_offset(
    inst: &Instance,
    store: &OffsetStore,
    mq: &MessageQueue,
    from: ConsumeFrom,
) -> Result<i64> {
    let committed = store.read_store(inst, mq)?;
    if committed >= 0 {
        return Ok(committed);
    }
    let retry = mq.topic.starts_with(api::RETRY_PREFIX);
    match from {
        ConsumeFrom::LastOffset if retry => Ok(0),
        ConsumeFrom::LastOffset => api::max_offset(inst, mq),
        ConsumeFrom::FirstOffset => Ok(0),
        ConsumeFrom::Timestamp(_) if retry => api::max_offset(inst, mq),
        ConsumeFrom::Timestamp(ts) => api::search_offset(inst, mq, ts),
    }
}
