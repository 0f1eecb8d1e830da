//! Request hooks: the one door every request and response of a server passes, and the one
//! place every request of a client leaves by (Apache's RPCHook, remoting/RPCHook.java).
//! ACL is a `before`, metrics an `after`, request signing an [`OutboundHook`]; none of them is
//! sprinkled through handlers.
//!
//! Order, for each request a server reads (docs/ARCHITECTURE.md has the whole walk):
//! 1. The reader decodes the frame and looks its code up in the route table. An unknown code
//!    (or one the port does not serve) is answered REQUEST_CODE_NOT_SUPPORTED; no `before`
//!    runs, the `after` hooks do.
//! 2. The `before` hooks run in the order they were added, on the reader thread, before the
//!    request takes a pool slot. The first refusal answers the request with its code and
//!    remark; later `before` hooks and the handler do not run, the `after` hooks do.
//! 3. Admission: the connection's in-flight cap and the pool's queue; a refusal answers
//!    SYSTEM_BUSY (the `after` hooks run).
//! 4. The handler runs, inline on the reader or on a pool worker.
//! 5. The `after` hooks run once per request, in the order they were added, on the thread that
//!    answers, just before the answer is queued on the connection: the worker, or later the
//!    thread that completes a parked request (long-poll holder, flush responder). For a one-way
//!    request, or a handler that answers nothing, they run with `None` when the handler returns.

use super::handler::ReqCtx;
use crate::protocol::command::RemotingCommand;
use std::sync::Arc;
use std::time::Duration;

/// A request refused by a `before` hook: answered with this code and remark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Response code.
    pub code: i32,
    /// Response remark.
    pub remark: String,
}

impl Refusal {
    /// A refusal with `code` and `remark`.
    pub fn new(code: i32, remark: impl Into<String>) -> Refusal {
        Refusal { code, remark: remark.into() }
    }
}

/// Runs around every request a server serves (see the module docs for the order).
pub trait RequestHook: Send + Sync {
    /// Before the request is admitted; `Err` answers it with the refusal.
    fn before(&self, ctx: &ReqCtx, cmd: &RemotingCommand) -> Result<(), Refusal> {
        let _ = (ctx, cmd);
        Ok(())
    }

    /// When the request is answered (`None`: one-way, or nothing to answer), `elapsed` after
    /// the reader decoded it.
    fn after(&self, ctx: &ReqCtx, resp: Option<&RemotingCommand>, elapsed: Duration) {
        let _ = (ctx, resp, elapsed);
    }
}

/// Runs on every request a [`super::RemotingClient`] sends, just before it is encoded (request
/// signing adds its fields here).
pub trait OutboundHook: Send + Sync {
    /// Edit `cmd`, about to go to `addr`.
    fn before_send(&self, addr: &str, cmd: &mut RemotingCommand);
}

/// The hooks of a server, in the order they run.
pub(crate) type HookList = Arc<[Arc<dyn RequestHook>]>;
