//! Access control compatible with Apache RocketMQ 4.x ACL 1.0 (acl/plain/PlainAccessValidator,
//! PlainPermissionManager): accounts from a `plain_acl.yml`, signed requests, per-resource
//! permissions. Pure apart from [`Acl::load`] and the [`AclWatcher`] reload service: the broker
//! calls [`Acl::check`] from its `before` request hook and answers a refusal with
//! [`AclError::code`] (1, SYSTEM_ERROR, as Apache's hook exception becomes) and
//! [`AclError::remark`]; clients sign with [`sign`].
//!
//! The order of the check is Apache's: a global whitelist match admits the request; else it needs
//! an `AccessKey` naming an account; that account's whitelist admits it; else the signature must
//! verify; then the request code's resources (see [`resources`]) are checked against the
//! account's permissions, with admin-only codes first.

mod addr;
pub mod config;
mod crypto;
pub mod resources;
mod sign;
mod watch;
pub mod yaml;

pub use addr::AddrPattern;
pub use config::{Account, AclConfig, ConfigError, Perm};
pub use sign::{sign, signature, verify, ACCESS_KEY, ONS_CHANNEL, SECURITY_TOKEN, SIGNATURE};
pub use watch::{AclWatcher, SharedAcl, RELOAD_INTERVAL};

use crate::protocol::access::{Access, Need, ResourceFn};
use crate::protocol::codes::response;
use crate::protocol::command::RemotingCommand;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The trace topic: a PUB to it skips the permission check (PlainPermissionManager.validate).
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";

/// A refused request or an unusable ACL file.
#[derive(Debug)]
pub struct AclError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Refused(String),
    Config { path: Option<PathBuf>, source: ConfigError },
    Io { path: PathBuf, source: io::Error },
}

impl AclError {
    fn refused(msg: impl Into<String>) -> Self {
        AclError { kind: Kind::Refused(msg.into()) }
    }

    /// True when this is a refused request (not a file problem).
    pub fn is_refusal(&self) -> bool {
        matches!(self.kind, Kind::Refused(_))
    }

    /// The response code of a refusal: SYSTEM_ERROR (1), which is what Apache 4.x answers when
    /// its ACL hook throws.
    pub fn code(&self) -> i32 {
        response::SYSTEM_ERROR
    }

    /// The response remark of a refusal, as Apache 4.x words it (its hook's AclException turned
    /// into text), e.g. `org.apache.rocketmq.acl.common.AclException: Check signature failed for
    /// accessKey=X`.
    pub fn remark(&self) -> String {
        format!("org.apache.rocketmq.acl.common.AclException: {self}")
    }

    fn with_path(self, p: &Path) -> Self {
        match self.kind {
            Kind::Config { source, .. } => {
                AclError { kind: Kind::Config { path: Some(p.to_path_buf()), source } }
            }
            k => AclError { kind: k },
        }
    }
}

impl fmt::Display for AclError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Refused(m) => f.write_str(m),
            Kind::Config { path: Some(p), source } => {
                write!(f, "the ACL file {} is not usable: {source}", p.display())
            }
            Kind::Config { path: None, source } => {
                write!(f, "the ACL file is not usable: {source}")
            }
            Kind::Io { path, source } => {
                write!(f, "cannot read the ACL file {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for AclError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Refused(_) => None,
            Kind::Config { source, .. } => Some(source),
            Kind::Io { source, .. } => Some(source),
        }
    }
}

impl From<ConfigError> for AclError {
    fn from(source: ConfigError) -> Self {
        AclError { kind: Kind::Config { path: None, source } }
    }
}

/// A loaded ACL: the validator.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    cfg: AclConfig,
}

impl Acl {
    /// Read and parse a plain_acl.yml (at most [`yaml::MAX_BYTES`]).
    pub fn load(path: &Path) -> Result<Acl, AclError> {
        let text = read_capped(path)?;
        Acl::parse(&text).map_err(|e| e.with_path(path))
    }

