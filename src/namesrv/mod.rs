//! Name server: the route registry brokers register to and clients look routes up in.
//! `start(cfg) -> Handle`; the `rmq-namesrv` binary is a thin wrapper.

pub mod config;
mod kv;
mod processor;
pub mod routes;

pub use config::NamesrvConfig;

use crate::common::service::Service;
use crate::remoting::{Server, ServerConfig};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A running name server.
pub struct NamesrvHandle {
    server: Server,
    scanner: Service,
}

impl NamesrvHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Stop serving and join every thread.
    pub fn shutdown(&mut self) {
        self.scanner.stop();
        self.server.shutdown();
    }
}

/// Start a name server.
pub fn start(cfg: NamesrvConfig) -> io::Result<NamesrvHandle> {
    let kv = Arc::new(kv::KvStore::open(cfg.kv_config_path.clone()));
    let routes = Arc::new(routes::RouteTable::new(cfg.broker_expire_millis));
    let table = processor::build_routes(
        routes.clone(),
        kv,
        cfg.order_message_enable,
        cfg.server_worker_threads,
    );
    let bind: SocketAddr = SocketAddr::new(cfg.bind_address, cfg.listen_port);
    let mut scfg = ServerConfig::new("namesrv", bind);
    scfg.max_frame = cfg.max_frame_size;
    let server = Server::start(scfg, table)?;
    let r2 = routes.clone();
    let interval = Duration::from_millis(cfg.scan_interval_millis);
    let scanner = Service::spawn("namesrv-scan", move |ctx| {
        while ctx.wait(interval) {
            r2.scan_expired();
        }
    })?;
    Ok(NamesrvHandle { server, scanner })
}
