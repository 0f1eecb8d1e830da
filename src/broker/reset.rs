//! INVOKE_BROKER_TO_RESET_OFFSET (222) (Broker2Client.resetOffset): compute each write queue's
//! offset at a time (or the max offset for −1; only backwards unless forced), push it to every
//! consumer of the group with RESET_CONSUMER_CLIENT_OFFSET (220, one-way), and answer with the
//! table. The body sent to each consumer is chosen by that consumer's language: the C++ client
//! parses only the array form, Java only the object-key form (remoting-protocol.md §4.8).

use super::Broker;
use crate::protocol::admin_body::ResetOffsetBody;
use crate::protocol::body::MessageQueue;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};

/// `MQVersion.V3_0_7_SNAPSHOT`: older clients cannot reset.
const MIN_RESET_VERSION: i32 = 28;

impl Broker {
    pub(crate) fn reset_offset(
        &self,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        let topic = req.str_field("topic")?;
        let group = req.str_field("group")?;
        let timestamp = req.i64_field("timestamp")?;
        let force = req.bool_field("isForce");
        let Some(tc) = self.topics.get(topic) else {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "[reset-offset] reset offset failed, no topic in this broker. topic={topic}"
                ),
            ));
        };
        let mut body = ResetOffsetBody::default();
        for q in 0..tc.write_queue_nums {
            let Some(current) = self.offsets.query(group, topic, q) else {
                return Ok(RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("THe consumer group <{group}> not exist"),
                ));
            };
            let at = if timestamp == -1 {
                self.store.max_offset_in_queue(topic, q)
            } else {
                self.store.offset_by_timestamp(topic, q, timestamp)
            }
            .max(0);
            let mq = MessageQueue {
                broker_name: self.cfg.broker_name.clone(),
                queue_id: q,
                topic: topic.to_string(),
            };
            body.offset_table.insert(mq, if force || at < current { at } else { current });
        }
        let channels = self.clients.consumer_group(group).map(|g| g.channels).unwrap_or_default();
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
