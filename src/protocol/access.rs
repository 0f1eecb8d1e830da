//! What a request touches, for access control: each route of a server's table may name a
//! function that lists the resources a request of its code reads or writes (Apache's
//! PlainAccessValidator.parse, one arm per request code). Pure: no I/O, no policy.

use super::command::RemotingCommand;

/// The permission a request needs on a resource (Apache's Permission bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Publish to a topic.
    Pub,
    /// Subscribe to a topic, or consume as a group (`%RETRY%<group>`).
    Sub,
    /// Either publish or subscribe (queries of a topic's offsets).
    PubOrSub,
    /// Any permission other than DENY.
    Any,
}

/// One resource a request touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// A topic name, or `%RETRY%<group>` for a consumer group (Apache's convention).
    pub resource: String,
    /// What the request needs on it.
    pub need: Need,
}

impl Access {
    /// `need` on topic or group resource `resource`.
    pub fn new(resource: impl Into<String>, need: Need) -> Access {
        Access { resource: resource.into(), need }
    }
}

/// Lists the resources of one request; `Err` is a malformed request (refused with the reason).
pub type ResourceFn = fn(&RemotingCommand) -> Result<Vec<Access>, String>;
