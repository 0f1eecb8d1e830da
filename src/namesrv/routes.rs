//! The route table (Apache RouteInfoManager): topics → queue data per broker name, broker names →
//! addresses, clusters → broker names, and broker liveness. One RwLock, never held across I/O.
//!
//! Masters and slaves (issue 11): every broker id of a broker name is listed in its
//! `brokerAddrs`; queue data comes from the master's (brokerId 0) registrations only; a slave's
//! registration is answered with its master's `haServerAddr` and `masterAddr`; a broker whose
//! connection closes is removed at once, master or slave (Apache's BrokerHousekeepingService),
//! and the queue data stays while any id of the name is left, so consumers read from the slave.

use crate::protocol::body::{
    BrokerData, ClusterInfo, DataVersion, QueueData, TopicConfigSerializeWrapper, TopicRouteData,
};
use parking_lot::RwLock;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

struct LiveBroker {
    last_update: Instant,
    data_version: DataVersion,
    conn_id: u64,
    ha_server_addr: String,
    broker_name: String,
}

#[derive(Default)]
struct Tables {
    topic_queue: BTreeMap<String, BTreeMap<String, QueueData>>,
    broker_addr: BTreeMap<String, BrokerData>,
    cluster_addr: BTreeMap<String, BTreeSet<String>>,
    live: HashMap<String, LiveBroker>,
}

/// A REGISTER_BROKER request, decoded.
pub struct Registration<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// Broker address `ip:port`.
    pub addr: &'a str,
    /// Broker name.
    pub name: &'a str,
    /// Broker id (0 = master).
    pub id: i64,
    /// HA address.
    pub ha_server_addr: &'a str,
    /// Topics and their version.
    pub topics: TopicConfigSerializeWrapper,
    /// The registering connection.
    pub conn_id: u64,
}

/// What a registration answers (a slave learns its master).
pub struct RegisterResult {
    /// Master's HA address (slaves only).
    pub ha_server_addr: Option<String>,
    /// Master's address (slaves only).
    pub master_addr: Option<String>,
}

/// The name server's routing state.
pub struct RouteTable {
    t: RwLock<Tables>,
    expire: Duration,
}

impl RouteTable {
    /// Empty table; brokers silent for `expire_millis` are dropped by `scan_expired`.
    pub fn new(expire_millis: u64) -> Self {
        RouteTable {
            t: RwLock::new(Tables::default()),
            expire: Duration::from_millis(expire_millis),
        }
    }

    /// Register (or refresh) a broker; a slave (id > 0) gets its live master's addresses back.
    pub fn register(&self, r: Registration<'_>) -> RegisterResult {
        let mut t = self.t.write();
        t.cluster_addr.entry(r.cluster.to_string()).or_default().insert(r.name.to_string());
        let first = !t.broker_addr.contains_key(r.name);
        let bd = t.broker_addr.entry(r.name.to_string()).or_insert_with(|| BrokerData {
            broker_addrs: BTreeMap::new(),
            broker_name: r.name.to_string(),
            cluster: r.cluster.to_string(),
        });
        bd.cluster = r.cluster.to_string();
        // The same address under another id (slave became master): drop the old entry.
        bd.broker_addrs.retain(|id, a| !(a == r.addr && *id != r.id));
        let first_for_addr = bd.broker_addrs.insert(r.id, r.addr.to_string()).is_none();
        let changed = match t.live.get(r.addr) {
            Some(l) => l.data_version != r.topics.data_version,
            None => true,
        };
        if r.id == 0 && (changed || first || first_for_addr) {
            for (name, tc) in &r.topics.topic_config_table {
                let qd = QueueData {
                    broker_name: r.name.to_string(),
                    perm: tc.perm,
                    read_queue_nums: tc.read_queue_nums,
                    topic_sys_flag: tc.topic_sys_flag,
                    write_queue_nums: tc.write_queue_nums,
                };
                let entry = t.topic_queue.entry(name.clone()).or_default();
                if entry.get(r.name) != Some(&qd) {
                    log::info!(
                        "topic route updated topic={} broker={} queues={}",
                        name,
                        r.name,
                        tc.write_queue_nums
                    );
                    entry.insert(r.name.to_string(), qd);
                }
            }
        }
        let prev = t.live.insert(
            r.addr.to_string(),
            LiveBroker {
                last_update: Instant::now(),
                data_version: r.topics.data_version.clone(),
                conn_id: r.conn_id,
                ha_server_addr: r.ha_server_addr.to_string(),
                broker_name: r.name.to_string(),
            },
        );
        if prev.is_none() {
            log::info!(
                "broker registered cluster={} name={} id={} addr={}",
                r.cluster,
                r.name,
                r.id,
                r.addr
            );
        }
        // A slave learns its master's addresses, as long as the master is registered and live
        // (Apache's RouteInfoManager.registerBroker, RegisterBrokerResponseHeader).
        let mut res = RegisterResult { ha_server_addr: None, master_addr: None };
        if r.id != 0 {
            let master = t.broker_addr.get(r.name).and_then(|b| b.broker_addrs.get(&0));
            if let Some((m, live)) = master.and_then(|m| t.live.get(m).map(|l| (m, l))) {
                res.ha_server_addr = Some(live.ha_server_addr.clone());
                res.master_addr = Some(m.clone());
            }
        }
        res
    }

