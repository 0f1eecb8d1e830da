//! `rmq_producer`: sending messages. Created with a group and name servers, configured with
//! setters, then started; all send calls may be made from any number of threads at once.

use crate::args::{
    copy_fixed, credentials_args, group_and_namesrv, out_arg, str_arg, write_out, UserData,
};
use crate::boundary::{not_in_own_callback, set_last_error, CallbackScope};
use crate::handle::Handle;
use crate::message::rmq_message;
use crate::queue::{rmq_message_queue, write_queues};
use crate::status::{rmq_status, Fail, FfiResult};
use parking_lot::Mutex;
use rmq::client::{Message, Producer, ProducerOptions, SendResult, SendStatus};
use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Capacity, NUL included, of the message id fields of rmq_send_result.
pub const RMQ_MSG_ID_MAX: usize = 128;

/// A producer (opaque). The caller owns it: create with rmq_producer_new, free with
/// rmq_producer_destroy. Once started, any number of threads may send through it at once.
pub struct rmq_producer {
    _private: [u8; 0],
}

/// How the broker stored a sent message.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_send_status {
    /// Stored (and flushed or replicated as the broker is configured).
    Ok = 0,
    /// Stored, but the broker's synchronous flush timed out.
    FlushDiskTimeout = 1,
    /// Stored, but synchronous replication to the slave timed out.
    FlushSlaveTimeout = 2,
    /// Stored, but no slave was available for synchronous replication.
    SlaveNotAvailable = 3,
}

/// The outcome of a successful send, written into a struct the caller owns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rmq_send_result {
    /// How the broker stored it.
    pub status: rmq_send_status,
    /// The message id (UNIQ_KEY), NUL-terminated. For a batch, the ids comma-separated, cut to fit.
    pub msg_id: [c_char; RMQ_MSG_ID_MAX],
    /// The broker's offset message id, NUL-terminated (for a batch, comma-separated, cut to fit).
    pub offset_msg_id: [c_char; RMQ_MSG_ID_MAX],
    /// The queue the message went to.
    pub queue: rmq_message_queue,
    /// Its offset in that queue (of the first message for a batch).
    pub queue_offset: i64,
}

impl rmq_send_result {
    pub(crate) fn from_result(r: &SendResult) -> rmq_send_result {
        let status = match r.status {
            SendStatus::Ok => rmq_send_status::Ok,
            SendStatus::FlushDiskTimeout => rmq_send_status::FlushDiskTimeout,
            SendStatus::FlushSlaveTimeout => rmq_send_status::FlushSlaveTimeout,
            SendStatus::SlaveNotAvailable => rmq_send_status::SlaveNotAvailable,
        };
        let mut out = rmq_send_result {
            status,
            msg_id: [0; RMQ_MSG_ID_MAX],
            offset_msg_id: [0; RMQ_MSG_ID_MAX],
            queue: rmq_message_queue::from_mq(&r.queue),
            queue_offset: r.queue_offset,
        };
        copy_fixed(&mut out.msg_id, &r.msg_id);
        copy_fixed(&mut out.offset_msg_id, &r.offset_msg_id);
        out
    }
}

/// Called once with the outcome of rmq_producer_send_async. `status` is RMQ_STATUS_OK and
/// `result` points to the result on success; otherwise `result` is NULL and rmq_last_error(),
/// called inside the callback, gives the error text. `result` is valid only during the call.
/// Runs on a librmq thread (never the caller's), so it must not block for long; it must not call
/// rmq_producer_shutdown or rmq_producer_destroy on the same producer (they return
/// RMQ_STATUS_ILLEGAL_STATE there). If the producer shuts down before the send completes, the
/// callback still runs, with RMQ_STATUS_SHUTDOWN.
pub type rmq_send_callback = Option<
    unsafe extern "C" fn(status: rmq_status, result: *const rmq_send_result, userdata: *mut c_void),
>;

