//! One TCP connection, shared by its reader thread and every sender: the bounded outbound queue
//! (see `outbound`), the table of outstanding requests by opaque, and the reader loop that
//! decodes frames.

use super::error::RemotingError;
use super::outbound::{Chunk, OutQueue, OutboundLimits, Poller};
use crate::common::batch;
use crate::common::oneshot::{self, Wait};
use crate::common::sys::{send_vectored, send_vectored_nonblocking};
use crate::protocol::codes::flag;
use crate::protocol::command::{BodyRef, RemotingCommand, SerializeType, SharedBytes};
use crate::protocol::frame;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::io::{self, IoSlice, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
const READ_CHUNK: usize = 64 * 1024;

/// How a connection's queued frames reach the peer.
enum Sink {
    /// Non-blocking writes; a full socket hands the queue to the poller (server connections).
    Polled(TcpStream, Arc<Poller>),
    /// Blocking writes bounded by the socket's write timeout (client connections: the caller's
    /// own thread writes its request).
    Blocking(TcpStream),
    /// No socket ([`Connection::detached`]): frames are kept until [`Connection::take_sent`].
    Memory(Mutex<Vec<u8>>),
}

/// A live connection. Cheap to share behind an `Arc`.
pub struct Connection {
    id: u64,
    peer: SocketAddr,
    local: SocketAddr,
    sink: Sink,
    out: Mutex<OutQueue>,
    /// Notified when a writer leaves the queue empty ([`Connection::drain_output`] waits).
    emptied: Condvar,
    limits: OutboundLimits,
    closed: AtomicBool,
    waiters: Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>,
    next_opaque: AtomicI32,
    /// Set by the reader while it works through the frames of one read: frames queued meanwhile
    /// wait, and are written together when it is done (`uncork`).
    cork: AtomicBool,
    /// Requests from this peer accepted and not finished yet (queued in a pool or running).
    in_flight: AtomicUsize,
    /// Milliseconds since `created` of the last byte read or written (idle detection).
    last_io_ms: AtomicU64,
    created: Instant,
}

impl Connection {
    /// Wrap a connected client stream (the caller keeps a clone for reading). Writes block, up
    /// to the stream's write timeout.
    pub fn new(stream: TcpStream) -> io::Result<Arc<Connection>> {
        Self::on_socket(stream, None, OutboundLimits::default())
    }

    /// Wrap a server-side stream whose full socket buffers are waited for by `poller`.
    pub(crate) fn polled(
        stream: TcpStream,
        poller: Arc<Poller>,
        limits: OutboundLimits,
    ) -> io::Result<Arc<Connection>> {
        Self::on_socket(stream, Some(poller), limits)
    }

    fn on_socket(
        stream: TcpStream,
        poller: Option<Arc<Poller>>,
        limits: OutboundLimits,
    ) -> io::Result<Arc<Connection>> {
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr()?;
        let local = stream.local_addr()?;
        let sink = match poller {
            Some(p) => Sink::Polled(stream, p),
            None => {
                stream.set_write_timeout(Some(limits.write_timeout))?;
                Sink::Blocking(stream)
            }
        };
        Ok(Self::with_sink(peer, local, sink, limits))
    }

    /// A connection without a socket, from `peer`: every frame sent to it is kept in memory for
    /// [`Connection::take_sent`]. Handler tests answer requests through it (STYLE.md: handlers
    /// are tested without sockets).
    pub fn detached(peer: SocketAddr) -> Arc<Connection> {
        let local = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::with_sink(peer, local, Sink::Memory(Mutex::new(Vec::new())), Default::default())
    }

    fn with_sink(
        peer: SocketAddr,
        local: SocketAddr,
        sink: Sink,
        limits: OutboundLimits,
    ) -> Arc<Connection> {
        Arc::new(Connection {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            peer,
            local,
            sink,
            out: Mutex::new(OutQueue::default()),
            emptied: Condvar::new(),
            limits,
            closed: AtomicBool::new(false),
            waiters: Mutex::new(HashMap::new()),
            next_opaque: AtomicI32::new(1),
            cork: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            last_io_ms: AtomicU64::new(0),
            created: Instant::now(),
        })
    }

    /// The frames sent so far to a [`Connection::detached`] connection, decoded, oldest first
    /// (none for a socket connection).
    pub fn take_sent(&self) -> Vec<RemotingCommand> {
        let bytes = match &self.sink {
            Sink::Memory(buf) => std::mem::take(&mut *buf.lock()),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while let Ok(Some((cmd, used))) = frame::decode(rest, usize::MAX) {
            out.push(cmd);
            rest = &rest[used..];
        }
        out
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

    /// Bytes queued and not written yet.
    pub fn queued_bytes(&self) -> usize {
        self.out.lock().bytes
    }

    /// Requests from this peer accepted and not finished yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Count one more accepted request if fewer than `cap` are in flight.
    pub(crate) fn try_begin_request(&self, cap: usize) -> bool {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < cap).then_some(n + 1))
            .is_ok()
    }

    /// One accepted request finished.
    pub(crate) fn end_request(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn touch(&self) {
        self.last_io_ms.store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Time since the last byte was read or written.
    pub fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    /// Encode `cmd` and queue it; it is written in order with the other queued frames. A tail
    /// (a pull's messages in the mapped commit log) is written from where it lies, after the
    /// encoded head, in the same `sendmsg`.
    pub fn send(self: &Arc<Self>, cmd: &RemotingCommand) -> io::Result<()> {
        if cmd.tail.is_empty() {
            return self.enqueue(frame::encode_to_vec(cmd));
        }
        let mut head = Vec::with_capacity(128 + cmd.body.len());
        frame::encode_head(cmd, &mut head);
        let mut chunks = Vec::with_capacity(1 + cmd.tail.len());
        chunks.push(Chunk::Own(head));
        chunks.extend(cmd.tail.iter().cloned().map(Chunk::Ref));
        self.enqueue_chunks(chunks)
    }

    /// Queue one encoded frame. Writes it at once when no other thread is writing and the reader
    /// is not batching; closes the connection when the queue would pass its byte limit.
    pub fn enqueue(self: &Arc<Self>, bytes: Vec<u8>) -> io::Result<()> {
        self.enqueue_chunks(vec![Chunk::Own(bytes)])
    }

    /// Queue the chunks of one frame, as [`Connection::enqueue`].
    fn enqueue_chunks(self: &Arc<Self>, chunks: Vec<Chunk>) -> io::Result<()> {
        if self.is_closed() {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "connection closed"));
        }
        let len: usize = chunks.iter().map(Chunk::len).sum();
        let mut q = self.out.lock();
        if q.bytes.saturating_add(len) > self.limits.max_bytes {
            let queued = q.bytes;
            drop(q);
            log::warn!(
                "closing connection peer={} reason=\"outbound queue over {} bytes ({} queued)\"",
                self.peer,
                self.limits.max_bytes,
                queued
            );
            self.close();
            return Err(io::Error::other("outbound queue overflow"));
        }
        q.bytes += len;
        q.frames.extend(chunks);
        if q.writing || self.cork.load(Ordering::Acquire) {
            return Ok(());
        }
        q.writing = true;
        drop(q);
        if batch::active() {
            // The thread completes a batch of requests (common::batch): this connection's
            // answers among them go out together when it ends.
            let me = self.clone();
            batch::defer(move || me.write_queue());
        } else {
            self.write_queue();
        }
        Ok(())
    }

    /// Write queued frames until the queue is empty, the socket is full (then the poller takes
    /// over) or the connection fails. The caller owns `writing`.
    fn write_queue(self: &Arc<Self>) {
        loop {
            let (batch, head) = {
                let mut q = self.out.lock();
                if self.is_closed() {
                    q.frames.clear();
                    q.bytes = 0;
                    q.head_written = 0;
                }
                if q.frames.is_empty() {
                    q.writing = false;
                    q.stalled_since = None;
                    self.emptied.notify_all();
                    return;
                }
                q.take_batch()
            };
            let r = self.write_batch(&batch, head);
            let mut q = self.out.lock();
            match r {
                Ok(n) => {
                    q.bytes = q.bytes.saturating_sub(n);
                    q.put_back(batch, head + n);
                    if n > 0 {
                        q.stalled_since = None;
                        drop(q);
                        self.touch();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    q.put_back(batch, head);
                    let Sink::Polled(stream, poller) = &self.sink else {
                        // A blocking socket reports WouldBlock when its write timeout passed.
                        drop(q);
                        self.fail_write(&e);
                        return;
                    };
                    q.stalled_since.get_or_insert_with(Instant::now);
                    let first = !std::mem::replace(&mut q.registered, true);
                    // Still `writing`: the poller thread continues when the socket has room.
                    drop(q);
                    if let Err(e) = poller.watch(self, stream.as_raw_fd(), first) {
                        self.fail_write(&e);
                    }
                    return;
                }
                Err(e) => {
                    drop(q);
                    self.fail_write(&e);
                    return;
                }
            }
        }
    }

    fn write_batch(&self, batch: &[Chunk], head: usize) -> io::Result<usize> {
        let slices: Vec<IoSlice<'_>> = batch
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let b = f.as_slice();
                IoSlice::new(if i == 0 { b.get(head..).unwrap_or_default() } else { b })
            })
            .collect();
        match &self.sink {
            Sink::Polled(stream, _) => send_vectored_nonblocking(stream.as_raw_fd(), &slices),
            Sink::Blocking(stream) => match send_vectored(stream.as_raw_fd(), &slices) {
                Ok(0) => Err(io::ErrorKind::WriteZero.into()),
                r => r,
            },
            Sink::Memory(buf) => {
                let mut b = buf.lock();
                let n = slices.iter().map(|s| s.len()).sum();
                for s in &slices {
                    b.extend_from_slice(s);
                }
                Ok(n)
            }
        }
    }

    fn fail_write(&self, e: &io::Error) {
        log::debug!("write failed, closing connection peer={} err={}", self.peer, e);
        self.close();
    }

    /// The poller saw the socket writable: continue writing the queue.
    pub(crate) fn write_ready(self: &Arc<Self>) {
        self.write_queue();
    }

    /// Whether the queue has waited for the peer longer than the write timeout.
    pub(crate) fn stalled_for(&self, now: Instant) -> bool {
        self.out
            .lock()
            .stalled_since
            .is_some_and(|t| now.duration_since(t) > self.limits.write_timeout)
    }

    /// Stop writing queued frames until [`Connection::uncork`] (the reader batches the
    /// responses of one read's requests into one write).
    fn cork(&self) {
        self.cork.store(true, Ordering::Release);
    }

    /// Write what was queued while corked.
    fn uncork(self: &Arc<Self>) {
        self.cork.store(false, Ordering::Release);
        let mut q = self.out.lock();
        if q.writing || q.frames.is_empty() {
            return;
        }
        q.writing = true;
        drop(q);
        self.write_queue();
    }

    /// Send `resp` as the response to a request with `opaque`, in the request's header form.
    pub fn respond(self: &Arc<Self>, opaque: i32, form: SerializeType, mut resp: RemotingCommand) {
        resp.opaque = opaque;
        resp.flag |= flag::RESPONSE;
        resp.serialize_type = form;
        if let Err(e) = self.send(&resp) {
            log::debug!("response not sent peer={} opaque={} err={}", self.peer, opaque, e);
        }
    }

    /// Send a request and wait up to `timeout` for its response.
    pub fn invoke(
        self: &Arc<Self>,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        cmd.opaque = opaque;
        cmd.flag &= !flag::RESPONSE;
        let (tx, rx) = oneshot::pair();
        self.waiters.lock().insert(opaque, tx);
        if let Err(e) = self.send(&cmd) {
            self.waiters.lock().remove(&opaque);
            return Err(RemotingError::send(&self.peer.to_string(), e));
        }
        match rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(Wait::Timeout) => {
                self.waiters.lock().remove(&opaque);
                Err(RemotingError::timeout(&self.peer.to_string(), timeout.as_millis() as u64))
            }
            Err(Wait::Closed) => Err(RemotingError::closed(&self.peer.to_string())),
        }
    }

    /// Send a one-way request.
    pub fn oneway(self: &Arc<Self>, mut cmd: RemotingCommand) -> Result<(), RemotingError> {
        cmd.opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        cmd.flag |= flag::ONEWAY;
        cmd.flag &= !flag::RESPONSE;
        self.send(&cmd).map_err(|e| RemotingError::send(&self.peer.to_string(), e))
    }

    /// Before a graceful close: write what is queued (also what waits for the reader's batch),
    /// waiting at most until `deadline` for the peer to take it.
    pub fn drain_output(self: &Arc<Self>, deadline: Instant) {
        self.cork.store(false, Ordering::Release);
        let mut q = self.out.lock();
        if !q.writing && !q.frames.is_empty() {
            q.writing = true;
            drop(q);
            self.write_queue();
            q = self.out.lock();
        }
        while (q.writing || !q.frames.is_empty()) && !self.is_closed() {
            if self.emptied.wait_until(&mut q, deadline).timed_out() {
                log::debug!("closing with {} bytes unwritten peer={}", q.bytes, self.peer);
                break;
            }
        }
    }

    /// Close both directions; queued frames are dropped and outstanding requests fail with
    /// "closed". Never waits for a write in progress.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            match &self.sink {
                Sink::Polled(stream, poller) => {
                    let _ = stream.shutdown(Shutdown::Both);
                    poller.forget(self.id, stream.as_raw_fd());
                }
                Sink::Blocking(stream) => {
                    let _ = stream.shutdown(Shutdown::Both);
                }
                Sink::Memory(_) => {}
            }
            let mut q = self.out.lock();
            if !q.writing {
                q.frames.clear();
                q.bytes = 0;
            }
        }
        self.waiters.lock().clear();
    }

    fn complete(&self, resp: RemotingCommand) {
        let waiter = self.waiters.lock().remove(&resp.opaque);
        match waiter {
            Some(tx) => tx.send(resp),
            None => {
                log::debug!("late or unknown response peer={} opaque={}", self.peer, resp.opaque)
            }
        }
    }
}

