//! CMessageExt.h: received messages. The library owns them: one handed to a message callback or a
//! transaction checker is valid until the callback returns, one in a CPullResult until
//! ReleasePullResult; afterwards its handle is dead and getters return NULL (strings) or
//! NULL_POINTER (numbers), as Apache's do for a NULL handle. Every string a getter returns lives
//! as long as the message.
//!
//! As in Apache's library, where CMessage* and CMessageExt* both point at an MQMessage, the
//! getters also accept a `CMessage*` (the message a queue selector receives): its topic, tags,
//! keys, body, properties and delay level are readable, the store fields read as 0.

use crate::args::str_arg;
use crate::cache::{Cache, Field};
use crate::handle::Handle;
use crate::message::CMessage;
use crate::status::NULL_POINTER;
use parking_lot::Mutex;
use rmq::client::{Message, MessageExt};
use std::ffi::{c_char, c_int};
use std::sync::Arc;

/// A received message (opaque, read-only, owned by the library).
pub struct CMessageExt {
    _private: [u8; 0],
}

/// The object behind a `CMessageExt` handle.
pub(crate) struct Received {
    ext: MessageExt,
    cache: Mutex<Cache>,
}

handle_type!(CMessageExt, Received, "CMessageExt");

impl Received {
    pub(crate) fn new(ext: MessageExt) -> Received {
        Received { ext, cache: Mutex::new(Cache::default()) }
    }
}

/// Received messages registered as live handles for as long as this value lives.
pub(crate) struct Lease {
    handles: Vec<*mut CMessageExt>,
}

// SAFETY: the handles are registry ids, only looked up, never dereferenced.
unsafe impl Send for Lease {}
// SAFETY: as above.
unsafe impl Sync for Lease {}

impl Lease {
    /// Register `msgs`; each becomes a live `CMessageExt` handle.
    pub(crate) fn new(msgs: impl IntoIterator<Item = MessageExt>) -> Lease {
        Lease {
            handles: msgs.into_iter().map(|m| CMessageExt::into_handle(Received::new(m))).collect(),
        }
    }

    /// The handles, in order (an array C may index).
    pub(crate) fn handles(&mut self) -> &mut [*mut CMessageExt] {
        &mut self.handles
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        for h in &self.handles {
            let _ = CMessageExt::remove(*h);
        }
    }
}

/// A message a getter may read: received, or one the program is building.
enum Readable {
    Ext(Arc<Received>),
    Out(Arc<crate::message::Outgoing>),
}

impl Readable {
    fn of(h: *mut CMessageExt) -> Option<Readable> {
        if let Some(r) = CMessageExt::find(h) {
            return Some(Readable::Ext(r));
        }
        CMessage::find(h.cast::<CMessage>()).map(Readable::Out)
    }

    fn with<T>(&self, f: impl FnOnce(&Message, Option<&MessageExt>, &mut Cache) -> T) -> T {
        match self {
            Readable::Ext(r) => f(&r.ext.message, Some(&r.ext), &mut r.cache.lock()),
            Readable::Out(o) => o.with(|m, c| f(m, None, c)),
        }
    }
}

fn string(
    h: *mut CMessageExt,
    f: impl FnOnce(&Message, Option<&MessageExt>, &mut Cache) -> *const c_char,
) -> *const c_char {
    crate::boundary::value(std::ptr::null(), || {
        let r = Readable::of(h).ok_or_else(|| {
            crate::status::Fail::new(NULL_POINTER, "CMessageExt is NULL or no longer valid")
        })?;
        Ok(r.with(f))
    })
}

fn number<T: Copy>(
    h: *mut CMessageExt,
    null: T,
    f: impl FnOnce(&Message, Option<&MessageExt>) -> T,
) -> T {
    match Readable::of(h) {
        Some(r) => r.with(|m, e, _| f(m, e)),
        None => null,
    }
}

/// The topic. NULL for a NULL or released handle.
#[no_mangle]
pub extern "C" fn GetMessageTopic(msg: *mut CMessageExt) -> *const c_char {
    string(msg, |m, _, c| c.str_field(Field::Topic, m, ""))
}

