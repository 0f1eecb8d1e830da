//! The `broker-txn-check` service (TransactionalMessageCheckService): every
//! `transactionCheckInterval`, walk the half queue from its progress offset and ask the
//! producer group about halves old enough without an op record (see `broker::txn`).

use crate::broker::core::Core;
use crate::broker::processor::send::random_u32;
use crate::broker::txn::{
    calculate_op_offset, immunity_ms, prop, CHECK_MAX_TOPIC, HALF_TOPIC, OP_TOPIC,
    PROPERTY_CHECK_TIMES, PROPERTY_PRODUCER_GROUP, REAL_QID, REAL_TOPIC, TRANS_GROUP,
};
use crate::common::service::{Service, ServiceCtx};
use crate::common::time::now_millis;
use crate::protocol::body::perm;
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;
use crate::protocol::record::{
    decode_record, encode_properties, encode_record, offset_msg_id, parse_properties, MessageRecord,
};
use crate::store::{GetStatus, PutMessage, PutStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Entries read per step while scanning the half and op queues.
const SCAN_BATCH: i32 = 32;
/// Op records read per check round at most (the rest wait for the next round).
const MAX_OPS_PER_ROUND: usize = 100_000;

/// Start the service.
pub(crate) fn spawn(core: &Arc<Core>) -> std::io::Result<Service> {
    let c = core.clone();
    Service::spawn("broker-txn-check", move |ctx| {
        while ctx.wait(Duration::from_millis(c.cfg().transaction_check_interval.max(10))) {
            check_round(&c, Some(&ctx));
        }
    })
}

/// The progress offset of the system group on `topic` queue 0 (fetchConsumeOffset: the
/// queue's min offset when never committed).
fn trans_offset(c: &Core, topic: &str) -> i64 {
    c.offsets
        .query(TRANS_GROUP, topic, 0)
        .filter(|o| *o >= 0)
        .unwrap_or_else(|| c.store.min_offset_in_queue(topic, 0))
}

/// Read up to [`SCAN_BATCH`] records of `topic` queue 0 from `offset`, moving past holes.
fn read_queue(c: &Core, topic: &str, mut offset: i64) -> Vec<MessageRecord> {
    for _ in 0..3 {
        let got = c.store.get_messages(topic, 0, offset, SCAN_BATCH, 1024 * 1024, &|_| true);
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
pub(crate) fn check_round(c: &Core, ctx: Option<&ServiceCtx>) {
    let cfg = c.cfg();
    let timeout = cfg.transaction_time_out as i64;
    let check_max = cfg.transaction_check_max;
    let reserved_ms = cfg
        .file_reserved_time_millis
        .map(|ms| ms as i64)
        .unwrap_or((cfg.file_reserved_time as i64).saturating_mul(3_600_000));
    let start = now_millis();
    if c.store.max_offset_in_queue(HALF_TOPIC, 0) <= 0 {
        return;
    }
    let half_start = trans_offset(c, HALF_TOPIC);
    let op_start = trans_offset(c, OP_TOPIC);
    // Op records: half offset → op offset for halves not yet passed; the rest are done.
    let mut removed: BTreeMap<i64, i64> = BTreeMap::new();
    let mut done_ops: BTreeSet<i64> = BTreeSet::new();
    let mut op_off = op_start;
    let mut seen = 0;
    while seen < MAX_OPS_PER_ROUND {
        let ops = read_queue(c, OP_TOPIC, op_off);
        if ops.is_empty() {
            break;
        }
        for op in ops {
            seen += 1;
            op_off = op.queue_offset + 1;
            match std::str::from_utf8(&op.body).ok().and_then(|s| s.trim().parse::<i64>().ok()) {
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
        let batch = read_queue(c, HALF_TOPIC, half);
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
                discard_half(c, &rec);
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
            match put_back_half(c, &rec, &props) {
                Some(copy) => send_check(c, copy, &props),
                None => break 'scan,
            }
            half = i + 1;
        }
    }
    if half != half_start {
        c.offsets.commit(TRANS_GROUP, HALF_TOPIC, 0, half);
    }
    let op_next = calculate_op_offset(&done_ops, op_start);
    if op_next != op_start {
        c.offsets.commit(TRANS_GROUP, OP_TOPIC, 0, op_next);
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
    c: &Core,
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
        body: rec.body.clone().into(),
        properties: properties.clone(),
    };
    let r = c.store.put_message(m, false);
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
fn discard_half(c: &Core, rec: &MessageRecord) {
    log::warn!(
        "transaction half checked too often, discarded offset={} props={}",
        rec.queue_offset,
        rec.properties
    );
    c.ensure_topic_perm(CHECK_MAX_TOPIC, 1, perm::READ | perm::WRITE);
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
        body: rec.body.clone().into(),
        properties: rec.properties.clone(),
    };
    let r = c.store.put_message(m, false);
    if !matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout) {
        log::error!("discarded half not kept status={:?}", r.status);
    }
}

/// Ask one connection of the half's producer group about it (sendCheckMessage): one-way
/// CHECK_TRANSACTION_STATE with the message, topic and queue set back to the real ones.
fn send_check(c: &Core, copy: MessageRecord, props: &[(String, String)]) {
    let Some(group) = prop(props, PROPERTY_PRODUCER_GROUP).map(str::to_string) else {
        log::warn!("half message without PGROUP offset={}", copy.queue_offset);
        return;
    };
    let channels = c.clients.producer_group(&group).unwrap_or_default();
    if channels.is_empty() {
        log::info!("no producer of group {} online to check offset={}", group, copy.queue_offset);
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
