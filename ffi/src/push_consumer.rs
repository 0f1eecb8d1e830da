//! `rmq_push_consumer`: librmq pulls from the broker and calls the application's callback.

use crate::args::{credentials_args, group_and_namesrv, out_arg, str_arg, write_out, UserData};
use crate::boundary::{not_in_own_callback, CallbackScope};
use crate::consumer_common::{consume_from, model};
use crate::handle::Handle;
use crate::received::{rmq_message_ext, Lease};
use crate::status::{rmq_status, Fail, FfiResult};
use parking_lot::Mutex;
use rmq::client::{ConsumeStatus, MessageExt, OrderlyStatus, PushConsumer, PushConsumerOptions};
use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A push consumer (opaque). The caller owns it: create with rmq_push_consumer_new, free with
/// rmq_push_consumer_destroy. Settings, subscriptions and the callback are set before
/// rmq_push_consumer_start; librmq's threads then call the callback (see rmq_message_callback).
pub struct rmq_push_consumer {
    _private: [u8; 0],
}

/// What a message callback returns (as uint32_t). Any other value counts as RMQ_CONSUME_RESULT_LATER.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_consume_result {
    /// Consumed: the group's offset may move past these messages.
    Success = 0,
    /// Not consumed. Concurrent callback: the messages are delivered again later (through the
    /// group's retry topic). Orderly callback: the queue pauses a moment and the same messages come
    /// again, still in order.
    Later = 1,
}

/// Receives `count` (>= 1, at most the max batch size) received messages. The array and the
/// messages are valid only until the callback returns (copy what you keep). Returns an
/// RMQ_CONSUME_RESULT_* value.
///
/// Threads: runs on one of the consumer's consume threads (rmq_push_consumer_set_thread_count),
/// never on the caller's. A concurrent callback may run on several threads at once; an orderly
/// callback runs for one queue at a time, in queue order. It must not call
/// rmq_push_consumer_shutdown or rmq_push_consumer_destroy on its own consumer (they return
/// RMQ_STATUS_ILLEGAL_STATE there). Once rmq_push_consumer_shutdown has returned, it is not called
/// again, so `userdata` may be freed then.
pub type rmq_message_callback = Option<
    unsafe extern "C" fn(
        msgs: *const *const rmq_message_ext,
        count: usize,
        userdata: *mut c_void,
    ) -> u32,
>;

#[derive(Clone, Copy)]
struct Callback {
    cb: unsafe extern "C" fn(*const *const rmq_message_ext, usize, *mut c_void) -> u32,
    userdata: UserData,
    consumer: usize,
}

impl Callback {
    /// Run the C callback over `msgs`; true only if it returned RMQ_CONSUME_RESULT_SUCCESS.
    fn call(&self, msgs: &[MessageExt]) -> bool {
        let lease = Lease::new(msgs.iter().cloned());
        let _scope = CallbackScope::enter(self.consumer);
        let handles = lease.handles();
        let r = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the application registered `cb` with this signature; the array and the
            // handles stay valid until `lease` drops after the call.
            unsafe { (self.cb)(handles.as_ptr(), handles.len(), self.userdata.0) }
        }));
        matches!(r, Ok(v) if v == rmq_consume_result::Success as u32)
    }
}

enum Listener {
    Concurrent(Callback),
    Orderly(Callback),
}

// The configuring state is big but short-lived; boxing it would only add noise.
#[allow(clippy::large_enum_variant)]
enum State {
    Configuring {
        opts: Box<PushConsumerOptions>,
        subs: Vec<(String, String)>,
        listener: Option<Listener>,
    },
    Running(PushConsumer),
    Closed,
}

/// The object behind an `rmq_push_consumer` handle.
pub(crate) struct PushObj {
    state: Mutex<State>,
}

handle_type!(rmq_push_consumer, PushObj, "rmq_push_consumer");

fn configure(
    c: *mut rmq_push_consumer,
    f: impl FnOnce(
        &mut PushConsumerOptions,
        &mut Vec<(String, String)>,
        &mut Option<Listener>,
    ) -> FfiResult,
) -> FfiResult {
    let obj = rmq_push_consumer::get(c)?;
    let mut state = obj.state.lock();
    match &mut *state {
        State::Configuring { opts, subs, listener } => f(opts, subs, listener),
        _ => Err(Fail::state(
            "push consumer settings can only change before rmq_push_consumer_start",
        )),
    }
}

