//! CPushConsumer.h: the library pulls and calls the program's MessageCallBack on its consume
//! threads (`rmq-consume-N`, SetPushConsumerThreadCount of them), once per message, as Apache's
//! library does. A callback returning anything but E_CONSUME_SUCCESS fails the rest of its batch:
//! concurrently consumed messages are sent back to the broker and redelivered later through the
//! group's retry topic (E_RECONSUME_LATER); orderly ones are retried in place after a pause, the
//! queue staying locked to this consumer on the broker while its callback runs.
//!
//! Settings, subscriptions and the callback are kept on the handle and applied at start; a
//! shut-down consumer may be started again. Register/Unregister take effect at once (a message
//! arriving while no callback is registered is reconsumed later, as Apache).

use crate::args::str_arg;
use crate::boundary::{not_in_own_callback, CallbackScope};
use crate::handle::Handle;
use crate::logfile;
use crate::message_ext::{CMessageExt, Lease};
use crate::settings::{credentials, env_namesrv, resolve_namesrv, version_array, version_ptr};
use crate::status::{Fail, OrCode, Result, NULL_POINTER, PUSHCONSUMER_START_FAILED};
use crate::types::{BROADCASTING, CLUSTERING, E_CONSUME_SUCCESS};
use parking_lot::{Mutex, RwLock};
use rmq::client::{
    ConsumeStatus, MessageExt, MessageModel, OrderlyStatus, PushConsumer, PushConsumerOptions,
};
use std::ffi::{c_char, c_int, c_long, CString};
use std::path::Path;
use std::sync::Arc;

/// Apache's exported version array of the push consumer.
#[no_mangle]
pub static VERSION_FOR_PUSH_CONSUMER: [c_char; 256] = version_array();

/// A push consumer (opaque).
pub struct CPushConsumer {
    _private: [u8; 0],
}

/// MessageCallBack: one message, valid during the call; returns a CConsumeStatus.
pub type MessageCallBack =
    Option<unsafe extern "C" fn(consumer: *mut CPushConsumer, msg: *mut CMessageExt) -> c_int>;

type Callback = unsafe extern "C" fn(*mut CPushConsumer, *mut CMessageExt) -> c_int;

#[derive(Clone, Copy)]
struct Registered {
    cb: Callback,
    orderly: bool,
}

struct Settings {
    opts: PushConsumerOptions,
    domain: String,
    subs: Vec<(String, String)>,
    #[allow(dead_code)] // accepted, no trace messages are sent
    trace: bool,
    /// Which Register* was called last (decides the consume mode at start).
    orderly: bool,
}

/// The object behind a `CPushConsumer` handle.
pub(crate) struct PushObj {
    settings: Mutex<Settings>,
    group: Mutex<CString>,
    callback: Arc<RwLock<Option<Registered>>>,
    running: Mutex<Option<PushConsumer>>,
}

handle_type!(CPushConsumer, PushObj, "CPushConsumer");

/// Call the registered callback once per message; false at the first one not consumed.
fn deliver(consumer: usize, slot: &RwLock<Option<Registered>>, msgs: &[MessageExt]) -> bool {
    let _scope = CallbackScope::enter(consumer);
    for m in msgs {
        let Some(r) = *slot.read() else { return false };
        let mut lease = Lease::new([m.clone()]);
        let h = lease.handles()[0];
        // SAFETY: the program registered `cb` with MessageCallBack's signature; the message
        // handle is live until `lease` drops after the call.
        let st = unsafe { (r.cb)(consumer as *mut CPushConsumer, h) };
        if st != E_CONSUME_SUCCESS {
            return false;
        }
    }
    true
}

/// Create a push consumer of group `groupId` (NULL: returns NULL). Starts from the last offset
/// for a group without committed offsets, as Apache's. The caller owns it: DestroyPushConsumer.
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CreatePushConsumer(groupId: *const c_char) -> *mut CPushConsumer {
    logfile::init();
    crate::boundary::value(std::ptr::null_mut(), || {
        // SAFETY: caller contract above.
        let g = unsafe { str_arg(groupId, "groupId") }?;
        let mut opts = PushConsumerOptions::new(g, "");
        opts.config.namesrv_addr = env_namesrv();
        Ok(CPushConsumer::into_handle(PushObj {
            settings: Mutex::new(Settings {
                opts,
                domain: String::new(),
                subs: Vec::new(),
                trace: false,
                orderly: false,
            }),
            group: Mutex::new(crate::args::c_string(g)),
            callback: Arc::new(RwLock::new(None)),
            running: Mutex::new(None),
        }))
    })
}

