//! Broker requests the consumers share: pull, offsets, consumer list, locks, send-back.

use super::error::{Error, ErrorKind, Result};
use super::instance::Instance;
use super::message::{decode_messages, keys, MessageExt};
use super::pull::{PullResult, PullStatus};
use crate::protocol::body::{ConsumerList, MessageQueue};
use crate::protocol::codes::{pull_flag, request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::remoting::RemotingClient;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;

/// Prefix of a group's retry topic.
pub(crate) const RETRY_PREFIX: &str = "%RETRY%";

/// The retry topic of `group`.
pub(crate) fn retry_topic(group: &str) -> String {
    format!("{RETRY_PREFIX}{group}")
}

/// A parsed tag expression (SubscriptionData built by FilterAPI.buildSubscriptionData).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagExpr {
    /// The expression as given (`*` for all).
    pub text: String,
    /// Tags; empty means all.
    pub tags: BTreeSet<String>,
}

impl TagExpr {
    /// Parse `"*"`, `""` or `"A || B"`.
    pub fn parse(expr: &str) -> TagExpr {
        let t = expr.trim();
        if t.is_empty() || t == "*" {
            return TagExpr { text: "*".into(), tags: BTreeSet::new() };
        }
        let tags: BTreeSet<String> =
            t.split("||").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        if tags.is_empty() {
            return TagExpr { text: "*".into(), tags };
        }
        TagExpr { text: t.to_string(), tags }
    }

    /// Client-side re-check (the broker filters by tag hash only).
    pub fn matches(&self, m: &MessageExt) -> bool {
        self.tags.is_empty() || m.tags().is_some_and(|t| self.tags.contains(t))
    }

    /// Heartbeat form.
    pub fn subscription_data(
        &self,
        topic: &str,
        version: i64,
    ) -> crate::protocol::body::SubscriptionData {
        crate::protocol::body::SubscriptionData {
            class_filter_mode: false,
            code_set: self.tags.iter().map(|t| crate::protocol::record::tag_hash(t)).collect(),
            expression_type: "TAG".into(),
            sub_string: self.text.clone(),
            sub_version: version,
            tags_set: self.tags.clone(),
            topic: topic.to_string(),
        }
    }
}

/// One PULL_MESSAGE.
pub(crate) struct PullArgs<'a> {
    pub group: &'a str,
    pub mq: &'a MessageQueue,
    pub expr: &'a TagExpr,
    pub sub_version: i64,
    pub offset: i64,
    pub max_nums: u32,
    pub commit_offset: Option<i64>,
    pub suspend: Option<Duration>,
    pub timeout: Duration,
}

/// Pull from the broker of `a.mq` through `remoting` (a consumer may use its own connections so
/// that shutting down cuts its long polls short).
pub(crate) fn pull(inst: &Instance, remoting: &RemotingClient, a: &PullArgs) -> Result<PullResult> {
    let addr = inst.pull_addr(a.mq).ok_or_else(|| {
        Error::new(ErrorKind::NoRoute, format!("no address for broker '{}'", a.mq.broker_name))
    })?;
    let mut sys_flag = pull_flag::SUBSCRIPTION;
    if a.commit_offset.is_some() {
        sys_flag |= pull_flag::COMMIT_OFFSET;
    }
    if a.suspend.is_some() {
        sys_flag |= pull_flag::SUSPEND;
    }
    let req = RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", a.group)
        .with("topic", &a.mq.topic)
        .with("queueId", a.mq.queue_id)
        .with("queueOffset", a.offset)
        .with("maxMsgNums", a.max_nums)
        .with("sysFlag", sys_flag)
        .with("commitOffset", a.commit_offset.unwrap_or(0))
        .with("suspendTimeoutMillis", a.suspend.map(|d| d.as_millis() as u64).unwrap_or(0))
        .with("subscription", &a.expr.text)
        .with("subVersion", a.sub_version)
        .with("expressionType", "TAG");
    let resp = remoting
        .invoke(&addr, req, a.timeout)
        .map_err(|e| Error::remoting(&e, &format!("pull from {} ({addr})", a.mq.broker_name)))?;
    if let Ok(Some(id)) = resp.opt_i64("suggestWhichBrokerId") {
        inst.set_pull_from(a.mq, id);
    }
    let status = match resp.code {
        rs::SUCCESS => PullStatus::Found,
        rs::PULL_NOT_FOUND => PullStatus::NoNewMsg,
        rs::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
        rs::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        c => {
            return Err(Error::broker(
                c,
                resp.remark.as_deref(),
                format!("pull from {} queue {} failed", a.mq.topic, a.mq.queue_id),
            ))
        }
    };
    let num = |k: &'static str| resp.opt_i64(k).ok().flatten().unwrap_or(0);
    let (next, min, max) = (num("nextBeginOffset"), num("minOffset"), num("maxOffset"));
    let mut messages = Vec::new();
    let mut status = status;
    if status == PullStatus::Found {
        let all = decode_messages(&resp.body, &a.mq.broker_name);
        messages = all.into_iter().filter(|m| a.expr.matches(m)).collect();
        for m in &mut messages {
            m.message.put_property(keys::MIN_OFFSET, &min.to_string());
            m.message.put_property(keys::MAX_OFFSET, &max.to_string());
        }
        if messages.is_empty() {
            status = PullStatus::NoMatchedMsg;
        }
    }
    Ok(PullResult { status, next_begin_offset: next, min_offset: min, max_offset: max, messages })
}

