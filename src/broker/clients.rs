//! Producer and consumer tables fed by HEART_BEAT (ConsumerManager, ProducerManager): channels
//! per group, consumer subscriptions, expiry of silent clients, and the consumer-ids-changed
//! notification.

use crate::protocol::body::{ConsumerData, SubscriptionData};
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;
use crate::remoting::Connection;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One client connection of a group.
#[derive(Clone)]
pub struct ClientChannel {
    /// Client id (`ip@pid#...`).
    pub client_id: String,
    /// The connection.
    pub conn: Arc<Connection>,
    /// Language name from the heartbeat frame.
    pub language: String,
    /// Version from the heartbeat frame.
    pub version: i32,
    /// Last heartbeat.
    pub last_update: Instant,
}

/// A consumer group's live state.
#[derive(Clone, Default)]
pub struct ConsumerGroup {
    /// Channels by connection id.
    pub channels: BTreeMap<u64, ClientChannel>,
    /// Subscriptions by topic.
    pub subscriptions: BTreeMap<String, SubscriptionData>,
    /// `CLUSTERING` / `BROADCASTING`.
    pub message_model: String,
    /// `CONSUME_ACTIVELY` / `CONSUME_PASSIVELY`.
    pub consume_type: String,
    /// Where to start.
    pub consume_from_where: String,
}

/// A consumer's subscription to one topic, as a pull uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSubscription {
    /// The filter expression (`*`, `A || B`).
    pub expression: String,
    /// `TAG` (or empty) or another filter type.
    pub expression_type: String,
    /// The subscription's version.
    pub version: i64,
}

/// Producer and consumer tables.
#[derive(Default)]
pub struct ClientManager {
    consumers: RwLock<HashMap<String, ConsumerGroup>>,
    producers: RwLock<HashMap<String, BTreeMap<u64, ClientChannel>>>,
}

impl ClientManager {
    /// Register a consumer heartbeat. Returns true when the group's members or subscriptions
    /// changed (the caller then notifies the group).
    pub fn register_consumer(&self, ch: ClientChannel, data: &ConsumerData) -> bool {
        let mut t = self.consumers.write();
        let g = t.entry(data.group_name.clone()).or_default();
        g.message_model = data.message_model.clone();
        g.consume_type = data.consume_type.clone();
        g.consume_from_where = data.consume_from_where.clone();
        let new_member = !g
            .channels
            .values()
            .any(|c| c.client_id == ch.client_id && c.conn.id() == ch.conn.id());
        g.channels.insert(ch.conn.id(), ch);
        let mut subs_changed = false;
        let mut next = BTreeMap::new();
        for s in &data.subscription_data_set {
            let mut s = s.clone();
            // Recompute tag hashes from the tags (§3.9): never trust the client's codeSet.
            s.code_set = s.tags_set.iter().map(|t| crate::protocol::record::tag_hash(t)).collect();
            match g.subscriptions.get(&s.topic) {
                Some(old) if old.sub_version >= s.sub_version && old.sub_string == s.sub_string => {
                    next.insert(s.topic.clone(), old.clone());
                }
                _ => {
                    subs_changed = true;
                    next.insert(s.topic.clone(), s);
                }
            }
        }
        if next.len() != g.subscriptions.len() {
            subs_changed = true;
        }
        g.subscriptions = next;
        new_member || subs_changed
    }

    /// Register a producer heartbeat.
    pub fn register_producer(&self, group: &str, ch: ClientChannel) {
        self.producers.write().entry(group.to_string()).or_default().insert(ch.conn.id(), ch);
    }

    /// Remove a client from a consumer group. Returns true if it was there.
    pub fn unregister_consumer(&self, group: &str, client_id: &str) -> bool {
        let mut t = self.consumers.write();
        let Some(g) = t.get_mut(group) else { return false };
        let before = g.channels.len();
        g.channels.retain(|_, c| c.client_id != client_id);
        let removed = g.channels.len() != before;
        if g.channels.is_empty() {
            t.remove(group);
        }
        removed
    }

    /// Remove a client from a producer group.
    pub fn unregister_producer(&self, group: &str, client_id: &str) {
        let mut t = self.producers.write();
        if let Some(g) = t.get_mut(group) {
            g.retain(|_, c| c.client_id != client_id);
            if g.is_empty() {
                t.remove(group);
            }
        }
    }

