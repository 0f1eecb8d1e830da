//! Checked reads of C arguments. A NULL pointer or invalid UTF-8 becomes NULL_POINTER (Apache's
//! only argument error code) with a text saying which argument.

use crate::status::{Fail, Result, NULL_POINTER};
use std::ffi::{c_char, c_void, CStr, CString};

/// Largest body accepted from C: the protocol's 16 MiB frame cap. A larger length is surely a
/// caller bug (a length past the buffer) and is refused before any byte is read.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// A NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Fail::new(NULL_POINTER, format!("{what} is not valid UTF-8 (byte {})", e.valid_up_to()))
    })
}

/// A NUL-terminated byte string (a body given without a length).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn cstr_bytes<'a>(p: *const c_char, what: &str) -> Result<&'a [u8]> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A `(pointer, int length)` byte argument; NULL is allowed only with length 0.
///
/// # Safety
/// `p` points to `len` readable bytes (or anything when `len` is 0), valid for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(p: *const c_char, len: i32, what: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if len < 0 {
        return Err(Fail::new(NULL_POINTER, format!("{what} length {len} is negative")));
    }
    let len = len as usize;
    if len > MAX_BODY {
        return Err(Fail::new(
            NULL_POINTER,
            format!(
                "{what} length {len} is over the {MAX_BODY}-byte limit (a length past the buffer?)"
            ),
        ));
    }
    if p.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL, `len` readable bytes by the caller's contract, len <= 16 MiB < isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// A string for C, with interior NULs replaced (peer data may contain them).
pub(crate) fn c_string(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "?")).expect("invariant: NULs were replaced"),
    }
}

/// Copy `s` into a fixed `char` array, cut to fit (at a byte, as Apache's strncpy) and
/// NUL-terminated; the rest of the array is zeroed.
pub(crate) fn copy_fixed(dst: &mut [c_char], s: &str) {
    let n = s.len().min(dst.len().saturating_sub(1));
    for (i, d) in dst.iter_mut().enumerate() {
        *d = if i < n { s.as_bytes()[i] as c_char } else { 0 };
    }
}

/// The Rust view of a fixed `char` array: bytes up to the first NUL, as UTF-8.
pub(crate) fn fixed_str<'a>(src: &'a [c_char], what: &str) -> Result<&'a str> {
    let n = src
        .iter()
        .position(|c| *c == 0)
        .ok_or_else(|| Fail::new(NULL_POINTER, format!("{what} is not NUL-terminated")))?;
    // SAFETY: c_char and u8 have the same size and alignment; the slice stays within `src`.
    let bytes = unsafe { std::slice::from_raw_parts(src.as_ptr().cast::<u8>(), n) };
    std::str::from_utf8(bytes)
        .map_err(|_| Fail::new(NULL_POINTER, format!("{what} is not valid UTF-8")))
}

/// A caller's `void *` (selector argument, callback user data), handed back to its callbacks.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the library never dereferences user data; it only passes the pointer value back to the
// caller's own callbacks, on the threads the header documents, so the caller vouches for it.
unsafe impl Send for UserData {}
// SAFETY: as above; only the pointer value is copied.
unsafe impl Sync for UserData {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_strings_cut_and_round_trip() {
        let mut buf = [1 as c_char; 8];
        copy_fixed(&mut buf, "abcdefghij");
        assert_eq!(fixed_str(&buf, "x").unwrap(), "abcdefg");
        copy_fixed(&mut buf, "ab");
        assert_eq!(fixed_str(&buf, "x").unwrap(), "ab");
        assert!(buf[2..].iter().all(|c| *c == 0));
        assert_eq!(fixed_str(&[b'a' as c_char; 4], "x").unwrap_err().code, NULL_POINTER);
    }

    #[test]
    fn arguments_are_checked() {
        // SAFETY: NULL, static NUL-terminated strings, and lengths within the buffer or refused
        // before any read.
        unsafe {
            assert_eq!(str_arg(std::ptr::null(), "t").unwrap_err().code, NULL_POINTER);
            assert!(str_arg(c"\xff".as_ptr(), "t").is_err());
            assert_eq!(str_arg(c"ok".as_ptr(), "t").unwrap(), "ok");
            let b = c"abc";
            assert_eq!(bytes_arg(b.as_ptr(), 3, "b").unwrap(), b"abc");
            assert!(bytes_arg(b.as_ptr(), -1, "b").is_err());
            assert!(bytes_arg(std::ptr::null(), 1, "b").is_err());
            assert!(bytes_arg(b.as_ptr(), i32::MAX, "b").is_err());
        }
        assert_eq!(c_string("a\0b").as_bytes(), b"a?b");
    }
}
