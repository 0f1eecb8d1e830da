//! Integration tests: one binary (autotests = false) so two cores link once.

mod admin;
mod admin_cli;
mod admin_lib;
mod arch;
mod bad_input;
mod cli;
mod client;
mod consume;
mod crash;
mod ffi;
mod ffi_more;
mod gaps;
mod golden;
mod interop;
mod metrics;
mod multi;
mod namesrv;
mod proto;
mod query;
mod restart;
mod retention;
mod shutdown;
mod standalone;
mod torn;
mod txn;
mod util;
