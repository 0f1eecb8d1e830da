//! Transactional messages (Apache 4.x broker/transaction/: TransactionalMessageServiceImpl,
//! TransactionalMessageBridge, TransactionalMessageCheckService, and
//! processor/EndTransactionProcessor).
//!
//! - A send whose properties say `TRAN_MSG=true` is a *half* message: it is stored in
//!   `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 with its destination kept in `REAL_TOPIC` / `REAL_QID` and
//!   its transaction bits cleared, so consumers of the real topic never see it.
//! - END_TRANSACTION (37) looks the half up by commit-log offset and checks producer group, queue
//!   offset and commit-log offset. A commit re-puts it to the real topic with sysflag
//!   TRANSACTION_COMMIT_TYPE, then writes an op record; a rollback only writes the op record. The
//!   op record goes to `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0, tag `d`, body = the half's queue
//!   offset in decimal.
//! - The `broker-txn-check` service wakes every `transactionCheckInterval` and walks the half
//!   queue from its progress offset. A half with an op record is done. A half older than
//!   `transactionTimeOut` (or its `CHECK_IMMUNITY_TIME_IN_SECONDS`) without one is appended again
//!   to the half queue with `TRANSACTION_CHECK_TIMES` + 1 and the producer group is asked with a
//!   one-way CHECK_TRANSACTION_STATE (39) about the new copy; the producer answers with
//!   END_TRANSACTION (`fromTransactionCheck=true`). A half checked `transactionCheckMax` times is
//!   moved to `TRANS_CHECK_MAX_TIME_TOPIC` and dropped, as is one older than the retention
//!   (`fileReservedTime`).
//! - The half and op progress offsets are consumer offsets of the system group
//!   `CID_RMQ_SYS_TRANS` (Apache's MixAll.CID_SYS_RMQ_TRANS), persisted with the other consumer
//!   offsets, so a restart neither loses a pending transaction nor checks a finished one again.

use super::send::random_u32;
use super::Broker;
use crate::common::service::{Service, ServiceCtx};
use crate::common::time::now_millis;
use crate::protocol::body::perm;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::protocol::record::{
    decode_record, encode_properties, encode_record, offset_msg_id, parse_properties, sysflag,
    MessageRecord,
};
use crate::remoting::{Reply, ReqCtx};
use crate::store::{GetStatus, PutMessage, PutResult, PutStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Topic of half messages.
pub const HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
/// Topic of op (done) records.
pub const OP_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
/// Where halves checked `transactionCheckMax` times go.
pub const CHECK_MAX_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
/// System group whose consumer offsets hold the half and op progress: the value of Apache's
/// `MixAll.CID_SYS_RMQ_TRANS`, which is spelled `CID_RMQ_SYS_TRANS`.
pub const TRANS_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// Tag of op records (TransactionalMessageUtil.REMOVETAG).
const REMOVE_TAG: &str = "d";
/// `TRAN_MSG`: set by producers on half messages.
pub const PROPERTY_TRANSACTION_PREPARED: &str = "TRAN_MSG";
/// `PGROUP`: the producer group of a half message.
pub const PROPERTY_PRODUCER_GROUP: &str = "PGROUP";
/// How often a half was checked.
const PROPERTY_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
/// Per-message first-check delay in seconds.
const PROPERTY_CHECK_IMMUNITY: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
const REAL_TOPIC: &str = super::schedule::PROPERTY_REAL_TOPIC;
const REAL_QID: &str = super::schedule::PROPERTY_REAL_QID;
/// Entries read per step while scanning the half and op queues.
const SCAN_BATCH: i32 = 32;
/// Op records read per check round at most (the rest wait for the next round).
const MAX_OPS_PER_ROUND: usize = 100_000;
/// ResponseCode.ILLEGAL_OPERATION.
const ILLEGAL_OPERATION: i32 = 604;

/// True when send properties mark a half message (`TRAN_MSG` parses as true, as Java's
/// Boolean.parseBoolean).
pub fn is_prepared(props: &[(String, String)]) -> bool {
    props
        .iter()
        .rev()
        .find(|(k, _)| k == PROPERTY_TRANSACTION_PREPARED)
        .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true"))
}

fn prop<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The op offset the check may move to: past every consecutive op record from `old` that is
/// done (TransactionalMessageServiceImpl.calculateOpOffset).
pub fn calculate_op_offset(done: &BTreeSet<i64>, old: i64) -> i64 {
    let mut next = old;
    while done.contains(&next) {
        next += 1;
    }
    next
}

/// The first-check delay of a half: `CHECK_IMMUNITY_TIME_IN_SECONDS` × 1000 when set and larger
/// than `timeout`, else `timeout` (TransactionalMessageUtil.getImmunityTime).
fn immunity_ms(props: &[(String, String)], timeout: i64) -> i64 {
    match prop(props, PROPERTY_CHECK_IMMUNITY).and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(s) if s.saturating_mul(1000) > timeout => s.saturating_mul(1000),
        _ => timeout,
    }
}

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

