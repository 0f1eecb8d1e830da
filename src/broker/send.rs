//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320) and
//! CONSUMER_SEND_MSG_BACK (36) (SendMessageProcessor). Batch vs single is decided by the
//! `batch`/`m` flag only, and `"1"` reads as true (§2.5, §7.3).

use super::topics::{validate_topic, DLQ_PREFIX, NOT_SENDABLE, RETRY_PREFIX};
use super::Broker;
use crate::protocol::body::{perm, TopicConfig};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::protocol::record::{
    decode_batch_body, decode_record, encode_properties, parse_properties,
};
use crate::remoting::ReqCtx;
use crate::store::{PutMessage, PutResult, PutStatus};
use std::sync::atomic::{AtomicU64, Ordering};

/// V2 one-letter names → V1 names.
const V2_NAMES: [(&str, &str); 14] = [
    ("a", "producerGroup"),
    ("b", "topic"),
    ("c", "defaultTopic"),
    ("d", "defaultTopicQueueNums"),
    ("e", "queueId"),
    ("f", "sysFlag"),
    ("g", "bornTimestamp"),
    ("h", "flag"),
    ("i", "properties"),
    ("j", "reconsumeTimes"),
    ("k", "unitMode"),
    ("l", "maxReconsumeTimes"),
    ("m", "batch"),
    ("n", "bname"),
];

/// Default `retryMaxTimes` of a subscription group.
pub const DEFAULT_MAX_RECONSUME: i32 = 16;

static RNG: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);

/// A cheap pseudo-random number (queue choice only).
pub fn random_u32() -> u32 {
    let mut x = RNG.load(Ordering::Relaxed) ^ (crate::common::time::now_millis() as u64);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    RNG.store(x, Ordering::Relaxed);
    (x >> 16) as u32
}

struct SendHeader {
    topic: String,
    default_topic: String,
    default_queue_nums: i32,
    queue_id: i32,
    sys_flag: i32,
    born_timestamp: i64,
    flag: i32,
    properties: String,
    reconsume_times: i32,
    max_reconsume_times: Option<i32>,
    batch: bool,
}

fn parse_header(req: &mut RemotingCommand) -> Result<SendHeader, FieldError> {
    if req.code != rq::SEND_MESSAGE {
        for (short, long) in V2_NAMES {
            if let Some(v) = req.ext_fields.remove(short) {
                req.ext_fields.insert(long.to_string(), v);
            }
        }
    }
    Ok(SendHeader {
        topic: req.str_field("topic")?.to_string(),
        default_topic: req.field("defaultTopic").unwrap_or(super::topics::TBW102).to_string(),
        default_queue_nums: req.opt_i32("defaultTopicQueueNums")?.unwrap_or(4),
        queue_id: req.opt_i32("queueId")?.unwrap_or(-1),
        sys_flag: req.opt_i32("sysFlag")?.unwrap_or(0),
        born_timestamp: req.opt_i64("bornTimestamp")?.unwrap_or(0),
        flag: req.opt_i32("flag")?.unwrap_or(0),
        properties: req.field("properties").unwrap_or("").to_string(),
        reconsume_times: req.opt_i32("reconsumeTimes")?.unwrap_or(0),
        max_reconsume_times: if req.version >= 121 {
            req.opt_i32("maxReconsumeTimes")?
        } else {
            None
        },
        batch: req.bool_field("batch"),
    })
}

fn status_to_response(r: &PutResult) -> Option<(i32, Option<String>)> {
    Some(match r.status {
        PutStatus::PutOk => (rs::SUCCESS, None),
        PutStatus::FlushDiskTimeout => (rs::FLUSH_DISK_TIMEOUT, None),
        PutStatus::ServiceNotAvailable => (
            rs::SERVICE_NOT_AVAILABLE,
            Some(
                "service not available now, maybe the disk is full or the broker is stopping"
                    .into(),
            ),
        ),
        PutStatus::MessageIllegal => (
            rs::MESSAGE_ILLEGAL,
            Some("the message is illegal, maybe the body is too large".into()),
        ),
        PutStatus::PropertiesSizeExceeded => {
            (rs::MESSAGE_ILLEGAL, Some("the message properties are larger than 32767 bytes".into()))
        }
        PutStatus::CreateMappedFileFailed => {
            (rs::SYSTEM_ERROR, Some("create mapped file failed, server is busy or broken".into()))
        }
        PutStatus::UnknownError => (rs::SYSTEM_ERROR, Some("unknown store error".into())),
    })
}

