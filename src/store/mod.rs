//! Storage engine: commit log on memory-mapped segments, consume queues, dispatch, flush and
//! recovery, laid out on disk exactly like Apache RocketMQ 4.x (§5.1-5.6 of the protocol doc).
//!
//! | path under the root | module | content |
//! |---|---|---|
//! | `commitlog/<20-digit offset>` | `commitlog` | records (§3.1) back to back, BLANK at each segment's tail |
//! | `consumequeue/<topic>/<queueId>/<20-digit byte offset>` | `consume_queue` | 20-byte entries |
//! | `index/<yyyyMMddHHmmssSSS>` | `index` | hash index of `topic#key` (KEYS, UNIQ_KEY) |
//! | `checkpoint` | `checkpoint` | timestamps and rmq's safe dispatch offset |
//! | `abort` | `message_store` | exists while the store is open; present at open = crash |
//! | `lock` | `checkpoint` | flock-ed for the store's lifetime |
//!
//! Threads (all via `common::service`): `store-flush` (async flush or group commit),
//! `store-flush-answer` and `store-flush-watch` (the durability waiter's callbacks and
//! deadlines, `durability`), `store-warm` (pages ahead of the log), `store-dispatch` (commit
//! log → consume queues and index, arrival listener), `store-cq-flush` (consume queue and index
//! flush + checkpoint), `store-clean` (`retention`: expired files, full disk).
//!
//! Replication (`replica`, docs/HA.md): raw reads for a master's HA stream, slave mode with
//! appends of the master's bytes, live truncation and reset of a slave's log.

mod checkpoint;
mod commitlog;
mod consume_queue;
mod durability;
mod error;
pub use durability::{Durable, OnDurable, OnFlushed, WaitFor};
mod index;
mod message_store;
mod mmap;
mod replica;
mod retention;
mod services;
pub mod stats;

pub use error::StoreError;
pub use message_store::MessageStore;

use crate::protocol::command::Payload;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// When the commit log is flushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushDiskType {
    /// A background thread flushes periodically (`ASYNC_FLUSH`).
    Async,
    /// Group commit: writers wait until their data is flushed (`SYNC_FLUSH`).
    Sync,
}

impl FlushDiskType {
    /// Apache's name (`ASYNC_FLUSH`, `SYNC_FLUSH`).
    pub fn name(self) -> &'static str {
        match self {
            FlushDiskType::Async => "ASYNC_FLUSH",
            FlushDiskType::Sync => "SYNC_FLUSH",
        }
    }
}

impl std::fmt::Display for FlushDiskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FlushDiskType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "ASYNC_FLUSH" => Ok(FlushDiskType::Async),
            "SYNC_FLUSH" => Ok(FlushDiskType::Sync),
            other => {
                Err(format!("unknown flushDiskType {other:?}: expected ASYNC_FLUSH or SYNC_FLUSH"))
            }
        }
    }
}

