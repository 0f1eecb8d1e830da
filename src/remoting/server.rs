//! Blocking remoting server: one acceptor and a reader per connection (capped in total and per
//! client address), over a [`Dispatcher`] that may serve several ports (the broker's main and
//! fast ports share one).

use super::connection::{read_loop, Connection, ReadOptions};
use super::dispatch::{DispatchLimits, Dispatcher, Port, Routes};
use super::outbound::OutboundLimits;
use crate::common::service::spawn_thread;
use crate::protocol::frame::DEFAULT_MAX_FRAME;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Name used in thread names and logs.
    pub name: String,
    /// Address to bind (port 0 picks a free port).
    pub bind: SocketAddr,
    /// Which port this is (the fast port serves every route but the main-port-only ones).
    pub port: Port,
    /// Frame size cap (bytes, length word included).
    pub max_frame: usize,
    /// Connection cap; extra connections are closed at once.
    pub max_connections: usize,
    /// Connections from one client address; extra ones are closed at once.
    pub max_connections_per_ip: usize,
    /// Close a connection after this long without a byte read or written (Apache's
    /// serverChannelMaxIdleTimeSeconds, 120 s); `None` = never.
    pub idle_timeout: Option<Duration>,
    /// Each connection's outbound queue: byte cap and write timeout.
    pub outbound: OutboundLimits,
    /// Per-connection admission (used when the server builds its own dispatcher).
    pub dispatch: DispatchLimits,
}

impl ServerConfig {
    /// Defaults for `name` on `bind`.
    pub fn new(name: &str, bind: SocketAddr) -> Self {
        ServerConfig {
            name: name.into(),
            bind,
            port: Port::Main,
            max_frame: DEFAULT_MAX_FRAME,
            max_connections: 4096,
            max_connections_per_ip: 1024,
            idle_timeout: Some(Duration::from_secs(120)),
            outbound: OutboundLimits::default(),
            dispatch: DispatchLimits::default(),
        }
    }
}

/// A live connection and its reader thread.
type ConnEntry = (Arc<Connection>, Option<JoinHandle<()>>);

struct Shared {
    cfg: ServerConfig,
    dispatcher: Arc<Dispatcher>,
    stopped: AtomicBool,
    conns: Mutex<Conns>,
}

#[derive(Default)]
struct Conns {
    live: HashMap<u64, ConnEntry>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Conns {
    fn remove(&mut self, id: u64) -> Option<ConnEntry> {
        let e = self.live.remove(&id)?;
        let ip = e.0.peer().ip();
        if let Some(n) = self.per_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
        Some(e)
    }
}

/// A running server. `shutdown` (or drop) stops it.
pub struct Server {
    shared: Arc<Shared>,
    local: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    /// The server built its dispatcher itself and stops it.
    owns_dispatcher: bool,
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
        let d = Dispatcher::start(&cfg.name, routes, cfg.dispatch)?;
        let mut s = Self::serve(cfg, listener, d)?;
        s.owns_dispatcher = true;
        Ok(s)
    }

