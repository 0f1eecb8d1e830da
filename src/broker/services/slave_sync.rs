//! The `broker-slave-sync` service (a slave only; Apache's SlaveSynchronize.syncAll): every
//! `slaveSyncInterval` (10 s), and as soon as the master's address is first known, copy from the
//! master its topic configs (GET_ALL_TOPIC_CONFIG, 21), consumer offsets (GET_ALL_CONSUMER_OFFSET,
//! 43), delay offsets (GET_ALL_DELAY_OFFSET, 45) and subscription groups
//! (GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 201).
//!
//! As Apache: topics and groups are replaced whole when the master's data version differs;
//! offsets of every `topic@group` the master has replace the slave's, others stay. Unlike
//! Apache, the delay offsets are loaded, not only written to the file.

use crate::broker::core::Core;
use crate::broker::groups::SubscriptionGroupWrapper;
use crate::common::service::Service;
use crate::protocol::body::TopicConfigSerializeWrapper;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::protocol::json::from_fastjson;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

/// Start the service; the registration wakes it when the master's address is first learnt.
pub(crate) fn spawn(core: &Arc<Core>) -> std::io::Result<Service> {
    let c = core.clone();
    let s = Service::spawn("broker-slave-sync", move |ctx| {
        while ctx.wait(Duration::from_millis(c.cfg().slave_sync_interval)) {
            sync_all(&c);
        }
    })?;
    core.repl.set_sync_waker(s.waker());
    Ok(s)
}

/// One round; a table whose fetch fails keeps its content (the master may be down).
pub fn sync_all(c: &Core) {
    let Some(master) = c.repl.master_addr() else { return };
    if master == c.addr() {
        return;
    }
    if let Some(body) = fetch(c, &master, rq::GET_ALL_TOPIC_CONFIG) {
        match from_fastjson::<TopicConfigSerializeWrapper>(&body) {
            Ok(w) => {
                if c.topics.replace_from_master(w) {
                    log::info!("slave took the topic configs of master={master}");
                }
            }
            Err(e) => log::warn!("master's topic configs unreadable master={master}: {e}"),
        }
    }
    if let Some(body) = fetch(c, &master, rq::GET_ALL_CONSUMER_OFFSET) {
        match c.offsets.merge_from_master(&body) {
            Ok(n) if n > 0 => log::debug!("slave took {n} consumer offsets of master={master}"),
            Ok(_) => {}
            Err(e) => log::warn!("master's consumer offsets unreadable master={master}: {e}"),
        }
    }
    if let Some(body) = fetch(c, &master, rq::GET_ALL_DELAY_OFFSET) {
        if let Err(e) = c.delay_offsets.replace_from_master(&body) {
            log::warn!("master's delay offsets unreadable master={master}: {e}");
        }
    }
    if let Some(body) = fetch(c, &master, rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG) {
        match from_fastjson::<SubscriptionGroupWrapper>(&body) {
            Ok(w) => {
                if c.groups.replace_from_master(w) {
                    log::info!("slave took the subscription groups of master={master}");
                }
            }
            Err(e) => log::warn!("master's subscription groups unreadable master={master}: {e}"),
        }
    }
}

/// A master at start takes over the consumer offsets its slaves got from consumers while it was
/// away (issue 11 point 5; Apache's returning master keeps its stale table, and its slave then
/// copies that back: the consumers get everything since again). The slaves' addresses come from
/// the name servers' cluster info; offsets ahead of the master's are taken.
pub fn take_over_offsets(c: &Core) {
    let cfg = c.cfg();
    let mut slaves = std::collections::BTreeSet::new();
    for ns in cfg.namesrv_list() {
        let req = RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO);
        let Ok(r) = c.remote.invoke(&ns, req, TIMEOUT) else { continue };
        if r.code != rs::SUCCESS {
            continue;
        }
        let Ok(info) = from_fastjson::<crate::protocol::body::ClusterInfo>(&r.body) else {
            continue;
        };
        if let Some(b) = info.broker_addr_table.get(&cfg.broker_name) {
            slaves.extend(b.broker_addrs.iter().filter(|(id, _)| **id > 0).map(|(_, a)| a.clone()));
        }
    }
    for slave in slaves {
        let Some(body) = fetch(c, &slave, rq::GET_ALL_CONSUMER_OFFSET) else { continue };
        match c.offsets.take_over_higher(&body) {
            Ok(0) => {}
            Ok(n) => log::info!(
                "took over {n} consumer offsets committed to slave={slave} while this master was away"
            ),
            Err(e) => log::warn!("slave's consumer offsets unreadable slave={slave}: {e}"),
        }
    }
}

/// [`take_over_offsets`] once, off the start-up path (a slave that does not answer must not
/// delay the master).
pub(crate) fn spawn_takeover(core: &Arc<Core>) -> std::io::Result<Service> {
    let c = core.clone();
    Service::spawn("broker-offset-takeover", move |_ctx| take_over_offsets(&c))
}

fn fetch(c: &Core, master: &str, code: i32) -> Option<Vec<u8>> {
    match c.remote.invoke(master, RemotingCommand::request(code), TIMEOUT) {
        Ok(r) if r.code == rs::SUCCESS => Some(r.body),
        Ok(r) => {
            log::warn!(
                "slave sync code={code} refused by master={master}: {} {:?}",
                r.code,
                r.remark
            );
            None
        }
        Err(e) => {
            log::debug!("slave sync code={code} failed master={master}: {e}");
            None
        }
    }
}
