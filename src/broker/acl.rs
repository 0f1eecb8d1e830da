//! ACL on the broker (BrokerController.initialAcl): with `aclEnable=true` the broker loads the
//! ACL file (`plainAclFile`, else `${rocketmqHome}/conf/plain_acl.yml`), watches it for changes
//! and checks every request of both ports in a `before` hook, with the route table's resource
//! function and admin flag for the request's code. A refusal is answered as Apache 4.x answers
//! its hook's AclException (code 1, `org.apache.rocketmq.acl.common.AclException: ...`).
//!
//! END_TRANSACTION from a 4.x client names no topic; its processor checks PUB on the half
//! message's real topic with [`check_resources`] once it has read it.
//!
//! The broker's own outbound calls (name-server registration, which no name server checks, and a
//! slave's sync of topics, offsets and groups from its master, which an `aclEnable` master does)
//! are signed with `innerClientAccessKey` / `innerClientSecretKey` when both are set; otherwise
//! the master must list its slaves in `globalWhiteRemoteAddresses` (or a slave account's
//! `whiteRemoteAddress`). Replication itself uses the HA port, which carries no remoting
//! requests.

use super::config::BrokerConfig;
use super::core::Core;
use crate::acl::{AclWatcher, SharedAcl, RELOAD_INTERVAL};
use crate::protocol::access::Access;
use crate::protocol::command::RemotingCommand;
use crate::remoting::{OutboundHook, Refusal, ReqCtx, RequestHook};
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

/// Signs the broker's outbound requests with its `innerClient*` account.
struct Signer {
    access_key: String,
    secret_key: String,
}

impl OutboundHook for Signer {
    fn before_send(&self, _addr: &str, cmd: &mut RemotingCommand) {
        crate::acl::sign(cmd, &self.access_key, &self.secret_key, None);
    }
}

/// Sign `core`'s outbound requests when the configuration has both `innerClient*` keys.
pub(crate) fn install_signer(cfg: &BrokerConfig, core: &Core) -> io::Result<()> {
    match &cfg.inner_client_credentials {
        None => Ok(()),
        Some((ak, sk)) if ak.is_empty() || sk.0.is_empty() => Err(io::Error::other(
            "innerClientAccessKey and innerClientSecretKey must be set together",
        )),
        Some((ak, sk)) => {
            log::info!("outbound requests signed accessKey={ak}");
            core.remote.set_outbound_hook(std::sync::Arc::new(Signer {
                access_key: ak.clone(),
                secret_key: sk.0.clone(),
            }));
            Ok(())
        }
    }
}
