//! What each request code touches, for the permission check (PlainAccessValidator.parse, one
//! function per code it covers, plus the two it lets slip through):
//!
//! | code | resources |
//! |---|---|
//! | SEND_MESSAGE (10) | `topic` PUB; a retry topic `%RETRY%G` SUB instead |
//! | SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320) | `b` (else `topic`, as the send handler reads it) PUB; retry topic SUB |
//! | CONSUMER_SEND_MSG_BACK (36) | `%RETRY%<group>` SUB |
//! | PULL_MESSAGE (11) | `topic` SUB, `%RETRY%<consumerGroup>` SUB |
//! | QUERY_MESSAGE (12) | `topic` SUB |
//! | HEART_BEAT (34) | for each consumer: `%RETRY%<group>` SUB and each subscribed topic SUB |
//! | UNREGISTER_CLIENT (35) | `%RETRY%<consumerGroup>` SUB (when a group is named) |
//! | GET_CONSUMER_LIST_BY_GROUP (38) | `%RETRY%<consumerGroup>` SUB |
//! | UPDATE_CONSUMER_OFFSET (15) | `%RETRY%<consumerGroup>` SUB, `topic` SUB |
//! | END_TRANSACTION (37) | `topic` PUB when the header names it (5.x clients); else the broker checks the half message's real topic with [`super::Acl::check_resources`] |
//!
//! Differences from Apache 4.9.8, all closing holes: SEND_BATCH_MESSAGE and END_TRANSACTION are
//! checked (Apache checks neither); a send to a retry topic needs SUB on that topic's group
//! (Apache looks up a `group` field SEND_MESSAGE does not have, and so checks nothing); a
//! missing required field is a refusal, not a skipped check.

use super::config::RETRY_PREFIX;
use crate::protocol::access::{Access, Need, ResourceFn};
use crate::protocol::body::HeartbeatData;
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;

/// Request codes only an admin account may send (Permission.ADMIN_CODE).
pub const ADMIN_CODES: [i32; 5] = [
    rq::UPDATE_AND_CREATE_TOPIC,
    rq::UPDATE_BROKER_CONFIG,
    rq::DELETE_TOPIC_IN_BROKER,
    rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    rq::DELETE_SUBSCRIPTIONGROUP,
];

/// True for [`ADMIN_CODES`].
pub fn is_admin_code(code: i32) -> bool {
    ADMIN_CODES.contains(&code)
}

/// The resource function of a request code, for the server's route table; `None` for codes
/// that touch no checked resource.
pub fn for_code(code: i32) -> Option<ResourceFn> {
    Some(match code {
        rq::SEND_MESSAGE => send,
        rq::SEND_MESSAGE_V2 | rq::SEND_BATCH_MESSAGE => send_v2,
        rq::CONSUMER_SEND_MSG_BACK => send_back,
        rq::PULL_MESSAGE => pull,
        rq::QUERY_MESSAGE => query_message,
        rq::HEART_BEAT => heart_beat,
        rq::UNREGISTER_CLIENT => unregister_client,
        rq::GET_CONSUMER_LIST_BY_GROUP => consumer_list,
        rq::UPDATE_CONSUMER_OFFSET => update_offset,
        rq::END_TRANSACTION => end_transaction,
        _ => return None,
    })
}

/// The resources of `cmd` by its code (none for other codes).
pub fn of(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    for_code(cmd.code).map_or(Ok(Vec::new()), |f| f(cmd))
}

fn required<'a>(cmd: &'a RemotingCommand, key: &'static str) -> Result<&'a str, String> {
    cmd.str_field(key).map_err(|e| e.to_string())
}

fn group(name: &str) -> Access {
    Access::new(format!("{RETRY_PREFIX}{name}"), Need::Sub)
}

fn send_to(topic: &str) -> Access {
    if topic.starts_with(RETRY_PREFIX) {
        Access::new(topic, Need::Sub)
    } else {
        Access::new(topic, Need::Pub)
    }
}

/// SEND_MESSAGE.
pub fn send(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(vec![send_to(required(cmd, "topic")?)])
}

/// SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE (short field names; `b` is the topic).
pub fn send_v2(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    let topic = cmd.field("b").map_or_else(|| required(cmd, "topic"), Ok)?;
    Ok(vec![send_to(topic)])
}

/// CONSUMER_SEND_MSG_BACK.
pub fn send_back(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(vec![group(required(cmd, "group")?)])
}

/// PULL_MESSAGE.
pub fn pull(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(vec![
        Access::new(required(cmd, "topic")?, Need::Sub),
        group(required(cmd, "consumerGroup")?),
    ])
}