/// Picks the queue for rmq_producer_send_with_selector: given the topic's `count` writable queues
/// (valid during the call) and the message being sent (the caller's own handle, readable with the
/// rmq_message_get_* functions), returns an index; an index >= count is taken modulo count, except
/// `SIZE_MAX`, which cancels the send: nothing is sent and the call fails with
/// RMQ_STATUS_INVALID_ARGUMENT (a selector that cannot pick, e.g. one that caught an exception).
/// Runs on the thread calling the send function, before it returns.
pub type rmq_queue_selector = Option<
    unsafe extern "C" fn(
        queues: *const rmq_message_queue,
        count: usize,
        msg: *const rmq_message,
        userdata: *mut c_void,
    ) -> usize,
>;

enum State {
    Configuring(Box<ProducerOptions>),
    Running(Producer),
    Closed,
}

/// The object behind an `rmq_producer` handle.
pub(crate) struct ProducerObj {
    state: Mutex<State>,
}

handle_type!(rmq_producer, ProducerObj, "rmq_producer");

fn configure(p: *mut rmq_producer, f: impl FnOnce(&mut ProducerOptions) -> FfiResult) -> FfiResult {
    let obj = rmq_producer::get(p)?;
    let mut state = obj.state.lock();
    match &mut *state {
        State::Configuring(opts) => f(opts),
        _ => Err(Fail::state("producer settings can only change before rmq_producer_start")),
    }
}

fn running(p: *const rmq_producer) -> FfiResult<Producer> {
    let obj = rmq_producer::get(p)?;
    let state = obj.state.lock();
    match &*state {
        State::Running(prod) => Ok(prod.clone()),
        State::Configuring(_) => {
            Err(Fail::new(rmq_status::NotStarted, "producer not started: call rmq_producer_start"))
        }
        State::Closed => Err(Fail::new(rmq_status::Shutdown, "producer was shut down")),
    }
}

fn message(msg: *const rmq_message) -> FfiResult<Message> {
    Ok(rmq_message::get(msg)?.snapshot())
}

