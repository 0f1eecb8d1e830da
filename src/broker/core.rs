//! The broker's core state: one live configuration, the tables (topics, consumer offsets,
//! subscription groups, delay offsets, clients, queue locks, parked pulls) and the store.
//! Processors and services each hold an `Arc<Core>`; nothing else is shared between them.

use super::clients::ClientManager;
use super::config::BrokerConfig;
use super::delay::DelayOffsets;
use super::groups::GroupManager;
use super::hold::PullHold;
use super::live::LiveConfig;
use super::locks::LockManager;
use super::offsets::OffsetManager;
use super::replication::Replication;
use super::topics::TopicManager;
use super::tps::{GroupGets, StoreStats};
use crate::acl::SharedAcl;
use crate::common::service::Waker;
use crate::protocol::body::{perm, MessageQueue, TopicConfig};
use crate::remoting::RemotingClient;
use crate::store::{MessageStore, StoreConfig};
use parking_lot::Mutex;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// Shared broker state.
pub struct Core {
    /// The live configuration: every handler reads it per request.
    pub live: LiveConfig,
    /// The message store.
    pub store: Arc<MessageStore>,
    /// Topic configs.
    pub topics: TopicManager,
    /// Committed consumer offsets.
    pub offsets: OffsetManager,
    /// Subscription groups.
    pub groups: GroupManager,
    /// Progress of each delay level.
    pub delay_offsets: DelayOffsets,
    /// Producers and consumers by group.
    pub clients: ClientManager,
    /// Orderly consumers' queue locks.
    pub locks: LockManager,
    /// Parked pulls.
    pub hold: PullHold,
    /// `brokerIP1:listenPort`, stored in every message and advertised to name servers.
    pub store_host: SocketAddr,
    /// Outbound calls (name servers).
    pub remote: RemotingClient,
    /// Put and get rates for the runtime info.
    pub tps: StoreStats,
    /// Messages pulled per (topic, group) over the last minute.
    pub group_gets: GroupGets,
    /// When the broker started (ms).
    pub boot_timestamp: i64,
    /// Master/slave replication (HA service or slave client), started by `broker::start`.
    pub repl: Replication,
    /// The ACL in force when `aclEnable` is on (set once at start), for checks a processor
    /// makes itself (END_TRANSACTION's real topic).
    pub acl: OnceLock<SharedAcl>,
    register_waker: Mutex<Option<Waker>>,
}

impl Core {
    /// The configuration as it is now (cheap: one `Arc`).
    pub fn cfg(&self) -> Arc<BrokerConfig> {
        self.live.get()
    }

    /// `ip:port` this broker advertises.
    pub fn addr(&self) -> String {
        self.store_host.to_string()
    }

    /// Let the registration service register with every name server now.
    pub fn wake_registration(&self) {
        if let Some(w) = self.register_waker.lock().as_ref() {
            w.wake();
        }
    }

    pub(crate) fn set_register_waker(&self, w: Waker) {
        *self.register_waker.lock() = Some(w);
    }

    /// This broker's queue `queue_id` of `topic`.
    pub fn mq(&self, topic: &str, queue_id: i32) -> MessageQueue {
        MessageQueue {
            broker_name: self.cfg().broker_name.clone(),
            queue_id,
            topic: topic.to_string(),
        }
    }

    /// Make sure a system-created topic exists (retry topics), readable and writable.
    pub fn ensure_topic(&self, topic: &str, queues: i32) {
        self.ensure_topic_perm(topic, queues, perm::READ | perm::WRITE);
    }

    /// Make sure a system-created topic exists with `perm` (createTopicInSendMessageBackMethod:
    /// an existing topic is left as it is). Returns its config.
    pub fn ensure_topic_perm(&self, topic: &str, queues: i32, perm: i32) -> TopicConfig {
        if let Some(tc) = self.topics.get(topic) {
            return tc;
        }
        let tc = TopicConfig::new(topic, queues.max(1), perm);
        if self.topics.upsert(tc.clone()) {
            self.wake_registration();
        }
        tc
    }

    /// A closed connection's clients leave their groups, whose members are told.
    pub fn connection_closed(&self, conn_id: u64) {
        self.hold.drop_connection(conn_id);
        for g in self.clients.remove_channels(Some(conn_id), None) {
            self.clients.notify_ids_changed(&g);
        }
    }
}

/// The store's configuration from the broker's.
pub(crate) fn store_config(c: &BrokerConfig) -> StoreConfig {
    StoreConfig {
        root_dir: c.store_path_root_dir.clone(),
        commit_log_dir: c.store_path_commit_log.clone(),
        commit_log_file_size: c.mapped_file_size_commit_log,
        cq_file_entries: (c.mapped_file_size_consume_queue / 20).max(1),
        flush_disk_type: c.flush_disk_type,
        flush_interval_ms: c.flush_interval_commit_log,
        flush_least_pages: c.flush_commit_log_least_pages,
        flush_thorough_interval_ms: c.flush_commit_log_thorough_interval,
        flush_cq_interval_ms: c.flush_interval_consume_queue,
        sync_flush_timeout_ms: c.sync_flush_timeout,
        max_message_size: c.max_message_size,
        check_crc_on_recover: c.check_crc_on_recover,
        max_hash_slot_num: c.max_hash_slot_num,
        max_index_num: c.max_index_num,
        file_reserved_time_ms: c
            .file_reserved_time_millis
            .unwrap_or(c.file_reserved_time.saturating_mul(3_600_000)),
        delete_when: c.delete_when.clone(),
        disk_max_used_space_ratio: c.disk_max_used_space_ratio,
        disk_space_clean_forcibly_ratio: c.disk_space_clean_forcibly_ratio,
        disk_space_warning_level_ratio: c.disk_space_warning_level_ratio,
        clean_file_forcibly_enable: c.clean_file_forcibly_enable,
        clean_resource_interval_ms: c.clean_resource_interval,
    }
}

/// Open (and recover) the store and the broker's persisted state, without ports or services:
/// what `start` serves, and what handler tests drive directly. `store_host` is the address
/// stored in every message (brokerIP1 and the main port).
pub fn open(cfg: &BrokerConfig, store_host: SocketAddr) -> io::Result<Arc<Core>> {
    let store =
        MessageStore::open(store_config(cfg)).map_err(|e| io::Error::other(e.to_string()))?;
    let config_dir = cfg.store_path_root_dir.join("config");
    let topics = TopicManager::open(config_dir.clone(), cfg)?;
    let offsets = OffsetManager::open(config_dir.clone())?;
    let groups = GroupManager::open(config_dir.clone())?;
    let delay_offsets = DelayOffsets::open(config_dir)?;
    Ok(Arc::new(Core {
        live: LiveConfig::new(cfg.clone()),
        store,
        topics,
        offsets,
        groups,
        delay_offsets,
        clients: ClientManager::default(),
        locks: LockManager::default(),
        hold: PullHold::default(),
        store_host,
        remote: RemotingClient::new(),
        tps: StoreStats::default(),
        group_gets: GroupGets::default(),
        boot_timestamp: crate::common::time::now_millis(),
        repl: Replication::default(),
        acl: OnceLock::new(),
        register_waker: Mutex::new(None),
    }))
}
