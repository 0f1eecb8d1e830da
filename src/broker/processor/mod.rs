//! Request processors, one per request family (Apache's broker/processor/). Each is a small
//! struct over the shared [`Core`](super::core::Core) implementing
//! [`Handler`](crate::remoting::Handler); `super::routes` maps codes to them.

pub(crate) mod admin;
pub(crate) mod client;
pub(crate) mod locks;
pub(crate) mod offsets;
pub(crate) mod pull;
pub(crate) mod query;
pub(crate) mod runtime;
pub(crate) mod send;
mod send_header;
pub(crate) mod stats;
pub(crate) mod txn;

use crate::protocol::codes::response as rs;
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::Reply;

/// A handler's result as a reply: a malformed header is SYSTEM_ERROR with its reason.
pub(crate) fn reply(r: Result<RemotingCommand, FieldError>) -> Reply {
    Reply::Respond(r.unwrap_or_else(|e| RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())))
}

/// A code routed to a processor that does not serve it (a routing mistake, never a peer's).
pub(crate) fn not_supported(code: i32) -> RemotingCommand {
    RemotingCommand::error(
        rs::REQUEST_CODE_NOT_SUPPORTED,
        format!(" request type {code} not supported"),
    )
}

/// Apache's FAQ link appended to some refusals (FAQUrl.suggestTodo).
pub(crate) fn faq() -> &'static str {
    "\nSee http://rocketmq.apache.org/docs/faq/ for further details."
}
