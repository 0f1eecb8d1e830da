//! END_TRANSACTION (37) (EndTransactionProcessor): the producer's commit or rollback of a half
//! message, or its answer to a check. Clients send it one-way; the answer only goes out for
//! two-way requests.

use crate::broker::acl;
use crate::broker::core::Core;
use crate::broker::txn::{
    self, immunity_ms, prop, HALF_TOPIC, PROPERTY_CHECK_IMMUNITY, PROPERTY_PRODUCER_GROUP,
    REAL_TOPIC,
};
use crate::common::time::now_millis;
use crate::protocol::access::{Access, Need};
use crate::protocol::codes::response as rs;
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::protocol::record::{decode_record, parse_properties, sysflag};
use crate::remoting::{Handler, Reply, ReqCtx};
use std::sync::Arc;

/// ResponseCode.ILLEGAL_OPERATION.
const ILLEGAL_OPERATION: i32 = 604;

/// The END_TRANSACTION header (EndTransactionRequestHeader).
struct EndHeader {
    producer_group: String,
    tran_state_table_offset: i64,
    commit_log_offset: i64,
    commit_or_rollback: i32,
    from_transaction_check: bool,
    msg_id: String,
}

fn parse_end_header(req: &RemotingCommand) -> Result<EndHeader, FieldError> {
    Ok(EndHeader {
        producer_group: req.str_field("producerGroup")?.to_string(),
        tran_state_table_offset: req.i64_field("tranStateTableOffset")?,
        commit_log_offset: req.i64_field("commitLogOffset")?,
        commit_or_rollback: req.i32_field("commitOrRollback")?,
        from_transaction_check: req.bool_field("fromTransactionCheck"),
        msg_id: req.field("msgId").unwrap_or("").to_string(),
    })
}

/// Ends transactions.
pub(crate) struct EndTransactionProcessor {
    pub c: Arc<Core>,
}

impl Handler for EndTransactionProcessor {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        self.end(ctx, req)
    }
}

impl EndTransactionProcessor {
    /// END_TRANSACTION (EndTransactionProcessor). Clients send it one-way; the answer only goes
    /// out for two-way requests.
    fn end(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        let h = match parse_end_header(&req) {
            Ok(h) => h,
            Err(e) => {
                return Reply::Respond(RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string()))
            }
        };
        if !self.c.cfg().broker_role.is_master() {
            return Reply::Respond(RemotingCommand::error(
                rs::SLAVE_NOT_AVAILABLE,
                "Message store is slave mode, so end transaction is forbidden.",
            ));
        }
        let what = match sysflag::transaction_type(h.commit_or_rollback) {
            sysflag::TRANSACTION_COMMIT if h.commit_or_rollback == sysflag::TRANSACTION_COMMIT => {
                "commit"
            }
            sysflag::TRANSACTION_ROLLBACK
                if h.commit_or_rollback == sysflag::TRANSACTION_ROLLBACK =>
            {
                "rollback"
            }
            _ => {
                // TRANSACTION_NOT_TYPE (unknown) or garbage: nothing to do, no answer.
                log::info!(
                    "end transaction left pending producer={} group={} msgId={} check={} remark={:?}",
                    ctx.peer(),
                    h.producer_group,
                    h.msg_id,
                    h.from_transaction_check,
                    req.remark
                );
                return Reply::Nothing;
            }
        };
        log::debug!(
            "end transaction {} producer={} group={} msgId={} check={}",
            what,
            ctx.peer(),
            h.producer_group,
            h.msg_id,
            h.from_transaction_check
        );
        let resp = match self.end_transaction(&h, ctx, &req) {
            Ok(()) => RemotingCommand::success(),
            Err((code, remark)) => {
                log::warn!(
                    "end transaction {} failed group={} msgId={} offset={} code={} remark={}",
                    what,
                    h.producer_group,
                    h.msg_id,
                    h.commit_log_offset,
                    code,
                    remark
                );
                RemotingCommand::error(code, remark)
            }
        };
        Reply::Respond(resp)
    }

    fn end_transaction(
        &self,
        h: &EndHeader,
        ctx: &ReqCtx,
        req: &RemotingCommand,
    ) -> Result<(), (i32, String)> {
        let half = self
            .c
            .store
            .look_message_by_offset(h.commit_log_offset)
            .and_then(|raw| decode_record(&raw, false).ok().map(|(r, _)| r))
            .filter(|r| r.topic == HALF_TOPIC)
            .ok_or((rs::SYSTEM_ERROR, "Find prepared transaction message failed".to_string()))?;
        let props = parse_properties(&half.properties);
        // ACL: ending a transaction publishes to its real topic, which a 4.x client's header
        // does not name (Apache checks nothing here).
        if let Some(topic) = prop(&props, REAL_TOPIC) {
            let needs = [Access::new(topic, Need::Pub)];
            acl::check_resources(&self.c, ctx.peer().ip(), req, &needs)
                .map_err(|r| (r.code, r.remark))?;
        }
        // EndTransactionProcessor.rejectCommitOrRollback: with a custom immunity time, a
        // producer's own late answer is refused and the check decides.
        if !h.from_transaction_check && prop(&props, PROPERTY_CHECK_IMMUNITY).is_some() {
            let timeout = self.c.cfg().transaction_time_out as i64;
            if now_millis() - half.born_timestamp > immunity_ms(&props, timeout) {
                return Err((
                    ILLEGAL_OPERATION,
                    "the transaction immunity time passed; waiting for the check".into(),
                ));
            }
        }
        if prop(&props, PROPERTY_PRODUCER_GROUP) != Some(h.producer_group.as_str()) {
            return Err((rs::SYSTEM_ERROR, "The producer group wrong".into()));
        }
        if half.queue_offset != h.tran_state_table_offset {
            return Err((rs::SYSTEM_ERROR, "The transaction state table offset wrong".into()));
        }
        if half.physical_offset != h.commit_log_offset {
            return Err((rs::SYSTEM_ERROR, "The commit log offset wrong".into()));
        }
        if h.commit_or_rollback == sysflag::TRANSACTION_COMMIT {
            txn::put_committed(&self.c, &half, props)?;
        }
        txn::put_op(&self.c, half.queue_offset);
        Ok(())
    }
}