fn offset_request(
    inst: &Instance,
    code: i32,
    mq: &MessageQueue,
    extra: &[(&str, String)],
    what: &str,
) -> Result<RemotingCommand> {
    let addr = inst.read_addr(&mq.broker_name).ok_or_else(|| {
        Error::new(ErrorKind::NoRoute, format!("no address for broker '{}'", mq.broker_name))
    })?;
    let mut req =
        RemotingCommand::request(code).with("topic", &mq.topic).with("queueId", mq.queue_id);
    for (k, v) in extra {
        req.put(k, v);
    }
    inst.invoke_broker(&addr, req, inst.cfg.request_timeout, what)
}

fn offset_of(resp: &RemotingCommand, what: &str) -> Result<i64> {
    if resp.code != rs::SUCCESS {
        return Err(Error::broker(resp.code, resp.remark.as_deref(), what.to_string()));
    }
    resp.i64_field("offset").map_err(|e| Error::new(ErrorKind::Network, format!("{what}: {e}")))
}

/// GET_MAX_OFFSET.
pub(crate) fn max_offset(inst: &Instance, mq: &MessageQueue) -> Result<i64> {
    let r = offset_request(inst, rq::GET_MAX_OFFSET, mq, &[], "get max offset")?;
    offset_of(&r, "get max offset")
}

/// GET_MIN_OFFSET.
pub(crate) fn min_offset(inst: &Instance, mq: &MessageQueue) -> Result<i64> {
    let r = offset_request(inst, rq::GET_MIN_OFFSET, mq, &[], "get min offset")?;
    offset_of(&r, "get min offset")
}

/// SEARCH_OFFSET_BY_TIMESTAMP.
pub(crate) fn search_offset(inst: &Instance, mq: &MessageQueue, ts: i64) -> Result<i64> {
    let r = offset_request(
        inst,
        rq::SEARCH_OFFSET_BY_TIMESTAMP,
        mq,
        &[("timestamp", ts.to_string())],
        "search offset by time",
    )?;
    offset_of(&r, "search offset by time")
}

/// QUERY_CONSUMER_OFFSET: the committed offset, or -1 when the group has none.
pub(crate) fn query_offset(inst: &Instance, group: &str, mq: &MessageQueue) -> Result<i64> {
    let r = offset_request(
        inst,
        rq::QUERY_CONSUMER_OFFSET,
        mq,
        &[("consumerGroup", group.to_string())],
        "query consumer offset",
    )?;
    if r.code == rs::QUERY_NOT_FOUND {
        return Ok(-1);
    }
    offset_of(&r, "query consumer offset")
}

/// UPDATE_CONSUMER_OFFSET.
pub(crate) fn update_offset(
    inst: &Instance,
    group: &str,
    mq: &MessageQueue,
    offset: i64,
) -> Result<()> {
    let r = offset_request(
        inst,
        rq::UPDATE_CONSUMER_OFFSET,
        mq,
        &[("consumerGroup", group.to_string()), ("commitOffset", offset.to_string())],
        "commit consumer offset",
    )?;
    if r.code != rs::SUCCESS {
        return Err(Error::broker(r.code, r.remark.as_deref(), "commit consumer offset"));
    }
    Ok(())
}

