//! The broker's one live configuration (common/Configuration.java), behind GET_BROKER_CONFIG
//! (26) and UPDATE_BROKER_CONFIG (25).
//!
//! The configuration is one typed [`BrokerConfig`] behind an `Arc` that an update replaces
//! whole: a handler takes the current `Arc` once per request and reads every field from it, so
//! an update takes effect on the next request everywhere (sends, pulls, send-backs,
//! registration, the services' periods). The keys in [`RESTART_KEYS`] are read only when the
//! broker starts (ports, store layout, pools): an update stores them, persists them and says
//! "effective after restart".
//!
//! The body is Java-properties text in both directions. GET answers every key with its current
//! value and puts the configuration's data version (`{"counter":N,"timestamp":T}`) in the `version`
//! ext field. UPDATE validates each known key, refuses the black-listed ones (NO_PERMISSION, as
//! Apache), ignores unknown keys (as Apache's mergeIfExist), and when the broker was started with
//! `-c FILE` rewrites that file with the whole configuration (as Configuration.persist).

use super::config::BrokerConfig;
use crate::common::config::{parse_properties, ConfigKeys};
use crate::common::fs::write_atomic;
use crate::common::time::now_millis;
use crate::protocol::body::DataVersion;
use crate::protocol::codes::response as rs;
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;

/// Keys UPDATE_BROKER_CONFIG may not change (Apache's configBlackList defaults).
pub const BLACK_LIST: [&str; 3] = ["brokerConfigPath", "rocketmqHome", "configBlackList"];

/// Keys read only at start: the ports, the store's layout and flushing, the pools, the
/// identity, the system topics. Every other key takes effect at once.
pub const RESTART_KEYS: [&str; 55] = [
    "brokerClusterName",
    "brokerName",
    "brokerId",
    "brokerRole",
    "listenPort",
    "brokerIP1",
    "brokerIP2",
    "bindAddress",
    "haListenPort",
    "haMasterAddress",
    "haSendHeartbeatInterval",
    "haHousekeepingInterval",
    "haTransferBatchSize",
    "haSlaveFallbehindMax",
    "storePathRootDir",
    "storePathCommitLog",
    "mappedFileSizeCommitLog",
    "mappedFileSizeConsumeQueue",
    "flushDiskType",
    "syncFlushTimeout",
    "flushIntervalCommitLog",
    "flushCommitLogLeastPages",
    "flushCommitLogThoroughInterval",
    "flushIntervalConsumeQueue",
    "autoCreateTopicEnable",
    "clusterTopicEnable",
    "brokerTopicEnable",
    "maxMessageSize",
    "sendMessageThreadPoolNums",
    "pullMessageThreadPoolNums",
    "adminBrokerThreadPoolNums",
    "sendThreadPoolQueueCapacity",
    "pullThreadPoolQueueCapacity",
    "queryMessageThreadPoolNums",
    "queryThreadPoolQueueCapacity",
    "metricsPort",
    "maxFrameSize",
    "checkCRCOnRecover",
    "namesrvListenPort",
    "fileReservedTime",
    "deleteWhen",
    "diskMaxUsedSpaceRatio",
    "cleanResourceInterval",
    "maxHashSlotNum",
    "maxIndexNum",
    "messageDelayLevel",
    "aclEnable",
    "plainAclFile",
    "innerClientAccessKey",
    "innerClientSecretKey",
    "serverChannelMaxIdleTimeSeconds",
    "maxConnections",
    "maxConnectionsPerIp",
    "outboundQueueBytes",
    "maxInFlightPerConnection",
];

