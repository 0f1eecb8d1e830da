//! The panic boundary every exported function runs in, and GetLatestErrorMessage's per-thread
//! text (Apache's MQClientErrorContainer is a thread_local std::string too).

use crate::status::{Fail, Result};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// Text of the last failed call on this thread ("" before any failure).
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// Handle whose callback this thread is running (0: none); see [`CallbackScope`].
    static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

/// Remember `text` as this thread's last error (interior NULs become '?').
pub(crate) fn set_last_error(text: &str) {
    let c = crate::args::c_string(text);
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("bug: librocketmq panicked: {what}")
}

/// Run the body of a function returning a status: OK, or the failure's code with its text set as
/// the last error. A panic returns `on_panic`.
pub(crate) fn status(on_panic: c_int, body: impl FnOnce() -> Result) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => crate::status::OK,
        Ok(Err(f)) => {
            log::debug!("call failed code={} err={}", f.code, f.text);
            set_last_error(&f.text);
            f.code
        }
        Err(p) => {
            let text = panic_text(p);
            log::error!("{text}");
            set_last_error(&text);
            on_panic
        }
    }
}

/// Run the body of a function returning a value: the value, or `default` on failure or panic
/// (the text becomes the last error).
pub(crate) fn value<T>(default: T, body: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(f)) => {
            set_last_error(&f.text);
            default
        }
        Err(p) => {
            let text = panic_text(p);
            log::error!("{text}");
            set_last_error(&text);
            default
        }
    }
}

/// `c_status!(FAIL_CODE, { ...; Ok(()) })`: the body of a function returning a CStatus; `?` works
/// inside, and a panic returns FAIL_CODE.
macro_rules! c_status {
    ($on_panic:expr, $body:block) => {
        $crate::boundary::status($on_panic, move || -> $crate::status::Result { $body })
    };
}

/// Marks the current thread as running a callback of handle `id` while it lives, so that a
/// blocking lifecycle call on that handle from inside the callback is refused instead of waiting
/// for itself.
pub(crate) struct CallbackScope(usize);

impl CallbackScope {
    pub(crate) fn enter(id: usize) -> CallbackScope {
        CallbackScope(IN_CALLBACK.with(|c| c.replace(id)))
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        IN_CALLBACK.with(|c| c.set(self.0));
    }
}

/// Refuse (with `code`) a blocking lifecycle call made from inside a callback of handle `id`.
pub(crate) fn not_in_own_callback(id: usize, what: &str, code: c_int) -> Result {
    if id != 0 && IN_CALLBACK.with(|c| c.get()) == id {
        return Err(Fail::new(
            code,
            format!(
                "{what} called from inside the handle's own callback; call it from another thread"
            ),
        ));
    }
    Ok(())
}

/// The text of the last failed call on the calling thread, "" if none failed yet. The string
/// belongs to the library and stays valid until the next failing call on this thread.
#[no_mangle]
pub extern "C" fn GetLatestErrorMessage() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: GetLatestErrorMessage returns a NUL-terminated string owned by this thread.
        unsafe { CStr::from_ptr(GetLatestErrorMessage()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn failures_and_panics_set_the_per_thread_text() {
        assert_eq!(last(), "");
        assert_eq!(status(11, || Err(Fail::new(13, "no route"))), 13);
        assert_eq!(last(), "no route");
        assert_eq!(status(11, || panic!("boom")), 11);
        assert!(last().contains("boom"), "{}", last());
        assert_eq!(status(11, || Ok(())), 0);
        assert!(last().contains("boom"), "success leaves the text alone");
        assert_eq!(value(7, || Err(Fail::null("msg"))), 7);
        assert_eq!(last(), "msg is NULL");
        std::thread::spawn(|| assert_eq!(last(), "")).join().unwrap();
    }
}
