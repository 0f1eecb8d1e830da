//! librocketmq.so: a drop-in replacement for Apache rocketmq-client-cpp's C library (issue 15),
//! over the rmq client. It exports the union of the C API of rocketmq-client-cpp 1.2.x (as
//! bundled in PyPI `rocketmq` 0.4.4) and 2.1.0 (PyPI `rocketmq-python-cvs` 2.1.0.3) with
//! Apache's names, signatures, struct layouts and CCommon.h status codes; the declarations are
//! include/rocketmq/*.h. Programs and bindings built for Apache's library run unchanged: swap
//! the file, or link `-lrocketmq` against these headers.
//!
//! Layout: `status` (CStatus codes), `boundary` (panic boundary, GetLatestErrorMessage),
//! `handle` (registries: handles are ids, so a NULL or destroyed one is NULL_POINTER, never a
//! dereference), `args` (checked C arguments), `types` (the C structs), `cache` (C copies of
//! message fields), then one module per header: `message` (CMessage, CBatchMessage),
//! `message_ext`, `producer` + `send`, `push_consumer`, `pull_consumer`; `logfile` (the
//! log-path setters), `nsdomain` (name-server domains), `settings` (shared bits).
//!
//! 1.x vs 2.x: one symbol set serves both (2.1.0's is a superset of 1.2.x's, with identical
//! struct layouts and codes). Where the PyPI bindings disagree with the headers, both are served
//! at once: see send.rs (CSendSuccessCallback) and types.rs (CMQException).
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
// Apache's names: CProducer, SendMessageSync(producer, msg, result), groupId, ...
#![allow(non_camel_case_types, non_snake_case)]

#[macro_use]
mod boundary;
#[macro_use]
mod handle;
mod args;
mod cache;
mod logfile;
mod message;
mod message_ext;
mod nsdomain;
mod producer;
mod pull_consumer;
mod push_consumer;
mod send;
mod settings;
mod status;
mod types;

pub use boundary::GetLatestErrorMessage;
pub use message::*;
pub use message_ext::*;
pub use producer::*;
pub use pull_consumer::*;
pub use push_consumer::*;
pub use send::*;
pub use types::{CMQException, CMessageQueue, CPullResult, CSendResult};
