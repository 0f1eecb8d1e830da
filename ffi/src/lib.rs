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
mod log_cb;
mod message;
mod producer;
mod pull_consumer;
mod push_consumer;
mod received;
mod status;

pub use boundary::{rmq_last_error, rmq_version};
pub use log_cb::{rmq_log_callback, rmq_set_log_callback};
pub use message::*;
pub use received::*;
pub use status::{rmq_status, rmq_status_str};