impl Broker {
    /// Store a half message: `m` as the client sent it (real topic and queue), `props` its
    /// properties (TransactionalMessageBridge.parseHalfMessageInner).
    pub(crate) fn put_half(
        &self,
        mut m: PutMessage,
        mut props: Vec<(String, String)>,
    ) -> PutResult {
        props.retain(|(k, _)| k != REAL_TOPIC && k != REAL_QID);
        props.push((REAL_TOPIC.into(), m.topic.clone()));
        props.push((REAL_QID.into(), m.queue_id.to_string()));
        m.sys_flag = (m.sys_flag & !sysflag::TRANSACTION_MASK) | sysflag::TRANSACTION_NOT;
        m.topic = HALF_TOPIC.to_string();
        m.queue_id = 0;
        m.properties = encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.ensure_topic_perm(HALF_TOPIC, 1, perm::READ | perm::WRITE);
        self.store.put_message(m, false)
    }

    /// END_TRANSACTION (EndTransactionProcessor). Clients send it one-way; the answer only goes
    /// out for two-way requests.
    pub(crate) fn handle_end_transaction(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        let h = match parse_end_header(&req) {
            Ok(h) => h,
            Err(e) => {
                return Reply::Respond(RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string()))
            }
        };
        if self.cfg.broker_role == "SLAVE" {
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
        let resp = match self.end_transaction(&h) {
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

    fn end_transaction(&self, h: &EndHeader) -> Result<(), (i32, String)> {
        let half = self
            .store
            .look_message_by_offset(h.commit_log_offset)
            .and_then(|raw| decode_record(&raw, false).ok().map(|(r, _)| r))
            .filter(|r| r.topic == HALF_TOPIC)
            .ok_or((rs::SYSTEM_ERROR, "Find prepared transaction message failed".to_string()))?;
        let props = parse_properties(&half.properties);
        // EndTransactionProcessor.rejectCommitOrRollback: with a custom immunity time, a
        // producer's own late answer is refused and the check decides.
        if !h.from_transaction_check && prop(&props, PROPERTY_CHECK_IMMUNITY).is_some() {
            let timeout = self.cfg.transaction_time_out as i64;
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
            self.put_committed(&half, props)?;
        }
        self.put_op(half.queue_offset);
        Ok(())
    }

    /// Re-put a committed half to its real topic and queue (endMessageTransaction +
    /// sendFinalMessage).
    fn put_committed(
        &self,
        half: &MessageRecord,
        mut props: Vec<(String, String)>,
    ) -> Result<(), (i32, String)> {
        let topic = prop(&props, REAL_TOPIC).map(str::to_string);
        let qid = prop(&props, REAL_QID).and_then(|q| q.trim().parse::<i32>().ok());
        let (Some(topic), Some(queue_id)) = (topic, qid) else {
            return Err((rs::SYSTEM_ERROR, "the half message has no REAL_TOPIC/REAL_QID".into()));
        };
        props.retain(|(k, _)| {
            k != REAL_TOPIC && k != REAL_QID && k != PROPERTY_TRANSACTION_PREPARED
        });
        let levels = self.cfg.message_delay_level.len();
        let sys_flag = (half.sys_flag & !sysflag::TRANSACTION_MASK) | sysflag::TRANSACTION_COMMIT;
        let (store_topic, store_queue) =
            super::schedule::apply_delay(levels, &topic, queue_id, sys_flag, &mut props)
                .unwrap_or_else(|| (topic.clone(), queue_id));
        let m = PutMessage {
            topic: store_topic,
            queue_id: store_queue,
            flag: half.flag,
            sys_flag,
            born_timestamp: half.born_timestamp,
            born_host: half.born_host,
            store_host: half.store_host,
            reconsume_times: half.reconsume_times,
            prepared_transaction_offset: half.physical_offset,
            body: half.body.clone(),
            properties: encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        };
        let r = self.store.put_message(m, false);
        match r.status {
            PutStatus::PutOk | PutStatus::FlushDiskTimeout => {
                log::debug!("transaction committed topic={} queue={}", topic, queue_id);
                Ok(())
            }
            PutStatus::MessageIllegal | PutStatus::PropertiesSizeExceeded => {
                Err((rs::MESSAGE_ILLEGAL, "The message is illegal".into()))
            }
            PutStatus::ServiceNotAvailable => {
                Err((rs::SERVICE_NOT_AVAILABLE, "Service not available now.".into()))
            }
            other => Err((rs::SYSTEM_ERROR, format!("commit re-put failed: {other:?}"))),
        }
    }

    /// Write the op record marking half queue offset `half_offset` done.
    fn put_op(&self, half_offset: i64) -> bool {
        self.ensure_topic_perm(OP_TOPIC, 1, perm::READ | perm::WRITE);
        let props = [("TAGS", REMOVE_TAG), ("WAIT", "false")];
        let m = PutMessage {
            topic: OP_TOPIC.to_string(),
            queue_id: 0,
            flag: 0,
            sys_flag: 0,
            born_timestamp: now_millis(),
            born_host: self.store_host,
            store_host: self.store_host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: half_offset.to_string().into_bytes(),
            properties: encode_properties(props),
        };
        let r = self.store.put_message(m, false);
        let ok = matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout);
        if !ok {
            log::error!(
                "transaction op record not stored half={} status={:?}",
                half_offset,
                r.status
            );
        }
        ok
    }

    /// The progress offset of the system group on `topic` queue 0 (fetchConsumeOffset: the
    /// queue's min offset when never committed).
    fn trans_offset(&self, topic: &str) -> i64 {
        self.offsets
            .query(TRANS_GROUP, topic, 0)
            .filter(|o| *o >= 0)
            .unwrap_or_else(|| self.store.min_offset_in_queue(topic, 0))
    }

    /// Read up to [`SCAN_BATCH`] records of `topic` queue 0 from `offset`, moving past holes.
    fn read_queue(&self, topic: &str, mut offset: i64) -> Vec<MessageRecord> {
        for _ in 0..3 {
            let got = self.store.get_messages(topic, 0, offset, SCAN_BATCH, 1024 * 1024, &|_| true);
            match got.status {
                GetStatus::Found => {
                    return got
                        .messages
                        .iter()
                        .filter_map(|raw| match decode_record(raw, false) {
                            Ok((r, _)) => Some(r),
                            Err(e) => {
                                log::error!("unreadable record topic={} err={}", topic, e);
                                None
                            }
                        })
                        .collect();
                }
                GetStatus::NoMatchedMessage
                | GetStatus::OffsetTooSmall
                | GetStatus::OffsetFoundNull
                    if got.next_begin_offset > offset =>
                {
                    offset = got.next_begin_offset
                }
                _ => break,
            }
        }
        Vec::new()
    }

    /// One check round (TransactionalMessageServiceImpl.check) over half queue 0.
    pub(crate) fn transaction_check_round(&self, ctx: Option<&ServiceCtx>) {
        let timeout = self.cfg.transaction_time_out as i64;
        let check_max = self.cfg.transaction_check_max;
        let reserved_ms = self
            .cfg
            .file_reserved_time_millis
            .map(|ms| ms as i64)
            .unwrap_or((self.cfg.file_reserved_time as i64).saturating_mul(3_600_000));
        let start = now_millis();
        if self.store.max_offset_in_queue(HALF_TOPIC, 0) <= 0 {
            return;
        }
        let half_start = self.trans_offset(HALF_TOPIC);
        let op_start = self.trans_offset(OP_TOPIC);
        // Op records: half offset → op offset for halves not yet passed; the rest are done.
        let mut removed: BTreeMap<i64, i64> = BTreeMap::new();
        let mut done_ops: BTreeSet<i64> = BTreeSet::new();
        let mut op_off = op_start;
        let mut seen = 0;
        while seen < MAX_OPS_PER_ROUND {
            let ops = self.read_queue(OP_TOPIC, op_off);
            if ops.is_empty() {
                break;
            }
            for op in ops {
                seen += 1;
                op_off = op.queue_offset + 1;
                match std::str::from_utf8(&op.body).ok().and_then(|s| s.trim().parse::<i64>().ok())
                {
                    Some(h) if h < half_start => {
                        done_ops.insert(op.queue_offset);
                    }
                    Some(h) => {
                        removed.insert(h, op.queue_offset);
                    }
                    None => {
                        log::error!("bad transaction op record offset={}", op.queue_offset);
                        done_ops.insert(op.queue_offset);
                    }
                }
            }
        }
        let mut half = half_start;
        'scan: loop {
            if ctx.is_some_and(|c| c.is_stopped()) {
                break;
            }
            let batch = self.read_queue(HALF_TOPIC, half);
            if batch.is_empty() {
                break;
            }
            for rec in batch {
                if rec.queue_offset < half {
                    continue;
                }
                let i = rec.queue_offset;
                if let Some(op) = removed.remove(&i) {
                    done_ops.insert(op);
                    half = i + 1;
                    continue;
                }
                let mut props = parse_properties(&rec.properties);
                let times = prop(&props, PROPERTY_CHECK_TIMES)
                    .and_then(|v| v.trim().parse::<i32>().ok())
                    .unwrap_or(0);
                // needDiscard || needSkip: checked too often, or older than the retention.
                if times >= check_max || start - rec.born_timestamp > reserved_ms {
                    self.discard_half(&rec);
                    half = i + 1;
                    continue;
                }
                if rec.store_timestamp >= start {
                    break 'scan;
                }
                let age = start - rec.born_timestamp;
                if age >= 0 && age <= immunity_ms(&props, timeout) {
                    break 'scan;
                }
                props.retain(|(k, _)| k != PROPERTY_CHECK_TIMES);
                props.push((PROPERTY_CHECK_TIMES.into(), (times + 1).to_string()));
                match self.put_back_half(&rec, &props) {
                    Some(copy) => self.send_check(copy, &props),
                    None => break 'scan,
                }
                half = i + 1;
            }
        }
        if half != half_start {
            self.offsets.commit(TRANS_GROUP, HALF_TOPIC, 0, half);
        }
        let op_next = calculate_op_offset(&done_ops, op_start);
        if op_next != op_start {
            self.offsets.commit(TRANS_GROUP, OP_TOPIC, 0, op_next);
        }
        log::debug!(
            "transaction check round half={}..{} op={}..{} pending={}",
            half_start,
            half,
            op_start,
            op_next,
            removed.len()
        );
    }

