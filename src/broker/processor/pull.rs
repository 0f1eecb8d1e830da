//! PULL_MESSAGE (PullMessageProcessor): checks in Apache's order, a read of one queue, and
//! long polling: a pull that finds nothing is parked in the core's `PullHold` until a matching
//! message is dispatched to its queue or its suspend time runs out; the hold service re-runs it
//! through [`PullProcessor::rerun`]. Workers never sleep.

use super::faq;
use crate::broker::config::BrokerConfig;
use crate::broker::core::Core;
use crate::broker::hold::{Held, PullArgs, TagFilter};
use crate::broker::stats;
use crate::protocol::body::perm;
use crate::protocol::codes::{pull_flag, response as rs};
use crate::protocol::command::{BodyRef, FieldError, RemotingCommand};
use crate::remoting::{Handler, Reply, ReqCtx};
use crate::store::GetStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages per pull, whatever the client asks (maxTransferCountOnMessageInMemory).
const MAX_TRANSFER_COUNT: i32 = 32;
/// Bytes per pull (maxTransferBytesOnMessageInMemory).
const MAX_TRANSFER_BYTES: usize = 256 * 1024;
/// Hold never longer than this, whatever the client asks (its own timeout is 30 s).
const MAX_SUSPEND: Duration = Duration::from_secs(20);

/// The pull processor.
pub(crate) struct PullProcessor {
    pub c: Arc<Core>,
}

impl Handler for PullProcessor {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        match self.first_pull(ctx, &req) {
            Ok(r) => r,
            Err(e) => Reply::Respond(RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())),
        }
    }
}

fn parse_args(req: &RemotingCommand) -> Result<PullArgs, FieldError> {
    Ok(PullArgs {
        group: req.str_field("consumerGroup")?.to_string(),
        topic: req.str_field("topic")?.to_string(),
        queue_id: req.i32_field("queueId")?,
        offset: req.i64_field("queueOffset")?,
        max_nums: req.opt_i32("maxMsgNums")?.unwrap_or(32).clamp(1, MAX_TRANSFER_COUNT),
        sys_flag: req.opt_i32("sysFlag")?.unwrap_or(0),
        commit_offset: req.opt_i64("commitOffset")?,
        suspend_ms: req.opt_i64("suspendTimeoutMillis")?.unwrap_or(15_000).max(0) as u64,
    })
}

impl PullProcessor {
    fn first_pull(&self, ctx: &ReqCtx, req: &RemotingCommand) -> Result<Reply, FieldError> {
        let a = parse_args(req)?;
        let cfg = self.c.cfg();
        if let Some(refused) = self.check_pull(&cfg, &a.group, &a.topic, a.queue_id) {
            return Ok(Reply::Respond(refused));
        }
        let filter = match self.pull_filter(req, &a.group, &a.topic, a.sys_flag)? {
            Ok(f) => f,
            Err(refused) => return Ok(Reply::Respond(refused)),
        };
        Ok(self.serve(ctx, &cfg, a, filter, true))
    }

    /// Answer a woken or expired parked pull.
    pub(crate) fn rerun(&self, h: Held) {
        let cfg = self.c.cfg();
        let Held { ctx, args, filter, .. } = h;
        let resp = match self.check_pull(&cfg, &args.group, &args.topic, args.queue_id) {
            Some(refused) => refused,
            None => match self.serve(&ctx, &cfg, args, filter, false) {
                Reply::Respond(r) => r,
                Reply::Park | Reply::Nothing => return,
            },
        };
        ctx.respond(resp);
    }

    fn serve(
        &self,
        ctx: &ReqCtx,
        cfg: &BrokerConfig,
        a: PullArgs,
        filter: TagFilter,
        first: bool,
    ) -> Reply {
        let c = &self.c;
        let began = Instant::now();
        // The messages stay in the mapped commit log: the connection's writer sends them from
        // there after the encoded head (one copy on the way out, the kernel's).
        let got = c.store.get_message_refs(
            &a.topic,
            a.queue_id,
            a.offset,
            a.max_nums,
            MAX_TRANSFER_BYTES,
            &|code| filter.matches(code),
        );
        c.tps.record_get(got.status == GetStatus::Found, got.messages.len());
        if got.status == GetStatus::Found {
            let n = got.messages.len() as u64;
            let bytes: usize = got.messages.iter().map(|m| m.len()).sum();
            let key = format!("{}@{}", a.topic, a.group);
            c.stats.add(stats::GROUP_GET_NUMS, &key, n, 1);
            c.stats.add(stats::GROUP_GET_SIZE, &key, bytes as u64, 1);
            c.stats.add(stats::BROKER_GET_NUMS, &cfg.broker_cluster_name, n, 0);
            let latency = began.elapsed().as_millis() as u64;
            c.stats.add(stats::GROUP_GET_LATENCY, &format!("{}@{key}", a.queue_id), latency, 1);
        }
        if first && a.sys_flag & pull_flag::COMMIT_OFFSET != 0 && cfg.broker_role.is_master() {
            if let Some(co) = a.commit_offset.filter(|co| *co >= 0) {
                c.offsets.commit(&a.group, &a.topic, a.queue_id, co);
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
                (if a.offset == 0 { rs::PULL_NOT_FOUND } else { rs::PULL_OFFSET_MOVED }, name)
            }
        };
        let (mut code, mut suggest) = (code, self.suggest_broker(cfg, &a.group, &got.messages));
        if code == rs::PULL_OFFSET_MOVED && !cfg.broker_role.is_master() {
            // A slave may be behind its master: it never moves a consumer's offset, it sends the
            // consumer back to the group's broker (Apache, offsetCheckInSlave=false).
            log::warn!(
                "PULL_OFFSET_MOVED on a slave, not corrected topic={} group={} queue={} offset={}",
                a.topic,
                a.group,
                a.queue_id,
                a.offset
            );
            code = rs::PULL_RETRY_IMMEDIATELY;
            suggest = self.c.groups.get(&a.group).map_or(0, |g| g.broker_id);
        }
        if code == rs::PULL_NOT_FOUND && first && a.sys_flag & pull_flag::SUSPEND != 0 {
            return self.park(ctx, cfg, a, filter);
        }
        let mut resp = RemotingCommand::response(code, Some(remark.to_string()));
        if code == rs::SUCCESS {
            resp.tail = got.messages;
        }
        let mut resp = pull_fields(resp, got.next_begin_offset, got.min_offset, got.max_offset);
        resp.put("suggestWhichBrokerId", suggest);
        Reply::Respond(resp)
    }

