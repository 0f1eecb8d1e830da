//! Subscription groups (SubscriptionGroupManager): per-group consumption settings, auto-created
//! on heartbeat, pull and send-back when `autoCreateSubscriptionGroup` is on, persisted to
//! `config/subscriptionGroup.json` in Apache's shape (`subscriptionGroupTable` + `dataVersion`),
//! and the admin codes UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200),
//! GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) and DELETE_SUBSCRIPTIONGROUP (207).

use crate::common::fs::{read_optional, write_atomic};
use crate::common::time::now_millis;
use crate::protocol::body::{lenient_bool, lenient_i32, lenient_i64, DataVersion};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Default `retryMaxTimes` of a subscription group.
pub const DEFAULT_RETRY_MAX_TIMES: i32 = 16;

/// Groups Apache's SubscriptionGroupManager creates at start.
const SYSTEM_GROUPS: [&str; 7] = [
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
];

/// Groups with this prefix are created even when auto-creation is off (MixAll.isSysConsumerGroup).
const SYS_GROUP_PREFIX: &str = "CID_RMQ_SYS_";

fn yes() -> bool {
    true
}
fn one_i32() -> i32 {
    1
}
fn one_i64() -> i64 {
    1
}
fn sixteen() -> i32 {
    DEFAULT_RETRY_MAX_TIMES
}

/// One group's settings (SubscriptionGroupConfig.java, same field names and defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionGroupConfig {
    /// Group name.
    #[serde(default)]
    pub group_name: String,
    /// False makes every pull of the group fail with NO_PERMISSION.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub consume_enable: bool,
    /// Start from the queue's minimum offset.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub consume_from_min_enable: bool,
    /// False refuses pulls of BROADCASTING consumers.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub consume_broadcast_enable: bool,
    /// Queues of `%RETRY%<group>`; 0 drops failed messages on send-back.
    #[serde(default = "one_i32", deserialize_with = "lenient_i32")]
    pub retry_queue_nums: i32,
    /// Reconsume count after which a message goes to `%DLQ%<group>`.
    #[serde(default = "sixteen", deserialize_with = "lenient_i32")]
    pub retry_max_times: i32,
    /// Broker id to consume from.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub broker_id: i64,
    /// Broker id suggested when consumption is slow.
    #[serde(default = "one_i64", deserialize_with = "lenient_i64")]
    pub which_broker_when_consume_slowly: i64,
    /// Send NOTIFY_CONSUMER_IDS_CHANGED when the group's members change.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub notify_consumer_ids_changed_enable: bool,
}

impl SubscriptionGroupConfig {
    /// A group with Apache's defaults.
    pub fn new(group: &str) -> Self {
        SubscriptionGroupConfig {
            group_name: group.to_string(),
            consume_enable: true,
            consume_from_min_enable: true,
            consume_broadcast_enable: true,
            retry_queue_nums: 1,
            retry_max_times: DEFAULT_RETRY_MAX_TIMES,
            broker_id: 0,
            which_broker_when_consume_slowly: 1,
            notify_consumer_ids_changed_enable: true,
        }
    }
}

/// The persisted file and the GET_ALL_SUBSCRIPTIONGROUP_CONFIG body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionGroupWrapper {
    /// Groups by name.
    #[serde(default)]
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
    /// Bumped on every change.
    #[serde(default)]
    pub data_version: DataVersion,
}

/// The broker's subscription group table.
pub struct GroupManager {
    path: PathBuf,
    state: RwLock<SubscriptionGroupWrapper>,
}

impl GroupManager {
    /// Load `subscriptionGroup.json` under `config_dir` and add Apache's system groups.
    pub fn open(config_dir: PathBuf) -> std::io::Result<Self> {
        let path = config_dir.join("subscriptionGroup.json");
        let mut state = match read_optional(&path)? {
            Some(text) => {
                crate::protocol::json::from_fastjson::<SubscriptionGroupWrapper>(text.as_bytes())
                    .map_err(|e| {
                        std::io::Error::other(format!("{} is not valid: {}", path.display(), e))
                    })?
            }
            None => SubscriptionGroupWrapper::default(),
        };
        for g in SYSTEM_GROUPS {
            state
                .subscription_group_table
                .entry(g.to_string())
                .or_insert_with(|| SubscriptionGroupConfig::new(g));
        }
        if state.data_version.timestamp == 0 {
            state.data_version = DataVersion { counter: 1, timestamp: now_millis() };
        }
        let m = GroupManager { path, state: RwLock::new(state) };
        m.persist();
        Ok(m)
    }

    fn persist(&self) {
        let body = serde_json::to_vec_pretty(&*self.state.read()).unwrap_or_default();
        if let Err(e) = write_atomic(&self.path, &body) {
            log::error!(
                "cannot persist subscription groups path={} err={}",
                self.path.display(),
                e
            );
        }
    }

