//! Operator statistics (AdminBrokerProcessor): GET_CONSUME_STATS (208, lag per queue),
//! GET_TOPIC_STATS_INFO (202), GET_BROKER_RUNTIME_INFO (28), QUERY_TOPIC_CONSUME_BY_WHO (300),
//! and the dispatcher for the operator codes of this module, conns.rs, reset.rs and brokercfg.rs.

use super::Broker;
use crate::protocol::admin_body::{ConsumeStats, OffsetWrapper, TopicOffset, TopicStatsTable};
use crate::protocol::body::{KvTable, MessageQueue};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::protocol::record::decode_view;
use crate::remoting::ReqCtx;
use std::collections::{BTreeMap, BTreeSet};

/// Operator codes served by this module and its siblings.
pub(crate) const OPS_CODES: [i32; 10] = [
    rq::GET_CONSUME_STATS,
    rq::GET_TOPIC_STATS_INFO,
    rq::GET_BROKER_RUNTIME_INFO,
    rq::QUERY_TOPIC_CONSUME_BY_WHO,
    rq::GET_CONSUMER_CONNECTION_LIST,
    rq::GET_PRODUCER_CONNECTION_LIST,
    rq::GET_CONSUMER_RUNNING_INFO,
    rq::GET_BROKER_CONFIG,
    rq::UPDATE_BROKER_CONFIG,
    rq::INVOKE_BROKER_TO_RESET_OFFSET,
];

impl Broker {
    /// Operator requests (the codes in [`OPS_CODES`]).
    pub(crate) fn handle_ops(
        &self,
        ctx: &ReqCtx,
        req: RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        Ok(match req.code {
            rq::GET_CONSUME_STATS => {
                let topic = req.field("topic").filter(|t| !t.trim().is_empty());
                self.consume_stats(req.str_field("consumerGroup")?, topic)
            }
            rq::GET_TOPIC_STATS_INFO => self.topic_stats(req.str_field("topic")?),
            rq::GET_BROKER_RUNTIME_INFO => self.runtime_info(),
            rq::QUERY_TOPIC_CONSUME_BY_WHO => self.consumed_by(req.str_field("topic")?),
            rq::GET_CONSUMER_CONNECTION_LIST => {
                self.consumer_connections(req.str_field("consumerGroup")?)
            }
            rq::GET_PRODUCER_CONNECTION_LIST => {
                self.producer_connections(req.str_field("producerGroup")?)
            }
            rq::GET_CONSUMER_RUNNING_INFO => self.call_consumer(&req)?,
            rq::GET_BROKER_CONFIG => self.get_broker_config(),
            rq::UPDATE_BROKER_CONFIG => self.update_broker_config(ctx, &req.body),
            rq::INVOKE_BROKER_TO_RESET_OFFSET => self.reset_offset(&req)?,
            other => RemotingCommand::error(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {other} not supported"),
            ),
        })
    }

    fn mq(&self, topic: &str, queue_id: i32) -> MessageQueue {
        MessageQueue {
            broker_name: self.cfg.broker_name.clone(),
            queue_id,
            topic: topic.to_string(),
        }
    }

    /// Store time of the message at `offset` in a queue (getMessageStoreTimeStamp), 0 if none.
    fn store_time_at(&self, topic: &str, queue_id: i32, offset: i64) -> i64 {
        let r = self.store.get_messages(topic, queue_id, offset, 1, 1 << 20, &|_| true);
        r.messages
            .first()
            .and_then(|m| decode_view(m, false).ok())
            .map(|(v, _)| v.store_timestamp)
            .unwrap_or(0)
    }

