//! The master's HA service (Apache HAService.AcceptSocketService and HAConnection): accept
//! slaves, stream the commit log to each from the offset it reports, track what each one
//! acknowledged.
//!
//! Per connection, a reader thread takes the slave's reports (the first is where to start,
//! later ones are acknowledgements) and a writer thread sends frames and heartbeats. Where the
//! transfer starts for a first report `r` (Apache starts exactly at `r`, or at its last file for
//! 0):
//!
//! | report | transfer |
//! |---|---|
//! | 0, or below the master's min offset | from the min offset (the whole retained log) |
//! | min ..= max | from `r` |
//! | above the max | none yet: a heartbeat carrying the max now and every heartbeat interval; a later report re-decides |
//!
//! A report counts as an acknowledgement for the durability waiter only above the transfer's
//! start and within what this connection sent (the writer counts a frame as sent before it
//! writes it, so no report can outrun it), so a slave that claims more than it received (ahead,
//! or diverged) acknowledges nothing it did not get from us.

use super::wire::{decode_reports, encode_header, REPORT_LEN};
use super::HaConfig;
use crate::common::service::{spawn_thread, Service};
use crate::common::time::now_millis;
use crate::store::MessageStore;
use crossbeam_channel::{bounded, Receiver, Sender};
use parking_lot::Mutex;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// No report yet (or no transfer yet).
const NONE: i64 = -1;
/// Longest a writer waits before re-checking its stop flag.
const POLL: Duration = Duration::from_millis(100);

/// What the master knows of one connected slave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaveState {
    /// The slave's address.
    pub addr: SocketAddr,
    /// Where the transfer started, `None` while the slave is ahead of this master.
    pub transfer_start: Option<u64>,
    /// Commit-log offset the slave acknowledged: its last report, at most what was sent to it.
    pub acked_offset: u64,
    /// Bytes of the master's log the slave has not acknowledged.
    pub lag_bytes: u64,
    /// When the slave last reported, in epoch milliseconds.
    pub last_seen_ms: i64,
}

struct Conn {
    id: u64,
    peer: SocketAddr,
    stream: TcpStream,
    /// First report (the requested offset), or NONE.
    requested: AtomicI64,
    /// Latest report, or NONE.
    reported: AtomicI64,
    /// Transfer start, or NONE.
    start: AtomicI64,
    /// End of what the writer sent.
    sent_end: AtomicU64,
    /// The latest report within sent_end, once the transfer started.
    acked: AtomicU64,
    last_seen_ms: AtomicI64,
    closed: AtomicBool,
    /// The reader nudges the writer when a report arrives before the transfer started.
    nudge: (Sender<()>, Receiver<()>),
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Conn {
    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.stream.shutdown(Shutdown::Both);
        }
    }

    fn state(&self, max: u64) -> SlaveState {
        let start = self.start.load(Ordering::Acquire);
        let acked = if start >= 0 {
            self.acked.load(Ordering::Acquire)
        } else {
            self.reported.load(Ordering::Acquire).max(0) as u64
        };
        SlaveState {
            addr: self.peer,
            transfer_start: (start >= 0).then_some(start as u64),
            acked_offset: acked,
            lag_bytes: max.saturating_sub(acked),
            last_seen_ms: self.last_seen_ms.load(Ordering::Acquire),
        }
    }
}

struct Inner {
    store: Arc<MessageStore>,
    cfg: HaConfig,
    addr: SocketAddr,
    stopped: AtomicBool,
    conns: Mutex<Vec<Arc<Conn>>>,
    next_id: AtomicU64,
}

/// A running master HA service; [`HaService::shutdown`] (or drop) stops it.
pub struct HaService {
    inner: Arc<Inner>,
    services: Mutex<Vec<Service>>,
}

