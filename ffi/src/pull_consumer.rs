//! `rmq_pull_consumer`: the application pulls from queues at offsets it chooses and commits offsets
//! itself.

use crate::args::{credentials_args, group_and_namesrv, out_arg, str_arg, write_out};
use crate::consumer_common::model;
use crate::handle::Handle;
use crate::queue::{rmq_message_queue, write_queues};
use crate::received::{rmq_message_ext, Lease};
use crate::status::{rmq_status, Fail, FfiResult};
use parking_lot::Mutex;
use rmq::client::{MessageQueue, PullConsumer, PullConsumerOptions, PullStatus};
use std::ffi::c_char;
use std::time::Duration;

/// A pull consumer (opaque). Create with rmq_pull_consumer_new, free with rmq_pull_consumer_destroy.
/// All calls may be made from any thread.
pub struct rmq_pull_consumer {
    _private: [u8; 0],
}

/// The messages of one pull (opaque). Owned by the caller from rmq_pull_consumer_pull until
/// rmq_pull_result_destroy; its messages live exactly as long.
pub struct rmq_pull_result {
    _private: [u8; 0],
}

/// Outcome of a pull.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_pull_status {
    /// Messages were found.
    Found = 0,
    /// Nothing new at this offset.
    NoNewMsg = 1,
    /// Messages exist there, but none match the expression.
    NoMatchedMsg = 2,
    /// The offset is out of range; pull again from next_begin_offset.
    OffsetIllegal = 3,
}

/// Summary of a pull, filled by rmq_pull_result_get_info.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rmq_pull_info {
    /// The outcome.
    pub status: rmq_pull_status,
    /// The offset to pull from next.
    pub next_begin_offset: i64,
    /// Smallest offset of the queue.
    pub min_offset: i64,
    /// Offset after the last message of the queue.
    pub max_offset: i64,
    /// Number of messages (rmq_pull_result_get_message indexes 0..count).
    pub count: usize,
}

enum State {
    Configuring(Box<PullConsumerOptions>),
    Running(std::sync::Arc<PullConsumer>),
    Closed,
}

/// The object behind an `rmq_pull_consumer` handle.
pub(crate) struct PullObj {
    state: Mutex<State>,
}

/// The object behind an `rmq_pull_result` handle.
pub(crate) struct PullResultObj {
    info: rmq_pull_info,
    lease: Lease,
}

handle_type!(rmq_pull_consumer, PullObj, "rmq_pull_consumer");
handle_type!(rmq_pull_result, PullResultObj, "rmq_pull_result");

fn running(c: *const rmq_pull_consumer) -> FfiResult<std::sync::Arc<PullConsumer>> {
    let obj = rmq_pull_consumer::get(c)?;
    let state = obj.state.lock();
    match &*state {
        State::Running(pc) => Ok(pc.clone()),
        State::Configuring(_) => Err(Fail::new(
            rmq_status::NotStarted,
            "pull consumer not started: call rmq_pull_consumer_start",
        )),
        State::Closed => Err(Fail::new(rmq_status::Shutdown, "pull consumer was shut down")),
    }
}

/// # Safety
/// `q` is NULL or points to a readable rmq_message_queue.
unsafe fn queue_arg(q: *const rmq_message_queue) -> FfiResult<MessageQueue> {
    if q.is_null() {
        return Err(Fail::null("queue"));
    }
    // SAFETY: non-NULL and readable by the caller's contract.
    unsafe { &*q }.mq()
}

/// Create a pull consumer of `group` using the name servers `namesrv_addr`. `*out` receives a handle
/// the caller owns and frees with rmq_pull_consumer_destroy.
///
/// # Safety
/// `group` and `namesrv_addr` are NULL or NUL-terminated strings; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_new(
    group: *const c_char,
    namesrv_addr: *const c_char,
    out: *mut *mut rmq_pull_consumer,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        // SAFETY: caller contract above.
        let (group, ns) = unsafe { group_and_namesrv(group, namesrv_addr) }?;
        let h = rmq_pull_consumer::into_handle(PullObj {
            state: Mutex::new(State::Configuring(Box::new(PullConsumerOptions::new(group, ns)))),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Set the instance name. Before start.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_set_instance_name(
    c: *mut rmq_pull_consumer,
    name: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let name = unsafe { str_arg(name, "name") }?;
        let obj = rmq_pull_consumer::get(c)?;
        let mut state = obj.state.lock();
        match &mut *state {
            State::Configuring(o) => o.config.instance_name = name.to_string(),
            _ => return Err(Fail::state("settings can only change before rmq_pull_consumer_start")),
        }
        Ok(())
    }
}

/// Sign every request with ACL session credentials (Apache's `setSessionCredentials`, the C++
/// client's `Set*SessionCredentials`): `access_key` and `secret_key` of an account in the broker's
/// plain_acl.yml, and `channel`, the `OnsChannel` field Apache's C++ client sends (NULL or "":
/// none). A broker with `aclEnable=false` ignores them. Before start only.
///
/// # Safety
/// `access_key` and `secret_key` are NULL or NUL-terminated strings; `channel` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_set_session_credentials(
    c: *mut rmq_pull_consumer,
    access_key: *const c_char,
    secret_key: *const c_char,
    channel: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let creds = unsafe { credentials_args(access_key, secret_key, channel) }?;
        let obj = rmq_pull_consumer::get(c)?;
        let mut state = obj.state.lock();
        match &mut *state {
            State::Configuring(o) => o.config.credentials = Some(creds),
            _ => return Err(Fail::state("settings can only change before rmq_pull_consumer_start")),
        }
        Ok(())
    }
}

