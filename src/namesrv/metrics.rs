//! The name server's `/metrics` (issue 14): brokers alive by cluster and topics with a route,
//! computed from the route table at scrape time, the process families, and from a request hook
//! (added only when the endpoint is on) request counts, errors and latency by code and the
//! GET_ROUTEINFO_BY_TOPIC answers by result.

use super::config::NamesrvConfig;
use super::routes::RouteTable;
use crate::metrics::catalog::{NAMESRV_BROKERS_ALIVE, NAMESRV_ROUTES_SERVED, NAMESRV_TOPICS};
use crate::metrics::{process, Counter, FamilySnapshot, MetricsServer, Registry, RequestMetrics};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::remoting::{ReqCtx, RequestHook};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

/// Counts every request the name server answers, and the route lookups by result.
struct MetricsHook {
    requests: RequestMetrics,
    found: Counter,
    not_found: Counter,
}

impl RequestHook for MetricsHook {
    fn after(&self, ctx: &ReqCtx, resp: Option<&RemotingCommand>, elapsed: Duration) {
        let code = resp.map_or(0, |r| r.code);
        self.requests.observe(RequestMetrics::label_code(ctx.code, code), code, elapsed);
        if ctx.code == rq::GET_ROUTEINFO_BY_TOPIC {
            match code {
                rs::SUCCESS => self.found.inc(),
                rs::TOPIC_NOT_EXIST => self.not_found.inc(),
                _ => {}
            }
        }
    }
}

/// The request hook feeding `registry`, when `metricsPort` serves it.
pub(super) fn hook(
    cfg: &NamesrvConfig,
    registry: &Registry,
) -> io::Result<Option<Arc<dyn RequestHook>>> {
    if cfg.metrics_port.bind_port().is_none() {
        return Ok(None);
    }
    let routes = registry.counter_vec(&NAMESRV_ROUTES_SERVED).map_err(io::Error::other)?;
    let hook = MetricsHook {
        requests: RequestMetrics::register(registry, "namesrv").map_err(io::Error::other)?,
        found: routes.with(&["found"]),
        not_found: routes.with(&["not_found"]),
    };
    Ok(Some(Arc::new(hook)))
}