    /// suggestWhichBrokerId (PullMessageProcessor): with slaveReadEnable, the group's
    /// `whichBrokerWhenConsumeSlowly` (1) when the last message pulled lies further from the
    /// commit log's end than accessMessageInMemoryMaxRatio percent of physical memory (the
    /// consumer reads from disk: let the slave serve it), else the group's `brokerId` (0);
    /// without slaveReadEnable always the master (0).
    fn suggest_broker(&self, cfg: &BrokerConfig, group: &str, messages: &[BodyRef]) -> i64 {
        if !cfg.slave_read_enable {
            return 0;
        }
        let (id, slow) = self
            .c
            .groups
            .get(group)
            .map_or((0, 1), |g| (g.broker_id, g.which_broker_when_consume_slowly));
        let Some(Ok((last, _))) =
            messages.last().map(|m| crate::protocol::record::decode_view(m.as_slice(), false))
        else {
            return id;
        };
        let memory = crate::common::sys::total_physical_memory() / 100
            * u64::from(cfg.access_message_in_memory_max_ratio);
        let behind = self.c.store.commit_log_max_offset() - last.physical_offset;
        if behind > 0 && behind as u64 > memory {
            slow
        } else {
            id
        }
    }

    fn park(&self, ctx: &ReqCtx, cfg: &BrokerConfig, a: PullArgs, filter: TagFilter) -> Reply {
        let hold = if cfg.long_polling_enable {
            Duration::from_millis(a.suspend_ms).min(MAX_SUSPEND)
        } else {
            Duration::from_millis(cfg.short_polling_time_mills)
        };
        let (topic, queue_id, offset) = (a.topic.clone(), a.queue_id, a.offset);
        let held = Held { ctx: ctx.clone(), args: a, filter, deadline: Instant::now() + hold };
        if let Err(h) = self.c.hold.park(held) {
            log::warn!("pull not parked: too many parked pulls peer={}", h.ctx.peer());
            return Reply::Respond(RemotingCommand::error(
                rs::SYSTEM_BUSY,
                "[OVERLOAD]too many parked pulls, pull again later",
            ));
        }
        // A message may have arrived between the read and the park: re-check once.
        let max = self.c.store.max_offset_in_queue(&topic, queue_id);
        if max > offset {
            for h in self.c.hold.take_woken(&topic, queue_id, max, None) {
                self.rerun(h);
            }
        }
        Reply::Park
    }

    /// The checks of PullMessageProcessor before the store is read, in Apache's order: broker
    /// permission, subscription group (auto-created), consumeEnable, topic, topic permission,
    /// queue id. `Some(response)` refuses the pull.
    fn check_pull(
        &self,
        cfg: &BrokerConfig,
        group: &str,
        topic: &str,
        queue_id: i32,
    ) -> Option<RemotingCommand> {
        if !cfg.broker_permission.readable() {
            return Some(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the broker[{}] pulling message is forbidden", cfg.broker_ip1),
            ));
        }
        let Some(gc) = self.c.groups.find(group, cfg.auto_create_subscription_group) else {
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
        let Some(tc) = self.c.topics.get(topic) else {
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
            let Some((broadcasting, sub)) = self.c.clients.pull_view(group, topic) else {
                return Ok(Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_NOT_EXIST,
                    format!("the consumer's group info not exist{}", faq()),
                )));
            };
            let broadcast_ok = self.c.groups.get(group).is_none_or(|g| g.consume_broadcast_enable);
            if !broadcast_ok && broadcasting {
                return Ok(Err(RemotingCommand::error(
                    rs::NO_PERMISSION,
                    format!("the consumer group[{group}] can not consume by broadcast way"),
                )));
            }
            let Some(sub) = sub else {
                return Ok(Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_NOT_EXIST,
                    format!("the consumer's subscription not exist{}", faq()),
                )));
            };
            if sub.version < req.opt_i64("subVersion")?.unwrap_or(0) {
                return Ok(Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_NOT_LATEST,
                    "the consumer's subscription not latest",
                )));
            }
            (sub.expression, sub.expression_type)
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
