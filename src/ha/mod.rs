//! Master/slave replication (issue 11): Apache RocketMQ's classic HA protocol ([`wire`]) over
//! the store's raw commit-log API (`store/replica.rs`), so an Apache slave can follow an rmq
//! master and an rmq slave an Apache master. docs/HA.md has the whole design.
//!
//! - [`HaService`] (master): listens on the HA port (haListenPort, listenPort + 1 in the
//!   broker), runs a reader and a writer thread per slave (at most [`HaConfig::max_slaves`]),
//!   sends each slave the log from the offset it reports, feeds its acknowledgements to the
//!   store's durability waiter ([`crate::store::MessageStore::notify_replica_ack`]), drops a
//!   slave silent for haHousekeepingInterval, and logs "slave fall behind" every 60 s.
//! - [`SlaveClient`] (slave): connects to a master address that may change at run time,
//!   reconnects for ever with backoff, and appends what it receives byte for byte; the store's
//!   dispatch then builds consume queues and index with the master's queue offsets.
//!
//! Better than Apache at catching up (issue 11 point 6), without changing the wire:
//! - a report of 0 (an empty slave) starts at the master's min offset, the whole retained log
//!   (Apache: the start of the last file); a report below the min also starts there;
//! - a report above the master's max gets a heartbeat carrying the master's max (Apache keeps
//!   sending heartbeats at the slave's offset), and a heartbeat as soon as a slave has caught
//!   up, so a slave learns at once where the master ends;
//! - an rmq slave reports the start of its last record instead of its max, compares the bytes
//!   it already holds with the master's, steps back (1, 2, 4 … records, then a file at a time)
//!   while they differ before a first common record, and then truncates at the first byte that
//!   differs or at the master's end; with nothing in common, or below the master's oldest file,
//!   it resets its log to the offset the master sends from ([`follow`]).
//!
//! Threads: `ha-accept` and `ha-monitor` (services), `ha-read-<n>` / `ha-write-<n>` per slave
//! connection, `ha-client` on a slave; all through `common::service`.

mod follow;
mod master;
mod slave;
pub mod wire;

pub use master::{HaService, SlaveState};
pub use slave::{SlaveClient, SlaveStatus};

use std::time::Duration;

/// HA settings, with Apache's MessageStoreConfig names and defaults.
#[derive(Debug, Clone)]
pub struct HaConfig {
    /// `haSendHeartbeatInterval` (5 s): a slave reports and a master sends a heartbeat after
    /// this long without writing.
    pub heartbeat_interval: Duration,
    /// `haHousekeepingInterval` (20 s): a peer silent this long is dropped.
    pub housekeeping_interval: Duration,
    /// `haTransferBatchSize` (32 KiB): most bytes per frame.
    pub transfer_batch_size: usize,
    /// `haSlaveFallbehindMax` (256 MiB): a slave further behind does not count as available
    /// for SYNC_MASTER sends.
    pub slave_fallbehind_max: u64,
    /// rmq: most slave connections a master serves at once (each holds two threads).
    pub max_slaves: usize,
    /// rmq: how often the master logs each slave's lag ("slave fall behind", 60 s as Apache's
    /// BrokerController.printMasterAndSlaveDiff).
    pub lag_log_interval: Duration,
}

impl Default for HaConfig {
    fn default() -> Self {
        HaConfig {
            heartbeat_interval: Duration::from_secs(5),
            housekeeping_interval: Duration::from_secs(20),
            transfer_batch_size: 32 * 1024,
            slave_fallbehind_max: 256 * 1024 * 1024,
            max_slaves: 8,
            lag_log_interval: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_apache;
