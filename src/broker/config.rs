//! Broker configuration: one struct with Apache's key names and defaults (BrokerConfig,
//! MessageStoreConfig, NettyServerConfig), loaded from broker.conf and flags, validated at start.

use crate::common::config::{parse_bool, parse_num, ConfigKeys};
pub use crate::metrics::MetricsPort;
use crate::protocol::body::perm;
pub use crate::store::FlushDiskType;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// `brokerRole` (Apache's BrokerRole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    /// A master whose sends are answered once stored locally (`ASYNC_MASTER`).
    AsyncMaster,
    /// A master whose sends wait for a slave's acknowledgement (`SYNC_MASTER`).
    SyncMaster,
    /// A replica of a master (`SLAVE`).
    Slave,
}

impl BrokerRole {
    /// True for both master roles.
    pub fn is_master(self) -> bool {
        self != BrokerRole::Slave
    }

    /// Apache's name.
    pub fn name(self) -> &'static str {
        match self {
            BrokerRole::AsyncMaster => "ASYNC_MASTER",
            BrokerRole::SyncMaster => "SYNC_MASTER",
            BrokerRole::Slave => "SLAVE",
        }
    }
}

impl FromStr for BrokerRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "ASYNC_MASTER" => Ok(BrokerRole::AsyncMaster),
            "SYNC_MASTER" => Ok(BrokerRole::SyncMaster),
            "SLAVE" => Ok(BrokerRole::Slave),
            other => Err(format!(
                "unknown brokerRole {other:?}: expected ASYNC_MASTER, SYNC_MASTER or SLAVE"
            )),
        }
    }
}

