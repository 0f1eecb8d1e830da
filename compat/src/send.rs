//! CProducer.h's sends. Every send copies the message first, so the program may change or
//! destroy it as soon as the call returns. Async callbacks run on the producer's
//! `rmq-producer-async-N` threads; queue selectors and transaction executors run on the calling
//! thread before the call returns.
//!
//! 1.x and 2.x callbacks (issue 15): CSendSuccessCallback is declared `void(CSendResult)` in
//! every version of CSendResult.h, but both PyPI bindings declare it
//! `CFUNCTYPE(None, POINTER(_CSendResult))`. It is called here as `cb(&result, result)`: the
//! pointer travels in the first integer register, the 272-byte struct in memory (x86-64) or by
//! reference in the next register (AArch64), so a C callee reading a by-value CSendResult and a
//! binding reading a pointer both see the result. Exception callbacks get a [`WireException`]
//! that reads right as CMQException.h's struct and as the bindings' larger `_CMQException`.

use crate::args::{str_arg, UserData};
use crate::handle::Handle;
use crate::message::{message_of, CBatchMessage, CMessage};
use crate::producer::{running, tx_state, CProducer, Kind};
use crate::status::*;
use crate::types::{CSendResult, WireException};
use rmq::client::{Message, MessageQueue, Producer, SendResult};
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// CSendSuccessCallback, as called (see the module docs).
pub type CSendSuccessCallback =
    Option<unsafe extern "C" fn(result_ptr: *const CSendResult, result: CSendResult)>;
/// CSendExceptionCallback, as called.
pub type CSendExceptionCallback = Option<unsafe extern "C" fn(e: WireException)>;
/// COnSendSuccessCallback (2.x SendAsync).
pub type COnSendSuccessCallback =
    Option<unsafe extern "C" fn(result: CSendResult, msg: *mut CMessage, userData: *mut c_void)>;
/// COnSendExceptionCallback (2.x SendAsync), as called.
pub type COnSendExceptionCallback =
    Option<unsafe extern "C" fn(e: WireException, msg: *mut CMessage, userData: *mut c_void)>;
/// QueueSelectorCallback: an index into the topic's `size` writable queues.
pub type QueueSelectorCallback =
    Option<unsafe extern "C" fn(size: c_int, msg: *mut CMessage, arg: *mut c_void) -> c_int>;
/// CLocalTransactionExecutorCallback: runs the local transaction on the calling thread.
pub type CLocalTransactionExecutorCallback = Option<
    unsafe extern "C" fn(producer: *mut CProducer, msg: *mut CMessage, data: *mut c_void) -> c_int,
>;

/// Write `r` into the caller's CSendResult.
///
/// # Safety
/// `out` is non-NULL and writable (checked by the callers before sending).
unsafe fn write_result(out: *mut CSendResult, r: &SendResult) {
    // SAFETY: by this function's contract.
    unsafe { out.write(CSendResult::from_result(r)) };
}

fn need<T>(p: *mut T, what: &str) -> Result<*mut T> {
    if p.is_null() {
        Err(Fail::null(what))
    } else {
        Ok(p)
    }
}

/// Send and wait for the broker's answer (retrying on another broker after a failure).
/// Failure: PRODUCER_SEND_SYNC_FAILED.
#[no_mangle]
pub extern "C" fn SendMessageSync(
    producer: *mut CProducer,
    msg: *mut CMessage,
    result: *mut CSendResult,
) -> c_int {
    c_status!(PRODUCER_SEND_SYNC_FAILED, {
        let out = need(result, "result")?;
        let m = message_of(msg)?;
        let (_, p) = running(producer, PRODUCER_SEND_SYNC_FAILED)?;
        let r = p.producer().send(&m).or_code(PRODUCER_SEND_SYNC_FAILED)?;
        // SAFETY: checked non-NULL above; the caller passes a writable CSendResult.
        unsafe { write_result(out, &r) };
        Ok(())
    })
}

