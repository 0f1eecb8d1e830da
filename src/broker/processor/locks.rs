//! Queue locks of orderly consumers (AdminBrokerProcessor lockBatchMQ / unlockBatchMQ):
//! LOCK_BATCH_MQ, UNLOCK_BATCH_MQ.

use super::{not_supported, reply};
use crate::broker::core::Core;
use crate::protocol::body::MessageQueue;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::remoting::{Handler, Reply, ReqCtx};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockBody {
    #[serde(default)]
    consumer_group: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    mq_set: Vec<MessageQueue>,
}

#[derive(Serialize)]
struct LockResponse {
    #[serde(rename = "lockOKMQSet")]
    lock_ok_mq_set: Vec<MessageQueue>,
}

/// Queue locks.
pub(crate) struct LockProcessor {
    pub c: Arc<Core>,
}

impl Handler for LockProcessor {
    fn handle(&self, _ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        if req.code != rq::LOCK_BATCH_MQ && req.code != rq::UNLOCK_BATCH_MQ {
            return reply(Ok(not_supported(req.code)));
        }
        let body: LockBody = match crate::protocol::json::from_fastjson(&req.body) {
            Ok(b) => b,
            Err(e) => {
                return reply(Ok(RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("bad lock body: {e}"),
                )))
            }
        };
        let locks = &self.c.locks;
        reply(Ok(if req.code == rq::UNLOCK_BATCH_MQ {
            locks.unlock(&body.consumer_group, &body.client_id, &body.mq_set);
            RemotingCommand::success()
        } else {
            let ok = locks.lock(&body.consumer_group, &body.client_id, &body.mq_set);
            let body = serde_json::to_vec(&LockResponse { lock_ok_mq_set: ok }).unwrap_or_default();
            RemotingCommand::success().with_body(body)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(q: i32) -> MessageQueue {
        MessageQueue { broker_name: "b".into(), queue_id: q, topic: "T".into() }
    }

    #[test]
    fn lock_bodies_use_apache_field_names() {
        let b: LockBody = crate::protocol::json::from_fastjson(
            br#"{"consumerGroup":"G","clientId":"c1","mqSet":[{"brokerName":"b","queueId":3,"topic":"T"}]}"#,
        )
        .unwrap();
        assert_eq!((b.consumer_group.as_str(), b.client_id.as_str()), ("G", "c1"));
        assert_eq!(b.mq_set, vec![mq(3)]);
        let out = serde_json::to_string(&LockResponse { lock_ok_mq_set: vec![mq(3)] }).unwrap();
        assert_eq!(out, r#"{"lockOKMQSet":[{"brokerName":"b","queueId":3,"topic":"T"}]}"#);
    }
}