fn stop(obj: &PushObj) {
    let r = obj.running.lock().take();
    if let Some(c) = r {
        c.shutdown();
    }
}

/// Shut down (if running) and free. NULL or destroyed: NULL_POINTER. Refused inside the
/// consumer's own callback (PUSHCONSUMER_START_FAILED): it would wait for itself.
#[no_mangle]
pub extern "C" fn DestroyPushConsumer(consumer: *mut CPushConsumer) -> c_int {
    c_status!(NULL_POINTER, {
        CPushConsumer::get(consumer)?;
        not_in_own_callback(consumer as usize, "DestroyPushConsumer", PUSHCONSUMER_START_FAILED)?;
        let obj = CPushConsumer::remove(consumer)?;
        stop(&obj);
        Ok(())
    })
}

/// Start consuming: needs a subscription and a registered callback. Starting a running consumer
/// does nothing. Failure: PUSHCONSUMER_START_FAILED.
#[no_mangle]
pub extern "C" fn StartPushConsumer(consumer: *mut CPushConsumer) -> c_int {
    c_status!(PUSHCONSUMER_START_FAILED, {
        let obj = CPushConsumer::get(consumer)?;
        let mut running = obj.running.lock();
        if running.is_some() {
            return Ok(());
        }
        let (mut opts, subs, domain, orderly) = {
            let s = obj.settings.lock();
            (s.opts.clone(), s.subs.clone(), s.domain.clone(), s.orderly)
        };
        if obj.callback.read().is_none() {
            return Err(Fail::new(
                PUSHCONSUMER_START_FAILED,
                "no message callback: call RegisterMessageCallback before StartPushConsumer",
            ));
        }
        opts.config.namesrv_addr = resolve_namesrv(&opts.config.namesrv_addr, &domain)
            .map_err(|e| Fail::new(PUSHCONSUMER_START_FAILED, e))?;
        let c = PushConsumer::new(opts).or_code(PUSHCONSUMER_START_FAILED)?;
        for (t, e) in &subs {
            c.subscribe(t, e).or_code(PUSHCONSUMER_START_FAILED)?;
        }
        let (id, slot) = (consumer as usize, obj.callback.clone());
        if orderly {
            c.register_orderly(Arc::new(move |m: &[MessageExt]| {
                if deliver(id, &slot, m) {
                    OrderlyStatus::Success
                } else {
                    OrderlyStatus::SuspendCurrentQueueAMoment
                }
            }))
        } else {
            c.register_concurrent(Arc::new(move |m: &[MessageExt]| {
                if deliver(id, &slot, m) {
                    ConsumeStatus::Success
                } else {
                    ConsumeStatus::ReconsumeLater
                }
            }))
        }
        .or_code(PUSHCONSUMER_START_FAILED)?;
        c.start().or_code(PUSHCONSUMER_START_FAILED)?;
        *running = Some(c);
        Ok(())
    })
}

/// Stop: waits for running callbacks, commits offsets, leaves the group. Not running: OK.
/// Refused inside the consumer's own callback (PUSHCONSUMER_START_FAILED).
#[no_mangle]
pub extern "C" fn ShutdownPushConsumer(consumer: *mut CPushConsumer) -> c_int {
    c_status!(PUSHCONSUMER_START_FAILED, {
        let obj = CPushConsumer::get(consumer)?;
        not_in_own_callback(consumer as usize, "ShutdownPushConsumer", PUSHCONSUMER_START_FAILED)?;
        stop(&obj);
        Ok(())
    })
}

/// The library's version string (static); NULL for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn ShowPushConsumerVersion(consumer: *mut CPushConsumer) -> *const c_char {
    match CPushConsumer::find(consumer) {
        Some(_) => version_ptr(),
        None => std::ptr::null(),
    }
}

fn configure(c: *mut CPushConsumer, f: impl FnOnce(&mut Settings) -> Result) -> c_int {
    c_status!(PUSHCONSUMER_START_FAILED, {
        let obj = CPushConsumer::get(c)?;
        let mut s = obj.settings.lock();
        f(&mut s)
    })
}

fn bad(text: String) -> Fail {
    Fail::new(NULL_POINTER, text)
}

/// The consumer group.
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPushConsumerGroupID(
    consumer: *mut CPushConsumer,
    groupId: *const c_char,
) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CPushConsumer::get(consumer)?;
        // SAFETY: caller contract above.
        let g = unsafe { str_arg(groupId, "groupId") }?;
        if g.is_empty() {
            return Err(bad("the consumer group is empty".into()));
        }
        obj.settings.lock().opts.group = g.to_string();
        *obj.group.lock() = crate::args::c_string(g);
        Ok(())
    })
}