/// Create a producer of `group` using the name servers `namesrv_addr` ("host:port", several
/// separated by ';'). It sends nothing until rmq_producer_start. `*out` receives a handle the caller
/// owns and frees with rmq_producer_destroy.
///
/// # Safety
/// `group` and `namesrv_addr` are NULL or NUL-terminated strings; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_new(
    group: *const c_char,
    namesrv_addr: *const c_char,
    out: *mut *mut rmq_producer,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        // SAFETY: caller contract above.
        let (group, ns) = unsafe { group_and_namesrv(group, namesrv_addr) }?;
        let h = rmq_producer::into_handle(ProducerObj {
            state: Mutex::new(State::Configuring(Box::new(ProducerOptions::new(group, ns)))),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Set the instance name (distinguishes several clients in one process; default: the process id).
/// Before start only.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_set_instance_name(
    p: *mut rmq_producer,
    name: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let name = unsafe { str_arg(name, "name") }?;
        configure(p, |o| {
            o.config.instance_name = name.to_string();
            Ok(())
        })
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
pub unsafe extern "C" fn rmq_producer_set_session_credentials(
    p: *mut rmq_producer,
    access_key: *const c_char,
    secret_key: *const c_char,
    channel: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let creds = unsafe { credentials_args(access_key, secret_key, channel) }?;
        configure(p, |o| {
            o.config.credentials = Some(creds);
            Ok(())
        })
    }
}

/// Set the timeout of one send attempt in milliseconds (default 3000; must be > 0). Before start.
#[no_mangle]
pub extern "C" fn rmq_producer_set_send_timeout_ms(p: *mut rmq_producer, ms: u32) -> rmq_status {
    ffi_status! {
        if ms == 0 {
            return Err(Fail::arg("send timeout must be > 0 ms"));
        }
        configure(p, |o| {
            o.send_timeout = Duration::from_millis(ms.into());
            Ok(())
        })
    }
}

/// Set how many times a failed synchronous send is retried (default 2). Before start.
#[no_mangle]
pub extern "C" fn rmq_producer_set_retry_times(p: *mut rmq_producer, times: u32) -> rmq_status {
    ffi_status! {
        configure(p, |o| {
            o.retry_times = times;
            Ok(())
        })
    }
}

/// Bodies larger than `bytes` are zlib-compressed (default 4096). Before start.
#[no_mangle]
pub extern "C" fn rmq_producer_set_compress_threshold(
    p: *mut rmq_producer,
    bytes: u32,
) -> rmq_status {
    ffi_status! {
        configure(p, |o| {
            o.compress_threshold = bytes as usize;
            Ok(())
        })
    }
}

/// Largest body the producer accepts (default 4 MiB; at most RMQ_MAX_BODY_SIZE). Before start.
#[no_mangle]
pub extern "C" fn rmq_producer_set_max_message_size(
    p: *mut rmq_producer,
    bytes: u32,
) -> rmq_status {
    ffi_status! {
        if bytes == 0 || bytes as usize > crate::args::RMQ_MAX_BODY_SIZE {
            return Err(Fail::arg(format!("max message size {bytes} is not in 1..=RMQ_MAX_BODY_SIZE")));
        }
        configure(p, |o| {
            o.max_message_size = bytes as usize;
            Ok(())
        })
    }
}

/// Start the producer: connects to the name servers. Returns RMQ_STATUS_ILLEGAL_STATE if it was
/// started already or shut down (a producer is started once).
#[no_mangle]
pub extern "C" fn rmq_producer_start(p: *mut rmq_producer) -> rmq_status {
    ffi_status! {
        let obj = rmq_producer::get(p)?;
        let mut state = obj.state.lock();
        let opts = match &*state {
            State::Configuring(o) => (**o).clone(),
            State::Running(_) => return Err(Fail::state("producer already started")),
            State::Closed => return Err(Fail::new(rmq_status::Shutdown, "producer was shut down")),
        };
        let prod = Producer::new(opts)?;
        prod.start()?;
        *state = State::Running(prod);
        Ok(())
    }
}

/// Stop the producer and close its connections. Idempotent; sends after it return
/// RMQ_STATUS_SHUTDOWN, and an async send it cuts short still gets its callback (with an error
/// status). Not allowed inside this producer's own async send callback.
#[no_mangle]
pub extern "C" fn rmq_producer_shutdown(p: *mut rmq_producer) -> rmq_status {
    ffi_status! {
        not_in_own_callback(p as usize, "rmq_producer_shutdown")?;
        let obj = rmq_producer::get(p)?;
        shutdown(&obj);
        Ok(())
    }
}

fn shutdown(obj: &ProducerObj) {
    let old = std::mem::replace(&mut *obj.state.lock(), State::Closed);
    if let State::Running(prod) = old {
        prod.shutdown();
    }
}

/// Shut the producer down (if running) and free it. NULL is accepted (no-op). Destroying twice, or
/// using the handle afterwards, returns RMQ_STATUS_INVALID_HANDLE. Not allowed inside this
/// producer's own async send callback (RMQ_STATUS_ILLEGAL_STATE, handle left alive).
#[no_mangle]
pub extern "C" fn rmq_producer_destroy(p: *mut rmq_producer) -> rmq_status {
    ffi_status! {
        if p.is_null() {
            return Ok(());
        }
        not_in_own_callback(p as usize, "rmq_producer_destroy")?;
        let obj = rmq_producer::remove(p)?;
        shutdown(&obj);
        Ok(())
    }
}

/// Send `msg` and wait for the broker's answer (retrying on failure as configured). On success
/// `*result` (caller-owned) is filled. The message is copied: it may be destroyed or changed as
/// soon as this returns.
///
/// # Safety
/// `result` is NULL or points to a writable rmq_send_result.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_send(
    p: *mut rmq_producer,
    msg: *const rmq_message,
    result: *mut rmq_send_result,
) -> rmq_status {
    ffi_status! {
        let result = out_arg(result, "result")?;
        let prod = running(p)?;
        let r = rmq_message::get(msg)?.with(|m| prod.send(m))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(result, rmq_send_result::from_result(&r)) };
        Ok(())
    }
}

/// Calls the C callback exactly once: with the outcome, or with RMQ_STATUS_SHUTDOWN if the client
/// drops an accepted request without completing it.
struct AsyncCall {
    cb: unsafe extern "C" fn(rmq_status, *const rmq_send_result, *mut c_void),
    userdata: UserData,
    producer: usize,
    /// PENDING until rmq_producer_send_async knows the request was accepted (ARMED); CALLED once
    /// the callback ran.
    state: Arc<AtomicU8>,
}

