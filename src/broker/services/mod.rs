//! The broker's background loops, each a `common::service` thread over the shared core.

pub(crate) mod housekeeping;
pub(crate) mod pull_hold;
pub mod register;
pub(crate) mod schedule;
pub mod slave_sync;
pub(crate) mod txn_check;