/// Set the message model: an RMQ_MESSAGE_MODEL_* value (default clustering). Before start.
#[no_mangle]
pub extern "C" fn rmq_pull_consumer_set_message_model(
    c: *mut rmq_pull_consumer,
    message_model: u32,
) -> rmq_status {
    ffi_status! {
        let m = model(message_model)?;
        let obj = rmq_pull_consumer::get(c)?;
        let mut state = obj.state.lock();
        match &mut *state {
            State::Configuring(o) => o.model = m,
            _ => return Err(Fail::state("settings can only change before rmq_pull_consumer_start")),
        }
        Ok(())
    }
}

/// Start the consumer (connects to the name servers). Started once.
#[no_mangle]
pub extern "C" fn rmq_pull_consumer_start(c: *mut rmq_pull_consumer) -> rmq_status {
    ffi_status! {
        let obj = rmq_pull_consumer::get(c)?;
        let mut state = obj.state.lock();
        let opts = match &*state {
            State::Configuring(o) => (**o).clone(),
            State::Running(_) => return Err(Fail::state("pull consumer already started")),
            State::Closed => return Err(Fail::new(rmq_status::Shutdown, "pull consumer was shut down")),
        };
        let pc = PullConsumer::new(opts)?;
        pc.start()?;
        *state = State::Running(std::sync::Arc::new(pc));
        Ok(())
    }
}

fn shutdown(obj: &PullObj) {
    let old = std::mem::replace(&mut *obj.state.lock(), State::Closed);
    if let State::Running(pc) = old {
        pc.shutdown();
    }
}

/// Stop the consumer. Idempotent. Offsets are committed only by rmq_pull_consumer_update_offset.
#[no_mangle]
pub extern "C" fn rmq_pull_consumer_shutdown(c: *mut rmq_pull_consumer) -> rmq_status {
    ffi_status! {
        shutdown(&*rmq_pull_consumer::get(c)?);
        Ok(())
    }
}

/// Shut down (if running) and free. NULL is accepted (no-op); twice gives RMQ_STATUS_INVALID_HANDLE.
/// Pull results stay valid until they are destroyed themselves.
#[no_mangle]
pub extern "C" fn rmq_pull_consumer_destroy(c: *mut rmq_pull_consumer) -> rmq_status {
    ffi_status! {
        if c.is_null() {
            return Ok(());
        }
        shutdown(&*rmq_pull_consumer::remove(c)?);
        Ok(())
    }
}

/// The queues of `topic` to pull from, copied into the caller's array `queues` of `cap` entries.
/// `*count` receives the number of queues even when the array is too small (then the status is
/// RMQ_STATUS_BUFFER_TOO_SMALL and nothing else is written).
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string; `queues` points to `cap` writable entries; `count`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_fetch_queues(
    c: *mut rmq_pull_consumer,
    topic: *const c_char,
    queues: *mut rmq_message_queue,
    cap: usize,
    count: *mut usize,
) -> rmq_status {
    ffi_status! {
        let count = out_arg(count, "count")?;
        // SAFETY: caller contract above.
        let topic = unsafe { str_arg(topic, "topic") }?;
        let pc = running(c)?;
        let mqs = pc.fetch_queues(topic)?;
        // SAFETY: caller contract above; `count` checked non-NULL.
        unsafe { write_queues(&mqs, queues, cap, count) }
    }
}

