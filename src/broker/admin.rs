//! Admin and query requests used by tools and tests (AdminBrokerProcessor, QueryMessageProcessor).

use super::Broker;
use crate::protocol::body::TopicConfig;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::ReqCtx;

impl Broker {
    /// Admin requests.
    pub(crate) fn handle_admin(
        &self,
        _ctx: &ReqCtx,
        req: RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        Ok(match req.code {
            rq::UPDATE_AND_CREATE_TOPIC => {
                let topic = req.str_field("topic")?;
                if let Err(why) = super::topics::validate_topic(topic) {
                    return Ok(RemotingCommand::error(rs::SYSTEM_ERROR, why));
                }
                if super::topics::NOT_SENDABLE.contains(&topic) {
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
                if self.topics.upsert(tc) {
                    self.register_all_now();
                }
                RemotingCommand::success()
            }
            rq::DELETE_TOPIC_IN_BROKER => {
                let topic = req.str_field("topic")?;
                if self.topics.delete(topic) {
                    self.store.delete_topic(topic);
                    self.register_all_now();
                }
                RemotingCommand::success()
            }
            rq::GET_ALL_TOPIC_CONFIG => RemotingCommand::success()
                .with_body(serde_json::to_vec(&self.topics.snapshot()).unwrap_or_default()),
            rq::GET_ALL_CONSUMER_OFFSET => {
                RemotingCommand::success().with_body(self.offsets.encode().into_bytes())
            }
            rq::VIEW_MESSAGE_BY_ID => {
                let off = req.i64_field("offset")?;
                match self.store.look_message_by_offset(off) {
                    Some(raw) => RemotingCommand::success().with_body(raw),
                    None => RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        format!("can not find message by the offset, {off}"),
                    ),
                }
            }
            rq::CHECK_CLIENT_CONFIG => RemotingCommand::success(),
            other => RemotingCommand::error(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {other} not supported"),
            ),
        })
    }
}
