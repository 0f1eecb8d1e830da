//! Message queries (QueryMessageProcessor, AdminBrokerProcessor.viewMessageById):
//! QUERY_MESSAGE by key or unique key over the index, VIEW_MESSAGE_BY_ID by commit-log offset.

use super::{not_supported, reply};
use crate::broker::core::Core;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::{Handler, Reply, ReqCtx};
use std::sync::Arc;

pub(crate) const UNIQUE_MSG_QUERY_FLAG: &str = "_UNIQUE_KEY_QUERY";
/// MessageStoreConfig.defaultQueryMaxNum.
const DEFAULT_QUERY_MAX_NUM: usize = 32;

/// Message queries.
pub(crate) struct QueryProcessor {
    pub c: Arc<Core>,
}

impl Handler for QueryProcessor {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        reply(match req.code {
            rq::QUERY_MESSAGE => self.query(ctx, &req),
            rq::VIEW_MESSAGE_BY_ID => self.view(&req),
            other => Ok(not_supported(other)),
        })
    }
}

impl QueryProcessor {
    fn query(&self, ctx: &ReqCtx, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let topic = req.str_field("topic")?;
        let key = req.str_field("key")?;
        let mut max = req.i32_field("maxNum")?.max(0) as usize;
        let begin = req.i64_field("beginTimestamp")?;
        let end = req.i64_field("endTimestamp")?;
        if req.field(UNIQUE_MSG_QUERY_FLAG) == Some("true") {
            max = DEFAULT_QUERY_MAX_NUM;
        }
        let r = self.c.store.query_by_key(topic, key, max, begin, end);
        log::debug!(
            "query message peer={} topic={topic} key={key} max={max} found={}",
            ctx.peer(),
            r.messages.len()
        );
        let mut resp = if r.messages.is_empty() {
            RemotingCommand::error(
                rs::QUERY_NOT_FOUND,
                "can not find message, maybe time range not correct",
            )
        } else {
            RemotingCommand::success().with_body(r.messages.concat())
        };
        resp.put("indexLastUpdateTimestamp", r.index_last_update_timestamp);
        resp.put("indexLastUpdatePhyoffset", r.index_last_update_phy_offset);
        Ok(resp)
    }

    fn view(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let off = req.i64_field("offset")?;
        Ok(match self.c.store.look_message_by_offset(off) {
            Some(raw) => RemotingCommand::success().with_body(raw),
            None => RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("can not find message by the offset, {off}"),
            ),
        })
    }
}