/// Store configuration (Apache's MessageStoreConfig names in the field docs).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `storePathRootDir`.
    pub root_dir: PathBuf,
    /// `storePathCommitLog`; default `<root>/commitlog`.
    pub commit_log_dir: Option<PathBuf>,
    /// `mappedFileSizeCommitLog` (1 GiB).
    pub commit_log_file_size: u64,
    /// `mappedFileSizeConsumeQueue` / 20 (300 000).
    pub cq_file_entries: u64,
    /// `flushDiskType`.
    pub flush_disk_type: FlushDiskType,
    /// `flushIntervalCommitLog` (500 ms).
    pub flush_interval_ms: u64,
    /// `flushCommitLogLeastPages` (4).
    pub flush_least_pages: u32,
    /// `flushCommitLogThoroughInterval` (10 s).
    pub flush_thorough_interval_ms: u64,
    /// `flushIntervalConsumeQueue` (1 s).
    pub flush_cq_interval_ms: u64,
    /// `syncFlushTimeout` (5 s).
    pub sync_flush_timeout_ms: u64,
    /// `maxMessageSize` (4 MiB).
    pub max_message_size: usize,
    /// `checkCRCOnRecover` (true).
    pub check_crc_on_recover: bool,
    /// `maxHashSlotNum` (5 000 000 slots per index file).
    pub max_hash_slot_num: usize,
    /// `maxIndexNum` (20 000 000 entries per index file).
    pub max_index_num: usize,
    /// `fileReservedTime` in milliseconds (Apache's key is in hours, default 72).
    pub file_reserved_time_ms: u64,
    /// `deleteWhen`: hours of the day (`"04"`, or `"03;15"`) when expired files are deleted.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` (75 %): above it expired files are deleted at any hour.
    pub disk_max_used_space_ratio: u32,
    /// `diskSpaceCleanForciblyRatio` (85 %, a system property in Apache): above it the oldest
    /// files are deleted even if not expired (with `cleanFileForciblyEnable`).
    pub disk_space_clean_forcibly_ratio: u32,
    /// `diskSpaceWarningLevelRatio` (90 %, a system property in Apache): above it the disk counts
    /// as full and puts are refused with SERVICE_NOT_AVAILABLE.
    pub disk_space_warning_level_ratio: u32,
    /// `cleanFileForciblyEnable` (true).
    pub clean_file_forcibly_enable: bool,
    /// `cleanResourceInterval` (10 s): how often the retention service runs.
    pub clean_resource_interval_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        StoreConfig {
            root_dir: home.join("store"),
            commit_log_dir: None,
            commit_log_file_size: 1024 * 1024 * 1024,
            cq_file_entries: 300_000,
            flush_disk_type: FlushDiskType::Async,
            flush_interval_ms: 500,
            flush_least_pages: 4,
            flush_thorough_interval_ms: 10_000,
            flush_cq_interval_ms: 1000,
            sync_flush_timeout_ms: 5000,
            max_message_size: 4 * 1024 * 1024,
            check_crc_on_recover: true,
            max_hash_slot_num: 5_000_000,
            max_index_num: 20_000_000,
            file_reserved_time_ms: 72 * 3600 * 1000,
            delete_when: "04".to_string(),
            disk_max_used_space_ratio: 75,
            disk_space_clean_forcibly_ratio: 85,
            disk_space_warning_level_ratio: 90,
            clean_file_forcibly_enable: true,
            clean_resource_interval_ms: 10_000,
        }
    }
}

impl StoreConfig {
    /// Directory of the commit log segments.
    pub fn commit_log_path(&self) -> PathBuf {
        self.commit_log_dir.clone().unwrap_or_else(|| self.root_dir.join("commitlog"))
    }
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct PutMessage {
    /// Topic (≤ 127 bytes of `[%|a-zA-Z0-9_-]`).
    pub topic: String,
    /// Queue id.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// SYSFLAG (the V6 host bits are recomputed).
    pub sys_flag: i32,
    /// Producer timestamp.
    pub born_timestamp: i64,
    /// Producer address.
    pub born_host: SocketAddr,
    /// Broker address stored in the record and in offset message ids.
    pub store_host: SocketAddr,
    /// Reconsume count.
    pub reconsume_times: i32,
    /// Half message offset (commit records).
    pub prepared_transaction_offset: i64,
    /// Body: its own bytes, or a send's body still in the connection's read buffer.
    pub body: Payload,
    /// Properties string.
    pub properties: String,
}

/// Outcome of a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutStatus {
    /// Stored (and flushed when waited for).
    PutOk,
    /// Stored, but the sync flush did not finish in time.
    FlushDiskTimeout,
    /// Store shut down or refusing writes after an I/O failure.
    ServiceNotAvailable,
    /// Invalid topic, size or batch.
    MessageIllegal,
    /// Properties longer than 32767 bytes.
    PropertiesSizeExceeded,
    /// A new commit-log segment could not be created (disk full?).
    CreateMappedFileFailed,
    /// Anything else.
    UnknownError,
}