impl Broker {
    /// Handle a send request.
    pub(crate) fn handle_send(&self, ctx: &ReqCtx, mut req: RemotingCommand) -> RemotingCommand {
        let h = match parse_header(&mut req) {
            Ok(h) => h,
            Err(e) => return RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string()),
        };
        if let Err(why) = validate_topic(&h.topic) {
            return RemotingCommand::error(rs::SYSTEM_ERROR, why);
        }
        if NOT_SENDABLE.contains(&h.topic.as_str()) {
            return RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("Sending message to topic[{}] is forbidden.", h.topic),
            );
        }
        if self.live.broker_permission() & perm::WRITE == 0 || self.cfg.broker_role == "SLAVE" {
            return RemotingCommand::error(
                rs::SERVICE_NOT_AVAILABLE,
                format!("the broker[{}] sending message is forbidden", self.cfg.broker_ip1),
            );
        }
        let Some((tc, created)) =
            self.topics.get_or_create_on_send(&h.topic, &h.default_topic, h.default_queue_nums)
        else {
            return RemotingCommand::error(
                rs::TOPIC_NOT_EXIST,
                format!("topic[{}] not exist, apply first please!", h.topic),
            );
        };
        if created {
            self.wake_registration();
        }
        if tc.perm & perm::WRITE == 0 {
            return RemotingCommand::error(
                rs::NO_PERMISSION,
                format!("the topic[{}] sending message is forbidden", h.topic),
            );
        }
        let mut topic = h.topic.clone();
        let mut queue_id = h.queue_id;
        let max_q = tc.read_queue_nums.max(tc.write_queue_nums);
        if queue_id >= max_q {
            return RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "request queueId[{}] is illegal, topic {} has {} queues",
                    queue_id, topic, max_q
                ),
            );
        }
        if queue_id < 0 {
            queue_id = (random_u32() % tc.write_queue_nums.max(1) as u32) as i32;
        }
        // Retry topic past the maximum: to the dead-letter queue (§2.5 step 4).
        if let Some(group) = topic.strip_prefix(RETRY_PREFIX) {
            let max = h.max_reconsume_times.unwrap_or(DEFAULT_MAX_RECONSUME);
            if h.reconsume_times >= max {
                let dlq = format!("{DLQ_PREFIX}{group}");
                self.ensure_topic(&dlq, 1);
                topic = dlq;
                queue_id = 0;
            }
        }
        let born_host = ctx.peer();
        let mut outer = parse_properties(&h.properties);
        let wait = !outer.iter().any(|(k, v)| k == "WAIT" && v.eq_ignore_ascii_case("false"));
        let cluster = self.cfg.broker_cluster_name.clone();
        let base = PutMessage {
            topic: topic.clone(),
            queue_id,
            flag: h.flag,
            sys_flag: h.sys_flag,
            born_timestamp: h.born_timestamp,
            born_host,
            store_host: self.store_host,
            reconsume_times: h.reconsume_times,
            prepared_transaction_offset: 0,
            body: Vec::new(),
            properties: String::new(),
        };
        let result = if h.batch {
            let items = match decode_batch_body(&req.body) {
                Ok(items) if !items.is_empty() => items,
                Ok(_) => return RemotingCommand::error(rs::MESSAGE_ILLEGAL, "the batch is empty"),
                Err(e) => {
                    return RemotingCommand::error(
                        rs::MESSAGE_ILLEGAL,
                        format!("bad batch body: {e}"),
                    )
                }
            };
            outer.push(("CLUSTER".into(), cluster));
            let msgs = items
                .into_iter()
                .map(|it| {
                    let mut p = parse_properties(&it.properties);
                    for (k, v) in &outer {
                        if !p.iter().any(|(pk, _)| pk == k) {
                            p.push((k.clone(), v.clone()));
                        }
                    }
                    PutMessage {
                        flag: it.flag,
                        body: it.body,
                        properties: encode_properties(
                            p.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        ),
                        ..base.clone()
                    }
                })
                .collect();
            self.store.put_messages(msgs, wait)
        } else {
            // Stored copies of single sends drop WAIT (Apache >= 4.9.1); CLUSTER is the broker's.
            outer.retain(|(k, _)| k != "WAIT" && k != "CLUSTER");
            outer.push(("CLUSTER".into(), cluster));
            let m = PutMessage {
                body: std::mem::take(&mut req.body),
                properties: encode_properties(outer.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                ..base
            };
            self.store.put_message(m, wait)
        };
        self.send_response(&topic, queue_id, &result)
    }

    fn send_response(&self, topic: &str, queue_id: i32, r: &PutResult) -> RemotingCommand {
        let Some((code, remark)) = status_to_response(r) else {
            return RemotingCommand::error(rs::SYSTEM_ERROR, "unknown store status");
        };
        let mut resp = RemotingCommand::response(code, remark);
        if matches!(r.status, PutStatus::PutOk | PutStatus::FlushDiskTimeout) {
            resp.put("msgId", r.msg_ids.join(","));
            resp.put("queueId", queue_id);
            resp.put("queueOffset", r.queue_offset);
            resp.put("MSG_REGION", &self.cfg.region_id);
            resp.put("TRACE_ON", self.cfg.trace_on);
            log::debug!(
                "stored topic={} queue={} offset={} count={}",
                topic,
                queue_id,
                r.queue_offset,
                r.msg_ids.len()
            );
        } else {
            log::warn!("send failed topic={} queue={} status={:?}", topic, queue_id, r.status);
        }
        resp
    }

    /// Make sure a system-created topic exists (retry, DLQ).
    pub(crate) fn ensure_topic(&self, topic: &str, queues: i32) {
        if self.topics.get(topic).is_none()
            && self.topics.upsert(TopicConfig::new(topic, queues, perm::READ | perm::WRITE))
        {
            self.wake_registration();
        }
    }

    /// CONSUMER_SEND_MSG_BACK: re-store a consumed message in `%RETRY%group`, or in
    /// `%DLQ%group` past the maximum. (Delay levels arrive with the broker-services issue;
    /// until then the retry copy is immediately consumable.)
    pub(crate) fn handle_send_back(
        &self,
        ctx: &ReqCtx,
        req: RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        let offset = req.i64_field("offset")?;
        let group = req.str_field("group")?.to_string();
        let delay_level = req.opt_i32("delayLevel")?.unwrap_or(0);
        let max = if req.version >= 121 { req.opt_i32("maxReconsumeTimes")? } else { None }
            .unwrap_or(DEFAULT_MAX_RECONSUME);
        let Some(raw) = self.store.look_message_by_offset(offset) else {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("look message by offset failed, {offset}"),
            ));
        };
        let (rec, _) = match decode_record(&raw, false) {
            Ok(r) => r,
            Err(e) => {
                return Ok(RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("stored message unreadable: {e}"),
                ))
            }
        };
        let mut props = parse_properties(&rec.properties);
        if !props.iter().any(|(k, _)| k == "RETRY_TOPIC") {
            props.push(("RETRY_TOPIC".into(), rec.topic.clone()));
        }
        if !props.iter().any(|(k, _)| k == "ORIGIN_MESSAGE_ID") {
            let id = req.field("originMsgId").map(str::to_string).unwrap_or_else(|| {
                crate::protocol::record::offset_msg_id(rec.store_host, rec.physical_offset)
            });
            props.push(("ORIGIN_MESSAGE_ID".into(), id));
        }
        props.retain(|(k, _)| k != "WAIT");
        props.push(("WAIT".into(), "false".into()));
        let reconsume = rec.reconsume_times + 1;
        let (topic, queue_id) = if rec.reconsume_times >= max || delay_level < 0 {
            let t = format!("{DLQ_PREFIX}{group}");
            self.ensure_topic(&t, 1);
            (t, 0)
        } else {
            let t = format!("{RETRY_PREFIX}{group}");
            self.ensure_topic(&t, 1);
            (t, 0)
        };
        let m = PutMessage {
            topic: topic.clone(),
            queue_id,
            flag: rec.flag,
            sys_flag: rec.sys_flag,
            born_timestamp: rec.born_timestamp,
            born_host: ctx.peer(),
            store_host: self.store_host,
            reconsume_times: reconsume,
            prepared_transaction_offset: 0,
            body: rec.body,
            properties: encode_properties(props.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        };
        let r = self.store.put_message(m, false);
        Ok(match r.status {
            PutStatus::PutOk | PutStatus::FlushDiskTimeout => RemotingCommand::success(),
            other => RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("send back to {topic} failed: {other:?}"),
            ),
        })
    }
}
