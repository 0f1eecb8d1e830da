//! CProducer.h lifecycle and settings: CreateProducer / CreateOrderlyProducer /
//! CreateTransactionProducer, Start / Shutdown / Destroy in any order and any number of times,
//! and the Set* functions. The sends are in send.rs.
//!
//! Settings are kept on the handle and applied when the producer starts, so they may be changed
//! at any time; a change made while running takes effect at the next StartProducer (a shut-down
//! producer may be started again, unlike Apache's).

use crate::args::{str_arg, UserData};
use crate::handle::Handle;
use crate::logfile;
use crate::message_ext::{CMessageExt, Lease};
use crate::settings::{credentials, env_namesrv, resolve_namesrv, version_ptr};
use crate::status::{Fail, OrCode, Result, NULL_POINTER, PRODUCER_START_FAILED};
use crate::types::{E_COMMIT_TRANSACTION, E_ROLLBACK_TRANSACTION};
use parking_lot::Mutex;
use rmq::client::{
    LocalTxState, Message, MessageExt, Producer, ProducerOptions, TransactionListener,
    TransactionProducer,
};
use std::ffi::{c_char, c_int, c_long, c_void};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A producer (opaque).
pub struct CProducer {
    _private: [u8; 0],
}

/// CLocalTransactionCheckerCallback: answers the broker's check of a transaction left unknown.
/// Runs on the producer's checker thread with a message valid during the call.
pub type CLocalTransactionCheckerCallback = Option<
    unsafe extern "C" fn(
        producer: *mut CProducer,
        msg: *mut CMessageExt,
        data: *mut c_void,
    ) -> c_int,
>;

#[derive(Clone, Copy)]
pub(crate) struct Checker {
    cb: CLocalTransactionCheckerCallback,
    data: UserData,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Common,
    Orderly,
    Transaction,
}

/// A started producer.
#[derive(Clone)]
pub(crate) enum Running {
    Plain(Producer),
    Tx(TransactionProducer),
}

impl Running {
    pub(crate) fn producer(&self) -> &Producer {
        match self {
            Running::Plain(p) => p,
            Running::Tx(t) => t.producer(),
        }
    }

    fn shutdown(&self) {
        match self {
            Running::Plain(p) => p.shutdown(),
            Running::Tx(t) => t.shutdown(),
        }
    }
}

struct Settings {
    opts: ProducerOptions,
    domain: String,
    trace: bool,
}

/// The object behind a `CProducer` handle.
pub(crate) struct ProducerObj {
    pub(crate) kind: Kind,
    checker: Option<Checker>,
    settings: Mutex<Settings>,
    running: Mutex<Option<Running>>,
}

handle_type!(CProducer, ProducerObj, "CProducer");

/// The running producer behind `p`; `code` (the calling send's failure code) if it is not started.
pub(crate) fn running(p: *const CProducer, code: c_int) -> Result<(Arc<ProducerObj>, Running)> {
    let obj = CProducer::get(p)?;
    let r = obj.running.lock().clone();
    match r {
        Some(r) => Ok((obj, r)),
        None => Err(Fail::new(code, "the producer is not started: call StartProducer first")),
    }
}

/// Maps a CTransactionStatus to the client's state (anything else is UNKNOWN, as Apache).
pub(crate) fn tx_state(status: c_int) -> LocalTxState {
    match status {
        E_COMMIT_TRANSACTION => LocalTxState::Commit,
        E_ROLLBACK_TRANSACTION => LocalTxState::Rollback,
        _ => LocalTxState::Unknown,
    }
}

/// Hands the broker's checks to the C checker.
struct CheckerListener {
    producer: usize,
    checker: Checker,
}

impl TransactionListener for CheckerListener {
    fn execute_local(&self, _msg: &Message) -> LocalTxState {
        // SendMessageTransaction passes its own executor; nothing sends through this path.
        LocalTxState::Unknown
    }

    fn check_local(&self, msg: &MessageExt) -> LocalTxState {
        let Some(cb) = self.checker.cb else { return LocalTxState::Unknown };
        let mut lease = Lease::new([msg.clone()]);
        let h = lease.handles()[0];
        // SAFETY: the program registered `cb` with CLocalTransactionCheckerCallback's signature;
        // the message handle stays live until `lease` drops after the call.
        let st = unsafe { cb(self.producer as *mut CProducer, h, self.checker.data.0) };
        tx_state(st)
    }
}

fn create(group: *const c_char, kind: Kind, checker: Option<Checker>) -> *mut CProducer {
    logfile::init();
    crate::boundary::value(std::ptr::null_mut(), || {
        // SAFETY: the exported functions' contract: NULL or a NUL-terminated string.
        let g = unsafe { str_arg(group, "groupId") }?;
        let mut opts = ProducerOptions::new(g, "");
        opts.config.namesrv_addr = env_namesrv();
        Ok(CProducer::into_handle(ProducerObj {
            kind,
            checker,
            settings: Mutex::new(Settings { opts, domain: String::new(), trace: false }),
            running: Mutex::new(None),
        }))
    })
}

