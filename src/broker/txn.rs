//! Transactional messages: the parts the send processor, END_TRANSACTION and the check service
//! share (Apache 4.x broker/transaction/: TransactionalMessageServiceImpl,
//! TransactionalMessageBridge).
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

use super::core::Core;
use crate::common::time::now_millis;
use crate::protocol::body::perm;
use crate::protocol::codes::response as rs;
use crate::protocol::record::{encode_properties, sysflag, MessageRecord};
use crate::store::{PutMessage, PutResult, PutStatus};
use std::collections::BTreeSet;

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
pub(crate) const PROPERTY_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
/// Per-message first-check delay in seconds.
pub(crate) const PROPERTY_CHECK_IMMUNITY: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
pub(crate) const REAL_TOPIC: &str = super::delay::PROPERTY_REAL_TOPIC;
pub(crate) const REAL_QID: &str = super::delay::PROPERTY_REAL_QID;

/// True when send properties mark a half message (`TRAN_MSG` parses as true, as Java's
/// Boolean.parseBoolean).
pub fn is_prepared(props: &[(String, String)]) -> bool {
    props
        .iter()
        .rev()
        .find(|(k, _)| k == PROPERTY_TRANSACTION_PREPARED)
        .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true"))
}

pub(crate) fn prop<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
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
pub(crate) fn immunity_ms(props: &[(String, String)], timeout: i64) -> i64 {
    match prop(props, PROPERTY_CHECK_IMMUNITY).and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(s) if s.saturating_mul(1000) > timeout => s.saturating_mul(1000),
        _ => timeout,
    }
}

/// Store a half message: `m` as the client sent it (real topic and queue), `props` its
/// properties (TransactionalMessageBridge.parseHalfMessageInner).
pub(crate) fn put_half(c: &Core, mut m: PutMessage, mut props: Vec<(String, String)>) -> PutResult {
    props.retain(|(k, _)| k != REAL_TOPIC && k != REAL_QID);
    props.push((REAL_TOPIC.into(), m.topic.clone()));
    props.push((REAL_QID.into(), m.queue_id.to_string()));
    m.sys_flag = (m.sys_flag & !sysflag::TRANSACTION_MASK) | sysflag::TRANSACTION_NOT;
    m.topic = HALF_TOPIC.to_string();
    m.queue_id = 0;
    m.properties = encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c.ensure_topic_perm(HALF_TOPIC, 1, perm::READ | perm::WRITE);
    c.store.put_message(m, false)
}

/// Re-put a committed half to its real topic and queue (endMessageTransaction +
/// sendFinalMessage).
pub(crate) fn put_committed(
    c: &Core,
    half: &MessageRecord,
    mut props: Vec<(String, String)>,
) -> Result<(), (i32, String)> {
    let topic = prop(&props, REAL_TOPIC).map(str::to_string);
    let qid = prop(&props, REAL_QID).and_then(|q| q.trim().parse::<i32>().ok());
    let (Some(topic), Some(queue_id)) = (topic, qid) else {
        return Err((rs::SYSTEM_ERROR, "the half message has no REAL_TOPIC/REAL_QID".into()));
    };
    props.retain(|(k, _)| k != REAL_TOPIC && k != REAL_QID && k != PROPERTY_TRANSACTION_PREPARED);
    let levels = c.cfg().message_delay_level.len();
    let sys_flag = (half.sys_flag & !sysflag::TRANSACTION_MASK) | sysflag::TRANSACTION_COMMIT;
    let (store_topic, store_queue) =
        super::delay::apply_delay(levels, &topic, queue_id, sys_flag, &mut props)
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
        body: half.body.clone().into(),
        properties: encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    };
    let r = c.store.put_message(m, false);
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
pub(crate) fn put_op(c: &Core, half_offset: i64) -> bool {
    c.ensure_topic_perm(OP_TOPIC, 1, perm::READ | perm::WRITE);
    let props = [("TAGS", REMOVE_TAG), ("WAIT", "false")];
    let m = PutMessage {
        topic: OP_TOPIC.to_string(),
        queue_id: 0,
        flag: 0,
        sys_flag: 0,
        born_timestamp: now_millis(),
        born_host: c.store_host,
        store_host: c.store_host,
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: half_offset.to_string().into_bytes().into(),
        properties: encode_properties(props),
    };
    let r = c.store.put_message(m, false);
    let ok = matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout);
    if !ok {
        log::error!("transaction op record not stored half={} status={:?}", half_offset, r.status);
    }
    ok
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
