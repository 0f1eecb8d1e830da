//! Consumer and producer groups: consumerProgress, consumerConnection, producerConnection,
//! updateSubGroup, deleteSubGroup, resetOffsetByTime, brokerConsumeStats.

use super::{check_name, Admin, Error, ErrorKind, Result, Target};
use crate::common::time::now_millis;
use crate::protocol::admin_body::{
    ConsumeStats, ConsumerConnection, ProducerConnection, ResetOffsetBody,
};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::protocol::stats_body::ConsumeStatsList;
use serde::Serialize;
use std::collections::BTreeMap;

/// One queue of consumerProgress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueProgress {
    /// Topic.
    pub topic: String,
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// Next offset to be written.
    pub broker_offset: i64,
    /// The group's committed offset.
    pub consumer_offset: i64,
    /// broker − consumer offset, never negative.
    pub diff: i64,
    /// Store time of the last consumed message (ms), 0 if none.
    pub last_timestamp: i64,
}

/// consumerProgress.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerProgress {
    /// Group.
    pub group: String,
    /// Queues, sorted by topic, broker, queue.
    pub queues: Vec<QueueProgress>,
    /// Sum of the brokers' consumeTps.
    pub consume_tps: f64,
    /// Sum of the diffs.
    pub diff_total: i64,
    /// Brokers that could not be asked (the others' progress is still shown).
    pub warnings: Vec<String>,
}

/// One client of a connection list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRow {
    /// Client id.
    pub client_id: String,
    /// Client address.
    pub client_addr: String,
    /// Language.
    pub language: String,
    /// Version ordinal.
    pub version: i32,
}

/// One subscription of consumerConnection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRow {
    /// Topic.
    pub topic: String,
    /// Tag expression.
    pub sub_expression: String,
}

/// consumerConnection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConnectionInfo {
    /// Clients, sorted by id.
    pub connections: Vec<ConnectionRow>,
    /// Subscriptions.
    pub subscriptions: Vec<SubscriptionRow>,
    /// CONSUME_ACTIVELY / CONSUME_PASSIVELY.
    pub consume_type: String,
    /// CLUSTERING / BROADCASTING.
    pub message_model: String,
    /// Where new queues start.
    pub consume_from_where: String,
}

/// updateSubGroup settings (UpdateSubGroupSubCommand's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubGroupOptions {
    /// Group.
    pub group: String,
    /// consumeEnable (true).
    pub consume_enable: bool,
    /// consumeBroadcastEnable (true).
    pub broadcast_enable: bool,
    /// retryMaxTimes (16).
    pub retry_max_times: i64,
}

impl Default for SubGroupOptions {
    fn default() -> Self {
        SubGroupOptions {
            group: String::new(),
            consume_enable: true,
            broadcast_enable: true,
            retry_max_times: 16,
        }
    }
}

/// One queue of resetOffsetByTime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetRow {
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// Queue max offset (None when the broker pushed the reset to running consumers).
    pub broker_offset: Option<i64>,
    /// Offset before the reset (None when pushed).
    pub consumer_offset: Option<i64>,
    /// First offset at or after the time (None when pushed).
    pub timestamp_offset: Option<i64>,
    /// The offset the group now has.
    pub reset_offset: i64,
    /// True when the broker pushed it to the running consumers.
    pub pushed: bool,
}

/// One row of brokerConsumeStats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerConsumeRow {
    /// Topic.
    pub topic: String,
    /// Group.
    pub group: String,
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// Next offset to be written.
    pub broker_offset: i64,
    /// Committed offset.
    pub consumer_offset: i64,
    /// Difference.
    pub diff: i64,
    /// Store time of the last consumed message (ms).
    pub last_timestamp: i64,
}

/// brokerConsumeStats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerConsumeStats {
    /// Rows at or above the diff level, with a last timestamp (as mqadmin prints).
    pub rows: Vec<BrokerConsumeRow>,
    /// The broker's `totalDiff`.
    pub total_diff: i64,
}

