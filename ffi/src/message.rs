//! `rmq_message`: a message being built for sending. The caller owns it from rmq_message_new to
//! rmq_message_destroy; sending copies what it needs, so a message can be destroyed or reused
//! right after any send call returns (async sends included).

use crate::args::{bytes_arg, c_string, out_arg, str_arg, write_out};
use crate::handle::Handle;
use crate::status::{rmq_status, Fail, FfiResult};
use parking_lot::Mutex;
use rmq::client::Message;
use std::collections::HashMap;
use std::ffi::{c_char, CString};

/// A message to send (opaque). The caller owns it: create with rmq_message_new, free with
/// rmq_message_destroy. Sends copy it, so it may be reused or destroyed as soon as a send call
/// returns. It may be used from any thread.
pub struct rmq_message {
    _private: [u8; 0],
}

/// The object behind an `rmq_message` handle.
pub(crate) struct Draft {
    inner: Mutex<DraftInner>,
}

struct DraftInner {
    msg: Message,
    /// NUL-terminated copies handed out by getters, by field ("topic", "tags", "keys", "p:<key>");
    /// a setter drops the copy of its field, which is when the getter's pointer stops being valid.
    cache: HashMap<String, CString>,
}

handle_type!(rmq_message, Draft, "rmq_message");

impl Draft {
    /// A copy of the message as it is now.
    pub(crate) fn snapshot(&self) -> Message {
        self.inner.lock().msg.clone()
    }
    /// Run `f` on the message without copying it (the handle's lock is held: `f` must not call
    /// back into C).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Message) -> R) -> R {
        f(&self.inner.lock().msg)
    }
}

fn edit(msg: *mut rmq_message, field: &str, f: impl FnOnce(&mut Message)) -> FfiResult {
    let d = rmq_message::get(msg)?;
    let mut inner = d.inner.lock();
    f(&mut inner.msg);
    inner.cache.remove(field);
    Ok(())
}

/// Fetch a string field as a cached C string; `None` from `get` means the field is absent.
fn read_str(
    msg: *const rmq_message,
    field: &str,
    out: *mut *const c_char,
    get: impl FnOnce(&Message) -> Option<String>,
) -> FfiResult {
    let out = out_arg(out, "output pointer")?;
    let d = rmq_message::get(msg)?;
    let mut inner = d.inner.lock();
    let ptr = match inner.cache.get(field) {
        Some(c) => c.as_ptr(),
        None => {
            let value = get(&inner.msg).ok_or_else(|| {
                Fail::new(rmq_status::NotFound, format!("the message has no {field}"))
            })?;
            let c = c_string(&value);
            let p = c.as_ptr();
            inner.cache.insert(field.to_string(), c);
            p
        }
    };
    // SAFETY: `out` was checked non-NULL; the caller passes a writable `const char *`.
    unsafe { write_out(out, ptr) };
    Ok(())
}

/// Create a message for `topic` with an empty body. On success `*out` receives a new handle that
/// the caller owns and frees with rmq_message_destroy.
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_new(
    topic: *const c_char,
    out: *mut *mut rmq_message,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        // SAFETY: caller contract above.
        let topic = unsafe { str_arg(topic, "topic") }?;
        if topic.is_empty() {
            return Err(Fail::arg("topic is empty"));
        }
        let h = rmq_message::into_handle(Draft {
            inner: Mutex::new(DraftInner { msg: Message::new(topic, Vec::new()), cache: HashMap::new() }),
        });
        // SAFETY: checked non-NULL above.
        unsafe { write_out(out, h) };
        Ok(())
    }
}

/// Free a message. NULL is accepted (no-op, RMQ_STATUS_OK). Destroying a handle twice, or using it
/// after destroy, is a caller error that returns RMQ_STATUS_INVALID_HANDLE (handles are never
/// reused, so this is always detected). Pointers returned by the getters become invalid.
#[no_mangle]
pub extern "C" fn rmq_message_destroy(msg: *mut rmq_message) -> rmq_status {
    ffi_status! {
        if msg.is_null() {
            return Ok(());
        }
        rmq_message::remove(msg)?;
        Ok(())
    }
}

/// Set the topic (non-empty).
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_set_topic(
    msg: *mut rmq_message,
    topic: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let topic = unsafe { str_arg(topic, "topic") }?;
        if topic.is_empty() {
            return Err(Fail::arg("topic is empty"));
        }
        edit(msg, "topic", |m| m.set_topic(topic))
    }
}

