//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320) and
//! CONSUMER_SEND_MSG_BACK (36) (SendMessageProcessor). Batch vs single is decided by the
//! `batch`/`m` flag only, and `"1"` reads as true (§2.5, §7.3).

use super::faq;
use super::send_header::{self, SendHeader};
use crate::broker::config::{BrokerConfig, BrokerRole};
use crate::broker::core::Core;
use crate::broker::delay;
use crate::broker::stats;
use crate::broker::topics::{validate_topic, DLQ_PREFIX, NOT_SENDABLE, RETRY_PREFIX};
use crate::broker::txn;
use crate::protocol::body::perm;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, Payload, RemotingCommand};
use crate::protocol::record::{
    decode_batch_body_capped, decode_record, edit_properties, encode_properties, get_properties,
    message_illegal_remark, parse_properties,
};
use crate::remoting::{Handler, Reply, ReqCtx};
use crate::store::{Durable, FlushDiskType, PutMessage, PutResult, PutStatus, WaitFor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Queues of a `%DLQ%<group>` topic (DLQ_NUMS_PER_GROUP).
const DLQ_NUMS_PER_GROUP: i32 = 1;

static RNG: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);

/// A cheap pseudo-random number (queue choice only).
pub fn random_u32() -> u32 {
    let mut x = RNG.load(Ordering::Relaxed) ^ (crate::common::time::now_millis() as u64);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    RNG.store(x, Ordering::Relaxed);
    (x >> 16) as u32
}

fn status_to_response(r: &PutResult) -> Option<(i32, Option<String>)> {
    Some(match r.status {
        PutStatus::PutOk => (rs::SUCCESS, None),
        PutStatus::FlushDiskTimeout => (rs::FLUSH_DISK_TIMEOUT, None),
        PutStatus::ServiceNotAvailable => (
            rs::SERVICE_NOT_AVAILABLE,
            Some(
                "service not available now, maybe the disk is full or the broker is stopping"
                    .into(),
            ),
        ),
        PutStatus::MessageIllegal => (
            rs::MESSAGE_ILLEGAL,
            Some("the message is illegal, maybe the body is too large".into()),
        ),
        PutStatus::PropertiesSizeExceeded => {
            (rs::MESSAGE_ILLEGAL, Some("the message properties are larger than 32767 bytes".into()))
        }
        PutStatus::CreateMappedFileFailed => {
            (rs::SYSTEM_ERROR, Some("create mapped file failed, server is busy or broken".into()))
        }
        PutStatus::UnknownError => (rs::SYSTEM_ERROR, Some("unknown store error".into())),
    })
}

/// Sends and send-backs.
pub(crate) struct SendProcessor {
    pub c: Arc<Core>,
}

impl Handler for SendProcessor {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        if req.code == rq::CONSUMER_SEND_MSG_BACK {
            return super::reply(self.send_back(ctx, req));
        }
        self.send(ctx, req)
    }
}

/// A stored send: the answer for a flushed store, the put result, whether the producer waits.
type Stored = (RemotingCommand, PutResult, bool);

