//! Topic configs (TopicConfigManager): system topics at start, auto-creation on send through
//! TBW102, persisted to `config/topics.json` as a TopicConfigSerializeWrapper.

use crate::common::fs::{read_optional, write_atomic};
use crate::common::time::now_millis;
use crate::protocol::body::{perm, DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The auto-create template topic.
pub const TBW102: &str = "TBW102";
/// Prefix of retry topics.
pub const RETRY_PREFIX: &str = "%RETRY%";
/// Prefix of dead-letter topics.
pub const DLQ_PREFIX: &str = "%DLQ%";
/// Delayed-message topic.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// Topics clients may not send to (§5.11).
pub const NOT_SENDABLE: [&str; 6] = [
    SCHEDULE_TOPIC,
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
];

/// Why a topic name is invalid, if it is.
pub fn validate_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() {
        return Err("the topic name is empty".into());
    }
    if topic.len() > 127 {
        return Err(format!("the topic name is longer than 127 characters: {}", topic.len()));
    }
    if !topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'%' || b == b'|' || b == b'_' || b == b'-')
    {
        return Err(format!(
            "the topic name '{topic}' contains characters outside [%|a-zA-Z0-9_-]"
        ));
    }
    Ok(())
}

/// The broker's topic table.
pub struct TopicManager {
    path: PathBuf,
    state: RwLock<TopicConfigSerializeWrapper>,
}

impl TopicManager {
    /// Load `topics.json` under `config_dir` and add the system topics.
    pub fn open(config_dir: PathBuf, cfg: &super::config::BrokerConfig) -> std::io::Result<Self> {
        let path = config_dir.join("topics.json");
        let mut state = match read_optional(&path)? {
            Some(text) => {
                crate::protocol::json::from_fastjson::<TopicConfigSerializeWrapper>(text.as_bytes())
                    .map_err(|e| {
                        std::io::Error::other(format!("{} is not valid: {}", path.display(), e))
                    })?
            }
            None => TopicConfigSerializeWrapper::default(),
        };
        let mut sys = vec![
            TopicConfig::new("SELF_TEST_TOPIC", 1, perm::READ | perm::WRITE),
            TopicConfig::new("OFFSET_MOVED_EVENT", 1, perm::READ | perm::WRITE),
            TopicConfig::new(SCHEDULE_TOPIC, 18, perm::READ | perm::WRITE),
        ];
        if cfg.auto_create_topic_enable {
            sys.push(TopicConfig::new(
                TBW102,
                cfg.default_topic_queue_nums,
                perm::READ | perm::WRITE | perm::INHERIT,
            ));
        }
        if cfg.cluster_topic_enable {
            sys.push(TopicConfig::new(
                &cfg.broker_cluster_name,
                16,
                perm::READ | perm::WRITE | perm::INHERIT,
            ));
        }
        if cfg.broker_topic_enable {
            sys.push(TopicConfig::new(
                &cfg.broker_name,
                1,
                perm::READ | perm::WRITE | perm::INHERIT,
            ));
        }
        for t in sys {
            state.topic_config_table.entry(t.topic_name.clone()).or_insert(t);
        }
        if !cfg.auto_create_topic_enable {
            state.topic_config_table.remove(TBW102);
        }
        if state.data_version.timestamp == 0 {
            state.data_version = DataVersion { counter: 1, timestamp: now_millis() };
        }
        let m = TopicManager { path, state: RwLock::new(state) };
        m.persist();
        Ok(m)
    }

    fn persist(&self) {
        let body = serde_json::to_vec_pretty(&*self.state.read()).unwrap_or_default();
        if let Err(e) = write_atomic(&self.path, &body) {
            log::error!("cannot persist topics path={} err={}", self.path.display(), e);
        }
    }

    fn bump(v: &mut DataVersion) {
        v.counter += 1;
        v.timestamp = now_millis();
    }

    /// Bump the table's data version (name servers re-read the topics on the next registration).
    pub fn touch(&self) {
        Self::bump(&mut self.state.write().data_version);
        self.persist();
    }

    /// A topic's config.
    pub fn get(&self, topic: &str) -> Option<TopicConfig> {
        self.state.read().topic_config_table.get(topic).cloned()
    }

    /// Snapshot of the whole table with its version.
    pub fn snapshot(&self) -> TopicConfigSerializeWrapper {
        self.state.read().clone()
    }

    /// A slave takes its master's table (SlaveSynchronize.syncTopicConfig): when the versions
    /// differ, the whole table and its version are replaced and persisted. Returns true if so.
    pub fn replace_from_master(&self, master: TopicConfigSerializeWrapper) -> bool {
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

    /// Create or replace a topic. Returns true if anything changed.
    pub fn upsert(&self, tc: TopicConfig) -> bool {
        let changed = {
            let mut s = self.state.write();
            if s.topic_config_table.get(&tc.topic_name) == Some(&tc) {
                false
            } else {
                log::info!(
                    "topic created or updated topic={} read={} write={} perm={}",
                    tc.topic_name,
                    tc.read_queue_nums,
                    tc.write_queue_nums,
                    tc.perm
                );
                s.topic_config_table.insert(tc.topic_name.clone(), tc);
                Self::bump(&mut s.data_version);
                true
            }
        };
        if changed {
            self.persist();
        }
        changed
    }

    /// Delete a topic. Returns true if it existed.
    pub fn delete(&self, topic: &str) -> bool {
        let removed = {
            let mut s = self.state.write();
            let r = s.topic_config_table.remove(topic).is_some();
            if r {
                Self::bump(&mut s.data_version);
            }
            r
        };
        if removed {
            self.persist();
        }
        removed
    }

    /// The config of `topic`, auto-creating it from `default_topic` when that one may be
    /// inherited (SendMessageProcessor / createTopicInSendMessageMethod). Returns the config and
    /// whether it was created.
    pub fn get_or_create_on_send(
        &self,
        topic: &str,
        default_topic: &str,
        queue_nums: i32,
    ) -> Option<(TopicConfig, bool)> {
        if let Some(tc) = self.get(topic) {
            return Some((tc, false));
        }
        let queues = if topic.starts_with(RETRY_PREFIX) {
            1
        } else {
            let def = self.get(default_topic)?;
            if def.perm & perm::INHERIT == 0 {
                return None;
            }
            queue_nums.clamp(1, def.write_queue_nums.max(1))
        };
        let perm = if topic.starts_with(RETRY_PREFIX) {
            perm::READ | perm::WRITE
        } else {
            self.get(default_topic)
                .map(|d| d.perm & !perm::INHERIT)
                .unwrap_or(perm::READ | perm::WRITE)
        };
        let tc = TopicConfig::new(topic, queues, perm);
        let created = self.upsert(tc.clone());
        Some((tc, created))
    }

    /// All topic names.
    pub fn names(&self) -> Vec<String> {
        self.state.read().topic_config_table.keys().cloned().collect()
    }

    /// Topic table as BTreeMap (for admin bodies).
    pub fn table(&self) -> BTreeMap<String, TopicConfig> {
        self.state.read().topic_config_table.clone()
    }
}
