//! CMessage.h and CBatchMessage.h: messages the program builds and sends. The caller owns them
//! (CreateMessage / DestroyMessage); a send copies what it needs, so a message may be changed,
//! reused or destroyed as soon as the send call returns.

use crate::args::{bytes_arg, cstr_bytes, str_arg};
use crate::cache::{Cache, Field};
use crate::handle::Handle;
use crate::status::{Fail, Result, NULL_POINTER};
use parking_lot::Mutex;
use rmq::client::Message;
use std::ffi::{c_char, c_int};

/// A message being built (opaque).
pub struct CMessage {
    _private: [u8; 0],
}

/// The object behind a `CMessage` handle.
pub(crate) struct Outgoing {
    state: Mutex<(Message, Cache)>,
}

handle_type!(CMessage, Outgoing, "CMessage");

impl Outgoing {
    /// A copy of the message as it is now.
    pub(crate) fn snapshot(&self) -> Message {
        self.state.lock().0.clone()
    }

    /// Run `f` on the message and its string copies.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Message, &mut Cache) -> T) -> T {
        let mut st = self.state.lock();
        let (m, c) = &mut *st;
        f(m, c)
    }

    fn change(&self, f: impl FnOnce(&mut Message)) {
        let mut st = self.state.lock();
        f(&mut st.0);
        st.1.clear();
    }
}

/// A copy of the message behind `msg` (for sends).
pub(crate) fn message_of(msg: *const CMessage) -> Result<Message> {
    Ok(CMessage::get(msg)?.snapshot())
}

fn change(msg: *mut CMessage, f: impl FnOnce(&mut Message)) -> Result {
    CMessage::get(msg)?.change(f);
    Ok(())
}

/// Create a message for `topic` (NULL: no topic yet). The caller owns it: DestroyMessage.
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CreateMessage(topic: *const c_char) -> *mut CMessage {
    crate::boundary::value(std::ptr::null_mut(), || {
        let t = if topic.is_null() {
            ""
        } else {
            // SAFETY: caller contract above.
            unsafe { str_arg(topic, "topic") }?
        };
        Ok(CMessage::into_handle(Outgoing {
            state: Mutex::new((Message::new(t, Vec::new()), Cache::default())),
        }))
    })
}

/// Free a message. NULL or an already destroyed message returns NULL_POINTER.
#[no_mangle]
pub extern "C" fn DestroyMessage(msg: *mut CMessage) -> c_int {
    c_status!(NULL_POINTER, {
        CMessage::remove(msg)?;
        Ok(())
    })
}

/// Set the topic.
///
/// # Safety
/// `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetMessageTopic(msg: *mut CMessage, topic: *const c_char) -> c_int {
    c_status!(NULL_POINTER, {
        // SAFETY: caller contract above.
        let t = unsafe { str_arg(topic, "topic") }?;
        change(msg, |m| m.set_topic(t))
    })
}

/// Set the tags (one tag; consumers filter on it).
///
/// # Safety
/// `tags` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetMessageTags(msg: *mut CMessage, tags: *const c_char) -> c_int {
    c_status!(NULL_POINTER, {
        // SAFETY: caller contract above.
        let t = unsafe { str_arg(tags, "tags") }?;
        change(msg, |m| m.set_tags(t))
    })
}

/// Set the keys (space-separated; indexed by the broker for queries by key).
///
/// # Safety
/// `keys` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetMessageKeys(msg: *mut CMessage, keys: *const c_char) -> c_int {
    c_status!(NULL_POINTER, {
        // SAFETY: caller contract above.
        let k = unsafe { str_arg(keys, "keys") }?;
        change(msg, |m| m.set_keys(k))
    })
}

/// Set the body from a NUL-terminated string (the NUL is not part of the body).
///
/// # Safety
/// `body` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetMessageBody(msg: *mut CMessage, body: *const c_char) -> c_int {
    c_status!(NULL_POINTER, {
        // SAFETY: caller contract above.
        let b = unsafe { cstr_bytes(body, "body") }?;
        change(msg, |m| m.set_body(b.to_vec()))
    })
}

/// Set the body from `len` bytes (any bytes, NULs included).
///
/// # Safety
/// `body` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn SetByteMessageBody(
    msg: *mut CMessage,
    body: *const c_char,
    len: c_int,
) -> c_int {
    c_status!(NULL_POINTER, {
        // SAFETY: caller contract above.
        let b = unsafe { bytes_arg(body, len, "body") }?;
        change(msg, |m| m.set_body(b.to_vec()))
    })
}

