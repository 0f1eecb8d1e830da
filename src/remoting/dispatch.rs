//! The route table and the dispatcher that serves it (issue 12 point 1).
//!
//! [`Routes`] is built once per server process: each request code maps to its handler, its
//! worker pool, whether the reader may run it inline, whether the fast port serves it, and what
//! ACL needs to know (its resources, admin-only). It is the only list of codes: a code that is
//! not in it is answered REQUEST_CODE_NOT_SUPPORTED. A [`Dispatcher`] owns the pools (one
//! fixed pool per request family fed by a capped queue, NettyRemotingAbstract's
//! processorTable), the hooks and the writer poller; every port of the server shares it, as
//! Apache's main and VIP ports share their executors.

use super::connection::Connection;
use super::handler::{Handler, Reply, ReqCtx, RouteMeta};
use super::hooks::{HookList, RequestHook};
use super::outbound::Poller;
use crate::common::service::spawn_thread;
use crate::protocol::access::ResourceFn;
use crate::protocol::codes::response;
use crate::protocol::command::RemotingCommand;
use crossbeam_channel::{unbounded, Sender};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Index of a worker pool in a [`Routes`] table.
#[derive(Clone, Copy, Debug)]
pub struct PoolId(usize);

struct PoolSpec {
    name: String,
    threads: usize,
    queue: usize,
}

/// Which listener a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Port {
    /// The main port (listenPort).
    #[default]
    Main,
    /// The fast (VIP) port, listenPort - 2: every route but the main-port-only ones.
    Fast,
}

/// Called when a connection closes.
pub type CloseHook = Arc<dyn Fn(&Arc<Connection>) + Send + Sync>;

struct Route {
    pool: usize,
    inline: bool,
    main_only: bool,
    /// The handler takes a request body left in the read buffer (see [`RouteOpts::shared_body`]).
    shared_body: bool,
    handler: Arc<dyn Handler>,
    meta: RouteMeta,
}

/// The request-code table of a server, with its pools and hooks.
#[derive(Default)]
pub struct Routes {
    pools: Vec<PoolSpec>,
    table: HashMap<i32, Route>,
    hooks: Vec<Arc<dyn RequestHook>>,
    on_close: Option<CloseHook>,
}

/// Options of the routes just added by [`Routes::route`].
pub struct RouteOpts<'a> {
    routes: &'a mut Routes,
    codes: Vec<i32>,
}

impl RouteOpts<'_> {
    fn each(self, f: impl Fn(&mut Route)) -> Self {
        for c in &self.codes {
            if let Some(r) = self.routes.table.get_mut(c) {
                f(r);
            }
        }
        self
    }

    /// Let the connection's reader run these itself while their pool is idle (nothing queued,
    /// nothing of the pool running). For short, non-blocking handlers only: it saves the
    /// hand-off to a worker and back (two thread wake-ups per request), as Netty runs such work
    /// on its I/O thread. Under load the pool takes over again, with its bounded queue and
    /// SYSTEM_BUSY answers; while a reader runs a request inline it reads nothing else from
    /// that connection (TCP flow control).
    pub fn inline(self) -> Self {
        self.each(|r| r.inline = true)
    }

    /// Serve these on the main port only (Apache serves no pulls on the fast port).
    pub fn main_port_only(self) -> Self {
        self.each(|r| r.main_only = true)
    }

    /// These handlers take a request's body as the reader left it: a long body stays in the
    /// connection's read buffer, a [`crate::protocol::command::BodyRef`] in the command's tail,
    /// which [`RemotingCommand::take_body`] hands over without a copy (sends, whose body goes
    /// from there straight into the commit log). Every other handler gets the body in
    /// `cmd.body`, flattened by the dispatcher.
    pub fn shared_body(self) -> Self {
        self.each(|r| r.shared_body = true)
    }

    /// The resources a request of these codes touches, for ACL.
    pub fn resources(self, f: ResourceFn) -> Self {
        self.each(|r| r.meta.resources = Some(f))
    }

    /// Only administrators may call these.
    pub fn admin(self) -> Self {
        self.each(|r| r.meta.admin = true)
    }
}