/// Create a producer of group `groupId` (NULL: returns NULL). The caller owns it: DestroyProducer.
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CreateProducer(groupId: *const c_char) -> *mut CProducer {
    create(groupId, Kind::Common, None)
}

/// Create a producer for orderly sends (2.x). The same as CreateProducer here: any producer may
/// send orderly.
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CreateOrderlyProducer(groupId: *const c_char) -> *mut CProducer {
    create(groupId, Kind::Orderly, None)
}

/// Create a transaction producer (2.x): SendMessageTransaction sends half messages; `callback`
/// answers the broker's checks of transactions left unknown (NULL: they stay unknown).
///
/// # Safety
/// `groupId` is NULL or a NUL-terminated string; `callback` has the declared signature.
#[no_mangle]
pub unsafe extern "C" fn CreateTransactionProducer(
    groupId: *const c_char,
    callback: CLocalTransactionCheckerCallback,
    userData: *mut c_void,
) -> *mut CProducer {
    create(groupId, Kind::Transaction, Some(Checker { cb: callback, data: UserData(userData) }))
}

/// Shut the producer down if it runs, and free it. NULL or a destroyed handle: NULL_POINTER.
#[no_mangle]
pub extern "C" fn DestroyProducer(producer: *mut CProducer) -> c_int {
    c_status!(NULL_POINTER, {
        let obj = CProducer::remove(producer)?;
        let r = obj.running.lock().take();
        if let Some(r) = r {
            r.shutdown();
        }
        Ok(())
    })
}

/// Start (join the name servers, heartbeat). Starting a running producer does nothing; a shut
/// down one starts again with its current settings. Failure: PRODUCER_START_FAILED.
#[no_mangle]
pub extern "C" fn StartProducer(producer: *mut CProducer) -> c_int {
    c_status!(PRODUCER_START_FAILED, {
        let obj = CProducer::get(producer)?;
        let mut running = obj.running.lock();
        if running.is_some() {
            return Ok(());
        }
        let mut opts = obj.settings.lock().opts.clone();
        let domain = obj.settings.lock().domain.clone();
        opts.config.namesrv_addr = resolve_namesrv(&opts.config.namesrv_addr, &domain)
            .map_err(|e| Fail::new(PRODUCER_START_FAILED, e))?;
        let r = match (obj.kind, obj.checker) {
            (Kind::Transaction, Some(checker)) => {
                let l = Arc::new(CheckerListener { producer: producer as usize, checker });
                let t = TransactionProducer::new(opts, l).or_code(PRODUCER_START_FAILED)?;
                t.start().or_code(PRODUCER_START_FAILED)?;
                Running::Tx(t)
            }
            _ => {
                let p = Producer::new(opts).or_code(PRODUCER_START_FAILED)?;
                p.start().or_code(PRODUCER_START_FAILED)?;
                Running::Plain(p)
            }
        };
        *running = Some(r);
        Ok(())
    })
}

/// Stop: finishes queued async sends (their callbacks run), leaves the group. A producer that
/// is not running: OK.
#[no_mangle]
pub extern "C" fn ShutdownProducer(producer: *mut CProducer) -> c_int {
    c_status!(PRODUCER_START_FAILED, {
        let obj = CProducer::get(producer)?;
        let r = obj.running.lock().take();
        if let Some(r) = r {
            r.shutdown();
        }
        Ok(())
    })
}

/// The library's version string (static). "DefaultVersion" for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn ShowProducerVersion(producer: *mut CProducer) -> *const c_char {
    if CProducer::find(producer).is_none() {
        return c"DefaultVersion".as_ptr();
    }
    version_ptr()
}

fn configure(p: *mut CProducer, f: impl FnOnce(&mut Settings) -> Result) -> c_int {
    c_status!(PRODUCER_START_FAILED, {
        let obj = CProducer::get(p)?;
        let mut s = obj.settings.lock();
        f(&mut s)
    })
}

fn refuse(text: String) -> Fail {
    Fail::new(PRODUCER_START_FAILED, text)
}

/// Name servers, "host:9876;host2:9876".
///
/// # Safety
/// `namesrv` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetProducerNameServerAddress(
    producer: *mut CProducer,
    namesrv: *const c_char,
) -> c_int {
    configure(producer, |s| {
        // SAFETY: caller contract above.
        s.opts.config.namesrv_addr = unsafe { str_arg(namesrv, "namesrv") }?.to_string();
        Ok(())
    })
}