const PENDING: u8 = 0;
const ARMED: u8 = 1;
const CALLED: u8 = 2;

impl AsyncCall {
    fn complete(&self, outcome: Result<rmq_send_result, Fail>) {
        self.state.store(CALLED, Ordering::SeqCst);
        let _scope = CallbackScope::enter(self.producer);
        let cb = self.cb;
        let userdata = self.userdata;
        let _ = catch_unwind(AssertUnwindSafe(|| match outcome {
            // SAFETY: the application registered `cb` with this signature; `r` lives across the call.
            Ok(r) => unsafe { cb(rmq_status::Ok, &r, userdata.0) },
            Err(f) => {
                set_last_error(&f.text);
                // SAFETY: as above; NULL result on failure as documented.
                unsafe { cb(f.status, std::ptr::null(), userdata.0) }
            }
        }));
    }
}

impl Drop for AsyncCall {
    fn drop(&mut self) {
        if self.state.load(Ordering::SeqCst) == ARMED {
            self.complete(Err(Fail::new(
                rmq_status::Shutdown,
                "the producer shut down before the send completed",
            )));
        }
    }
}

/// Send `msg` without waiting: returns once the request is handed to librmq; `cb` then runs
/// exactly once with the outcome, on a librmq thread, receiving `userdata`. If this returns an
/// error, `cb` is never called. The message is copied: it may be destroyed right away.
#[no_mangle]
pub extern "C" fn rmq_producer_send_async(
    p: *mut rmq_producer,
    msg: *const rmq_message,
    cb: rmq_send_callback,
    userdata: *mut c_void,
) -> rmq_status {
    ffi_status! {
        let cb = cb.ok_or_else(|| Fail::null("cb"))?;
        let prod = running(p)?;
        let m = message(msg)?;
        let state = Arc::new(AtomicU8::new(PENDING));
        let call = AsyncCall { cb, userdata: UserData(userdata), producer: p as usize, state: state.clone() };
        let result = prod.send_async(
            m,
            Box::new(move |r| call.complete(r.map(|r| rmq_send_result::from_result(&r)).map_err(Fail::from))),
        );
        match result {
            // Accepted: from now on a dropped request still reaches the callback (SHUTDOWN).
            Ok(()) => {
                let _ = state.compare_exchange(PENDING, ARMED, Ordering::SeqCst, Ordering::SeqCst);
                Ok(())
            }
            // The client already reported the failure through the callback: do not report it twice.
            Err(_) if state.load(Ordering::SeqCst) == CALLED => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Send `msg` without waiting for any answer (no result, no retry): the fastest and least safe
/// way. The message is copied.
#[no_mangle]
pub extern "C" fn rmq_producer_send_oneway(
    p: *mut rmq_producer,
    msg: *const rmq_message,
) -> rmq_status {
    ffi_status! {
        let prod = running(p)?;
        rmq_message::get(msg)?.with(|m| prod.send_oneway(m))?;
        Ok(())
    }
}

/// Send `count` messages of one topic as one batch to one queue. `msgs` is an array of `count`
/// message handles (the messages are copied). On success `*result` describes the batch.
///
/// # Safety
/// `msgs` points to `count` readable handles; `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_send_batch(
    p: *mut rmq_producer,
    msgs: *const *const rmq_message,
    count: usize,
    result: *mut rmq_send_result,
) -> rmq_status {
    ffi_status! {
        let result = out_arg(result, "result")?;
        if count == 0 {
            return Err(Fail::arg("batch is empty"));
        }
        if msgs.is_null() {
            return Err(Fail::null("msgs"));
        }
        if count > 1_000_000 {
            return Err(Fail::arg(format!("batch of {count} messages (a count past the array?)")));
        }
        // SAFETY: non-NULL, `count` readable entries by the caller's contract.
        let handles = unsafe { std::slice::from_raw_parts(msgs, count) };
        let batch = handles.iter().map(|h| message(*h)).collect::<FfiResult<Vec<Message>>>()?;
        let prod = running(p)?;
        let r = prod.send_batch(&batch)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(result, rmq_send_result::from_result(&r)) };
        Ok(())
    }
}

/// Send `msg` to the queue `*queue` (no retry on another queue).
///
/// # Safety
/// `queue` is NULL or points to a readable rmq_message_queue; `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_send_to_queue(
    p: *mut rmq_producer,
    msg: *const rmq_message,
    queue: *const rmq_message_queue,
    result: *mut rmq_send_result,
) -> rmq_status {
    ffi_status! {
        let result = out_arg(result, "result")?;
        if queue.is_null() {
            return Err(Fail::null("queue"));
        }
        // SAFETY: non-NULL and readable by the caller's contract.
        let mq = unsafe { &*queue }.mq()?;
        let prod = running(p)?;
        let r = rmq_message::get(msg)?.with(|m| prod.send_to_queue(m, &mq))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(result, rmq_send_result::from_result(&r)) };
        Ok(())
    }
}