/// Create a push consumer of `group` using the name servers `namesrv_addr`. Subscribe, set a
/// callback, then start it. `*out` receives a handle the caller owns and frees with
/// rmq_push_consumer_destroy.
///
/// # Safety
/// `group` and `namesrv_addr` are NULL or NUL-terminated strings; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_push_consumer_new(
    group: *const c_char,
    namesrv_addr: *const c_char,
    out: *mut *mut rmq_push_consumer,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        // SAFETY: caller contract above.
        let (group, ns) = unsafe { group_and_namesrv(group, namesrv_addr) }?;
        let h = rmq_push_consumer::into_handle(PushObj {
            state: Mutex::new(State::Configuring {
                opts: Box::new(PushConsumerOptions::new(group, ns)),
                subs: Vec::new(),
                listener: None,
            }),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Set the instance name (distinguishes several clients in one process). Before start.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_push_consumer_set_instance_name(
    c: *mut rmq_push_consumer,
    name: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let name = unsafe { str_arg(name, "name") }?;
        configure(c, |o, _, _| {
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
pub unsafe extern "C" fn rmq_push_consumer_set_session_credentials(
    c: *mut rmq_push_consumer,
    access_key: *const c_char,
    secret_key: *const c_char,
    channel: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let creds = unsafe { credentials_args(access_key, secret_key, channel) }?;
        configure(c, |o, _, _| {
            o.config.credentials = Some(creds);
            Ok(())
        })
    }
}

/// Set the message model: an RMQ_MESSAGE_MODEL_* value (default clustering). Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_message_model(
    c: *mut rmq_push_consumer,
    message_model: u32,
) -> rmq_status {
    ffi_status! {
        let m = model(message_model)?;
        configure(c, |o, _, _| {
            o.model = m;
            Ok(())
        })
    }
}

/// Set where a group without committed offsets starts: an RMQ_CONSUME_FROM_* value;
/// `timestamp_ms` (ms since the epoch) is used only with RMQ_CONSUME_FROM_TIMESTAMP. Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_consume_from(
    c: *mut rmq_push_consumer,
    from: u32,
    timestamp_ms: i64,
) -> rmq_status {
    ffi_status! {
        let f = consume_from(from, timestamp_ms)?;
        configure(c, |o, _, _| {
            o.consume_from = f;
            Ok(())
        })
    }
}

/// Set the number of consume threads running the callback (1..=64, default 4). Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_thread_count(
    c: *mut rmq_push_consumer,
    threads: u32,
) -> rmq_status {
    ffi_status! {
        if !(1..=64).contains(&threads) {
            return Err(Fail::arg(format!("thread count {threads} is not in 1..=64")));
        }
        configure(c, |o, _, _| {
            o.thread_count = threads as usize;
            Ok(())
        })
    }
}

/// Set the most messages passed to one callback call (1..=1024, default 1). Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_max_batch_size(
    c: *mut rmq_push_consumer,
    size: u32,
) -> rmq_status {
    ffi_status! {
        if !(1..=1024).contains(&size) {
            return Err(Fail::arg(format!("max batch size {size} is not in 1..=1024")));
        }
        configure(c, |o, _, _| {
            o.max_batch_size = size as usize;
            Ok(())
        })
    }
}

/// Set how many redeliveries a message gets before it goes to the dead-letter queue (-1 = 16, the
/// default). Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_max_reconsume_times(
    c: *mut rmq_push_consumer,
    times: i32,
) -> rmq_status {
    ffi_status! {
        if times < -1 {
            return Err(Fail::arg(format!("max reconsume times {times} is below -1")));
        }
        configure(c, |o, _, _| {
            o.max_reconsume_times = times;
            Ok(())
        })
    }
}

/// Subscribe to `topic` with the tag expression `expr` ("*" for all, or "TagA || TagB"). May be
/// called for several topics; a later call for the same topic replaces its expression. Before start.
///
/// # Safety
/// `topic` and `expr` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn rmq_push_consumer_subscribe(
    c: *mut rmq_push_consumer,
    topic: *const c_char,
    expr: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let topic = unsafe { str_arg(topic, "topic") }?;
        // SAFETY: caller contract above.
        let expr = unsafe { str_arg(expr, "expr") }?;
        if topic.is_empty() {
            return Err(Fail::arg("topic is empty"));
        }
        configure(c, |_, subs, _| {
            subs.retain(|(t, _)| t != topic);
            subs.push((topic.to_string(), expr.to_string()));
            Ok(())
        })
    }
}

