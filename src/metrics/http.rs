//! The `/metrics` endpoint: a minimal HTTP/1.1 responder on std::net, one thread (a
//! `common::service`), one request per connection.
//!
//! - `GET /metrics` (or `HEAD`; a query string is ignored): 200 with the registry in the text
//!   format. Any other path: 404. Any other method: 405 with `Allow: GET, HEAD`.
//! - The request head may be at most [`MAX_REQUEST`] bytes (else 431) and must arrive within
//!   [`READ_TIMEOUT`]; a write that stalls past [`WRITE_TIMEOUT`] drops the connection. A slow
//!   or silent peer therefore holds the thread for a bounded time only.
//! - Every answer carries `Content-Length` and `Connection: close`; request bodies are not read.
//!
//! Stopping sets a flag and connects to the listener so the blocked `accept` returns
//! (STYLE.md, server shutdown).
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::registry::Registry;
use super::text;
use crate::common::service::Service;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Largest request head accepted.
pub const MAX_REQUEST: usize = 8 * 1024;
/// Time a peer has to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Time a peer has to take the answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the `/metrics` endpoint listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsPort {
    /// `0`: no endpoint (the default).
    Off,
    /// `-1`: a free port the system picks (for tests and several servers on one host).
    Any,
    /// A fixed port.
    Port(u16),
}

impl MetricsPort {
    /// Parse `0`, `-1` or a port number.
    pub fn parse(v: &str) -> Result<MetricsPort, String> {
        match v.trim() {
            "0" => Ok(MetricsPort::Off),
            "-1" => Ok(MetricsPort::Any),
            p => p
                .parse::<u16>()
                .map(MetricsPort::Port)
                .map_err(|_| format!("'{p}' is not a port, 0 (off) or -1 (any free port)")),
        }
    }

    /// The port to bind, or None when off.
    pub fn bind_port(self) -> Option<u16> {
        match self {
            MetricsPort::Off => None,
            MetricsPort::Any => Some(0),
            MetricsPort::Port(p) => Some(p),
        }
    }

    /// The value as a configuration key writes it.
    pub fn as_config(self) -> String {
        match self {
            MetricsPort::Off => "0".into(),
            MetricsPort::Any => "-1".into(),
            MetricsPort::Port(p) => p.to_string(),
        }
    }
}

/// A running `/metrics` endpoint. Dropping it stops it.
pub struct MetricsServer {
    local: SocketAddr,
    stop: Arc<AtomicBool>,
    service: Option<Service>,
}

impl MetricsServer {
    /// Bind `bind` (port 0 picks a free port) and serve `registry`. `name` names the thread
    /// (`<name>-metrics`) and the log lines.
    pub fn start(name: &str, bind: SocketAddr, registry: Arc<Registry>) -> io::Result<Self> {
        let listener = TcpListener::bind(bind)?;
        let local = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let service = Service::spawn(&format!("{name}-metrics"), move |_ctx| {
            for conn in listener.incoming() {
                if flag.load(Ordering::Acquire) {
                    break;
                }
                match conn {
                    Ok(s) => serve(s, &registry),
                    Err(e) => log::debug!("metrics accept failed err={e}"),
                }
            }
        })?;
        log::info!("metrics endpoint started name={name} listen={local}");
        Ok(MetricsServer { local, stop, service: Some(service) })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stop accepting and join the thread. Idempotent.
    pub fn shutdown(&mut self) {
        let Some(mut service) = self.service.take() else { return };
        self.stop.store(true, Ordering::Release);
        let mut wake = self.local;
        if wake.ip().is_unspecified() {
            wake.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        if let Err(e) = TcpStream::connect_timeout(&wake, Duration::from_secs(1)) {
            // The thread stays blocked in accept; leave it rather than hang the caller.
            log::warn!("metrics endpoint could not wake its acceptor listen={wake} err={e}");
            std::mem::forget(service);
            return;
        }
        service.stop();
        log::info!("metrics endpoint stopped listen={}", self.local);
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Ask {
    Metrics { head: bool },
    NotFound,
    BadMethod,
    Bad,
}

/// Read the request head: up to the blank line, at most MAX_REQUEST bytes.
fn read_head(s: &mut TcpStream) -> Result<Vec<u8>, u16> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return Ok(buf);
        }
        if buf.len() >= MAX_REQUEST {
            return Err(431);
        }
        match s.read(&mut chunk) {
            Ok(0) => return if buf.is_empty() { Err(0) } else { Ok(buf) },
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            Err(_) => return Err(if buf.is_empty() { 0 } else { 408 }),
        }
    }
}

fn classify(head: &[u8]) -> Ask {
    let text = String::from_utf8_lossy(head);
    let first = text.lines().next().unwrap_or("");
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ask::Bad;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Ask::Bad;
    }
    let path = target.split('?').next().unwrap_or("");
    let head = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Ask::BadMethod,
    };
    if path == "/metrics" {
        Ask::Metrics { head }
    } else {
        Ask::NotFound
    }
}

