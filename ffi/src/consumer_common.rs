//! Types shared by the push and pull consumers.

use crate::status::{Fail, FfiResult};
use rmq::client::{ConsumeFrom, MessageModel};

/// How a consumer group shares messages (pass as uint32_t).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_message_model {
    /// Each message goes to one consumer of the group; offsets are kept by the broker (default).
    Clustering = 0,
    /// Every consumer of the group gets every message; offsets are kept in a local file.
    Broadcasting = 1,
}

/// Where a group with no committed offset starts (pass as uint32_t).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_consume_from {
    /// Only messages sent from now on (default).
    LastOffset = 0,
    /// Every message still stored.
    FirstOffset = 1,
    /// Messages stored at or after a timestamp.
    Timestamp = 2,
}

pub(crate) fn model(v: u32) -> FfiResult<MessageModel> {
    match v {
        0 => Ok(MessageModel::Clustering),
        1 => Ok(MessageModel::Broadcasting),
        _ => Err(Fail::arg(format!("message model {v} is not an RMQ_MESSAGE_MODEL_* value"))),
    }
}

pub(crate) fn consume_from(v: u32, timestamp_ms: i64) -> FfiResult<ConsumeFrom> {
    match v {
        0 => Ok(ConsumeFrom::LastOffset),
        1 => Ok(ConsumeFrom::FirstOffset),
        2 => Ok(ConsumeFrom::Timestamp(timestamp_ms)),
        _ => Err(Fail::arg(format!("consume-from {v} is not an RMQ_CONSUME_FROM_* value"))),
    }
}
