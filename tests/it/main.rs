//! Integration tests: one binary (autotests = false) so two cores link once.

mod bad_input;
mod cli;
mod consume;
mod crash;
mod golden;
mod interop;
mod namesrv;
mod restart;
mod standalone;
mod util;
