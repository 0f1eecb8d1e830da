//! `rmq_message_ext`: a received message, read-only. librmq owns it. A message handed to a
//! consumer callback is valid only until the callback returns; a message from rmq_pull_result_get
//! is valid until rmq_pull_result_destroy. Using one after that returns RMQ_STATUS_INVALID_HANDLE.
//! Every string a getter returns lives exactly as long as its message.

use crate::args::{c_string, out_arg, str_arg, write_out};
use crate::handle::Handle;
use crate::status::{rmq_status, Fail, FfiResult};
use rmq::client::MessageExt;
use std::ffi::{c_char, CString};

/// A received message (opaque, read-only, owned by librmq: never destroy it). One passed to an
/// rmq_message_callback is valid until the callback returns; one from rmq_pull_result_get_message
/// until rmq_pull_result_destroy. Afterwards its getters return RMQ_STATUS_INVALID_HANDLE. Every
/// string or body pointer a getter returns lives exactly as long as the message.
pub struct rmq_message_ext {
    _private: [u8; 0],
}

/// The numeric fields of a received message, filled by rmq_message_ext_get_info.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rmq_message_info {
    /// Queue the message was stored in.
    pub queue_id: i32,
    /// Its offset in that consume queue.
    pub queue_offset: i64,
    /// Its physical offset in the broker's commit log.
    pub commit_log_offset: i64,
    /// How many times it was redelivered (0 on first delivery).
    pub reconsume_times: i32,
    /// When the producer created it, ms since the epoch.
    pub born_timestamp: i64,
    /// When the broker stored it, ms since the epoch.
    pub store_timestamp: i64,
    /// Delay level it was sent with (0 none).
    pub delay_level: i32,
    /// The message's flag word.
    pub flag: i32,
    /// The broker's system flag (compression, transaction type).
    pub sys_flag: i32,
    /// Size of the stored record in bytes.
    pub store_size: i32,
    /// Body length in bytes (after decompression).
    pub body_len: usize,
}

/// The object behind an `rmq_message_ext` handle: the message and NUL-terminated copies of its
/// strings, made once so that getters can return pointers.
pub(crate) struct Received {
    ext: MessageExt,
    topic: CString,
    tags: Option<CString>,
    keys: Option<CString>,
    msg_id: CString,
    offset_msg_id: CString,
    broker_name: CString,
    born_host: CString,
    store_host: CString,
    props: Vec<(CString, CString)>,
}

handle_type!(rmq_message_ext, Received, "rmq_message_ext");

impl Received {
    fn new(ext: MessageExt) -> Received {
        Received {
            topic: c_string(ext.topic()),
            tags: ext.tags().map(c_string),
            keys: ext.keys().map(c_string),
            msg_id: c_string(&ext.msg_id),
            offset_msg_id: c_string(&ext.offset_msg_id),
            broker_name: c_string(&ext.broker_name),
            born_host: c_string(&ext.born_host),
            store_host: c_string(&ext.store_host),
            props: ext.properties().iter().map(|(k, v)| (c_string(k), c_string(v))).collect(),
            ext,
        }
    }
}

/// Received messages registered as handles for as long as this value lives.
pub(crate) struct Lease {
    ids: Vec<Id>,
}

/// A handle value. It is an id in a registry, never dereferenced, so it may cross threads.
#[repr(transparent)]
#[derive(Clone, Copy)]
struct Id(*const rmq_message_ext);
// SAFETY: an Id is only looked up in the registry, never dereferenced.
unsafe impl Send for Id {}
// SAFETY: as above.
unsafe impl Sync for Id {}

impl Lease {
    /// Register `msgs`; each becomes a live `rmq_message_ext` handle.
    pub(crate) fn new(msgs: impl IntoIterator<Item = MessageExt>) -> Lease {
        Lease {
            ids: msgs
                .into_iter()
                .map(|m| Id(rmq_message_ext::into_handle(Received::new(m)).cast_const()))
                .collect(),
        }
    }
    /// The handles, in order.
    pub(crate) fn handles(&self) -> &[*const rmq_message_ext] {
        // SAFETY: `Id` is repr(transparent) over `*const rmq_message_ext`, so the slice layouts match.
        unsafe {
            std::slice::from_raw_parts(
                self.ids.as_ptr().cast::<*const rmq_message_ext>(),
                self.ids.len(),
            )
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        for id in &self.ids {
            let _ = rmq_message_ext::remove(id.0);
        }
    }
}

fn write_str(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
    f: impl FnOnce(&Received) -> Option<&CString>,
    what: &str,
) -> FfiResult {
    let out = out_arg(out, "output pointer")?;
    let r = rmq_message_ext::get(ext)?;
    let p = f(&r)
        .ok_or_else(|| Fail::new(rmq_status::NotFound, format!("the message has no {what}")))?
        .as_ptr();
    // SAFETY: checked non-NULL; the string lives in `Received`, which lives until the handle is
    // released (the lifetime the header documents).
    unsafe { write_out(out, p) };
    Ok(())
}

/// Get the topic. `*out` is owned by the message (see rmq_message_ext for its lifetime).
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_topic(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| Some(&r.topic), "topic") }
}