impl Routes {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declare a worker pool of `threads` threads with a queue of `queue` requests.
    pub fn pool(&mut self, name: &str, threads: usize, queue: usize) -> PoolId {
        self.pools.push(PoolSpec {
            name: name.into(),
            threads: threads.max(1),
            queue: queue.max(1),
        });
        PoolId(self.pools.len() - 1)
    }

    /// Route each of `codes` to `handler` on `pool`; the returned options refine them.
    pub fn route(
        &mut self,
        codes: &[i32],
        pool: PoolId,
        handler: Arc<dyn Handler>,
    ) -> RouteOpts<'_> {
        for &code in codes {
            let route = Route {
                pool: pool.0,
                inline: false,
                main_only: false,
                shared_body: false,
                handler: handler.clone(),
                meta: RouteMeta::default(),
            };
            if self.table.insert(code, route).is_some() {
                log::warn!("request code routed twice code={code}");
            }
        }
        RouteOpts { routes: self, codes: codes.to_vec() }
    }

    /// Route `code` to `handler` on `pool`.
    pub fn register(&mut self, code: i32, pool: PoolId, handler: Arc<dyn Handler>) {
        self.route(&[code], pool, handler);
    }

    /// Add a request hook; hooks run in the order they were added.
    pub fn hook(&mut self, hook: Arc<dyn RequestHook>) {
        self.hooks.push(hook);
    }

    /// Call `hook` when a connection closes.
    pub fn on_close(&mut self, hook: CloseHook) {
        self.on_close = Some(hook);
    }

    /// Every routed code, ascending.
    pub fn codes(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.table.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// The handler of `code` (handler tests drive processors through the real table).
    pub fn handler(&self, code: i32) -> Option<Arc<dyn Handler>> {
        self.table.get(&code).map(|r| r.handler.clone())
    }

    /// The route of `code`: (pool name, inline, main port only, meta).
    pub fn describe(&self, code: i32) -> Option<(&str, bool, bool, RouteMeta)> {
        let r = self.table.get(&code)?;
        let pool = self.pools.get(r.pool).map_or("", |p| p.name.as_str());
        Some((pool, r.inline, r.main_only, r.meta))
    }
}

/// Per-connection admission limits.
#[derive(Debug, Clone, Copy)]
pub struct DispatchLimits {
    /// Requests of one connection queued or running at once; more are answered SYSTEM_BUSY, so
    /// one peer cannot fill a pool's queue for everyone.
    pub max_in_flight_per_connection: usize,
}

impl Default for DispatchLimits {
    fn default() -> Self {
        DispatchLimits { max_in_flight_per_connection: 4096 }
    }
}

struct Job {
    handler: Arc<dyn Handler>,
    ctx: ReqCtx,
    cmd: RemotingCommand,
}

struct Pool {
    name: String,
    capacity: usize,
    /// The queue: an unbounded channel whose length `queued` caps, so a large capacity costs
    /// nothing until used (a bounded channel allocates and touches every slot up front: the
    /// default 100 000-request pull queue alone was 21 MB of resident memory).
    sender: RwLock<Option<Sender<Box<Job>>>>,
    queued: AtomicUsize,
    /// Requests running (on a worker or inline on a reader).
    active: AtomicUsize,
    /// Requests refused because the queue was full.
    rejected: AtomicU64,
    /// When each of the last [`ARRIVALS`] queued requests arrived (ms since the dispatcher
    /// started), by enqueue sequence: the head of the queue is `arrivals[dequeued % ARRIVALS]`
    /// (Apache's headSlowTimeMills peeks at its queue; a channel cannot be peeked).
    arrivals: Box<[AtomicU64]>,
    enqueued: AtomicU64,
    dequeued: AtomicU64,
}

/// Arrival times kept per pool for the head-wait figure. With more requests queued than this,
/// the head's slot holds a later arrival and the figure is a lower bound.
const ARRIVALS: usize = 256;

/// A pool's load, for runtime info and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// Pool name.
    pub name: String,
    /// Requests waiting in its queue.
    pub queued: usize,
    /// Its queue capacity.
    pub capacity: usize,
    /// Requests running now.
    pub active: usize,
    /// Requests refused with SYSTEM_BUSY because the queue was full, since start.
    pub rejected: u64,
    /// How long the request at the head of the queue has waited (0 when the queue is empty;
    /// Apache's headSlowTimeMills).
    pub head_wait_ms: u64,
}

