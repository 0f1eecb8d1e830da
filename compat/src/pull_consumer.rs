//! CPullConsumer.h: the program pulls queues itself. FetchSubscriptionMessageQueues returns an
//! array the program frees with ReleaseSubscriptionMessageQueue; Pull returns a CPullResult whose
//! messages live until ReleasePullResult. Both releases recognise what the library handed out, so
//! a second release (or a foreign pointer) is NULL_POINTER instead of a double free.

use crate::args::{fixed_str, str_arg};
use crate::handle::Handle;
use crate::logfile;
use crate::message_ext::Lease;
use crate::settings::{credentials, env_namesrv, resolve_namesrv, version_array, version_ptr};
use crate::status::{
    Fail, OrCode, Result, NULL_POINTER, PULLCONSUMER_FETCH_MQ_FAILED, PULLCONSUMER_START_FAILED,
};
use crate::types::*;
use parking_lot::Mutex;
use rmq::client::{MessageQueue, PullConsumer, PullConsumerOptions, PullStatus};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Apache's exported version array of the pull consumer.
#[no_mangle]
pub static VERSION_FOR_PULL_CONSUMER: [c_char; 256] = version_array();

/// Timeout of one Pull request.
const PULL_TIMEOUT: Duration = Duration::from_secs(10);

/// A pull consumer (opaque).
pub struct CPullConsumer {
    _private: [u8; 0],
}

struct Settings {
    opts: PullConsumerOptions,
    domain: String,
}

/// The object behind a `CPullConsumer` handle.
pub(crate) struct PullObj {
    settings: Mutex<Settings>,
    group: Mutex<CString>,
    running: Mutex<Option<Arc<PullConsumer>>>,
}

handle_type!(CPullConsumer, PullObj, "CPullConsumer");

/// The messages of one FOUND CPullResult, registered until ReleasePullResult.
pub(crate) struct PullLease {
    _lease: Lease,
}

/// `pData` of a CPullResult (never dereferenced by anyone).
pub struct PullData {
    _private: [u8; 0],
}

handle_type!(PullData, PullLease, "CPullResult.pData");

/// Queue arrays handed out by FetchSubscriptionMessageQueues, by address.
static QUEUE_ARRAYS: LazyLock<Mutex<HashMap<usize, Box<[CMessageQueue]>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Create a pull consumer of group `groupId` (NULL: returns NULL). The caller owns it:
/// DestroyPullConsumer.
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CreatePullConsumer(groupId: *const c_char) -> *mut CPullConsumer {
    logfile::init();
    crate::boundary::value(std::ptr::null_mut(), || {
        // SAFETY: caller contract above.
        let g = unsafe { str_arg(groupId, "groupId") }?;
        let mut opts = PullConsumerOptions::new(g, "");
        opts.config.namesrv_addr = env_namesrv();
        Ok(CPullConsumer::into_handle(PullObj {
            settings: Mutex::new(Settings { opts, domain: String::new() }),
            group: Mutex::new(crate::args::c_string(g)),
            running: Mutex::new(None),
        }))
    })
}

fn stop(obj: &PullObj) {
    let r = obj.running.lock().take();
    if let Some(c) = r {
        c.shutdown();
    }
}

/// Shut down (if running) and free. NULL or destroyed: NULL_POINTER. Pull results not yet
/// released stay valid until ReleasePullResult.
#[no_mangle]
pub extern "C" fn DestroyPullConsumer(consumer: *mut CPullConsumer) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CPullConsumer::remove(consumer)?;
        stop(&obj);
        Ok(())
    })
}

/// Start (join the name servers). Running already: OK. Failure: PULLCONSUMER_START_FAILED.
#[no_mangle]
pub extern "C" fn StartPullConsumer(consumer: *mut CPullConsumer) -> c_int {
    c_status!(PULLCONSUMER_START_FAILED, {
        let obj = CPullConsumer::get(consumer)?;
        let mut running = obj.running.lock();
        if running.is_some() {
            return Ok(());
        }
        let (mut opts, domain) = {
            let s = obj.settings.lock();
            (s.opts.clone(), s.domain.clone())
        };
        opts.config.namesrv_addr = resolve_namesrv(&opts.config.namesrv_addr, &domain)
            .map_err(|e| Fail::new(PULLCONSUMER_START_FAILED, e))?;
        let c = PullConsumer::new(opts).or_code(PULLCONSUMER_START_FAILED)?;
        c.start().or_code(PULLCONSUMER_START_FAILED)?;
        *running = Some(Arc::new(c));
        Ok(())
    })
}

/// Stop. Not running: OK.
#[no_mangle]
pub extern "C" fn ShutdownPullConsumer(consumer: *mut CPullConsumer) -> c_int {
    c_status!(PULLCONSUMER_START_FAILED, {
        let obj = CPullConsumer::get(consumer)?;
        stop(&obj);
        Ok(())
    })
}