/// Get the tag; RMQ_STATUS_NOT_FOUND if it has none. `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_tags(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| r.tags.as_ref(), "tags") }
}

/// Get the keys; RMQ_STATUS_NOT_FOUND if it has none. `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_keys(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| r.keys.as_ref(), "keys") }
}

/// Get the message id (the producer's unique id, UNIQ_KEY). `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_msg_id(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| Some(&r.msg_id), "msg id") }
}

/// Get the offset message id (broker address + commit log offset). `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_offset_msg_id(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| Some(&r.offset_msg_id), "offset msg id") }
}

/// Get the name of the broker it came from. `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_broker_name(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| Some(&r.broker_name), "broker name") }
}

/// Get the producer's address ("ip:port"). `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_born_host(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| Some(&r.born_host), "born host") }
}

/// Get the storing broker's address ("ip:port"). `*out` is owned by the message.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_store_host(
    ext: *const rmq_message_ext,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! { write_str(ext, out, |r| Some(&r.store_host), "store host") }
}

/// Get the body: `*data` points to `*len` bytes owned by the message.
///
/// # Safety
/// `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_body(
    ext: *const rmq_message_ext,
    data: *mut *const u8,
    len: *mut usize,
) -> rmq_status {
    ffi_status! {
        let data = out_arg(data, "data")?;
        let len = out_arg(len, "len")?;
        let r = rmq_message_ext::get(ext)?;
        let body = r.ext.body();
        // SAFETY: both checked non-NULL; the body lives as long as the handle.
        unsafe {
            write_out(data, body.as_ptr());
            write_out(len, body.len());
        }
        Ok(())
    }
}

/// Get a property (user or system, such as "UNIQ_KEY"); RMQ_STATUS_NOT_FOUND if absent. `*out` is
/// owned by the message.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_property(
    ext: *const rmq_message_ext,
    key: *const c_char,
    out: *mut *const c_char,
) -> rmq_status {
    ffi_status! {
        // SAFETY: caller contract above.
        let key = unsafe { str_arg(key, "key") }?;
        write_str(ext, out, |r| r.props.iter().find(|(k, _)| k.as_bytes() == key.as_bytes()).map(|(_, v)| v), key)
    }
}

/// Number of properties (user and system), for rmq_message_ext_get_property_at.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_property_count(
    ext: *const rmq_message_ext,
    out: *mut usize,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        let n = rmq_message_ext::get(ext)?.props.len();
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, n) };
        Ok(())
    }
}

/// The property at `index` (0-based, in key order); RMQ_STATUS_INVALID_ARGUMENT past the end.
/// `*key` and `*value` are owned by the message.
///
/// # Safety
/// `key` and `value` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_property_at(
    ext: *const rmq_message_ext,
    index: usize,
    key: *mut *const c_char,
    value: *mut *const c_char,
) -> rmq_status {
    ffi_status! {
        let key = out_arg(key, "key")?;
        let value = out_arg(value, "value")?;
        let r = rmq_message_ext::get(ext)?;
        let (k, v) = r.props.get(index).ok_or_else(|| Fail::arg(format!("property index {index} is past the end ({})", r.props.len())))?;
        // SAFETY: both checked non-NULL; the strings live as long as the handle.
        unsafe {
            write_out(key, k.as_ptr());
            write_out(value, v.as_ptr());
        }
        Ok(())
    }
}

/// Fill `*out` with the numeric fields of the message.
///
/// # Safety
/// `out` is NULL or points to a writable rmq_message_info.
#[no_mangle]
pub unsafe extern "C" fn rmq_message_ext_get_info(
    ext: *const rmq_message_ext,
    out: *mut rmq_message_info,
) -> rmq_status {
    ffi_status! {
        let out = out_arg(out, "out")?;
        let r = rmq_message_ext::get(ext)?;
        let e = &r.ext;
        let info = rmq_message_info {
            queue_id: e.queue_id,
            queue_offset: e.queue_offset,
            commit_log_offset: e.commit_log_offset,
            reconsume_times: e.reconsume_times,
            born_timestamp: e.born_timestamp,
            store_timestamp: e.store_timestamp,
            delay_level: e.delay_level(),
            flag: e.flag(),
            sys_flag: e.sys_flag,
            store_size: e.store_size,
            body_len: e.body().len(),
        };
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, info) };
        Ok(())
    }
}