/// Serves a [`Routes`] table for every port of a server.
pub struct Dispatcher {
    table: HashMap<i32, Route>,
    pools: Vec<Pool>,
    hooks: HookList,
    on_close: Option<CloseHook>,
    poller: Arc<Poller>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// `drain` waits here for inline requests; a reader that ends one while draining notifies.
    inline_done: (Mutex<()>, Condvar),
    stopped: AtomicBool,
    limits: DispatchLimits,
    /// The origin of the pools' arrival times.
    epoch: Instant,
}

impl Dispatcher {
    /// Start the pools of `routes` (threads named `<name>-<pool>-<i>`) and the writer poller.
    pub fn start(
        name: &str,
        routes: Routes,
        limits: DispatchLimits,
    ) -> io::Result<Arc<Dispatcher>> {
        let mut pools = Vec::new();
        let mut receivers = Vec::new();
        for p in &routes.pools {
            let (tx, rx) = unbounded::<Box<Job>>();
            pools.push(Pool {
                name: p.name.clone(),
                capacity: p.queue,
                sender: RwLock::new(Some(tx)),
                queued: AtomicUsize::new(0),
                active: AtomicUsize::new(0),
                rejected: AtomicU64::new(0),
                arrivals: (0..ARRIVALS).map(|_| AtomicU64::new(0)).collect(),
                enqueued: AtomicU64::new(0),
                dequeued: AtomicU64::new(0),
            });
            receivers.push((rx, p.threads));
        }
        let d = Arc::new(Dispatcher {
            table: routes.table,
            pools,
            hooks: routes.hooks.into(),
            on_close: routes.on_close,
            poller: Poller::start(&format!("{name}-writer"))?,
            workers: Mutex::new(Vec::new()),
            inline_done: (Mutex::new(()), Condvar::new()),
            stopped: AtomicBool::new(false),
            limits,
            epoch: Instant::now(),
        });
        for (p, (rx, threads)) in receivers.into_iter().enumerate() {
            for i in 0..threads {
                let rx = rx.clone();
                let me = d.clone();
                let pool_name = d.pools.get(p).map_or("", |x| x.name.as_str());
                let h = spawn_thread(format!("{name}-{pool_name}-{i}"), move || {
                    let Some(pool) = me.pools.get(p) else { return };
                    while let Ok(job) = rx.recv() {
                        pool.dequeued.fetch_add(1, Ordering::AcqRel);
                        pool.queued.fetch_sub(1, Ordering::AcqRel);
                        pool.active.fetch_add(1, Ordering::AcqRel);
                        run_job(*job);
                        pool.active.fetch_sub(1, Ordering::AcqRel);
                    }
                });
                d.workers.lock().push(h?);
            }
        }
        Ok(d)
    }

    /// The writer poller of this server's connections.
    pub(crate) fn poller(&self) -> &Arc<Poller> {
        &self.poller
    }

