//! The `broker-schedule` service (ScheduleMessageService): delivers delayed messages whose
//! time has come from `SCHEDULE_TOPIC_XXXX` to their real topic (see `broker::delay`).

use crate::broker::core::Core;
use crate::broker::delay::{PROPERTY_REAL_QID, PROPERTY_REAL_TOPIC};
use crate::broker::topics::SCHEDULE_TOPIC;
use crate::common::service::ServiceCtx;
use crate::common::time::now_millis;
use crate::protocol::record::{decode_record, encode_properties, parse_properties};
use crate::store::{GetStatus, PutMessage, PutStatus};
use std::time::Duration;

/// Entries read per scan step of one level.
const SCAN_BATCH: i32 = 32;
/// Longest sleep between scans when nothing is due sooner (arrivals wake the service early).
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// Pause before retrying a level whose re-put failed.
const RETRY_AFTER_FAILURE_MS: i64 = 1000;

/// What a scan of one level found.
struct LevelScan {
    /// The level's offset moved.
    moved: bool,
    /// When the next message of this level is due (ms), if one is waiting.
    next_due: Option<i64>,
}

/// Body of the `broker-schedule` service.
pub(crate) fn run(c: &Core, ctx: ServiceCtx) {
    loop {
        // A slave delivers nothing: its store takes no puts, its master delivers and the
        // slave syncs the delay offsets (Apache starts ScheduleMessageService on masters only).
        if !c.cfg().broker_role.is_master() {
            if !ctx.wait(IDLE_WAIT) {
                return;
            }
            continue;
        }
        let now = now_millis();
        let mut moved = false;
        let mut next_due: Option<i64> = None;
        let levels = c.cfg().message_delay_level.clone();
        for (i, delay) in levels.iter().enumerate() {
            let scan = deliver_level(c, i as i32 + 1, *delay as i64, now);
            moved |= scan.moved;
            if let Some(d) = scan.next_due {
                next_due = Some(next_due.map_or(d, |n| n.min(d)));
            }
        }
        if moved {
            c.delay_offsets.persist();
        }
        let wait = match next_due {
            Some(d) => Duration::from_millis((d - now_millis()).max(1) as u64).min(IDLE_WAIT),
            None => IDLE_WAIT,
        };
        if !ctx.wait(wait) {
            break;
        }
    }
    c.delay_offsets.persist();
}

/// Deliver every due message of one level, in queue order.
fn deliver_level(c: &Core, level: i32, delay_ms: i64, now: i64) -> LevelScan {
    let queue = level - 1;
    let mut off = c.delay_offsets.get(level);
    let start = off;
    let mut next_due = None;
    'scan: loop {
        let got =
            c.store.get_messages(SCHEDULE_TOPIC, queue, off, SCAN_BATCH, 1024 * 1024, &|_| true);
        match got.status {
            GetStatus::Found => {}
            GetStatus::NoMatchedMessage
            | GetStatus::OffsetTooSmall
            | GetStatus::OffsetOverflowBadly
            | GetStatus::OffsetFoundNull
                if got.next_begin_offset != off =>
            {
                if got.status != GetStatus::NoMatchedMessage {
                    log::warn!(
                        "delay offset corrected level={} from={} to={} status={}",
                        level,
                        off,
                        got.next_begin_offset,
                        got.status.name()
                    );
                }
                off = got.next_begin_offset;
                continue;
            }
            _ => break,
        }
        for raw in &got.messages {
            let rec = match decode_record(raw, false) {
                Ok((r, _)) => r,
                Err(e) => {
                    log::error!("unreadable scheduled message level={} err={}", level, e);
                    continue;
                }
            };
            let due = rec.store_timestamp.saturating_add(delay_ms);
            if due > now {
                off = rec.queue_offset;
                next_due = Some(due);
                break 'scan;
            }
            let queue_offset = rec.queue_offset;
            if !deliver_one(c, rec) {
                off = queue_offset;
                next_due = Some(now + RETRY_AFTER_FAILURE_MS);
                break 'scan;
            }
            off = queue_offset + 1;
        }
        off = off.max(got.next_begin_offset);
    }
    if off != start {
        c.delay_offsets.set(level, off);
    }
    LevelScan { moved: off != start, next_due }
}

/// Re-put a due message to its real topic and queue. False when the store refused it (the
/// level is retried later); a message without a real topic is logged and skipped.
fn deliver_one(c: &Core, rec: crate::protocol::record::MessageRecord) -> bool {
    let props = parse_properties(&rec.properties);
    let real_topic = props.iter().find(|(k, _)| k == PROPERTY_REAL_TOPIC).map(|p| p.1.clone());
    let real_qid = props
        .iter()
        .find(|(k, _)| k == PROPERTY_REAL_QID)
        .and_then(|p| p.1.trim().parse::<i32>().ok());
    let (Some(topic), Some(queue_id)) = (real_topic, real_qid) else {
        log::error!(
            "scheduled message without REAL_TOPIC/REAL_QID dropped offset={}",
            rec.physical_offset
        );
        return true;
    };
    // Apache computes the stored property string before it clears DELAY from the map
    // (ScheduleMessageService.messageTimeup), so the delivered copy still carries DELAY,
    // REAL_TOPIC and REAL_QID; it is not delayed again because this put skips the rewrite.
    let m = PutMessage {
        topic: topic.clone(),
        queue_id,
        flag: rec.flag,
        sys_flag: rec.sys_flag,
        born_timestamp: rec.born_timestamp,
        born_host: rec.born_host,
        store_host: rec.store_host,
        reconsume_times: rec.reconsume_times,
        prepared_transaction_offset: rec.prepared_transaction_offset,
        body: rec.body.into(),
        properties: encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    };
    let r = c.store.put_message(m, false);
    match r.status {
        PutStatus::PutOk | PutStatus::FlushDiskTimeout => {
            log::debug!("delayed message delivered topic={} queue={}", topic, queue_id);
            true
        }
        other => {
            log::warn!("delayed message re-put failed topic={} status={:?}", topic, other);
            false
        }
    }
}
