//! The C structs and enums of Apache's headers, with the layouts CSendResult.h, CMQException.h,
//! CMessageQueue.h and CPullResult.h give them (checked against include/rocketmq by the C drift
//! program in tests/c/compat and by the size tests below).

use crate::args::copy_fixed;
use rmq::client::{Error, MessageQueue, SendResult, SendStatus};
use std::ffi::{c_char, c_int, c_void};

/// MAX_MESSAGE_ID_LENGTH (CCommon.h).
pub(crate) const MAX_MESSAGE_ID_LENGTH: usize = 256;
/// MAX_TOPIC_LENGTH (CCommon.h).
pub(crate) const MAX_TOPIC_LENGTH: usize = 512;
/// MAX_BROKER_NAME_ID_LENGTH (CCommon.h).
pub(crate) const MAX_BROKER_NAME_ID_LENGTH: usize = 256;

/// E_CSendStatus_ values.
pub(crate) const E_SEND_OK: c_int = 0;
pub(crate) const E_SEND_FLUSH_DISK_TIMEOUT: c_int = 1;
pub(crate) const E_SEND_FLUSH_SLAVE_TIMEOUT: c_int = 2;
pub(crate) const E_SEND_SLAVE_NOT_AVAILABLE: c_int = 3;

/// CSendResult (CSendResult.h): 272 bytes on LP64.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
pub struct CSendResult {
    /// An E_CSendStatus_ value.
    pub sendStatus: c_int,
    /// The message id (UNIQ_KEY), NUL-terminated; comma-separated ids for a batch.
    pub msgId: [c_char; MAX_MESSAGE_ID_LENGTH],
    /// The queue offset the broker gave the message (of the first one for a batch).
    pub offset: i64,
}

impl CSendResult {
    pub(crate) fn from_result(r: &SendResult) -> CSendResult {
        // An exhaustive match: a future status never maps to E_SEND_OK silently (Apache's
        // default branch does).
        let sendStatus = match r.status {
            SendStatus::Ok => E_SEND_OK,
            SendStatus::FlushDiskTimeout => E_SEND_FLUSH_DISK_TIMEOUT,
            SendStatus::FlushSlaveTimeout => E_SEND_FLUSH_SLAVE_TIMEOUT,
            SendStatus::SlaveNotAvailable => E_SEND_SLAVE_NOT_AVAILABLE,
        };
        let mut out = CSendResult { sendStatus, msgId: [0; MAX_MESSAGE_ID_LENGTH], offset: 0 };
        copy_fixed(&mut out.msgId, &r.msg_id);
        out.offset = r.queue_offset;
        out
    }
}

/// CMQException as CMQException.h declares it (904 bytes): what C programs read.
#[repr(C)]
#[allow(dead_code)]
pub struct CMQException {
    /// Error code (the broker's response code when the broker refused, else -1).
    pub error: c_int,
    /// Source line (0: not meaningful here).
    pub line: c_int,
    /// Source file (MAX_EXEPTION_FILE_LENGTH 256).
    pub file: [c_char; 256],
    /// Message (MAX_EXEPTION_MSG_LENGTH 512).
    pub msg: [c_char; 512],
    /// Exception type name (MAX_EXEPTION_TYPE_LENGTH 128).
    pub r#type: [c_char; 128],
}

/// The CMQException actually passed to exception callbacks: 1544 bytes that read correctly both
/// as CMQException.h's 904-byte struct (file 256, msg 512, type 128) and as the 1544-byte
/// struct the PyPI bindings declare (`_CMQException`: file, msg and type of 512 each). The two
/// views share `error`, `line` and `file`; each finds its own NUL-terminated copy of `msg` and
/// `type` at its own offsets (texts are cut to fit both). A by-value struct this large travels in
/// memory (x86-64 SysV) or by reference (AArch64), so a callee declaring the smaller struct reads
/// its prefix and the following register arguments are unaffected.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WireException {
    error: c_int,
    line: c_int,
    bytes: [c_char; 1536],
}

/// Offsets within `WireException::bytes` (struct offset minus the 8 bytes of error and line).
const FILE_AT: usize = 0; // both views: file at struct offset 8
const HEADER_MSG_AT: usize = 256; // CMQException.h: msg at 264
const BINDING_MSG_AT: usize = 512; // _CMQException: msg at 520
const HEADER_TYPE_AT: usize = 768; // CMQException.h: type at 776
const BINDING_TYPE_AT: usize = 1024; // _CMQException: type at 1032

impl WireException {
    pub(crate) fn new(error: c_int, msg: &str, kind: &str) -> WireException {
        let mut e = WireException { error, line: 0, bytes: [0; 1536] };
        // Each text ends (NUL included) before the next field of either view starts.
        copy_fixed(&mut e.bytes[FILE_AT..HEADER_MSG_AT], "librocketmq (rmq)");
        copy_fixed(&mut e.bytes[HEADER_MSG_AT..BINDING_MSG_AT], msg);
        copy_fixed(&mut e.bytes[BINDING_MSG_AT..HEADER_TYPE_AT], msg);
        copy_fixed(&mut e.bytes[HEADER_TYPE_AT..HEADER_TYPE_AT + 128], kind);
        copy_fixed(&mut e.bytes[BINDING_TYPE_AT..], kind);
        e
    }