/// Get the topic. `*out` points into the message and stays valid until the topic is set again or
/// the message is destroyed; do not free it.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_get_topic(
    msg: *const rmq_message,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { read_str(msg, "topic", out, |m| Some(m.topic().to_string())) }
}

/// Set the tag (one tag; consumers filter on it with expressions such as "TagA || TagB").
///
/// # Safety
/// `tags` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_set_tags(
    msg: *mut rmq_message,
    tags: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let tags = unsafe { str_arg(tags, "tags") }?;
        edit(msg, "tags", |m| m.set_tags(tags))
    }
}

/// Get the tag; RMQ_STATUS_NOT_FOUND if none was set. `*out` stays valid until the tag is set
/// again or the message is destroyed; do not free it.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_get_tags(
    msg: *const rmq_message,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { read_str(msg, "tags", out, |m| m.tags().map(str::to_string)) }
}

/// Set the keys: one or more keys separated by spaces, indexed by the broker for lookup.
///
/// # Safety
/// `keys` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_set_keys(
    msg: *mut rmq_message,
    keys: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let keys = unsafe { str_arg(keys, "keys") }?;
        edit(msg, "keys", |m| m.set_keys(keys))
    }
}

/// Get the keys; RMQ_STATUS_NOT_FOUND if none were set. `*out` stays valid until the keys are set
/// again or the message is destroyed; do not free it.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_get_keys(
    msg: *const rmq_message,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { read_str(msg, "keys", out, |m| m.keys().map(str::to_string)) }
}

/// Set the body to a copy of `len` bytes at `data` (`data` may be NULL when `len` is 0). A length
/// over RMQ_MAX_BODY_SIZE is rejected with RMQ_STATUS_INVALID_ARGUMENT before any byte is read.
///
/// # Safety
/// `data` points to at least `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_set_body(
    msg: *mut rmq_message,
    data: *const u8,
    len: usize,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let body = unsafe { bytes_arg(data, len, "body") }?;
        edit(msg, "body", |m| m.set_body(body.to_vec()))
    }
}

/// Get the body: `*data` points to `*len` bytes inside the message, valid until the body is set
/// again or the message is destroyed; do not free it.
///
/// # Safety
/// `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_get_body(
    msg: *const rmq_message,
    data: *mut *const u8,
    len: *mut usize,
) -> rmq_status {
    ffi_status! {
        let data = out_arg(data, "data")?;
        let len = out_arg(len, "len")?;
        let d = rmq_message::get(msg)?;
        let (p, n) = d.with(|m| (m.body().as_ptr(), m.body().len()));
        // SAFETY: both checked non-NULL; the caller passes writable outputs.
        unsafe {
            write_out(data, p);
            write_out(len, n);
        }
        Ok(())
    }
}

/// Set a user property (replacing an existing value of the same key). Keys and values are
/// NUL-terminated UTF-8; the key must be non-empty.
///
/// # Safety
/// `key` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_put_property(
    msg: *mut rmq_message,
    key: *const c_char,
    value: *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let key = unsafe { str_arg(key, "key") }?;
        // SAFETY: caller contract above.
        let value = unsafe { str_arg(value, "value") }?;
        if key.is_empty() {
            return Err(Fail::arg("property key is empty"));
        }
        edit(msg, &format!("p:{key}"), |m| m.put_property(key, value))
    }
}

/// Get a property; RMQ_STATUS_NOT_FOUND if the message has none under `key`. `*out` stays valid
/// until that property is set again or the message is destroyed; do not free it.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_get_property(
    msg: *const rmq_message,
    key: *const c_char,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let key = unsafe { str_arg(key, "key") }?;
        read_str(msg, &format!("p:{key}"), out, |m| m.property(key).map(str::to_string))
    }
}

/// Set the delay level (0 = none; 1..=18 map to the broker's messageDelayLevel, 1s 5s 10s 30s 1m
/// ... 2h by default). Negative levels are rejected.
#[no_mangle]
pub extern "C" fn rmq_message_set_delay_level(msg: *mut rmq_message, level: i32) -> rmq_status {
    ffi_status! {
        if level < 0 {
            return Err(Fail::arg(format!("delay level {level} is negative")));
        }
        edit(msg, "delay", |m| m.set_delay_level(level))
    }
}

/// Get the delay level (0 when none).
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_get_delay_level(
    msg: *const rmq_message,
    out: *mut i32,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        let level = rmq_message::get(msg)?.with(|m| m.delay_level());
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, level) };
        Ok(())
    }
}
