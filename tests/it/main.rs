//! Integration tests: one binary (autotests = false) so two cores link once.

mod bad_input;
mod cli;
mod client;
mod crash;
mod ffi;
mod golden;
mod interop;
mod namesrv;
mod restart;
mod standalone;
mod util;