/// How a reader treats its connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Frame size cap (bytes, length word included).
    pub max_frame: usize,
    /// Batch the frames queued while the requests of one read are handled into one write
    /// (server side).
    pub batch_writes: bool,
    /// Close the connection after this long without a byte read or written
    /// (Apache's serverChannelMaxIdleTimeSeconds); `None` = never.
    pub idle_timeout: Option<Duration>,
    /// Leave request bodies of [`SHARE_MIN`] bytes or more in the read buffer, as a
    /// [`BodyRef`] in the command's tail (server side; see [`RemotingCommand::take_body`]).
    pub share_bodies: bool,
}

/// Request bodies at least this long stay in the read buffer (with `share_bodies`); shorter
/// ones are copied out, so they do not keep a buffer alive.
pub const SHARE_MIN: usize = 512;

/// The smallest buffer a connection reads into after the last one was left to bodies in flight.
const MIN_READ: usize = 4096;

/// The bytes a connection read. Frames decoded from them may keep them (behind an `Arc`) as
/// their bodies.
struct ReadBytes(Vec<u8>);

impl SharedBytes for ReadBytes {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A connection's read buffer: its first `filled` bytes were read and not yet decoded. Bytes
/// are read straight into it, and a request body can stay in it (one copy from the socket to
/// the store). Once a body in flight holds it, it is never written again: the undecoded tail
/// moves to a new buffer, sized to what the connection reads (at least [`MIN_READ`]), so a body
/// keeps at most a few times its own size alive.
struct ReadBuf {
    buf: Arc<ReadBytes>,
    filled: usize,
    last_read: usize,
}

impl ReadBuf {
    fn new() -> ReadBuf {
        ReadBuf { buf: Arc::new(ReadBytes(vec![0u8; READ_CHUNK])), filled: 0, last_read: 0 }
    }