    /// Append a half again (with the incremented check count) so the queue keeps moving while
    /// the producer answers (putBackHalfMsgQueue). Returns the new copy's record.
    fn put_back_half(
        &self,
        rec: &MessageRecord,
        props: &[(String, String)],
    ) -> Option<MessageRecord> {
        let properties = encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let m = PutMessage {
            topic: HALF_TOPIC.to_string(),
            queue_id: 0,
            flag: rec.flag,
            sys_flag: rec.sys_flag,
            born_timestamp: rec.born_timestamp,
            born_host: rec.born_host,
            store_host: rec.store_host,
            reconsume_times: rec.reconsume_times,
            prepared_transaction_offset: rec.prepared_transaction_offset,
            body: rec.body.clone(),
            properties: properties.clone(),
        };
        let r = self.store.put_message(m, false);
        if !matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout) {
            log::error!(
                "half message put back failed offset={} status={:?}",
                rec.queue_offset,
                r.status
            );
            return None;
        }
        Some(MessageRecord {
            queue_offset: r.queue_offset,
            physical_offset: r.phys_offset,
            store_timestamp: r.store_timestamp,
            properties,
            ..rec.clone()
        })
    }

    /// A half checked too often: keep it in TRANS_CHECK_MAX_TIME_TOPIC and forget it
    /// (DefaultTransactionalMessageCheckListener.resolveDiscardMsg).
    fn discard_half(&self, rec: &MessageRecord) {
        log::warn!(
            "transaction half checked too often, discarded offset={} props={}",
            rec.queue_offset,
            rec.properties
        );
        self.ensure_topic_perm(CHECK_MAX_TOPIC, 1, perm::READ | perm::WRITE);
        let m = PutMessage {
            topic: CHECK_MAX_TOPIC.to_string(),
            queue_id: 0,
            flag: rec.flag,
            sys_flag: rec.sys_flag,
            born_timestamp: rec.born_timestamp,
            born_host: rec.born_host,
            store_host: rec.store_host,
            reconsume_times: rec.reconsume_times,
            prepared_transaction_offset: 0,
            body: rec.body.clone(),
            properties: rec.properties.clone(),
        };
        let r = self.store.put_message(m, false);
        if !matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout) {
            log::error!("discarded half not kept status={:?}", r.status);
        }
    }

    /// Ask one connection of the half's producer group about it (sendCheckMessage): one-way
    /// CHECK_TRANSACTION_STATE with the message, topic and queue set back to the real ones.
    fn send_check(&self, copy: MessageRecord, props: &[(String, String)]) {
        let Some(group) = prop(props, PROPERTY_PRODUCER_GROUP).map(str::to_string) else {
            log::warn!("half message without PGROUP offset={}", copy.queue_offset);
            return;
        };
        let channels = self.clients.producer_group(&group).unwrap_or_default();
        if channels.is_empty() {
            log::info!(
                "no producer of group {} online to check offset={}",
                group,
                copy.queue_offset
            );
            return;
        }
        let ch = &channels[random_u32() as usize % channels.len()];
        let offset_id = offset_msg_id(copy.store_host, copy.physical_offset);
        let uniq = prop(props, "UNIQ_KEY").unwrap_or("").to_string();
        let mut msg = copy.clone();
        msg.topic = prop(props, REAL_TOPIC).unwrap_or(&copy.topic).to_string();
        msg.queue_id =
            prop(props, REAL_QID).and_then(|q| q.trim().parse().ok()).unwrap_or(copy.queue_id);
        let mut body = Vec::new();
        encode_record(&msg, &mut body);
        let req = RemotingCommand::request(rq::CHECK_TRANSACTION_STATE)
            .with("tranStateTableOffset", copy.queue_offset)
            .with("commitLogOffset", copy.physical_offset)
            .with("msgId", &uniq)
            .with("transactionId", &uniq)
            .with("offsetMsgId", &offset_id)
            .with_body(body);
        match ch.conn.oneway(req) {
            Ok(()) => log::debug!(
                "transaction check sent group={} client={} offset={}",
                group,
                ch.client_id,
                copy.queue_offset
            ),
            Err(e) => log::warn!("transaction check not sent group={} err={}", group, e),
        }
    }
}

