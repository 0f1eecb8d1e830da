//! Integration tests: one binary (autotests = false) so two cores link once.

mod admin;
mod bad_input;
mod cli;
mod crash;
mod golden;
mod interop;
mod multi;
mod namesrv;
mod proto;
mod restart;
mod shutdown;
mod standalone;
mod util;