/// The library's version string (static); NULL for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn ShowPullConsumerVersion(consumer: *mut CPullConsumer) -> *const c_char {
    match CPullConsumer::find(consumer) {
        Some(_) => version_ptr(),
        None => std::ptr::null(),
    }
}

fn configure(c: *mut CPullConsumer, f: impl FnOnce(&mut Settings) -> Result) -> c_int {
    c_status!(PULLCONSUMER_START_FAILED, {
        let obj = CPullConsumer::get(c)?;
        let mut s = obj.settings.lock();
        f(&mut s)
    })
}

/// The consumer group.
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPullConsumerGroupID(
    consumer: *mut CPullConsumer,
    groupId: *const c_char,
) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CPullConsumer::get(consumer)?;
        // SAFETY: caller contract above.
        let g = unsafe { str_arg(groupId, "groupId") }?;
        if g.is_empty() {
            return Err(Fail::new(NULL_POINTER, "the consumer group is empty"));
        }
        obj.settings.lock().opts.group = g.to_string();
        *obj.group.lock() = crate::args::c_string(g);
        Ok(())
    })
}

/// The consumer group; valid until set again or destroyed. NULL for a NULL handle.
#[no_mangle]
pub extern "C" fn GetPullConsumerGroupID(consumer: *mut CPullConsumer) -> *const c_char {
    match CPullConsumer::find(consumer) {
        Some(obj) => obj.group.lock().as_ptr(),
        None => std::ptr::null(),
    }
}

/// Name servers, "host:9876;host2:9876".
///
/// # Safety
/// `namesrv` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPullConsumerNameServerAddress(
    consumer: *mut CPullConsumer,
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
pub unsafe extern "C" fn SetPullConsumerNameServerDomain(
    consumer: *mut CPullConsumer,
    domain: *const c_char,
) -> c_int {
    configure(consumer, |s| {
        // SAFETY: caller contract above.
        s.domain = unsafe { str_arg(domain, "domain") }?.to_string();
        Ok(())
    })
}

/// Sign every request with ACL credentials (settings::credentials). Before start.
///
/// # Safety
/// Each argument is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetPullConsumerSessionCredentials(
    consumer: *mut CPullConsumer,
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
pub unsafe extern "C" fn SetPullConsumerLogPath(
    consumer: *mut CPullConsumer,
    logPath: *const c_char,
) -> c_int {
    configure(consumer, |_| {
        // SAFETY: caller contract above.
        let p = unsafe { str_arg(logPath, "logPath") }?;
        logfile::set_dir(Path::new(p)).map_err(|e| Fail::new(PULLCONSUMER_START_FAILED, e))
    })
}

/// Keep at most `fileNum` log files of `fileSize` MB each (process-wide).
#[no_mangle]
pub extern "C" fn SetPullConsumerLogFileNumAndSize(
    consumer: *mut CPullConsumer,
    fileNum: c_int,
    fileSize: c_long,
) -> c_int {
    configure(consumer, |_| {
        logfile::set_files(fileNum, fileSize).map_err(|e| Fail::new(NULL_POINTER, e))
    })
}

/// Log level, a CLogLevel (process-wide).
#[no_mangle]
pub extern "C" fn SetPullConsumerLogLevel(consumer: *mut CPullConsumer, level: c_int) -> c_int {
    configure(consumer, |_| {
        logfile::set_level(level);
        Ok(())
    })
}

/// The readable queues of `topic`: `*mqs` gets an array of `*size` queues that the caller frees
/// with ReleaseSubscriptionMessageQueue. Failure: PULLCONSUMER_FETCH_MQ_FAILED, `*mqs` NULL and
/// `*size` 0.
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string; `mqs` and `size` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn FetchSubscriptionMessageQueues(
    consumer: *mut CPullConsumer,
    topic: *const c_char,
    mqs: *mut *mut CMessageQueue,
    size: *mut c_int,
) -> c_int {
    c_status!(PULLCONSUMER_FETCH_MQ_FAILED, {
        if mqs.is_null() || size.is_null() {
            return Err(Fail::null("mqs or size"));
        }
        // SAFETY: both checked non-NULL; the caller passes writable outputs.
        unsafe {
            mqs.write(std::ptr::null_mut());
            size.write(0);
        }
        let obj = CPullConsumer::get(consumer)?;
        // SAFETY: caller contract above.
        let t = unsafe { str_arg(topic, "topic") }?;
        let c = obj.running.lock().clone().ok_or_else(|| {
            Fail::new(
                PULLCONSUMER_FETCH_MQ_FAILED,
                "the pull consumer is not started: call StartPullConsumer first",
            )
        })?;
        let queues = c.fetch_queues(t).or_code(PULLCONSUMER_FETCH_MQ_FAILED)?;
        let mut arr: Box<[CMessageQueue]> = queues.iter().map(CMessageQueue::from_mq).collect();
        let p = arr.as_mut_ptr();
        QUEUE_ARRAYS.lock().insert(p as usize, arr);
        // SAFETY: as above.
        unsafe {
            mqs.write(p);
            size.write(queues.len() as c_int);
        }
        Ok(())
    })
}