    /// Parse the text of a plain_acl.yml.
    pub fn parse(text: &str) -> Result<Acl, AclError> {
        Ok(Acl { cfg: AclConfig::parse(text)? })
    }

    /// The parsed configuration.
    pub fn config(&self) -> &AclConfig {
        &self.cfg
    }

    /// Check `cmd` from `remote` with the built-in resource table ([`resources::of`]) and admin
    /// codes ([`resources::is_admin_code`]).
    pub fn check(&self, remote: IpAddr, cmd: &RemotingCommand) -> Result<(), AclError> {
        self.check_inner(remote, cmd, || resources::of(cmd), resources::is_admin_code(cmd.code))
    }

    /// Check `cmd` with a route table's entry: its resource function (none: no resources) and its
    /// admin-only flag.
    pub fn check_route(
        &self,
        remote: IpAddr,
        cmd: &RemotingCommand,
        resources: Option<ResourceFn>,
        admin_only: bool,
    ) -> Result<(), AclError> {
        self.check_inner(remote, cmd, || resources.map_or(Ok(Vec::new()), |f| f(cmd)), admin_only)
    }

    /// Check `cmd` against resources the caller found itself, for END_TRANSACTION: the broker
    /// reads the half message and checks `Access::new(real_topic, Need::Pub)`.
    pub fn check_resources(
        &self,
        remote: IpAddr,
        cmd: &RemotingCommand,
        needs: &[Access],
        admin_only: bool,
    ) -> Result<(), AclError> {
        self.check_inner(remote, cmd, || Ok(needs.to_vec()), admin_only)
    }

    fn check_inner(
        &self,
        remote: IpAddr,
        cmd: &RemotingCommand,
        needs: impl FnOnce() -> Result<Vec<Access>, String>,
        admin_only: bool,
    ) -> Result<(), AclError> {
        if self.cfg.global_white.iter().any(|p| p.matches(remote)) {
            return Ok(());
        }
        let Some(ak) = cmd.field(ACCESS_KEY) else {
            return Err(AclError::refused("No accessKey is configured"));
        };
        let Some(account) = self.cfg.accounts.get(ak) else {
            return Err(AclError::refused(format!("No acl config for {ak}")));
        };
        if account.white.matches(remote) {
            return Ok(());
        }
        if !verify(&account.secret_key, cmd) {
            return Err(AclError::refused(format!("Check signature failed for accessKey={ak}")));
        }
        let needs = needs().map_err(AclError::refused)?;
        if needs.iter().any(|a| a.resource == TRACE_TOPIC && a.need == Need::Pub) {
            return Ok(());
        }
        check_perm(account, cmd.code, &needs, admin_only)
    }
}

/// PlainPermissionManager.checkPerm.
fn check_perm(
    account: &Account,
    code: i32,
    needs: &[Access],
    admin_only: bool,
) -> Result<(), AclError> {
    if admin_only && !account.admin {
        return Err(AclError::refused(format!(
            "Need admin permission for request code={code}, but accessKey={} is not",
            account.access_key
        )));
    }
    if needs.is_empty() || (account.admin && account.perms.is_empty()) {
        return Ok(());
    }
    for a in needs {
        if !account.perm_on(&a.resource).grants(Perm::needed(a.need)) {
            let what = match a.resource.strip_prefix(config::RETRY_PREFIX) {
                Some(g) => format!("group:{g}"),
                None => format!("topic:{}", a.resource),
            };
            return Err(AclError::refused(format!("No default permission for {what}")));
        }
    }
    Ok(())
}

/// The file's text, at most one byte over [`yaml::MAX_BYTES`] (which the parser refuses), so a
/// huge file is never read whole.
fn read_capped(path: &Path) -> Result<String, AclError> {
    use std::io::Read;
    let io_err = |source| AclError { kind: Kind::Io { path: path.to_path_buf(), source } };
    let f = std::fs::File::open(path).map_err(io_err)?;
    let mut text = String::new();
    f.take(yaml::MAX_BYTES as u64 + 1).read_to_string(&mut text).map_err(io_err)?;
    Ok(text)
}

#[cfg(test)]
mod tests;