    /// Serve `dispatcher`'s routes on `listener`; several servers may share one dispatcher.
    pub fn serve(
        cfg: ServerConfig,
        listener: TcpListener,
        dispatcher: Arc<Dispatcher>,
    ) -> io::Result<Server> {
        let local = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            dispatcher,
            stopped: AtomicBool::new(false),
            conns: Mutex::new(Conns::default()),
        });
        let sh = shared.clone();
        let acceptor =
            spawn_thread(format!("{}-accept", cfg.name), move || accept_loop(listener, sh))?;
        log::info!("server started name={} listen={}", cfg.name, local);
        Ok(Server {
            shared,
            local,
            acceptor: Some(acceptor),
            owns_dispatcher: false,
            closed: false,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The dispatcher serving this port.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.shared.dispatcher
    }

    /// Connections open now.
    pub fn connection_count(&self) -> usize {
        self.shared.conns.lock().live.len()
    }

    /// A reader of [`Server::connection_count`] that outlives borrows of the server (metrics).
    pub fn connection_counter(&self) -> Arc<dyn Fn() -> usize + Send + Sync> {
        let sh = self.shared.clone();
        Arc::new(move || sh.conns.lock().live.len())
    }

    /// First half of a graceful stop: stop accepting; when the server owns its dispatcher, also
    /// refuse new requests (SERVICE_NOT_AVAILABLE, "shutting down") and let the workers answer
    /// every request already queued, over connections that are still open. Idempotent.
    pub fn drain(&mut self) {
        if !self.shared.stopped.swap(true, Ordering::SeqCst) {
            // Unblock accept() with a connection to ourselves.
            let mut wake = self.local;
            if wake.ip().is_unspecified() {
                wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
            if let Some(a) = self.acceptor.take() {
                let _ = a.join();
            }
        }
        if self.owns_dispatcher {
            self.shared.dispatcher.drain();
        }
        log::info!("server drained name={} listen={}", self.shared.cfg.name, self.local);
    }

    /// Stop: drain (if not done yet), then close every connection and join the readers.
    pub fn shutdown(&mut self) {
        self.drain();
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let conns: Vec<_> = self.shared.conns.lock().live.drain().collect();
        // Answers queued during the drain (parked pulls, flushed sends) reach their peers first.
        let deadline = Instant::now() + Duration::from_secs(2);
        for (_, (c, _)) in &conns {
            c.drain_output(deadline);
        }
        for (_, (c, h)) in conns {
            c.close();
            if let Some(h) = h {
                let _ = h.join();
            }
        }
        if self.owns_dispatcher {
            self.shared.dispatcher.stop();
        }
        log::info!("server stopped name={} listen={}", self.shared.cfg.name, self.local);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Admit a new connection from `ip` under the caps, or say why not.
fn admit(cfg: &ServerConfig, conns: &Conns, ip: IpAddr) -> Result<(), &'static str> {
    if conns.live.len() >= cfg.max_connections {
        return Err("connection limit reached");
    }
    if conns.per_ip.get(&ip).copied().unwrap_or(0) >= cfg.max_connections_per_ip {
        return Err("connection limit per client address reached");
    }
    Ok(())
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
        let ip = match stream.peer_addr() {
            Ok(a) => a.ip(),
            Err(_) => continue,
        };
        if let Err(why) = admit(&shared.cfg, &shared.conns.lock(), ip) {
            log::warn!(
                "connection refused name={} peer={} reason=\"{}\"",
                shared.cfg.name,
                ip,
                why
            );
            continue;
        }
        let poller = shared.dispatcher.poller().clone();
        let conn = match stream
            .try_clone()
            .and_then(|w| Connection::polled(w, poller, shared.cfg.outbound))
        {
            Ok(c) => c,
            Err(e) => {
                log::warn!("connection setup failed err={e}");
                continue;
            }
        };
        log::debug!("connection opened name={} peer={}", shared.cfg.name, conn.peer());
        let sh = shared.clone();
        let c2 = conn.clone();
        let id = conn.id();
        // Register before the reader starts so that its exit always finds the entry.
        {
            let mut conns = shared.conns.lock();
            conns.live.insert(id, (conn.clone(), None));
            *conns.per_ip.entry(ip).or_insert(0) += 1;
        }
        let name = format!("{}-conn-{}", shared.cfg.name, id);
        match spawn_thread(name, move || {
            let opts = ReadOptions {
                max_frame: sh.cfg.max_frame,
                batch_writes: true,
                idle_timeout: sh.cfg.idle_timeout,
                share_bodies: true,
            };
            let port = sh.cfg.port;
            read_loop(&c2, stream, opts, |conn, cmd| sh.dispatcher.dispatch(conn, cmd, port));
            log::debug!("connection closed name={} peer={}", sh.cfg.name, c2.peer());
            sh.dispatcher.connection_closed(&c2);
            // Dropping our own JoinHandle detaches; shutdown joins the ones still present.
            let _ = sh.conns.lock().remove(c2.id());
        }) {
            Ok(h) => {
                if let Some(e) = shared.conns.lock().live.get_mut(&id) {
                    e.1 = Some(h);
                }
            }
            Err(e) => {
                log::warn!("cannot start connection reader err={e}");
                shared.conns.lock().remove(id);
                conn.close();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codes::response;
    use crate::protocol::command::RemotingCommand;
    use crate::protocol::frame;
    use crate::remoting::{Refusal, RemotingClient, Reply, ReqCtx, RequestHook};
    use std::io::{Read, Write};
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    fn body_route(routes: &mut Routes, code: i32, len: usize, calls: Arc<AtomicUsize>) {
        let pool = routes.pool("one", 1, 1000);
        let big = vec![7u8; len];
        routes.register(
            code,
            pool,
            Arc::new(move |_: &ReqCtx, _: RemotingCommand| {
                calls.fetch_add(1, Ordering::SeqCst);
                Reply::Respond(RemotingCommand::success().with_body(big.clone()))
            }),
        );
    }

    fn read_until_closed(s: &mut TcpStream) -> usize {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut sink = vec![0u8; 1 << 20];
        let mut got = 0usize;
        loop {
            match s.read(&mut sink) {
                Ok(0) | Err(_) => return got,
                Ok(n) => got += n,
            }
        }
    }

    #[test]
    fn a_peer_that_stops_reading_never_holds_a_worker_and_is_closed_on_overflow() {
        let mut routes = Routes::new();
        let calls = Arc::new(AtomicUsize::new(0));
        body_route(&mut routes, 1000, 1 << 20, calls.clone());
        let mut cfg = ServerConfig::new("t-stall", "127.0.0.1:0".parse().unwrap());
        cfg.outbound.max_bytes = 16 << 20;
        let mut server = Server::start(cfg, routes).unwrap();
        let addr = server.local_addr();

        // 200 requests for 1 MiB each, and never a read.
        let mut stalled = TcpStream::connect(addr).unwrap();
        let mut frames = Vec::new();
        for i in 0..200 {
            let mut req = RemotingCommand::request(1000);
            req.opaque = i;
            frame::encode(&req, &mut frames);
        }
        stalled.write_all(&frames).unwrap();

        // The single worker is never blocked on that peer: another client is answered at once,
        // while the stalled peer's answers pile up in its own queue until it is closed.
        let c = RemotingClient::new();
        let t0 = Instant::now();
        let r =
            c.invoke(&addr.to_string(), RemotingCommand::request(1000), Duration::from_secs(20));
        assert_eq!(r.map(|r| r.body.len()).ok(), Some(1 << 20));
        assert!(t0.elapsed() < Duration::from_secs(5), "answered after {:?}", t0.elapsed());
        // Read only once the server closed the stalled peer (reading earlier could drain its
        // queue before it overflows on a slow machine): the other client's connection is left.
        let end = Instant::now() + Duration::from_secs(30);
        while server.connection_count() > 1 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(server.connection_count(), 1, "the stalled peer was never closed");
        let got = read_until_closed(&mut stalled);
        assert!(got < 200 << 20, "not every response was written: {got} bytes");
        server.shutdown();
    }

    #[test]
    fn a_queue_that_makes_no_progress_is_closed_after_the_write_timeout() {
        let mut routes = Routes::new();
        let calls = Arc::new(AtomicUsize::new(0));
        body_route(&mut routes, 1000, 1 << 20, calls.clone());
        let mut cfg = ServerConfig::new("t-slow", "127.0.0.1:0".parse().unwrap());
        cfg.outbound.write_timeout = Duration::from_millis(300);
        let mut server = Server::start(cfg, routes).unwrap();
        let mut stalled = TcpStream::connect(server.local_addr()).unwrap();
        let mut frames = Vec::new();
        for i in 0..8 {
            let mut req = RemotingCommand::request(1000);
            req.opaque = i;
            frame::encode(&req, &mut frames);
        }
        stalled.write_all(&frames).unwrap();
        // 8 MiB fits the queue cap; the socket buffers do not: the queue stalls, then closes.
        let deadline = Instant::now() + Duration::from_secs(10);
        while calls.load(Ordering::SeqCst) < 8 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 8);
        while server.connection_count() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(server.connection_count(), 0, "the stalled connection is closed");
        server.shutdown();
    }

    #[derive(Default)]
    struct Counting {
        order: parking_lot::Mutex<Vec<String>>,
        before: AtomicUsize,
        after: AtomicUsize,
    }

    impl RequestHook for Counting {
        fn before(&self, ctx: &ReqCtx, cmd: &RemotingCommand) -> Result<(), Refusal> {
            self.before.fetch_add(1, Ordering::SeqCst);
            self.order.lock().push(format!("before {}", ctx.code));
            if cmd.field("deny").is_some() {
                return Err(Refusal::new(response::NO_PERMISSION, "denied by hook"));
            }
            Ok(())
        }
        fn after(&self, ctx: &ReqCtx, resp: Option<&RemotingCommand>, _: Duration) {
            self.after.fetch_add(1, Ordering::SeqCst);
            let code = resp.map_or("none".to_string(), |r| r.code.to_string());
            self.order.lock().push(format!("after {} {}", ctx.code, code));
        }
    }

    struct Tagging(&'static str, Arc<Counting>);

    impl RequestHook for Tagging {
        fn before(&self, _: &ReqCtx, _: &RemotingCommand) -> Result<(), Refusal> {
            self.1.order.lock().push(format!("before {}", self.0));
            Ok(())
        }
        fn after(&self, _: &ReqCtx, _: Option<&RemotingCommand>, _: Duration) {
            self.1.order.lock().push(format!("after {}", self.0));
        }
    }

    #[test]
    fn hooks_run_in_order_around_every_request_and_parked_answers() {
        let counting = Arc::new(Counting::default());
        let mut routes = Routes::new();
        let pool = routes.pool("p", 1, 100);
        let handled = Arc::new(AtomicUsize::new(0));
        let h = handled.clone();
        routes.register(
            10,
            pool,
            Arc::new(move |_: &ReqCtx, _: RemotingCommand| {
                h.fetch_add(1, Ordering::SeqCst);
                Reply::Respond(RemotingCommand::success())
            }),
        );
        // A parked request answered later from another thread.
        routes.register(
            11,
            pool,
            Arc::new(|ctx: &ReqCtx, _: RemotingCommand| {
                let ctx = ctx.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    ctx.respond(RemotingCommand::success());
                });
                Reply::Park
            }),
        );
        routes.hook(counting.clone());
        routes.hook(Arc::new(Tagging("second", counting.clone())));
        let mut server =
            Server::start(ServerConfig::new("t-hooks", "127.0.0.1:0".parse().unwrap()), routes)
                .unwrap();
        let addr = server.local_addr().to_string();
        let c = RemotingClient::new();
        let t = Duration::from_secs(5);
        assert_eq!(c.invoke(&addr, RemotingCommand::request(10), t).unwrap().code, 0);
        let denied = c.invoke(&addr, RemotingCommand::request(10).with("deny", 1), t).unwrap();
        assert_eq!(denied.code, response::NO_PERMISSION);
        assert_eq!(denied.remark.as_deref(), Some("denied by hook"));
        assert_eq!(c.invoke(&addr, RemotingCommand::request(11), t).unwrap().code, 0);
        let unknown = c.invoke(&addr, RemotingCommand::request(999), t).unwrap();
        assert_eq!(unknown.code, response::REQUEST_CODE_NOT_SUPPORTED);
        let mut oneway = RemotingCommand::request(10);
        oneway.set_oneway();
        c.invoke_oneway(&addr, oneway).unwrap();
        let deadline = Instant::now() + t;
        while counting.after.load(Ordering::SeqCst) < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.shutdown();
        // The refused request never reached its handler.
        assert_eq!(handled.load(Ordering::SeqCst), 2);
        assert_eq!(counting.before.load(Ordering::SeqCst), 4, "not for the unknown code");
        assert_eq!(counting.after.load(Ordering::SeqCst), 5, "once per request");
        let order = counting.order.lock().clone();
        assert_eq!(
            order,
            [
                "before 10",
                "before second",
                "after 10 0",
                "after second",
                // A refusal stops the later before hooks; the after hooks still run.
                "before 10",
                "after 10 16",
                "after second",
                "before 11",
                "before second",
                "after 11 0",
                "after second",
                "after 999 3",
                "after second",
                "before 10",
                "before second",
                "after 10 none",
                "after second",
            ]
        );
    }

    #[test]
    fn in_flight_and_per_address_caps() {
        let mut routes = Routes::new();
        let pool = routes.pool("slow", 1, 1000);
        let (gate_tx, gate_rx) = crossbeam_channel::unbounded::<()>();
        routes.register(
            10,
            pool,
            Arc::new(move |_: &ReqCtx, _: RemotingCommand| {
                let _ = gate_rx.recv_timeout(Duration::from_secs(10));
                Reply::Respond(RemotingCommand::success())
            }),
        );
        let mut cfg = ServerConfig::new("t-caps", "127.0.0.1:0".parse().unwrap());
        cfg.dispatch.max_in_flight_per_connection = 3;
        cfg.max_connections_per_ip = 2;
        let mut server = Server::start(cfg, routes).unwrap();
        let addr = server.local_addr();
        let mut s = TcpStream::connect(addr).unwrap();
        let mut frames = Vec::new();
        for i in 0..5 {
            let mut req = RemotingCommand::request(10);
            req.opaque = i;
            frame::encode(&req, &mut frames);
        }
        s.write_all(&frames).unwrap();
        // Two of the five are refused at once; the three admitted wait for the gate.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut answers = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        while answers.len() < 5 {
            if answers.len() == 2 {
                for _ in 0..3 {
                    gate_tx.send(()).unwrap();
                }
            }
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed early");
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Some((cmd, used))) = frame::decode(&buf, 1 << 20) {
                buf.drain(..used);
                answers.push((cmd.opaque, cmd.code));
            }
        }
        assert_eq!(&answers[..2], &[(3, response::SYSTEM_BUSY), (4, response::SYSTEM_BUSY)]);
        assert!(answers[2..].iter().all(|(_, c)| *c == response::SUCCESS));
        // A third connection from 127.0.0.1 is closed at once (the first one is `s`); once one
        // closes, the address may connect again.
        let second = TcpStream::connect(addr).unwrap();
        let mut third = TcpStream::connect(addr).unwrap();
        assert_eq!(read_until_closed(&mut third), 0);
        drop(second);
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.connection_count() > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let c = RemotingClient::new();
        gate_tx.send(()).unwrap();
        let r = c.invoke(&addr.to_string(), RemotingCommand::request(10), Duration::from_secs(5));
        assert_eq!(r.unwrap().code, response::SUCCESS);
        server.shutdown();
    }

    #[test]
    fn idle_connections_are_closed() {
        let mut routes = Routes::new();
        let calls = Arc::new(AtomicUsize::new(0));
        body_route(&mut routes, 1000, 10, calls);
        let mut cfg = ServerConfig::new("t-idle", "127.0.0.1:0".parse().unwrap());
        cfg.idle_timeout = Some(Duration::from_millis(300));
        let mut server = Server::start(cfg, routes).unwrap();
        let addr = server.local_addr().to_string();
        let c = RemotingClient::new();
        let r = c.invoke(&addr, RemotingCommand::request(1000), Duration::from_secs(5)).unwrap();
        assert_eq!(r.body.len(), 10);
        let t0 = Instant::now();
        let mut idle = TcpStream::connect(server.local_addr()).unwrap();
        assert_eq!(read_until_closed(&mut idle), 0);
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(250), "closed after {waited:?}");
        server.shutdown();
    }
}
