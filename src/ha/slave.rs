//! The slave's HA client (Apache HAService.HAClient): one `ha-client` thread connects to the
//! master's HA address, reports its offset, places the frames it receives ([`Follower`]) and
//! reports its max after each batch of appends and every heartbeat interval. It reconnects for
//! ever, with a backoff from 200 ms doubling to 5 s (none after a step back or a reset), and
//! follows [`SlaveClient::set_master_addr`] at once.

use super::follow::{Follower, Next};
use super::wire::{decode_frame, encode_report, HEADER_LEN, MAX_BODY};
use super::HaConfig;
use crate::common::service::Service;
use crate::common::time::now_millis;
use crate::store::MessageStore;
use parking_lot::Mutex;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Read timeout: how often the client looks at its clock, stop flag and master address.
const TICK: Duration = Duration::from_millis(200);

/// What a slave knows of its replication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaveStatus {
    /// The master HA address in use, if any.
    pub master_addr: Option<String>,
    /// Connected and appending what the master sends.
    pub streaming: bool,
    /// The master's transfer position as last seen (a frame's end or a heartbeat's offset).
    pub master_offset: u64,
    /// This slave's max commit-log offset.
    pub local_offset: u64,
    /// When the master was last heard from, in epoch milliseconds (0: never).
    pub last_contact_ms: i64,
}

struct Shared {
    store: Arc<MessageStore>,
    cfg: HaConfig,
    master: Mutex<Option<String>>,
    /// Bumped by every address change; a session ends when it sees a new one.
    generation: AtomicU64,
    /// The current connection, so an address change or a shutdown can cut it.
    stream: Mutex<Option<TcpStream>>,
    status: Mutex<SlaveStatus>,
}

/// A running slave HA client; [`SlaveClient::shutdown`] (or drop) stops it.
pub struct SlaveClient {
    shared: Arc<Shared>,
    service: Mutex<Service>,
}

