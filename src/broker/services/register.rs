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
    let ha_ip = cfg.broker_ip2.unwrap_or(cfg.broker_ip1);
    let mut ok = 0;
    for ns in cfg.namesrv_list() {
        let req = RemotingCommand::request(rq::REGISTER_BROKER)
            .with("brokerAddr", c.addr())
            .with("brokerId", cfg.broker_id)
            .with("brokerName", &cfg.broker_name)
            .with("clusterName", &cfg.broker_cluster_name)
            .with("haServerAddr", SocketAddr::new(ha_ip, c.store_host.port().wrapping_add(1)))
            .with("compressed", false)
            .with("bodyCrc32", crc)
            .with_body(body.clone());
        match c.remote.invoke(&ns, req, Duration::from_secs(6)) {
            Ok(r) if r.code == rs::SUCCESS => ok += 1,
            Ok(r) => log::warn!(
                "register to name server failed namesrv={} code={} remark={:?}",
                ns,
                r.code,
                r.remark
            ),
            Err(e) => log::warn!("register to name server failed namesrv={} err={}", ns, e),
        }
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
    let s = Service::spawn("broker-register", move |ctx| {
        while ctx.wait(Duration::from_millis(c.cfg().register_name_server_period)) {
            register_all(&c);
        }
    })?;
    core.set_register_waker(s.waker());
    Ok(s)
}