/// An http:// URL answering the name-server list (Apache's name server domain), fetched at start.
///
/// # Safety
/// `domain` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetProducerNameServerDomain(
    producer: *mut CProducer,
    domain: *const c_char,
) -> c_int {
    configure(producer, |s| {
        // SAFETY: caller contract above.
        s.domain = unsafe { str_arg(domain, "domain") }?.to_string();
        Ok(())
    })
}

/// The producer group.
///
/// # Safety
/// `groupName` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetProducerGroupName(
    producer: *mut CProducer,
    groupName: *const c_char,
) -> c_int {
    configure(producer, |s| {
        // SAFETY: caller contract above.
        let g = unsafe { str_arg(groupName, "groupName") }?;
        if g.is_empty() {
            return Err(refuse("the producer group is empty".into()));
        }
        s.opts.group = g.to_string();
        Ok(())
    })
}

/// The instance name (part of the client id; several clients in one process need different
/// ones). Default: the process id.
///
/// # Safety
/// `instanceName` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetProducerInstanceName(
    producer: *mut CProducer,
    instanceName: *const c_char,
) -> c_int {
    configure(producer, |s| {
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
pub unsafe extern "C" fn SetProducerSessionCredentials(
    producer: *mut CProducer,
    accessKey: *const c_char,
    secretKey: *const c_char,
    onsChannel: *const c_char,
) -> c_int {
    configure(producer, |s| {
        // SAFETY: caller contract above (for all three).
        let (a, k, c) = unsafe {
            (
                str_arg(accessKey, "accessKey")?,
                str_arg(secretKey, "secretKey")?,
                str_arg(onsChannel, "onsChannel")?,
            )
        };
        s.opts.config.credentials = Some(credentials(a, k, c));
        Ok(())
    })
}

/// Log to files in directory `logPath` (process-wide, see logfile.rs).
///
/// # Safety
/// `logPath` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetProducerLogPath(
    producer: *mut CProducer,
    logPath: *const c_char,
) -> c_int {
    configure(producer, |_| {
        // SAFETY: caller contract above.
        let p = unsafe { str_arg(logPath, "logPath") }?;
        logfile::set_dir(Path::new(p)).map_err(refuse)
    })
}

/// Keep at most `fileNum` log files of `fileSize` MB each (process-wide).
#[no_mangle]
pub extern "C" fn SetProducerLogFileNumAndSize(
    producer: *mut CProducer,
    fileNum: c_int,
    fileSize: c_long,
) -> c_int {
    configure(producer, |_| logfile::set_files(fileNum, fileSize).map_err(refuse))
}

/// Log level, a CLogLevel (process-wide).
#[no_mangle]
pub extern "C" fn SetProducerLogLevel(producer: *mut CProducer, level: c_int) -> c_int {
    configure(producer, |_| {
        logfile::set_level(level);
        Ok(())
    })
}

/// Timeout of one send in milliseconds (default 3000).
#[no_mangle]
pub extern "C" fn SetProducerSendMsgTimeout(producer: *mut CProducer, timeout: c_int) -> c_int {
    configure(producer, |s| {
        if timeout <= 0 {
            return Err(refuse(format!("send timeout {timeout} ms must be positive")));
        }
        s.opts.send_timeout = Duration::from_millis(timeout as u64);
        Ok(())
    })
}

/// zlib level of compressed bodies, 0..=9, or -1 for zlib's default (6). Default 5.
#[no_mangle]
pub extern "C" fn SetProducerCompressLevel(producer: *mut CProducer, level: c_int) -> c_int {
    configure(producer, |s| {
        s.opts.compress_level = match level {
            -1 => 6,
            0..=9 => level as u32,
            _ => return Err(refuse(format!("compress level {level} is not in -1..=9"))),
        };
        Ok(())
    })
}

/// Bodies of at least this many bytes are compressed (default 4096).
#[no_mangle]
pub extern "C" fn SetProducerCompressMsgBodyOverHowmuch(
    producer: *mut CProducer,
    howmuch: c_int,
) -> c_int {
    configure(producer, |s| {
        if howmuch < 0 {
            return Err(refuse(format!("compression threshold {howmuch} is negative")));
        }
        s.opts.compress_threshold = howmuch as usize;
        Ok(())
    })
}

/// Largest body accepted, in bytes (default 4 MiB).
#[no_mangle]
pub extern "C" fn SetProducerMaxMessageSize(producer: *mut CProducer, size: c_int) -> c_int {
    configure(producer, |s| {
        if size <= 0 {
            return Err(refuse(format!("max message size {size} must be positive")));
        }
        s.opts.max_message_size = size as usize;
        Ok(())
    })
}

/// Message trace switch (2.x): accepted and stored; rmq's client sends no trace messages.
#[no_mangle]
pub extern "C" fn SetProducerMessageTrace(producer: *mut CProducer, openTrace: c_int) -> c_int {
    configure(producer, |s| {
        s.trace = openTrace == 0; // CTraceModel: OPEN = 0, CLOSE = 1
        Ok(())
    })
}
