//! Forwarding of librmq's log records to the application (STYLE.md "FFI logging"): silent by
//! default, no log files of its own.

use crate::args::{c_string, UserData};
use crate::status::rmq_status;
use parking_lot::RwLock;
use std::ffi::{c_char, c_void};
use std::sync::Once;

/// Receives one log record: `level` is 1 error, 2 warn, 3 info, 4 debug, 5 trace; `target` is the
/// Rust module ("rmq::client::producer"); `message` is the text. Both strings are valid only during
/// the call. Runs on whichever thread logged, librmq's or the caller's, possibly several at once.
pub type rmq_log_callback = Option<
    unsafe extern "C" fn(
        level: u32,
        target: *const c_char,
        message: *const c_char,
        userdata: *mut c_void,
    ),
>;

struct Sink {
    cb: rmq_log_callback,
    userdata: UserData,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALL: Once = Once::new();

struct Forward;

impl log::Log for Forward {
    fn enabled(&self, _: &log::Metadata) -> bool {
        SINK.read().is_some()
    }
    fn log(&self, record: &log::Record) {
        let sink = SINK.read();
        if let Some(Sink { cb: Some(cb), userdata }) = &*sink {
            let target = c_string(record.target());
            let text = c_string(&record.args().to_string());
            // SAFETY: the application registered `cb` with this signature; the strings live across
            // the call.
            unsafe { cb(record.level() as u32, target.as_ptr(), text.as_ptr(), userdata.0) };
        }
    }
    fn flush(&self) {}
}

/// Send librmq's log records at `max_level` (1 error .. 5 trace; 0 turns logging off) and more
/// severe to `cb`. Pass a NULL `cb` to stop. Process-wide; if the process already installed another
/// Rust logger, records go there instead and this returns RMQ_STATUS_ILLEGAL_STATE.
#[no_mangle]
pub extern "C" fn rmq_set_log_callback(
    cb: rmq_log_callback,
    max_level: u32,
    userdata: *mut c_void,
) -> rmq_status {
    ffi_status! {
        let mut installed = true;
        INSTALL.call_once(|| installed = log::set_logger(&Forward).is_ok());
        if !installed {
            return Err(crate::status::Fail::state("another logger is already installed in this process"));
        }
        let level = match max_level {
            0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        };
        *SINK.write() = cb.map(|cb| Sink { cb: Some(cb), userdata: UserData(userdata) });
        log::set_max_level(if cb.is_some() { level } else { log::LevelFilter::Off });
        Ok(())
    }
}