/// Send `msg` to the queue `selector` picks (see rmq_queue_selector), for example all messages of
/// one order id to the same queue, so that an orderly consumer sees them in order.
///
/// # Safety
/// `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_send_with_selector(
    p: *mut rmq_producer,
    msg: *const rmq_message,
    selector: rmq_queue_selector,
    userdata: *mut c_void,
    result: *mut rmq_send_result,
) -> rmq_status {
    ffi_status! {
        let result = out_arg(result, "result")?;
        let selector = selector.ok_or_else(|| Fail::null("selector"))?;
        let prod = running(p)?;
        let m = message(msg)?;
        let mut pick = |mqs: &[rmq::client::MessageQueue], _: &Message| -> usize {
            if mqs.is_empty() {
                return 0;
            }
            let queues: Vec<rmq_message_queue> = mqs.iter().map(rmq_message_queue::from_mq).collect();
            // SAFETY: the application's selector with this signature; `queues` lives across the call.
            let i = unsafe { selector(queues.as_ptr(), queues.len(), msg, userdata) };
            // SIZE_MAX stays out of range: the client refuses it and nothing is sent.
            if i == usize::MAX {
                i
            } else {
                i % mqs.len()
            }
        };
        let r = prod.send_with_selector(&m, &mut pick)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(result, rmq_send_result::from_result(&r)) };
        Ok(())
    }
}

/// Send `msg` to queue `hash(sharding_key) % queue count`: messages with the same key go to the
/// same queue, in order.
///
/// # Safety
/// `sharding_key` is NULL or a NUL-terminated string; `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_send_orderly(
    p: *mut rmq_producer,
    msg: *const rmq_message,
    sharding_key: *const c_char,
    result: *mut rmq_send_result,
) -> rmq_status {
    ffi_status! {
        let result = out_arg(result, "result")?;
        // SAFETY: caller contract above.
        let key = unsafe { str_arg(sharding_key, "sharding_key") }?;
        let prod = running(p)?;
        let r = rmq_message::get(msg)?.with(|m| prod.send_orderly(m, key))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(result, rmq_send_result::from_result(&r)) };
        Ok(())
    }
}

/// The writable queues of `topic`, copied into the caller's array `queues` of `cap` entries.
/// `*count` receives the number of queues even when the array is too small (then the status is
/// RMQ_STATUS_BUFFER_TOO_SMALL and nothing else is written).
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string; `queues` points to `cap` writable entries;
/// `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_producer_fetch_publish_queues(
    p: *mut rmq_producer,
    topic: *const c_char,
    queues: *mut rmq_message_queue,
    cap: usize,
    count: *mut usize,
) -> rmq_status {
    ffi_status! {
        let count = out_arg(count, "count")?;
        // SAFETY: caller contract above.
        let topic = unsafe { str_arg(topic, "topic") }?;
        let prod = running(p)?;
        let mqs = prod.fetch_publish_queues(topic)?;
        // SAFETY: caller contract above; `count` checked non-NULL.
        unsafe { write_queues(&mqs, queues, cap, count) }
    }
}