/// Pull up to `max_nums` (1..=1024) messages matching `expr` from `*queue`, starting at `offset`.
/// When nothing is there the broker may hold the request up to `timeout_ms` for new messages. On
/// success `*out` receives a result the caller owns and frees with rmq_pull_result_destroy (also
/// for statuses other than FOUND, which carry no messages).
///
/// # Safety
/// `queue` is NULL or readable; `expr` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_pull(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    expr: *const c_char,
    offset: i64,
    max_nums: u32,
    timeout_ms: u32,
    out: *mut *mut rmq_pull_result,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        // SAFETY: caller contract above.
        let mq = unsafe { queue_arg(queue) }?;
        // SAFETY: caller contract above.
        let expr = unsafe { str_arg(expr, "expr") }?;
        if !(1..=1024).contains(&max_nums) {
            return Err(Fail::arg(format!("max_nums {max_nums} is not in 1..=1024")));
        }
        if offset < 0 {
            return Err(Fail::arg(format!("offset {offset} is negative")));
        }
        let pc = running(c)?;
        let r = pc.pull(&mq, expr, offset, max_nums, Duration::from_millis(timeout_ms.into()))?;
        let status = match r.status {
            PullStatus::Found => rmq_pull_status::Found,
            PullStatus::NoNewMsg => rmq_pull_status::NoNewMsg,
            PullStatus::NoMatchedMsg => rmq_pull_status::NoMatchedMsg,
            PullStatus::OffsetIllegal => rmq_pull_status::OffsetIllegal,
        };
        let info = rmq_pull_info {
            status,
            next_begin_offset: r.next_begin_offset,
            min_offset: r.min_offset,
            max_offset: r.max_offset,
            count: r.messages.len(),
        };
        let h = rmq_pull_result::into_handle(PullResultObj { info, lease: Lease::new(r.messages) });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Fill `*out` with the pull's status, offsets and message count.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_result_get_info(
    r: *const rmq_pull_result,
    out: *mut rmq_pull_info,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        let info = rmq_pull_result::get(r)?.info;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, info) };
        Ok(())
    }
}

/// The message at `index` (0..count). `*out` is owned by the result: valid until
/// rmq_pull_result_destroy.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_result_get_message(
    r: *const rmq_pull_result,
    index: usize,
    out: *mut *const rmq_message_ext,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        let obj = rmq_pull_result::get(r)?;
        let h = *obj.lease.handles().get(index).ok_or_else(|| {
            Fail::arg(format!("message index {index} is past the end ({})", obj.info.count))
        })?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Free a pull result and its messages. NULL is accepted (no-op); twice gives
/// RMQ_STATUS_INVALID_HANDLE.
#[no_mangle]
pub extern "C" fn rmq_pull_result_destroy(r: *mut rmq_pull_result) -> rmq_status {
    ffi_status! {
        if r.is_null() {
            return Ok(());
        }
        rmq_pull_result::remove(r)?;
        Ok(())
    }
}

fn offset_call(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    out: *mut i64,
    f: impl FnOnce(&PullConsumer, &MessageQueue) -> rmq::client::Result<i64>,
) -> FfiResult {
    let out = out_arg(out, "out")?;
    // SAFETY: every caller passes its own caller's `queue`, under the same contract.
    let mq = unsafe { queue_arg(queue) }?;
    let pc = running(c)?;
    let v = f(&pc, &mq)?;
    // SAFETY: checked non-NULL.
    unsafe { write_out(out, v) };
    Ok(())
}

/// The group's committed offset of `*queue` on the broker (-1 if none was committed).
///
/// # Safety
/// `queue` is NULL or readable; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_fetch_offset(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    out: *mut i64,
) -> rmq_status {
    ffi_status! { offset_call(c, queue, out, |pc, mq| pc.fetch_offset(mq)) }
}

/// Commit `offset` (the next offset to consume) for `*queue` to the broker.
///
/// # Safety
/// `queue` is NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_update_offset(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    offset: i64,
) -> rmq_status {
    ffi_status! {
        if offset < 0 {
            return Err(Fail::arg(format!("offset {offset} is negative")));
        }
        // SAFETY: caller contract above.
        let mq = unsafe { queue_arg(queue) }?;
        running(c)?.update_offset(&mq, offset)?;
        Ok(())
    }
}

/// The smallest offset still stored in `*queue`.
///
/// # Safety
/// `queue` is NULL or readable; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_min_offset(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    out: *mut i64,
) -> rmq_status {
    ffi_status! { offset_call(c, queue, out, |pc, mq| pc.min_offset(mq)) }
}

/// The offset after the last message of `*queue`.
///
/// # Safety
/// `queue` is NULL or readable; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_max_offset(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    out: *mut i64,
) -> rmq_status {
    ffi_status! { offset_call(c, queue, out, |pc, mq| pc.max_offset(mq)) }
}

/// The offset of the first message of `*queue` stored at or after `timestamp_ms`.
///
/// # Safety
/// `queue` is NULL or readable; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_pull_consumer_search_offset(
    c: *mut rmq_pull_consumer,
    queue: *const rmq_message_queue,
    timestamp_ms: i64,
    out: *mut i64,
) -> rmq_status {
    ffi_status! { offset_call(c, queue, out, |pc, mq| pc.search_offset(mq, timestamp_ms)) }
}
