//! The client's one error type: a kind, the broker's response code and remark when there is one,
//! and a message someone can act on.

use crate::remoting::RemotingError;
use std::fmt;

/// What went wrong, broadly. New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A caller-supplied value is not acceptable (empty topic, bad expression, ...).
    InvalidArgument,
    /// The producer or consumer was not started.
    NotStarted,
    /// The call does not fit the current state (started twice, subscribe after start, ...).
    IllegalState,
    /// No response within the timeout.
    Timeout,
    /// A connection could not be made or broke.
    Network,
    /// The broker or name server answered with an error code (see [`Error::code`]).
    Broker,
    /// No route (no broker serves the topic, or no name server answered).
    NoRoute,
    /// The message body is larger than the allowed maximum.
    MessageTooLarge,
    /// The client is shutting down or was shut down.
    Shutdown,
    /// A local file could not be read or written (broadcasting offsets).
    Io,
}

/// A client error. `Display` says what failed and what to check.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    code: Option<i32>,
    remark: String,
    context: String,
}

/// Result with the client's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error { kind, code: None, remark: String::new(), context: msg.into() }
    }

    /// A broker or name-server error response: its code and remark are kept.
    pub fn broker(code: i32, remark: Option<&str>, context: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Broker,
            code: Some(code),
            remark: remark.unwrap_or("").to_string(),
            context: context.into(),
        }
    }

    /// A transport error, with `context` saying what was being done.
    pub fn remoting(e: &RemotingError, context: &str) -> Error {
        let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Network };
        Error::new(kind, format!("{context}: {e}"))
    }

    /// The same error with `context` in front of its message.
    pub fn with_context(mut e: Error, context: &str) -> Error {
        e.context = format!("{context}: {}", e.context);
        e
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, msg)
    }

    pub(crate) fn state(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::IllegalState, msg)
    }

    pub(crate) fn not_started(what: &str) -> Error {
        Error::new(ErrorKind::NotStarted, format!("the {what} is not started; call start() first"))
    }

    pub(crate) fn shut_down(what: &str) -> Error {
        Error::new(ErrorKind::Shutdown, format!("the {what} was shut down"))
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The broker's response code, for [`ErrorKind::Broker`].
    pub fn code(&self) -> Option<i32> {
        self.code
    }

    /// The broker's remark (empty when there is none).
    pub fn remark(&self) -> &str {
        &self.remark
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        if let Some(c) = self.code {
            write!(f, " (broker response code {c}")?;
            if !self.remark.is_empty() {
                write!(f, ": {}", self.remark)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_code_and_remark() {
        let e = Error::broker(17, Some("topic[T] not exist"), "send to broker-a failed");
        assert_eq!(e.kind(), ErrorKind::Broker);
        assert_eq!(e.code(), Some(17));
        assert_eq!(e.remark(), "topic[T] not exist");
        assert_eq!(
            e.to_string(),
            "send to broker-a failed (broker response code 17: topic[T] not exist)"
        );
    }
}
