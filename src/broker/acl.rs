//! ACL on the broker (BrokerController.initialAcl): with `aclEnable=true` the broker loads the
//! ACL file (`plainAclFile`, else `${rocketmqHome}/conf/plain_acl.yml`), watches it for changes
//! and checks every request of both ports in a `before` hook, with the route table's resource
//! function and admin flag for the request's code. A refusal is answered as Apache 4.x answers
//! its hook's AclException (code 1, `org.apache.rocketmq.acl.common.AclException: ...`).
//!
//! END_TRANSACTION from a 4.x client names no topic; its processor checks PUB on the half
//! message's real topic with [`check_resources`] once it has read it.
//!
//! The broker's own outbound calls go to name servers only, which check no ACL (as in Apache
//! 4.x); replication uses the HA port, which carries no remoting requests. So the broker signs
//! nothing.

use super::config::BrokerConfig;
use super::core::Core;
use crate::acl::{AclWatcher, SharedAcl, RELOAD_INTERVAL};
use crate::protocol::access::Access;
use crate::protocol::command::RemotingCommand;
use crate::remoting::{Refusal, ReqCtx, RequestHook};
use std::io;
use std::net::IpAddr;

/// Checks every request against the ACL in force.
pub(crate) struct AclHook {
    pub acl: SharedAcl,
}

impl RequestHook for AclHook {
    fn before(&self, ctx: &ReqCtx, cmd: &RemotingCommand) -> Result<(), Refusal> {
        let peer = ctx.peer();
        self.acl.get().check_route(peer.ip(), cmd, ctx.route.resources, ctx.route.admin).map_err(
            |e| {
                log::debug!(
                    "acl refused code={} peer={} accessKey={} reason={}",
                    cmd.code,
                    peer,
                    cmd.field(crate::acl::ACCESS_KEY).unwrap_or("-"),
                    e
                );
                Refusal::new(e.code(), e.remark())
            },
        )
    }
}

/// Load the ACL file and start watching it, when `aclEnable` is on. A missing or broken file
/// at start is an error (the broker does not start).
pub(crate) fn start(cfg: &BrokerConfig) -> io::Result<Option<AclWatcher>> {
    if !cfg.acl_enable {
        log::info!("acl disabled (aclEnable=false)");
        return Ok(None);
    }
    let path = cfg.acl_file().ok_or_else(|| {
        io::Error::other(
            "aclEnable=true needs an ACL file: set plainAclFile, or rocketmqHome / ROCKETMQ_HOME \
             (the file is then $ROCKETMQ_HOME/conf/plain_acl.yml)",
        )
    })?;
    AclWatcher::start(&path, RELOAD_INTERVAL).map(Some).map_err(|e| io::Error::other(e.to_string()))
}

/// The ACL check of `cmd` against resources the processor found itself (END_TRANSACTION's real
/// topic): `Err` is the refusal to answer. Always `Ok` with ACL off.
pub(crate) fn check_resources(
    core: &Core,
    peer: IpAddr,
    cmd: &RemotingCommand,
    needs: &[Access],
) -> Result<(), Refusal> {
    let Some(acl) = core.acl.get() else { return Ok(()) };
    acl.get().check_resources(peer, cmd, needs, false).map_err(|e| {
        log::debug!("acl refused code={} peer={} reason={}", cmd.code, peer, e);
        Refusal::new(e.code(), e.remark())
    })
}