impl HaService {
    /// Listen on `bind` (port 0 picks one) and serve slaves from `store`'s commit log.
    pub fn start(
        store: Arc<MessageStore>,
        bind: SocketAddr,
        cfg: HaConfig,
    ) -> io::Result<HaService> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            store,
            cfg,
            addr,
            stopped: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        });
        let i = inner.clone();
        let accept = Service::spawn("ha-accept", move |_ctx| {
            for conn in listener.incoming() {
                if i.stopped.load(Ordering::Acquire) {
                    break;
                }
                match conn {
                    Ok(s) => i.accept(s),
                    Err(e) => {
                        log::warn!("HA accept failed listen={}: {e}", i.addr);
                        std::thread::sleep(POLL);
                    }
                }
            }
        })?;
        let i = inner.clone();
        let monitor = Service::spawn("ha-monitor", move |ctx| {
            let mut last_log = Instant::now();
            while ctx.wait(Duration::from_secs(1)) {
                i.reap();
                if last_log.elapsed() >= i.cfg.lag_log_interval {
                    last_log = Instant::now();
                    i.log_lag();
                }
            }
        })?;
        log::info!("HA service listening listen={addr}");
        Ok(HaService { inner, services: Mutex::new(vec![accept, monitor]) })
    }

    /// The address the HA port is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Every connected slave.
    pub fn slave_states(&self) -> Vec<SlaveState> {
        let max = self.inner.store.commit_log_max_offset().max(0) as u64;
        self.inner
            .conns
            .lock()
            .iter()
            .filter(|c| !c.closed.load(Ordering::Acquire))
            .map(|c| c.state(max))
            .collect()
    }

    /// True when a connected slave is being sent the log and has acknowledged within
    /// haSlaveFallbehindMax of `end_offset` (Apache's HAService.isSlaveOK). Without one a
    /// SYNC_MASTER send is answered SLAVE_NOT_AVAILABLE at once.
    pub fn in_sync_slave_available(&self, end_offset: u64) -> bool {
        let max_behind = self.inner.cfg.slave_fallbehind_max;
        self.inner.conns.lock().iter().any(|c| {
            !c.closed.load(Ordering::Acquire)
                && c.start.load(Ordering::Acquire) >= 0
                && end_offset.saturating_sub(c.acked.load(Ordering::Acquire)) < max_behind
        })
    }

    /// Stop accepting, close every slave connection and join every thread. Idempotent.
    pub fn shutdown(&self) {
        if self.inner.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        // Unblock accept() with a connection to ourselves (STYLE.md, server shutdown).
        let _ = TcpStream::connect_timeout(&self.inner.addr, Duration::from_secs(1));
        for s in self.services.lock().iter_mut() {
            s.stop();
        }
        let conns = std::mem::take(&mut *self.inner.conns.lock());
        for c in &conns {
            c.close();
        }
        self.inner.store.wake_commit_log_waiters();
        for c in conns {
            for h in std::mem::take(&mut *c.threads.lock()) {
                let _ = h.join();
            }
        }
        log::info!("HA service stopped listen={}", self.inner.addr);
    }
}