fn reply(s: &mut TcpStream, status: &str, extra: &str, ctype: &str, body: &[u8], head: bool) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        out.extend_from_slice(body);
    }
    if let Err(e) = s.write_all(&out).and_then(|_| s.flush()) {
        log::debug!("metrics answer not delivered err={e}");
    }
}

/// After answering a peer that is still sending, read (and drop) a little of what it sends, so
/// that closing with unread data does not reset the connection before it reads the answer.
fn drain(s: &mut TcpStream) {
    let _ = s.shutdown(Shutdown::Write);
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        match s.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

fn serve(mut s: TcpStream, registry: &Registry) {
    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
    let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
    let plain = "text/plain; charset=utf-8";
    match read_head(&mut s) {
        Err(0) => {}
        Err(431) => {
            reply(&mut s, "431 Request Header Fields Too Large", "", plain, b"", false);
            drain(&mut s);
        }
        Err(_) => reply(&mut s, "408 Request Timeout", "", plain, b"", false),
        Ok(head) => match classify(&head) {
            Ask::Metrics { head } => {
                let body = text::encode(&registry.gather());
                reply(&mut s, "200 OK", "", text::CONTENT_TYPE, body.as_bytes(), head);
            }
            Ask::NotFound => reply(&mut s, "404 Not Found", "", plain, b"try /metrics\n", false),
            Ask::BadMethod => {
                reply(&mut s, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", plain, b"", false)
            }
            Ask::Bad => reply(&mut s, "400 Bad Request", "", plain, b"", false),
        },
    }
    let _ = s.shutdown(Shutdown::Both);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::catalog;
    use super::*;
    use std::time::Instant;

    fn ask(addr: SocketAddr, req: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(req).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_404_405_431_and_survives_silent_peers() {
        let reg = Arc::new(Registry::new());
        reg.gauge(&catalog::NAMESRV_TOPICS).unwrap().set(4.0);
        let mut srv = MetricsServer::start("t", "127.0.0.1:0".parse().unwrap(), reg).unwrap();
        let addr = srv.local_addr();
        // A peer that connects and says nothing holds the thread for READ_TIMEOUT at most.
        let _silent = TcpStream::connect(addr).unwrap();
        let t0 = Instant::now();
        let ok = ask(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(t0.elapsed() < READ_TIMEOUT + Duration::from_secs(3));
        let (head, body) = ok.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
        assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
        let parsed = super::super::parse::parse(body).unwrap();
        assert_eq!(parsed.value("rmq_namesrv_topics", &[]), Some(4.0));
        let head_only = ask(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(head_only.starts_with("HTTP/1.1 200") && head_only.ends_with("\r\n\r\n"));
        assert!(ask(addr, b"GET /other HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        let post = ask(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"), "{post}");
        assert!(ask(addr, b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
        let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_REQUEST + 10));
        assert!(ask(addr, &big).starts_with("HTTP/1.1 431"));
        srv.shutdown();
        srv.shutdown();
        assert!(TcpStream::connect(addr).is_err(), "the listener is closed");
    }

    #[test]
    fn classifies_requests() {
        assert_eq!(classify(b"GET /metrics HTTP/1.1\r\n\r\n"), Ask::Metrics { head: false });
        assert_eq!(classify(b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n"), Ask::Metrics { head: true });
        assert_eq!(classify(b"GET / HTTP/1.1\r\n\r\n"), Ask::NotFound);
        assert_eq!(classify(b"POST /metrics HTTP/1.1\r\n\r\n"), Ask::BadMethod);
        assert_eq!(classify(b"GET /metrics\r\n\r\n"), Ask::Bad);
        assert_eq!(classify(b"GET metrics HTTP/1.1\r\n\r\n"), Ask::Bad);
        assert_eq!(classify(b"\x16\x03\x01 binary"), Ask::Bad);
    }
}