    /// Remove a broker address (unregister, expiry or disconnect).
    pub fn unregister(&self, cluster: Option<&str>, addr: &str, name: &str, id: i64) {
        let mut t = self.t.write();
        Self::remove_locked(&mut t, cluster, addr, name, Some(id));
    }

    fn remove_locked(
        t: &mut Tables,
        cluster: Option<&str>,
        addr: &str,
        name: &str,
        id: Option<i64>,
    ) {
        t.live.remove(addr);
        let mut name_gone = false;
        if let Some(bd) = t.broker_addr.get_mut(name) {
            bd.broker_addrs.retain(|i, a| !(a == addr && id.is_none_or(|x| x == *i)));
            if bd.broker_addrs.is_empty() {
                t.broker_addr.remove(name);
                name_gone = true;
            }
        }
        if name_gone {
            for (c, names) in t.cluster_addr.iter_mut() {
                if cluster.is_none_or(|x| x == c) {
                    names.remove(name);
                }
            }
            t.cluster_addr.retain(|_, v| !v.is_empty());
            for qs in t.topic_queue.values_mut() {
                qs.remove(name);
            }
            t.topic_queue.retain(|_, v| !v.is_empty());
        }
        log::info!("broker removed name={} addr={} name_gone={}", name, addr, name_gone);
    }

    /// Refresh liveness and report whether `version` differs from the stored one.
    pub fn query_data_version(
        &self,
        addr: &str,
        version: &DataVersion,
    ) -> (bool, Option<DataVersion>) {
        let mut t = self.t.write();
        match t.live.get_mut(addr) {
            Some(l) => {
                let changed = l.data_version != *version;
                if !changed {
                    l.last_update = Instant::now();
                }
                (changed, Some(l.data_version.clone()))
            }
            None => (true, None),
        }
    }

    /// Drop brokers silent for longer than the expiry.
    pub fn scan_expired(&self) {
        let mut t = self.t.write();
        let now = Instant::now();
        let dead: Vec<(String, String)> = t
            .live
            .iter()
            .filter(|(_, l)| now.duration_since(l.last_update) > self.expire)
            .map(|(a, l)| (a.clone(), l.broker_name.clone()))
            .collect();
        for (addr, name) in dead {
            log::warn!(
                "broker expired addr={} name={} after_ms={}",
                addr,
                name,
                self.expire.as_millis()
            );
            Self::remove_locked(&mut t, None, &addr, &name, None);
        }
    }

    /// A connection closed: remove brokers that registered over it.
    pub fn connection_closed(&self, conn_id: u64) {
        let mut t = self.t.write();
        let gone: Vec<(String, String)> = t
            .live
            .iter()
            .filter(|(_, l)| l.conn_id == conn_id)
            .map(|(a, l)| (a.clone(), l.broker_name.clone()))
            .collect();
        for (addr, name) in gone {
            Self::remove_locked(&mut t, None, &addr, &name, None);
        }
    }

