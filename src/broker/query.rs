//! QUERY_MESSAGE (12): messages by key or unique key within a time range, from the store's index
//! (Apache's broker/processor/QueryMessageProcessor.java).
//!
//! Request fields: `topic`, `key`, `maxNum`, `beginTimestamp`, `endTimestamp`; the ext field
//! `_UNIQUE_KEY_QUERY=true` (MixAll.UNIQUE_MSG_QUERY_FLAG, sent by the admin's
//! queryMessageByUniqKey) replaces maxNum with defaultQueryMaxNum (32). Response: SUCCESS with the
//! matching stored records concatenated as the body, or QUERY_NOT_FOUND (22); both carry
//! `indexLastUpdateTimestamp` and `indexLastUpdatePhyoffset`.

use super::Broker;
use crate::protocol::codes::response as rs;
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::ReqCtx;

/// Ext field marking a query by unique key (MixAll.UNIQUE_MSG_QUERY_FLAG).
pub(crate) const UNIQUE_MSG_QUERY_FLAG: &str = "_UNIQUE_KEY_QUERY";
/// MessageStoreConfig.defaultQueryMaxNum.
const DEFAULT_QUERY_MAX_NUM: usize = 32;

impl Broker {
    /// Handle QUERY_MESSAGE.
    pub(crate) fn handle_query(
        &self,
        ctx: &ReqCtx,
        req: RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        let topic = req.str_field("topic")?;
        let key = req.str_field("key")?;
        let mut max = req.i32_field("maxNum")?.max(0) as usize;
        let begin = req.i64_field("beginTimestamp")?;
        let end = req.i64_field("endTimestamp")?;
        if req.field(UNIQUE_MSG_QUERY_FLAG) == Some("true") {
            max = DEFAULT_QUERY_MAX_NUM;
        }
        let r = self.store.query_by_key(topic, key, max, begin, end);
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
}
