//! `rmq_transaction_producer`: transactional messages (Apache's TransactionMQProducer). A send
//! stores a half message consumers do not see, runs the caller's local transaction callback, and
//! commits, rolls back or leaves the message for the broker's check-back according to its result.
//! The check callback answers the broker's later questions about undecided transactions.

use crate::args::{credentials_args, group_and_namesrv, out_arg, str_arg, write_out, UserData};
use crate::boundary::{not_in_own_callback, CallbackScope};
use crate::handle::Handle;
use crate::message::rmq_message;
use crate::producer::rmq_send_result;
use crate::received::{rmq_message_ext, Lease};
use crate::status::{rmq_status, Fail, FfiResult};
use parking_lot::Mutex;
use rmq::client::{
    LocalTxState, Message, MessageExt, ProducerOptions, TransactionListener, TransactionProducer,
};
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// A transaction producer (opaque). The caller owns it: create with
/// rmq_transaction_producer_new, free with rmq_transaction_producer_destroy. Once started, any
/// number of threads may send through it at once.
pub struct rmq_transaction_producer {
    _private: [u8; 0],
}

/// The outcome of a local transaction, returned (as uint32_t) by the execute and check callbacks.
/// Any other value counts as RMQ_LOCAL_TX_STATE_UNKNOWN.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rmq_local_tx_state {
    /// Commit: the message becomes visible to consumers.
    Commit = 0,
    /// Roll back: the message is dropped.
    Rollback = 1,
    /// Not known yet: the broker asks the check callback later.
    Unknown = 2,
}

impl rmq_local_tx_state {
    fn from_u32(v: u32) -> LocalTxState {
        match v {
            0 => LocalTxState::Commit,
            1 => LocalTxState::Rollback,
            _ => LocalTxState::Unknown,
        }
    }
    fn from_state(s: LocalTxState) -> rmq_local_tx_state {
        match s {
            LocalTxState::Commit => rmq_local_tx_state::Commit,
            LocalTxState::Rollback => rmq_local_tx_state::Rollback,
            LocalTxState::Unknown => rmq_local_tx_state::Unknown,
        }
    }
}

/// The local transaction of rmq_transaction_producer_send: runs on the calling thread after the
/// half message was stored, before the send returns. `msg` is the caller's message handle (read
/// it with the rmq_message_get_* functions), `transaction_id` the transaction's id (the message
/// id the broker's checks will carry), valid during the call. Returns an rmq_local_tx_state.
pub type rmq_transaction_execute_callback = Option<
    unsafe extern "C" fn(
        msg: *const rmq_message,
        transaction_id: *const c_char,
        arg: *mut c_void,
    ) -> u32,
>;

/// Answers the broker's check of an undecided transaction: runs on the producer's checker thread
/// (a librmq thread, one check at a time) with the half message (valid until the callback
/// returns; its msg_id is the transaction id) and the userdata given to
/// rmq_transaction_producer_new. Returns an rmq_local_tx_state. It must not call
/// rmq_transaction_producer_shutdown or _destroy on its own producer (they return
/// RMQ_STATUS_ILLEGAL_STATE there). Once rmq_transaction_producer_shutdown has returned it is not
/// called again.
pub type rmq_transaction_check_callback =
    Option<unsafe extern "C" fn(msg: *const rmq_message_ext, userdata: *mut c_void) -> u32>;

/// The C check callback as a TransactionListener.
struct CListener {
    check: unsafe extern "C" fn(*const rmq_message_ext, *mut c_void) -> u32,
    userdata: UserData,
    handle: usize,
}

impl TransactionListener for CListener {
    fn execute_local(&self, _msg: &Message) -> LocalTxState {
        // Sends always pass their own execute callback.
        LocalTxState::Unknown
    }
    fn check_local(&self, msg: &MessageExt) -> LocalTxState {
        let lease = Lease::new([msg.clone()]);
        let _scope = CallbackScope::enter(self.handle);
        let Some(&h) = lease.handles().first() else { return LocalTxState::Unknown };
        let r = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the application registered `check` with this signature; the handle stays
            // valid until `lease` drops after the call.
            unsafe { (self.check)(h, self.userdata.0) }
        }));
        r.map(rmq_local_tx_state::from_u32).unwrap_or(LocalTxState::Unknown)
    }
}

