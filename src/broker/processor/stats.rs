//! Operator views (AdminBrokerProcessor and Broker2Client): GET_CONSUME_STATS,
//! GET_TOPIC_STATS_INFO, GET_BROKER_RUNTIME_INFO (its table in `runtime`), VIEW_BROKER_STATS_DATA,
//! GET_ALL_PRODUCER_INFO, GET_BROKER_CONSUME_STATS, CLEAN_EXPIRED_CONSUMEQUEUE, QUERY_TOPIC_CONSUME_BY_WHO, the consumer and
//! producer connection lists, and GET_CONSUMER_RUNNING_INFO passed through to a consumer.

use super::{not_supported, reply};
use crate::broker::clients::ClientChannel;
use crate::broker::core::Core;
use crate::broker::stats;
use crate::common::time::now_millis;
use crate::protocol::admin_body::{
    ClientConnection, ConsumeStats, ConsumerConnection, OffsetWrapper, ProducerConnection,
    TopicOffset, TopicStatsTable,
};
use crate::protocol::body::KvTable;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::protocol::record::decode_view;
use crate::protocol::stats_body::ConsumeStatsList;
use crate::remoting::{Handler, Reply, ReqCtx};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const CALL_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// `MQVersion.V3_1_8_SNAPSHOT` ordinal: older clients cannot answer (callConsumer).
const MIN_CALLABLE_VERSION: i32 = 62;

fn connection(ch: &ClientChannel) -> ClientConnection {
    ClientConnection {
        client_addr: ch.conn.peer().to_string(),
        client_id: ch.client_id.clone(),
        language: ch.language.clone(),
        version: ch.version,
    }
}

/// Operator views.
pub(crate) struct StatsProcessor {
    pub c: Arc<Core>,
}

impl Handler for StatsProcessor {
    fn handle(&self, _ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        reply(self.run(&req))
    }
}

impl StatsProcessor {
    fn run(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        Ok(match req.code {
            rq::GET_CONSUME_STATS => {
                let topic = req.field("topic").filter(|t| !t.trim().is_empty());
                self.consume_stats(req.str_field("consumerGroup")?, topic)
            }
            rq::GET_TOPIC_STATS_INFO => self.topic_stats(req.str_field("topic")?),
            rq::GET_BROKER_RUNTIME_INFO => self.runtime_info(),
            rq::VIEW_BROKER_STATS_DATA => {
                self.stats_data(req.str_field("statsName")?, req.str_field("statsKey")?)
            }
            rq::GET_ALL_PRODUCER_INFO => self.producer_table(),
            rq::GET_BROKER_CONSUME_STATS => self.broker_consume_stats(req.bool_field("isOrder")),
            rq::CLEAN_EXPIRED_CONSUMEQUEUE => self.clean_expired_queues(),
            rq::QUERY_TOPIC_CONSUME_BY_WHO => self.consumed_by(req.str_field("topic")?),
            rq::GET_CONSUMER_CONNECTION_LIST => {
                self.consumer_connections(req.str_field("consumerGroup")?)
            }
            rq::GET_PRODUCER_CONNECTION_LIST => {
                self.producer_connections(req.str_field("producerGroup")?)
            }
            rq::GET_CONSUMER_RUNNING_INFO => self.call_consumer(req)?,
            other => not_supported(other),
        })
    }

    fn store_time_at(&self, topic: &str, queue_id: i32, offset: i64) -> i64 {
        let r = self.c.store.get_messages(topic, queue_id, offset, 1, 1 << 20, &|_| true);
        r.messages
            .first()
            .and_then(|m| decode_view(m, false).ok())
            .map(|(v, _)| v.store_timestamp)
            .unwrap_or(0)
    }

    /// ConsumeStats of `group` on `topic`, or on every topic the group has offsets for.
    fn consume_stats(&self, group: &str, topic: Option<&str>) -> RemotingCommand {
        let topics: BTreeSet<String> = match topic {
            Some(t) => [t.to_string()].into(),
            None => self.c.offsets.topics_of(group),
        };
        let online = self.c.clients.consumer_group(group);
        let mut stats = ConsumeStats::default();
        for t in topics {
            let Some(tc) = self.c.topics.get(&t) else {
                log::warn!("consume stats: topic config not exist topic={t}");
                continue;
            };
            // As Apache: an online group that does not subscribe to the topic is skipped.
            if let Some(g) = &online {
                if !g.subscriptions.is_empty() && !g.subscriptions.contains_key(&t) {
                    continue;
                }
            }
            stats.consume_tps += self
                .c
                .stats
                .data(stats::GROUP_GET_NUMS, &format!("{t}@{group}"), now_millis())
                .map_or(0.0, |d| d.stats_minute.tps);
            for q in 0..tc.read_queue_nums {
                let broker_offset = self.c.store.max_offset_in_queue(&t, q).max(0);
                let consumer_offset = self.c.offsets.query(group, &t, q).unwrap_or(0).max(0);
                let last_timestamp = if consumer_offset > 0 {
                    self.store_time_at(&t, q, consumer_offset - 1)
                } else {
                    0
                };
                stats.offset_table.insert(
                    self.c.mq(&t, q),
                    OffsetWrapper { broker_offset, consumer_offset, last_timestamp },
                );
            }
        }
        RemotingCommand::success().with_body(stats.encode())
    }

