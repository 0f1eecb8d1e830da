//! PULL_MESSAGE (PullMessageProcessor) and long polling (PullRequestHoldService): a pull that
//! finds nothing is parked until a matching message is dispatched to its queue or its
//! suspend time runs out. Workers never sleep; one hold thread re-runs woken pulls.

use super::groups::faq;
use super::Broker;
use crate::protocol::body::perm;
use crate::protocol::codes::{pull_flag, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::protocol::record::tag_hash;
use crate::remoting::{Reply, ReqCtx};
use crate::store::GetStatus;
use crossbeam_channel::Receiver;
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages per pull, whatever the client asks (maxTransferCountOnMessageInMemory).
const MAX_TRANSFER_COUNT: i32 = 32;
/// Bytes per pull (maxTransferBytesOnMessageInMemory).
const MAX_TRANSFER_BYTES: usize = 256 * 1024;
/// Hold never longer than this, whatever the client asks (its own timeout is 30 s).
const MAX_SUSPEND: Duration = Duration::from_secs(20);

/// Which tag hashes a pull accepts; `None` = all.
#[derive(Clone, Debug)]
pub struct TagFilter(Option<BTreeSet<i64>>);

impl TagFilter {
    /// From a TAG expression: `*` or empty = all, else `A || B`.
    pub fn parse(expr: &str) -> TagFilter {
        let e = expr.trim();
        if e.is_empty() || e == "*" {
            return TagFilter(None);
        }
        TagFilter(Some(
            e.split("||").map(str::trim).filter(|t| !t.is_empty()).map(tag_hash).collect(),
        ))
    }

    /// Whether a consume-queue tag hash passes.
    pub fn matches(&self, code: i64) -> bool {
        self.0.as_ref().is_none_or(|s| s.contains(&code))
    }
}

struct Held {
    ctx: ReqCtx,
    req: RemotingCommand,
    offset: i64,
    deadline: Instant,
    filter: TagFilter,
}

/// Parked pulls by (topic, queue).
#[derive(Default)]
pub struct PullHold {
    held: Mutex<HashMap<(String, i32), Vec<Held>>>,
    /// Number of parked pulls, read without the lock by the dispatch thread so that arrivals
    /// wake the hold thread only when someone waits.
    count: AtomicUsize,
}

impl PullHold {
    /// True when at least one pull is parked (a cheap check for the arrival path).
    pub fn any_waiting(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    fn park(&self, h: Held, topic: &str, queue: i32) {
        let mut t = self.held.lock();
        t.entry((topic.to_string(), queue)).or_default().push(h);
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    fn taken(&self, n: usize) {
        if n > 0 {
            self.count.fetch_sub(n, Ordering::AcqRel);
        }
    }

    fn take_woken(
        &self,
        topic: &str,
        queue: i32,
        max_offset: i64,
        tags_code: Option<i64>,
    ) -> Vec<Held> {
        let mut t = self.held.lock();
        let Some(list) = t.get_mut(&(topic.to_string(), queue)) else { return Vec::new() };
        let (wake, keep): (Vec<Held>, Vec<Held>) = list
            .drain(..)
            .partition(|h| max_offset > h.offset && tags_code.is_none_or(|c| h.filter.matches(c)));
        *list = keep;
        if list.is_empty() {
            t.remove(&(topic.to_string(), queue));
        }
        self.taken(wake.len());
        wake
    }

    fn take_expired(&self, now: Instant) -> Vec<Held> {
        let mut t = self.held.lock();
        let mut out = Vec::new();
        for list in t.values_mut() {
            let (exp, keep): (Vec<Held>, Vec<Held>) =
                list.drain(..).partition(|h| h.deadline <= now);
            *list = keep;
            out.extend(exp);
        }
        t.retain(|_, l| !l.is_empty());
        self.taken(out.len());
        out
    }

    fn drain_all(&self) -> Vec<Held> {
        let all: Vec<Held> = self.held.lock().drain().flat_map(|(_, v)| v).collect();
        self.taken(all.len());
        all
    }
}

/// Body of the hold thread: wake parked pulls on arrivals and at their deadlines.
pub(crate) fn hold_loop(
    broker: Arc<Broker>,
    arrivals: Receiver<(String, i32, i64, i64)>,
    stop: Receiver<()>,
) {
    loop {
        crossbeam_channel::select! {
            recv(arrivals) -> a => {
                let Ok(first) = a else { break };
                let mut batch = vec![first];
                while let Ok(x) = arrivals.try_recv() {
                    batch.push(x);
                }
                for (topic, queue, max, code) in batch {
                    for h in broker.hold.take_woken(&topic, queue, max, Some(code)) {
                        broker.rerun(h);
                    }
                }
            }
            recv(stop) -> _ => break,
            default(Duration::from_millis(200)) => {}
        }
        for h in broker.hold.take_expired(Instant::now()) {
            broker.rerun(h);
        }
        if matches!(stop.try_recv(), Ok(()) | Err(crossbeam_channel::TryRecvError::Disconnected)) {
            break;
        }
    }
    // Answer what is still parked, so clients do not wait for their own timeout.
    for h in broker.hold.drain_all() {
        broker.rerun(h);
    }
}

impl Broker {
    fn rerun(&self, h: Held) {
        match self.process_pull(&h.ctx, h.req, false) {
            Ok(Reply::Respond(r)) => h.ctx.respond(r),
            Ok(_) => {}
            Err(e) => h.ctx.respond(RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())),
        }
    }

    /// Handle PULL_MESSAGE.
    pub(crate) fn handle_pull(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        match self.process_pull(ctx, req, true) {
            Ok(r) => r,
            Err(e) => Reply::Respond(RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())),
        }
    }

    fn process_pull(
        &self,
        ctx: &ReqCtx,
        req: RemotingCommand,
        first: bool,
    ) -> Result<Reply, FieldError> {
        let group = req.str_field("consumerGroup")?.to_string();
        let topic = req.str_field("topic")?.to_string();
        let queue_id = req.i32_field("queueId")?;
        let offset = req.i64_field("queueOffset")?;
        let max_nums = req.opt_i32("maxMsgNums")?.unwrap_or(32).clamp(1, MAX_TRANSFER_COUNT);
        let sys_flag = req.opt_i32("sysFlag")?.unwrap_or(0);
        let suspend_ms = req.opt_i64("suspendTimeoutMillis")?.unwrap_or(15_000).max(0) as u64;
        if let Some(refused) = self.check_pull(&group, &topic, queue_id) {
            return Ok(Reply::Respond(refused));
        }
        let filter = match self.pull_filter(&req, &group, &topic, sys_flag)? {
            Ok(f) => f,
            Err(refused) => return Ok(Reply::Respond(refused)),
        };
        let f = filter.clone();
        let got = self.store.get_messages(
            &topic,
            queue_id,
            offset,
            max_nums,
            MAX_TRANSFER_BYTES,
            &move |c| f.matches(c),
        );
        self.tps.record_get(got.status == GetStatus::Found, got.messages.len());
        self.group_gets.record(&topic, &group, got.messages.len());
        if first && sys_flag & pull_flag::COMMIT_OFFSET != 0 && self.cfg.broker_role != "SLAVE" {
            if let Some(co) = req.opt_i64("commitOffset")? {
                if co >= 0 {
                    self.offsets.commit(&group, &topic, queue_id, co);
                }
            }
        }
        let (code, remark) = match got.status {
            GetStatus::Found => (rs::SUCCESS, "FOUND"),
            GetStatus::NoMatchedMessage => (rs::PULL_RETRY_IMMEDIATELY, "NO_MATCHED_MESSAGE"),
            GetStatus::MessageWasRemoving => (rs::PULL_RETRY_IMMEDIATELY, "MESSAGE_WAS_REMOVING"),
            GetStatus::OffsetFoundNull => (rs::PULL_NOT_FOUND, "OFFSET_FOUND_NULL"),
            GetStatus::OffsetOverflowOne => (rs::PULL_NOT_FOUND, "OFFSET_OVERFLOW_ONE"),
            GetStatus::OffsetOverflowBadly => (rs::PULL_OFFSET_MOVED, "OFFSET_OVERFLOW_BADLY"),
            GetStatus::OffsetTooSmall => (rs::PULL_OFFSET_MOVED, "OFFSET_TOO_SMALL"),
            GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue => {
                let name = if got.status == GetStatus::NoMessageInQueue {
                    "NO_MESSAGE_IN_QUEUE"
                } else {
                    "NO_MATCHED_LOGIC_QUEUE"
                };
                (if offset == 0 { rs::PULL_NOT_FOUND } else { rs::PULL_OFFSET_MOVED }, name)
            }
        };
        if code == rs::PULL_NOT_FOUND && first && sys_flag & pull_flag::SUSPEND != 0 {
            let hold = if self.cfg.long_polling_enable {
                Duration::from_millis(suspend_ms).min(MAX_SUSPEND)
            } else {
                Duration::from_millis(self.cfg.short_polling_time_mills)
            };
            let held =
                Held { ctx: ctx.clone(), req, offset, deadline: Instant::now() + hold, filter };
            self.hold.park(held, &topic, queue_id);
            // A message may have arrived between the read and the park: re-check once.
            let max = self.store.max_offset_in_queue(&topic, queue_id);
            if max > offset {
                for h in self.hold.take_woken(&topic, queue_id, max, None) {
                    self.rerun(h);
                }
            }
            return Ok(Reply::Park);
        }
        let mut resp = RemotingCommand::response(code, Some(remark.to_string()));
        if code == rs::SUCCESS {
            let total: usize = got.messages.iter().map(Vec::len).sum();
            let mut body = Vec::with_capacity(total);
            for m in &got.messages {
                body.extend_from_slice(m);
            }
            resp.body = body;
        }
        Ok(Reply::Respond(pull_fields(resp, got.next_begin_offset, got.min_offset, got.max_offset)))
    }
}

impl Broker {
    /// The checks of PullMessageProcessor before the store is read, in Apache's order: broker
    /// permission, subscription group (auto-created), consumeEnable, topic, topic permission,
    /// queue id. `Some(response)` refuses the pull.
    fn check_pull(&self, group: &str, topic: &str, queue_id: i32) -> Option<RemotingCommand> {
        if self.cfg.broker_permission & perm::READ == 0 {
            return Some(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the broker[{}] pulling message is forbidden", self.cfg.broker_ip1),
            ));
        }
        let Some(gc) = self.groups.find(group) else {
            return Some(RemotingCommand::error(
                rs::SUBSCRIPTION_GROUP_NOT_EXIST,
                format!("subscription group [{group}] does not exist, {}", faq()),
            ));
        };
        if !gc.consume_enable {
            return Some(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("subscription group no permission, {group}"),
            ));
        }
        let Some(tc) = self.topics.get(topic) else {
            return Some(pull_fields(
                RemotingCommand::error(
                    rs::TOPIC_NOT_EXIST,
                    format!("topic[{topic}] not exist, apply first please! {}", faq()),
                ),
                0,
                0,
                0,
            ));
        };
        if tc.perm & perm::READ == 0 {
            return Some(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the topic[{topic}] pulling message is forbidden"),
            ));
        }
        if queue_id < 0 || queue_id >= tc.read_queue_nums {
            return Some(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}] consumer:[{}]",
                    queue_id, topic, tc.read_queue_nums, group
                ),
            ));
        }
        None
    }

    /// The tag filter of a pull: from the request when it carries the SUBSCRIPTION flag, else
    /// from the group's heartbeat, with Apache's refusals (unknown group info or subscription,
    /// broadcasting not allowed, an older subscription than the client's, non-TAG expressions).
    fn pull_filter(
        &self,
        req: &RemotingCommand,
        group: &str,
        topic: &str,
        sys_flag: i32,
    ) -> Result<Result<TagFilter, RemotingCommand>, FieldError> {
        let (expr, expr_type) = if sys_flag & pull_flag::SUBSCRIPTION != 0 {
            (
                req.field("subscription").unwrap_or("*").to_string(),
                req.field("expressionType").unwrap_or("TAG").to_string(),
            )
        } else {
            let Some(cg) = self.clients.consumer_group(group) else {
                return Ok(Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_NOT_EXIST,
                    format!("the consumer's group info not exist{}", faq()),
                )));
            };
            let broadcast_ok = self.groups.get(group).is_none_or(|g| g.consume_broadcast_enable);
            if !broadcast_ok && cg.message_model == "BROADCASTING" {
                return Ok(Err(RemotingCommand::error(
                    rs::NO_PERMISSION,
                    format!("the consumer group[{group}] can not consume by broadcast way"),
                )));
            }
            let Some(sub) = cg.subscriptions.get(topic) else {
                return Ok(Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_NOT_EXIST,
                    format!("the consumer's subscription not exist{}", faq()),
                )));
            };
            if sub.sub_version < req.opt_i64("subVersion")?.unwrap_or(0) {
                return Ok(Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_NOT_LATEST,
                    "the consumer's subscription not latest",
                )));
            }
            (sub.sub_string.clone(), sub.expression_type.clone())
        };
        if !expr_type.is_empty() && !expr_type.eq_ignore_ascii_case("TAG") {
            return Ok(Err(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("The broker does not support consumer to filter message by {expr_type}"),
            )));
        }
        Ok(Ok(TagFilter::parse(&expr)))
    }
}

/// Every pull response carries all four fields (§7.2 item 6).
fn pull_fields(mut r: RemotingCommand, next: i64, min: i64, max: i64) -> RemotingCommand {
    r.put("nextBeginOffset", next);
    r.put("minOffset", min);
    r.put("maxOffset", max);
    r.put("suggestWhichBrokerId", 0);
    r
}