/// Send the batch's messages (one topic, no delay levels) as one request to one queue.
/// Failure: PRODUCER_SEND_SYNC_FAILED.
#[no_mangle]
pub extern "C" fn SendBatchMessage(
    producer: *mut CProducer,
    batch: *mut CBatchMessage,
    result: *mut CSendResult,
) -> c_int {
    c_status!(PRODUCER_SEND_SYNC_FAILED, {
        let out = need(result, "result")?;
        let msgs = CBatchMessage::get(batch)?.0.lock().clone();
        let (_, p) = running(producer, PRODUCER_SEND_SYNC_FAILED)?;
        let r = p.producer().send_batch(&msgs).or_code(PRODUCER_SEND_SYNC_FAILED)?;
        // SAFETY: checked non-NULL above.
        unsafe { write_result(out, &r) };
        Ok(())
    })
}

/// Run a C callback without letting a panic of ours escape the async worker.
fn guarded(what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        log::error!("bug: librocketmq panicked around a {what} callback");
    }
}

fn deliver_1x(
    r: rmq::client::Result<SendResult>,
    ok: CSendSuccessCallback,
    fail: CSendExceptionCallback,
) {
    guarded("send", || match r {
        Ok(r) => {
            let res = CSendResult::from_result(&r);
            if let Some(cb) = ok {
                // SAFETY: the program registered a CSendSuccessCallback; see the module docs for
                // why (pointer, struct) is read correctly by both declared forms. `res` outlives
                // the call.
                unsafe { cb(&res, res) };
            }
        }
        Err(e) => {
            if let Some(cb) = fail {
                // SAFETY: a CSendExceptionCallback; WireException is laid out for both its forms.
                unsafe { cb(WireException::from_error(&e)) };
            }
        }
    });
}

/// Send without blocking; `cSendSuccessCallback` or `cSendExceptionCallback` runs once, on a
/// producer thread. Both must be non-NULL. Failure to queue: PRODUCER_SEND_ASYNC_FAILED (and no
/// callback runs).
#[no_mangle]
pub extern "C" fn SendMessageAsync(
    producer: *mut CProducer,
    msg: *mut CMessage,
    cSendSuccessCallback: CSendSuccessCallback,
    cSendExceptionCallback: CSendExceptionCallback,
) -> c_int {
    c_status!(PRODUCER_SEND_ASYNC_FAILED, {
        if cSendSuccessCallback.is_none() || cSendExceptionCallback.is_none() {
            return Err(Fail::null("send callback"));
        }
        let m = message_of(msg)?;
        let (_, p) = running(producer, PRODUCER_SEND_ASYNC_FAILED)?;
        let (ok, fail) = (cSendSuccessCallback, cSendExceptionCallback);
        p.producer()
            .send_async(m, Box::new(move |r| deliver_1x(r, ok, fail)))
            .or_code(PRODUCER_SEND_ASYNC_FAILED)
    })
}

/// Send without blocking (2.x): the callbacks also get the message handle (the caller's, which
/// may be destroyed by then: getters then return NULL) and `userData`.
#[no_mangle]
pub extern "C" fn SendAsync(
    producer: *mut CProducer,
    msg: *mut CMessage,
    cSendSuccessCallback: COnSendSuccessCallback,
    cSendExceptionCallback: COnSendExceptionCallback,
    userData: *mut c_void,
) -> c_int {
    c_status!(PRODUCER_SEND_ASYNC_FAILED, {
        let (Some(ok), Some(fail)) = (cSendSuccessCallback, cSendExceptionCallback) else {
            return Err(Fail::null("send callback"));
        };
        let m = message_of(msg)?;
        let (_, p) = running(producer, PRODUCER_SEND_ASYNC_FAILED)?;
        let (handle, data) = (UserData(msg.cast()), UserData(userData));
        let cb = move |r: rmq::client::Result<SendResult>| {
            let (handle, data) = (handle, data);
            guarded("send", || match r {
                // SAFETY: the program registered callbacks with COnSend*Callback's signatures; the
                // message handle is an id the getters look up.
                Ok(r) => unsafe { ok(CSendResult::from_result(&r), handle.0.cast(), data.0) },
                // SAFETY: as above; WireException reads as CMQException.
                Err(e) => unsafe { fail(WireException::from_error(&e), handle.0.cast(), data.0) },
            })
        };
        p.producer().send_async(m, Box::new(cb)).or_code(PRODUCER_SEND_ASYNC_FAILED)
    })
}