impl fmt::Display for BrokerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A permission word (`brokerPermission`, a topic's `perm`): READ 4, WRITE 2, INHERIT 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perm(pub i32);

impl Perm {
    /// Readable.
    pub fn readable(self) -> bool {
        self.0 & perm::READ != 0
    }

    /// Writable.
    pub fn writable(self) -> bool {
        self.0 & perm::WRITE != 0
    }
}

impl FromStr for Perm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n: i32 = parse_num(s)?;
        if !(0..=7).contains(&n) {
            return Err(format!("a permission is 0-7 (READ 4, WRITE 2, INHERIT 1), got {n}"));
        }
        Ok(Perm(n))
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A secret configuration value: `Debug` prints `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Broker settings.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// `brokerClusterName`.
    pub broker_cluster_name: String,
    /// `brokerName`.
    pub broker_name: String,
    /// `brokerId` (0 = master).
    pub broker_id: i64,
    /// `namesrvAddr`, `;`-separated.
    pub namesrv_addr: String,
    /// `listenPort` (10911; 0 picks free ports).
    pub listen_port: u16,
    /// `brokerIP1`: the address advertised to name servers and stored as STOREHOST.
    pub broker_ip1: IpAddr,
    /// `brokerIP2`: the HA address.
    pub broker_ip2: Option<IpAddr>,
    /// `bindAddress` (rmq extension, 0.0.0.0).
    pub bind_address: IpAddr,
    /// `storePathRootDir`.
    pub store_path_root_dir: PathBuf,
    /// `storePathCommitLog`.
    pub store_path_commit_log: Option<PathBuf>,
    /// `mapedFileSizeCommitLog` / `mappedFileSizeCommitLog`.
    pub mapped_file_size_commit_log: u64,
    /// `mapedFileSizeConsumeQueue` in bytes (entries × 20).
    pub mapped_file_size_consume_queue: u64,
    /// `flushDiskType`.
    pub flush_disk_type: FlushDiskType,
    /// `syncFlushTimeout` (ms).
    pub sync_flush_timeout: u64,
    /// `flushIntervalCommitLog` (ms).
    pub flush_interval_commit_log: u64,
    /// `flushCommitLogLeastPages`.
    pub flush_commit_log_least_pages: u32,
    /// `flushCommitLogThoroughInterval` (ms).
    pub flush_commit_log_thorough_interval: u64,
    /// `flushIntervalConsumeQueue` (ms).
    pub flush_interval_consume_queue: u64,
    /// `autoCreateTopicEnable`.
    pub auto_create_topic_enable: bool,
    /// `autoCreateSubscriptionGroup`.
    pub auto_create_subscription_group: bool,
    /// `defaultTopicQueueNums` (TBW102's queue count).
    pub default_topic_queue_nums: i32,
    /// `brokerPermission`.
    pub broker_permission: Perm,
    /// `clusterTopicEnable`.
    pub cluster_topic_enable: bool,
    /// `brokerTopicEnable`.
    pub broker_topic_enable: bool,
    /// `registerNameServerPeriod` (ms, clamped to 10-60 s as Apache does).
    pub register_name_server_period: u64,
    /// `maxMessageSize`.
    pub max_message_size: usize,
    /// `sendMessageThreadPoolNums`.
    pub send_message_thread_pool_nums: usize,
    /// `pullMessageThreadPoolNums`.
    pub pull_message_thread_pool_nums: usize,
    /// `adminBrokerThreadPoolNums`.
    pub admin_broker_thread_pool_nums: usize,
    /// `sendThreadPoolQueueCapacity`.
    pub send_thread_pool_queue_capacity: usize,
    /// `pullThreadPoolQueueCapacity`.
    pub pull_thread_pool_queue_capacity: usize,
    /// `queryMessageThreadPoolNums`: QUERY_MESSAGE and VIEW_MESSAGE_BY_ID (Apache: 8 + cores).
    pub query_message_thread_pool_nums: usize,
    /// `queryThreadPoolQueueCapacity` (20 000).
    pub query_thread_pool_queue_capacity: usize,
    /// `metricsPort` (rmq extension): `GET /metrics` on `bindAddress`; 0 = off (the default),
    /// -1 = any free port.
    pub metrics_port: MetricsPort,
    /// `longPollingEnable`.
    pub long_polling_enable: bool,
    /// `shortPollingTimeMills`.
    pub short_polling_time_mills: u64,
    /// `regionId`.
    pub region_id: String,
    /// `traceOn`.
    pub trace_on: bool,
    /// `flushConsumerOffsetInterval` (ms).
    pub flush_consumer_offset_interval: u64,
    /// `brokerRole`.
    pub broker_role: BrokerRole,
    /// `maxFrameSize` (rmq extension, bytes).
    pub max_frame_size: usize,
    /// The connection caps: `serverChannelMaxIdleTimeSeconds`, `maxConnections`,
    /// `maxConnectionsPerIp`, `outboundQueueBytes`, `maxInFlightPerConnection`.
    pub caps: crate::remoting::ConnCaps,
    /// `checkCRCOnRecover`.
    pub check_crc_on_recover: bool,
    /// `channelExpiredTimeout` (ms): clients silent this long are dropped.
    pub channel_expired_timeout: u64,
    /// `namesrvListenPort` (rmq extension): the embedded name server's port with --standalone.
    pub namesrv_listen_port: u16,
    /// `fileReservedTime` (hours, 72).
    pub file_reserved_time: u64,
    /// `fileReservedTimeMillis` (rmq extension for tests): overrides `fileReservedTime`.
    pub file_reserved_time_millis: Option<u64>,
    /// `deleteWhen` ("04"; hours separated by `;`).
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` (75, percent).
    pub disk_max_used_space_ratio: u32,
    /// `accessMessageInMemoryMaxRatio` (40, percent of physical memory): a message further than
    /// this from the commit log's end counts as "on disk" (a new group then starts from the
    /// consumer's ConsumeFrom policy rather than offset 0).
    pub access_message_in_memory_max_ratio: u32,
    /// `diskSpaceCleanForciblyRatio` (85, percent; Apache's system property
    /// rocketmq.broker.diskSpaceCleanForciblyRatio).
    pub disk_space_clean_forcibly_ratio: u32,
    /// `diskSpaceWarningLevelRatio` (90, percent; Apache's system property
    /// rocketmq.broker.diskSpaceWarningLevelRatio): above it puts are refused.
    pub disk_space_warning_level_ratio: u32,
    /// `cleanFileForciblyEnable` (true).
    pub clean_file_forcibly_enable: bool,
    /// `cleanResourceInterval` (ms, 10 000).
    pub clean_resource_interval: u64,
    /// `maxHashSlotNum` (5 000 000).
    pub max_hash_slot_num: usize,
    /// `maxIndexNum` (20 000 000).
    pub max_index_num: usize,
    /// `clientHousekeepingInterval` (rmq extension, ms): how often silent clients are looked for
    /// (Apache: a fixed 10 s).
    pub client_housekeeping_interval: u64,
    /// `brokerConfigPath`: the `-c` file; UPDATE_BROKER_CONFIG rewrites it (set by the binary).
    pub broker_config_path: Option<PathBuf>,
    /// `messageDelayLevel`: delay of each level in ms, level 1 first (parsed from Apache's
    /// "1s 5s 10s ... 2h" form).
    pub message_delay_level: Vec<u64>,
    /// `flushDelayOffsetInterval` (ms): accepted for compatibility; rmq persists delay offsets
    /// after every delivery round instead of on a timer.
    pub flush_delay_offset_interval: u64,
    /// `transactionTimeOut` (ms, 6000): a half message is checked once it is this old.
    pub transaction_time_out: u64,
    /// `transactionCheckMax` (15): checks of one half before it is discarded.
    pub transaction_check_max: i32,
    /// `transactionCheckInterval` (ms, 60000): period of the transaction check service.
    pub transaction_check_interval: u64,
    /// `rejectTransactionMessage` (false): refuse half messages with NO_PERMISSION.
    pub reject_transaction_message: bool,
    /// `haListenPort`: the HA port a master serves its slaves on. Unset, listenPort + 1 (a free
    /// port when listenPort is 0), which Apache forces; rmq lets it be set.
    pub ha_listen_port: Option<u16>,
    /// `haMasterAddress` (slave): the master's HA address `ip:port`; unset, the slave takes it
    /// from the name server's answer to its registration.
    pub ha_master_address: Option<String>,
    /// `haSendHeartbeatInterval` (ms, 5000).
    pub ha_send_heartbeat_interval: u64,
    /// `haHousekeepingInterval` (ms, 20000): a silent HA peer is dropped after this long.
    pub ha_housekeeping_interval: u64,
    /// `haTransferBatchSize` (bytes, 32 KiB): most commit-log bytes per HA frame.
    pub ha_transfer_batch_size: usize,
    /// `haSlaveFallbehindMax` (bytes, 256 MiB): a slave further behind does not count as
    /// available for SYNC_MASTER sends.
    pub ha_slave_fallbehind_max: u64,
    /// `slaveReadEnable` (false): a master may suggest its slave to a consumer that is behind.
    pub slave_read_enable: bool,
    /// `slaveTimeout` (ms, 3000): how long a SYNC_MASTER send waits for a slave's
    /// acknowledgement before it is answered FLUSH_SLAVE_TIMEOUT (Apache >= 4.9.3).
    pub slave_timeout: u64,
    /// `slaveSyncInterval` (rmq extension, ms, 10000): how often a slave copies its master's
    /// topics, consumer offsets, delay offsets and subscription groups (Apache: a fixed 10 s).
    pub slave_sync_interval: u64,
    /// `aclEnable` (false): check every request against plain_acl.yml (Apache's ACL 1.0).
    pub acl_enable: bool,
    /// `plainAclFile` (rmq extension): the ACL file; unset, `${rocketmqHome}/conf/plain_acl.yml`.
    pub plain_acl_file: Option<PathBuf>,
    /// `innerClientAccessKey` / `innerClientSecretKey` (rmq extension): the account the broker
    /// signs its own outbound requests with (a slave's sync from an `aclEnable` master, name
    /// server registration); unset, they go unsigned. The secret is never listed by
    /// GET_BROKER_CONFIG.
    pub inner_client_credentials: Option<(String, Secret)>,
    /// `rocketmqHome`: Apache's home directory (default: the `ROCKETMQ_HOME` environment
    /// variable); only the default ACL file path uses it.
    pub rocketmq_home: Option<PathBuf>,
}

