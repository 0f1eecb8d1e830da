//! Clusters and brokers: clusterList, brokerStatus, getBrokerConfig, updateBrokerConfig,
//! clusterRT (CLusterSendMsgRTCommand), cleanExpiredCQ.

use super::{Admin, Error, ErrorKind, Result, Target};
use crate::client::{Message, Producer, ProducerOptions};
use crate::common::config::parse_properties;
use crate::common::time::now_millis;
use crate::protocol::body::KvTable;
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// One broker address of clusterList (ClusterListSubCommand's columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterBroker {
    /// Cluster name.
    pub cluster: String,
    /// Broker name.
    pub broker_name: String,
    /// Broker id (0 = master).
    pub broker_id: i64,
    /// Address.
    pub addr: String,
    /// `brokerVersionDesc`, or None when the broker did not answer.
    pub version: Option<String>,
    /// First number of `putTps` (messages in per second over 10 s).
    pub in_tps: f64,
    /// First number of `getTransferedTps` (messages out per second over 10 s).
    pub out_tps: f64,
    /// `pageCacheLockTimeMills`.
    pub page_cache_wait_ms: i64,
    /// Hours since the earliest stored message.
    pub hours: f64,
    /// `commitLogDiskRatio`.
    pub disk_ratio: f64,
    /// `msgPutTotalTodayNow`.
    pub msg_put_today: i64,
    /// `msgGetTotalTodayNow`.
    pub msg_get_today: i64,
    /// `commitLogMaxOffset`.
    pub commit_log_max_offset: i64,
    /// A slave's replication lag: its master's commitLogMaxOffset minus its own, in bytes
    /// (None on a master, or when either did not answer).
    pub replication_lag: Option<i64>,
}

/// One key of a broker's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerConfigEntry {
    /// Broker address.
    pub addr: String,
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// One broker of clusterRT.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRtRow {
    /// Cluster name.
    pub cluster: String,
    /// Broker name (also the topic sent to, as Apache's command does).
    pub broker_name: String,
    /// Mean send time in ms, without the first send (which opens the connection).
    pub rt_ms: f64,
    /// Sends answered SEND_OK.
    pub success: u64,
    /// Sends that failed.
    pub failed: u64,
}

/// clusterRT settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRt {
    /// Messages per broker (100).
    pub amount: u64,
    /// Body size in bytes (128).
    pub size: usize,
    /// Only this cluster (all when None).
    pub cluster: Option<String>,
}

impl Default for ClusterRt {
    fn default() -> Self {
        ClusterRt { amount: 100, size: 128, cluster: None }
    }
}