    /// Route of a topic, if any broker serves it.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let t = self.t.read();
        let qs = t.topic_queue.get(topic)?;
        let queue_datas: Vec<QueueData> = qs.values().cloned().collect();
        let broker_datas: Vec<BrokerData> = qs
            .keys()
            .filter_map(|n| t.broker_addr.get(n))
            .filter(|b| !b.broker_addrs.is_empty())
            .cloned()
            .collect();
        if queue_datas.is_empty() || broker_datas.is_empty() {
            return None;
        }
        Some(TopicRouteData { order_topic_conf: None, queue_datas, broker_datas })
    }

    /// Cluster info.
    pub fn cluster_info(&self) -> ClusterInfo {
        let t = self.t.read();
        ClusterInfo {
            broker_addr_table: t.broker_addr.clone(),
            cluster_addr_table: t.cluster_addr.clone(),
        }
    }

    /// All topic names.
    pub fn topics(&self) -> BTreeSet<String> {
        self.t.read().topic_queue.keys().cloned().collect()
    }

    /// Topics served by brokers of `cluster`.
    pub fn topics_of_cluster(&self, cluster: &str) -> BTreeSet<String> {
        let t = self.t.read();
        let Some(names) = t.cluster_addr.get(cluster) else { return BTreeSet::new() };
        t.topic_queue
            .iter()
            .filter(|(_, q)| q.keys().any(|n| names.contains(n)))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Delete a topic (for all clusters when `cluster` is empty).
    pub fn delete_topic(&self, topic: &str, cluster: &str) {
        let mut t = self.t.write();
        if cluster.is_empty() {
            t.topic_queue.remove(topic);
            return;
        }
        let names = t.cluster_addr.get(cluster).cloned().unwrap_or_default();
        if let Some(q) = t.topic_queue.get_mut(topic) {
            q.retain(|n, _| !names.contains(n));
            if q.is_empty() {
                t.topic_queue.remove(topic);
            }
        }
    }

    /// Number of live broker addresses (for tests).
    pub fn live_count(&self) -> usize {
        self.t.read().live.len()
    }
}

/// Operator changes (issue 14): wipeWritePerm / addWritePerm.
impl RouteTable {
    /// Take write permission from every queue of `broker_name` (`wipe`), or give every queue
    /// read and write permission back, as RouteInfoManager.operateWritePermOfBroker does.
    /// Returns the number of topics touched. A later registration with a changed data version
    /// replaces these permissions with the broker's own.
    pub fn set_write_perm(&self, broker_name: &str, wipe: bool) -> usize {
        use crate::protocol::body::perm;
        let mut t = self.t.write();
        let mut n = 0;
        for qs in t.topic_queue.values_mut() {
            if let Some(q) = qs.get_mut(broker_name) {
                q.perm = if wipe { q.perm & !perm::WRITE } else { perm::READ | perm::WRITE };
                n += 1;
            }
        }
        log::info!("write permission changed broker={broker_name} wipe={wipe} topics={n}");
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::TopicConfig;

    fn reg<'a>(
        t: &'a RouteTable,
        addr: &'a str,
        name: &'a str,
        id: i64,
        conn: u64,
        topics: &[&str],
    ) {
        let mut w = TopicConfigSerializeWrapper::default();
        for tp in topics {
            w.topic_config_table.insert(tp.to_string(), TopicConfig::new(tp, 4, 6));
        }
        w.data_version.counter = topics.len() as i64;
        t.register(Registration {
            cluster: "C",
            addr,
            name,
            id,
            ha_server_addr: "h:1",
            topics: w,
            conn_id: conn,
        });
    }