impl SlaveClient {
    /// Put `store` in slave mode (puts refused; replication is its only writer) and follow
    /// `master` (an HA address `host:port`; `None` until [`SlaveClient::set_master_addr`]).
    pub fn start(
        store: Arc<MessageStore>,
        cfg: HaConfig,
        master: Option<&str>,
    ) -> io::Result<SlaveClient> {
        store.set_slave_mode(true);
        let shared = Arc::new(Shared {
            store,
            cfg,
            master: Mutex::new(master.filter(|m| !m.is_empty()).map(str::to_string)),
            generation: AtomicU64::new(0),
            stream: Mutex::new(None),
            status: Mutex::new(SlaveStatus::default()),
        });
        let sh = shared.clone();
        let service = Service::spawn("ha-client", move |ctx| {
            let mut follower = Follower::new(sh.store.clone());
            let mut backoff = BACKOFF_MIN;
            let mut buf = vec![0u8; HEADER_LEN + MAX_BODY];
            while !ctx.is_stopped() {
                let generation = sh.generation.load(Ordering::Acquire);
                let Some(addr) = sh.master.lock().clone() else {
                    ctx.wait(Duration::from_secs(1));
                    continue;
                };
                let outcome = sh.session(&addr, generation, &mut follower, &mut buf, &ctx);
                // What the session appended after its last report is indexed now.
                sh.store.dispatch_replicated();
                sh.stream.lock().take();
                {
                    let mut st = sh.status.lock();
                    st.streaming = false;
                }
                match outcome {
                    Ok(Session::Reconnect) => backoff = BACKOFF_MIN,
                    Ok(Session::Ended { progressed }) => {
                        if progressed {
                            backoff = BACKOFF_MIN;
                        }
                        ctx.wait(backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                    }
                    Err(e) => {
                        if backoff == BACKOFF_MIN {
                            log::warn!("HA connection to master addr={addr} failed: {e}");
                        } else {
                            log::debug!("HA connection to master addr={addr} failed: {e}");
                        }
                        ctx.wait(backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
        })?;
        Ok(SlaveClient { shared, service: Mutex::new(service) })
    }

    /// Follow another master (the broker learns it from the name server's registration
    /// answer, or from haMasterAddress); `None` or an empty address stops replicating.
    pub fn set_master_addr(&self, addr: Option<&str>) {
        let addr = addr.filter(|a| !a.is_empty()).map(str::to_string);
        let mut cur = self.shared.master.lock();
        if *cur == addr {
            return;
        }
        log::info!("HA master address changes from {:?} to {:?}", *cur, addr);
        *cur = addr;
        drop(cur);
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(s) = self.shared.stream.lock().as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.service.lock().wakeup();
    }

    /// The master HA address followed, if any.
    pub fn master_addr(&self) -> Option<String> {
        self.shared.master.lock().clone()
    }

    /// Replication state, for admin and metrics.
    pub fn status(&self) -> SlaveStatus {
        let mut st = self.shared.status.lock().clone();
        st.master_addr = self.master_addr();
        st.local_offset = self.shared.store.commit_log_max_offset().max(0) as u64;
        st
    }

    /// Stop replicating and join the thread. Idempotent.
    pub fn shutdown(&self) {
        if let Some(s) = self.shared.stream.lock().as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.service.lock().stop();
    }
}

impl Drop for SlaveClient {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How a session ended (errors are the other way).
enum Session {
    /// Reconnect at once (a step back or a reset).
    Reconnect,
    /// The connection closed, the master went silent, the address changed or we stop.
    Ended {
        /// Frames were placed: the next connection starts without backoff growth.
        progressed: bool,
    },
}

impl Shared {
    fn session(
        &self,
        addr: &str,
        generation: u64,
        follower: &mut Follower,
        buf: &mut [u8],
        ctx: &crate::common::service::ServiceCtx,
    ) -> io::Result<Session> {
        let target = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other(format!("no address for {addr}")))?;
        let mut stream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(TICK))?;
        stream.set_write_timeout(Some(self.cfg.housekeeping_interval))?;
        *self.stream.lock() = Some(stream.try_clone()?);
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(Session::Ended { progressed: false });
        }
        let mut reported = follower.begin();
        stream.write_all(&encode_report(reported))?;
        log::info!("HA connected to master addr={addr} reported={reported}");
        let mut last_report = Instant::now();
        let mut last_heard = Instant::now();
        let (mut start, mut end) = (0usize, 0usize);
        let mut progressed = false;
        loop {
            if ctx.is_stopped() || self.generation.load(Ordering::Acquire) != generation {
                return Ok(Session::Ended { progressed });
            }
            match stream.read(buf.get_mut(end..).unwrap_or(&mut [])) {
                Ok(0) => {
                    log::info!("HA master closed the connection addr={addr}");
                    return Ok(Session::Ended { progressed });
                }
                Ok(n) => {
                    end += n;
                    last_heard = Instant::now();
                }
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => return Err(e),
            }
            let mut placed = false;
            while let Some((frame, used)) = decode_frame(buf.get(start..end).unwrap_or(&[]))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                {
                    let mut st = self.status.lock();
                    st.master_offset = frame.offset + frame.body.len() as u64;
                    st.last_contact_ms = now_millis();
                }
                match follower.on_frame(frame.offset, frame.body) {
                    Ok(Next::Continue) => {
                        progressed = true;
                        placed = true;
                    }
                    Ok(Next::Reconnect) => return Ok(Session::Reconnect),
                    Err(why) => {
                        log::warn!("HA replication from addr={addr} stopped: {why}");
                        return Ok(Session::Ended { progressed });
                    }
                }
                start += used;
            }
            // Keep the unread tail at the front: a whole frame always fits.
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            self.status.lock().streaming = follower.streaming();
            let now = follower.report();
            if now != reported || last_report.elapsed() >= self.cfg.heartbeat_interval {
                stream.write_all(&encode_report(now))?;
                reported = now;
                last_report = Instant::now();
            }
            // After the report, so the master's SYNC_MASTER sends do not wait for it.
            if placed {
                self.store.dispatch_replicated();
            }
            if last_heard.elapsed() >= self.cfg.housekeeping_interval {
                log::warn!(
                    "HA master silent for {} ms, reconnecting addr={addr}",
                    last_heard.elapsed().as_millis()
                );
                return Ok(Session::Ended { progressed });
            }
        }
    }
}
