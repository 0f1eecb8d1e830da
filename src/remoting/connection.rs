//! One TCP connection, shared by its reader thread and every sender: a writer lock, the table
//! of outstanding requests by opaque, and the reader loop that decodes frames.

use super::error::RemotingError;
use crate::protocol::codes::flag;
use crate::protocol::command::{RemotingCommand, SerializeType};
use crate::protocol::frame;
use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
const READ_CHUNK: usize = 64 * 1024;

/// Where a connection's frames go.
enum Sink {
    Tcp(TcpStream),
    /// No socket ([`Connection::detached`]): frames are kept until [`Connection::take_sent`].
    Memory(Vec<u8>),
}

/// A live connection. Cheap to share behind an `Arc`.
pub struct Connection {
    id: u64,
    peer: SocketAddr,
    local: SocketAddr,
    writer: Mutex<Sink>,
    closed: AtomicBool,
    pending: Mutex<HashMap<i32, Sender<RemotingCommand>>>,
    next_opaque: AtomicI32,
    /// Set by the reader while it works through the frames of one read: frames sent meanwhile
    /// (responses of requests it runs inline, or of quick workers) are appended to `corked` and
    /// written with one syscall when it is done (`uncork`).
    cork: AtomicBool,
    corked: Mutex<Vec<u8>>,
    /// Whether the reader corks (server connections only: a client's reader never writes, so
    /// it always drains responses and cannot be part of a write-write stall).
    batch_writes: AtomicBool,
}

impl Connection {
    /// Wrap a connected stream (the caller keeps a clone for reading).
    pub fn new(stream: TcpStream) -> io::Result<Arc<Connection>> {
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr()?;
        let local = stream.local_addr()?;
        Ok(Self::with_sink(peer, local, Sink::Tcp(stream)))
    }

    /// A connection without a socket, from `peer`: every frame sent to it is kept in memory for
    /// [`Connection::take_sent`]. Handler tests answer requests through it (STYLE.md: handlers
    /// are tested without sockets).
    pub fn detached(peer: SocketAddr) -> Arc<Connection> {
        let local = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::with_sink(peer, local, Sink::Memory(Vec::new()))
    }

    fn with_sink(peer: SocketAddr, local: SocketAddr, sink: Sink) -> Arc<Connection> {
        Arc::new(Connection {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            peer,
            local,
            writer: Mutex::new(sink),
            closed: AtomicBool::new(false),
            pending: Mutex::new(HashMap::new()),
            next_opaque: AtomicI32::new(1),
            cork: AtomicBool::new(false),
            corked: Mutex::new(Vec::new()),
            batch_writes: AtomicBool::new(false),
        })
    }

    /// The frames sent so far to a [`Connection::detached`] connection, decoded, oldest first
    /// (none for a socket connection).
    pub fn take_sent(&self) -> Vec<RemotingCommand> {
        let bytes = match &mut *self.writer.lock() {
            Sink::Memory(buf) => std::mem::take(buf),
            Sink::Tcp(_) => return Vec::new(),
        };
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while let Ok(Some((cmd, used))) = frame::decode(rest, usize::MAX) {
            out.push(cmd);
            rest = &rest[used..];
        }
        out
    }

    /// Let the reader batch the frames sent while it handles one read's worth of requests into
    /// one write (server side).
    pub fn batch_writes(&self) {
        self.batch_writes.store(true, Ordering::Release);
    }