enum State {
    Configuring(Box<ProducerOptions>),
    Running(TransactionProducer),
    Closed,
}

/// The object behind an `rmq_transaction_producer` handle.
pub(crate) struct TxObj {
    state: Mutex<State>,
    check: unsafe extern "C" fn(*const rmq_message_ext, *mut c_void) -> u32,
    userdata: UserData,
}

handle_type!(rmq_transaction_producer, TxObj, "rmq_transaction_producer");

fn configure(
    p: *mut rmq_transaction_producer,
    f: impl FnOnce(&mut ProducerOptions) -> FfiResult,
) -> FfiResult {
    let obj = rmq_transaction_producer::get(p)?;
    let mut state = obj.state.lock();
    match &mut *state {
        State::Configuring(opts) => f(opts),
        _ => Err(Fail::state(
            "transaction producer settings can only change before rmq_transaction_producer_start",
        )),
    }
}

fn running(p: *const rmq_transaction_producer) -> FfiResult<TransactionProducer> {
    let obj = rmq_transaction_producer::get(p)?;
    let state = obj.state.lock();
    match &*state {
        State::Running(prod) => Ok(prod.clone()),
        State::Configuring(_) => Err(Fail::new(
            rmq_status::NotStarted,
            "transaction producer not started: call rmq_transaction_producer_start",
        )),
        State::Closed => Err(Fail::new(rmq_status::Shutdown, "transaction producer was shut down")),
    }
}