    /// GET_BROKER_CONSUME_STATS (AdminBrokerProcessor.fetchAllConsumeStatsInBroker): every
    /// subscription group's ConsumeStats on each topic it has offsets for (ordered topics only
    /// when `order`), and the total diff.
    fn broker_consume_stats(&self, order: bool) -> RemotingCommand {
        let now = now_millis();
        let mut list = Vec::new();
        let mut total_diff = 0i64;
        for group in self.c.groups.snapshot().subscription_group_table.into_keys() {
            let online = self.c.clients.consumer_group(&group);
            let mut per_topic = Vec::new();
            for topic in self.c.offsets.topics_of(&group) {
                let Some(tc) = self.c.topics.get(&topic) else { continue };
                if order && !tc.order {
                    continue;
                }
                if let Some(g) = &online {
                    if !g.subscriptions.is_empty() && !g.subscriptions.contains_key(&topic) {
                        continue;
                    }
                }
                let mut cs = ConsumeStats::default();
                for q in 0..tc.write_queue_nums {
                    let broker_offset = self.c.store.max_offset_in_queue(&topic, q).max(0);
                    let consumer_offset =
                        self.c.offsets.query(&group, &topic, q).unwrap_or(0).max(0);
                    let last_timestamp = if consumer_offset > 0 {
                        self.store_time_at(&topic, q, consumer_offset - 1)
                    } else {
                        0
                    };
                    total_diff += broker_offset - consumer_offset;
                    cs.offset_table.insert(
                        self.c.mq(&topic, q),
                        OffsetWrapper { broker_offset, consumer_offset, last_timestamp },
                    );
                }
                cs.consume_tps = self
                    .c
                    .stats
                    .data(stats::GROUP_GET_NUMS, &format!("{topic}@{group}"), now)
                    .map_or(0.0, |d| d.stats_minute.tps);
                per_topic.push(cs);
            }
            list.push(BTreeMap::from([(group, per_topic)]));
        }
        let body =
            ConsumeStatsList { consume_stats_list: list, broker_addr: self.c.addr(), total_diff };
        RemotingCommand::success().with_body(body.encode())
    }

    /// CLEAN_EXPIRED_CONSUMEQUEUE: drop the consume queues of topics the broker no longer has
    /// (their messages are unreachable). Entries below the commit log's first offset need no
    /// command here: retention trims them with the commit log.
    fn clean_expired_queues(&self) -> RemotingCommand {
        let known: BTreeSet<String> = self.c.topics.names().into_iter().collect();
        let stale: BTreeSet<String> = self
            .c
            .store
            .queues()
            .into_iter()
            .map(|(t, _)| t)
            .filter(|t| !known.contains(t))
            .collect();
        for t in &stale {
            self.c.store.delete_topic(t);
        }
        log::info!("clean expired consume queues removed_topics={}", stale.len());
        RemotingCommand::success()
    }

