//! Integration tests: one binary (autotests = false) so two cores link once.

mod arch;
mod bad_input;
mod cli;
mod client;
mod crash;
mod golden;
mod interop;
mod namesrv;
mod query;
mod restart;
mod retention;
mod standalone;
mod torn;
mod util;
