//! Topics: updateTopic, deleteTopic, topicList, topicRoute, topicStatus.

use super::{check_name, Admin, Error, Result, Target};
use crate::protocol::admin_body::TopicStatsTable;
use crate::protocol::body::TopicList;
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;
use serde::Serialize;

/// Settings of updateTopic (UpdateTopicSubCommand's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOptions {
    /// Topic name.
    pub topic: String,
    /// Read queues (8).
    pub read_queues: i32,
    /// Write queues (8).
    pub write_queues: i32,
    /// Permission bits (6 = read and write).
    pub perm: i32,
    /// Ordered topic (false).
    pub order: bool,
}

impl Default for TopicOptions {
    fn default() -> Self {
        TopicOptions {
            topic: String::new(),
            read_queues: 8,
            write_queues: 8,
            perm: 6,
            order: false,
        }
    }
}

/// One broker of a topic route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteBroker {
    /// Broker name.
    pub broker_name: String,
    /// Cluster.
    pub cluster: String,
    /// Broker id (0 = master).
    pub broker_id: i64,
    /// Address.
    pub addr: String,
}

/// One broker's queues of a topic route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteQueue {
    /// Broker name.
    pub broker_name: String,
    /// Read queues.
    pub read_queue_nums: i32,
    /// Write queues.
    pub write_queue_nums: i32,
    /// Permission bits.
    pub perm: i32,
}

/// topicRoute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRoute {
    /// Topic.
    pub topic: String,
    /// Brokers and addresses.
    pub brokers: Vec<RouteBroker>,
    /// Queues per broker.
    pub queues: Vec<RouteQueue>,
    /// Order configuration, when the name server has one.
    pub order_topic_conf: Option<String>,
}

/// One queue of topicStatus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatus {
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// First offset stored.
    pub min_offset: i64,
    /// Next offset to be written.
    pub max_offset: i64,
    /// Store time of the newest message (ms), 0 if none.
    pub last_update_timestamp: i64,
}

impl Admin {
    /// UPDATE_AND_CREATE_TOPIC on every broker of `target`; returns the addresses updated.
    pub fn update_topic(&self, target: &Target, o: &TopicOptions) -> Result<Vec<String>> {
        check_name("topic", &o.topic)?;
        if o.read_queues < 1 || o.write_queues < 1 {
            return Err(Error::invalid("a topic needs at least one read and one write queue"));
        }
        if !(0..=7).contains(&o.perm) {
            return Err(Error::invalid(format!("perm {} is not a permission (0..7)", o.perm)));
        }
        let mut done = Vec::new();
        for addr in self.targets(target)? {
            let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
                .with("topic", &o.topic)
                .with("defaultTopic", "TBW102")
                .with("readQueueNums", o.read_queues)
                .with("writeQueueNums", o.write_queues)
                .with("perm", o.perm)
                .with("topicFilterType", "SINGLE_TAG")
                .with("topicSysFlag", 0)
                .with("order", o.order);
            self.call(&addr, req)?;
            done.push(addr);
        }
        Ok(done)
    }

    /// DELETE_TOPIC_IN_BROKER on the cluster's masters, then DELETE_TOPIC_IN_NAMESRV on every
    /// name server. Returns `(brokers, name servers)` it was deleted from.
    pub fn delete_topic(&self, cluster: &str, topic: &str) -> Result<(Vec<String>, Vec<String>)> {
        check_name("topic", topic)?;
        let mut brokers = Vec::new();
        for (_, addr) in self.masters(Some(cluster))? {
            let req = RemotingCommand::request(rq::DELETE_TOPIC_IN_BROKER).with("topic", topic);
            self.call(&addr, req)?;
            brokers.push(addr);
        }
        let mut namesrvs = Vec::new();
        for ns in self.namesrv_list()? {
            let req = RemotingCommand::request(rq::DELETE_TOPIC_IN_NAMESRV)
                .with("topic", topic)
                .with("clusterName", cluster);
            self.call(ns, req)?;
            namesrvs.push(ns.clone());
        }
        Ok((brokers, namesrvs))
    }

    /// Every topic the name server knows, sorted.
    pub fn topic_list(&self) -> Result<Vec<String>> {
        let r =
            self.call_namesrv(RemotingCommand::request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER))?;
        let list: TopicList = crate::protocol::json::from_fastjson(&r.body)
            .map_err(|e| Error::bad_answer("topic list", "name server", e))?;
        Ok(list.topic_list.into_iter().collect())
    }

    /// The route of `topic`.
    pub fn topic_route(&self, topic: &str) -> Result<TopicRoute> {
        let r = self.route(topic)?;
        let mut brokers = Vec::new();
        for b in &r.broker_datas {
            for (id, addr) in &b.broker_addrs {
                brokers.push(RouteBroker {
                    broker_name: b.broker_name.clone(),
                    cluster: b.cluster.clone(),
                    broker_id: *id,
                    addr: addr.clone(),
                });
            }
        }
        let queues = r
            .queue_datas
            .iter()
            .map(|q| RouteQueue {
                broker_name: q.broker_name.clone(),
                read_queue_nums: q.read_queue_nums,
                write_queue_nums: q.write_queue_nums,
                perm: q.perm,
            })
            .collect();
        Ok(TopicRoute {
            topic: topic.to_string(),
            brokers,
            queues,
            order_topic_conf: r.order_topic_conf,
        })
    }

    /// GET_TOPIC_STATS_INFO from every master of the topic's route, sorted by broker and queue.
    pub fn topic_status(&self, topic: &str) -> Result<Vec<QueueStatus>> {
        let route = self.route(topic)?;
        let mut out = Vec::new();
        for b in &route.broker_datas {
            let Some(addr) = b.broker_addrs.get(&0) else { continue };
            let req = RemotingCommand::request(rq::GET_TOPIC_STATS_INFO).with("topic", topic);
            let r = self.call(addr, req)?;
            let t = TopicStatsTable::decode(&r.body)
                .map_err(|e| Error::bad_answer("topic stats", addr, e))?;
            for (mq, o) in t.offset_table {
                out.push(QueueStatus {
                    broker_name: mq.broker_name,
                    queue_id: mq.queue_id,
                    min_offset: o.min_offset,
                    max_offset: o.max_offset,
                    last_update_timestamp: o.last_update_timestamp,
                });
            }
        }
        out.sort_by(|a, b| (&a.broker_name, a.queue_id).cmp(&(&b.broker_name, b.queue_id)));
        Ok(out)
    }
}
