//! The `broker-register` service: REGISTER_BROKER to every name server at start, every
//! `registerNameServerPeriod` and when woken (a topic or the permission changed), and
//! UNREGISTER_BROKER at stop (BrokerController.registerBrokerAll, BrokerOuterAPI). Every round
//! reads the live configuration, so an update of the permission, the period or the name
//! server list takes effect on the next registration.

use crate::broker::core::Core;
use crate::common::service::Service;
use crate::protocol::body::RegisterBrokerBody;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Registration period of a slave that does not know its master yet (rmq; Apache waits for the
/// next registerNameServerPeriod, 30 s).
const SLAVE_SEARCH_PERIOD_MS: u64 = 2_000;

/// Register with every name server. Returns how many accepted.
pub fn register_all(c: &Core) -> usize {
    let cfg = c.cfg();
    let mut snapshot = c.topics.snapshot();
    // Apache registerBrokerAll: a broker that is not both readable and writable registers
    // every topic with the broker's permission, so clients route around it.
    let bperm = cfg.broker_permission;
    if !bperm.readable() || !bperm.writable() {
        for tc in snapshot.topic_config_table.values_mut() {
            tc.perm = bperm.0;
        }
    }
    let body = RegisterBrokerBody {
        filter_server_list: Vec::new(),
        topic_config_serialize_wrapper: snapshot,
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let crc = crate::common::crc::masked_crc32(&body);
    let ha_addr = c.repl.ha_addr().unwrap_or_else(|| {
        SocketAddr::new(
            cfg.broker_ip2.unwrap_or(cfg.broker_ip1),
            c.store_host.port().wrapping_add(1),
        )
    });
    let mut ok = 0;
    // A slave follows the first answer that names its master.
    let mut master: Option<(Option<String>, Option<String>)> = None;
    for ns in cfg.namesrv_list() {
        let req = RemotingCommand::request(rq::REGISTER_BROKER)
            .with("brokerAddr", c.addr())
            .with("brokerId", cfg.broker_id)
            .with("brokerName", &cfg.broker_name)
            .with("clusterName", &cfg.broker_cluster_name)
            .with("haServerAddr", ha_addr)
            .with("compressed", false)
            .with("bodyCrc32", crc)
            .with_body(body.clone());
        match c.remote.invoke(&ns, req, Duration::from_secs(6)) {
            Ok(r) if r.code == rs::SUCCESS => {
                ok += 1;
                let m = r.field("masterAddr").filter(|m| !m.is_empty());
                if master.as_ref().is_none_or(|(_, known)| known.is_none() && m.is_some()) {
                    let ha = r.field("haServerAddr").map(str::to_string);
                    master = Some((ha, m.map(str::to_string)));
                }
            }
            Ok(r) => log::warn!(
                "register to name server failed namesrv={} code={} remark={:?}",
                ns,
                r.code,
                r.remark
            ),
            Err(e) => log::warn!("register to name server failed namesrv={} err={}", ns, e),
        }
    }
    if let Some((ha, m)) = master {
        let fixed = cfg.ha_master_address.is_some();
        c.repl.on_register_answer(fixed, ha.as_deref(), m.as_deref());
    }
    ok
}

/// Unregister from every name server (graceful stop).
pub fn unregister_all(c: &Core) {
    let cfg = c.cfg();
    for ns in cfg.namesrv_list() {
        let req = RemotingCommand::request(rq::UNREGISTER_BROKER)
            .with("brokerAddr", c.addr())
            .with("brokerId", cfg.broker_id)
            .with("brokerName", &cfg.broker_name)
            .with("clusterName", &cfg.broker_cluster_name);
        match c.remote.invoke(&ns, req, Duration::from_secs(3)) {
            Ok(r) if r.code == rs::SUCCESS => {
                log::info!("unregistered from name server namesrv={ns}")
            }
            Ok(r) => log::warn!(
                "unregister from name server failed namesrv={} code={} remark={:?}",
                ns,
                r.code,
                r.remark
            ),
            Err(e) => log::warn!("unregister from name server failed namesrv={} err={}", ns, e),
        }
    }
}

/// Start the service; the core's registration waker wakes it.
pub(crate) fn spawn(core: &Arc<Core>) -> std::io::Result<Service> {
    let c = core.clone();
    let s = Service::spawn("broker-register", move |ctx| loop {
        let mut period = c.cfg().register_name_server_period;
        if c.repl.slave_waiting_for_master() {
            period = period.min(SLAVE_SEARCH_PERIOD_MS);
        }
        if !ctx.wait(Duration::from_millis(period)) {
            break;
        }
        register_all(&c);
    })?;
    core.set_register_waker(s.waker());
    Ok(s)
}
