//! Client-facing consumer requests: HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP,
//! consumer offsets, queue offsets by position and time, and queue locks for orderly consumers.

use super::clients::ClientChannel;
use super::topics::RETRY_PREFIX;
use super::Broker;
use crate::protocol::body::{ConsumerList, HeartbeatData, MessageQueue};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::ReqCtx;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Queue locks per group (RebalanceLockManager): one owner per queue, 60 s expiry.
#[derive(Default)]
pub struct LockManager {
    locks: Mutex<HashMap<(String, MessageQueue), (String, Instant)>>,
}

/// A lock expires this long after its last renewal.
const LOCK_EXPIRY: Duration = Duration::from_secs(60);

impl LockManager {
    /// Lock (or renew) `mqs` for `client`; returns the queues it now holds.
    pub fn lock(&self, group: &str, client: &str, mqs: &[MessageQueue]) -> Vec<MessageQueue> {
        self.lock_at(group, client, mqs, Instant::now())
    }

    fn lock_at(
        &self,
        group: &str,
        client: &str,
        mqs: &[MessageQueue],
        now: Instant,
    ) -> Vec<MessageQueue> {
        let mut t = self.locks.lock();
        let mut ok = Vec::new();
        for mq in mqs {
            let k = (group.to_string(), mq.clone());
            let free = match t.get(&k) {
                None => true,
                Some((owner, at)) => owner == client || now.duration_since(*at) > LOCK_EXPIRY,
            };
            if free {
                t.insert(k, (client.to_string(), now));
                ok.push(mq.clone());
            } else {
                log::debug!("queue locked by another client group={} queue={:?}", group, mq);
            }
        }
        ok
    }

    /// Release `mqs` held by `client`.
    pub fn unlock(&self, group: &str, client: &str, mqs: &[MessageQueue]) {
        let mut t = self.locks.lock();
        for mq in mqs {
            let k = (group.to_string(), mq.clone());
            if t.get(&k).is_some_and(|(o, _)| o == client) {
                t.remove(&k);
            }
        }
    }
}

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

