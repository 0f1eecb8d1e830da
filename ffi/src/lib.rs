//! librmq: the C ABI over `rmq::client` (issue 6). The generated header is include/rmq.h.
//!
//! Layout: `status` (codes and the Error → status mapping), `boundary` (panic boundary and the
//! per-thread last error), `handle` (opaque handles), `args` (checked reads of C arguments),
//! then one module per C type. Every exported function runs inside `ffi_status!`/`ffi_value!`, so no
//! panic crosses the boundary (STYLE.md "FFI boundary").
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![allow(non_camel_case_types)]

#[macro_use]
mod boundary;
#[macro_use]
mod handle;
mod args;
mod consumer_common;
mod log_cb;
mod message;
mod producer;
mod pull_consumer;
mod push_consumer;
mod queue;
mod received;
mod status;
mod transaction_producer;

pub use args::RMQ_MAX_BODY_SIZE;
pub use boundary::{rmq_last_error, rmq_version};
pub use consumer_common::{rmq_consume_from, rmq_message_model};
pub use log_cb::{rmq_log_callback, rmq_set_log_callback};
pub use message::*;
pub use producer::*;
pub use pull_consumer::*;
pub use push_consumer::*;
pub use queue::{rmq_message_queue, RMQ_NAME_MAX};
pub use received::*;
pub use status::{rmq_status, rmq_status_str};
pub use transaction_producer::*;
