//! What a request handler sees and returns: [`ReqCtx`] (where the request came from and how to
//! answer it, never a socket), [`Reply`] and the [`Handler`] trait.

use super::connection::Connection;
use super::hooks::HookList;
use crate::protocol::access::ResourceFn;
use crate::protocol::command::{RemotingCommand, SerializeType};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What a handler does with a request.
pub enum Reply {
    /// Send this response now.
    Respond(RemotingCommand),
    /// The handler kept the `ReqCtx` and will respond later (long polling, SYNC_FLUSH).
    Park,
    /// Send nothing.
    Nothing,
}

/// What the route table says about a request code, beyond its handler and pool.
#[derive(Clone, Copy, Default)]
pub struct RouteMeta {
    /// The resources a request of this code touches (for ACL); `None`: no topic or group.
    pub resources: Option<ResourceFn>,
    /// Only administrators may call it (ACL).
    pub admin: bool,
}

/// Where a request came from. Holds a handle to answer later, never a socket.
#[derive(Clone)]
pub struct ReqCtx {
    /// The connection the request arrived on.
    pub conn: Arc<Connection>,
    /// When the reader decoded it.
    pub arrived: Instant,
    /// Request code.
    pub code: i32,
    /// Request opaque.
    pub opaque: i32,
    /// Request header form (the response uses the same).
    pub form: SerializeType,
    /// Whether the request was one-way.
    pub oneway: bool,
    /// The route table's entry for the code.
    pub route: RouteMeta,
    hooks: Option<HookList>,
}

impl ReqCtx {
    /// The context of `cmd`, read from `conn`.
    pub(crate) fn new(conn: &Arc<Connection>, cmd: &RemotingCommand, hooks: &HookList) -> ReqCtx {
        ReqCtx {
            conn: conn.clone(),
            arrived: Instant::now(),
            code: cmd.code,
            opaque: cmd.opaque,
            form: cmd.serialize_type,
            oneway: cmd.is_oneway(),
            route: RouteMeta::default(),
            hooks: (!hooks.is_empty()).then(|| hooks.clone()),
        }
    }

    /// A two-way JSON request (opaque 1) from `peer` on a [`Connection::detached`] connection:
    /// what a handler answers later (after `Reply::Park`) lands in `conn.take_sent()`.
    pub fn detached(peer: SocketAddr) -> ReqCtx {
        ReqCtx {
            conn: Connection::detached(peer),
            arrived: Instant::now(),
            code: 0,
            opaque: 1,
            form: SerializeType::Json,
            oneway: false,
            route: RouteMeta::default(),
            hooks: None,
        }
    }

    /// Peer address.
    pub fn peer(&self) -> SocketAddr {
        self.conn.peer()
    }

    /// Answer the request: the `after` hooks run, then the answer is queued on the connection
    /// (no-op for one-way requests).
    pub fn respond(&self, resp: RemotingCommand) {
        if self.oneway {
            return;
        }
        self.run_after(Some(&resp));
        self.conn.respond(self.opaque, self.form, resp);
    }

    /// The request ends without an answer: the `after` hooks run with `None`.
    pub(crate) fn unanswered(&self) {
        self.run_after(None);
    }

    pub(crate) fn run_before(&self, cmd: &RemotingCommand) -> Result<(), super::hooks::Refusal> {
        if let Some(hooks) = &self.hooks {
            for h in hooks.iter() {
                h.before(self, cmd)?;
            }
        }
        Ok(())
    }

    fn run_after(&self, resp: Option<&RemotingCommand>) {
        if let Some(hooks) = &self.hooks {
            let elapsed = self.arrived.elapsed();
            for h in hooks.iter() {
                h.after(self, resp, elapsed);
            }
        }
    }
}

/// A request processor.
pub trait Handler: Send + Sync {
    /// Handle one request.
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply;
}

impl<F> Handler for F
where
    F: Fn(&ReqCtx, RemotingCommand) -> Reply + Send + Sync,
{
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        self(ctx, req)
    }
}
