//! Name server configuration, with Apache's key names (NamesrvConfig + NettyServerConfig).

use crate::common::config::{parse_bool, parse_num, ConfigKeys};
use std::net::IpAddr;
use std::path::PathBuf;

/// Name server settings.
#[derive(Debug, Clone)]
pub struct NamesrvConfig {
    /// `listenPort` (9876; 0 picks a free port).
    pub listen_port: u16,
    /// `bindAddress` (rmq extension; 0.0.0.0 by default).
    pub bind_address: IpAddr,
    /// `kvConfigPath` (~/namesrv/kvConfig.json).
    pub kv_config_path: PathBuf,
    /// `orderMessageEnable`.
    pub order_message_enable: bool,
    /// `serverWorkerThreads`.
    pub server_worker_threads: usize,
    /// `maxFrameSize` (rmq extension, bytes; Java's system property frameMaxLength).
    pub max_frame_size: usize,
    /// The connection caps: `serverChannelMaxIdleTimeSeconds`, `maxConnections`,
    /// `maxConnectionsPerIp`, `outboundQueueBytes`, `maxInFlightPerConnection`.
    pub caps: crate::remoting::ConnCaps,
    /// `scanNotActiveBrokerInterval` (ms, 10 s).
    pub scan_interval_millis: u64,
    /// `brokerExpiredMillis` (rmq extension, 120 s).
    pub broker_expire_millis: u64,
    /// `metricsPort` (rmq extension): where `GET /metrics` is served on `bindAddress`.
    pub metrics_port: MetricsPort,
    /// `configBlackList` (Apache's default list): keys UPDATE_NAMESRV_CONFIG may not change,
    /// `;`-separated, on top of configBlackList, configStorePath, kvConfigPath, rocketmqHome.
    pub config_black_list: String,
}

pub use crate::metrics::MetricsPort;

impl Default for NamesrvConfig {
    fn default() -> Self {
        let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
        NamesrvConfig {
            listen_port: 9876,
            bind_address: IpAddr::from([0, 0, 0, 0]),
            kv_config_path: PathBuf::from(home).join("namesrv").join("kvConfig.json"),
            order_message_enable: false,
            server_worker_threads: 8,
            max_frame_size: crate::protocol::frame::DEFAULT_MAX_FRAME,
            caps: crate::remoting::ConnCaps::default(),
            scan_interval_millis: 10_000,
            broker_expire_millis: 120_000,
            metrics_port: MetricsPort::Off,
            config_black_list: "configBlackList;configStorePath;kvConfigPath".into(),
        }
    }
}

impl NamesrvConfig {
    /// Every key with its current value, as GET_NAMESRV_CONFIG answers them.
    pub fn to_properties(&self) -> Vec<(String, String)> {
        [
            ("listenPort", self.listen_port.to_string()),
            ("bindAddress", self.bind_address.to_string()),
            ("kvConfigPath", self.kv_config_path.display().to_string()),
            ("orderMessageEnable", self.order_message_enable.to_string()),
            ("serverWorkerThreads", self.server_worker_threads.to_string()),
            ("maxFrameSize", self.max_frame_size.to_string()),
            ("scanNotActiveBrokerInterval", self.scan_interval_millis.to_string()),
            ("brokerExpiredMillis", self.broker_expire_millis.to_string()),
            ("metricsPort", self.metrics_port.as_config()),
            ("configBlackList", self.config_black_list.clone()),
        ]
        .into_iter()
        .chain(self.caps.properties())
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl ConfigKeys for NamesrvConfig {
    fn set(&mut self, key: &str, v: &str) -> Result<bool, String> {
        if self.caps.set(key, v)? {
            return Ok(true);
        }
        match key {
            "listenPort" => self.listen_port = parse_num(v)?,
            "bindAddress" => self.bind_address = parse_num(v)?,
            "kvConfigPath" => self.kv_config_path = PathBuf::from(v),
            "orderMessageEnable" => self.order_message_enable = parse_bool(v)?,
            "serverWorkerThreads" => self.server_worker_threads = parse_num(v)?,
            "maxFrameSize" => self.max_frame_size = parse_num(v)?,
            "scanNotActiveBrokerInterval" => self.scan_interval_millis = parse_num(v)?,
            "brokerExpiredMillis" => self.broker_expire_millis = parse_num(v)?,
            "metricsPort" => self.metrics_port = MetricsPort::parse(v)?,
            "configBlackList" => self.config_black_list = v.to_string(),
            // Accepted for compatibility, no effect here.
            "rocketmqHome"
            | "configStorePath"
            | "productEnvName"
            | "clusterTest"
            | "serverSelectorThreads"
            | "serverCallbackExecutorThreads"
            | "serverOnewaySemaphoreValue"
            | "serverAsyncSemaphoreValue"
            | "serverSocketSndBufSize"
            | "serverSocketRcvBufSize"
            | "serverPooledByteBufAllocatorEnable"
            | "useEpollNativeSelector" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }
}
