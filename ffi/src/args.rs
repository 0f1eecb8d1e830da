//! Checked reads of C arguments: NULL becomes `RMQ_STATUS_NULL_POINTER`, bad UTF-8
//! `RMQ_STATUS_INVALID_UTF8`, an impossible length `RMQ_STATUS_INVALID_ARGUMENT`. Outputs are
//! checked before any work so that they can be written only on success.

use crate::status::{rmq_status, Fail, FfiResult};
use std::ffi::{c_char, c_void, CStr, CString};

/// Largest body accepted over the ABI: the protocol's 16 MiB frame cap. A larger length is surely a
/// caller bug (a length past the buffer), rejected before any byte is read.
pub const RMQ_MAX_BODY_SIZE: usize = 16 * 1024 * 1024;

/// A NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Fail::new(
            rmq_status::InvalidUtf8,
            format!("{what} is not valid UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

/// The arguments of every `*_set_session_credentials`: access key and secret key (both
/// NUL-terminated UTF-8, not empty) and an optional channel (NULL or empty: none sent).
///
/// # Safety
/// Each pointer is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn credentials_args(
    access_key: *const c_char,
    secret_key: *const c_char,
    channel: *const c_char,
) -> FfiResult<rmq::client::Credentials> {
    // SAFETY: caller contract above.
    let ak = unsafe { str_arg(access_key, "access_key") }?;
    // SAFETY: caller contract above.
    let sk = unsafe { str_arg(secret_key, "secret_key") }?;
    if ak.is_empty() || sk.is_empty() {
        return Err(Fail::arg("access_key and secret_key must not be empty"));
    }
    let mut c = rmq::client::Credentials::new(ak, sk);
    if !channel.is_null() {
        // SAFETY: caller contract above.
        let ch = unsafe { str_arg(channel, "channel") }?;
        c.channel = (!ch.is_empty()).then(|| ch.to_string());
    }
    Ok(c)
}

/// The `(group, namesrv_addr)` pair every client constructor takes: both NUL-terminated UTF-8,
/// the group not empty.
///
/// # Safety
/// Each pointer is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn group_and_namesrv<'a>(
    group: *const c_char,
    namesrv_addr: *const c_char,
) -> FfiResult<(&'a str, &'a str)> {
    // SAFETY: the caller's contract, passed on.
    let g = unsafe { str_arg(group, "group") }?;
    // SAFETY: the caller's contract, passed on.
    let ns = unsafe { str_arg(namesrv_addr, "namesrv_addr") }?;
    if g.is_empty() {
        return Err(Fail::arg("group is empty"));
    }
    Ok((g, ns))
}

/// A `(pointer, length)` byte argument. NULL is allowed only with length 0.
///
/// # Safety
/// `p` points to `len` readable bytes (or is anything when `len` is 0), valid for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(p: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Fail::null(what));
    }
    if len > RMQ_MAX_BODY_SIZE {
        return Err(Fail::arg(format!(
            "{what} length {len} is over the {RMQ_MAX_BODY_SIZE}-byte limit (a length past the buffer?)"
        )));
    }
    // SAFETY: non-NULL, `len` readable bytes by the caller's contract, len <= 16 MiB < isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Check an output pointer before doing the work.
pub(crate) fn out_arg<T>(p: *mut T, what: &str) -> FfiResult<*mut T> {
    if p.is_null() {
        Err(Fail::null(what))
    } else {
        Ok(p)
    }
}

/// Write an output (after `out_arg` checked it).
///
/// # Safety
/// `p` is non-NULL, aligned and writable for a `T`.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T) {
    // SAFETY: by this function's contract.
    unsafe { p.write(v) }
}

/// A string for C, with interior NULs replaced (peer data may contain them).
pub(crate) fn c_string(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "?")).expect("invariant: NULs were replaced"),
    }
}

/// Copy `s` into a fixed `char` array, truncated to fit and NUL-terminated.
pub(crate) fn copy_fixed(dst: &mut [c_char], s: &str) {
    let n = s.len().min(dst.len().saturating_sub(1));
    for (d, b) in dst.iter_mut().zip(s.as_bytes()[..n].iter()) {
        *d = *b as c_char;
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}

/// The Rust view of a fixed `char` array: bytes up to the first NUL, as UTF-8.
pub(crate) fn fixed_str<'a>(src: &'a [c_char], what: &str) -> FfiResult<&'a str> {
    let n = src
        .iter()
        .position(|c| *c == 0)
        .ok_or_else(|| Fail::arg(format!("{what} is not NUL-terminated")))?;
    // SAFETY: c_char and u8 have the same size and alignment; the slice stays within `src`.
    let bytes = unsafe { std::slice::from_raw_parts(src.as_ptr().cast::<u8>(), n) };
    std::str::from_utf8(bytes)
        .map_err(|_| Fail::new(rmq_status::InvalidUtf8, format!("{what} is not valid UTF-8")))
}

/// A caller's `void *userdata`, handed back to its callbacks on other threads.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: librmq never dereferences userdata; it only passes it back to the caller's callbacks. The
// header documents that callbacks run on librmq's threads, so the caller vouches that whatever
// userdata points to may be used there.
unsafe impl Send for UserData {}
// SAFETY: as above; librmq only copies the pointer value.
unsafe impl Sync for UserData {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_strings_truncate_and_round_trip() {
        let mut buf = [1 as c_char; 8];
        copy_fixed(&mut buf, "abcdefghij");
        assert_eq!(fixed_str(&buf, "x").unwrap(), "abcdefg");
        copy_fixed(&mut buf, "ab");
        assert_eq!(fixed_str(&buf, "x").unwrap(), "ab");
        let unterminated = [b'a' as c_char; 4];
        assert_eq!(fixed_str(&unterminated, "x").unwrap_err().status, rmq_status::InvalidArgument);
    }

    #[test]
    fn arguments_are_checked() {
        // SAFETY: NULL and a static NUL-terminated string.
        unsafe {
            assert_eq!(str_arg(std::ptr::null(), "t").unwrap_err().status, rmq_status::NullPointer);
            assert_eq!(str_arg(c"\xff".as_ptr(), "t").unwrap_err().status, rmq_status::InvalidUtf8);
            assert_eq!(str_arg(c"ok".as_ptr(), "t").unwrap(), "ok");
        }
        let b = [1u8, 2, 3];
        // SAFETY: lengths at most the buffer's, or rejected before any read.
        unsafe {
            assert_eq!(bytes_arg(b.as_ptr(), 3, "b").unwrap(), &b);
            assert_eq!(bytes_arg(std::ptr::null(), 0, "b").unwrap(), &[] as &[u8]);
            assert_eq!(
                bytes_arg(std::ptr::null(), 1, "b").unwrap_err().status,
                rmq_status::NullPointer
            );
            assert_eq!(
                bytes_arg(b.as_ptr(), usize::MAX, "b").unwrap_err().status,
                rmq_status::InvalidArgument
            );
        }
        assert_eq!(c_string("a\0b").as_bytes(), b"a?b");
    }
}