    /// Drop every channel of a closed connection, or (with `expire`) every channel silent for
    /// longer than it. Returns the consumer groups that lost members.
    pub fn remove_channels(&self, conn_id: Option<u64>, expire: Option<Duration>) -> Vec<String> {
        let now = Instant::now();
        let dead = |c: &ClientChannel| {
            conn_id.is_some_and(|id| c.conn.id() == id)
                || expire.is_some_and(|e| now.duration_since(c.last_update) > e)
        };
        let mut changed = Vec::new();
        {
            let mut t = self.consumers.write();
            for (name, g) in t.iter_mut() {
                let before = g.channels.len();
                g.channels.retain(|_, c| {
                    let d = dead(c);
                    if d && expire.is_some() {
                        log::warn!(
                            "consumer channel expired group={} client={}",
                            name,
                            c.client_id
                        );
                        c.conn.close();
                    }
                    !d
                });
                if g.channels.len() != before {
                    changed.push(name.clone());
                }
            }
            t.retain(|_, g| !g.channels.is_empty());
        }
        let mut p = self.producers.write();
        for (name, g) in p.iter_mut() {
            g.retain(|_, c| {
                let d = dead(c);
                if d && expire.is_some() {
                    log::warn!("producer channel expired group={} client={}", name, c.client_id);
                    c.conn.close();
                }
                !d
            });
        }
        p.retain(|_, g| !g.is_empty());
        changed
    }

    /// Client ids of a consumer group, sorted (clients allocate queues from this list).
    pub fn consumer_ids(&self, group: &str) -> Vec<String> {
        let t = self.consumers.read();
        let mut ids: Vec<String> = t
            .get(group)
            .map(|g| g.channels.values().map(|c| c.client_id.clone()).collect())
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The subscription of `group` to `topic` registered by heartbeat.
    pub fn subscription(&self, group: &str, topic: &str) -> Option<SubscriptionData> {
        self.consumers.read().get(group).and_then(|g| g.subscriptions.get(topic)).cloned()
    }

    /// What a pull needs of a group's heartbeat, read under the lock without copying the group:
    /// `None` when the group has no live members, else whether it consumes by broadcasting and
    /// its subscription to `topic` as (expression, expression type, version).
    pub fn pull_view(&self, group: &str, topic: &str) -> Option<(bool, Option<PullSubscription>)> {
        let t = self.consumers.read();
        let g = t.get(group)?;
        let sub = g.subscriptions.get(topic).map(|s| PullSubscription {
            expression: s.sub_string.clone(),
            expression_type: s.expression_type.clone(),
            version: s.sub_version,
        });
        Some((g.message_model == "BROADCASTING", sub))
    }

    /// A snapshot of a consumer group.
    pub fn consumer_group(&self, group: &str) -> Option<ConsumerGroup> {
        self.consumers.read().get(group).cloned()
    }

    /// Names of the consumer groups with live members.
    pub fn consumer_group_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.consumers.read().keys().cloned().collect();
        v.sort();
        v
    }

    /// Consumer groups subscribing to `topic`.
    pub fn groups_subscribing(&self, topic: &str) -> Vec<String> {
        self.consumers
            .read()
            .iter()
            .filter(|(_, g)| g.subscriptions.contains_key(topic))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The channels of a producer group, if it has any.
    pub fn producer_group(&self, group: &str) -> Option<Vec<ClientChannel>> {
        self.producers.read().get(group).map(|g| g.values().cloned().collect())
    }

    /// The connection ids of every consumer and of every producer channel.
    pub fn connection_ids(&self) -> (HashSet<u64>, HashSet<u64>) {
        let consumers = self
            .consumers
            .read()
            .values()
            .flat_map(|g| g.channels.values().map(|c| c.conn.id()))
            .collect();
        let producers =
            self.producers.read().values().flat_map(|g| g.values().map(|c| c.conn.id())).collect();
        (consumers, producers)
    }

    /// Every producer group with its channels, by group name.
    pub fn producers(&self) -> BTreeMap<String, Vec<ClientChannel>> {
        self.producers
            .read()
            .iter()
            .map(|(g, chs)| (g.clone(), chs.values().cloned().collect()))
            .collect()
    }

    /// Send NOTIFY_CONSUMER_IDS_CHANGED (one-way) to every channel of `group`. Takes a snapshot
    /// first so no lock is held during I/O.
    pub fn notify_ids_changed(&self, group: &str) {
        let conns: Vec<Arc<Connection>> = self
            .consumers
            .read()
            .get(group)
            .map(|g| g.channels.values().map(|c| c.conn.clone()).collect())
            .unwrap_or_default();
        for c in conns {
            let cmd = RemotingCommand::request(request::NOTIFY_CONSUMER_IDS_CHANGED)
                .with("consumerGroup", group);
            if let Err(e) = c.oneway(cmd) {
                log::debug!("notify failed group={} peer={} err={}", group, c.peer(), e);
            }
        }
    }
}