/// Apache's default `messageDelayLevel` (MessageStoreConfig).
pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// Parse a `messageDelayLevel` value: space-separated numbers, each with a unit suffix s, m, h
/// or d (ScheduleMessageService.parseDelayLevel).
pub fn parse_delay_levels(v: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for item in v.split_whitespace() {
        let unit = item.chars().last().unwrap_or(' ');
        let num = &item[..item.len() - unit.len_utf8()];
        let scale = match unit {
            's' => 1000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return Err(format!("level {item:?} must end in s, m, h or d")),
        };
        let n: u64 = num.parse().map_err(|_| format!("level {item:?} is not a number"))?;
        out.push(n.saturating_mul(scale));
    }
    if out.is_empty() {
        return Err("at least one level is needed".into());
    }
    Ok(out)
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
        BrokerConfig {
            broker_cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
            namesrv_addr: std::env::var("NAMESRV_ADDR").unwrap_or_default(),
            listen_port: 10911,
            broker_ip1: IpAddr::from([127, 0, 0, 1]),
            broker_ip2: None,
            bind_address: IpAddr::from([0, 0, 0, 0]),
            store_path_root_dir: PathBuf::from(home).join("store"),
            store_path_commit_log: None,
            mapped_file_size_commit_log: 1 << 30,
            mapped_file_size_consume_queue: 300_000 * 20,
            flush_disk_type: FlushDiskType::Async,
            sync_flush_timeout: 5000,
            flush_interval_commit_log: 500,
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval: 10_000,
            flush_interval_consume_queue: 1000,
            auto_create_topic_enable: true,
            auto_create_subscription_group: true,
            default_topic_queue_nums: 8,
            broker_permission: Perm(perm::READ | perm::WRITE),
            cluster_topic_enable: true,
            broker_topic_enable: true,
            register_name_server_period: 30_000,
            max_message_size: 4 * 1024 * 1024,
            // Apache 4.9 uses 1; on loopback with many senders 4 measured ~20% faster (BENCHMARKS.md).
            send_message_thread_pool_nums: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 4),
            pull_message_thread_pool_nums: 4,
            admin_broker_thread_pool_nums: 4,
            send_thread_pool_queue_capacity: 10_000,
            pull_thread_pool_queue_capacity: 100_000,
            query_message_thread_pool_nums: 2,
            query_thread_pool_queue_capacity: 20_000,
            metrics_port: MetricsPort::Off,
            long_polling_enable: true,
            short_polling_time_mills: 1000,
            region_id: "DefaultRegion".into(),
            trace_on: true,
            flush_consumer_offset_interval: 5000,
            broker_role: BrokerRole::AsyncMaster,
            max_frame_size: crate::protocol::frame::DEFAULT_MAX_FRAME,
            caps: crate::remoting::ConnCaps::default(),
            check_crc_on_recover: true,
            channel_expired_timeout: 120_000,
            namesrv_listen_port: 9876,
            file_reserved_time: 72,
            file_reserved_time_millis: None,
            delete_when: "04".into(),
            disk_max_used_space_ratio: 75,
            access_message_in_memory_max_ratio: 40,
            disk_space_clean_forcibly_ratio: 85,
            disk_space_warning_level_ratio: 90,
            clean_file_forcibly_enable: true,
            clean_resource_interval: 10_000,
            max_hash_slot_num: 5_000_000,
            max_index_num: 20_000_000,
            client_housekeeping_interval: 10_000,
            broker_config_path: None,
            message_delay_level: parse_delay_levels(DEFAULT_DELAY_LEVELS)
                .expect("invariant: the default delay levels parse"),
            flush_delay_offset_interval: 10_000,
            transaction_time_out: 6_000,
            transaction_check_max: 15,
            transaction_check_interval: 60_000,
            reject_transaction_message: false,
            ha_listen_port: None,
            ha_master_address: None,
            ha_send_heartbeat_interval: 5_000,
            ha_housekeeping_interval: 20_000,
            ha_transfer_batch_size: 32 * 1024,
            ha_slave_fallbehind_max: 256 * 1024 * 1024,
            slave_read_enable: false,
            slave_timeout: 3_000,
            slave_sync_interval: 10_000,
            acl_enable: false,
            plain_acl_file: None,
            inner_client_credentials: None,
            rocketmq_home: std::env::var_os("ROCKETMQ_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }
}

impl ConfigKeys for BrokerConfig {
    fn set(&mut self, key: &str, v: &str) -> Result<bool, String> {
        if self.caps.set(key, v)? {
            return Ok(true);
        }
        match key {
            "brokerClusterName" => self.broker_cluster_name = non_empty(v)?,
            "brokerName" => self.broker_name = non_empty(v)?,
            "brokerId" => self.broker_id = parse_num(v)?,
            "namesrvAddr" => self.namesrv_addr = v.to_string(),
            "listenPort" => self.listen_port = parse_num(v)?,
            "brokerIP1" => self.broker_ip1 = parse_num(v)?,
            "brokerIP2" => self.broker_ip2 = Some(parse_num(v)?),
            "bindAddress" => self.bind_address = parse_num(v)?,
            "storePathRootDir" => self.store_path_root_dir = PathBuf::from(v),
            "storePathCommitLog" => self.store_path_commit_log = Some(PathBuf::from(v)),
            "mapedFileSizeCommitLog" | "mappedFileSizeCommitLog" => {
                let n: u64 = parse_num(v)?;
                if n < 4096 {
                    return Err("must be at least 4096".into());
                }
                self.mapped_file_size_commit_log = n;
            }
            "mapedFileSizeConsumeQueue" | "mappedFileSizeConsumeQueue" => {
                let n: u64 = parse_num(v)?;
                if n < 20 {
                    return Err("must be at least 20".into());
                }
                self.mapped_file_size_consume_queue = n;
            }
            "flushDiskType" => self.flush_disk_type = v.parse()?,
            "syncFlushTimeout" => self.sync_flush_timeout = parse_num(v)?,
            "flushIntervalCommitLog" => self.flush_interval_commit_log = parse_num(v)?,
            "flushCommitLogLeastPages" => self.flush_commit_log_least_pages = parse_num(v)?,
            "flushCommitLogThoroughInterval" => {
                self.flush_commit_log_thorough_interval = parse_num(v)?
            }
            "flushIntervalConsumeQueue" => self.flush_interval_consume_queue = parse_num(v)?,
            "autoCreateTopicEnable" => self.auto_create_topic_enable = parse_bool(v)?,
            "autoCreateSubscriptionGroup" => self.auto_create_subscription_group = parse_bool(v)?,
            "defaultTopicQueueNums" => self.default_topic_queue_nums = parse_num(v)?,
            "brokerPermission" => self.broker_permission = v.parse()?,
            "clusterTopicEnable" => self.cluster_topic_enable = parse_bool(v)?,
            "brokerTopicEnable" => self.broker_topic_enable = parse_bool(v)?,
            "registerNameServerPeriod" => {
                self.register_name_server_period = parse_num::<u64>(v)?.clamp(10_000, 60_000)
            }
            "maxMessageSize" => self.max_message_size = parse_num(v)?,
            "sendMessageThreadPoolNums" => self.send_message_thread_pool_nums = parse_num(v)?,
            "pullMessageThreadPoolNums" => self.pull_message_thread_pool_nums = parse_num(v)?,
            "adminBrokerThreadPoolNums" => self.admin_broker_thread_pool_nums = parse_num(v)?,
            "sendThreadPoolQueueCapacity" => self.send_thread_pool_queue_capacity = parse_num(v)?,
            "pullThreadPoolQueueCapacity" => self.pull_thread_pool_queue_capacity = parse_num(v)?,
            "queryMessageThreadPoolNums" => self.query_message_thread_pool_nums = parse_num(v)?,
            "queryThreadPoolQueueCapacity" => self.query_thread_pool_queue_capacity = parse_num(v)?,
            "metricsPort" => self.metrics_port = MetricsPort::parse(v)?,
            "longPollingEnable" => self.long_polling_enable = parse_bool(v)?,
            "shortPollingTimeMills" => self.short_polling_time_mills = parse_num(v)?,
            "regionId" => self.region_id = v.to_string(),
            "traceOn" => self.trace_on = parse_bool(v)?,
            "flushConsumerOffsetInterval" => self.flush_consumer_offset_interval = parse_num(v)?,
            "brokerRole" => self.broker_role = v.parse()?,
            "maxFrameSize" => self.max_frame_size = parse_num(v)?,
            "checkCRCOnRecover" => self.check_crc_on_recover = parse_bool(v)?,
            "channelExpiredTimeout" => self.channel_expired_timeout = parse_num(v)?,
            "namesrvListenPort" => self.namesrv_listen_port = parse_num(v)?,
            "fileReservedTime" => self.file_reserved_time = parse_num(v)?,
            "fileReservedTimeMillis" => self.file_reserved_time_millis = Some(parse_num(v)?),
            "deleteWhen" => self.delete_when = parse_hours(v)?,
            "diskMaxUsedSpaceRatio" => self.disk_max_used_space_ratio = percent(v)?,
            "accessMessageInMemoryMaxRatio" => {
                self.access_message_in_memory_max_ratio = percent(v)?
            }
            "diskSpaceCleanForciblyRatio" => self.disk_space_clean_forcibly_ratio = percent(v)?,
            "diskSpaceWarningLevelRatio" => self.disk_space_warning_level_ratio = percent(v)?,
            "cleanFileForciblyEnable" => self.clean_file_forcibly_enable = parse_bool(v)?,
            "cleanResourceInterval" => self.clean_resource_interval = parse_num(v)?,
            "maxHashSlotNum" => {
                self.max_hash_slot_num = parse_num(v)?;
                if self.max_hash_slot_num == 0 {
                    return Err("must be at least 1".into());
                }
            }
            "maxIndexNum" => {
                self.max_index_num = parse_num(v)?;
                if self.max_index_num < 2 {
                    return Err("must be at least 2".into());
                }
            }
            "brokerConfigPath" => self.broker_config_path = Some(PathBuf::from(v)),
            "clientHousekeepingInterval" => {
                self.client_housekeeping_interval = parse_num::<u64>(v)?.max(100)
            }
            "messageDelayLevel" => self.message_delay_level = parse_delay_levels(v)?,
            "flushDelayOffsetInterval" => self.flush_delay_offset_interval = parse_num(v)?,
            "transactionTimeOut" => self.transaction_time_out = parse_num(v)?,
            "transactionCheckMax" => self.transaction_check_max = parse_num(v)?,
            "transactionCheckInterval" => {
                self.transaction_check_interval = parse_num::<u64>(v)?.max(10)
            }
            "rejectTransactionMessage" => self.reject_transaction_message = parse_bool(v)?,
            "haListenPort" => self.ha_listen_port = Some(parse_num(v)?),
            "haMasterAddress" => {
                let v = v.trim();
                self.ha_master_address = if v.is_empty() { None } else { Some(ha_addr(v)?) };
            }
            "haSendHeartbeatInterval" => {
                self.ha_send_heartbeat_interval = at_least(parse_num(v)?, 10)?
            }
            "haHousekeepingInterval" => {
                self.ha_housekeeping_interval = at_least(parse_num(v)?, 100)?
            }
            "haTransferBatchSize" => {
                let n: usize = parse_num(v)?;
                if !(1..=crate::ha::wire::MAX_BODY).contains(&n) {
                    return Err(format!("must be 1-{} bytes", crate::ha::wire::MAX_BODY));
                }
                self.ha_transfer_batch_size = n;
            }
            "haSlaveFallbehindMax" => self.ha_slave_fallbehind_max = parse_num(v)?,
            "slaveReadEnable" => self.slave_read_enable = parse_bool(v)?,
            "slaveTimeout" => self.slave_timeout = at_least(parse_num(v)?, 1)?,
            "slaveSyncInterval" => self.slave_sync_interval = at_least(parse_num(v)?, 100)?,
            "aclEnable" => self.acl_enable = parse_bool(v)?,
            "innerClientAccessKey" => {
                let sk = self.inner_client_credentials.take().map(|(_, s)| s).unwrap_or_default();
                self.inner_client_credentials = Some((non_empty(v)?, sk));
            }
            "innerClientSecretKey" => {
                let ak = self.inner_client_credentials.take().map(|(a, _)| a).unwrap_or_default();
                self.inner_client_credentials = Some((ak, Secret(non_empty(v)?)));
            }
            "plainAclFile" => self.plain_acl_file = Some(PathBuf::from(non_empty(v)?)),
            "rocketmqHome" => self.rocketmq_home = Some(PathBuf::from(non_empty(v)?)),
            // Accepted for compatibility; not used by rmq yet.
            "storePathIndex"
            | "storeCheckpoint"
            | "abortFile"
            | "transientStorePoolEnable"
            | "serverWorkerThreads"
            | "serverSelectorThreads"
            | "useEpollNativeSelector"
            | "waitTimeMillsInSendQueue"
            | "enablePropertyFilter"
            | "transferMsgByHeap" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// `deleteWhen`: hours 0-23 separated by `;` (Apache compares them as two-digit strings).
fn parse_hours(v: &str) -> Result<String, String> {
    for h in v.split(';') {
        match h.trim().parse::<u32>() {
            Ok(n) if n < 24 => {}
            _ => return Err(format!("expected hours 00-23 separated by ';', got {h:?}")),
        }
    }
    Ok(v.trim().to_string())
}

/// A percentage 0-100 (Apache clamps diskMaxUsedSpaceRatio to 10-95; rmq accepts any, for tests).
fn percent(v: &str) -> Result<u32, String> {
    let n: u32 = parse_num(v)?;
    if n > 100 {
        return Err("must be a percentage, 0-100".into());
    }
    Ok(n)
}

/// A `host:port` address (haMasterAddress).
fn ha_addr(v: &str) -> Result<String, String> {
    match v.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(v.to_string())
        }
        _ => Err(format!("expected the master's HA address as host:port, got {v:?}")),
    }
}

fn at_least(n: u64, min: u64) -> Result<u64, String> {
    if n < min {
        return Err(format!("must be at least {min}"));
    }
    Ok(n)
}

fn non_empty(v: &str) -> Result<String, String> {
    if v.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(v.trim().to_string())
    }
}

impl BrokerConfig {
    /// The ACL file: `plainAclFile`, else `${rocketmqHome}/conf/plain_acl.yml` (Apache's
    /// default); `None` when neither is set.
    pub fn acl_file(&self) -> Option<PathBuf> {
        self.plain_acl_file
            .clone()
            .or_else(|| self.rocketmq_home.as_ref().map(|h| h.join("conf").join("plain_acl.yml")))
    }

    /// Name server addresses as a list.
    pub fn namesrv_list(&self) -> Vec<String> {
        self.namesrv_addr
            .split(';')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The HA port to bind: haListenPort, else listenPort + 1 (0, a free port, when listenPort
    /// is 0).
    pub fn ha_port(&self) -> u16 {
        self.ha_listen_port.unwrap_or(if self.listen_port == 0 {
            0
        } else {
            self.listen_port.wrapping_add(1)
        })
    }

    /// The HA settings from `haSendHeartbeatInterval`, `haHousekeepingInterval`,
    /// `haTransferBatchSize` and `haSlaveFallbehindMax`.
    pub fn ha_config(&self) -> crate::ha::HaConfig {
        use std::time::Duration;
        crate::ha::HaConfig {
            heartbeat_interval: Duration::from_millis(self.ha_send_heartbeat_interval),
            housekeeping_interval: Duration::from_millis(self.ha_housekeeping_interval),
            transfer_batch_size: self.ha_transfer_batch_size,
            slave_fallbehind_max: self.ha_slave_fallbehind_max,
            ..crate::ha::HaConfig::default()
        }
    }

    /// Check the settings that only make sense together (called by `broker::start`): a slave's
    /// brokerId is above 0 and a master's is 0 (Apache forces a master's to 0, which turns a
    /// slave's broker.conf that lacks `brokerRole=SLAVE` into a second master), and the HA port
    /// is not one of the broker's other ports.
    pub fn validate(&self) -> Result<(), String> {
        match self.broker_role {
            BrokerRole::Slave if self.broker_id <= 0 => {
                return Err(format!(
                    "brokerRole=SLAVE needs brokerId > 0 (got brokerId={}; 0 is the master's id)",
                    self.broker_id
                ))
            }
            role if role.is_master() && self.broker_id != 0 => {
                return Err(format!(
                    "brokerRole={role} needs brokerId=0 (got brokerId={}); for a slave set brokerRole=SLAVE",
                    self.broker_id
                ))
            }
            _ => {}
        }
        self.caps.validate(self.max_frame_size)?;
        let ha = self.ha_port();
        if ha != 0 && self.listen_port != 0 {
            let fast = self.listen_port.saturating_sub(2);
            if ha == self.listen_port || ha == fast {
                return Err(format!(
                    "haListenPort={ha} collides with listenPort={} or its fast port {fast}",
                    self.listen_port
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_levels_parse_as_apache() {
        let d = parse_delay_levels(DEFAULT_DELAY_LEVELS).unwrap();
        assert_eq!(d.len(), 18);
        assert_eq!((d[0], d[4], d[16], d[17]), (1000, 60_000, 3_600_000, 7_200_000));
        assert_eq!(parse_delay_levels(" 2s  1d ").unwrap(), vec![2000, 86_400_000]);
        for bad in ["", "10", "5x", "s", "1.5s", "1é"] {
            assert!(parse_delay_levels(bad).is_err(), "{bad:?} must be refused");
        }
        let mut c = BrokerConfig::default();
        assert_eq!(c.set("messageDelayLevel", "1s 3s"), Ok(true));
        assert_eq!(c.message_delay_level, vec![1000, 3000]);
        assert!(c.set("messageDelayLevel", "1s 3q").is_err());
    }

    #[test]
    fn ha_keys_and_role_checks() {
        let mut c = BrokerConfig::default();
        assert_eq!((c.ha_port(), c.slave_timeout, c.ha_transfer_batch_size), (10912, 3000, 32768));
        assert_eq!(c.ha_config().slave_fallbehind_max, 256 << 20);
        assert!(c.validate().is_ok());
        c.listen_port = 0;
        assert_eq!(c.ha_port(), 0);
        for (k, v) in [
            ("haListenPort", "20912"),
            ("haMasterAddress", "10.0.0.1:10912"),
            ("haSendHeartbeatInterval", "1000"),
            ("haHousekeepingInterval", "4000"),
            ("haTransferBatchSize", "65536"),
            ("haSlaveFallbehindMax", "1048576"),
            ("slaveReadEnable", "true"),
            ("slaveTimeout", "500"),
        ] {
            assert_eq!(c.set(k, v), Ok(true), "{k}");
        }
        assert_eq!(c.ha_port(), 20912);
        assert_eq!(c.ha_master_address.as_deref(), Some("10.0.0.1:10912"));
        let h = c.ha_config();
        assert_eq!(h.heartbeat_interval.as_millis(), 1000);
        assert_eq!(h.housekeeping_interval.as_millis(), 4000);
        assert_eq!((h.transfer_batch_size, h.slave_fallbehind_max), (65536, 1 << 20));
        assert!(c.slave_read_enable && c.slave_timeout == 500);
        assert!(c.set("haMasterAddress", "nowhere").is_err());
        assert!(c.set("haTransferBatchSize", "0").is_err());
        assert!(c.set("slaveTimeout", "0").is_err());
        assert_eq!(c.set("haMasterAddress", ""), Ok(true));
        assert_eq!(c.ha_master_address, None);
        // Roles and ids.
        c.set("brokerRole", "SLAVE").unwrap();
        let e = c.validate().unwrap_err();
        assert!(e.contains("brokerId > 0"), "{e}");
        c.set("brokerId", "-1").unwrap();
        assert!(c.validate().is_err());
        c.set("brokerId", "2").unwrap();
        assert!(c.validate().is_ok());
        c.set("brokerRole", "SYNC_MASTER").unwrap();
        assert!(c.validate().unwrap_err().contains("brokerId=0"));
        assert!(c.set("brokerRole", "sync_master").is_err());
        c.set("brokerId", "0").unwrap();
        c.listen_port = 10911;
        c.ha_listen_port = Some(10909);
        assert!(c.validate().unwrap_err().contains("collides"));
    }

    #[test]
    fn transaction_keys_as_apache() {
        let mut c = BrokerConfig::default();
        let defaults = (c.transaction_check_interval, c.transaction_time_out);
        assert_eq!(defaults, (60_000, 6_000));
        assert_eq!((c.transaction_check_max, c.reject_transaction_message), (15, false));
        assert_eq!(c.set("transactionCheckInterval", "300"), Ok(true));
        assert_eq!(c.set("transactionTimeOut", "1000"), Ok(true));
        assert_eq!(c.set("transactionCheckMax", "3"), Ok(true));
        assert_eq!(c.set("rejectTransactionMessage", "true"), Ok(true));
        assert_eq!((c.transaction_check_interval, c.transaction_time_out), (300, 1000));
        assert_eq!((c.transaction_check_max, c.reject_transaction_message), (3, true));
        assert!(c.set("transactionTimeOut", "soon").is_err());
    }

    #[test]
    fn connection_cap_keys() {
        let mut c = BrokerConfig::default();
        assert_eq!(c.caps, crate::remoting::ConnCaps::default());
        assert_eq!(c.set("maxConnectionsPerIp", "2"), Ok(true));
        assert_eq!(c.set("serverChannelMaxIdleTimeSeconds", "30"), Ok(true));
        assert_eq!((c.caps.max_connections_per_ip, c.caps.idle_seconds), (2, 30));
        assert!(c.set("maxConnections", "0").is_err());
        assert!(c.validate().is_ok());
        assert_eq!(c.set("outboundQueueBytes", "1048576"), Ok(true));
        assert!(c.validate().unwrap_err().contains("outboundQueueBytes"));
        let props = crate::broker::live::properties(&c);
        for k in crate::remoting::ConnCaps::KEYS {
            assert!(props.iter().any(|(p, _)| *p == k), "{k} not listed");
            assert!(crate::broker::live::RESTART_KEYS.contains(&k), "{k} not a restart key");
        }
    }
}