/// Every key with its current value, in Apache's names. Unset optional paths are left out, so
/// the text always loads back (an empty `storePathCommitLog=` would mean the current directory).
pub fn properties(c: &BrokerConfig) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("brokerClusterName", c.broker_cluster_name.clone()),
        ("brokerName", c.broker_name.clone()),
        ("brokerId", c.broker_id.to_string()),
        ("namesrvAddr", c.namesrv_addr.clone()),
        ("listenPort", c.listen_port.to_string()),
        ("brokerIP1", c.broker_ip1.to_string()),
        ("brokerIP2", c.broker_ip2.unwrap_or(c.broker_ip1).to_string()),
        ("bindAddress", c.bind_address.to_string()),
        ("storePathRootDir", c.store_path_root_dir.display().to_string()),
        ("mappedFileSizeCommitLog", c.mapped_file_size_commit_log.to_string()),
        ("mappedFileSizeConsumeQueue", c.mapped_file_size_consume_queue.to_string()),
        ("flushDiskType", c.flush_disk_type.to_string()),
        ("syncFlushTimeout", c.sync_flush_timeout.to_string()),
        ("flushIntervalCommitLog", c.flush_interval_commit_log.to_string()),
        ("flushCommitLogLeastPages", c.flush_commit_log_least_pages.to_string()),
        ("flushCommitLogThoroughInterval", c.flush_commit_log_thorough_interval.to_string()),
        ("flushIntervalConsumeQueue", c.flush_interval_consume_queue.to_string()),
        ("autoCreateTopicEnable", c.auto_create_topic_enable.to_string()),
        ("autoCreateSubscriptionGroup", c.auto_create_subscription_group.to_string()),
        ("defaultTopicQueueNums", c.default_topic_queue_nums.to_string()),
        ("brokerPermission", c.broker_permission.to_string()),
        ("clusterTopicEnable", c.cluster_topic_enable.to_string()),
        ("brokerTopicEnable", c.broker_topic_enable.to_string()),
        ("registerNameServerPeriod", c.register_name_server_period.to_string()),
        ("maxMessageSize", c.max_message_size.to_string()),
        ("sendMessageThreadPoolNums", c.send_message_thread_pool_nums.to_string()),
        ("pullMessageThreadPoolNums", c.pull_message_thread_pool_nums.to_string()),
        ("adminBrokerThreadPoolNums", c.admin_broker_thread_pool_nums.to_string()),
        ("sendThreadPoolQueueCapacity", c.send_thread_pool_queue_capacity.to_string()),
        ("pullThreadPoolQueueCapacity", c.pull_thread_pool_queue_capacity.to_string()),
        ("queryMessageThreadPoolNums", c.query_message_thread_pool_nums.to_string()),
        ("queryThreadPoolQueueCapacity", c.query_thread_pool_queue_capacity.to_string()),
        ("metricsPort", c.metrics_port.as_config()),
        ("longPollingEnable", c.long_polling_enable.to_string()),
        ("shortPollingTimeMills", c.short_polling_time_mills.to_string()),
        ("regionId", c.region_id.clone()),
        ("traceOn", c.trace_on.to_string()),
        ("flushConsumerOffsetInterval", c.flush_consumer_offset_interval.to_string()),
        ("brokerRole", c.broker_role.to_string()),
        ("maxFrameSize", c.max_frame_size.to_string()),
        ("checkCRCOnRecover", c.check_crc_on_recover.to_string()),
        ("channelExpiredTimeout", c.channel_expired_timeout.to_string()),
        ("namesrvListenPort", c.namesrv_listen_port.to_string()),
        ("clientHousekeepingInterval", c.client_housekeeping_interval.to_string()),
        ("fileReservedTime", c.file_reserved_time.to_string()),
        ("deleteWhen", c.delete_when.clone()),
        ("diskMaxUsedSpaceRatio", c.disk_max_used_space_ratio.to_string()),
        ("accessMessageInMemoryMaxRatio", c.access_message_in_memory_max_ratio.to_string()),
        ("diskSpaceCleanForciblyRatio", c.disk_space_clean_forcibly_ratio.to_string()),
        ("diskSpaceWarningLevelRatio", c.disk_space_warning_level_ratio.to_string()),
        ("cleanFileForciblyEnable", c.clean_file_forcibly_enable.to_string()),
        ("cleanResourceInterval", c.clean_resource_interval.to_string()),
        ("maxHashSlotNum", c.max_hash_slot_num.to_string()),
        ("maxIndexNum", c.max_index_num.to_string()),
        ("messageDelayLevel", delay_levels_text(&c.message_delay_level)),
        ("flushDelayOffsetInterval", c.flush_delay_offset_interval.to_string()),
        ("transactionTimeOut", c.transaction_time_out.to_string()),
        ("transactionCheckMax", c.transaction_check_max.to_string()),
        ("transactionCheckInterval", c.transaction_check_interval.to_string()),
        ("rejectTransactionMessage", c.reject_transaction_message.to_string()),
        ("haSendHeartbeatInterval", c.ha_send_heartbeat_interval.to_string()),
        ("haHousekeepingInterval", c.ha_housekeeping_interval.to_string()),
        ("haTransferBatchSize", c.ha_transfer_batch_size.to_string()),
        ("haSlaveFallbehindMax", c.ha_slave_fallbehind_max.to_string()),
        ("slaveReadEnable", c.slave_read_enable.to_string()),
        ("slaveTimeout", c.slave_timeout.to_string()),
        ("slaveSyncInterval", c.slave_sync_interval.to_string()),
        ("aclEnable", c.acl_enable.to_string()),
    ];
    v.extend(c.caps.properties());
    if let Some(ms) = c.file_reserved_time_millis {
        v.push(("fileReservedTimeMillis", ms.to_string()));
    }
    // Only when set: written back to the -c file, listenPort + 1 would pin the HA port.
    if let Some(p) = c.ha_listen_port {
        v.push(("haListenPort", p.to_string()));
    }
    if let Some(a) = &c.ha_master_address {
        v.push(("haMasterAddress", a.clone()));
    }
    if let Some(p) = &c.store_path_commit_log {
        v.push(("storePathCommitLog", p.display().to_string()));
    }
    if let Some(p) = &c.plain_acl_file {
        v.push(("plainAclFile", p.display().to_string()));
    }
    if let Some(p) = &c.rocketmq_home {
        v.push(("rocketmqHome", p.display().to_string()));
    }
    if let Some(p) = &c.broker_config_path {
        v.push(("brokerConfigPath", p.display().to_string()));
    }
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// `messageDelayLevel` back in Apache's form ("1s 5s ... 2h"), each level in its largest whole
/// unit, so the text parses back to the same delays.
fn delay_levels_text(levels: &[u64]) -> String {
    let unit = |ms: u64| {
        [(86_400_000, 'd'), (3_600_000, 'h'), (60_000, 'm')]
            .into_iter()
            .find(|(n, _)| ms > 0 && ms.is_multiple_of(*n))
            .map_or(format!("{}s", ms / 1000), |(n, u)| format!("{}{u}", ms / n))
    };
    levels.iter().map(|&ms| unit(ms)).collect::<Vec<_>>().join(" ")
}

