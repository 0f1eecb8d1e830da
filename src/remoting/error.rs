//! Transport errors.

use std::fmt;
use std::io;

/// Why a remote call failed.
#[derive(Debug)]
pub struct RemotingError {
    kind: Kind,
    addr: String,
}

#[derive(Debug)]
enum Kind {
    Connect(io::Error),
    Send(io::Error),
    Timeout(u64),
    Closed,
}

impl RemotingError {
    /// Could not connect to `addr`.
    pub fn connect(addr: &str, e: io::Error) -> Self {
        RemotingError { kind: Kind::Connect(e), addr: addr.into() }
    }
    /// Writing the request failed.
    pub fn send(addr: &str, e: io::Error) -> Self {
        RemotingError { kind: Kind::Send(e), addr: addr.into() }
    }
    /// No response within `ms` milliseconds.
    pub fn timeout(addr: &str, ms: u64) -> Self {
        RemotingError { kind: Kind::Timeout(ms), addr: addr.into() }
    }
    /// The connection closed before the response arrived.
    pub fn closed(addr: &str) -> Self {
        RemotingError { kind: Kind::Closed, addr: addr.into() }
    }
    /// True for a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }
    /// The remote address.
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

impl fmt::Display for RemotingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Connect(e) => write!(f, "cannot connect to {}: {}", self.addr, e),
            Kind::Send(e) => write!(f, "cannot send a request to {}: {}", self.addr, e),
            Kind::Timeout(ms) => write!(f, "no response from {} within {} ms", self.addr, ms),
            Kind::Closed => {
                write!(f, "the connection to {} closed before the response arrived", self.addr)
            }
        }
    }
}

impl std::error::Error for RemotingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Connect(e) | Kind::Send(e) => Some(e),
            _ => None,
        }
    }
}
