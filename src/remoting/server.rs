//! Blocking remoting server: one acceptor, a reader per connection (capped), and a fixed worker
//! pool per request family fed by bounded channels (NettyRemotingAbstract's processorTable).

use super::connection::{read_loop, Connection};
use crate::common::service::spawn_thread;
use crate::protocol::codes::response;
use crate::protocol::command::{RemotingCommand, SerializeType};
use crate::protocol::frame::DEFAULT_MAX_FRAME;
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a handler does with a request.
pub enum Reply {
    /// Send this response now.
    Respond(RemotingCommand),
    /// The handler kept the `ReqCtx` and will respond later (long polling).
    Park,
    /// Send nothing.
    Nothing,
}

/// Where a request came from. Holds a handle to answer later, never a socket.
#[derive(Clone)]
pub struct ReqCtx {
    /// The connection the request arrived on.
    pub conn: Arc<Connection>,
    /// When the reader decoded it.
    pub arrived: Instant,
    /// Request opaque.
    pub opaque: i32,
    /// Request header form (the response uses the same).
    pub form: SerializeType,
    /// Whether the request was one-way.
    pub oneway: bool,
}

impl ReqCtx {
    /// A two-way JSON request (opaque 1) from `peer` on a [`Connection::detached`] connection:
    /// what a handler answers later (after `Reply::Park`) lands in `conn.take_sent()`.
    pub fn detached(peer: SocketAddr) -> ReqCtx {
        ReqCtx {
            conn: Connection::detached(peer),
            arrived: Instant::now(),
            opaque: 1,
            form: SerializeType::Json,
            oneway: false,
        }
    }

    /// Peer address.
    pub fn peer(&self) -> SocketAddr {
        self.conn.peer()
    }