impl SendProcessor {
    /// Handle a send request. Under SYNC_FLUSH a send that waits for the disk is answered from
    /// the group commit (`Reply::Park` here), so a send worker never sits on a flush and one
    /// flush covers every connection's pending send (Apache's asyncPutMessage).
    fn send(&self, ctx: &ReqCtx, mut req: RemotingCommand) -> Reply {
        let cfg = self.c.cfg();
        let body = req.take_body();
        let stored = match send_header::parse(&req) {
            Ok(h) => self.store_send(ctx, &cfg, &h, body),
            Err(e) => Err(RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())),
        };
        match stored {
            Err(resp) => Reply::Respond(resp),
            Ok((resp, r, wait)) => {
                if !wait || r.status != PutStatus::PutOk {
                    return Reply::Respond(resp);
                }
                self.answer_when_durable(ctx, &cfg, resp, &r)
            }
        }
    }

    /// Answer a stored send once it is as durable as the broker promises (Apache's
    /// handleDiskFlush + handleHA, combined as asyncPutMessage does): under SYNC_FLUSH once
    /// flushed, on a SYNC_MASTER once a slave acknowledged it. Without an in-sync slave a
    /// SYNC_MASTER answers SLAVE_NOT_AVAILABLE at once (after the flush under SYNC_FLUSH); a
    /// replica failure wins over a flush failure.
    fn answer_when_durable(
        &self,
        ctx: &ReqCtx,
        cfg: &BrokerConfig,
        mut resp: RemotingCommand,
        r: &PutResult,
    ) -> Reply {
        let flush = cfg.flush_disk_type == FlushDiskType::Sync;
        let mut replica = None;
        let mut no_slave = false;
        if cfg.broker_role == BrokerRole::SyncMaster {
            let end = (r.phys_offset + r.wrote_bytes).max(0) as u64;
            if self.c.repl.in_sync_slave_available(end) {
                replica = Some(Duration::from_millis(cfg.slave_timeout));
            } else {
                no_slave = true;
            }
        }
        if !flush && replica.is_none() {
            if no_slave {
                resp.code = rs::SLAVE_NOT_AVAILABLE;
            }
            return Reply::Respond(resp);
        }
        let ctx = ctx.clone();
        self.c.store.when_durable(
            r,
            WaitFor { flush, replica },
            Box::new(move |d| {
                resp.code = match d {
                    _ if no_slave => rs::SLAVE_NOT_AVAILABLE,
                    Durable::Ok => resp.code,
                    Durable::FlushTimeout => rs::FLUSH_DISK_TIMEOUT,
                    Durable::ReplicaTimeout => rs::FLUSH_SLAVE_TIMEOUT,
                };
                ctx.respond(resp);
            }),
        );
        Reply::Park
    }

    /// Store a send without waiting for the flush. `Err` is an early refusal.
    // The refusal is the response itself, built once on a path that ends the request.
    #[allow(clippy::result_large_err)]
    fn store_send(
        &self,
        ctx: &ReqCtx,
        cfg: &BrokerConfig,
        h: &SendHeader<'_>,
        body: Payload,
    ) -> Result<Stored, RemotingCommand> {
        let c = &self.c;
        if let Err(why) = validate_topic(h.topic) {
            return Err(RemotingCommand::error(rs::SYSTEM_ERROR, why));
        }
        if NOT_SENDABLE.contains(&h.topic) {
            return Err(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("Sending message to topic[{}] is forbidden.", h.topic),
            ));
        }
        if !cfg.broker_permission.writable() || cfg.broker_role == BrokerRole::Slave {
            return Err(RemotingCommand::error(
                rs::SERVICE_NOT_AVAILABLE,
                format!("the broker[{}] sending message is forbidden", cfg.broker_ip1),
            ));
        }
        let Some((tc, created)) =
            c.topics.get_or_create_on_send(h.topic, h.default_topic, h.default_queue_nums)
        else {
            return Err(RemotingCommand::error(
                rs::TOPIC_NOT_EXIST,
                format!("topic[{}] not exist, apply first please!", h.topic),
            ));
        };
        if created {
            c.wake_registration();
        }
        if tc.perm & perm::WRITE == 0 {
            return Err(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the topic[{}] sending message is forbidden", h.topic),
            ));
        }
        let mut topic = h.topic.to_string();
        let mut queue_id = h.queue_id;
        let max_q = tc.read_queue_nums.max(tc.write_queue_nums);
        if queue_id >= max_q {
            return Err(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "request queueId[{}] is illegal, topic {} has {} queues",
                    queue_id, topic, max_q
                ),
            ));
        }
        if queue_id < 0 {
            queue_id = (random_u32() % tc.write_queue_nums.max(1) as u32) as i32;
        }
        // Retry topic past the maximum: to the dead-letter queue (handleRetryAndDLQ).
        if let Some(group) = topic.strip_prefix(RETRY_PREFIX) {
            let Some(gc) = c.groups.find(group, cfg.auto_create_subscription_group) else {
                return Err(RemotingCommand::error(
                    rs::SUBSCRIPTION_GROUP_NOT_EXIST,
                    format!("subscription group not exist, {group} {}", faq()),
                ));
            };
            let max = h.max_reconsume_times.unwrap_or(gc.retry_max_times);
            if h.reconsume_times >= max {
                let dlq = format!("{DLQ_PREFIX}{group}");
                c.ensure_topic_perm(&dlq, DLQ_NUMS_PER_GROUP, perm::WRITE);
                topic = dlq;
                queue_id = 0;
            }
        }
        let [wait_property, delay_property, prepared_property] = get_properties(
            h.properties,
            ["WAIT", delay::PROPERTY_DELAY, txn::PROPERTY_TRANSACTION_PREPARED],
        );
        let wait = !wait_property.is_some_and(|v| v.eq_ignore_ascii_case("false"));
        let cluster = cfg.broker_cluster_name.as_str();
        let base = PutMessage {
            topic: topic.clone(),
            queue_id,
            flag: h.flag,
            sys_flag: h.sys_flag,
            born_timestamp: h.born_timestamp,
            born_host: ctx.peer(),
            store_host: c.store_host,
            reconsume_times: h.reconsume_times,
            prepared_transaction_offset: 0,
            body: Payload::default(),
            properties: String::new(),
        };
        let delayed = delay_property.is_some_and(|v| v.trim().parse::<i32>().is_ok_and(|l| l > 0));
        let result = if h.batch {
            // Apache refuses a batch whose outer properties ask for a delay.
            if delayed {
                return Err(RemotingCommand::error(
                    rs::MESSAGE_ILLEGAL,
                    "a batch message can not be delayed",
                ));
            }
            let items = match decode_batch_body_capped(&body, cfg.max_message_size) {
                Ok(items) if !items.is_empty() => items,
                Ok(_) => {
                    return Err(RemotingCommand::error(rs::MESSAGE_ILLEGAL, "the batch is empty"))
                }
                Err(e) if e.is_too_large() => {
                    return Err(RemotingCommand::error(
                        rs::MESSAGE_ILLEGAL,
                        message_illegal_remark(cfg.max_message_size),
                    ))
                }
                Err(e) => {
                    return Err(RemotingCommand::error(
                        rs::MESSAGE_ILLEGAL,
                        format!("bad batch body: {e}"),
                    ))
                }
            };
            let mut outer = parse_properties(h.properties);
            outer.push(("CLUSTER".into(), cluster.to_string()));
            let msgs = items
                .into_iter()
                .map(|it| {
                    let mut p = parse_properties(&it.properties);
                    for (k, v) in &outer {
                        if !p.iter().any(|(pk, _)| pk == k) {
                            p.push((k.clone(), v.clone()));
                        }
                    }
                    PutMessage {
                        flag: it.flag,
                        body: it.body.into(),
                        properties: encode_properties(
                            p.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        ),
                        ..base.clone()
                    }
                })
                .collect();
            c.store.put_messages(msgs, false)
        } else {
            // SendMessageProcessor: a half message (not a delayed retry) goes to the half topic.
            let prepared = prepared_property.is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if prepared && !(h.reconsume_times > 0 && delayed) {
                if cfg.reject_transaction_message {
                    return Err(RemotingCommand::error(
                        rs::NO_PERMISSION,
                        format!(
                            "the broker[{}] sending transaction message is forbidden",
                            cfg.broker_ip1
                        ),
                    ));
                }
                let mut outer = parse_properties(h.properties);
                outer.retain(|(k, _)| k != "WAIT" && k != "CLUSTER");
                outer.push(("CLUSTER".into(), cluster.to_string()));
                let m = PutMessage { body, ..base };
                let r = txn::put_half(c, m, outer);
                return Ok((self.send_response(cfg, &topic, queue_id, &r), r, wait));
            }
            // Stored copies of single sends drop WAIT (Apache >= 4.9.1); CLUSTER is the broker's.
            let m = if delayed {
                let mut outer = parse_properties(h.properties);
                outer.retain(|(k, _)| k != "WAIT" && k != "CLUSTER");
                outer.push(("CLUSTER".into(), cluster.to_string()));
                let levels = cfg.message_delay_level.len();
                let (store_topic, store_queue) =
                    delay::apply_delay(levels, &topic, queue_id, h.sys_flag, &mut outer)
                        .unwrap_or_else(|| (topic.clone(), queue_id));
                PutMessage {
                    topic: store_topic,
                    queue_id: store_queue,
                    body,
                    properties: encode_properties(
                        outer.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    ),
                    ..base
                }
            } else {
                let properties =
                    edit_properties(h.properties, &["WAIT", "CLUSTER"], &[("CLUSTER", cluster)]);
                PutMessage { body, properties, ..base }
            };
            c.store.put_message(m, false)
        };
        Ok((self.send_response(cfg, &topic, queue_id, &result), result, wait))
    }

    fn send_response(
        &self,
        cfg: &BrokerConfig,
        topic: &str,
        queue_id: i32,
        r: &PutResult,
    ) -> RemotingCommand {
        let Some((code, remark)) = status_to_response(r) else {
            return RemotingCommand::error(rs::SYSTEM_ERROR, "unknown store status");
        };
        let mut resp = RemotingCommand::response(code, remark);
        if matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout) {
            let n = r.msg_ids.len() as u64;
            let st = &self.c.stats;
            st.add(stats::TOPIC_PUT_NUMS, topic, n, 1);
            st.add(stats::TOPIC_PUT_SIZE, topic, r.wrote_bytes.max(0) as u64, 1);
            st.add(stats::BROKER_PUT_NUMS, &cfg.broker_cluster_name, n, 0);
            resp.put("msgId", r.msg_ids.join(","));
            resp.put("queueId", queue_id);
            resp.put("queueOffset", r.queue_offset);
            resp.put("MSG_REGION", &cfg.region_id);
            resp.put("TRACE_ON", cfg.trace_on);
            log::debug!(
                "stored topic={} queue={} offset={} count={}",
                topic,
                queue_id,
                r.queue_offset,
                r.msg_ids.len()
            );
        } else {
            log::warn!("send failed topic={} queue={} status={:?}", topic, queue_id, r.status);
        }
        resp
    }

    /// CONSUMER_SEND_MSG_BACK (SendMessageProcessor.consumerSendMsgBack): re-store a consumed
    /// message in `%RETRY%<group>` after delay level `3 + reconsumeTimes` (or the level the client
    /// asks for), or in `%DLQ%<group>` (write-only, so consumers cannot read it) once it was
    /// reconsumed `retryMaxTimes` times, or when the client asks for a negative level.
    fn send_back(&self, ctx: &ReqCtx, req: RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let c = &self.c;
        let cfg = c.cfg();
        let offset = req.i64_field("offset")?;
        let group = req.str_field("group")?.to_string();
        let mut delay_level = req.opt_i32("delayLevel")?.unwrap_or(0);
        let client_max = if req.version >= 121 { req.opt_i32("maxReconsumeTimes")? } else { None };
        let Some(gc) = c.groups.find(&group, cfg.auto_create_subscription_group) else {
            return Ok(RemotingCommand::error(
                rs::SUBSCRIPTION_GROUP_NOT_EXIST,
                format!("subscription group not exist, {group} {}", faq()),
            ));
        };
        if !cfg.broker_permission.writable() {
            return Ok(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the broker[{}] sending message is forbidden", cfg.broker_ip1),
            ));
        }
        if gc.retry_queue_nums <= 0 {
            return Ok(RemotingCommand::success());
        }
        let mut topic = format!("{RETRY_PREFIX}{group}");
        let mut queue_id = (random_u32() % gc.retry_queue_nums as u32) as i32;
        let tc = c.ensure_topic_perm(&topic, gc.retry_queue_nums, perm::READ | perm::WRITE);
        if tc.perm & perm::WRITE == 0 {
            return Ok(RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the topic[{topic}] sending message is forbidden"),
            ));
        }
        let Some(raw) = c.store.look_message_by_offset(offset) else {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("look message by offset failed, {offset}"),
            ));
        };
        let (rec, _) = match decode_record(&raw, false) {
            Ok(r) => r,
            Err(e) => {
                return Ok(RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("stored message unreadable: {e}"),
                ))
            }
        };
        let mut props = parse_properties(&rec.properties);
        if !props.iter().any(|(k, _)| k == "RETRY_TOPIC") {
            props.push(("RETRY_TOPIC".into(), rec.topic.clone()));
        }
        props.retain(|(k, _)| k != "WAIT");
        props.push(("WAIT".into(), "false".into()));
        let max = client_max.unwrap_or(gc.retry_max_times);
        props.retain(|(k, _)| k != delay::PROPERTY_DELAY);
        if rec.reconsume_times >= max || delay_level < 0 {
            topic = format!("{DLQ_PREFIX}{group}");
            queue_id = 0;
            c.ensure_topic_perm(&topic, DLQ_NUMS_PER_GROUP, perm::WRITE);
            props.push((delay::PROPERTY_DELAY.into(), "0".into()));
        } else {
            if delay_level == 0 {
                delay_level = 3 + rec.reconsume_times;
            }
            props.push((delay::PROPERTY_DELAY.into(), delay_level.to_string()));
        }
        if !props.iter().any(|(k, v)| k == "ORIGIN_MESSAGE_ID" && !v.trim().is_empty()) {
            props.retain(|(k, _)| k != "ORIGIN_MESSAGE_ID");
            props.push((
                "ORIGIN_MESSAGE_ID".into(),
                crate::protocol::record::offset_msg_id(rec.store_host, rec.physical_offset),
            ));
        }
        let levels = cfg.message_delay_level.len();
        let (store_topic, store_queue) =
            delay::apply_delay(levels, &topic, queue_id, rec.sys_flag, &mut props)
                .unwrap_or_else(|| (topic.clone(), queue_id));
        let m = PutMessage {
            topic: store_topic,
            queue_id: store_queue,
            flag: rec.flag,
            sys_flag: rec.sys_flag,
            born_timestamp: rec.born_timestamp,
            born_host: rec.born_host,
            store_host: rec.store_host,
            reconsume_times: rec.reconsume_times.saturating_add(1),
            prepared_transaction_offset: 0,
            body: rec.body.into(),
            properties: encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        };
        let r = c.store.put_message(m, false);
        log::debug!(
            "send back group={} topic={} reconsume={} peer={} status={:?}",
            group,
            topic,
            rec.reconsume_times.saturating_add(1),
            ctx.peer(),
            r.status
        );
        if r.status == PutStatus::PutOk {
            // SendMessageProcessor: counted under the message's RETRY_TOPIC, else its topic.
            let origin = props
                .iter()
                .find(|(k, _)| k == "RETRY_TOPIC")
                .map_or(rec.topic.as_str(), |(_, v)| v.as_str());
            c.stats.add(stats::SNDBCK_PUT_NUMS, &format!("{origin}@{group}"), 1, 1);
        }
        Ok(match r.status {
            PutStatus::PutOk => RemotingCommand::success(),
            other => RemotingCommand::error(rs::SYSTEM_ERROR, put_status_name(other)),
        })
    }
}

/// Apache's PutMessageStatus names (the send-back failure remark).
fn put_status_name(s: PutStatus) -> &'static str {
    match s {
        PutStatus::PutOk => "PUT_OK",
        PutStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
        PutStatus::ServiceNotAvailable => "SERVICE_NOT_AVAILABLE",
        PutStatus::MessageIllegal => "MESSAGE_ILLEGAL",
        PutStatus::PropertiesSizeExceeded => "PROPERTIES_SIZE_EXCEEDED",
        PutStatus::CreateMappedFileFailed => "CREATE_MAPEDFILE_FAILED",
        PutStatus::UnknownError => "UNKNOWN_ERROR",
    }
}