    fn topic_stats(&self, topic: &str) -> RemotingCommand {
        let Some(tc) = self.c.topics.get(topic) else {
            return RemotingCommand::error(
                rs::TOPIC_NOT_EXIST,
                format!("topic[{topic}] not exist"),
            );
        };
        let mut table = TopicStatsTable::default();
        for q in 0..tc.write_queue_nums {
            let min_offset = self.c.store.min_offset_in_queue(topic, q).max(0);
            let max_offset = self.c.store.max_offset_in_queue(topic, q).max(0);
            let last_update_timestamp =
                if max_offset > 0 { self.store_time_at(topic, q, max_offset - 1) } else { 0 };
            table.offset_table.insert(
                self.c.mq(topic, q),
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
        let mut groups = self.c.offsets.groups_of(topic);
        groups.extend(self.c.clients.groups_subscribing(topic));
        RemotingCommand::success()
            .with_body(serde_json::to_vec(&GroupList { group_list: groups }).unwrap_or_default())
    }

    fn runtime_info(&self) -> RemotingCommand {
        let table = super::runtime::table(&self.c);
        RemotingCommand::success()
            .with_body(serde_json::to_vec(&KvTable { table }).unwrap_or_default())
    }

    /// VIEW_BROKER_STATS_DATA (AdminBrokerProcessor.ViewBrokerStatsData).
    fn stats_data(&self, name: &str, key: &str) -> RemotingCommand {
        match self.c.stats.data(name, key, now_millis()) {
            Some(d) => RemotingCommand::success().with_body(d.encode()),
            None => RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("The stats <{name}> <{key}> not exist"),
            ),
        }
    }

    /// GET_ALL_PRODUCER_INFO (ProducerManager.getProducerTable): `{"data":{group:[info,..]}}`.
    fn producer_table(&self) -> RemotingCommand {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ProducerInfo {
            client_id: String,
            #[serde(rename = "remoteIP")]
            remote_ip: String,
            language: String,
            version: i32,
            last_update_timestamp: i64,
        }
        #[derive(serde::Serialize)]
        struct ProducerTableInfo {
            data: BTreeMap<String, Vec<ProducerInfo>>,
        }
        let now = (now_millis(), std::time::Instant::now());
        let data = self
            .c
            .clients
            .producers()
            .into_iter()
            .map(|(group, chs)| {
                let infos = chs
                    .iter()
                    .map(|ch| ProducerInfo {
                        client_id: ch.client_id.clone(),
                        // Netty's SocketAddress.toString(): "/ip:port".
                        remote_ip: format!("/{}", ch.conn.peer()),
                        language: ch.language.clone(),
                        version: ch.version,
                        last_update_timestamp: now.0
                            - now.1.saturating_duration_since(ch.last_update).as_millis() as i64,
                    })
                    .collect();
                (group, infos)
            })
            .collect();
        let body = serde_json::to_vec(&ProducerTableInfo { data }).unwrap_or_default();
        RemotingCommand::success().with_body(body)
    }

    fn consumer_connections(&self, group: &str) -> RemotingCommand {
        let Some(g) = self.c.clients.consumer_group(group) else {
            return RemotingCommand::error(
                rs::CONSUMER_NOT_ONLINE,
                format!("the consumer group[{group}] not online"),
            );
        };
        let mut connection_set: Vec<ClientConnection> =
            g.channels.values().map(connection).collect();
        connection_set.sort();
        let body = ConsumerConnection {
            connection_set,
            consume_from_where: g.consume_from_where,
            consume_type: g.consume_type,
            message_model: g.message_model,
            subscription_table: g.subscriptions,
        };
        RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
    }

    fn producer_connections(&self, group: &str) -> RemotingCommand {
        let Some(chs) = self.c.clients.producer_group(group) else {
            return RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("the producer group[{group}] not exist"),
            );
        };
        let mut connection_set: Vec<ClientConnection> = chs.iter().map(connection).collect();
        connection_set.sort();
        let body = ProducerConnection { connection_set };
        RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// Forward the request (same code, ext fields and body) to the consumer `clientId` of
    /// `consumerGroup` and return its response.
    fn call_consumer(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let group = req.str_field("consumerGroup")?;
        let client_id = req.str_field("clientId")?;
        let ch = self
            .c
            .clients
            .consumer_group(group)
            .and_then(|g| g.channels.values().find(|c| c.client_id == client_id).cloned());
        let Some(ch) = ch else {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("The Consumer <{group}> <{client_id}> not online"),
            ));
        };
        if ch.version < MIN_CALLABLE_VERSION {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "The Consumer <{client_id}> Version <{}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT",
                    ch.version
                ),
            ));
        }
        let mut fwd = RemotingCommand::request(req.code);
        fwd.ext_fields = req.ext_fields.clone();
        fwd.body = req.body.clone();
        Ok(match ch.conn.invoke(fwd, CALL_CLIENT_TIMEOUT) {
            Ok(resp) => {
                // Hand back the consumer's answer as ours (the server sets opaque and flags).
                let mut out = RemotingCommand::response(resp.code, resp.remark);
                out.ext_fields = resp.ext_fields;
                out.body = resp.body;
                out
            }
            Err(e) if e.is_timeout() => RemotingCommand::error(
                rs::CONSUME_MSG_TIMEOUT,
                format!("consumer <{group}> <{client_id}> Timeout: {e}"),
            ),
            Err(e) => RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("invoke consumer <{group}> <{client_id}> Exception: {e}"),
            ),
        })
    }
}