    /// What was read, decoded or not.
    fn bytes(&self) -> &[u8] {
        self.buf.0.get(..self.filled).unwrap_or_default()
    }

    /// A handle on `range` of the buffer for a body to keep.
    fn body_ref(&self, range: std::ops::Range<usize>) -> Option<BodyRef> {
        let owner: Arc<dyn SharedBytes> = self.buf.clone();
        BodyRef::new(owner, range.start, range.len())
    }

    /// The length of the frame the undecoded bytes `from..filled` start with, if it is known
    /// (decode has checked it against max_frame by then).
    fn frame_len(&self, from: usize) -> usize {
        match self.buf.0.get(from..from + 4) {
            Some(&[a, b, c, d]) if from + 4 <= self.filled => {
                u32::from_be_bytes([a, b, c, d]) as usize + 4
            }
            _ => 0,
        }
    }

    /// Room to read into. A full buffer holds the start of one frame longer than it (whole
    /// frames were decoded): it grows to that frame's length.
    fn spare(&mut self) -> &mut [u8] {
        let len = self.buf.0.len();
        let want = if self.filled == len { self.frame_len(0).max(len + READ_CHUNK) } else { len };
        match Arc::get_mut(&mut self.buf) {
            Some(b) => b.0.resize(want, 0),
            None => self.renew(0, want),
        }
        let filled = self.filled;
        Arc::get_mut(&mut self.buf)
            .and_then(|b| b.0.get_mut(filled..))
            .expect("invariant: the buffer is its own, with room, after the step above")
    }