impl Broker {
    /// Consumer-side requests.
    pub(crate) fn handle_consumer(
        &self,
        ctx: &ReqCtx,
        req: RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        Ok(match req.code {
            rq::HEART_BEAT => self.heartbeat(ctx, &req),
            rq::UNREGISTER_CLIENT => {
                let client = req.str_field("clientID")?;
                if let Some(g) = req.field("producerGroup").filter(|g| !g.is_empty()) {
                    self.clients.unregister_producer(g, client);
                }
                if let Some(g) = req.field("consumerGroup").filter(|g| !g.is_empty()) {
                    if self.clients.unregister_consumer(g, client) {
                        log::info!("consumer unregistered group={} client={}", g, client);
                        self.clients.notify_ids_changed(g);
                    }
                }
                RemotingCommand::success()
            }
            rq::GET_CONSUMER_LIST_BY_GROUP => {
                let group = req.str_field("consumerGroup")?;
                let ids = self.clients.consumer_ids(group);
                if ids.is_empty() {
                    RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        format!("no consumer for this group, {group}"),
                    )
                } else {
                    let body = ConsumerList { consumer_id_list: ids };
                    RemotingCommand::success()
                        .with_body(serde_json::to_vec(&body).unwrap_or_default())
                }
            }
            rq::QUERY_CONSUMER_OFFSET => {
                let (group, topic, q) = (
                    req.str_field("consumerGroup")?,
                    req.str_field("topic")?,
                    req.i32_field("queueId")?,
                );
                match self.offsets.query(group, topic, q) {
                    Some(o) => RemotingCommand::success().with("offset", o),
                    // Apache 4.9 (ConsumerManageProcessor.queryConsumerOffset): a new group
                    // starts from 0 while the queue still begins at offset 0 and that message
                    // is not yet "on disk"; otherwise QUERY_NOT_FOUND, and the client applies
                    // its ConsumeFrom policy (last offset, first offset, timestamp).
                    None if self.store.min_offset_in_queue(topic, q) <= 0
                        && !self.in_disk_by_consume_offset(topic, q, 0) =>
                    {
                        RemotingCommand::success().with("offset", 0)
                    }
                    None => RemotingCommand::error(
                        rs::QUERY_NOT_FOUND,
                        "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
                    ),
                }
            }
            rq::UPDATE_CONSUMER_OFFSET => {
                let (group, topic, q) = (
                    req.str_field("consumerGroup")?,
                    req.str_field("topic")?,
                    req.i32_field("queueId")?,
                );
                let off = req.i64_field("commitOffset")?;
                self.offsets.commit(group, topic, q, off);
                RemotingCommand::success()
            }
            rq::GET_MAX_OFFSET => {
                let o = self
                    .store
                    .max_offset_in_queue(req.str_field("topic")?, req.i32_field("queueId")?);
                RemotingCommand::success().with("offset", o)
            }
            rq::GET_MIN_OFFSET => {
                let o = self
                    .store
                    .min_offset_in_queue(req.str_field("topic")?, req.i32_field("queueId")?);
                RemotingCommand::success().with("offset", o)
            }
            rq::SEARCH_OFFSET_BY_TIMESTAMP => {
                let o = self.store.offset_by_timestamp(
                    req.str_field("topic")?,
                    req.i32_field("queueId")?,
                    req.i64_field("timestamp")?,
                );
                RemotingCommand::success().with("offset", o)
            }
            rq::GET_EARLIEST_MSG_STORETIME => {
                let t = self
                    .store
                    .earliest_message_time(req.str_field("topic")?, req.i32_field("queueId")?);
                RemotingCommand::success().with("timestamp", t)
            }
            rq::LOCK_BATCH_MQ | rq::UNLOCK_BATCH_MQ => {
                let body: LockBody = match crate::protocol::json::from_fastjson(&req.body) {
                    Ok(b) => b,
                    Err(e) => {
                        return Ok(RemotingCommand::error(
                            rs::SYSTEM_ERROR,
                            format!("bad lock body: {e}"),
                        ))
                    }
                };
                if req.code == rq::UNLOCK_BATCH_MQ {
                    self.locks.unlock(&body.consumer_group, &body.client_id, &body.mq_set);
                    RemotingCommand::success()
                } else {
                    let ok = self.locks.lock(&body.consumer_group, &body.client_id, &body.mq_set);
                    let body = serde_json::to_vec(&LockResponse { lock_ok_mq_set: ok })
                        .unwrap_or_default();
                    RemotingCommand::success().with_body(body)
                }
            }
            other => RemotingCommand::error(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {other} not supported"),
            ),
        })
    }

    /// DefaultMessageStore.checkInDiskByConsumeOffset: whether the message at `offset` of a
    /// queue lies further from the commit log's end than `accessMessageInMemoryMaxRatio` percent
    /// of physical memory; false when the queue has no such entry.
    fn in_disk_by_consume_offset(&self, topic: &str, q: i32, offset: i64) -> bool {
        let r = self.store.get_messages(topic, q, offset, 1, usize::MAX, &|_| true);
        let Some(rec) = r.messages.first() else { return false };
        let Ok((view, _)) = crate::protocol::record::decode_view(rec, false) else {
            return false;
        };
        let memory = crate::common::sys::total_physical_memory() / 100
            * u64::from(self.cfg.access_message_in_memory_max_ratio);
        let behind = self.store.commit_log_max_offset() - view.physical_offset;
        behind > 0 && behind as u64 > memory
    }

    fn heartbeat(&self, ctx: &ReqCtx, req: &RemotingCommand) -> RemotingCommand {
        let hb = match HeartbeatData::decode(&req.body) {
            Ok(h) => h,
            Err(e) => {
                log::warn!("bad heartbeat peer={} err={}", ctx.peer(), e);
                return RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("the heartbeat body is not valid JSON: {e}"),
                );
            }
        };
        let ch = ClientChannel {
            client_id: hb.client_id.clone(),
            conn: ctx.conn.clone(),
            language: req.language.clone(),
            version: req.version,
            last_update: Instant::now(),
        };
        for c in &hb.consumer_data_set {
            // ClientManageProcessor.heartBeat: the group (auto-created) gives the retry topic's
            // queue count and whether members are told about changes.
            let gc = self.groups.find(&c.group_name);
            if let Some(gc) = &gc {
                self.ensure_topic(&format!("{RETRY_PREFIX}{}", c.group_name), gc.retry_queue_nums);
            }
            let notify = gc.is_none_or(|g| g.notify_consumer_ids_changed_enable);
            if self.clients.register_consumer(ch.clone(), c) {
                log::info!("consumer group changed group={} client={}", c.group_name, hb.client_id);
                if notify {
                    self.clients.notify_ids_changed(&c.group_name);
                }
            }
        }
        for p in &hb.producer_data_set {
            self.clients.register_producer(&p.group_name, ch.clone());
        }
        RemotingCommand::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(q: i32) -> MessageQueue {
        MessageQueue { broker_name: "b".into(), queue_id: q, topic: "T".into() }
    }

    #[test]
    fn one_owner_per_queue_per_group_until_expiry_or_unlock() {
        let m = LockManager::default();
        let t0 = Instant::now();
        assert_eq!(m.lock_at("G", "c1", &[mq(0), mq(1)], t0), vec![mq(0), mq(1)]);
        // Another client of the group gets only the free queue; another group is independent.
        assert_eq!(m.lock_at("G", "c2", &[mq(1), mq(2)], t0), vec![mq(2)]);
        assert_eq!(m.lock_at("G2", "c2", &[mq(1)], t0), vec![mq(1)]);
        // The owner renews; at 59 s the lock still holds against others.
        let t59 = t0 + Duration::from_secs(59);
        assert_eq!(m.lock_at("G", "c1", &[mq(0)], t59), vec![mq(0)]);
        assert!(m.lock_at("G", "c2", &[mq(1)], t59).is_empty());
        // Past 60 s without renewal, another client takes over.
        let t61 = t0 + Duration::from_secs(61);
        assert_eq!(m.lock_at("G", "c2", &[mq(1)], t61), vec![mq(1)]);
        assert!(m.lock_at("G", "c2", &[mq(0)], t61).is_empty(), "q0 was renewed at 59 s");
        // Unlock by a non-owner does nothing; by the owner frees the queue at once.
        m.unlock("G", "c2", &[mq(0)]);
        assert!(m.lock_at("G", "c2", &[mq(0)], t61).is_empty());
        m.unlock("G", "c1", &[mq(0)]);
        assert_eq!(m.lock_at("G", "c2", &[mq(0)], t61), vec![mq(0)]);
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
