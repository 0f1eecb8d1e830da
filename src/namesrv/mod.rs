//! Name server: the route registry brokers register to and clients look routes up in.
//! `start(cfg) -> Handle`; the `rmq-namesrv` binary is a thin wrapper.

pub mod config;
mod kv;
mod metrics;
mod ops;
mod processor;
pub mod routes;

pub use config::{MetricsPort, NamesrvConfig};

use crate::common::service::Service;
use crate::metrics::{MetricsServer, Registry};
use crate::remoting::{Server, ServerConfig};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A running name server.
pub struct NamesrvHandle {
    server: Server,
    scanner: Service,
    registry: Arc<Registry>,
    metrics: Option<MetricsServer>,
}

impl NamesrvHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The `/metrics` address, when `metricsPort` turned the endpoint on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::local_addr)
    }

    /// The name server's metric registry (served on `/metrics`).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Stop serving and join every thread.
    pub fn shutdown(&mut self) {
        if let Some(m) = self.metrics.as_mut() {
            m.shutdown();
        }
        self.scanner.stop();
        self.server.shutdown();
    }
}

/// Start a name server.
pub fn start(cfg: NamesrvConfig) -> io::Result<NamesrvHandle> {
    cfg.caps
        .validate(cfg.max_frame_size)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let kv = Arc::new(kv::KvStore::open(cfg.kv_config_path.clone()));
    let routes = Arc::new(routes::RouteTable::new(cfg.broker_expire_millis));
    let mut table = processor::build_routes(
        routes.clone(),
        kv,
        cfg.order_message_enable,
        cfg.server_worker_threads,
    );
    ops::register(&mut table, routes.clone(), cfg.clone());
    let registry = metrics::registry(routes.clone());
    if let Some(h) = metrics::hook(&cfg, &registry)? {
        table.hook(h);
    }
    let metrics = metrics::start(&cfg, registry.clone())?;
    let bind: SocketAddr = SocketAddr::new(cfg.bind_address, cfg.listen_port);
    let mut scfg = ServerConfig::new("namesrv", bind);
    scfg.max_frame = cfg.max_frame_size;
    cfg.caps.apply(&mut scfg);
    let server = Server::start(scfg, table)?;
    let r2 = routes.clone();
    let interval = Duration::from_millis(cfg.scan_interval_millis);
    let scanner = Service::spawn("namesrv-scan", move |ctx| {
        while ctx.wait(interval) {
            r2.scan_expired();
        }
    })?;
    Ok(NamesrvHandle { server, scanner, registry, metrics })
}