fn connections(set: Vec<crate::protocol::admin_body::ClientConnection>) -> Vec<ConnectionRow> {
    let mut rows: Vec<ConnectionRow> = set
        .into_iter()
        .map(|c| ConnectionRow {
            client_id: c.client_id,
            client_addr: c.client_addr,
            language: c.language,
            version: c.version,
        })
        .collect();
    rows.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    rows.dedup_by(|a, b| a.client_id == b.client_id);
    rows
}

impl Admin {
    /// GET_CONSUME_STATS of `group` (one topic, or all) from every master. A broker that is
    /// down is a warning, not a failure, as long as another answered.
    pub fn consumer_progress(&self, group: &str, topic: Option<&str>) -> Result<ConsumerProgress> {
        check_name("group", group)?;
        let mut all = ConsumeStats::default();
        let mut warnings = Vec::new();
        for (_, addr) in self.masters(None)? {
            let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
                .with("consumerGroup", group)
                .with("topic", topic.unwrap_or(""));
            match self.call(&addr, req) {
                Ok(r) => {
                    let s = ConsumeStats::decode(&r.body)
                        .map_err(|e| Error::bad_answer("consume stats", &addr, e))?;
                    all.consume_tps += s.consume_tps;
                    all.offset_table.extend(s.offset_table);
                }
                Err(e) => warnings.push(e.to_string()),
            }
        }
        if all.offset_table.is_empty() {
            let mut msg = format!("no consume progress for group {group}");
            for w in &warnings {
                msg.push_str("; ");
                msg.push_str(w);
            }
            return Err(Error::not_found(msg));
        }
        let queues: Vec<QueueProgress> = all
            .offset_table
            .iter()
            .map(|(mq, o)| QueueProgress {
                topic: mq.topic.clone(),
                broker_name: mq.broker_name.clone(),
                queue_id: mq.queue_id,
                broker_offset: o.broker_offset,
                consumer_offset: o.consumer_offset,
                diff: o.lag(),
                last_timestamp: o.last_timestamp,
            })
            .collect();
        Ok(ConsumerProgress {
            group: group.to_string(),
            diff_total: all.total_lag(),
            queues,
            consume_tps: all.consume_tps,
            warnings,
        })
    }

    /// GET_CONSUMER_CONNECTION_LIST from every master, merged; an offline group is NotFound.
    pub fn consumer_connection(&self, group: &str) -> Result<ConsumerConnectionInfo> {
        check_name("group", group)?;
        let mut found: Option<ConsumerConnection> = None;
        let mut last = Error::not_found(format!("the consumer group[{group}] not online"));
        for (_, addr) in self.masters(None)? {
            let req = RemotingCommand::request(rq::GET_CONSUMER_CONNECTION_LIST)
                .with("consumerGroup", group);
            match self.call(&addr, req) {
                Ok(r) => {
                    let c: ConsumerConnection = crate::protocol::json::from_fastjson(&r.body)
                        .map_err(|e| Error::bad_answer("consumer connection", &addr, e))?;
                    match &mut found {
                        None => found = Some(c),
                        Some(f) => {
                            f.connection_set.extend(c.connection_set);
                            f.subscription_table.extend(c.subscription_table);
                        }
                    }
                }
                Err(e) if e.code() == Some(rs::CONSUMER_NOT_ONLINE) => {
                    last = Error::not_found(format!("the consumer group[{group}] not online"))
                }
                Err(e) => last = e,
            }
        }
        let Some(c) = found else { return Err(last) };
        Ok(ConsumerConnectionInfo {
            connections: connections(c.connection_set),
            subscriptions: c
                .subscription_table
                .into_iter()
                .map(|(topic, s)| SubscriptionRow { topic, sub_expression: s.sub_string })
                .collect(),
            consume_type: c.consume_type,
            message_model: c.message_model,
            consume_from_where: c.consume_from_where,
        })
    }