    fn register_as(
        t: &RouteTable,
        addr: &str,
        id: i64,
        ha: &str,
        conn: u64,
        topics: &[(&str, i32)],
    ) -> RegisterResult {
        let mut w = TopicConfigSerializeWrapper::default();
        for (tp, queues) in topics {
            w.topic_config_table.insert(tp.to_string(), TopicConfig::new(tp, *queues, 6));
        }
        t.register(Registration {
            cluster: "C",
            addr,
            name: "bx",
            id,
            ha_server_addr: ha,
            topics: w,
            conn_id: conn,
        })
    }

    #[test]
    fn master_and_slave_of_one_broker_name() {
        let t = RouteTable::new(60_000);
        // A slave registering before its master learns nothing yet.
        let r = register_as(&t, "s:10911", 1, "s:10912", 2, &[("T", 8)]);
        assert_eq!((r.master_addr, r.ha_server_addr), (None, None));
        assert!(t.route("T").is_none(), "queue data comes only from the master");
        let r = register_as(&t, "m:10911", 0, "m:10912", 1, &[("T", 4), ("U", 2)]);
        assert_eq!((r.master_addr, r.ha_server_addr), (None, None), "a master gets nothing");
        let r = register_as(&t, "s:10911", 1, "s:10912", 2, &[("T", 8), ("OnlySlave", 1)]);
        assert_eq!(r.master_addr.as_deref(), Some("m:10911"));
        assert_eq!(r.ha_server_addr.as_deref(), Some("m:10912"));
        let route = t.route("T").unwrap();
        assert_eq!(route.broker_datas.len(), 1);
        let addrs = &route.broker_datas[0].broker_addrs;
        assert_eq!(addrs.get(&0).map(String::as_str), Some("m:10911"));
        assert_eq!(addrs.get(&1).map(String::as_str), Some("s:10911"));
        assert_eq!(route.queue_datas.len(), 1);
        assert_eq!(
            route.queue_datas[0].write_queue_nums, 4,
            "the master's queues, not the slave's"
        );
        assert!(t.route("OnlySlave").is_none());
        let ci = t.cluster_info();
        assert_eq!(ci.broker_addr_table["bx"].broker_addrs.len(), 2, "cluster info shows all ids");
        // The master's connection closes: it goes at once, the slave keeps serving the queues.
        t.connection_closed(1);
        let route = t.route("T").unwrap();
        assert_eq!(route.broker_datas[0].broker_addrs.keys().copied().collect::<Vec<_>>(), vec![1]);
        assert_eq!(route.queue_datas[0].write_queue_nums, 4);
        let r = register_as(&t, "s:10911", 1, "s:10912", 2, &[("T", 8)]);
        assert_eq!((r.master_addr, r.ha_server_addr), (None, None), "no live master");
        // The same address under id 0 (a slave turned master) replaces its id-1 entry.
        register_as(&t, "s:10911", 0, "s:10912", 2, &[("T", 8)]);
        let route = t.route("T").unwrap();
        assert_eq!(route.broker_datas[0].broker_addrs.keys().copied().collect::<Vec<_>>(), vec![0]);
        assert_eq!(route.queue_datas[0].write_queue_nums, 8);
        // The last id's connection closes: the name and its topics go.
        t.connection_closed(2);
        assert!(t.route("T").is_none());
        assert!(t.cluster_info().broker_addr_table.is_empty());
    }

    #[test]
    fn register_route_expire_disconnect() {
        let t = RouteTable::new(0);
        reg(&t, "a:1", "ba", 0, 1, &["T1", "T2"]);
        reg(&t, "b:1", "bb", 0, 2, &["T1"]);
        let r = t.route("T1").unwrap();
        assert_eq!(r.broker_datas.len(), 2);
        assert_eq!(r.queue_datas.len(), 2);
        t.connection_closed(2);
        assert_eq!(t.route("T1").unwrap().broker_datas.len(), 1);
        assert!(t.route("T3").is_none());
        std::thread::sleep(Duration::from_millis(5));
        t.scan_expired();
        assert!(t.route("T1").is_none());
        assert_eq!(t.live_count(), 0);
        assert!(t.cluster_info().cluster_addr_table.is_empty());
    }
}
