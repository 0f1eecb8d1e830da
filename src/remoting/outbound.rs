//! Per-connection outbound queues and the writer poller (issue 12 point 5, issue 13 point 2).
//!
//! Every frame a connection sends (responses from any thread, server-initiated requests) is
//! appended to that connection's bounded queue. The thread that finds the queue idle writes it
//! out at once with non-blocking `sendmsg` of several frames (one syscall for what is queued);
//! threads that arrive while a write is under way only append. When the peer's socket buffer is
//! full, the queue is handed to the [`Poller`]'s thread, which writes it when the socket becomes
//! writable. So no thread that serves other peers (a pool worker, the long-poll holder, the
//! store's flush responder) ever blocks on a slow peer's socket. A queue over its byte limit, or
//! one that makes no progress for the write timeout, closes its connection (Redis's
//! client-output-buffer-limit, NATS's slow-consumer disconnect).

use super::connection::Connection;
use crate::common::service::spawn_thread;
use crate::common::sys::{Epoll, EPOLL_WAKE_TOKEN};
use crate::protocol::command::BodyRef;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Chunks written with one `sendmsg` at most (IOV_MAX is 1024; a pull of 32 messages is 33).
pub(crate) const MAX_FRAMES_PER_WRITE: usize = 256;

/// A piece of a queued frame: bytes the queue owns (an encoded head, a whole small frame), or
/// bytes that lie elsewhere, such as a message in the mapped commit log, written from there.
pub(crate) enum Chunk {
    Own(Vec<u8>),
    Ref(BodyRef),
}

impl Chunk {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Chunk::Own(v) => v,
            Chunk::Ref(s) => s.as_slice(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Chunk::Own(v) => v.len(),
            Chunk::Ref(s) => s.len(),
        }
    }
}

/// Limits of one connection's outbound queue.
#[derive(Debug, Clone, Copy)]
pub struct OutboundLimits {
    /// Bytes queued (not yet written) above which the connection is closed.
    pub max_bytes: usize,
    /// How long a queue may wait for the peer to read before the connection is closed.
    pub write_timeout: Duration,
}

impl Default for OutboundLimits {
    fn default() -> Self {
        OutboundLimits { max_bytes: 64 << 20, write_timeout: Duration::from_secs(10) }
    }
}

/// The frames a connection has not written yet.
#[derive(Default)]
pub(crate) struct OutQueue {
    /// Encoded frames in chunks, oldest first.
    pub frames: VecDeque<Chunk>,
    /// Bytes of `frames[0]` already written.
    pub head_written: usize,
    /// Bytes in `frames` not written yet.
    pub bytes: usize,
    /// A thread (or the poller) owns the writing; others only append.
    pub writing: bool,
    /// The connection's socket is registered with the poller's epoll set.
    pub registered: bool,
    /// When the queue last made progress while waiting for the poller.
    pub stalled_since: Option<Instant>,
}

impl OutQueue {
    /// Take up to [`MAX_FRAMES_PER_WRITE`] frames from the front for one write.
    pub fn take_batch(&mut self) -> (Vec<Chunk>, usize) {
        let n = self.frames.len().min(MAX_FRAMES_PER_WRITE);
        let batch: Vec<Chunk> = self.frames.drain(..n).collect();
        (batch, std::mem::take(&mut self.head_written))
    }

    /// Put back what a write left: `batch` minus its first `written` bytes (counting from the
    /// already-written part of its head).
    pub fn put_back(&mut self, batch: Vec<Chunk>, mut skip: usize) {
        let mut rest: Vec<Chunk> = Vec::new();
        for f in batch {
            if skip >= f.len() {
                skip -= f.len();
                continue;
            }
            rest.push(f);
            if rest.len() == 1 {
                self.head_written = skip;
                skip = 0;
            }
        }
        for f in rest.into_iter().rev() {
            self.frames.push_front(f);
        }
        if self.frames.is_empty() {
            self.head_written = 0;
        }
    }
}

