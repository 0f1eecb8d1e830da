//! The panic boundary every exported function runs in, and the per-thread last error
//! (STYLE.md "FFI boundary" 2 and 3; rustls-ffi's panic.rs and error.rs have the same shape).

use crate::status::{rmq_status, FfiResult};
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// Text of the last failed call on this thread (NUL-free; "" when none failed yet).
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remember `text` as this thread's last error.
pub(crate) fn set_last_error(text: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        // A NUL inside the text would cut it short in C; replace it.
        e.extend(text.chars().map(|c| if c == '\0' { '?' } else { c }));
    });
}

/// Run an exported function's body: panics become `RMQ_STATUS_PANIC`, failures set the last error.
pub(crate) fn status_boundary(body: impl FnOnce() -> FfiResult) -> rmq_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => rmq_status::Ok,
        Ok(Err(fail)) => {
            set_last_error(&fail.text);
            fail.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            set_last_error(&format!("bug: librmq panicked: {what}"));
            rmq_status::Panic
        }
    }
}

/// `ffi_status! { ...; Ok(()) }`: the body of an exported function returning `rmq_status`.
/// The body is a `FfiResult<()>` block, so `?` works inside it.
macro_rules! ffi_status {
    ($($body:tt)*) => {
        $crate::boundary::status_boundary(move || -> $crate::status::FfiResult { $($body)* })
    };
}

/// Copy this thread's last error text into `buf` (capacity `len` bytes, NUL included).
///
/// Writes at most `len - 1` bytes and a terminating NUL, and stores in `*written` (if not NULL)
/// the full length of the text without its NUL, so a caller can detect truncation and retry with
/// a larger buffer. Returns `RMQ_STATUS_BUFFER_TOO_SMALL` when the text was cut (the truncated
/// text and `*written` are still written), `RMQ_STATUS_NULL_POINTER` if `buf` is NULL or `len` is 0.
/// The text is that of the most recent failed rmq_ call on the calling thread ("" if none);
/// successful calls do not clear it, and this function never changes it.
///
/// # Safety
/// `buf` must point to `len` writable bytes; `written` must be NULL or point to a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn rmq_last_error(
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> rmq_status {
    if buf.is_null() || len == 0 {
        return rmq_status::NullPointer;
    }
    let fit = LAST_ERROR.with(|e| {
        let e = e.borrow();
        let n = e.len().min(len - 1);
        // SAFETY: the caller guarantees `buf` has `len` writable bytes and n + 1 <= len; the source
        // is our own String, which cannot overlap the caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(e.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
        if !written.is_null() {
            // SAFETY: non-NULL `written` points to a size_t by the caller's contract.
            unsafe { *written = e.len() };
        }
        n == e.len()
    });
    if fit {
        rmq_status::Ok
    } else {
        rmq_status::BufferTooSmall
    }
}

/// The library version, for example "0.1.0". Static string: never free it.
#[no_mangle]
pub extern "C" fn rmq_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

thread_local! {
    /// Handle id whose callback this thread is running (0 none): shutdown or destroy of that handle
    /// from inside its own callback would wait for itself, so it is refused.
    static IN_CALLBACK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks the current thread as running a callback of handle `id` while it lives.
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

/// Refuse a blocking lifecycle call made from inside a callback of the same handle.
pub(crate) fn not_in_own_callback(id: usize, what: &str) -> FfiResult {
    if id != 0 && IN_CALLBACK.with(|c| c.get()) == id {
        return Err(crate::status::Fail::state(format!(
            "{what} called from inside one of the handle's own callbacks; call it from another thread"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Fail;

    fn last() -> String {
        let mut buf = [0 as c_char; 128];
        let mut n = 0usize;
        // SAFETY: a 128-byte buffer and a valid size_t.
        unsafe { rmq_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        // SAFETY: rmq_last_error NUL-terminates within the buffer.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn panics_become_a_status_and_failures_set_the_last_error() {
        let st = status_boundary(|| panic!("boom"));
        assert_eq!(st, rmq_status::Panic);
        assert!(last().contains("boom"), "{}", last());
        let st = status_boundary(|| Err(Fail::arg("bad thing")));
        assert_eq!(st, rmq_status::InvalidArgument);
        assert_eq!(last(), "bad thing");
        assert_eq!(status_boundary(|| Ok(())), rmq_status::Ok);
        assert_eq!(last(), "bad thing", "success leaves the last error alone");
        // Per thread: another thread has its own.
        std::thread::spawn(|| assert_eq!(last(), "")).join().unwrap();
    }
}