/// GET_CONSUMER_LIST_BY_GROUP from a broker of `topic`, sorted.
pub(crate) fn consumer_ids(inst: &Instance, group: &str, topic: &str) -> Result<Vec<String>> {
    let addr = inst.any_addr_of_topic(topic).ok_or_else(|| {
        Error::new(ErrorKind::NoRoute, format!("no broker known for topic '{topic}'"))
    })?;
    let req = RemotingCommand::request(rq::GET_CONSUMER_LIST_BY_GROUP).with("consumerGroup", group);
    let r = inst.invoke_broker(&addr, req, inst.cfg.request_timeout, "get consumer list")?;
    if r.code != rs::SUCCESS {
        return Err(Error::broker(r.code, r.remark.as_deref(), "get consumer list"));
    }
    let list: ConsumerList = crate::protocol::json::from_fastjson(&r.body)
        .map_err(|e| Error::new(ErrorKind::Network, format!("bad consumer list body: {e}")))?;
    let mut ids = list.consumer_id_list;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LockBody<'a> {
    consumer_group: &'a str,
    client_id: &'a str,
    mq_set: &'a [MessageQueue],
}

#[derive(Deserialize)]
struct LockResponse {
    #[serde(default, rename = "lockOKMQSet")]
    lock_ok_mq_set: Vec<MessageQueue>,
}

/// LOCK_BATCH_MQ on one broker: the queues now locked by us.
pub(crate) fn lock_batch(
    inst: &Instance,
    broker: &str,
    group: &str,
    mqs: &[MessageQueue],
) -> Result<Vec<MessageQueue>> {
    let addr = inst.master_addr(broker).ok_or_else(|| {
        Error::new(ErrorKind::NoRoute, format!("no master address for broker '{broker}'"))
    })?;
    let body = serde_json::to_vec(&LockBody {
        consumer_group: group,
        client_id: &inst.client_id,
        mq_set: mqs,
    })
    .map_err(|e| Error::state(format!("cannot encode lock body: {e}")))?;
    let req = RemotingCommand::request(rq::LOCK_BATCH_MQ).with_body(body);
    let r = inst.invoke_broker(&addr, req, inst.cfg.request_timeout, "lock queues")?;
    if r.code != rs::SUCCESS {
        return Err(Error::broker(r.code, r.remark.as_deref(), "lock queues"));
    }
    let lr: LockResponse = crate::protocol::json::from_fastjson(&r.body)
        .map_err(|e| Error::new(ErrorKind::Network, format!("bad lock response body: {e}")))?;
    Ok(lr.lock_ok_mq_set)
}

/// UNLOCK_BATCH_MQ on one broker (best effort).
pub(crate) fn unlock_batch(inst: &Instance, broker: &str, group: &str, mqs: &[MessageQueue]) {
    let Some(addr) = inst.master_addr(broker) else { return };
    let Ok(body) = serde_json::to_vec(&LockBody {
        consumer_group: group,
        client_id: &inst.client_id,
        mq_set: mqs,
    }) else {
        return;
    };
    let req = RemotingCommand::request(rq::UNLOCK_BATCH_MQ).with_body(body);
    if let Err(e) = inst.remoting.invoke(&addr, req, inst.cfg.request_timeout) {
        log::debug!("unlock failed broker={broker} err={e}");
    }
}

/// CONSUMER_SEND_MSG_BACK: ask the broker to redeliver `m` later through the retry topic.
pub(crate) fn send_back(
    inst: &Instance,
    group: &str,
    m: &MessageExt,
    delay_level: i32,
    max_reconsume: i32,
) -> Result<()> {
    let addr = inst
        .master_addr(&m.broker_name)
        .or_else(|| Some(m.store_host.clone()).filter(|s| !s.is_empty()))
        .ok_or_else(|| Error::new(ErrorKind::NoRoute, "no broker address for send-back"))?;
    let req = RemotingCommand::request(rq::CONSUMER_SEND_MSG_BACK)
        .with("offset", m.commit_log_offset)
        .with("group", group)
        .with("delayLevel", delay_level)
        .with("originMsgId", &m.msg_id)
        .with("originTopic", m.topic())
        .with("unitMode", false)
        .with("maxReconsumeTimes", max_reconsume);
    let r = inst.invoke_broker(&addr, req, inst.cfg.request_timeout, "send message back")?;
    if r.code != rs::SUCCESS {
        return Err(Error::broker(r.code, r.remark.as_deref(), "send message back"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_expressions() {
        assert!(TagExpr::parse("*").tags.is_empty());
        assert_eq!(TagExpr::parse(" || ").text, "*");
        let e = TagExpr::parse("A || B ||C");
        assert_eq!(e.tags.len(), 3);
        assert_eq!(e.text, "A || B ||C");
        let sd = e.subscription_data("T", 5);
        assert!(sd.code_set.contains(&65));
    }
}