fn first_number(s: Option<&String>) -> f64 {
    s.and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

fn int(s: Option<&String>) -> i64 {
    s.and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

impl Admin {
    /// GET_BROKER_RUNTIME_INFO: the broker's runtime key/value table.
    pub fn broker_status(&self, addr: &str) -> Result<BTreeMap<String, String>> {
        let r = self.call(addr, RemotingCommand::request(rq::GET_BROKER_RUNTIME_INFO))?;
        let kv: KvTable = crate::protocol::json::from_fastjson(&r.body)
            .map_err(|e| Error::bad_answer("runtime info", addr, e))?;
        Ok(kv.table)
    }

    /// Every broker address of every cluster with its runtime figures; a broker that does not
    /// answer is listed with `version: None`.
    pub fn cluster_list(&self) -> Result<Vec<ClusterBroker>> {
        let info = self.cluster_info()?;
        let now = now_millis();
        let mut out = Vec::new();
        for (cluster, names) in &info.cluster_addr_table {
            for name in names {
                let Some(b) = info.broker_addr_table.get(name) else { continue };
                for (id, addr) in &b.broker_addrs {
                    let t = self.broker_status(addr).ok();
                    let get = |k: &str| t.as_ref().and_then(|t| t.get(k));
                    let earliest = int(get("earliestMessageTimeStamp"));
                    out.push(ClusterBroker {
                        cluster: cluster.clone(),
                        broker_name: name.clone(),
                        broker_id: *id,
                        addr: addr.clone(),
                        version: t
                            .as_ref()
                            .map(|t| t.get("brokerVersionDesc").cloned().unwrap_or_default()),
                        in_tps: first_number(get("putTps")),
                        out_tps: first_number(
                            get("getTransferedTps").or_else(|| get("getTransferredTps")),
                        ),
                        page_cache_wait_ms: int(get("pageCacheLockTimeMills")),
                        hours: if earliest > 0 {
                            (now - earliest).max(0) as f64 / 3_600_000.0
                        } else {
                            0.0
                        },
                        disk_ratio: first_number(get("commitLogDiskRatio")),
                        msg_put_today: int(get("msgPutTotalTodayNow")),
                        msg_get_today: int(get("msgGetTotalTodayNow")),
                        commit_log_max_offset: int(get("commitLogMaxOffset")),
                        replication_lag: None,
                    });
                }
            }
        }
        // Slaves: how far behind their master (read after it, so a lag is never negative by
        // more than what arrived in between; clamped at 0).
        let masters: BTreeMap<(String, String), (bool, i64)> = out
            .iter()
            .filter(|r| r.broker_id == 0)
            .map(|r| {
                (
                    (r.cluster.clone(), r.broker_name.clone()),
                    (r.version.is_some(), r.commit_log_max_offset),
                )
            })
            .collect();
        for r in out.iter_mut().filter(|r| r.broker_id != 0 && r.version.is_some()) {
            if let Some((true, max)) = masters.get(&(r.cluster.clone(), r.broker_name.clone())) {
                r.replication_lag = Some((max - r.commit_log_max_offset).max(0));
            }
        }
        Ok(out)
    }

    /// GET_BROKER_CONFIG of every broker of `target`, in the order the broker sends the keys.
    pub fn broker_config(&self, target: &Target) -> Result<Vec<BrokerConfigEntry>> {
        let mut out = Vec::new();
        for addr in self.targets(target)? {
            let r = self.call(&addr, RemotingCommand::request(rq::GET_BROKER_CONFIG))?;
            for (key, value) in parse_properties(&String::from_utf8_lossy(&r.body)) {
                out.push(BrokerConfigEntry { addr: addr.clone(), key, value });
            }
        }
        Ok(out)
    }

    /// UPDATE_BROKER_CONFIG `key=value` on every broker of `target`; returns each address with
    /// the broker's remark (what it could not apply live, if anything).
    pub fn update_broker_config(
        &self,
        target: &Target,
        key: &str,
        value: &str,
    ) -> Result<Vec<(String, String)>> {
        if key.trim().is_empty() || key.contains(['=', '\n']) || value.contains('\n') {
            return Err(Error::invalid(format!("'{key}' = '{value}' is not one config entry")));
        }
        let mut out = Vec::new();
        for addr in self.targets(target)? {
            let req = RemotingCommand::request(rq::UPDATE_BROKER_CONFIG)
                .with_body(format!("{key}={value}\n").into_bytes());
            let r = self.call(&addr, req)?;
            out.push((addr, r.remark.unwrap_or_default()));
        }
        Ok(out)
    }

    /// CLEAN_EXPIRED_CONSUMEQUEUE on every broker of `target` (all masters when None).
    pub fn clean_expired_cq(&self, target: Option<&Target>) -> Result<Vec<String>> {
        let addrs = match target {
            Some(t) => self.targets(t)?,
            None => self.masters(None)?.into_iter().map(|(_, a)| a).collect(),
        };
        for addr in &addrs {
            self.call(addr, RemotingCommand::request(rq::CLEAN_EXPIRED_CONSUMEQUEUE))?;
        }
        Ok(addrs)
    }

    /// Send `amount` messages of `size` bytes to each broker (topic = broker name, as Apache's
    /// clusterRT) and time them. One round; Apache's command repeats forever.
    pub fn cluster_rt(&self, o: &ClusterRt) -> Result<Vec<SendRtRow>> {
        if o.amount < 2 {
            return Err(Error::invalid("clusterRT needs an amount of at least 2"));
        }
        let info = self.cluster_info()?;
        let clusters: Vec<String> = match &o.cluster {
            Some(c) if info.cluster_addr_table.contains_key(c) => vec![c.clone()],
            Some(c) => return Err(Error::not_found(format!("cluster {c} not found"))),
            None => info.cluster_addr_table.keys().cloned().collect(),
        };
        let group = format!("rmq_admin_rt_{}", std::process::id());
        let mut po = ProducerOptions::new(&group, self.namesrv_addr());
        po.config.instance_name = format!("rmq-admin-rt-{}", now_millis());
        po.config.credentials = self.credentials();
        po.retry_times = 0;
        po.send_timeout = self.timeout();
        let producer = Producer::new(po)?;
        producer.start()?;
        let body = vec![b'a'; o.size];
        let mut out = Vec::new();
        for cluster in clusters {
            let names = info.cluster_addr_table.get(&cluster).cloned().unwrap_or_default();
            for name in names {
                let msg = Message::new(&name, body.clone());
                let (mut ok, mut failed, mut elapsed) = (0u64, 0u64, 0f64);
                for i in 0..o.amount {
                    let t0 = Instant::now();
                    match producer.send(&msg) {
                        Ok(_) => ok += 1,
                        Err(e) => {
                            log::debug!("clusterRT send failed broker={name} err={e}");
                            failed += 1
                        }
                    }
                    if i > 0 {
                        elapsed += t0.elapsed().as_secs_f64() * 1000.0;
                    }
                }
                out.push(SendRtRow {
                    cluster: cluster.clone(),
                    broker_name: name,
                    rt_ms: elapsed / (o.amount - 1) as f64,
                    success: ok,
                    failed,
                });
            }
        }
        producer.shutdown();
        if out.is_empty() {
            return Err(Error::new(ErrorKind::NotFound, "no broker to send to"));
        }
        Ok(out)
    }
}