/// One thread that finishes writing the queues whose sockets were full, when they become
/// writable, and closes connections whose queue stalled past their write timeout. Owned by the
/// server's dispatcher; shared by every connection of its ports.
pub struct Poller {
    epoll: Epoll,
    waiting: Mutex<HashMap<u64, Weak<Connection>>>,
    stopped: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Poller {
    /// Start the poller thread `name`.
    pub fn start(name: &str) -> io::Result<Arc<Poller>> {
        let p = Arc::new(Poller {
            epoll: Epoll::new()?,
            waiting: Mutex::new(HashMap::new()),
            stopped: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        let weak = Arc::downgrade(&p);
        let h = spawn_thread(name.to_string(), move || run(weak))?;
        *p.thread.lock() = Some(h);
        Ok(p)
    }

    /// Call `conn.write_ready()` when its socket becomes writable.
    pub(crate) fn watch(&self, conn: &Arc<Connection>, fd: i32, first: bool) -> io::Result<()> {
        self.waiting.lock().insert(conn.id(), Arc::downgrade(conn));
        self.epoll.watch_writable(fd, conn.id(), first)
    }

    /// Stop watching a closed connection's socket.
    pub(crate) fn forget(&self, id: u64, fd: i32) {
        self.waiting.lock().remove(&id);
        self.epoll.forget(fd);
    }

    /// Stop the thread (connections still waiting are left to their owners to close).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.epoll.wake();
        if let Some(h) = self.thread.lock().take() {
            let _ = h.join();
        }
    }
}

fn run(weak: Weak<Poller>) {
    let mut ready = Vec::new();
    loop {
        let Some(p) = weak.upgrade() else { return };
        if p.stopped.load(Ordering::Acquire) {
            return;
        }
        ready.clear();
        if let Err(e) = p.epoll.wait(&mut ready, 500) {
            log::error!("writer poller failed err={e}");
            return;
        }
        for token in ready.drain(..) {
            if token == EPOLL_WAKE_TOKEN {
                continue;
            }
            let conn = p.waiting.lock().remove(&token).and_then(|w| w.upgrade());
            if let Some(c) = conn {
                c.write_ready();
            }
        }
        // Queues that made no progress for their write timeout: the peer stopped reading.
        let now = Instant::now();
        let stalled: Vec<Arc<Connection>> = p
            .waiting
            .lock()
            .values()
            .filter_map(Weak::upgrade)
            .filter(|c| c.stalled_for(now))
            .collect();
        for c in stalled {
            log::warn!("closing connection peer={} reason=\"peer stopped reading\"", c.peer());
            c.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_back_keeps_order_and_the_partial_head() {
        let mut q = OutQueue::default();
        for f in [b"aaaa".to_vec(), b"bbb".to_vec(), b"cc".to_vec()] {
            q.bytes += f.len();
            q.frames.push_back(Chunk::Own(f));
        }
        // A chunk that lies elsewhere (the last byte of "xyd").
        struct Outside(Vec<u8>);
        impl crate::protocol::command::SharedBytes for Outside {
            fn bytes(&self) -> &[u8] {
                &self.0
            }
        }
        let d = BodyRef::new(Arc::new(Outside(b"xyd".to_vec())), 2, 1).unwrap();
        assert!(BodyRef::new(Arc::new(Outside(b"xyd".to_vec())), 2, 2).is_none());
        q.frames.push_back(Chunk::Ref(d));
        let (batch, head) = q.take_batch();
        assert_eq!((batch.len(), head), (4, 0));
        // 5 bytes written: all of "aaaa", one of "bbb".
        q.put_back(batch, 5);
        assert_eq!(q.frames.len(), 3);
        assert_eq!(q.head_written, 1);
        let (batch, head) = q.take_batch();
        assert_eq!(head, 1);
        assert_eq!(batch[0].as_slice(), b"bbb");
        assert_eq!(batch[2].as_slice(), b"d");
        // Nothing written: the head keeps its written part.
        q.put_back(batch, head);
        assert_eq!((q.frames.len(), q.head_written), (3, 1));
        let (batch, head) = q.take_batch();
        q.put_back(batch, head + 2 + 2 + 1);
        assert!(q.frames.is_empty());
        assert_eq!(q.head_written, 0);
    }

    #[test]
    fn a_client_connection_writing_to_a_closed_socket_closes_without_sigpipe() {
        use crate::common::sys::tests::{raises_sigpipe, write_shut_socket};
        let (s, _peer) = write_shut_socket();
        // Inside a C host program SIGPIPE keeps its default action and would end the program
        // (CI saw a librmq test program die so): the write fails and the connection closes.
        let conn = crate::remoting::Connection::new(s).unwrap();
        assert!(!raises_sigpipe(|| {
            let _ = conn.enqueue(b"frame".to_vec());
        }));
        assert!(conn.is_closed());
    }
}