    /// Process-unique connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Remote address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Local address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// True once closed by either side.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Encode and write one frame with a single `write_all` under the writer lock.
    pub fn send(&self, cmd: &RemotingCommand) -> io::Result<()> {
        if self.is_closed() {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "connection closed"));
        }
        if self.cork.load(Ordering::Acquire) {
            let mut out = self.corked.lock();
            // Checked again under the lock: `uncork` clears the flag before taking the buffer.
            if self.cork.load(Ordering::Acquire) {
                frame::encode(cmd, &mut out);
                return Ok(());
            }
        }
        let bytes = frame::encode_to_vec(cmd);
        self.write_bytes(&bytes)
    }

    fn write_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        let mut w = self.writer.lock();
        let r = match &mut *w {
            Sink::Tcp(stream) => stream.write_all(bytes),
            Sink::Memory(buf) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
        };
        if r.is_err() {
            drop(w);
            self.close();
        }
        r
    }

    /// Write the frames sent while corked, with one syscall.
    fn uncork(&self, spare: &mut Vec<u8>) {
        self.cork.store(false, Ordering::Release);
        std::mem::swap(&mut *self.corked.lock(), spare);
        if !spare.is_empty() {
            if let Err(e) = self.write_bytes(spare) {
                log::debug!("batched frames not sent peer={} err={}", self.peer, e);
            }
            spare.clear();
            if spare.capacity() > 4 * READ_CHUNK {
                spare.shrink_to(READ_CHUNK);
            }
        }
    }

    /// Send `resp` as the response to a request with `opaque`, in the request's header form.
    pub fn respond(&self, opaque: i32, form: SerializeType, mut resp: RemotingCommand) {
        resp.opaque = opaque;
        resp.flag |= flag::RESPONSE;
        resp.serialize_type = form;
        if let Err(e) = self.send(&resp) {
            log::debug!("response not sent peer={} opaque={} err={}", self.peer, opaque, e);
        }
    }

    /// Send a request and wait up to `timeout` for its response.
    pub fn invoke(
        &self,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        cmd.opaque = opaque;
        cmd.flag &= !flag::RESPONSE;
        let (tx, rx) = bounded(1);
        self.pending.lock().insert(opaque, tx);
        if let Err(e) = self.send(&cmd) {
            self.pending.lock().remove(&opaque);
            return Err(RemotingError::send(&self.peer.to_string(), e));
        }
        match rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => {
                self.pending.lock().remove(&opaque);
                Err(RemotingError::timeout(&self.peer.to_string(), timeout.as_millis() as u64))
            }
            Err(RecvTimeoutError::Disconnected) => {
                Err(RemotingError::closed(&self.peer.to_string()))
            }
        }
    }

    /// Send a one-way request.
    pub fn oneway(&self, mut cmd: RemotingCommand) -> Result<(), RemotingError> {
        cmd.opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        cmd.flag |= flag::ONEWAY;
        cmd.flag &= !flag::RESPONSE;
        self.send(&cmd).map_err(|e| RemotingError::send(&self.peer.to_string(), e))
    }

    /// Close both directions; outstanding requests fail with "closed".
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            if let Sink::Tcp(stream) = &*self.writer.lock() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        self.pending.lock().clear();
    }

    fn complete(&self, resp: RemotingCommand) {
        let waiter = self.pending.lock().remove(&resp.opaque);
        match waiter {
            Some(tx) => {
                let _ = tx.try_send(resp);
            }
            None => {
                log::debug!("late or unknown response peer={} opaque={}", self.peer, resp.opaque)
            }
        }
    }
}

/// Read frames from `stream` until EOF, error or a bad frame. Responses complete waiters;
/// requests go to `on_request`. Closes the connection on exit.
pub fn read_loop<F>(
    conn: &Arc<Connection>,
    mut stream: TcpStream,
    max_frame: usize,
    mut on_request: F,
) where
    F: FnMut(&Arc<Connection>, RemotingCommand),
{
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut spare: Vec<u8> = Vec::new();
    'outer: loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::debug!("read ended peer={} err={}", conn.peer, e);
                break;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        // Several frames in one read (many callers on the connection): batch what is sent back.
        let batch = conn.batch_writes.load(Ordering::Acquire);
        if batch {
            conn.cork.store(true, Ordering::Release);
        }
        let r = loop {
            match frame::decode(&buf[start..], max_frame) {
                Ok(Some((cmd, used))) => {
                    start += used;
                    if cmd.is_response() {
                        conn.complete(cmd);
                    } else {
                        on_request(conn, cmd);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if batch {
            conn.uncork(&mut spare);
        }
        if let Err(e) = r {
            log::warn!("closing connection peer={} reason=\"bad frame: {}\"", conn.peer, e);
            break 'outer;
        }
        buf.drain(..start);
        if buf.capacity() > 4 * READ_CHUNK && buf.len() < READ_CHUNK {
            buf.shrink_to(READ_CHUNK);
        }
    }
    conn.close();
}