    /// ConsumeStats of `group` on `topic`, or on every topic the group has offsets for.
    pub(crate) fn consume_stats(&self, group: &str, topic: Option<&str>) -> RemotingCommand {
        let topics: BTreeSet<String> = match topic {
            Some(t) => [t.to_string()].into(),
            None => self.offsets.topics_of(group),
        };
        let online = self.clients.consumer_group(group);
        let mut stats = ConsumeStats::default();
        for t in topics {
            let Some(tc) = self.topics.get(&t) else {
                log::warn!("consume stats: topic config not exist topic={t}");
                continue;
            };
            // As Apache: an online group that does not subscribe to the topic is skipped.
            if let Some(g) = &online {
                if !g.subscriptions.is_empty() && !g.subscriptions.contains_key(&t) {
                    continue;
                }
            }
            stats.consume_tps += self.group_gets.tps(&t, group);
            for q in 0..tc.read_queue_nums {
                let broker_offset = self.store.max_offset_in_queue(&t, q).max(0);
                let consumer_offset = self.offsets.query(group, &t, q).unwrap_or(0).max(0);
                let last_timestamp = if consumer_offset > 0 {
                    self.store_time_at(&t, q, consumer_offset - 1)
                } else {
                    0
                };
                stats.offset_table.insert(
                    self.mq(&t, q),
                    OffsetWrapper { broker_offset, consumer_offset, last_timestamp },
                );
            }
        }
        RemotingCommand::success().with_body(stats.encode())
    }

    fn topic_stats(&self, topic: &str) -> RemotingCommand {
        let Some(tc) = self.topics.get(topic) else {
            return RemotingCommand::error(
                rs::TOPIC_NOT_EXIST,
                format!("topic[{topic}] not exist"),
            );
        };
        let mut table = TopicStatsTable::default();
        for q in 0..tc.write_queue_nums {
            let min_offset = self.store.min_offset_in_queue(topic, q).max(0);
            let max_offset = self.store.max_offset_in_queue(topic, q).max(0);
            let last_update_timestamp =
                if max_offset > 0 { self.store_time_at(topic, q, max_offset - 1) } else { 0 };
            table.offset_table.insert(
                self.mq(topic, q),
                TopicOffset { last_update_timestamp, max_offset, min_offset },
            );
        }
        RemotingCommand::success().with_body(table.encode())
    }

    fn consumed_by(&self, topic: &str) -> RemotingCommand {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct GroupList {
            group_list: BTreeSet<String>,
        }
        let mut groups = self.offsets.groups_of(topic);
        groups.extend(self.clients.groups_subscribing(topic));
        RemotingCommand::success()
            .with_body(serde_json::to_vec(&GroupList { group_list: groups }).unwrap_or_default())
    }

    fn runtime_info(&self) -> RemotingCommand {
        let c = &self.cfg;
        let queues = self.store.queues();
        let put_total: i64 =
            queues.iter().map(|(t, q)| self.store.max_offset_in_queue(t, *q).max(0)).sum();
        let earliest = queues
            .iter()
            .map(|(t, q)| self.store.earliest_message_time(t, *q))
            .filter(|t| *t > 0)
            .min()
            .unwrap_or(0);
        let mut table: BTreeMap<String, String> = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            table.insert(k.to_string(), v);
        };
        put("brokerVersionDesc", "V4_9_8".into());
        put("brokerVersion", crate::protocol::codes::RMQ_VERSION.to_string());
        put("bootTimestamp", self.boot_timestamp.to_string());
        put("commitLogMinOffset", self.store.commit_log_min_offset().to_string());
        put("commitLogMaxOffset", self.store.commit_log_max_offset().to_string());
        put("dispatchBehindBytes", self.store.dispatch_behind_bytes().to_string());
        put("earliestMessageTimeStamp", earliest.to_string());
        // Messages held in this broker's consume queues (Apache counts puts since boot).
        put("msgPutTotalTodayNow", put_total.to_string());
        put("sendThreadPoolQueueCapacity", c.send_thread_pool_queue_capacity.to_string());
        put("pullThreadPoolQueueCapacity", c.pull_thread_pool_queue_capacity.to_string());
        put("brokerName", c.broker_name.clone());
        put("brokerPermission", self.live.broker_permission().to_string());
        put("topicCount", self.topics.names().len().to_string());
        put("consumerGroupsOnline", self.clients.consumer_group_names().len().to_string());
        for (k, v) in self.tps.runtime_entries() {
            put(k, v);
        }
        RemotingCommand::success()
            .with_body(serde_json::to_vec(&KvTable { table }).unwrap_or_default())
    }
}
