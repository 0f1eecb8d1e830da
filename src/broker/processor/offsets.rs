//! Offsets (ConsumerManageProcessor, and AdminBrokerProcessor's queue-offset codes):
//! QUERY_CONSUMER_OFFSET, UPDATE_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET,
//! SEARCH_OFFSET_BY_TIMESTAMP, GET_EARLIEST_MSG_STORETIME.

use super::{not_supported, reply};
use crate::broker::core::Core;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::{Handler, Reply, ReqCtx};
use std::sync::Arc;

/// Consumer offsets and queue positions.
pub(crate) struct OffsetProcessor {
    pub c: Arc<Core>,
}

impl Handler for OffsetProcessor {
    fn handle(&self, _ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        reply(self.run(&req))
    }
}

impl OffsetProcessor {
    fn run(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let store = &self.c.store;
        Ok(match req.code {
            rq::QUERY_CONSUMER_OFFSET => self.query(req)?,
            rq::UPDATE_CONSUMER_OFFSET => {
                let (group, topic, q) = (
                    req.str_field("consumerGroup")?,
                    req.str_field("topic")?,
                    req.i32_field("queueId")?,
                );
                let off = req.i64_field("commitOffset")?;
                self.c.offsets.commit_by_client(group, topic, q, off);
                RemotingCommand::success()
            }
            rq::GET_MAX_OFFSET => {
                let o =
                    store.max_offset_in_queue(req.str_field("topic")?, req.i32_field("queueId")?);
                RemotingCommand::success().with("offset", o)
            }
            rq::GET_MIN_OFFSET => {
                let o =
                    store.min_offset_in_queue(req.str_field("topic")?, req.i32_field("queueId")?);
                RemotingCommand::success().with("offset", o)
            }
            rq::SEARCH_OFFSET_BY_TIMESTAMP => {
                let o = store.offset_by_timestamp(
                    req.str_field("topic")?,
                    req.i32_field("queueId")?,
                    req.i64_field("timestamp")?,
                );
                RemotingCommand::success().with("offset", o)
            }
            rq::GET_EARLIEST_MSG_STORETIME => {
                let t =
                    store.earliest_message_time(req.str_field("topic")?, req.i32_field("queueId")?);
                RemotingCommand::success().with("timestamp", t)
            }
            other => not_supported(other),
        })
    }

    fn query(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let (group, topic, q) =
            (req.str_field("consumerGroup")?, req.str_field("topic")?, req.i32_field("queueId")?);
        Ok(match self.c.offsets.query(group, topic, q) {
            Some(o) => RemotingCommand::success().with("offset", o),
            // Apache 4.9 (ConsumerManageProcessor.queryConsumerOffset): a new group starts from
            // 0 while the queue still begins at offset 0 and that message is not yet "on disk";
            // otherwise QUERY_NOT_FOUND, and the client applies its ConsumeFrom policy (last
            // offset, first offset, timestamp).
            None if self.c.store.min_offset_in_queue(topic, q) <= 0
                && !self.in_disk_by_consume_offset(topic, q, 0) =>
            {
                RemotingCommand::success().with("offset", 0)
            }
            None => RemotingCommand::error(
                rs::QUERY_NOT_FOUND,
                "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
            ),
        })
    }

    /// DefaultMessageStore.checkInDiskByConsumeOffset: whether the message at `offset` of a
    /// queue lies further from the commit log's end than `accessMessageInMemoryMaxRatio` percent
    /// of physical memory; false when the queue has no such entry.
    fn in_disk_by_consume_offset(&self, topic: &str, q: i32, offset: i64) -> bool {
        let store = &self.c.store;
        let r = store.get_messages(topic, q, offset, 1, usize::MAX, &|_| true);
        let Some(rec) = r.messages.first() else { return false };
        let Ok((view, _)) = crate::protocol::record::decode_view(rec, false) else {
            return false;
        };
        let ratio = u64::from(self.c.cfg().access_message_in_memory_max_ratio);
        let memory = crate::common::sys::total_physical_memory() / 100 * ratio;
        let behind = store.commit_log_max_offset() - view.physical_offset;
        behind > 0 && behind as u64 > memory
    }
}