/// Result of a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// Status.
    pub status: PutStatus,
    /// Commit-log offset of the first record (−1 if nothing was stored).
    pub phys_offset: i64,
    /// Queue offset of the first record.
    pub queue_offset: i64,
    /// Offset message ids, one per stored record.
    pub msg_ids: Vec<String>,
    /// Store timestamp.
    pub store_timestamp: i64,
    /// Bytes appended to the commit log (0 if nothing was stored).
    pub wrote_bytes: i64,
}

impl PutResult {
    fn failed(status: PutStatus) -> PutResult {
        PutResult {
            status,
            phys_offset: -1,
            queue_offset: -1,
            msg_ids: Vec::new(),
            store_timestamp: 0,
            wrote_bytes: 0,
        }
    }
}

/// Result of a query by key (QUERY_MESSAGE).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResult {
    /// Raw records whose topic and key match, newest first.
    pub messages: Vec<Vec<u8>>,
    /// Store time of the newest index entry (`indexLastUpdateTimestamp`).
    pub index_last_update_timestamp: i64,
    /// Commit-log offset of the newest index entry (`indexLastUpdatePhyoffset`).
    pub index_last_update_phy_offset: i64,
}

/// Outcome of a get (see the PULL_MESSAGE status table, §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetStatus {
    /// At least one message.
    Found,
    /// Entries scanned but all filtered out.
    NoMatchedMessage,
    /// The commit-log data was deleted.
    MessageWasRemoving,
    /// The consume-queue file holding the offset is missing.
    OffsetFoundNull,
    /// Offset beyond the end of the queue.
    OffsetOverflowBadly,
    /// Offset equals the end of the queue (caught up).
    OffsetOverflowOne,
    /// Offset below the start of the queue.
    OffsetTooSmall,
    /// Unknown queue.
    NoMatchedLogicQueue,
    /// Empty queue.
    NoMessageInQueue,
}

impl GetStatus {
    /// Apache's name for the status (used as the pull response remark).
    pub fn name(&self) -> &'static str {
        match self {
            GetStatus::Found => "FOUND",
            GetStatus::NoMatchedMessage => "NO_MATCHED_MESSAGE",
            GetStatus::MessageWasRemoving => "MESSAGE_WAS_REMOVING",
            GetStatus::OffsetFoundNull => "OFFSET_FOUND_NULL",
            GetStatus::OffsetOverflowBadly => "OFFSET_OVERFLOW_BADLY",
            GetStatus::OffsetOverflowOne => "OFFSET_OVERFLOW_ONE",
            GetStatus::OffsetTooSmall => "OFFSET_TOO_SMALL",
            GetStatus::NoMatchedLogicQueue => "NO_MATCHED_LOGIC_QUEUE",
            GetStatus::NoMessageInQueue => "NO_MESSAGE_IN_QUEUE",
        }
    }
}

/// Result of a get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResult<M = Vec<u8>> {
    /// Status.
    pub status: GetStatus,
    /// Where the consumer should continue.
    pub next_begin_offset: i64,
    /// Queue min offset.
    pub min_offset: i64,
    /// Queue max offset (one past the last message).
    pub max_offset: i64,
    /// Raw records, verbatim bytes (copies, or [`BodyRef`](crate::protocol::command::BodyRef)
    /// ranges of the mapped log from [`MessageStore::get_message_refs`]).
    pub messages: Vec<M>,
}

/// Called by the dispatch thread after each consume-queue entry: topic, queue id, the queue's new
/// max offset, tags code. Must be quick and must not call back into puts.
pub type ArrivalListener = std::sync::Arc<dyn Fn(&str, i32, i64, i64) + Send + Sync>;

/// Topic names the store accepts (Apache TopicValidator: `^[%|a-zA-Z0-9_-]+$`, ≤ 127 bytes);
/// they become directory names.
pub(crate) fn valid_topic(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= crate::protocol::record::MAX_TOPIC_LEN
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-'))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_repair;
