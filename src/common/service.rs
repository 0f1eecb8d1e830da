//! Owned background threads (Apache's ServiceThread): named, started and stopped with a log line,
//! stopped by flag + wake-up + join. Every thread in rmq is spawned here.

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

const STACK_SIZE: usize = 512 * 1024;

/// What a service body sees: its stop flag and a wake-able wait.
#[derive(Clone)]
pub struct ServiceCtx {
    stopped: Arc<AtomicBool>,
    wake_rx: Receiver<()>,
}

impl ServiceCtx {
    /// True once `stop` was requested.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Wait up to `d` or until woken; returns false when the service is stopping.
    pub fn wait(&self, d: Duration) -> bool {
        if self.is_stopped() {
            return false;
        }
        match self.wake_rx.recv_timeout(d) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return false,
        }
        // Drain extra wake-ups so one wait consumes them all.
        while self.wake_rx.try_recv().is_ok() {}
        !self.is_stopped()
    }
}

/// A running service thread. Dropping it stops and joins it.
pub struct Service {
    name: String,
    stopped: Arc<AtomicBool>,
    wake_tx: Sender<()>,
    handle: Option<JoinHandle<()>>,
}

impl Service {
    /// Spawn `body` on a named thread; the body should loop while `ctx.wait(..)` returns true.
    pub fn spawn<F>(name: &str, body: F) -> io::Result<Service>
    where
        F: FnOnce(ServiceCtx) + Send + 'static,
    {
        let stopped = Arc::new(AtomicBool::new(false));
        let (wake_tx, wake_rx) = bounded(1);
        let ctx = ServiceCtx { stopped: stopped.clone(), wake_rx };
        let tname = name.to_string();
        let handle = thread::Builder::new().name(name.to_string()).stack_size(STACK_SIZE).spawn(
            move || {
                log::debug!("service started name={tname}");
                body(ctx);
                log::debug!("service ended name={tname}");
            },
        )?;
        Ok(Service { name: name.to_string(), stopped, wake_tx, handle: Some(handle) })
    }

    /// Wake the thread if it is waiting.
    pub fn wakeup(&self) {
        let _ = self.wake_tx.try_send(());
    }

    /// A cheap clonable handle that can wake this service from elsewhere.
    pub fn waker(&self) -> Waker {
        Waker(self.wake_tx.clone())
    }

    /// Request stop, wake, and join. Idempotent.
    pub fn stop(&mut self) {
        self.stopped.store(true, Ordering::Release);
        let _ = self.wake_tx.try_send(());
        if let Some(h) = self.handle.take() {
            if h.join().is_err() {
                log::error!("service panicked name={}", self.name);
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Wakes a service's `wait` from another thread.
#[derive(Clone)]
pub struct Waker(Sender<()>);

impl Waker {
    /// Wake the service if it is waiting.
    pub fn wake(&self) {
        let _ = self.0.try_send(());
    }
}

/// Spawn a plain named thread owned by the caller (for per-connection readers and pool workers,
/// whose lifetime is bounded by a socket or a channel rather than a stop flag).
pub fn spawn_thread<F>(name: String, f: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    thread::Builder::new().name(name).stack_size(STACK_SIZE).spawn(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn stops_promptly_and_runs_body() {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let mut s = Service::spawn("t-svc", move |ctx| {
            while ctx.wait(Duration::from_secs(60)) {
                c.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
        s.wakeup();
        let t0 = std::time::Instant::now();
        while count.load(Ordering::SeqCst) == 0 && t0.elapsed() < Duration::from_secs(5) {
            std::thread::yield_now();
        }
        assert!(count.load(Ordering::SeqCst) >= 1);
        s.stop();
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
}
