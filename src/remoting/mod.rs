//! Transport: blocking TCP server and client over the remoting frame codec.
//!
//! Threads: the server owns one acceptor, one reader per connection (capped) and a fixed worker
//! pool per request family; the client owns one reader per pooled connection.

pub mod client;
pub mod connection;
pub mod error;
pub mod server;

pub use client::RemotingClient;
pub use connection::Connection;
pub use error::RemotingError;
pub use server::{Handler, PoolId, Reply, ReqCtx, Routes, Server, ServerConfig};