/// Free an array from FetchSubscriptionMessageQueues. NULL, a foreign pointer or an array
/// released already: NULL_POINTER.
#[no_mangle]
pub extern "C" fn ReleaseSubscriptionMessageQueue(mqs: *mut CMessageQueue) -> c_int {
    c_status!(NULL_POINTER, {
        if mqs.is_null() {
            return Err(Fail::null("mqs"));
        }
        QUEUE_ARRAYS.lock().remove(&(mqs as usize)).map(drop).ok_or_else(|| {
            Fail::new(
                NULL_POINTER,
                "not an array from FetchSubscriptionMessageQueues (released twice?)",
            )
        })
    })
}

fn empty_result(status: c_int) -> CPullResult {
    CPullResult {
        pullStatus: status,
        nextBeginOffset: 0,
        minOffset: 0,
        maxOffset: 0,
        msgFoundList: std::ptr::null_mut(),
        size: 0,
        pData: std::ptr::null_mut(),
    }
}

fn pull(
    consumer: *mut CPullConsumer,
    mq: *const CMessageQueue,
    expr: *const c_char,
    offset: i64,
    max: c_int,
) -> Result<CPullResult> {
    let obj = CPullConsumer::get(consumer)?;
    if mq.is_null() {
        return Err(Fail::null("mq"));
    }
    // SAFETY: non-NULL; the caller passes a CMessageQueue (usually one from
    // FetchSubscriptionMessageQueues, or its own copy).
    let q = unsafe { &*mq };
    let queue = MessageQueue {
        topic: fixed_str(&q.topic, "mq->topic")?.to_string(),
        broker_name: fixed_str(&q.brokerName, "mq->brokerName")?.to_string(),
        queue_id: q.queueId,
    };
    // SAFETY: the exported function's contract: NULL or a NUL-terminated string.
    let expr = unsafe { str_arg(expr, "subExpression") }?;
    let c = obj.running.lock().clone().ok_or_else(|| {
        Fail::new(NULL_POINTER, "the pull consumer is not started: call StartPullConsumer first")
    })?;
    let r = c.pull(&queue, expr, offset, max.max(1) as u32, PULL_TIMEOUT).or_code(NULL_POINTER)?;
    let status = match r.status {
        PullStatus::Found => E_FOUND,
        PullStatus::NoNewMsg => E_NO_NEW_MSG,
        PullStatus::NoMatchedMsg => E_NO_MATCHED_MSG,
        PullStatus::OffsetIllegal => E_OFFSET_ILLEGAL,
    };
    let mut out = empty_result(status);
    out.nextBeginOffset = r.next_begin_offset;
    out.minOffset = r.min_offset;
    out.maxOffset = r.max_offset;
    if status == E_FOUND && !r.messages.is_empty() {
        let mut lease = Lease::new(r.messages);
        out.size = lease.handles().len() as c_int;
        // The handles' buffer does not move when the lease moves into the registry.
        out.msgFoundList = lease.handles().as_mut_ptr();
        out.pData = PullData::into_handle(PullLease { _lease: lease }).cast::<c_void>();
    }
    Ok(out)
}

/// Pull up to `maxNums` messages matching `subExpression` from `mq` at `offset`; answers at once
/// (E_NO_NEW_MSG when there is nothing). A failure (bad arguments, not started, broker or network
/// error) is E_BROKER_TIMEOUT with GetLatestErrorMessage() saying why, as Apache. Release every
/// result with ReleasePullResult.
///
/// # Safety
/// `mq` is NULL or points to a CMessageQueue; `subExpression` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn Pull(
    consumer: *mut CPullConsumer,
    mq: *const CMessageQueue,
    subExpression: *const c_char,
    offset: i64,
    maxNums: c_int,
) -> CPullResult {
    crate::boundary::value(empty_result(E_BROKER_TIMEOUT), || {
        pull(consumer, mq, subExpression, offset, maxNums)
    })
}

/// Release a CPullResult's messages. As Apache: OK for an E_FOUND result, NULL_POINTER for one
/// without messages (nothing to release) — and here also for one released already.
#[no_mangle]
pub extern "C" fn ReleasePullResult(pullResult: CPullResult) -> c_int {
    c_status!(NULL_POINTER, {
        if pullResult.size == 0 || pullResult.msgFoundList.is_null() || pullResult.pData.is_null() {
            return Err(Fail::new(NULL_POINTER, "the pull result holds no messages"));
        }
        PullData::remove(pullResult.pData.cast::<PullData>())?;
        Ok(())
    })
}