    pub(crate) fn from_error(e: &Error) -> WireException {
        WireException::new(e.code().unwrap_or(-1), &e.to_string(), "MQClientException")
    }
}

/// CMessageQueue (CMessageQueue.h): 772 bytes, filled by FetchSubscriptionMessageQueues and read
/// by Pull.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
pub struct CMessageQueue {
    /// Topic, NUL-terminated.
    pub topic: [c_char; MAX_TOPIC_LENGTH],
    /// Broker name, NUL-terminated.
    pub brokerName: [c_char; MAX_BROKER_NAME_ID_LENGTH],
    /// Queue id.
    pub queueId: c_int,
}

impl CMessageQueue {
    pub(crate) fn from_mq(mq: &MessageQueue) -> CMessageQueue {
        let mut q = CMessageQueue {
            topic: [0; MAX_TOPIC_LENGTH],
            brokerName: [0; MAX_BROKER_NAME_ID_LENGTH],
            queueId: mq.queue_id,
        };
        copy_fixed(&mut q.topic, &mq.topic);
        copy_fixed(&mut q.brokerName, &mq.broker_name);
        q
    }
}

/// E_CPullStatus values.
pub(crate) const E_FOUND: c_int = 0;
pub(crate) const E_NO_NEW_MSG: c_int = 1;
pub(crate) const E_NO_MATCHED_MSG: c_int = 2;
pub(crate) const E_OFFSET_ILLEGAL: c_int = 3;
pub(crate) const E_BROKER_TIMEOUT: c_int = 4;

/// CPullResult (CPullResult.h): 56 bytes, returned by value from Pull.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
pub struct CPullResult {
    /// An E_CPullStatus value.
    pub pullStatus: c_int,
    /// Offset to pull from next.
    pub nextBeginOffset: i64,
    /// Smallest offset of the queue.
    pub minOffset: i64,
    /// Offset after the last message of the queue.
    pub maxOffset: i64,
    /// `size` message handles (E_FOUND only), valid until ReleasePullResult.
    pub msgFoundList: *mut *mut crate::message_ext::CMessageExt,
    /// Number of messages in msgFoundList.
    pub size: c_int,
    /// The library's handle for ReleasePullResult (NULL when nothing needs releasing).
    pub pData: *mut c_void,
}

/// CTransactionStatus values (CTransactionStatus.h).
pub(crate) const E_COMMIT_TRANSACTION: c_int = 0;
pub(crate) const E_ROLLBACK_TRANSACTION: c_int = 1;

/// E_CConsumeStatus: E_CONSUME_SUCCESS (CPushConsumer.h).
pub(crate) const E_CONSUME_SUCCESS: c_int = 0;

/// CMessageModel (CCommon.h): BROADCASTING = 0, CLUSTERING = 1.
pub(crate) const BROADCASTING: c_int = 0;
pub(crate) const CLUSTERING: c_int = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_apaches_headers_on_lp64() {
        assert_eq!(size_of::<CSendResult>(), 272);
        assert_eq!(offset_of!(CSendResult, offset), 264);
        assert_eq!(size_of::<CMQException>(), 904);
        assert_eq!(offset_of!(CMQException, msg), 264);
        assert_eq!(offset_of!(CMQException, r#type), 776);
        assert_eq!(size_of::<CMessageQueue>(), 772);
        assert_eq!(offset_of!(CMessageQueue, queueId), 768);
        assert_eq!(size_of::<CPullResult>(), 56);
        assert_eq!(offset_of!(CPullResult, msgFoundList), 32);
        assert_eq!(offset_of!(CPullResult, pData), 48);
        assert_eq!(size_of::<WireException>(), 1544);
    }

    fn read_at(bytes: &[u8], at: usize) -> String {
        let end = bytes[at..].iter().position(|b| *b == 0).unwrap();
        String::from_utf8(bytes[at..at + end].to_vec()).unwrap()
    }

    #[test]
    fn the_wire_exception_reads_right_in_both_layouts() {
        let long = "x".repeat(600);
        for msg in ["send failed: no route", long.as_str()] {
            let e = WireException::new(17, msg, "MQClientException");
            // SAFETY: WireException is repr(C) plain data; viewing it as bytes is sound.
            let raw: &[u8] = unsafe {
                std::slice::from_raw_parts((&e as *const WireException).cast::<u8>(), 1544)
            };
            assert_eq!(i32::from_ne_bytes(raw[0..4].try_into().unwrap()), 17);
            // CMQException.h view.
            let (h_file, h_msg, h_type) = (read_at(raw, 8), read_at(raw, 264), read_at(raw, 776));
            // PyPI _CMQException view (512-byte fields).
            let (b_file, b_msg, b_type) = (read_at(raw, 8), read_at(raw, 520), read_at(raw, 1032));
            assert_eq!(h_file, b_file);
            assert!(h_file.len() < 256);
            assert_eq!(h_msg, b_msg);
            assert!(msg.starts_with(&h_msg) && h_msg.len() == msg.len().min(255));
            assert_eq!(
                (h_type.as_str(), b_type.as_str()),
                ("MQClientException", "MQClientException")
            );
        }
    }
}