/// Set a user property (sent with the message, readable with GetMessageProperty).
///
/// # Safety
/// `key` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn SetMessageProperty(
    msg: *mut CMessage,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    c_status!(NULL_POINTER, {
        // SAFETY: caller contract above.
        let k = unsafe { str_arg(key, "key") }?;
        // SAFETY: caller contract above.
        let v = unsafe { str_arg(value, "value") }?;
        if k.is_empty() {
            return Err(Fail::new(NULL_POINTER, "property key is empty"));
        }
        change(msg, |m| m.put_property(k, v))
    })
}

/// Set the delay level (1..=18 with the broker's default levels "1s 5s 10s 30s 1m ... 2h"; 0 none).
#[no_mangle]
pub extern "C" fn SetDelayTimeLevel(msg: *mut CMessage, level: c_int) -> c_int {
    c_status!(NULL_POINTER, {
        if level < 0 {
            return Err(Fail::new(NULL_POINTER, format!("delay level {level} is negative")));
        }
        change(msg, |m| m.set_delay_level(level))
    })
}

fn origin(msg: *mut CMessage, f: Field) -> *const c_char {
    crate::boundary::value(std::ptr::null(), || {
        Ok(CMessage::get(msg)?.with(|m, c| c.str_field(f, m, "")))
    })
}

/// The topic (2.x). Valid until the message changes or is destroyed; NULL for a NULL handle.
#[no_mangle]
pub extern "C" fn GetOriginMessageTopic(msg: *mut CMessage) -> *const c_char {
    origin(msg, Field::Topic)
}

/// The tags, "" if none (2.x). Lifetime as GetOriginMessageTopic.
#[no_mangle]
pub extern "C" fn GetOriginMessageTags(msg: *mut CMessage) -> *const c_char {
    origin(msg, Field::Tags)
}

/// The keys, "" if none (2.x). Lifetime as GetOriginMessageTopic.
#[no_mangle]
pub extern "C" fn GetOriginMessageKeys(msg: *mut CMessage) -> *const c_char {
    origin(msg, Field::Keys)
}

/// The body followed by a NUL (2.x). Lifetime as GetOriginMessageTopic.
#[no_mangle]
pub extern "C" fn GetOriginMessageBody(msg: *mut CMessage) -> *const c_char {
    crate::boundary::value(std::ptr::null(), || Ok(CMessage::get(msg)?.with(|m, c| c.body(m))))
}

/// A property, "" if absent (2.x). Lifetime as GetOriginMessageTopic.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn GetOriginMessageProperty(
    msg: *mut CMessage,
    key: *const c_char,
) -> *const c_char {
    crate::boundary::value(std::ptr::null(), || {
        // SAFETY: caller contract above.
        let k = unsafe { str_arg(key, "key") }?;
        Ok(CMessage::get(msg)?.with(|m, c| c.str_field(Field::Property(k.to_string()), m, "")))
    })
}

/// The delay level (2.x); -1 for a NULL or destroyed handle.
#[no_mangle]
pub extern "C" fn GetOriginDelayTimeLevel(msg: *mut CMessage) -> c_int {
    crate::boundary::value(-1, || Ok(CMessage::get(msg)?.with(|m, _| m.delay_level())))
}

/// A batch of messages of one topic, sent with SendBatchMessage (opaque).
pub struct CBatchMessage {
    _private: [u8; 0],
}

/// The object behind a `CBatchMessage` handle: copies of the added messages.
pub(crate) struct Batch(pub(crate) Mutex<Vec<Message>>);

handle_type!(CBatchMessage, Batch, "CBatchMessage");

/// Create an empty batch. The caller owns it: DestroyBatchMessage.
#[no_mangle]
pub extern "C" fn CreateBatchMessage() -> *mut CBatchMessage {
    crate::boundary::value(std::ptr::null_mut(), || {
        Ok(CBatchMessage::into_handle(Batch(Mutex::new(Vec::new()))))
    })
}

/// Add a copy of `msg` to the batch (later changes to `msg` do not affect the batch).
#[no_mangle]
pub extern "C" fn AddMessage(batch: *mut CBatchMessage, msg: *mut CMessage) -> c_int {
    c_status!(NULL_POINTER, {
        let m = message_of(msg)?;
        let b = CBatchMessage::get(batch)?;
        let mut v = b.0.lock();
        if v.len() >= 10_000 {
            return Err(Fail::new(NULL_POINTER, "a batch holds at most 10000 messages"));
        }
        v.push(m);
        Ok(())
    })
}

/// Free a batch. NULL or an already destroyed batch returns NULL_POINTER.
#[no_mangle]
pub extern "C" fn DestroyBatchMessage(batch: *mut CBatchMessage) -> c_int {
    c_status!(NULL_POINTER, {
        CBatchMessage::remove(batch)?;
        Ok(())
    })
}
