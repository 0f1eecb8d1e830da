//! Status codes returned by every C function, and the one mapping from `rmq::client::Error`.

use rmq::client::{Error, ErrorKind};
use std::ffi::{c_char, CStr};

/// The result of every rmq_ function that can fail. `RMQ_STATUS_OK` is 0; codes come in ranges:
/// 1xx bad arguments from the caller, 2xx wrong state of a handle, 3xx failures talking to the
/// name server or broker, 9xx bugs in librmq. After any non-OK status, rmq_last_error() gives the
/// text for the calling thread.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullPointer = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// An argument was out of range or malformed (empty topic, body length too large, ...).
    InvalidArgument = 102,
    /// The handle is not a live handle of the expected type (already destroyed, or never one).
    InvalidHandle = 103,
    /// A caller-supplied buffer is too small; see the function for what was written.
    BufferTooSmall = 104,
    /// The message has no such field or property (an optional value is absent).
    NotFound = 105,
    /// The handle has not been started (call rmq_*_start first).
    NotStarted = 200,
    /// The call is not allowed in the handle's current state (for example a setter after start,
    /// or shutdown from inside one of the handle's own callbacks).
    IllegalState = 201,
    /// The handle has been shut down.
    Shutdown = 202,
    /// The operation did not complete within its timeout.
    Timeout = 300,
    /// A connection to the name server or broker failed.
    Network = 301,
    /// The broker answered with an error code (the code and remark are in rmq_last_error()).
    Broker = 302,
    /// No route for the topic: it does not exist and the broker does not create it.
    NoRoute = 303,
    /// The message is larger than the producer's maximum message size.
    MessageTooLarge = 304,
    /// Local I/O failed.
    Io = 305,
    /// Any other client error (a newer error kind this build does not name).
    ClientError = 399,
    /// A bug: librmq panicked inside this call. The handle may be unusable; please report it.
    Panic = 900,
}

impl rmq_status {
    /// The constant's name as it appears in rmq.h.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            rmq_status::Ok => c"RMQ_STATUS_OK",
            rmq_status::NullPointer => c"RMQ_STATUS_NULL_POINTER",
            rmq_status::InvalidUtf8 => c"RMQ_STATUS_INVALID_UTF8",
            rmq_status::InvalidArgument => c"RMQ_STATUS_INVALID_ARGUMENT",
            rmq_status::InvalidHandle => c"RMQ_STATUS_INVALID_HANDLE",
            rmq_status::BufferTooSmall => c"RMQ_STATUS_BUFFER_TOO_SMALL",
            rmq_status::NotFound => c"RMQ_STATUS_NOT_FOUND",
            rmq_status::NotStarted => c"RMQ_STATUS_NOT_STARTED",
            rmq_status::IllegalState => c"RMQ_STATUS_ILLEGAL_STATE",
            rmq_status::Shutdown => c"RMQ_STATUS_SHUTDOWN",
            rmq_status::Timeout => c"RMQ_STATUS_TIMEOUT",
            rmq_status::Network => c"RMQ_STATUS_NETWORK",
            rmq_status::Broker => c"RMQ_STATUS_BROKER",
            rmq_status::NoRoute => c"RMQ_STATUS_NO_ROUTE",
            rmq_status::MessageTooLarge => c"RMQ_STATUS_MESSAGE_TOO_LARGE",
            rmq_status::Io => c"RMQ_STATUS_IO",
            rmq_status::ClientError => c"RMQ_STATUS_CLIENT_ERROR",
            rmq_status::Panic => c"RMQ_STATUS_PANIC",
        }
    }
}

/// The name of a status code ("RMQ_STATUS_TIMEOUT"), or "RMQ_STATUS_UNKNOWN" for a value that is
/// not a status. The returned string is static: never free it.
#[no_mangle]
pub extern "C" fn rmq_status_str(status: u32) -> *const c_char {
    let all = [
        rmq_status::Ok,
        rmq_status::NullPointer,
        rmq_status::InvalidUtf8,
        rmq_status::InvalidArgument,
        rmq_status::InvalidHandle,
        rmq_status::BufferTooSmall,
        rmq_status::NotFound,
        rmq_status::NotStarted,
        rmq_status::IllegalState,
        rmq_status::Shutdown,
        rmq_status::Timeout,
        rmq_status::Network,
        rmq_status::Broker,
        rmq_status::NoRoute,
        rmq_status::MessageTooLarge,
        rmq_status::Io,
        rmq_status::ClientError,
        rmq_status::Panic,
    ];
    match all.iter().find(|s| **s as u32 == status) {
        Some(s) => s.name().as_ptr(),
        None => c"RMQ_STATUS_UNKNOWN".as_ptr(),
    }
}

/// A failed call: the status to return and the text for rmq_last_error().
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) status: rmq_status,
    pub(crate) text: String,
}

impl Fail {
    pub(crate) fn new(status: rmq_status, text: impl Into<String>) -> Fail {
        Fail { status, text: text.into() }
    }
    pub(crate) fn null(what: &str) -> Fail {
        Fail::new(rmq_status::NullPointer, format!("{what} is NULL"))
    }
    pub(crate) fn arg(text: impl Into<String>) -> Fail {
        Fail::new(rmq_status::InvalidArgument, text)
    }
    pub(crate) fn state(text: impl Into<String>) -> Fail {
        Fail::new(rmq_status::IllegalState, text)
    }
}

/// The one mapping from client errors to C status codes (STYLE.md "Errors": never OK for an
/// unknown kind).
impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        let status = match e.kind() {
            ErrorKind::InvalidArgument => rmq_status::InvalidArgument,
            ErrorKind::NotStarted => rmq_status::NotStarted,
            ErrorKind::IllegalState => rmq_status::IllegalState,
            ErrorKind::Timeout => rmq_status::Timeout,
            ErrorKind::Network => rmq_status::Network,
            ErrorKind::Broker => rmq_status::Broker,
            ErrorKind::NoRoute => rmq_status::NoRoute,
            ErrorKind::MessageTooLarge => rmq_status::MessageTooLarge,
            ErrorKind::Shutdown => rmq_status::Shutdown,
            ErrorKind::Io => rmq_status::Io,
            _ => rmq_status::ClientError,
        };
        Fail::new(status, e.to_string())
    }
}

/// Result of an exported function's body.
pub(crate) type FfiResult<T = ()> = Result<T, Fail>;