    fn read(&mut self, n: usize) {
        self.filled += n;
        self.last_read = n;
    }

    /// The first `start` bytes are decoded: keep the rest at the front, in this buffer if no
    /// body holds it, else in a new one.
    fn consumed(&mut self, start: usize) {
        let tail = self.filled - start;
        match Arc::get_mut(&mut self.buf) {
            Some(b) => {
                b.0.copy_within(start..self.filled, 0);
                self.filled = tail;
                if b.0.len() > 4 * READ_CHUNK && tail < READ_CHUNK {
                    b.0.truncate(READ_CHUNK);
                    b.0.shrink_to_fit();
                }
            }
            None => {
                let size = (tail + (2 * self.last_read).clamp(MIN_READ, READ_CHUNK))
                    .max(self.frame_len(start));
                self.renew(start, size);
            }
        }
    }

    /// Move the undecoded bytes `from..filled` to the front of a new buffer of `size` bytes.
    fn renew(&mut self, from: usize, size: usize) {
        let tail = self.bytes().get(from..).unwrap_or_default();
        let mut v = vec![0u8; size.max(tail.len())];
        v.get_mut(..tail.len()).unwrap_or_default().copy_from_slice(tail);
        self.filled = tail.len();
        self.buf = Arc::new(ReadBytes(v));
    }
}

/// Read frames from `stream` until EOF, error, idleness or a bad frame. Responses complete
/// waiters; requests go to `on_request`. Closes the connection on exit.
pub fn read_loop<F>(
    conn: &Arc<Connection>,
    mut stream: TcpStream,
    opts: ReadOptions,
    mut on_request: F,
) where
    F: FnMut(&Arc<Connection>, RemotingCommand),
{
    if let Some(idle) = opts.idle_timeout {
        // Wake up now and then to check idleness; a read that times out is not an error.
        let _ = stream.set_read_timeout(Some((idle / 4).max(Duration::from_millis(100))));
    }
    let mut rb = ReadBuf::new();
    'outer: loop {
        let n = match stream.read(rb.spare()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                match opts.idle_timeout {
                    Some(idle) if conn.idle_for() >= idle && conn.in_flight() == 0 => {
                        log::info!(
                            "closing idle connection peer={} idle_ms={}",
                            conn.peer,
                            conn.idle_for().as_millis()
                        );
                        break;
                    }
                    _ => continue,
                }
            }
            Err(e) => {
                log::debug!("read ended peer={} err={}", conn.peer, e);
                break;
            }
        };
        conn.touch();
        rb.read(n);
        let mut start = 0;
        // Several frames in one read (many callers on the connection): batch what is sent back.
        if opts.batch_writes {
            conn.cork();
        }
        let r = loop {
            let bytes = rb.bytes();
            match frame::decode_head(bytes.get(start..).unwrap_or_default(), opts.max_frame) {
                Ok(Some((mut cmd, body, used))) => {
                    let body = start + body.start..start + body.end;
                    start += used;
                    let shared = opts.share_bodies && !cmd.is_response() && body.len() >= SHARE_MIN;
                    match shared.then(|| rb.body_ref(body.clone())).flatten() {
                        Some(r) => cmd.tail.push(r),
                        None => cmd.body = bytes.get(body).unwrap_or_default().to_vec(),
                    }
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
        if opts.batch_writes {
            conn.uncork();
        }
        if let Err(e) = r {
            log::warn!("closing connection peer={} reason=\"bad frame: {}\"", conn.peer, e);
            break 'outer;
        }
        rb.consumed(start);
    }
    conn.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command::Payload;
    use std::io::Write;
    use std::net::TcpListener;

    /// Inside a `common::batch` scope (a thread answering many requests at once) responses are
    /// queued and written together when the scope ends, in order; outside one each is written
    /// at once.
    #[test]
    fn responses_inside_a_batch_scope_are_written_together_when_it_ends() {
        let conn = Connection::detached(SocketAddr::from(([127, 0, 0, 1], 9)));
        let answer = |opaque| {
            conn.respond(opaque, SerializeType::Json, RemotingCommand::response(0, None::<String>));
        };
        answer(1);
        assert_eq!(conn.take_sent().len(), 1, "outside a scope: written at once");
        batch::scope(|| {
            for opaque in 2..=4 {
                answer(opaque);
            }
            assert!(conn.take_sent().is_empty(), "deferred to the end of the scope");
            assert!(conn.queued_bytes() > 0);
        });
        let sent: Vec<i32> = conn.take_sent().iter().map(|c| c.opaque).collect();
        assert_eq!(sent, [2, 3, 4]);
        assert_eq!(conn.queued_bytes(), 0);
        answer(5);
        assert_eq!(conn.take_sent().len(), 1, "after the scope: at once again");
    }

    /// Frames arrive in pieces that cut through length words, headers and bodies, some longer
    /// than the read buffer and some many to a read: each comes out whole, once, in order. With
    /// `share_bodies`, long request bodies stay in the read buffers (which the kept commands
    /// hold, so the reader moves on to new ones) and short ones are copied.
    #[test]
    fn frames_cut_anywhere_and_longer_than_the_buffer_arrive_whole_and_in_order() {
        for share in [false, true] {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut w = TcpStream::connect(l.local_addr().unwrap()).unwrap();
            let (r, _) = l.accept().unwrap();
            let conn = Connection::new(r.try_clone().unwrap()).unwrap();
            let sizes = [
                10,
                3 * READ_CHUNK + 7,
                1,
                0,
                SHARE_MIN,
                READ_CHUNK - 20,
                5,
                200_000,
                64,
                1024,
                1024,
                9 * READ_CHUNK,
                SHARE_MIN - 1,
            ];
            let bodies: Vec<Vec<u8>> =
                sizes.iter().map(|&n| (0..n).map(|i| (i * 7 + n) as u8).collect()).collect();
            let mut wire = Vec::new();
            for (i, b) in bodies.iter().enumerate() {
                let mut c = RemotingCommand::request(10).with_body(b.clone());
                c.opaque = i as i32;
                frame::encode(&c, &mut wire);
            }
            let writer = std::thread::spawn(move || {
                for (i, piece) in wire.chunks(9_973).enumerate() {
                    w.write_all(piece).unwrap();
                    if i % 7 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            });
            let mut got = Vec::new();
            let opts = ReadOptions {
                max_frame: 16 << 20,
                batch_writes: false,
                idle_timeout: None,
                share_bodies: share,
            };
            read_loop(&conn, r, opts, |_, cmd| got.push(cmd));
            writer.join().unwrap();
            assert_eq!(got.len(), bodies.len());
            for (i, (cmd, body)) in got.iter_mut().zip(&bodies).enumerate() {
                assert_eq!(cmd.opaque, i as i32);
                let p = cmd.take_body();
                assert_eq!(
                    matches!(p, Payload::Shared(_)),
                    share && body.len() >= SHARE_MIN,
                    "frame {i} of {} bytes, share {share}",
                    body.len()
                );
                assert!(*p == **body, "frame {i}: body of {} bytes differs", body.len());
            }
        }
    }
}
