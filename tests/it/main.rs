//! Integration tests: one binary (autotests = false) so two cores link once.

mod admin;
mod arch;
mod bad_input;
mod cli;
mod client;
mod compat;
mod consume;
mod crash;
mod ffi;
mod ffi_more;
mod gaps;
mod golden;
mod interop;
mod multi;
mod namesrv;
mod netns;
mod proto;
mod query;
mod restart;
mod retention;
mod shutdown;
mod standalone;
mod torn;
mod txn;
mod util;
