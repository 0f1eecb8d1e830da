//! `rmq_message_queue`: a caller-owned, fixed-size description of one queue of a topic.

use crate::args::{copy_fixed, fixed_str};
use crate::status::FfiResult;
use rmq::client::MessageQueue;
use std::ffi::c_char;

/// Capacity, NUL included, of the names in rmq_message_queue (longer names are truncated).
pub const RMQ_NAME_MAX: usize = 256;

/// One queue of a topic: (topic, broker name, queue id). Plain data the caller owns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rmq_message_queue {
    /// Topic, NUL-terminated.
    pub topic: [c_char; RMQ_NAME_MAX],
    /// Name of the broker holding the queue, NUL-terminated.
    pub broker_name: [c_char; RMQ_NAME_MAX],
    /// Queue id within the broker.
    pub queue_id: i32,
}

impl rmq_message_queue {
    pub(crate) fn from_mq(mq: &MessageQueue) -> rmq_message_queue {
        let mut q = rmq_message_queue {
            topic: [0; RMQ_NAME_MAX],
            broker_name: [0; RMQ_NAME_MAX],
            queue_id: mq.queue_id,
        };
        copy_fixed(&mut q.topic, &mq.topic);
        copy_fixed(&mut q.broker_name, &mq.broker_name);
        q
    }

    pub(crate) fn mq(&self) -> FfiResult<MessageQueue> {
        Ok(MessageQueue {
            topic: fixed_str(&self.topic, "queue topic")?.to_string(),
            broker_name: fixed_str(&self.broker_name, "queue broker_name")?.to_string(),
            queue_id: self.queue_id,
        })
    }
}

/// Copy `mqs` into the caller's array `out` of `cap` entries; `*count` gets `mqs.len()` in every
/// case, so a caller whose array was too small (RMQ_STATUS_BUFFER_TOO_SMALL) knows what to allocate.
///
/// # Safety
/// `out` points to `cap` writable entries (or `cap` is 0); `count` is non-NULL and writable.
pub(crate) unsafe fn write_queues(
    mqs: &[MessageQueue],
    out: *mut rmq_message_queue,
    cap: usize,
    count: *mut usize,
) -> FfiResult {
    // SAFETY: `count` checked by the caller of this function.
    unsafe { count.write(mqs.len()) };
    if mqs.len() > cap {
        return Err(crate::status::Fail::new(
            crate::status::rmq_status::BufferTooSmall,
            format!("{} queues do not fit in an array of {cap}", mqs.len()),
        ));
    }
    if mqs.is_empty() {
        return Ok(());
    }
    if out.is_null() {
        return Err(crate::status::Fail::null("queues"));
    }
    for (i, mq) in mqs.iter().enumerate() {
        // SAFETY: i < mqs.len() <= cap entries, by the function's contract.
        unsafe { out.add(i).write(rmq_message_queue::from_mq(mq)) };
    }
    Ok(())
}
