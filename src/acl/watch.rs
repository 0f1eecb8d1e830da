//! Reloading plain_acl.yml while the broker runs (Apache's AclFileWatchService): a service
//! thread looks at the file every [`RELOAD_INTERVAL`] and, when its size, modification time or
//! content hash changed and then stayed the same for one more look (so a file caught halfway
//! through a rewrite, truncated or partly written, is never applied), parses it again. A file
//! that does not parse (or has gone) keeps the last good ACL in force, with one error logged per
//! broken version.

use super::{Acl, AclError};
use crate::common::crc::crc32;
use crate::common::service::Service;
use crate::protocol::command::RemotingCommand;
use parking_lot::RwLock;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often the file is looked at: a change takes effect within this (issue 13 asks for 5 s).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The ACL currently in force, shared by the request hook and the watcher. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SharedAcl(Arc<RwLock<Arc<Acl>>>);

impl SharedAcl {
    /// A shared cell holding `acl`.
    pub fn new(acl: Acl) -> SharedAcl {
        SharedAcl(Arc::new(RwLock::new(Arc::new(acl))))
    }

    /// The ACL in force now.
    pub fn get(&self) -> Arc<Acl> {
        self.0.read().clone()
    }

    /// [`Acl::check`] with the ACL in force now.
    pub fn check(&self, remote: IpAddr, cmd: &RemotingCommand) -> Result<(), AclError> {
        self.get().check(remote, cmd)
    }

    fn set(&self, acl: Acl) {
        *self.0.write() = Arc::new(acl);
    }
}

/// What identifies a version of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
    crc: u32,
}

fn stamp(path: &Path) -> Result<(Stamp, String), AclError> {
    let meta = std::fs::metadata(path);
    let text = super::read_capped(path)?;
    let (len, mtime) = match meta {
        Ok(m) => (m.len(), m.modified().ok()),
        Err(_) => (text.len() as u64, None),
    };
    Ok((Stamp { len, mtime, crc: crc32(text.as_bytes()) }, text))
}

/// The running reload service; dropping it stops the thread.
pub struct AclWatcher {
    acl: SharedAcl,
    _service: Service,
}

impl AclWatcher {
    /// Load `path` (it must parse: a broken file at start is a configuration error) and start
    /// watching it every `interval`.
    pub fn start(path: &Path, interval: Duration) -> Result<AclWatcher, AclError> {
        let (first, text) = stamp(path)?;
        let acl = SharedAcl::new(Acl::parse(&text).map_err(|e| e.with_path(path))?);
        log::info!(
            "acl loaded path={} accounts={} global_white={}",
            path.display(),
            acl.get().config().accounts.len(),
            acl.get().config().global_white.len()
        );
        let shared = acl.clone();
        let path: PathBuf = path.to_path_buf();
        let service = Service::spawn("acl-watch", move |ctx| {
            let mut seen = first;
            // A changed version seen once: applied when the next look finds it unchanged.
            let mut settling = None;
            let mut missing_logged = false;
            while ctx.wait(interval) {
                match stamp(&path) {
                    Err(e) => {
                        settling = None;
                        if !missing_logged {
                            log::error!("{e}; the last good ACL stays in force");
                            missing_logged = true;
                        }
                    }
                    Ok((s, _)) if s == seen => {
                        settling = None;
                        missing_logged = false;
                    }
                    Ok((s, _)) if settling.as_ref() != Some(&s) => settling = Some(s),
                    Ok((s, text)) => {
                        missing_logged = false;
                        settling = None;
                        seen = s;
                        match Acl::parse(&text) {
                            Ok(acl) => {
                                log::info!(
                                    "acl reloaded path={} accounts={}",
                                    path.display(),
                                    acl.config().accounts.len()
                                );
                                shared.set(acl);
                            }
                            Err(e) => log::error!(
                                "{}; the last good ACL stays in force",
                                e.with_path(&path)
                            ),
                        }
                    }
                }
            }
        })
        .map_err(|source| AclError {
            kind: super::Kind::Io { path: PathBuf::from("acl-watch thread"), source },
        })?;
        Ok(AclWatcher { acl, _service: service })
    }

    /// The ACL in force, for the request hook.
    pub fn shared(&self) -> SharedAcl {
        self.acl.clone()
    }
}