/// Send without waiting for the broker (one attempt). Failure: PRODUCER_SEND_ONEWAY_FAILED.
#[no_mangle]
pub extern "C" fn SendMessageOneway(producer: *mut CProducer, msg: *mut CMessage) -> c_int {
    c_status!(PRODUCER_SEND_ONEWAY_FAILED, {
        let m = message_of(msg)?;
        let (_, p) = running(producer, PRODUCER_SEND_ONEWAY_FAILED)?;
        p.producer().send_oneway(&m).or_code(PRODUCER_SEND_ONEWAY_FAILED)
    })
}

/// The queue a C selector picks for `m`: the topic's writable queues, the callback on this
/// thread, the index checked (Apache indexes its vector with it unchecked).
fn select(
    p: &Producer,
    m: &Message,
    msg: *mut CMessage,
    selector: QueueSelectorCallback,
    arg: *mut c_void,
    code: c_int,
) -> Result<MessageQueue> {
    let sel = selector.ok_or_else(|| Fail::null("selector"))?;
    let mqs = p.fetch_publish_queues(m.topic()).or_code(code)?;
    if mqs.is_empty() {
        return Err(Fail::new(code, format!("topic '{}' has no writable queue", m.topic())));
    }
    // SAFETY: the program registered `sel` with QueueSelectorCallback's signature; `msg` is its
    // own handle and `arg` its own pointer, passed back unchanged.
    let i = unsafe { sel(mqs.len() as c_int, msg, arg) };
    usize::try_from(i).ok().and_then(|i| mqs.get(i).cloned()).ok_or_else(|| {
        Fail::new(
            code,
            format!(
                "the queue selector returned {i} but topic '{}' has {} queues",
                m.topic(),
                mqs.len()
            ),
        )
    })
}

/// Send to the queue `selector` picks, without waiting for the broker. Failure:
/// PRODUCER_SEND_ONEWAY_FAILED.
#[no_mangle]
pub extern "C" fn SendMessageOnewayOrderly(
    producer: *mut CProducer,
    msg: *mut CMessage,
    selector: QueueSelectorCallback,
    arg: *mut c_void,
) -> c_int {
    c_status!(PRODUCER_SEND_ONEWAY_FAILED, {
        let m = message_of(msg)?;
        let (_, p) = running(producer, PRODUCER_SEND_ONEWAY_FAILED)?;
        let mq = select(p.producer(), &m, msg, selector, arg, PRODUCER_SEND_ONEWAY_FAILED)?;
        p.producer().send_oneway_to_queue(&m, &mq).or_code(PRODUCER_SEND_ONEWAY_FAILED)
    })
}

/// Up to `1 + retries` attempts of `attempt` (Apache's sendAutoRetrySelectImpl). An attempt
/// fails with `(failure, retry?)`: a failed send is tried again, a selector's bad answer is not.
fn with_retries(
    retries: c_int,
    mut attempt: impl FnMut() -> std::result::Result<SendResult, (Fail, bool)>,
) -> Result<SendResult> {
    let mut last = Fail::new(PRODUCER_SEND_ORDERLY_FAILED, "no send attempt was made");
    for _ in 0..=retries.clamp(0, 16) {
        match attempt() {
            Ok(r) => return Ok(r),
            Err((f, true)) => last = f,
            Err((f, false)) => return Err(f),
        }
    }
    Err(last)
}

/// Send to the queue `callback` picks (given the topic's queue count, the message and `arg`),
/// with up to `autoRetryTimes` further attempts after a failure. Failure:
/// PRODUCER_SEND_ORDERLY_FAILED; NULL callback, arg or result: NULL_POINTER (as 2.x).
#[no_mangle]
pub extern "C" fn SendMessageOrderly(
    producer: *mut CProducer,
    msg: *mut CMessage,
    callback: QueueSelectorCallback,
    arg: *mut c_void,
    autoRetryTimes: c_int,
    result: *mut CSendResult,
) -> c_int {
    c_status!(PRODUCER_SEND_ORDERLY_FAILED, {
        let out = need(result, "result")?;
        need(arg, "arg")?;
        if callback.is_none() {
            return Err(Fail::null("callback"));
        }
        let m = message_of(msg)?;
        let (_, p) = running(producer, PRODUCER_SEND_ORDERLY_FAILED)?;
        let code = PRODUCER_SEND_ORDERLY_FAILED;
        let r = with_retries(autoRetryTimes, || {
            let mq = select(p.producer(), &m, msg, callback, arg, code).map_err(|f| (f, false))?;
            p.producer().send_to_queue(&m, &mq).or_code(code).map_err(|f| (f, true))
        })?;
        // SAFETY: checked non-NULL above.
        unsafe { write_result(out, &r) };
        Ok(())
    })
}