/// The consumer group; valid until the group is set again or the consumer destroyed. NULL for
/// a NULL handle.
#[no_mangle]
pub extern "C" fn GetPushConsumerGroupID(consumer: *mut CPushConsumer) -> *const c_char {
    match CPushConsumer::find(consumer) {
        Some(obj) => obj.group.lock().as_ptr(),
        None => std::ptr::null(),
    }
}

/// Name servers, "host:9876;host2:9876".
///
/// # Safety
/// `namesrv` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPushConsumerNameServerAddress(
    consumer: *mut CPushConsumer,
    namesrv: *const c_char,
) -> c_int {
    configure(consumer, |s| {
        // SAFETY: caller contract above.
        s.opts.config.namesrv_addr = unsafe { str_arg(namesrv, "namesrv") }?.to_string();
        Ok(())
    })
}

/// An http:// URL answering the name-server list, fetched at start.
///
/// # Safety
/// `domain` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPushConsumerNameServerDomain(
    consumer: *mut CPushConsumer,
    domain: *const c_char,
) -> c_int {
    configure(consumer, |s| {
        // SAFETY: caller contract above.
        s.domain = unsafe { str_arg(domain, "domain") }?.to_string();
        Ok(())
    })
}

/// Subscribe to `topic` with a tag expression ("*", "TagA || TagB"); a topic subscribed again
/// gets the new expression. Applied at the next start.
///
/// # Safety
/// `topic` and `expression` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn Subscribe(
    consumer: *mut CPushConsumer,
    topic: *const c_char,
    expression: *const c_char,
) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CPushConsumer::get(consumer)?;
        // SAFETY: caller contract above.
        let t = unsafe { str_arg(topic, "topic") }?;
        // SAFETY: caller contract above.
        let e = unsafe { str_arg(expression, "expression") }?;
        if t.is_empty() {
            return Err(bad("topic is empty".into()));
        }
        let mut s = obj.settings.lock();
        s.subs.retain(|(x, _)| x != t);
        s.subs.push((t.to_string(), e.to_string()));
        Ok(())
    })
}

fn register(c: *mut CPushConsumer, cb: MessageCallBack, orderly: bool) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CPushConsumer::get(c)?;
        let cb = cb.ok_or_else(|| Fail::null("callback"))?;
        obj.settings.lock().orderly = orderly;
        *obj.callback.write() = Some(Registered { cb, orderly });
        Ok(())
    })
}

fn unregister(c: *mut CPushConsumer, orderly: bool) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CPushConsumer::get(c)?;
        let mut slot = obj.callback.write();
        if slot.is_some_and(|r| r.orderly == orderly) {
            *slot = None;
        }
        Ok(())
    })
}

/// Consume concurrently with `pCallback`.
#[no_mangle]
pub extern "C" fn RegisterMessageCallback(
    consumer: *mut CPushConsumer,
    pCallback: MessageCallBack,
) -> c_int {
    register(consumer, pCallback, false)
}

/// Consume orderly with `pCallback`: one queue's messages in order, the queue locked on the
/// broker to this consumer.
#[no_mangle]
pub extern "C" fn RegisterMessageCallbackOrderly(
    consumer: *mut CPushConsumer,
    pCallback: MessageCallBack,
) -> c_int {
    register(consumer, pCallback, true)
}

/// Remove the concurrent callback.
#[no_mangle]
pub extern "C" fn UnregisterMessageCallback(consumer: *mut CPushConsumer) -> c_int {
    unregister(consumer, false)
}

/// Remove the orderly callback.
#[no_mangle]
pub extern "C" fn UnregisterMessageCallbackOrderly(consumer: *mut CPushConsumer) -> c_int {
    unregister(consumer, true)
}

/// CMessageModel: BROADCASTING (0) or CLUSTERING (1, the default).
#[no_mangle]
pub extern "C" fn SetPushConsumerMessageModel(
    consumer: *mut CPushConsumer,
    messageModel: c_int,
) -> c_int {
    configure(consumer, |s| {
        s.opts.model = match messageModel {
            BROADCASTING => MessageModel::Broadcasting,
            CLUSTERING => MessageModel::Clustering,
            m => {
                return Err(bad(format!(
                    "message model {m} is neither BROADCASTING (0) nor CLUSTERING (1)"
                )))
            }
        };
        Ok(())
    })
}

fn positive(v: c_int, max: c_int, what: &str) -> Result<usize> {
    if v <= 0 || v > max {
        return Err(bad(format!("{what} {v} is not in 1..={max}")));
    }
    Ok(v as usize)
}

