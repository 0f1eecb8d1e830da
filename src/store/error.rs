//! Errors of the store: opening, locking and recovering a store directory.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why the store could not be opened (or an operation on its files failed).
#[derive(Debug)]
pub struct StoreError {
    what: &'static str,
    path: Option<PathBuf>,
    kind: StoreErrorKind,
}

#[derive(Debug)]
enum StoreErrorKind {
    Io(io::Error),
    Locked,
    Config(String),
    Corrupt(String),
    Rejected(String),
}

impl StoreError {
    /// An I/O error while doing `what`.
    pub(crate) fn io(what: &'static str, e: io::Error) -> Self {
        StoreError { what, path: None, kind: StoreErrorKind::Io(e) }
    }
    /// The store directory is locked by another process or store instance.
    pub(crate) fn locked() -> Self {
        StoreError { what: "locking the store directory", path: None, kind: StoreErrorKind::Locked }
    }
    /// An invalid configuration value.
    pub(crate) fn config(why: impl Into<String>) -> Self {
        StoreError {
            what: "checking the store config",
            path: None,
            kind: StoreErrorKind::Config(why.into()),
        }
    }
    /// Files on disk that cannot be used.
    pub(crate) fn corrupt(what: &'static str, why: impl Into<String>) -> Self {
        StoreError { what, path: None, kind: StoreErrorKind::Corrupt(why.into()) }
    }
    /// A replication request the store cannot carry out as asked (wrong offset, wrong mode).
    pub(crate) fn rejected(what: &'static str, why: impl Into<String>) -> Self {
        StoreError { what, path: None, kind: StoreErrorKind::Rejected(why.into()) }
    }
    /// Attach the file or directory concerned.
    pub(crate) fn with_path(mut self, p: &Path) -> Self {
        self.path = Some(p.to_path_buf());
        self
    }
    /// True when the directory is already in use by another store.
    pub fn is_locked(&self) -> bool {
        matches!(self.kind, StoreErrorKind::Locked)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match &self.path {
            Some(p) => format!(" ({})", p.display()),
            None => String::new(),
        };
        match &self.kind {
            StoreErrorKind::Io(e) => write!(f, "I/O error while {}{at}: {e}", self.what),
            StoreErrorKind::Locked => write!(
                f,
                "store directory{at} is already in use by another broker; stop it or use another storePathRootDir"
            ),
            StoreErrorKind::Config(why) => write!(f, "invalid store config: {why}"),
            StoreErrorKind::Corrupt(why) => write!(f, "cannot use store files while {}{at}: {why}", self.what),
            StoreErrorKind::Rejected(why) => write!(f, "cannot {}{at}: {why}", self.what),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            StoreErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