/// Send to the queue `callback` picks (on this thread), without blocking for the answer; the
/// callbacks run as for SendMessageAsync. Failure to queue: PRODUCER_SEND_ORDERLYASYNC_FAILED.
#[no_mangle]
pub extern "C" fn SendMessageOrderlyAsync(
    producer: *mut CProducer,
    msg: *mut CMessage,
    callback: QueueSelectorCallback,
    arg: *mut c_void,
    cSendSuccessCallback: CSendSuccessCallback,
    cSendExceptionCallback: CSendExceptionCallback,
) -> c_int {
    let code = PRODUCER_SEND_ORDERLYASYNC_FAILED;
    c_status!(code, {
        if callback.is_none() || cSendSuccessCallback.is_none() || cSendExceptionCallback.is_none()
        {
            return Err(Fail::null("callback"));
        }
        let m = message_of(msg)?;
        let (_, p) = running(producer, code)?;
        let mq = select(p.producer(), &m, msg, callback, arg, code)?;
        let (ok, fail) = (cSendSuccessCallback, cSendExceptionCallback);
        p.producer()
            .send_async_to_queue(m, mq, Box::new(move |r| deliver_1x(r, ok, fail)))
            .or_code(code)
    })
}

/// Send to queue `hash(shardingKey) % queues`, so one key's messages stay in one queue, in
/// order (2.x); 3 retries, as Apache. The message carries the key as property `__SHARDINGKEY`.
///
/// # Safety
/// `shardingKey` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SendMessageOrderlyByShardingKey(
    producer: *mut CProducer,
    msg: *mut CMessage,
    shardingKey: *const c_char,
    result: *mut CSendResult,
) -> c_int {
    let code = PRODUCER_SEND_ORDERLY_FAILED;
    c_status!(code, {
        let out = need(result, "result")?;
        // SAFETY: caller contract above.
        let key = unsafe { str_arg(shardingKey, "shardingKey") }?;
        let mut m = message_of(msg)?;
        m.put_property("__SHARDINGKEY", key);
        let (_, p) = running(producer, code)?;
        let r = with_retries(3, || {
            p.producer().send_orderly(&m, key).or_code(code).map_err(|f| (f, true))
        })?;
        // SAFETY: checked non-NULL above.
        unsafe { write_result(out, &r) };
        Ok(())
    })
}

/// Send `msg` as a transaction half message, run `callback` (the local transaction, on this
/// thread, with the caller's message handle and `userData`), and end the transaction with the
/// CTransactionStatus it returns: commit makes the message consumable, rollback drops it,
/// unknown leaves it to the broker's check (answered by the producer's checker callback). Only
/// for producers made by CreateTransactionProducer. Failure: PRODUCER_SEND_TRANSACTION_FAILED.
#[no_mangle]
pub extern "C" fn SendMessageTransaction(
    producer: *mut CProducer,
    msg: *mut CMessage,
    callback: CLocalTransactionExecutorCallback,
    userData: *mut c_void,
    result: *mut CSendResult,
) -> c_int {
    let code = PRODUCER_SEND_TRANSACTION_FAILED;
    c_status!(code, {
        let out = need(result, "result")?;
        let exec = callback.ok_or_else(|| Fail::null("callback"))?;
        let m = message_of(msg)?;
        let (obj, p) = running(producer, code)?;
        let crate::producer::Running::Tx(tp) = p else {
            debug_assert!(obj.kind != Kind::Transaction);
            return Err(Fail::new(
                code,
                "SendMessageTransaction needs a producer made by CreateTransactionProducer",
            ));
        };
        let data = UserData(userData);
        // Handles are ids; they are passed back, never dereferenced.
        let (ph, mh) = (producer as usize, msg as usize);
        let (r, _) = tp
            .send_in_transaction_with(&m, &mut |_| {
                // SAFETY: the program registered `exec` with CLocalTransactionExecutorCallback's
                // signature; the handles are its own.
                tx_state(unsafe { exec(ph as *mut CProducer, mh as *mut CMessage, data.0) })
            })
            .or_code(code)?;
        // SAFETY: checked non-NULL above.
        unsafe { write_result(out, &r) };
        Ok(())
    })
}