/// Properties text, one `key=value` line per key (MixAll.properties2String).
pub fn properties_text(c: &BrokerConfig) -> String {
    properties(c).into_iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// The text UPDATE_BROKER_CONFIG writes back to the `-c` file: the file's own keys (so a key this
/// listing does not cover, such as a store or delay key, is never dropped by an update), then every
/// listed key's current value, then the keys just applied, verbatim.
fn persisted_text(
    path: &std::path::Path,
    next: &BrokerConfig,
    pairs: &[(String, String)],
    applied: &[String],
) -> String {
    let mut merged = std::collections::BTreeMap::new();
    if let Ok(Some(old)) = crate::common::fs::read_optional(path) {
        merged.extend(parse_properties(&old));
    }
    merged.extend(properties(next).into_iter().map(|(k, v)| (k.to_string(), v)));
    merged.extend(pairs.iter().filter(|(k, _)| applied.contains(k)).cloned());
    merged.into_iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// The broker's configuration as it is now: the start-up config plus accepted updates.
pub struct LiveConfig {
    cfg: RwLock<Arc<BrokerConfig>>,
    version: Mutex<DataVersion>,
    /// Serialises updates and file rewrites (Apache: `synchronized updateBrokerConfig`).
    update: Mutex<()>,
}

/// What an accepted update did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Keys applied.
    pub applied: Vec<String>,
    /// Unknown keys, ignored.
    pub unknown: Vec<String>,
    /// Applied keys that only take effect at the next start.
    pub after_restart: Vec<String>,
}

impl LiveConfig {
    /// Start from `cfg`.
    pub fn new(cfg: BrokerConfig) -> Self {
        LiveConfig {
            cfg: RwLock::new(Arc::new(cfg)),
            version: Mutex::new(DataVersion { counter: 0, timestamp: now_millis() }),
            update: Mutex::new(()),
        }
    }

    /// The current configuration.
    pub fn get(&self) -> Arc<BrokerConfig> {
        self.cfg.read().clone()
    }

    /// The data version as Apache's JSON.
    pub fn version_json(&self) -> String {
        serde_json::to_string(&*self.version.lock()).unwrap_or_default()
    }

    /// Apply `text` (properties), or say why nothing was applied.
    pub fn update(&self, text: &str) -> Result<Applied, (i32, String)> {
        let _g = self.update.lock();
        let pairs = parse_properties(text);
        if let Some((k, _)) = pairs.iter().find(|(k, _)| BLACK_LIST.contains(&k.as_str())) {
            return Err((rs::NO_PERMISSION, format!("Can not update config in black list: {k}")));
        }
        let mut next = (*self.get()).clone();
        let mut out = Applied::default();
        for (k, v) in &pairs {
            match next.set(k, v) {
                Ok(true) => out.applied.push(k.clone()),
                Ok(false) => out.unknown.push(k.clone()),
                Err(why) => {
                    return Err((rs::SYSTEM_ERROR, format!("bad value '{v}' for {k}: {why}")))
                }
            }
        }
        if out.applied.is_empty() {
            return Ok(out);
        }
        out.after_restart =
            out.applied.iter().filter(|k| RESTART_KEYS.contains(&canonical(k))).cloned().collect();
        let path = next.broker_config_path.clone();
        *self.cfg.write() = Arc::new(next.clone());
        {
            let mut v = self.version.lock();
            v.counter += 1;
            v.timestamp = now_millis();
        }
        if let Some(p) = path {
            let text = persisted_text(&p, &next, &pairs, &out.applied);
            if let Err(e) = write_atomic(&p, text.as_bytes()) {
                log::error!("cannot persist broker config path={} err={}", p.display(), e);
                return Err((
                    rs::SYSTEM_ERROR,
                    format!("applied but not persisted to {}: {e}", p.display()),
                ));
            }
        }
        Ok(out)
    }
}

/// Apache's old spellings of two keys.
fn canonical(k: &str) -> &str {
    match k {
        "mapedFileSizeCommitLog" => "mappedFileSizeCommitLog",
        "mapedFileSizeConsumeQueue" => "mappedFileSizeConsumeQueue",
        "fileReservedTimeMillis" => "fileReservedTime",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_validates_and_refuses_black_list() {
        let live = LiveConfig::new(BrokerConfig::default());
        let r = live.update("channelExpiredTimeout=5000\nfoo=1\nlistenPort=1234\n").unwrap();
        assert_eq!(r.unknown, vec!["foo"]);
        assert_eq!(r.after_restart, vec!["listenPort"]);
        assert_eq!(live.get().channel_expired_timeout, 5000);
        assert!(live.version_json().contains("\"counter\":1"));
        assert_eq!(live.update("brokerConfigPath=/x").unwrap_err().0, rs::NO_PERMISSION);
        assert_eq!(live.update("brokerPermission=abc").unwrap_err().0, rs::SYSTEM_ERROR);
        assert_eq!(live.get().broker_permission.0, 6);
        assert_eq!(live.update("brokerRole=MASTER").unwrap_err().0, rs::SYSTEM_ERROR);
        let text = properties_text(&live.get());
        assert!(text.contains("channelExpiredTimeout=5000\n"), "{text}");
        // The text parses back to the same configuration.
        let mut again = BrokerConfig::default();
        for (k, v) in parse_properties(&text) {
            assert!(!v.is_empty() || k == "namesrvAddr", "empty value for {k}");
            assert!(again.set(&k, &v).unwrap(), "key {k} not accepted back");
        }
        assert_eq!(properties_text(&again), text);
        assert!(
            text.contains(
                "messageDelayLevel=1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_update_keeps_the_files_other_keys() {
        let dir = std::env::temp_dir().join(format!("rmq-brokercfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broker.conf");
        std::fs::write(&path, "brokerName=b1\nhaListenPort=10912\nsomeFutureKey=7\n").unwrap();
        let cfg = BrokerConfig { broker_config_path: Some(path.clone()), ..Default::default() };
        let live = LiveConfig::new(cfg);
        live.update("channelExpiredTimeout=5000\nfileReservedTime=48\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        for line in [
            "haListenPort=10912\n",
            "someFutureKey=7\n",
            "channelExpiredTimeout=5000\n",
            "fileReservedTime=48\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