    /// The load of each pool.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        let now = self.since_epoch_ms();
        self.pools
            .iter()
            .map(|p| {
                let queued = p.queued.load(Ordering::Acquire);
                let (enq, deq) =
                    (p.enqueued.load(Ordering::Acquire), p.dequeued.load(Ordering::Acquire));
                let head_wait_ms = if queued > 0 && enq > deq {
                    let at = p
                        .arrivals
                        .get((deq % ARRIVALS as u64) as usize)
                        .map_or(now, |a| a.load(Ordering::Acquire));
                    now.saturating_sub(at)
                } else {
                    0
                };
                PoolStats {
                    name: p.name.clone(),
                    queued,
                    capacity: p.capacity,
                    active: p.active.load(Ordering::Acquire),
                    rejected: p.rejected.load(Ordering::Relaxed),
                    head_wait_ms,
                }
            })
            .collect()
    }

    fn since_epoch_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A connection closed: tell the route table's owner.
    pub(crate) fn connection_closed(&self, conn: &Arc<Connection>) {
        if let Some(h) = &self.on_close {
            h(conn);
        }
    }

    /// Route one request read from `conn` on `port`.
    pub(crate) fn dispatch(&self, conn: &Arc<Connection>, mut cmd: RemotingCommand, port: Port) {
        let mut ctx = ReqCtx::new(conn, &cmd, &self.hooks);
        let route = self.table.get(&cmd.code).filter(|r| port == Port::Main || !r.main_only);
        let Some(route) = route else {
            log::debug!("unsupported request code={} peer={}", cmd.code, conn.peer());
            ctx.respond(RemotingCommand::error(
                response::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {} not supported", cmd.code),
            ));
            return;
        };
        ctx.route = route.meta;
        if !route.shared_body {
            cmd.flatten_tail();
        }
        log::debug!("request code={} peer={} opaque={}", cmd.code, conn.peer(), cmd.opaque);
        if self.stopped.load(Ordering::Acquire) {
            // Draining for shutdown: refuse clearly rather than drop (clients retry elsewhere).
            ctx.respond(RemotingCommand::error(
                response::SERVICE_NOT_AVAILABLE,
                "the server is shutting down",
            ));
            return;
        }
        if let Err(r) = ctx.run_before(&cmd) {
            log::debug!(
                "request refused code={} peer={} remark={}",
                cmd.code,
                conn.peer(),
                r.remark
            );
            ctx.respond(RemotingCommand::error(r.code, r.remark));
            return;
        }
        if !conn.try_begin_request(self.limits.max_in_flight_per_connection) {
            log::warn!("too many requests in flight peer={} code={}", conn.peer(), cmd.code);
            busy(&ctx, "[OVERLOAD]too many requests in flight on this connection");
            return;
        }
        let Some(pool) = self.pools.get(route.pool) else {
            conn.end_request();
            return;
        };
        let mut job = Job { handler: route.handler.clone(), ctx, cmd };
        if route.inline {
            match self.try_inline(pool, job) {
                None => return,
                Some(j) => job = j,
            }
        }
        let code = job.cmd.code;
        let sender = pool.sender.read();
        let Some(tx) = sender.as_ref() else {
            drop(sender);
            conn.end_request();
            job.ctx.respond(RemotingCommand::error(
                response::SERVICE_NOT_AVAILABLE,
                "the server is shutting down",
            ));
            return;
        };
        let admitted = pool
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < pool.capacity).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            drop(sender);
            pool.rejected.fetch_add(1, Ordering::Relaxed);
            log::warn!("pool full pool={} code={} peer={}", pool.name, code, conn.peer());
            job.ctx.conn.end_request();
            busy(&job.ctx, "[OVERLOAD]system busy, start flow control for a while");
            return;
        }
        let at = job.ctx.arrived.saturating_duration_since(self.epoch).as_millis() as u64;
        let seq = pool.enqueued.fetch_add(1, Ordering::AcqRel);
        if let Some(slot) = pool.arrivals.get((seq % ARRIVALS as u64) as usize) {
            slot.store(at, Ordering::Release);
        }
        if let Err(e) = tx.send(Box::new(job)) {
            // The workers are gone (drain raced this dispatch): refuse as shutting down.
            drop(sender);
            let job = e.into_inner();
            pool.dequeued.fetch_add(1, Ordering::AcqRel);
            pool.queued.fetch_sub(1, Ordering::AcqRel);
            job.ctx.conn.end_request();
            job.ctx.respond(RemotingCommand::error(
                response::SERVICE_NOT_AVAILABLE,
                "the server is shutting down",
            ));
        }
    }

    /// Run a request on the reader when its pool is idle; gives the job back otherwise. Claims
    /// the pool first, then checks it is still open: `drain` closes the senders before waiting
    /// for `active` to reach zero, so either it waits for this request or this request sees
    /// the pool closed.
    fn try_inline(&self, pool: &Pool, job: Job) -> Option<Job> {
        if pool.active.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Some(job);
        }
        let idle = pool.queued.load(Ordering::Acquire) == 0 && pool.sender.read().is_some();
        let rest = if idle {
            run_job(job);
            None
        } else {
            Some(job)
        };
        pool.active.fetch_sub(1, Ordering::SeqCst);
        if self.stopped.load(Ordering::SeqCst) {
            let (lock, cv) = &self.inline_done;
            let _g = lock.lock();
            cv.notify_all();
        }
        rest
    }

    /// Refuse new requests (SERVICE_NOT_AVAILABLE), then let the workers answer every request
    /// already queued, and wait for inline ones. Idempotent.
    pub fn drain(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        for p in &self.pools {
            p.sender.write().take();
        }
        let workers: Vec<_> = self.workers.lock().drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let (lock, cv) = &self.inline_done;
        let mut g = lock.lock();
        while self.pools.iter().any(|p| p.active.load(Ordering::SeqCst) > 0) {
            if cv.wait_until(&mut g, deadline).timed_out() {
                log::warn!("drain gave up waiting for inline requests after 30 s");
                break;
            }
        }
    }

    /// Drain, then stop the writer poller.
    pub fn stop(&self) {
        self.drain();
        self.poller.stop();
    }
}