/// Create a transaction producer of `group` using the name servers `namesrv_addr` ("host:port",
/// several separated by ';'). `check` (required) answers the broker's checks, receiving
/// `userdata`; see rmq_transaction_check_callback. `*out` receives a handle the caller owns and
/// frees with rmq_transaction_producer_destroy.
///
/// # Safety
/// `group` and `namesrv_addr` are NULL or NUL-terminated strings; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_transaction_producer_new(
    group: *const c_char,
    namesrv_addr: *const c_char,
    check: rmq_transaction_check_callback,
    userdata: *mut c_void,
    out: *mut *mut rmq_transaction_producer,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        // SAFETY: caller contract above.
        let (group, ns) = unsafe { group_and_namesrv(group, namesrv_addr) }?;
        let check = check.ok_or_else(|| Fail::null("check"))?;
        let h = rmq_transaction_producer::into_handle(TxObj {
            state: Mutex::new(State::Configuring(Box::new(ProducerOptions::new(group, ns)))),
            check,
            userdata: UserData(userdata),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Set the instance name (distinguishes several clients in one process). Before start only.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_transaction_producer_set_instance_name(
    p: *mut rmq_transaction_producer,
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
pub unsafe extern "C" fn rmq_transaction_producer_set_session_credentials(
    p: *mut rmq_transaction_producer,
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
pub extern "C" fn rmq_transaction_producer_set_send_timeout_ms(
    p: *mut rmq_transaction_producer,
    ms: u32,
) -> rmq_status {
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

/// Set the heartbeat interval in milliseconds (default 30000; must be > 0): how soon a broker
/// learns this producer can answer checks. Before start.
#[no_mangle]
pub extern "C" fn rmq_transaction_producer_set_heartbeat_interval_ms(
    p: *mut rmq_transaction_producer,
    ms: u32,
) -> rmq_status {
    ffi_status! {
        if ms == 0 {
            return Err(Fail::arg("heartbeat interval must be > 0 ms"));
        }
        configure(p, |o| {
            o.config.heartbeat_interval = Duration::from_millis(ms.into());
            Ok(())
        })
    }
}

/// Start: connect to the name servers and start the checker thread. Returns
/// RMQ_STATUS_ILLEGAL_STATE if it was started already or shut down.
#[no_mangle]
pub extern "C" fn rmq_transaction_producer_start(p: *mut rmq_transaction_producer) -> rmq_status {
    ffi_status! {
        let obj = rmq_transaction_producer::get(p)?;
        let mut state = obj.state.lock();
        let opts = match &*state {
            State::Configuring(o) => (**o).clone(),
            State::Running(_) => return Err(Fail::state("transaction producer already started")),
            State::Closed => {
                return Err(Fail::new(rmq_status::Shutdown, "transaction producer was shut down"))
            }
        };
        let listener = Arc::new(CListener { check: obj.check, userdata: obj.userdata, handle: p as usize });
        let prod = TransactionProducer::new(opts, listener)?;
        prod.start()?;
        *state = State::Running(prod);
        Ok(())
    }
}

fn shutdown(obj: &TxObj) {
    let old = std::mem::replace(&mut *obj.state.lock(), State::Closed);
    if let State::Running(prod) = old {
        prod.shutdown();
    }
}

/// Stop: finish the running check, unregister, close connections. Idempotent; sends afterwards
/// return RMQ_STATUS_SHUTDOWN. Not allowed inside this producer's own check callback.
#[no_mangle]
pub extern "C" fn rmq_transaction_producer_shutdown(
    p: *mut rmq_transaction_producer,
) -> rmq_status {
    ffi_status! {
        not_in_own_callback(p as usize, "rmq_transaction_producer_shutdown")?;
        let obj = rmq_transaction_producer::get(p)?;
        shutdown(&obj);
        Ok(())
    }
}

/// Shut down (if running) and free. NULL is accepted (no-op). Not allowed inside this producer's
/// own check callback (RMQ_STATUS_ILLEGAL_STATE, handle left alive).
#[no_mangle]
pub extern "C" fn rmq_transaction_producer_destroy(p: *mut rmq_transaction_producer) -> rmq_status {
    ffi_status! {
        if p.is_null() {
            return Ok(());
        }
        not_in_own_callback(p as usize, "rmq_transaction_producer_destroy")?;
        let obj = rmq_transaction_producer::remove(p)?;
        shutdown(&obj);
        Ok(())
    }
}

/// Send `msg` in a transaction: store it as a half message, run `execute` (required) on this
/// thread with `arg`, then commit, roll back or leave it to the check according to the result.
/// On success `*result` (caller-owned) describes the half message and, when `state` is not NULL,
/// `*state` receives the outcome sent to the broker (an rmq_local_tx_state). A failure to send
/// the half returns an error status and `execute` is not called; a lost commit or rollback is
/// not an error (the broker's check settles it). The message is copied.
///
/// # Safety
/// `result` is NULL or writable; `state` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_transaction_producer_send(
    p: *mut rmq_transaction_producer,
    msg: *const rmq_message,
    execute: rmq_transaction_execute_callback,
    arg: *mut c_void,
    result: *mut rmq_send_result,
    state: *mut u32,
) -> rmq_status {
    ffi_status! {
        let result = out_arg(result, "result")?;
        let execute = execute.ok_or_else(|| Fail::null("execute"))?;
        let prod = running(p)?;
        let m = rmq_message::get(msg)?.snapshot();
        let mut run = |sent: &Message| -> LocalTxState {
            let id = CString::new(sent.property("UNIQ_KEY").unwrap_or("")).unwrap_or_default();
            let r = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: the application's callback with this signature; `id` lives across the
                // call and `msg` is the caller's own handle.
                unsafe { execute(msg, id.as_ptr(), arg) }
            }));
            r.map(rmq_local_tx_state::from_u32).unwrap_or(LocalTxState::Unknown)
        };
        let (r, s) = prod.send_in_transaction_with(&m, &mut run)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(result, rmq_send_result::from_result(&r)) };
        if !state.is_null() {
            // SAFETY: non-NULL and writable by the caller's contract.
            unsafe { write_out(state, rmq_local_tx_state::from_state(s) as u32) };
        }
        Ok(())
    }
}