impl Drop for HaService {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    fn accept(self: &Arc<Self>, stream: TcpStream) {
        let Ok(peer) = stream.peer_addr() else { return };
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        self.reap();
        if self.conns.lock().len() >= self.cfg.max_slaves {
            log::warn!(
                "HA connection refused peer={peer}: {} slaves already connected",
                self.cfg.max_slaves
            );
            return;
        }
        let _ = stream.set_nodelay(true);
        let (reader, writer) = match (stream.try_clone(), stream.try_clone()) {
            (Ok(r), Ok(w)) => (r, w),
            _ => return,
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            peer,
            stream,
            requested: AtomicI64::new(NONE),
            reported: AtomicI64::new(NONE),
            start: AtomicI64::new(NONE),
            sent_end: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            last_seen_ms: AtomicI64::new(now_millis()),
            closed: AtomicBool::new(false),
            nudge: bounded(1),
            threads: Mutex::new(Vec::new()),
        });
        log::info!("HA slave connected peer={peer} conn={id}");
        let (i, c) = (self.clone(), conn.clone());
        let r = spawn_thread(format!("ha-read-{id}"), move || i.read_loop(&c, reader));
        let (i, c) = (self.clone(), conn.clone());
        let w = spawn_thread(format!("ha-write-{id}"), move || i.write_loop(&c, writer));
        match (r, w) {
            (Ok(r), Ok(w)) => conn.threads.lock().extend([r, w]),
            (r, w) => {
                log::error!("cannot start HA connection threads peer={peer}");
                conn.close();
                conn.threads.lock().extend(r.into_iter().chain(w));
            }
        }
        self.conns.lock().push(conn);
    }

    /// Join and forget the connections whose threads ended.
    fn reap(&self) {
        let dead: Vec<Arc<Conn>> = {
            let mut conns = self.conns.lock();
            let (dead, live) = std::mem::take(&mut *conns)
                .into_iter()
                .partition(|c| c.threads.lock().iter().all(|h| h.is_finished()));
            *conns = live;
            dead
        };
        for c in dead {
            for h in std::mem::take(&mut *c.threads.lock()) {
                let _ = h.join();
            }
        }
    }

    fn log_lag(&self) {
        let max = self.store.commit_log_max_offset().max(0) as u64;
        for c in self.conns.lock().iter().filter(|c| !c.closed.load(Ordering::Acquire)) {
            let s = c.state(max);
            log::info!(
                "slave fall behind master: {} bytes peer={} acked={} master_max={max}",
                s.lag_bytes,
                s.addr,
                s.acked_offset
            );
        }
    }

    fn read_loop(&self, c: &Conn, mut stream: TcpStream) {
        let silent = self.cfg.housekeeping_interval;
        if let Err(e) = stream.set_read_timeout(Some(silent)) {
            log::warn!("HA read timeout not set peer={}: {e}", c.peer);
        }
        let mut buf = [0u8; 8 * REPORT_LEN];
        let mut have = 0usize;
        loop {
            let n = match stream.read(buf.get_mut(have..).unwrap_or(&mut [])) {
                Ok(0) => {
                    log::info!("HA slave closed the connection peer={} conn={}", c.peer, c.id);
                    break;
                }
                Ok(n) => n,
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    log::warn!(
                        "HA slave silent for {} ms, dropping it peer={} conn={}",
                        silent.as_millis(),
                        c.peer,
                        c.id
                    );
                    break;
                }
                Err(e) => {
                    if !c.closed.load(Ordering::Acquire) {
                        log::info!("HA read failed peer={} conn={}: {e}", c.peer, c.id);
                    }
                    break;
                }
            };
            have += n;
            let (last, used) = match decode_reports(buf.get(..have).unwrap_or(&[])) {
                Ok(x) => x,
                Err(e) => {
                    log::warn!("HA bad report peer={} conn={}: {e}", c.peer, c.id);
                    break;
                }
            };
            buf.copy_within(used..have, 0);
            have -= used;
            if let Some(r) = last {
                if let Err(why) = self.on_report(c, r) {
                    log::warn!("HA dropping slave peer={} conn={}: {why}", c.peer, c.id);
                    break;
                }
            }
        }
        c.close();
    }

    fn on_report(&self, c: &Conn, r: u64) -> Result<(), String> {
        c.last_seen_ms.store(now_millis(), Ordering::Release);
        let r = r as i64;
        if c.requested.compare_exchange(NONE, r, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            log::info!("HA slave requests offset={r} peer={} conn={}", c.peer, c.id);
        }
        c.reported.store(r, Ordering::Release);
        let start = c.start.load(Ordering::Acquire);
        if start < 0 {
            let _ = c.nudge.0.try_send(());
            return Ok(());
        }
        // What this connection sent counts as stored: a segment publishes an append a moment
        // before the log's max offset moves (the store never hands out bytes past the max now,
        // so this is a second guard against dropping a healthy slave).
        let max = self.store.commit_log_max_offset().max(c.sent_end.load(Ordering::Acquire) as i64);
        if r > max {
            // As Apache's ReadSocketService: an acknowledgement past our end is a broken slave.
            return Err(format!("it acknowledged offset {r}, beyond the master's max {max}"));
        }
        // Only a report within what this connection sent proves the slave holds those bytes
        // from us: the slave reports its transfer start while it verifies, and its max (bytes
        // appended from this connection) once streaming. A report past what we sent is not ours
        // (a slave ahead of us, or diverged) and acknowledges nothing.
        let sent = c.sent_end.load(Ordering::SeqCst);
        let r = r as u64;
        if r > start as u64 && r <= sent {
            c.acked.fetch_max(r, Ordering::AcqRel);
            // The sends this report completes are answered from here; one write per client.
            crate::common::batch::scope(|| self.store.notify_replica_ack(r));
        }
        Ok(())
    }

    /// Where the transfer for report `r` starts (module table); `None` while `r` is past the end.
    fn start_for(&self, r: u64) -> Option<u64> {
        let min = self.store.commit_log_min_offset().max(0) as u64;
        let max = self.store.commit_log_max_offset().max(0) as u64;
        match r {
            0 => Some(min),
            r if r < min => Some(min),
            r if r <= max => Some(r),
            _ => None,
        }
    }

    fn write_loop(&self, c: &Conn, mut stream: TcpStream) {
        if let Err(e) = self.write_session(c, &mut stream) {
            if !c.closed.load(Ordering::Acquire) && !self.stopped.load(Ordering::Acquire) {
                log::info!("HA transfer ended peer={} conn={}: {e}", c.peer, c.id);
            }
        }
        c.close();
    }

    fn write_session(&self, c: &Conn, stream: &mut TcpStream) -> io::Result<()> {
        stream.set_write_timeout(Some(self.cfg.housekeeping_interval))?;
        let hb = self.cfg.heartbeat_interval;
        let live = || !c.closed.load(Ordering::Acquire) && !self.stopped.load(Ordering::Acquire);
        let mut last_write = Instant::now();
        // Wait for a report this master can start from.
        let mut told_ahead = false;
        let start = loop {
            if !live() {
                return Ok(());
            }
            let r = c.reported.load(Ordering::Acquire);
            if r >= 0 {
                match self.start_for(r as u64) {
                    Some(s) => break s,
                    None if !told_ahead || last_write.elapsed() >= hb => {
                        let max = self.store.commit_log_max_offset().max(0) as u64;
                        if !told_ahead {
                            log::warn!(
                                "HA slave is ahead of this master peer={} slave_offset={r} master_max={max}; telling it where the master ends",
                                c.peer
                            );
                        }
                        stream.write_all(&encode_header(max, 0))?;
                        last_write = Instant::now();
                        told_ahead = true;
                    }
                    None => {}
                }
            }
            let _ = c.nudge.1.recv_timeout(POLL);
        };
        log::info!(
            "HA transfer starts offset={start} peer={} requested={}",
            c.peer,
            c.reported.load(Ordering::Acquire)
        );
        c.sent_end.store(start, Ordering::Release);
        c.acked.store(start, Ordering::Release);
        c.start.store(start as i64, Ordering::Release);
        let batch = self.cfg.transfer_batch_size.clamp(1, super::wire::MAX_BODY);
        let mut pos = start;
        let mut caught_up = false;
        let mut frame = Vec::with_capacity(super::wire::HEADER_LEN + batch);
        while live() {
            let Some(data) = self.store.commit_log_data(pos, batch) else {
                let min = self.store.commit_log_min_offset();
                return Err(io::Error::other(format!(
                    "offset {pos} is no longer stored (min {min}): the slave fell behind retention"
                )));
            };
            if !data.is_empty() {
                frame.clear();
                frame.extend_from_slice(&encode_header(pos, data.len() as u32));
                frame.extend_from_slice(&data);
                pos += data.len() as u64;
                // Recorded before the bytes leave: a report covering them can arrive the moment
                // they do, and must find them counted as sent (else it is credited only up to
                // the previous frame, and a SYNC_MASTER send waits for the next report, up to
                // slaveTimeout when no new data comes).
                c.sent_end.store(pos, Ordering::SeqCst);
                stream.write_all(&frame)?;
                last_write = Instant::now();
                continue;
            }
            // Caught up: a heartbeat at once the first time (the slave learns the master's
            // end), then after each heartbeat interval without data.
            if !caught_up || last_write.elapsed() >= hb {
                caught_up = true;
                stream.write_all(&encode_header(pos, 0))?;
                last_write = Instant::now();
                continue;
            }
            let left = hb.saturating_sub(last_write.elapsed()).min(POLL);
            self.store.wait_commit_log_beyond(pos, left);
        }
        Ok(())
    }
}
