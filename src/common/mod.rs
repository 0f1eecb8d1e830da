//! Base layer: errors, configuration files, service threads, files, time and checksums.

pub mod batch;
pub mod config;
pub mod crc;
pub mod fs;
pub mod logging;
pub mod oneshot;
pub mod service;
pub mod signals;
pub mod sys;
pub mod time;
