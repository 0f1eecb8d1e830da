//! The admin layer's error: what failed, in a sentence an operator can act on, with the server's
//! response code and remark when a server refused.

use crate::client;
use std::fmt;

/// Broad kind of an admin failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument is not acceptable (bad message id, empty topic, zero count, ...).
    InvalidArgument,
    /// The thing asked about does not exist (topic, cluster, group, message, key).
    NotFound,
    /// A server answered with an error code (see [`Error::code`]).
    Remote,
    /// A server could not be reached, or did not answer in time.
    Unreachable,
    /// A server's answer could not be decoded.
    BadAnswer,
}

/// An admin failure.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    code: Option<i32>,
    remark: String,
    message: String,
}

/// Result with the admin [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, code: None, remark: String::new(), message: message.into() }
    }

    /// A bad argument.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// Something that does not exist.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    /// An answer that does not decode.
    pub fn bad_answer(what: &str, from: &str, e: impl fmt::Display) -> Error {
        Error::new(ErrorKind::BadAnswer, format!("cannot decode the {what} from {from}: {e}"))
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The server's response code, for [`ErrorKind::Remote`] (and NotFound answers).
    pub fn code(&self) -> Option<i32> {
        self.code
    }

    /// The server's remark (empty when none).
    pub fn remark(&self) -> &str {
        &self.remark
    }

    /// The same error with `context` in front.
    pub fn context(mut self, context: &str) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl From<client::Error> for Error {
    fn from(e: client::Error) -> Error {
        let kind = match e.kind() {
            client::ErrorKind::Broker => ErrorKind::Remote,
            client::ErrorKind::Timeout | client::ErrorKind::Network => ErrorKind::Unreachable,
            client::ErrorKind::NoRoute => ErrorKind::NotFound,
            client::ErrorKind::InvalidArgument | client::ErrorKind::MessageTooLarge => {
                ErrorKind::InvalidArgument
            }
            _ => ErrorKind::Remote,
        };
        Error { kind, code: e.code(), remark: e.remark().to_string(), message: e.to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
