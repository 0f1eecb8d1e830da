//! The name server's `/metrics` (issue 14): brokers alive by cluster and topics with a route,
//! computed from the route table at scrape time, plus the process families. Request counts
//! and routes served come from the request hook (issue 12) once it lands.

use super::config::NamesrvConfig;
use super::routes::RouteTable;
use crate::metrics::catalog::{NAMESRV_BROKERS_ALIVE, NAMESRV_TOPICS};
use crate::metrics::{process, FamilySnapshot, MetricsServer, Registry};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

/// A registry with the name server's collectors.
pub(super) fn registry(routes: Arc<RouteTable>) -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    registry.register_collector(Arc::new(move |out: &mut Vec<FamilySnapshot>| {
        let info = routes.cluster_info();
        let mut alive: BTreeMap<&str, usize> = BTreeMap::new();
        for names in info.cluster_addr_table.keys() {
            alive.insert(names, 0);
        }
        for b in info.broker_addr_table.values() {
            *alive.entry(b.cluster.as_str()).or_default() += b.broker_addrs.len();
        }
        let mut f = FamilySnapshot::new(&NAMESRV_BROKERS_ALIVE);
        for (cluster, n) in alive {
            f.push(&[cluster], n as f64);
        }
        out.push(f);
        let mut t = FamilySnapshot::new(&NAMESRV_TOPICS);
        t.push(&[], routes.topics().len() as f64);
        out.push(t);
    }));
    registry.register_collector(Arc::new(process::collect_own));
    registry
}

/// Start the endpoint when `metricsPort` asks for one.
pub(super) fn start(
    cfg: &NamesrvConfig,
    registry: Arc<Registry>,
) -> io::Result<Option<MetricsServer>> {
    let Some(port) = cfg.metrics_port.bind_port() else { return Ok(None) };
    MetricsServer::start("namesrv", SocketAddr::new(cfg.bind_address, port), registry).map(Some)
}
