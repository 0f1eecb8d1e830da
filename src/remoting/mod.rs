//! Transport: blocking TCP server and client over the remoting frame codec.
//!
//! Threads: a server owns one acceptor and one reader per connection (capped); its dispatcher
//! owns a fixed worker pool per request family and one writer poller; a client owns one reader
//! per pooled connection. Every frame a connection sends goes through its bounded outbound queue
//! (`outbound`); requests and responses pass the request hooks (`hooks`).

pub mod caps;
pub mod client;
pub mod connection;
pub mod dispatch;
pub mod error;
pub mod handler;
pub mod hooks;
pub mod outbound;
pub mod server;

pub use caps::ConnCaps;
pub use client::RemotingClient;
pub use connection::Connection;
pub use dispatch::{DispatchLimits, Dispatcher, PoolId, PoolStats, Port, Routes};
pub use error::RemotingError;
pub use handler::{Handler, Reply, ReqCtx, RouteMeta};
pub use hooks::{OutboundHook, Refusal, RequestHook};
pub use outbound::OutboundLimits;
pub use server::{Server, ServerConfig};