/// The tags, "" if none.
#[no_mangle]
pub extern "C" fn GetMessageTags(msg: *mut CMessageExt) -> *const c_char {
    string(msg, |m, _, c| c.str_field(Field::Tags, m, ""))
}

/// The keys, "" if none.
#[no_mangle]
pub extern "C" fn GetMessageKeys(msg: *mut CMessageExt) -> *const c_char {
    string(msg, |m, _, c| c.str_field(Field::Keys, m, ""))
}

/// The body, followed by a NUL (a body with NULs inside is complete up to its stored length;
/// Apache's C API has no length getter, so C strings see it up to the first NUL).
#[no_mangle]
pub extern "C" fn GetMessageBody(msg: *mut CMessageExt) -> *const c_char {
    string(msg, |m, _, c| c.body(m))
}

/// A property ("" if absent): user properties and system ones such as "UNIQ_KEY".
///
/// # Safety
/// `key` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn GetMessageProperty(
    msg: *mut CMessageExt,
    key: *const c_char,
) -> *const c_char {
    crate::boundary::value(std::ptr::null(), || {
        // SAFETY: caller contract above.
        let k = unsafe { str_arg(key, "key") }?;
        let r = Readable::of(msg).ok_or_else(|| {
            crate::status::Fail::new(NULL_POINTER, "CMessageExt is NULL or no longer valid")
        })?;
        Ok(r.with(|m, _, c| c.str_field(Field::Property(k.to_string()), m, "")))
    })
}

/// The message id (the producer's UNIQ_KEY, else the broker's offset id); "" for a message
/// being built.
#[no_mangle]
pub extern "C" fn GetMessageId(msg: *mut CMessageExt) -> *const c_char {
    string(msg, |m, e, c| match e {
        Some(e) => c.str_field(Field::MsgId, m, &e.msg_id),
        None => crate::cache::empty(),
    })
}

/// The delay level it was sent with (0 none). NULL_POINTER (1) for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageDelayTimeLevel(msg: *mut CMessageExt) -> c_int {
    number(msg, NULL_POINTER, |m, _| m.delay_level())
}

/// The queue id. NULL_POINTER (1) for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageQueueId(msg: *mut CMessageExt) -> c_int {
    number(msg, NULL_POINTER, |_, e| e.map_or(0, |e| e.queue_id))
}

/// How many times it was redelivered. NULL_POINTER (1) for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageReconsumeTimes(msg: *mut CMessageExt) -> c_int {
    number(msg, NULL_POINTER, |_, e| e.map_or(0, |e| e.reconsume_times))
}

/// The stored record's size in bytes. NULL_POINTER (1) for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageStoreSize(msg: *mut CMessageExt) -> c_int {
    number(msg, NULL_POINTER, |_, e| e.map_or(0, |e| e.store_size))
}

/// When the producer created it (ms since the epoch). 1 for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageBornTimestamp(msg: *mut CMessageExt) -> i64 {
    number(msg, NULL_POINTER as i64, |_, e| e.map_or(0, |e| e.born_timestamp))
}

/// When the broker stored it (ms since the epoch). 1 for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageStoreTimestamp(msg: *mut CMessageExt) -> i64 {
    number(msg, NULL_POINTER as i64, |_, e| e.map_or(0, |e| e.store_timestamp))
}

/// Its offset in the consume queue. 1 for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageQueueOffset(msg: *mut CMessageExt) -> i64 {
    number(msg, NULL_POINTER as i64, |_, e| e.map_or(0, |e| e.queue_offset))
}

/// Its offset in the broker's commit log. 1 for a NULL handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessageCommitLogOffset(msg: *mut CMessageExt) -> i64 {
    number(msg, NULL_POINTER as i64, |_, e| e.map_or(0, |e| e.commit_log_offset))
}

/// The half message's commit-log offset (transaction commit records), else 0. 1 for a NULL
/// handle, as Apache.
#[no_mangle]
pub extern "C" fn GetMessagePreparedTransactionOffset(msg: *mut CMessageExt) -> i64 {
    number(msg, NULL_POINTER as i64, |_, e| e.map_or(0, |e| e.prepared_transaction_offset))
}