/// Threads running the callback (default 4; 0 is NULL_POINTER, as Apache).
#[no_mangle]
pub extern "C" fn SetPushConsumerThreadCount(
    consumer: *mut CPushConsumer,
    threadCount: c_int,
) -> c_int {
    configure(consumer, |s| {
        s.opts.thread_count = positive(threadCount, 1000, "thread count")?;
        Ok(())
    })
}

/// Most messages consumed per batch (a failure fails the rest of the batch; default 1).
#[no_mangle]
pub extern "C" fn SetPushConsumerMessageBatchMaxSize(
    consumer: *mut CPushConsumer,
    batchSize: c_int,
) -> c_int {
    configure(consumer, |s| {
        s.opts.max_batch_size = positive(batchSize, 1024, "batch size")?;
        Ok(())
    })
}

/// Pause pulling a queue while this many of its messages wait to be consumed (default 1000).
#[no_mangle]
pub extern "C" fn SetPushConsumerMaxCacheMessageSize(
    consumer: *mut CPushConsumer,
    maxCacheSize: c_int,
) -> c_int {
    configure(consumer, |s| {
        s.opts.pull_threshold_per_queue = positive(maxCacheSize, 65_535, "max cache size")?;
        Ok(())
    })
}

/// Pause pulling a queue while its waiting bodies exceed this many MB (default 100). Honoured
/// here; Apache's 2.1.0 returns Not_Support.
#[no_mangle]
pub extern "C" fn SetPushConsumerMaxCacheMessageSizeInMb(
    consumer: *mut CPushConsumer,
    maxCacheSizeInMb: c_int,
) -> c_int {
    configure(consumer, |s| {
        s.opts.pull_threshold_size_mib_per_queue =
            positive(maxCacheSizeInMb, 1024, "max cache size in MB")?;
        Ok(())
    })
}

/// The instance name (part of the client id).
///
/// # Safety
/// `instanceName` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPushConsumerInstanceName(
    consumer: *mut CPushConsumer,
    instanceName: *const c_char,
) -> c_int {
    configure(consumer, |s| {
        // SAFETY: caller contract above.
        s.opts.config.instance_name = unsafe { str_arg(instanceName, "instanceName") }?.to_string();
        Ok(())
    })
}

/// Sign every request with ACL credentials (settings::credentials). Before start.
///
/// # Safety
/// Each argument is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPushConsumerSessionCredentials(
    consumer: *mut CPushConsumer,
    accessKey: *const c_char,
    secretKey: *const c_char,
    channel: *const c_char,
) -> c_int {
    configure(consumer, |s| {
        // SAFETY: caller contract above (for all three).
        let (a, k, c) = unsafe {
            (
                str_arg(accessKey, "accessKey")?,
                str_arg(secretKey, "secretKey")?,
                str_arg(channel, "channel")?,
            )
        };
        s.opts.config.credentials = Some(credentials(a, k, c));
        Ok(())
    })
}

/// Log to files in directory `logPath` (process-wide).
///
/// # Safety
/// `logPath` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPushConsumerLogPath(
    consumer: *mut CPushConsumer,
    logPath: *const c_char,
) -> c_int {
    configure(consumer, |_| {
        // SAFETY: caller contract above.
        let p = unsafe { str_arg(logPath, "logPath") }?;
        logfile::set_dir(Path::new(p)).map_err(|e| Fail::new(PUSHCONSUMER_START_FAILED, e))
    })
}

/// Keep at most `fileNum` log files of `fileSize` MB each (process-wide).
#[no_mangle]
pub extern "C" fn SetPushConsumerLogFileNumAndSize(
    consumer: *mut CPushConsumer,
    fileNum: c_int,
    fileSize: c_long,
) -> c_int {
    configure(consumer, |_| logfile::set_files(fileNum, fileSize).map_err(bad))
}

/// Log level, a CLogLevel (process-wide).
#[no_mangle]
pub extern "C" fn SetPushConsumerLogLevel(consumer: *mut CPushConsumer, level: c_int) -> c_int {
    configure(consumer, |_| {
        logfile::set_level(level);
        Ok(())
    })
}

/// Message trace switch (2.x): accepted and stored; no trace messages are sent.
#[no_mangle]
pub extern "C" fn SetPushConsumerMessageTrace(
    consumer: *mut CPushConsumer,
    openTrace: c_int,
) -> c_int {
    configure(consumer, |s| {
        s.trace = openTrace == 0;
        Ok(())
    })
}