/// SYSTEM_BUSY, written even for one-way requests (Java does: it is flow control).
fn busy(ctx: &ReqCtx, why: &str) {
    let resp = RemotingCommand::error(response::SYSTEM_BUSY, why);
    if ctx.oneway {
        ctx.unanswered();
        ctx.conn.respond(ctx.opaque, ctx.form, resp);
    } else {
        ctx.respond(resp);
    }
}

fn run_job(job: Job) {
    let Job { handler, ctx, cmd } = job;
    let code = cmd.code;
    let reply =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.handle(&ctx, cmd)));
    ctx.conn.end_request();
    match reply {
        Ok(Reply::Respond(resp)) if !ctx.oneway => ctx.respond(resp),
        Ok(Reply::Park) => {}
        Ok(_) => ctx.unanswered(),
        Err(_) => {
            log::error!("handler panicked code={} peer={}", code, ctx.peer());
            ctx.respond(RemotingCommand::error(
                response::SYSTEM_ERROR,
                format!("internal error handling request code {code}"),
            ));
            if ctx.oneway {
                ctx.unanswered();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command::RemotingCommand;

    #[test]
    fn pool_stats_show_depth_head_wait_and_refusals() {
        let (gate_tx, gate_rx) = crossbeam_channel::unbounded::<()>();
        let mut routes = Routes::new();
        let pool = routes.pool("slow", 1, 2);
        let gate = Mutex::new(gate_rx);
        routes.register(
            7,
            pool,
            Arc::new(move |_: &ReqCtx, _: RemotingCommand| {
                let _ = gate.lock().recv();
                Reply::Respond(RemotingCommand::success())
            }),
        );
        let d = Dispatcher::start("t", routes, DispatchLimits::default()).unwrap();
        let conn = Connection::detached("127.0.0.1:9".parse().unwrap());
        let slow = || d.pool_stats().into_iter().find(|p| p.name == "slow").unwrap();
        d.dispatch(&conn, RemotingCommand::request(7), Port::Main);
        // The first is taken by the worker; wait for that before queueing two more.
        let t0 = Instant::now();
        while slow().active == 0 && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        d.dispatch(&conn, RemotingCommand::request(7), Port::Main);
        d.dispatch(&conn, RemotingCommand::request(7), Port::Main);
        d.dispatch(&conn, RemotingCommand::request(7), Port::Main);
        std::thread::sleep(Duration::from_millis(30));
        let s = slow();
        assert_eq!((s.queued, s.capacity, s.active, s.rejected), (2, 2, 1, 1), "{s:?}");
        assert!(s.head_wait_ms >= 25, "the head has waited about 30 ms: {s:?}");
        let busy = conn.take_sent();
        assert_eq!(busy.len(), 1, "the fourth was refused at once");
        assert_eq!(busy[0].code, response::SYSTEM_BUSY);
        for _ in 0..3 {
            gate_tx.send(()).unwrap();
        }
        let t0 = Instant::now();
        while (slow().queued > 0 || slow().active > 0) && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let s = slow();
        assert_eq!((s.queued, s.head_wait_ms, s.rejected), (0, 0, 1), "{s:?}");
        d.stop();
    }
}
