//! CCommon.h's status codes (`CStatus`) and the failure type every exported body returns.
//!
//! The values are Apache's exactly (rocketmq-client-cpp include/CCommon.h, 2.1.0): a program or
//! binding that compares against them (PyPI `rocketmq`'s `_CStatus`) sees the same numbers. Which
//! code a function returns on failure follows Apache's src/extern/*.cpp: NULL_POINTER for a NULL
//! (or, here, destroyed) handle or argument, the function's own *_FAILED code otherwise.

use std::ffi::c_int;

/// Success.
pub(crate) const OK: c_int = 0;
/// A NULL or destroyed handle, or a NULL/invalid argument.
pub(crate) const NULL_POINTER: c_int = 1;
/// Allocation failed (never returned: Rust aborts on OOM; kept for the header).
#[allow(dead_code)]
pub(crate) const MALLOC_FAILED: c_int = 2;
/// StartProducer failed; also Apache's code for a refused producer setting.
pub(crate) const PRODUCER_START_FAILED: c_int = 10;
/// SendMessageSync / SendBatchMessage failed.
pub(crate) const PRODUCER_SEND_SYNC_FAILED: c_int = 11;
/// SendMessageOneway / SendMessageOnewayOrderly failed.
pub(crate) const PRODUCER_SEND_ONEWAY_FAILED: c_int = 12;
/// SendMessageOrderly / SendMessageOrderlyByShardingKey failed.
pub(crate) const PRODUCER_SEND_ORDERLY_FAILED: c_int = 13;
/// SendMessageAsync / SendAsync could not be queued.
pub(crate) const PRODUCER_SEND_ASYNC_FAILED: c_int = 14;
/// SendMessageOrderlyAsync could not be queued.
pub(crate) const PRODUCER_SEND_ORDERLYASYNC_FAILED: c_int = 15;
/// SendMessageTransaction failed.
pub(crate) const PRODUCER_SEND_TRANSACTION_FAILED: c_int = 16;
/// StartPushConsumer failed; also used here for a refused push-consumer call.
pub(crate) const PUSHCONSUMER_START_FAILED: c_int = 20;
/// StartPullConsumer failed; also used here for a refused pull-consumer call.
pub(crate) const PULLCONSUMER_START_FAILED: c_int = 30;
/// FetchSubscriptionMessageQueues failed.
pub(crate) const PULLCONSUMER_FETCH_MQ_FAILED: c_int = 31;

/// A failed call: the code to return and the text for GetLatestErrorMessage().
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) code: c_int,
    pub(crate) text: String,
}

impl Fail {
    pub(crate) fn new(code: c_int, text: impl Into<String>) -> Fail {
        Fail { code, text: text.into() }
    }

    /// NULL_POINTER with "`what` is NULL".
    pub(crate) fn null(what: &str) -> Fail {
        Fail::new(NULL_POINTER, format!("{what} is NULL"))
    }
}

/// Result of an exported function's body.
pub(crate) type Result<T = ()> = std::result::Result<T, Fail>;

/// `client_result.or_code(PRODUCER_SEND_SYNC_FAILED)?`: a client error becomes the function's
/// failure code, its text the last error.
pub(crate) trait OrCode<T> {
    fn or_code(self, code: c_int) -> Result<T>;
}

impl<T> OrCode<T> for std::result::Result<T, rmq::client::Error> {
    fn or_code(self, code: c_int) -> Result<T> {
        self.map_err(|e| Fail::new(code, e.to_string()))
    }
}
