//! Protocol-level helpers for the operator tests (admin, shutdown, multi): create topics, send,
//! pull, heartbeat, ask name servers, all through rmq's remoting client.

use rmq::protocol::body::{ClusterInfo, TopicRouteData};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::decode_record;
use rmq::remoting::{RemotingClient, RemotingError};
use std::time::Duration;

pub const T: Duration = Duration::from_secs(5);

pub fn create_topic(c: &RemotingClient, addr: &str, topic: &str, queues: i32) {
    let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
        .with("topic", topic)
        .with("defaultTopic", "TBW102")
        .with("readQueueNums", queues)
        .with("writeQueueNums", queues)
        .with("perm", 6)
        .with("topicFilterType", "SINGLE_TAG");
    let r = c.invoke(addr, req, T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "create topic {topic} on {addr}: {:?}", r.remark);
}

/// SEND_MESSAGE_V2; returns the raw response (or the transport error).
pub fn send_raw(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    body: &str,
    timeout: Duration,
) -> Result<RemotingCommand, RemotingError> {
    let req = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_ops")
        .with("b", topic)
        .with("c", "TBW102")
        .with("d", 4)
        .with("e", queue)
        .with("f", 0)
        .with("g", 0)
        .with("h", 0)
        .with("i", "WAIT\u{1}true\u{2}TAGS\u{1}tagA\u{2}")
        .with_body(body.as_bytes().to_vec());
    c.invoke(addr, req, timeout)
}

/// Send and expect SEND_OK; returns (queue id, queue offset, msg id).
pub fn send_ok(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    body: &str,
) -> (i32, i64, String) {
    let r = send_raw(c, addr, topic, queue, body, T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "send to {addr}: {:?}", r.remark);
    (
        r.i32_field("queueId").unwrap(),
        r.i64_field("queueOffset").unwrap(),
        r.field("msgId").unwrap().to_string(),
    )
}

/// Messages as (queue offset, body) and the next offset to pull from.
pub type Pulled = (Vec<(i64, String)>, i64);

/// One PULL_MESSAGE (no suspend): (messages as (offset, body), next offset), or None when the
/// queue has nothing at `offset`. Errors on transport failure.
pub fn pull(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    topic: &str,
    queue: i32,
    offset: i64,
    max: i32,
) -> Result<Option<Pulled>, RemotingError> {
    let req = RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", group)
        .with("topic", topic)
        .with("queueId", queue)
        .with("queueOffset", offset)
        .with("maxMsgNums", max)
        .with("sysFlag", pull_flag::SUBSCRIPTION)
        .with("commitOffset", 0)
        .with("suspendTimeoutMillis", 0)
        .with("subscription", "*")
        .with("subVersion", 0);
    let r = c.invoke(addr, req, T)?;
    if r.code != rs::SUCCESS {
        return Ok(None);
    }
    let mut out = Vec::new();
    let mut body = &r.body[..];
    while !body.is_empty() {
        let (rec, n) = decode_record(body, true).expect("the broker served a damaged record");
        out.push((rec.queue_offset, String::from_utf8(rec.body).unwrap()));
        body = &body[n..];
    }
    Ok(Some((out, r.i64_field("nextBeginOffset").unwrap())))
}

/// Every message of a queue, in order.
pub fn read_queue(c: &RemotingClient, addr: &str, topic: &str, queue: i32) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    while let Some((msgs, next)) = pull(c, addr, "CG_reader", topic, queue, offset, 32).unwrap() {
        out.extend(msgs);
        offset = next;
    }
    out
}

pub fn commit_offset(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    topic: &str,
    queue: i32,
    offset: i64,
) {
    let req = RemotingCommand::request(rq::UPDATE_CONSUMER_OFFSET)
        .with("consumerGroup", group)
        .with("topic", topic)
        .with("queueId", queue)
        .with("commitOffset", offset);
    assert_eq!(c.invoke(addr, req, T).unwrap().code, rs::SUCCESS);
}

/// HEART_BEAT for a consumer of `group` subscribed to `topic` (and, optionally, a producer group).
pub fn heartbeat(
    c: &RemotingClient,
    addr: &str,
    client_id: &str,
    group: &str,
    topic: &str,
    producer_group: Option<&str>,
) {
    heartbeat_as(c, addr, client_id, group, topic, producer_group, None)
}

/// `heartbeat`, with the frame's language set to `language` (e.g. "CPP") when given.
pub fn heartbeat_as(
    c: &RemotingClient,
    addr: &str,
    client_id: &str,
    group: &str,
    topic: &str,
    producer_group: Option<&str>,
    language: Option<&str>,
) {
    let producers: Vec<serde_json::Value> =
        producer_group.iter().map(|g| serde_json::json!({ "groupName": g })).collect();
    let body = serde_json::json!({
        "clientID": client_id,
        "consumerDataSet": [{
            "groupName": group,
            "consumeType": "CONSUME_PASSIVELY",
            "messageModel": "CLUSTERING",
            "consumeFromWhere": "CONSUME_FROM_FIRST_OFFSET",
            "subscriptionDataSet": [{
                "classFilterMode": false, "codeSet": [], "expressionType": "TAG",
                "subString": "*", "subVersion": 1, "tagsSet": [], "topic": topic
            }],
            "unitMode": false
        }],
        "producerDataSet": producers,
    });
    let mut req = RemotingCommand::request(rq::HEART_BEAT).with_body(body.to_string().into_bytes());
    if let Some(l) = language {
        req.language = l.to_string().into();
    }
    assert_eq!(c.invoke(addr, req, T).unwrap().code, rs::SUCCESS);
}

pub fn cluster_info(c: &RemotingClient, ns: &str) -> ClusterInfo {
    let r = c.invoke(ns, RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO), T).unwrap();
    ClusterInfo::decode(&r.body).unwrap()
}

/// Route data, or None when the name server has no route for the topic.
pub fn route(c: &RemotingClient, ns: &str, topic: &str) -> Option<TopicRouteData> {
    let req = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic);
    let r = c.invoke(ns, req, T).ok()?;
    (r.code == rs::SUCCESS).then(|| TopicRouteData::decode(&r.body).unwrap())
}
