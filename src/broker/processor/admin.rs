//! Administration (AdminBrokerProcessor): topics, subscription groups, the broker's live
//! configuration, offset tables and reset, delay offsets.

use super::{not_supported, reply};
use crate::broker::core::Core;
use crate::broker::groups::SubscriptionGroupConfig;
use crate::broker::live::properties_text;
use crate::protocol::admin_body::ResetOffsetBody;
use crate::protocol::body::{MessageQueue, TopicConfig};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::{Handler, Reply, ReqCtx};
use std::sync::Arc;

/// `MQVersion.V3_0_7_SNAPSHOT`: older clients cannot reset.
const MIN_RESET_VERSION: i32 = 28;

/// Administration requests.
pub(crate) struct AdminProcessor {
    pub c: Arc<Core>,
}

impl Handler for AdminProcessor {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        reply(self.run(ctx, &req))
    }
}

impl AdminProcessor {
    fn run(&self, ctx: &ReqCtx, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let c = &self.c;
        Ok(match req.code {
            rq::UPDATE_AND_CREATE_TOPIC => {
                let topic = req.str_field("topic")?;
                if let Err(why) = crate::broker::topics::validate_topic(topic) {
                    return Ok(RemotingCommand::error(rs::SYSTEM_ERROR, why));
                }
                if crate::broker::topics::NOT_SENDABLE.contains(&topic) {
                    return Ok(RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        format!("the topic[{topic}] is conflict with system topic"),
                    ));
                }
                let read = req.i32_field("readQueueNums")?;
                let write = req.i32_field("writeQueueNums")?;
                if !(1..=1024).contains(&read) || !(1..=1024).contains(&write) {
                    return Ok(RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        "queue numbers must be within 1..1024",
                    ));
                }
                let tc = TopicConfig {
                    order: req.bool_field("order"),
                    perm: req.opt_i32("perm")?.unwrap_or(6),
                    read_queue_nums: read,
                    topic_filter_type: req
                        .field("topicFilterType")
                        .unwrap_or("SINGLE_TAG")
                        .to_string(),
                    topic_name: topic.to_string(),
                    topic_sys_flag: req.opt_i32("topicSysFlag")?.unwrap_or(0),
                    write_queue_nums: write,
                };
                if c.topics.upsert(tc) {
                    c.wake_registration();
                }
                RemotingCommand::success()
            }
            rq::DELETE_TOPIC_IN_BROKER => {
                let topic = req.str_field("topic")?;
                if c.topics.delete(topic) {
                    c.store.delete_topic(topic);
                    c.stats.on_topic_deleted(topic);
                    c.wake_registration();
                }
                RemotingCommand::success()
            }
            rq::GET_ALL_TOPIC_CONFIG => RemotingCommand::success()
                .with_body(serde_json::to_vec(&c.topics.snapshot()).unwrap_or_default()),
            rq::GET_ALL_CONSUMER_OFFSET => {
                RemotingCommand::success().with_body(c.offsets.encode().into_bytes())
            }
            rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP => {
                let cfg: SubscriptionGroupConfig =
                    match crate::protocol::json::from_fastjson(&req.body) {
                        Ok(c) => c,
                        Err(e) => {
                            return Ok(RemotingCommand::error(
                                rs::SYSTEM_ERROR,
                                format!("the subscription group body is not valid JSON: {e}"),
                            ))
                        }
                    };
                if cfg.group_name.trim().is_empty() {
                    return Ok(RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        "the subscription group name is empty",
                    ));
                }
                c.groups.update(cfg);
                RemotingCommand::success()
            }
            rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG => RemotingCommand::success()
                .with_body(serde_json::to_vec(&c.groups.snapshot()).unwrap_or_default()),
            rq::DELETE_SUBSCRIPTIONGROUP => {
                let group = req.str_field("groupName")?;
                c.groups.delete(group);
                c.stats.on_group_deleted(group);
                // Apache 4.9: removeOffset (false when absent) also drops the group's offsets.
                if req.bool_field("removeOffset") {
                    c.offsets.remove_group(group);
                }
                RemotingCommand::success()
            }
            // The delay offsets belong to the same family of config files (AdminBrokerProcessor
            // answers with delayOffset.json's text).
            rq::GET_ALL_DELAY_OFFSET => {
                RemotingCommand::success().with_body(c.delay_offsets.encode().into_bytes())
            }
            rq::GET_BROKER_CONFIG => RemotingCommand::success()
                .with("version", c.live.version_json())
                .with_body(properties_text(&c.cfg()).into_bytes()),
            rq::UPDATE_BROKER_CONFIG => self.update_broker_config(ctx, &req.body),
            rq::INVOKE_BROKER_TO_RESET_OFFSET => self.reset_offset(req)?,
            other => not_supported(other),
        })
    }

    /// UPDATE_BROKER_CONFIG: apply, persist, and re-register at once (the registration carries
    /// the permission and reads the rest of the live configuration).
    fn update_broker_config(&self, ctx: &ReqCtx, body: &[u8]) -> RemotingCommand {
        let c = &self.c;
        let text = String::from_utf8_lossy(body);
        log::info!("update broker config peer={} body={:?}", ctx.peer(), text.trim());
        let perm_before = c.cfg().broker_permission;
        match c.live.update(&text) {
            Ok(r) => {
                for k in &r.unknown {
                    log::warn!("update broker config: unknown key ignored key={k}");
                }
                if c.cfg().broker_permission != perm_before {
                    // Apache: bump the topic data version and re-register at once.
                    c.topics.touch();
                }
                if !r.applied.is_empty() {
                    c.wake_registration();
                }
                let mut resp = RemotingCommand::success();
                if !r.after_restart.is_empty() {
                    resp.remark =
                        Some(format!("effective after restart: {}", r.after_restart.join(",")));
                }
                resp
            }
            Err((code, why)) => RemotingCommand::error(code, why),
        }
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET (222) (Broker2Client.resetOffset): compute each write
    /// queue's offset at a time (or the max offset for −1; only backwards unless forced), push it
    /// to every consumer of the group with RESET_CONSUMER_CLIENT_OFFSET (220, one-way), and
    /// answer with the table. The body sent to each consumer is chosen by that consumer's
    /// language: the C++ client parses only the array form, Java only the object-key form
    /// (remoting-protocol.md §4.8).
    fn reset_offset(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let c = &self.c;
        let topic = req.str_field("topic")?;
        let group = req.str_field("group")?;
        let timestamp = req.i64_field("timestamp")?;
        let force = req.bool_field("isForce");
        let Some(tc) = c.topics.get(topic) else {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "[reset-offset] reset offset failed, no topic in this broker. topic={topic}"
                ),
            ));
        };
        let mut body = ResetOffsetBody::default();
        for q in 0..tc.write_queue_nums {
            let Some(current) = c.offsets.query(group, topic, q) else {
                return Ok(RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("THe consumer group <{group}> not exist"),
                ));
            };
            let at = if timestamp == -1 {
                c.store.max_offset_in_queue(topic, q)
            } else {
                c.store.offset_by_timestamp(topic, q, timestamp)
            }
            .max(0);
            let mq = MessageQueue {
                broker_name: c.cfg().broker_name.clone(),
                queue_id: q,
                topic: topic.to_string(),
            };
            body.offset_table.insert(mq, if force || at < current { at } else { current });
        }
        let channels = c.clients.consumer_group(group).map(|g| g.channels).unwrap_or_default();
        if channels.is_empty() {
            return Ok(RemotingCommand::error(
                rs::CONSUMER_NOT_ONLINE,
                format!(
                    "Consumer not online, so can not reset offset, Group: {group} Topic: {topic} Timestamp: {timestamp}"
                ),
            ));
        }
        if let Some(old) = channels.values().find(|c| c.version < MIN_RESET_VERSION) {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("the client does not support this feature. version={}", old.version),
            ));
        }
        let (java_form, c_form) = (body.encode(), body.encode_for_c());
        for ch in channels.values() {
            let cmd = RemotingCommand::request(rq::RESET_CONSUMER_CLIENT_OFFSET)
                .with("topic", topic)
                .with("group", group)
                .with("timestamp", timestamp)
                .with("isForce", false)
                .with_body(if ch.language == "CPP" { c_form.clone() } else { java_form.clone() });
            match ch.conn.oneway(cmd) {
                Ok(()) => log::info!(
                    "reset offset pushed topic={topic} group={group} client={}",
                    ch.client_id
                ),
                Err(e) => log::warn!(
                    "reset offset not delivered topic={topic} group={group} client={} err={e}",
                    ch.client_id
                ),
            }
        }
        Ok(RemotingCommand::success().with_body(java_form))
    }
}