    fn bump(v: &mut DataVersion) {
        v.counter += 1;
        v.timestamp = now_millis();
    }

    /// A group's config without creating it.
    pub fn get(&self, group: &str) -> Option<SubscriptionGroupConfig> {
        self.state.read().subscription_group_table.get(group).cloned()
    }

    /// A group's config, created with the defaults when `auto_create`
    /// (autoCreateSubscriptionGroup) is on or the group is a system group (findSubscriptionGroupConfig). `None` when it neither exists nor may be made.
    pub fn find(&self, group: &str, auto_create: bool) -> Option<SubscriptionGroupConfig> {
        if let Some(c) = self.get(group) {
            return Some(c);
        }
        if group.is_empty() || !(auto_create || group.starts_with(SYS_GROUP_PREFIX)) {
            return None;
        }
        let c = {
            let mut s = self.state.write();
            let c = s
                .subscription_group_table
                .entry(group.to_string())
                .or_insert_with(|| SubscriptionGroupConfig::new(group))
                .clone();
            Self::bump(&mut s.data_version);
            c
        };
        log::info!("subscription group auto-created group={}", group);
        self.persist();
        Some(c)
    }

    /// Create or replace a group.
    pub fn update(&self, cfg: SubscriptionGroupConfig) {
        {
            let mut s = self.state.write();
            log::info!("subscription group updated group={} config={:?}", cfg.group_name, cfg);
            s.subscription_group_table.insert(cfg.group_name.clone(), cfg);
            Self::bump(&mut s.data_version);
        }
        self.persist();
    }

    /// Delete a group. Returns true if it existed.
    pub fn delete(&self, group: &str) -> bool {
        let removed = {
            let mut s = self.state.write();
            let r = s.subscription_group_table.remove(group).is_some();
            if r {
                Self::bump(&mut s.data_version);
            }
            r
        };
        if removed {
            log::info!("subscription group deleted group={}", group);
            self.persist();
        }
        removed
    }

    /// A slave takes its master's table (SlaveSynchronize.syncSubscriptionGroupConfig): when the
    /// versions differ, the whole table and its version are replaced and persisted. Returns true
    /// if so.
    pub fn replace_from_master(&self, master: SubscriptionGroupWrapper) -> bool {
        {
            let mut s = self.state.write();
            if s.data_version == master.data_version {
                return false;
            }
            *s = master;
        }
        self.persist();
        true
    }

    /// The whole table with its version (GET_ALL_SUBSCRIPTIONGROUP_CONFIG body).
    pub fn snapshot(&self) -> SubscriptionGroupWrapper {
        self.state.read().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_create_persist_reload_and_apache_shape() {
        let dir = std::env::temp_dir().join(format!("rmq-groups-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let m = GroupManager::open(dir.clone()).unwrap();
        assert!(m.get("G1").is_none());
        let c = m.find("G1", true).unwrap();
        assert_eq!(c, SubscriptionGroupConfig::new("G1"));
        let mut c2 = SubscriptionGroupConfig::new("G2");
        c2.retry_max_times = 2;
        c2.consume_enable = false;
        m.update(c2.clone());
        let text = std::fs::read_to_string(dir.join("subscriptionGroup.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["subscriptionGroupTable"]["G2"]["retryMaxTimes"], 2);
        assert_eq!(v["subscriptionGroupTable"]["G2"]["consumeEnable"], false);
        assert_eq!(v["subscriptionGroupTable"]["G1"]["whichBrokerWhenConsumeSlowly"], 1);
        assert!(v["dataVersion"]["counter"].as_i64().unwrap() >= 3);
        let m2 = GroupManager::open(dir.clone()).unwrap();
        assert_eq!(m2.get("G2"), Some(c2));
        assert!(m2.get("G1").is_some());
        // Auto-creation off: unknown groups stay unknown, system-prefixed ones are made.
        assert!(m2.find("G3", false).is_none());
        assert!(m2.find("CID_RMQ_SYS_X", false).is_some());
        assert!(m2.delete("G2"));
        assert!(!m2.delete("G2"));
        assert!(GroupManager::open(dir.clone()).unwrap().get("G2").is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn reads_fastjson_text_with_defaults_for_missing_fields() {
        let c: SubscriptionGroupConfig = crate::protocol::json::from_fastjson(
            br#"{"groupName":"G","retryMaxTimes":"3","consumeEnable":false}"#,
        )
        .unwrap();
        assert_eq!(c.retry_max_times, 3);
        assert!(!c.consume_enable);
        assert!(c.consume_broadcast_enable);
        assert_eq!(c.retry_queue_nums, 1);
    }
}