/// Start the `broker-txn-check` service (TransactionalMessageCheckService).
pub(crate) fn spawn_checker(broker: &Arc<Broker>) -> std::io::Result<Service> {
    let b = broker.clone();
    Service::spawn("broker-txn-check", move |ctx| {
        while ctx.wait(Duration::from_millis(b.cfg.transaction_check_interval.max(10))) {
            b.transaction_check_round(Some(&ctx));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn prepared_flag_and_immunity() {
        assert!(is_prepared(&props(&[("TRAN_MSG", "true")])));
        assert!(is_prepared(&props(&[("TRAN_MSG", "TRUE")])));
        assert!(!is_prepared(&props(&[("TRAN_MSG", "1")])));
        assert!(!is_prepared(&props(&[("TAGS", "a")])));
        assert_eq!(immunity_ms(&props(&[]), 6000), 6000);
        assert_eq!(immunity_ms(&props(&[("CHECK_IMMUNITY_TIME_IN_SECONDS", "10")]), 6000), 10_000);
        assert_eq!(immunity_ms(&props(&[("CHECK_IMMUNITY_TIME_IN_SECONDS", "2")]), 6000), 6000);
        assert_eq!(immunity_ms(&props(&[("CHECK_IMMUNITY_TIME_IN_SECONDS", "x")]), 6000), 6000);
    }

    #[test]
    fn op_offset_moves_over_consecutive_done_records() {
        let done: BTreeSet<i64> = [3, 4, 5, 7].into_iter().collect();
        assert_eq!(calculate_op_offset(&done, 3), 6);
        assert_eq!(calculate_op_offset(&done, 2), 2);
        assert_eq!(calculate_op_offset(&BTreeSet::new(), 9), 9);
    }
}