/// QUERY_MESSAGE.
pub fn query_message(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(vec![Access::new(required(cmd, "topic")?, Need::Sub)])
}

/// HEART_BEAT: every consumer group of the body and every topic it subscribes to.
pub fn heart_beat(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    let hb = HeartbeatData::decode(&cmd.body)
        .map_err(|e| format!("the heartbeat body cannot be decoded: {e}"))?;
    let mut out = Vec::new();
    for c in &hb.consumer_data_set {
        if !c.group_name.is_empty() {
            out.push(group(&c.group_name));
        }
        for s in &c.subscription_data_set {
            out.push(Access::new(s.topic.as_str(), Need::Sub));
        }
    }
    Ok(out)
}

/// UNREGISTER_CLIENT: the consumer group, when the request names one (a producer's does not).
pub fn unregister_client(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(cmd.field("consumerGroup").filter(|g| !g.is_empty()).map(group).into_iter().collect())
}

/// GET_CONSUMER_LIST_BY_GROUP.
pub fn consumer_list(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(vec![group(required(cmd, "consumerGroup")?)])
}

/// UPDATE_CONSUMER_OFFSET.
pub fn update_offset(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(vec![
        group(required(cmd, "consumerGroup")?),
        Access::new(required(cmd, "topic")?, Need::Sub),
    ])
}

/// END_TRANSACTION: `topic` PUB when present (RocketMQ 5 clients send it). A 4.x client does
/// not; the broker then checks PUB on the half message's `REAL_TOPIC` once it has read it.
pub fn end_transaction(cmd: &RemotingCommand) -> Result<Vec<Access>, String> {
    Ok(cmd.field("topic").map(|t| Access::new(t, Need::Pub)).into_iter().collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn res(cmd: RemotingCommand) -> Vec<(String, Need)> {
        of(&cmd).unwrap().into_iter().map(|a| (a.resource, a.need)).collect()
    }

    fn r(s: &str, n: Need) -> (String, Need) {
        (s.to_string(), n)
    }

    #[test]
    fn every_code_apache_covers_plus_batch_and_end_transaction() {
        let c = RemotingCommand::request;
        assert_eq!(res(c(10).with("topic", "T")), [r("T", Need::Pub)]);
        assert_eq!(res(c(10).with("topic", "%RETRY%G")), [r("%RETRY%G", Need::Sub)]);
        assert_eq!(res(c(310).with("b", "T").with("topic", "X")), [r("T", Need::Pub)]);
        assert_eq!(res(c(320).with("b", "T")), [r("T", Need::Pub)]);
        assert_eq!(res(c(320).with("topic", "T")), [r("T", Need::Pub)]);
        assert_eq!(res(c(36).with("group", "G")), [r("%RETRY%G", Need::Sub)]);
        assert_eq!(
            res(c(11).with("topic", "T").with("consumerGroup", "G")),
            [r("T", Need::Sub), r("%RETRY%G", Need::Sub)]
        );
        assert_eq!(res(c(12).with("topic", "T")), [r("T", Need::Sub)]);
        assert_eq!(res(c(35).with("consumerGroup", "G")), [r("%RETRY%G", Need::Sub)]);
        assert!(res(c(35).with("consumerGroup", "").with("producerGroup", "P")).is_empty());
        assert_eq!(res(c(38).with("consumerGroup", "G")), [r("%RETRY%G", Need::Sub)]);
        assert_eq!(
            res(c(15).with("consumerGroup", "G").with("topic", "T")),
            [r("%RETRY%G", Need::Sub), r("T", Need::Sub)]
        );
        assert_eq!(res(c(37).with("topic", "T")), [r("T", Need::Pub)]);
        assert!(res(c(37).with("producerGroup", "P")).is_empty());
        assert!(res(c(105).with("topic", "T")).is_empty());
        let hb = br#"{"clientID":"c","producerDataSet":[{"groupName":"P"}],"consumerDataSet":[{"groupName":"G","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"topic":"T1","subString":"*"},{"topic":"%RETRY%G","subString":"*"}]}]}"#;
        assert_eq!(
            res(c(34).with_body(hb.to_vec())),
            [r("%RETRY%G", Need::Sub), r("T1", Need::Sub), r("%RETRY%G", Need::Sub)]
        );
        for code in [10, 310, 320, 36, 11, 12, 38, 15] {
            let e = of(&c(code)).unwrap_err();
            assert!(e.contains("is missing"), "{code}: {e}");
        }
        assert!(of(&c(34).with_body(b"{{{".to_vec())).unwrap_err().contains("heartbeat"));
        assert!(ADMIN_CODES.iter().all(|&c| is_admin_code(c)) && !is_admin_code(10));
    }
}