    /// Answer the request (no-op for one-way requests).
    pub fn respond(&self, resp: RemotingCommand) {
        if !self.oneway {
            self.conn.respond(self.opaque, self.form, resp);
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

/// Index of a worker pool in a `Routes` table.
#[derive(Clone, Copy, Debug)]
pub struct PoolId(usize);

struct PoolSpec {
    name: String,
    threads: usize,
    queue: usize,
}

type CloseHook = Arc<dyn Fn(&Arc<Connection>) + Send + Sync>;

/// A route: pool index, whether it may run inline on the reader thread, handler.
type Route = (usize, bool, Arc<dyn Handler>);

/// The request-code table: code → (pool, handler).
pub struct Routes {
    pools: Vec<PoolSpec>,
    table: HashMap<i32, Route>,
    on_close: Option<CloseHook>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    /// An empty table.
    pub fn new() -> Self {
        Routes { pools: Vec::new(), table: HashMap::new(), on_close: None }
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

    /// Route `code` to `handler` on `pool`.
    pub fn register(&mut self, code: i32, pool: PoolId, handler: Arc<dyn Handler>) {
        self.table.insert(code, (pool.0, false, handler));
    }

    /// Route `code` to `handler` on `pool`, and let the connection's reader thread run it itself
    /// while that pool is idle (nothing queued, no request of the pool running). For short,
    /// non-blocking handlers only: it saves the hand-off to a worker and back (two thread
    /// wake-ups per request), as Netty runs such work on its I/O thread. Under load the pool
    /// takes over again, with its bounded queue and SYSTEM_BUSY answers; while a reader runs a
    /// request inline it reads nothing else from that connection (TCP flow control).
    pub fn register_inline(&mut self, code: i32, pool: PoolId, handler: Arc<dyn Handler>) {
        self.table.insert(code, (pool.0, true, handler));
    }

    /// Call `hook` when a connection closes.
    pub fn on_close(&mut self, hook: CloseHook) {
        self.on_close = Some(hook);
    }
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Name used in thread names and logs.
    pub name: String,
    /// Address to bind (port 0 picks a free port).
    pub bind: SocketAddr,
    /// Frame size cap (bytes, length word included).
    pub max_frame: usize,
    /// Connection cap; extra connections are closed at once.
    pub max_connections: usize,
    /// How long a write to a peer may block before its connection is closed: a peer that stops
    /// reading must not hold a thread that answers it (a worker, the pull holder, the store's
    /// responder) for ever.
    pub write_timeout: Duration,
}

impl ServerConfig {
    /// Defaults for `name` on `bind`.
    pub fn new(name: &str, bind: SocketAddr) -> Self {
        ServerConfig {
            name: name.into(),
            bind,
            max_frame: DEFAULT_MAX_FRAME,
            max_connections: 4096,
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// A live connection and its reader thread.
type ConnEntry = (Arc<Connection>, Option<JoinHandle<()>>);

struct Job {
    handler: Arc<dyn Handler>,
    ctx: ReqCtx,
    cmd: RemotingCommand,
}

struct Shared {
    cfg: ServerConfig,
    stopped: AtomicBool,
    table: HashMap<i32, Route>,
    senders: Mutex<Vec<Sender<Job>>>,
    /// Requests running per pool (on its workers or inline on a reader).
    active: Vec<Arc<AtomicUsize>>,
    /// `drain` waits here for inline requests to finish; a reader that ends one while the server
    /// is stopped notifies it.
    inline_done: (Mutex<()>, Condvar),
    pool_names: Vec<String>,
    conns: Mutex<HashMap<u64, ConnEntry>>,
    on_close: Option<CloseHook>,
}

/// A running server. `shutdown` (or drop) stops it.
pub struct Server {
    shared: Arc<Shared>,
    local: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
    closed: bool,
}

impl Server {
    /// Bind and start serving `routes`.
    pub fn start(cfg: ServerConfig, routes: Routes) -> io::Result<Server> {
        let listener = TcpListener::bind(cfg.bind)?;
        Self::start_on(cfg, listener, routes)
    }

    /// Start serving `routes` on an already bound listener (so the caller knows the port first).
    pub fn start_on(
        cfg: ServerConfig,
        listener: TcpListener,
        routes: Routes,
    ) -> io::Result<Server> {
        let local = listener.local_addr()?;
        let mut senders = Vec::new();
        let mut receivers: Vec<(String, usize, Receiver<Job>)> = Vec::new();
        for p in &routes.pools {
            let (tx, rx) = bounded(p.queue);
            senders.push(tx);
            receivers.push((p.name.clone(), p.threads, rx));
        }
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            stopped: AtomicBool::new(false),
            table: routes.table,
            senders: Mutex::new(senders),
            pool_names: routes.pools.iter().map(|p| p.name.clone()).collect(),
            active: routes.pools.iter().map(|_| Arc::new(AtomicUsize::new(0))).collect(),
            inline_done: (Mutex::new(()), Condvar::new()),
            conns: Mutex::new(HashMap::new()),
            on_close: routes.on_close,
        });
        let mut workers = Vec::new();
        for (p, (name, threads, rx)) in receivers.into_iter().enumerate() {
            for i in 0..threads {
                let rx = rx.clone();
                let active = shared.active[p].clone();
                workers.push(spawn_thread(format!("{}-{}-{}", cfg.name, name, i), move || {
                    while let Ok(job) = rx.recv() {
                        active.fetch_add(1, Ordering::AcqRel);
                        run_job(job);
                        active.fetch_sub(1, Ordering::AcqRel);
                    }
                })?);
            }
        }
        let sh = shared.clone();
        let acceptor =
            spawn_thread(format!("{}-accept", cfg.name), move || accept_loop(listener, sh))?;
        log::info!("server started name={} listen={}", cfg.name, local);
        Ok(Server { shared, local, acceptor: Some(acceptor), workers, closed: false })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// First half of a graceful stop: stop accepting, answer requests that arrive from now on
    /// with SERVICE_NOT_AVAILABLE ("shutting down"), and let the workers finish and answer every
    /// request already queued in the pools, over connections that are still open. Idempotent.
    pub fn drain(&mut self) {
        if self.shared.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // Unblock accept() with a connection to ourselves.
        let mut wake = self.local;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        // With the senders gone, dispatch refuses new work; workers drain the queues and exit.
        self.shared.senders.lock().clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        // Requests a reader runs inline are answered before the drain completes too.
        let deadline = Instant::now() + Duration::from_secs(30);
        let (lock, cv) = &self.shared.inline_done;
        let mut g = lock.lock();
        while self.shared.active.iter().any(|a| a.load(Ordering::SeqCst) > 0) {
            if cv.wait_until(&mut g, deadline).timed_out() {
                log::warn!("server drain gave up waiting for inline requests after 30 s");
                break;
            }
        }
        drop(g);
        log::info!("server drained name={} listen={}", self.shared.cfg.name, self.local);
    }

    /// Stop: drain (if not done yet), then close every connection and join the readers.
    pub fn shutdown(&mut self) {
        self.drain();
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let conns: Vec<_> = self.shared.conns.lock().drain().collect();
        for (_, (c, h)) in conns {
            c.close();
            if let Some(h) = h {
                let _ = h.join();
            }
        }
        log::info!("server stopped name={} listen={}", self.shared.cfg.name, self.local);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run_job(job: Job) {
    let Job { handler, ctx, cmd } = job;
    let code = cmd.code;
    let reply =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.handle(&ctx, cmd)));
    match reply {
        Ok(Reply::Respond(resp)) => ctx.respond(resp),
        Ok(Reply::Park) | Ok(Reply::Nothing) => {}
        Err(_) => {
            log::error!("handler panicked code={} peer={}", code, ctx.peer());
            ctx.respond(RemotingCommand::error(
                response::SYSTEM_ERROR,
                format!("internal error handling request code {code}"),
            ));
        }
    }
}

/// Release an inline claim on a pool. `drain` sets `stopped` before it checks `active` under
/// the lock: either it sees this claim released, or this sees `stopped` and wakes it.
fn end_inline(shared: &Shared, active: &AtomicUsize) {
    active.fetch_sub(1, Ordering::SeqCst);
    if shared.stopped.load(Ordering::SeqCst) {
        let (lock, cv) = &shared.inline_done;
        let _g = lock.lock();
        cv.notify_all();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopped.load(Ordering::Acquire) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                log::warn!("accept failed name={} err={}", shared.cfg.name, e);
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.conns.lock().len() >= shared.cfg.max_connections {
            log::warn!(
                "connection refused name={} reason=\"connection limit reached\"",
                shared.cfg.name
            );
            continue;
        }
        let setup = stream.set_write_timeout(Some(shared.cfg.write_timeout));
        let conn = match setup.and_then(|()| stream.try_clone()).and_then(Connection::new) {
            Ok(c) => c,
            Err(e) => {
                log::warn!("connection setup failed err={e}");
                continue;
            }
        };
        conn.batch_writes();
        log::debug!("connection opened name={} peer={}", shared.cfg.name, conn.peer());
        let sh = shared.clone();
        let c2 = conn.clone();
        let id = conn.id();
        // Register before the reader starts so that its exit always finds the entry.
        shared.conns.lock().insert(id, (conn.clone(), None));
        let name = format!("{}-conn-{}", shared.cfg.name, id);
        match spawn_thread(name, move || {
            let max = sh.cfg.max_frame;
            read_loop(&c2, stream, max, |conn, cmd| dispatch(&sh, conn, cmd));
            log::debug!("connection closed name={} peer={}", sh.cfg.name, c2.peer());
            if let Some(h) = &sh.on_close {
                h(&c2);
            }
            // Dropping our own JoinHandle detaches; shutdown joins the ones still present.
            let _ = sh.conns.lock().remove(&c2.id());
        }) {
            Ok(h) => {
                if let Some(e) = shared.conns.lock().get_mut(&id) {
                    e.1 = Some(h);
                }
            }
            Err(e) => {
                log::warn!("cannot start connection reader err={e}");
                shared.conns.lock().remove(&id);
                conn.close();
            }
        }
    }
}

fn dispatch(shared: &Arc<Shared>, conn: &Arc<Connection>, cmd: RemotingCommand) {
    let ctx = ReqCtx {
        conn: conn.clone(),
        arrived: Instant::now(),
        opaque: cmd.opaque,
        form: cmd.serialize_type,
        oneway: cmd.is_oneway(),
    };
    let Some((pool, inline, handler)) = shared.table.get(&cmd.code) else {
        log::debug!("unsupported request code={} peer={}", cmd.code, conn.peer());
        ctx.respond(RemotingCommand::error(
            response::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", cmd.code),
        ));
        return;
    };
    if *inline {
        // Claim the idle pool first, then check it is still open: `drain` clears the senders
        // before waiting for `active` to reach zero, so either it waits for this request or
        // this request sees the pool closed and is refused below.
        let active = &shared.active[*pool];
        if active.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            let idle = shared.senders.lock().get(*pool).is_some_and(|tx| tx.is_empty());
            if idle {
                run_job(Job { handler: handler.clone(), ctx, cmd });
                end_inline(shared, active);
                return;
            }
            end_inline(shared, active);
        }
    }
    let sender = shared.senders.lock().get(*pool).cloned();
    let Some(sender) = sender else {
        // Draining for shutdown: refuse clearly rather than drop (clients retry elsewhere).
        ctx.respond(RemotingCommand::error(
            response::SERVICE_NOT_AVAILABLE,
            "the server is shutting down",
        ));
        return;
    };
    let code = cmd.code;
    match sender.try_send(Job { handler: handler.clone(), ctx, cmd }) {
        Ok(()) => {}
        Err(TrySendError::Full(job)) => {
            let name = shared.pool_names.get(*pool).cloned().unwrap_or_default();
            log::warn!("pool full pool={} code={} peer={}", name, code, conn.peer());
            // Java writes SYSTEM_BUSY even for one-way requests (flow control).
            job.ctx.conn.respond(
                job.ctx.opaque,
                job.ctx.form,
                RemotingCommand::error(
                    response::SYSTEM_BUSY,
                    "[OVERLOAD]system busy, start flow control for a while",
                ),
            );
        }
        Err(TrySendError::Disconnected(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::frame;
    use crate::remoting::RemotingClient;
    use std::io::{Read, Write};

    #[test]
    fn a_peer_that_stops_reading_is_closed_and_others_are_served() {
        let mut routes = Routes::new();
        let pool = routes.pool("one", 1, 1000);
        let big = vec![7u8; 1 << 20];
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        routes.register(
            1000,
            pool,
            Arc::new(move |_: &ReqCtx, _: RemotingCommand| {
                counted.fetch_add(1, Ordering::SeqCst);
                Reply::Respond(RemotingCommand::success().with_body(big.clone()))
            }),
        );
        let mut cfg = ServerConfig::new("t-stall", "127.0.0.1:0".parse().unwrap());
        cfg.write_timeout = Duration::from_millis(200);
        let mut server = Server::start(cfg, routes).unwrap();
        let addr = server.local_addr();

        // 200 requests for 1 MiB each, and never a read: the only worker blocks on this peer.
        let mut stalled = TcpStream::connect(addr).unwrap();
        let mut frames = Vec::new();
        for i in 0..200 {
            let mut req = RemotingCommand::request(1000);
            req.opaque = i;
            frame::encode(&req, &mut frames);
        }
        stalled.write_all(&frames).unwrap();
        // Wait until the worker is busy with the stalled peer's requests.
        let deadline = Instant::now() + Duration::from_secs(10);
        while calls.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
            std::thread::yield_now();
        }

        // Another client is answered once the stuck write timed out and closed that peer.
        let c = RemotingClient::new();
        let r =
            c.invoke(&addr.to_string(), RemotingCommand::request(1000), Duration::from_secs(20));
        assert_eq!(r.map(|r| r.body.len()).ok(), Some(1 << 20));

        // The stalled peer was closed: reading drains what was sent, then ends.
        stalled.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut sink = vec![0u8; 1 << 20];
        let mut got = 0usize;
        loop {
            match stalled.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        assert!(got < 200 << 20, "not every response was written: {got} bytes");
        server.shutdown();
    }
}