    /// GET_PRODUCER_CONNECTION_LIST from every master, merged; no producer is NotFound.
    pub fn producer_connection(&self, group: &str) -> Result<Vec<ConnectionRow>> {
        check_name("group", group)?;
        let mut set = Vec::new();
        let mut last = Error::not_found(format!("the producer group[{group}] not exist"));
        for (_, addr) in self.masters(None)? {
            let req = RemotingCommand::request(rq::GET_PRODUCER_CONNECTION_LIST)
                .with("producerGroup", group);
            match self.call(&addr, req) {
                Ok(r) => {
                    let p: ProducerConnection = crate::protocol::json::from_fastjson(&r.body)
                        .map_err(|e| Error::bad_answer("producer connection", &addr, e))?;
                    set.extend(p.connection_set);
                }
                Err(e) if e.kind() == ErrorKind::Remote => {
                    last = Error::not_found(format!("the producer group[{group}] not exist"))
                }
                Err(e) => last = e,
            }
        }
        if set.is_empty() {
            return Err(last);
        }
        Ok(connections(set))
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP on every broker of `target`.
    pub fn update_sub_group(&self, target: &Target, o: &SubGroupOptions) -> Result<Vec<String>> {
        check_name("group", &o.group)?;
        let body = serde_json::json!({
            "groupName": o.group,
            "consumeEnable": o.consume_enable,
            "consumeFromMinEnable": false,
            "consumeBroadcastEnable": o.broadcast_enable,
            "retryQueueNums": 1,
            "retryMaxTimes": o.retry_max_times,
            "brokerId": 0,
            "whichBrokerWhenConsumeSlowly": 1,
            "notifyConsumerIdsChangedEnable": true,
        });
        let mut done = Vec::new();
        for addr in self.targets(target)? {
            let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
                .with_body(body.to_string().into_bytes());
            self.call(&addr, req)?;
            done.push(addr);
        }
        Ok(done)
    }

    /// DELETE_SUBSCRIPTIONGROUP on every broker of `target` (`remove_offset` also drops the
    /// group's offsets). For a cluster, also deletes the group's %RETRY% and %DLQ% topics, as
    /// mqadmin does; failures there are ignored. Returns the brokers.
    pub fn delete_sub_group(
        &self,
        target: &Target,
        group: &str,
        remove_offset: bool,
    ) -> Result<Vec<String>> {
        check_name("group", group)?;
        let addrs = self.targets(target)?;
        for addr in &addrs {
            let req = RemotingCommand::request(rq::DELETE_SUBSCRIPTIONGROUP)
                .with("groupName", group)
                .with("removeOffset", remove_offset);
            self.call(addr, req)?;
        }
        if let Target::Cluster(c) = target {
            for prefix in ["%RETRY%", "%DLQ%"] {
                if let Err(e) = self.delete_topic(c, &format!("{prefix}{group}")) {
                    log::debug!("deleteSubGroup: {prefix}{group} not deleted: {e}");
                }
            }
        }
        Ok(addrs)
    }

    /// mqadmin's resetOffsetByTime: INVOKE_BROKER_TO_RESET_OFFSET on every master of the
    /// topic's route, which pushes the offsets to running consumers; where none is online
    /// (CONSUMER_NOT_ONLINE), per queue SEARCH_OFFSET_BY_TIMESTAMP then UPDATE_CONSUMER_OFFSET
    /// (only backwards unless `force`).
    pub fn reset_offset_by_time(
        &self,
        group: &str,
        topic: &str,
        timestamp: i64,
        force: bool,
    ) -> Result<Vec<ResetRow>> {
        check_name("group", group)?;
        let route = self.route(topic)?;
        let mut out = Vec::new();
        for b in &route.broker_datas {
            let Some(addr) = b.broker_addrs.get(&0) else { continue };
            let req = RemotingCommand::request(rq::INVOKE_BROKER_TO_RESET_OFFSET)
                .with("topic", topic)
                .with("group", group)
                .with("timestamp", timestamp)
                .with("isForce", force);
            let r = self.invoke(addr, req)?;
            if r.code == rs::SUCCESS {
                let body = ResetOffsetBody::decode(&r.body)
                    .map_err(|e| Error::bad_answer("reset answer", addr, e))?;
                for (mq, off) in body.offset_table {
                    out.push(ResetRow {
                        broker_name: mq.broker_name,
                        queue_id: mq.queue_id,
                        broker_offset: None,
                        consumer_offset: None,
                        timestamp_offset: None,
                        reset_offset: off,
                        pushed: true,
                    });
                }
                continue;
            }
            if r.code != rs::CONSUMER_NOT_ONLINE {
                return Err(Error::from(crate::client::Error::broker(
                    r.code,
                    r.remark.as_deref(),
                    format!("reset offset on {addr} failed"),
                )));
            }
            let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
                .with("consumerGroup", group)
                .with("topic", topic);
            let stats = ConsumeStats::decode(&self.call(addr, req)?.body)
                .map_err(|e| Error::bad_answer("consume stats", addr, e))?;
            for (mq, o) in &stats.offset_table {
                let req = RemotingCommand::request(rq::SEARCH_OFFSET_BY_TIMESTAMP)
                    .with("topic", topic)
                    .with("queueId", mq.queue_id)
                    .with("timestamp", timestamp);
                let at = self
                    .call(addr, req)?
                    .i64_field("offset")
                    .map_err(|e| Error::bad_answer("search offset answer", addr, e))?;
                let reset = if force || at < o.consumer_offset { at } else { o.consumer_offset };
                if reset != o.consumer_offset {
                    let req = RemotingCommand::request(rq::UPDATE_CONSUMER_OFFSET)
                        .with("consumerGroup", group)
                        .with("topic", topic)
                        .with("queueId", mq.queue_id)
                        .with("commitOffset", reset);
                    self.call(addr, req)?;
                }
                out.push(ResetRow {
                    broker_name: mq.broker_name.clone(),
                    queue_id: mq.queue_id,
                    broker_offset: Some(o.broker_offset),
                    consumer_offset: Some(o.consumer_offset),
                    timestamp_offset: Some(at),
                    reset_offset: reset,
                    pushed: false,
                });
            }
        }
        out.sort_by(|a, b| (&a.broker_name, a.queue_id).cmp(&(&b.broker_name, b.queue_id)));
        Ok(out)
    }

    /// GET_BROKER_CONSUME_STATS (317) of one broker: every group's progress on every topic,
    /// rows with a diff of at least `diff_level` and a last timestamp (mqadmin's filter).
    pub fn broker_consume_stats(
        &self,
        addr: &str,
        order: bool,
        diff_level: i64,
    ) -> Result<BrokerConsumeStats> {
        let req = RemotingCommand::request(rq::GET_BROKER_CONSUME_STATS).with("isOrder", order);
        let r = self.call(addr, req)?;
        let list = ConsumeStatsList::decode(&r.body)
            .map_err(|e| Error::bad_answer("consume stats list", addr, e))?;
        let mut rows = Vec::new();
        for map in &list.consume_stats_list {
            for (group, stats) in map {
                for s in stats {
                    let table: BTreeMap<_, _> = s.offset_table.iter().collect();
                    for (mq, o) in table {
                        let diff = o.broker_offset - o.consumer_offset;
                        if diff < diff_level || o.last_timestamp <= 0 {
                            continue;
                        }
                        rows.push(BrokerConsumeRow {
                            topic: mq.topic.clone(),
                            group: group.clone(),
                            broker_name: mq.broker_name.clone(),
                            queue_id: mq.queue_id,
                            broker_offset: o.broker_offset,
                            consumer_offset: o.consumer_offset,
                            diff,
                            last_timestamp: o.last_timestamp,
                        });
                    }
                }
            }
        }
        Ok(BrokerConsumeStats { rows, total_diff: list.total_diff })
    }
}

/// `now` or milliseconds since the epoch, as resetOffsetByTime's `-s` takes it.
pub fn parse_timestamp(v: &str) -> Result<i64> {
    match v.trim() {
        "now" => Ok(now_millis()),
        s => s.parse::<i64>().map_err(|_| {
            Error::invalid(format!("'{s}' is not milliseconds since the epoch or 'now'"))
        }),
    }
}