fn set_listener(
    c: *mut rmq_push_consumer,
    cb: rmq_message_callback,
    userdata: *mut c_void,
    orderly: bool,
) -> FfiResult {
    let cb = cb.ok_or_else(|| Fail::null("callback"))?;
    let call = Callback { cb, userdata: UserData(userdata), consumer: c as usize };
    configure(c, |_, _, l| {
        *l = Some(if orderly { Listener::Orderly(call) } else { Listener::Concurrent(call) });
        Ok(())
    })
}

/// Consume concurrently: `cb` (see rmq_message_callback) may run on several threads at once, and
/// messages of one queue may be handled out of order. Replaces any callback set before. Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_message_callback(
    c: *mut rmq_push_consumer,
    cb: rmq_message_callback,
    userdata: *mut c_void,
) -> rmq_status {
    ffi_status! { set_listener(c, cb, userdata, false) }
}

/// Consume orderly: each queue is locked to this consumer on the broker and its messages reach
/// `cb` one batch at a time, in queue order. Replaces any callback set before. Before start.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_set_orderly_callback(
    c: *mut rmq_push_consumer,
    cb: rmq_message_callback,
    userdata: *mut c_void,
) -> rmq_status {
    ffi_status! { set_listener(c, cb, userdata, true) }
}

/// Start consuming. Needs at least one subscription and a callback. A consumer is started once:
/// afterwards RMQ_STATUS_ILLEGAL_STATE (or RMQ_STATUS_SHUTDOWN after shutdown).
#[no_mangle]
pub extern "C" fn rmq_push_consumer_start(c: *mut rmq_push_consumer) -> rmq_status {
    ffi_status! {
        let obj = rmq_push_consumer::get(c)?;
        let mut state = obj.state.lock();
        let (opts, subs, listener) = match &*state {
            State::Configuring { opts, subs, listener } => (opts, subs, listener),
            State::Running(_) => return Err(Fail::state("push consumer already started")),
            State::Closed => return Err(Fail::new(rmq_status::Shutdown, "push consumer was shut down")),
        };
        if subs.is_empty() {
            return Err(Fail::state("no subscription: call rmq_push_consumer_subscribe before start"));
        }
        if listener.is_none() {
            return Err(Fail::state("no callback: call rmq_push_consumer_set_message_callback before start"));
        }
        let consumer = PushConsumer::new((**opts).clone())?;
        for (topic, expr) in subs {
            consumer.subscribe(topic, expr)?;
        }
        match listener {
            Some(Listener::Concurrent(cb)) => {
                let cb = *cb;
                consumer.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
                    if cb.call(msgs) { ConsumeStatus::Success } else { ConsumeStatus::ReconsumeLater }
                }))?;
            }
            Some(Listener::Orderly(cb)) => {
                let cb = *cb;
                consumer.register_orderly(Arc::new(move |msgs: &[MessageExt]| {
                    if cb.call(msgs) { OrderlyStatus::Success } else { OrderlyStatus::SuspendCurrentQueueAMoment }
                }))?;
            }
            None => return Err(Fail::state("no callback: call rmq_push_consumer_set_message_callback before start")),
        }
        if let Err(e) = consumer.start() {
            consumer.shutdown();
            return Err(e.into());
        }
        *state = State::Running(consumer);
        Ok(())
    }
}

fn shutdown(obj: &PushObj) {
    let old = std::mem::replace(&mut *obj.state.lock(), State::Closed);
    if let State::Running(consumer) = old {
        consumer.shutdown();
    }
}

/// Stop consuming: waits for callbacks that are running to return, commits offsets and leaves the
/// group. Idempotent. Not allowed inside this consumer's own callback (RMQ_STATUS_ILLEGAL_STATE).
#[no_mangle]
pub extern "C" fn rmq_push_consumer_shutdown(c: *mut rmq_push_consumer) -> rmq_status {
    ffi_status! {
        not_in_own_callback(c as usize, "rmq_push_consumer_shutdown")?;
        let obj = rmq_push_consumer::get(c)?;
        shutdown(&obj);
        Ok(())
    }
}

/// Shut the consumer down (if running) and free it. NULL is accepted (no-op). Destroying twice
/// returns RMQ_STATUS_INVALID_HANDLE. Not allowed inside this consumer's own callback.
#[no_mangle]
pub extern "C" fn rmq_push_consumer_destroy(c: *mut rmq_push_consumer) -> rmq_status {
    ffi_status! {
        if c.is_null() {
            return Ok(());
        }
        not_in_own_callback(c as usize, "rmq_push_consumer_destroy")?;
        let obj = rmq_push_consumer::remove(c)?;
        shutdown(&obj);
        Ok(())
    }
}
