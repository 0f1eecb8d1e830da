//! Broker: topics, sends, pulls with long polling, consumer offsets, client tables,
//! subscription groups, retries and dead letters, delayed delivery, transactions and name
//! server registration over the store. `start(cfg) -> BrokerHandle`; `rmq-broker` is a thin
//! wrapper.
//!
//! The house (docs/ARCHITECTURE.md has the whole walk):
//! - `core`: the shared state: the live typed configuration (`live`, `config`), the tables
//!   (`topics`, `offsets`, `groups`, `delay`, `clients`, `locks`, `hold`) and the store.
//! - `processor`: one request family per module, each a `Handler` over the core.
//! - `routes`: the one table of codes → processor, pool, inline, ports.
//! - `services`: the background loops (registration, delay delivery, transaction checks,
//!   parked pulls, housekeeping, a slave's table sync).
//! - `replication`: the master's HA service or the slave's client (issue 11, docs/HA.md).
//! - `txn`, `delay`, `tps`: what several of those share.

mod acl;
pub mod clients;
pub mod config;
pub mod core;
pub mod delay;
pub mod groups;
pub mod hold;
pub mod live;
pub mod locks;
mod metrics;
pub mod offsets;
mod processor;
pub mod replication;
mod routes;
pub mod services;
pub mod stats;
pub mod topics;
mod tps;
pub mod txn;

pub use config::{BrokerConfig, BrokerRole, Perm};
pub use core::Core;

use crate::common::service::{spawn_thread, Service};
use crate::metrics::{MetricsServer, Registry};
use crate::remoting::{Dispatcher, Port, RequestHook, Server, ServerConfig};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running broker.
pub struct BrokerHandle {
    core: Arc<Core>,
    main: Server,
    fast: Server,
    dispatcher: Arc<Dispatcher>,
    services: Vec<Service>,
    hold_stop: Option<crossbeam_channel::Sender<()>>,
    hold_thread: Option<JoinHandle<()>>,
    _acl: Option<crate::acl::AclWatcher>,
    metrics: Option<(Arc<Registry>, Option<MetricsServer>)>,
    stopped: bool,
}

impl BrokerHandle {
    /// Main listen address.
    pub fn local_addr(&self) -> SocketAddr {
        self.main.local_addr()
    }

    /// Fast (VIP) port address.
    pub fn fast_addr(&self) -> SocketAddr {
        self.fast.local_addr()
    }

    /// The HA address advertised to name servers (a master's bound HA port).
    pub fn ha_addr(&self) -> Option<SocketAddr> {
        self.core.repl.ha_addr()
    }

    /// The `/metrics` address, when `metricsPort` turned the endpoint on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(_, s)| s.as_ref()).map(MetricsServer::local_addr)
    }

    /// The broker's metric registry (served on `/metrics`), when `metricsPort` is on.
    pub fn registry(&self) -> Option<&Arc<Registry>> {
        self.metrics.as_ref().map(|(r, _)| r)
    }

    /// The shared state.
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Graceful stop (issue 4): stop accepting and refuse new requests, answer every request
    /// already queued and every parked pull, close the connections, stop the services,
    /// unregister from every name server, persist offsets, flush and close the store (which
    /// removes the abort file).
    pub fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        log::info!("broker stopping addr={}", self.core.addr());
        if let Some((_, Some(m))) = self.metrics.as_mut() {
            m.shutdown();
        }
        self.main.drain();
        self.fast.drain();
        self.dispatcher.drain();
        // After the pools drained nothing can park any more; answer what is parked: pulls, and
        // SYNC_FLUSH sends waiting for their group commit.
        self.hold_stop.take();
        if let Some(h) = self.hold_thread.take() {
            let _ = h.join();
        }
        self.core.store.flush_waiters();
        self.main.shutdown();
        self.fast.shutdown();
        self.dispatcher.stop();
        for s in &mut self.services {
            s.stop();
        }
        services::register::unregister_all(&self.core);
        self.core.repl.shutdown();
        self.core.remote.shutdown();
        self.core.offsets.persist(true);
        self.core.store.shutdown();
        log::info!("broker stopped addr={}", self.core.addr());
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start a broker: open (and recover) the store, bind the main and fast ports, register with
/// the name servers, start the background services.
pub fn start(cfg: BrokerConfig) -> io::Result<BrokerHandle> {
    start_with_hooks(cfg, Vec::new())
}

