//! Master/slave replication in the broker (issue 11, docs/HA.md): which side of `crate::ha` this
//! broker runs, what the send path asks of it (SYNC_MASTER), what the name server's registration
//! answers feed it (the master's addresses), and the slave's copy of the master's tables
//! (Apache's SlaveSynchronize, run by `services::slave_sync`).
//!
//! - A master (ASYNC_MASTER, SYNC_MASTER) runs [`HaService`] on haListenPort and advertises
//!   `brokerIP2` (or brokerIP1) with the bound port as its `haServerAddr`.
//! - A slave runs [`SlaveClient`] with its store in slave mode. It follows haMasterAddress when
//!   set; otherwise the `haServerAddr` the name server answers its registration with. The
//!   answer's `masterAddr` is where it syncs topics, consumer offsets, delay offsets and
//!   subscription groups from.

use super::core::Core;
use crate::common::service::Waker;
use crate::ha::{HaService, SlaveClient, SlaveState, SlaveStatus};
use parking_lot::Mutex;
use std::io;
use std::net::SocketAddr;
use std::sync::OnceLock;

/// The broker's replication side; empty until [`Replication::start`].
#[derive(Default)]
pub struct Replication {
    master: OnceLock<HaService>,
    slave: OnceLock<SlaveClient>,
    /// The HA address advertised in registrations.
    ha_addr: OnceLock<SocketAddr>,
    /// The master's main address, from the name server (slave only).
    master_addr: Mutex<Option<String>>,
    /// Wakes the slave's table sync (set by `services::slave_sync`).
    sync_waker: Mutex<Option<Waker>>,
}

impl Replication {
    /// Start the master's HA service or the slave's client, by brokerRole.
    pub(crate) fn start(&self, c: &Core) -> io::Result<()> {
        let cfg = c.cfg();
        let ip = cfg.broker_ip2.unwrap_or(cfg.broker_ip1);
        let port = cfg.ha_port();
        if cfg.broker_role.is_master() {
            let bind = SocketAddr::new(cfg.bind_address, port);
            let ha = HaService::start(c.store.clone(), bind, cfg.ha_config()).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot listen on haListenPort {bind}: {e}"))
            })?;
            let _ = self.ha_addr.set(SocketAddr::new(ip, ha.local_addr().port()));
            let _ = self.master.set(ha);
        } else {
            let _ = self.ha_addr.set(SocketAddr::new(ip, port));
            c.offsets.track_local_commits(true);
            let master = cfg.ha_master_address.as_deref();
            log::info!(
                "slave brokerId={} follows master HA address {}",
                cfg.broker_id,
                master.unwrap_or("(from the name server)")
            );
            let client = SlaveClient::start(c.store.clone(), cfg.ha_config(), master)?;
            let _ = self.slave.set(client);
        }
        Ok(())
    }

    /// The HA address to advertise (`haServerAddr`), once started.
    pub fn ha_addr(&self) -> Option<SocketAddr> {
        self.ha_addr.get().copied()
    }

    /// The master's HA service, on a master.
    pub fn master(&self) -> Option<&HaService> {
        self.master.get()
    }

    /// The slave's HA client, on a slave.
    pub fn slave(&self) -> Option<&SlaveClient> {
        self.slave.get()
    }

    /// The master's slaves (empty on a slave).
    pub fn slave_states(&self) -> Vec<SlaveState> {
        self.master.get().map(|m| m.slave_states()).unwrap_or_default()
    }

    /// The slave's replication state, on a slave.
    pub fn slave_status(&self) -> Option<SlaveStatus> {
        self.slave.get().map(|s| s.status())
    }

    /// A slave that could take a SYNC_MASTER send ending at `end` (HAService.isSlaveOK).
    pub fn in_sync_slave_available(&self, end: u64) -> bool {
        self.master.get().is_some_and(|m| m.in_sync_slave_available(end))
    }

    /// The master's main address the slave syncs its tables from.
    pub fn master_addr(&self) -> Option<String> {
        self.master_addr.lock().clone()
    }

    /// A slave that does not know its master, or is not streaming from it: the registration
    /// service then registers every few seconds instead of every registerNameServerPeriod, so a
    /// slave started before its master, or whose master came back on another address, finds it
    /// soon.
    pub fn slave_waiting_for_master(&self) -> bool {
        let Some(s) = self.slave.get() else { return false };
        s.master_addr().is_none() || self.master_addr.lock().is_none() || !s.status().streaming
    }

    /// A slave's registration was answered (BrokerController.registerBrokerAll): follow the
    /// master's `haServerAddr` unless haMasterAddress is set, and sync tables from `masterAddr`
    /// (none: the master is not registered, nothing is synced).
    pub(crate) fn on_register_answer(
        &self,
        fixed_ha: bool,
        ha_server_addr: Option<&str>,
        master_addr: Option<&str>,
    ) {
        let Some(slave) = self.slave.get() else { return };
        if !fixed_ha {
            if let Some(h) = ha_server_addr.filter(|h| !h.is_empty()) {
                slave.set_master_addr(Some(h));
            }
        }
        let new = master_addr.filter(|m| !m.is_empty()).map(str::to_string);
        let mut cur = self.master_addr.lock();
        if *cur != new {
            log::info!("slave syncs from master {:?} (was {:?})", new, *cur);
            let first = cur.is_none();
            *cur = new;
            drop(cur);
            if first {
                if let Some(w) = self.sync_waker.lock().as_ref() {
                    w.wake();
                }
            }
        }
    }

    pub(crate) fn set_sync_waker(&self, w: Waker) {
        *self.sync_waker.lock() = Some(w);
    }

    /// Stop the HA service or client (idempotent).
    pub(crate) fn shutdown(&self) {
        if let Some(m) = self.master.get() {
            m.shutdown();
        }
        if let Some(s) = self.slave.get() {
            s.shutdown();
        }
    }
}
