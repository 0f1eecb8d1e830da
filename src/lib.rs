//! rmq: a RocketMQ 4.x wire-compatible name server, broker, store and client, on std threads.
//!
//! Layers (see `../shared/docs/STYLE.md`): `common` (base), `protocol` (pure bytes <-> values),
//! `remoting` (transport), `store` (engine), `metrics`, `namesrv` and `broker` (services),
//! `client`, `admin` (operator operations over the client).
//! `remoting` (transport), `store` and `ha` (engines), `namesrv` and `broker` (services),
//! `client`.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod acl;
pub mod admin;
pub mod broker;
pub mod client;
pub mod common;
pub mod ha;
pub mod metrics;
pub mod namesrv;
pub mod protocol;
pub mod remoting;
pub mod store;