/// [`start`], with `hooks` around every request on both ports (in order). With
/// `aclEnable=true` the ACL hook runs first.
pub fn start_with_hooks(
    cfg: BrokerConfig,
    mut hooks: Vec<Arc<dyn RequestHook>>,
) -> io::Result<BrokerHandle> {
    cfg.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let acl_watcher = acl::start(&cfg)?;
    if let Some(w) = &acl_watcher {
        hooks.insert(0, Arc::new(acl::AclHook { acl: w.shared() }));
    }
    let main_listener = TcpListener::bind(SocketAddr::new(cfg.bind_address, cfg.listen_port))?;
    let main_port = main_listener.local_addr()?.port();
    let fast_port = if cfg.listen_port == 0 { 0 } else { cfg.listen_port.saturating_sub(2) };
    let fast_listener = TcpListener::bind(SocketAddr::new(cfg.bind_address, fast_port))?;
    let core = core::open(&cfg, SocketAddr::new(cfg.broker_ip1, main_port))?;
    // Before any port serves: a slave's store refuses puts from the first request on.
    core.repl.start(&core)?;
    if let Some(w) = &acl_watcher {
        let _ = core.acl.set(w.shared());
    }
    acl::install_signer(&cfg, &core)?;
    let mut services = Vec::new();
    let c = core.clone();
    let schedule = Service::spawn("broker-schedule", move |ctx| services::schedule::run(&c, ctx))?;
    let schedule_waker = schedule.waker();
    services.push(schedule);
    // Long polling: the dispatch thread reports arrivals; the hold thread wakes parked pulls.
    // In short-polling mode (longPollingEnable=false) arrivals wake nobody: a parked pull is
    // answered after shortPollingTimeMills, as Apache's PullRequestHoldService does.
    let (arr_tx, arr_rx) = crossbeam_channel::unbounded();
    let c = core.clone();
    core.store.set_arrival_listener(Arc::new(
        move |topic: &str, queue: i32, max: i64, code: i64| {
            if topic == topics::SCHEDULE_TOPIC {
                schedule_waker.wake();
            }
            if c.hold.any_waiting() && c.cfg().long_polling_enable {
                let _ = arr_tx.send((topic.to_string(), queue, max, code));
            }
        },
    ));
    let pull = routes::pull_processor(&core);
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let p = pull.clone();
    let hold_thread = spawn_thread("broker-pull-hold".into(), move || {
        services::pull_hold::run(p, arr_rx, stop_rx)
    })?;
    let mut main_cfg = ServerConfig::new("broker", main_listener.local_addr()?);
    main_cfg.max_frame = cfg.max_frame_size;
    cfg.caps.apply(&mut main_cfg);
    let mut fast_cfg = ServerConfig::new("broker-fast", fast_listener.local_addr()?);
    fast_cfg.max_frame = cfg.max_frame_size;
    cfg.caps.apply(&mut fast_cfg);
    fast_cfg.port = Port::Fast;
    // Request metrics only when served: the hook costs a lookup and atomics per request.
    let mut hooks = hooks;
    let registry = match cfg.metrics_port.bind_port() {
        Some(_) => {
            let (registry, hook) = metrics::registry().map_err(io::Error::other)?;
            hooks.push(hook);
            Some(registry)
        }
        None => None,
    };
    let dispatcher =
        Dispatcher::start("broker", routes::build(&core, pull, hooks), main_cfg.dispatch)?;
    core.set_dispatcher(&dispatcher);
    let main = Server::serve(main_cfg, main_listener, dispatcher.clone())?;
    let fast = Server::serve(fast_cfg, fast_listener, dispatcher.clone())?;
    let metrics = match (registry, cfg.metrics_port.bind_port()) {
        (Some(registry), Some(port)) => {
            let (m, f) = (main.connection_counter(), fast.connection_counter());
            metrics::add_collectors(&registry, &core, Arc::new(move || m() + f()));
            let bind = SocketAddr::new(cfg.bind_address, port);
            let server = MetricsServer::start("broker", bind, registry.clone())?;
            Some((registry, Some(server)))
        }
        _ => None,
    };
    services.push(services::register::spawn(&core)?);
    services.push(services::housekeeping::spawn(&core)?);
    if cfg.broker_role.is_master() {
        services.push(services::txn_check::spawn(&core)?);
    } else {
        services.push(services::slave_sync::spawn(&core)?);
    }
    let registered = services::register::register_all(&core);
    if cfg.broker_role.is_master() {
        services.push(services::slave_sync::spawn_takeover(&core)?);
    }
    log::info!(
        "broker started name={} cluster={} role={} id={} addr={} ha={} namesrv={} registered={}",
        cfg.broker_name,
        cfg.broker_cluster_name,
        cfg.broker_role,
        cfg.broker_id,
        core.addr(),
        core.repl.ha_addr().map(|a| a.to_string()).unwrap_or_default(),
        cfg.namesrv_addr,
        registered
    );
    Ok(BrokerHandle {
        core,
        main,
        fast,
        dispatcher,
        services,
        hold_stop: Some(stop_tx),
        hold_thread: Some(hold_thread),
        _acl: acl_watcher,
        metrics,
        stopped: false,
    })
}

#[cfg(test)]
mod tests;
