//! The durability waiter: sends that wait until an offset of the store reaches their end offset.
//! Two offsets are waited on, each by one [`Waiters`] list, with the same threads and callbacks:
//! - the flush offset (SYNC_FLUSH group commit): one flush thread flushes everything appended so
//!   far and completes the waiters it covered (Apache's CommitLog.GroupCommitService);
//! - the replica-ack offset (SYNC_MASTER): the HA service reports how far a slave has
//!   acknowledged and completes the waiters it covered (Apache's HAService.GroupTransferService).
//!
//! [`MessageStore::when_durable`](super::MessageStore::when_durable) parks a send on one or both:
//! a send that needs both sits in the flush list first and moves to the replica list once
//! flushed, with the replica deadline it got when it was stored. Each list has its own timeout
//! and its own failure outcome ([`Durable::FlushTimeout`], [`Durable::ReplicaTimeout`]).
//!
//! A waiter is a blocked thread or a callback (Apache swaps two request lists and completes each
//! request's future). Blocked threads wait on one futex word that the completing thread bumps
//! and wakes with a single system call:
//! - a condvar `notify_all` hands the waiters its mutex one after another, so on 2 vCPUs 64
//!   writers came back one context switch at a time;
//! - one unpark per thread (a futex wake each) let the kernel send an inter-processor interrupt
//!   per wake-up: 81k-106k msg/s against 137k-141k with the shared word (store bench, 64 writer
//!   threads).

use super::message_store::Shared;
use super::{FlushDiskType, MessageStore, PutResult};
use crate::common::service::Waker;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Called once the data is flushed (`true`), or when its deadline passed or a flush failed
/// (`false`). Runs on the store's responder thread (or the watcher's): it should be quick, such
/// as sending a response.
pub type OnFlushed = Box<dyn FnOnce(bool) + Send>;

/// What a stored send waits for before it is answered
/// ([`MessageStore::when_durable`](super::MessageStore::when_durable)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitFor {
    /// Wait until the data is flushed (SYNC_FLUSH; ignored under ASYNC_FLUSH), at most
    /// syncFlushTimeout.
    pub flush: bool,
    /// Wait until a slave acknowledged the data (SYNC_MASTER), at most this long (Apache's
    /// slaveTimeout, 3 s).
    pub replica: Option<std::time::Duration>,
}

/// How a wait for durability ended; under both conditions a replica failure wins, as Apache's
/// asyncPutMessage combines its two futures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// Everything waited for happened.
    Ok,
    /// The flush did not finish within syncFlushTimeout, or failed (FLUSH_DISK_TIMEOUT, 10).
    FlushTimeout,
    /// No slave acknowledged the data within the replica timeout (FLUSH_SLAVE_TIMEOUT, 12).
    ReplicaTimeout,
}

/// Called once with the outcome of
/// [`MessageStore::when_durable`](super::MessageStore::when_durable), on the store's responder
/// thread, the HA reader's, the watcher's, or the caller's when nothing had to be waited for. It
/// should be quick, such as sending a response.
pub type OnDurable = Box<dyn FnOnce(Durable) + Send>;

/// Who waits: a parked thread, or a callback (the broker's send path, which answers the
/// request from the flush instead of holding a worker thread).
enum Who {
    Thread,
    Call(Instant, OnFlushed),
}

impl Who {
    fn finish(self, flushed: bool, g: &Waiters) {
        match self {
            Who::Thread => g.wake_threads(),
            Who::Call(_, f) => f(flushed),
        }
    }
}

/// Writers waiting for one offset (the flush offset or the replica-ack offset) to reach theirs.
#[derive(Default)]
pub(super) struct Waiters {
    waiters: Mutex<Vec<(u64, Who)>>,
    /// The flush thread waits for this many waiters before flushing (see [`Waiters::gather`];
    /// unused by the replica list).
    want: AtomicUsize,
    /// Callbacks of completed waits, for the responder thread (the flush list only): they must
    /// not hold up the next flush. Without an answer waker (the replica list) `complete` runs
    /// them on its own thread.
    answers: Mutex<Vec<OnFlushed>>,
    answer_waker: OnceLock<Waker>,
    /// Held while callbacks run, so [`Waiters::run_answers`] returns only after any batch the
    /// responder thread took has been answered (a broker closes its connections next).
    running: Mutex<()>,
    /// Held by [`Waiters::complete`] from taking the covered waiters until their callbacks are
    /// queued, so a [`Waiters::run_answers`] never falls in between and misses them.
    moving: Mutex<()>,
    /// Bumped after each flush that covered a parked thread; parked threads wait on it as a
    /// futex, so one system call wakes them all.
    epoch: AtomicU32,
}

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum WaitEnd {
    /// The data is flushed.
    Flushed,
    /// The deadline passed first.
    TimedOut,
    /// The store stopped accepting writes (a flush failed).
    Failed,
}

impl Waiters {
    /// Register the calling thread as waiting for the log to be flushed to `end`. Returns true if
    /// the flush thread should be woken: the list was empty, or it now holds as many waiters as
    /// the flush thread is gathering.
    pub(super) fn register(&self, end: u64) -> bool {
        self.push(end, Who::Thread)
    }

    /// Register a callback for when the log is flushed to `end`, or `deadline` passes. Returns
    /// whether to wake the flush thread, as [`Waiters::register`].
    pub(super) fn register_call(&self, end: u64, deadline: Instant, f: OnFlushed) -> bool {
        self.push(end, Who::Call(deadline, f))
    }

    fn push(&self, end: u64, who: Who) -> bool {
        let mut w = self.waiters.lock();
        w.push((end, who));
        w.len() == 1 || w.len() == self.want.load(Ordering::Acquire)
    }

    /// Waiters registered and not yet woken.
    pub(super) fn pending(&self) -> usize {
        self.waiters.lock().len()
    }

    /// Tell writers to wake the flush thread once `n` of them wait.
    pub(super) fn gather(&self, n: usize) {
        self.want.store(n, Ordering::Release);
    }

    /// Park until `flushed()` reaches `end`, `failed()` holds or `deadline` passes. Call after
    /// [`Waiters::register`]; the flush thread unparks the waiter after each flush covering it.
    pub(super) fn wait(
        &self,
        end: u64,
        deadline: Instant,
        flushed: impl Fn() -> u64,
        failed: impl Fn() -> bool,
    ) -> WaitEnd {
        loop {
            let epoch = self.epoch.load(Ordering::SeqCst);
            if flushed() >= end {
                return WaitEnd::Flushed;
            }
            if failed() {
                return WaitEnd::Failed;
            }
            let now = Instant::now();
            if now >= deadline {
                return WaitEnd::TimedOut;
            }
            crate::common::sys::futex_wait(&self.epoch, epoch, deadline - now);
        }
    }

    /// After a flush reached `flushed`: wake every waiter it covers. Returns how many were woken
    /// and how many remain (they appended after the flush started).
    pub(super) fn complete(&self, flushed: u64) -> (usize, usize) {
        let _moving = self.moving.lock();
        let (done, left) = self.take(|end, _| end <= flushed);
        let woken = done.len();
        let mut calls = Vec::new();
        let mut threads = false;
        for who in done {
            match who {
                Who::Thread => threads = true,
                Who::Call(_, f) => calls.push(f),
            }
        }
        if threads {
            self.wake_threads();
        }
        if !calls.is_empty() {
            match self.answer_waker.get() {
                Some(w) => {
                    self.answers.lock().extend(calls);
                    w.wake();
                }
                None => calls.into_iter().for_each(|f| f(true)),
            }
        }
        (woken, left)
    }

    /// Hand the callbacks of completed flushes to the thread this waker wakes (which calls
    /// [`Waiters::run_answers`]); without one, `complete` runs them itself.
    pub(super) fn set_answer_waker(&self, w: Waker) {
        let _ = self.answer_waker.set(w);
    }

    /// Wake every parked thread; each re-checks whether its data is flushed.
    fn wake_threads(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        crate::common::sys::futex_wake_all(&self.epoch);
    }

    /// Run the callbacks of completed flushes queued so far.
    pub(super) fn run_answers(&self) {
        let _running = self.running.lock();
        drop(self.moving.lock());
        let batch = std::mem::take(&mut *self.answers.lock());
        for f in batch {
            f(true);
        }
    }

    /// Fail the callbacks whose deadline passed (parked threads time out by themselves).
    pub(super) fn expire(&self, now: Instant) {
        let _running = self.running.lock();
        let (late, _) = self.take(|_, who| matches!(who, Who::Call(d, _) if *d <= now));
        for who in late {
            who.finish(false, self);
        }
    }

    /// Wake every waiter (the flush failed, or the store is shutting down): threads re-check,
    /// callbacks are told their data is flushed only if it is.
    pub(super) fn wake_all(&self, flushed: u64) {
        self.run_answers();
        let all = std::mem::take(&mut *self.waiters.lock());
        for (end, who) in all {
            who.finish(end <= flushed, self);
        }
    }

    /// Remove the waiters `pick` selects; returns them and how many remain.
    fn take(&self, pick: impl Fn(u64, &Who) -> bool) -> (Vec<Who>, usize) {
        let mut w = self.waiters.lock();
        if !w.iter().any(|(end, who)| pick(*end, who)) {
            return (Vec::new(), w.len());
        }
        if w.iter().all(|(end, who)| pick(*end, who)) {
            return (std::mem::take(&mut *w).into_iter().map(|(_, who)| who).collect(), 0);
        }
        let (done, rest): (Vec<_>, Vec<_>) = w.drain(..).partition(|(e, who)| pick(*e, who));
        *w = rest;
        (done.into_iter().map(|(_, who)| who).collect(), w.len())
    }
}

/// The outcome of a wait for both conditions: a replica failure wins (Apache's asyncPutMessage
/// sets the replica status after the flush status).
fn combine(flushed: bool, replicated: bool) -> Durable {
    match (flushed, replicated) {
        (_, false) => Durable::ReplicaTimeout,
        (false, true) => Durable::FlushTimeout,
        (true, true) => Durable::Ok,
    }
}

impl MessageStore {
    /// In SYNC_FLUSH mode, call `f(true)` once the data of a successful put `r` (made without
    /// waiting) is flushed, or `f(false)` if that takes longer than syncFlushTimeout or a flush
    /// fails; `f` runs on the store's responder thread (so a blocking socket write cannot hold up
    /// the next flush), or the timeout watcher's. Otherwise, or if it is flushed already,
    /// `f(true)` runs now. A broker answers SYNC_FLUSH sends this way instead of holding a worker
    /// per send (Apache's asyncPutMessage), so group commits are not capped by the worker count.
    pub fn when_flushed(&self, r: &PutResult, f: OnFlushed) {
        let sh = &self.shared;
        let end = (r.phys_offset + r.wrote_bytes).max(0) as u64;
        if sh.cfg.flush_disk_type != FlushDiskType::Sync || sh.log.flushed_offset() >= end {
            return f(true);
        }
        if sh.failed.load(Ordering::Acquire) {
            return f(false);
        }
        let deadline = Instant::now() + Duration::from_millis(sh.cfg.sync_flush_timeout_ms);
        if sh.flushes.register_call(end, deadline, f) {
            if let Some(w) = sh.flush_waker.get() {
                w.wake();
            }
        }
        // A store shut down since the check above has no flush thread left to run `f`.
        if self.closed.load(Ordering::Acquire) {
            sh.flushes.wake_all(sh.log.flushed_offset());
        }
    }

    /// Call `f` once the data of a successful put `r` (made without waiting) is as durable as
    /// `need` asks: flushed (SYNC_FLUSH), acknowledged by a slave (SYNC_MASTER, reported through
    /// [`MessageStore::notify_replica_ack`]), or both. `f` gets [`Durable::Ok`],
    /// [`Durable::FlushTimeout`] after syncFlushTimeout (or a failed flush), or
    /// [`Durable::ReplicaTimeout`] after `need.replica`'s timeout, counted from this call. It
    /// runs on the store's responder thread (after a flush), on the thread that called
    /// [`MessageStore::notify_replica_ack`] (after a slave's acknowledgement), on the watcher's
    /// (at a deadline), or here when nothing has to be waited for; so it must not block.
    /// Whether a slave is there at all (SLAVE_NOT_AVAILABLE) is the caller's question to ask
    /// first (`ha::HaService::in_sync_slave_available`).
    pub fn when_durable(&self, r: &PutResult, need: WaitFor, f: OnDurable) {
        let end = (r.phys_offset + r.wrote_bytes).max(0) as u64;
        let sh = self.shared.clone();
        let replica = need.replica.map(|t| Instant::now() + t);
        let then = move |flushed: bool| match replica {
            None => f(if flushed { Durable::Ok } else { Durable::FlushTimeout }),
            Some(deadline) => {
                sh.wait_replica(end, deadline, Box::new(move |ok| f(combine(flushed, ok))))
            }
        };
        if need.flush {
            self.when_flushed(r, Box::new(then));
        } else {
            then(true);
        }
    }

    /// A slave acknowledged the commit log up to `offset` (the HA service calls this): replica
    /// waits up to there complete. The acknowledged offset only grows.
    pub fn notify_replica_ack(&self, offset: u64) {
        let sh = &self.shared;
        if offset > sh.replica_acked.fetch_max(offset, Ordering::AcqRel) {
            sh.replicas.complete(offset);
        }
    }

    /// Highest commit-log offset a slave acknowledged since the store opened.
    pub fn replica_acked_offset(&self) -> u64 {
        self.shared.replica_acked.load(Ordering::Acquire)
    }

    /// Flush now and run every [`MessageStore::when_flushed`] callback the flush covers, then
    /// answer every replica wait with what the slaves acknowledged so far (a broker calls this
    /// before it closes its connections, so parked sends get their answer).
    pub fn flush_waiters(&self) {
        let sh = &self.shared;
        if sh.cfg.flush_disk_type == FlushDiskType::Sync && sh.flushes.pending() > 0 {
            match sh.log.flush() {
                Ok(flushed) => {
                    sh.flushes.complete(flushed);
                }
                Err(e) => log::error!("commit log flush failed root={}: {e}", sh.root.display()),
            }
        }
        // Answered before this returns (the caller closes its connections next), also the
        // answers the flush thread completed but the responder thread has not run yet or is
        // running now; callbacks that also wait for a slave move to the replica list here.
        sh.flushes.run_answers();
        sh.replicas.wake_all(sh.replica_acked.load(Ordering::Acquire));
    }
}

impl Shared {
    /// Call `f(true)` once a slave acknowledged `end`, `f(false)` at `deadline`.
    fn wait_replica(&self, end: u64, deadline: Instant, f: OnFlushed) {
        if self.replica_acked.load(Ordering::Acquire) >= end {
            return f(true);
        }
        self.replicas.register_call(end, deadline, f);
        // An acknowledgement that landed before the registration completes it here; a store
        // shutting down answers at once.
        let acked = self.replica_acked.load(Ordering::Acquire);
        if acked >= end {
            self.replicas.complete(acked);
        }
        if self.stopping.load(Ordering::Acquire) {
            self.replicas.wake_all(acked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn waiters_wake_when_a_flush_covers_them_and_not_before() {
        let g = Arc::new(Waiters::default());
        let flushed = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = [10u64, 20, 30]
            .into_iter()
            .map(|end| {
                let (g, f) = (g.clone(), flushed.clone());
                std::thread::spawn(move || {
                    g.register(end);
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let r = g.wait(end, deadline, || f.load(Ordering::Acquire), || false);
                    (end, r, f.load(Ordering::Acquire))
                })
            })
            .collect();
        while g.waiters.lock().len() < 3 {
            std::thread::yield_now();
        }
        flushed.store(20, Ordering::Release);
        assert_eq!(g.complete(20), (2, 1), "the waiter for 30 remains");
        flushed.store(30, Ordering::Release);
        assert_eq!(g.complete(30), (1, 0));
        for h in handles {
            let (end, r, seen) = h.join().unwrap();
            assert_eq!(r, WaitEnd::Flushed);
            assert!(seen >= end);
        }
    }

    #[test]
    fn register_asks_for_a_wake_on_the_first_and_the_gathered_count() {
        let g = Waiters::default();
        g.gather(3);
        assert!(g.register(1), "first waiter");
        assert!(!g.register(2));
        assert!(g.register(3), "third waiter completes the gathering");
        assert!(!g.register(4));
        assert_eq!(g.pending(), 4);
        g.wake_all(0);
        assert_eq!(g.pending(), 0);
    }

    #[test]
    fn callbacks_run_on_flush_expiry_and_wake_all() {
        let g = Waiters::default();
        let (tx, rx) = crossbeam_channel::unbounded();
        let far = Instant::now() + Duration::from_secs(60);
        for (end, deadline) in [(10, far), (20, Instant::now()), (30, far), (40, far)] {
            let tx = tx.clone();
            g.register_call(end, deadline, Box::new(move |ok| tx.send((end, ok)).unwrap()));
        }
        assert_eq!(g.complete(10), (1, 3));
        assert_eq!(rx.try_recv(), Ok((10, true)));
        g.expire(Instant::now());
        assert_eq!(rx.try_recv(), Ok((20, false)), "its deadline passed");
        assert!(rx.try_recv().is_err(), "30 and 40 are not due");
        g.wake_all(30);
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![(30, true), (40, false)]);
        assert_eq!(g.pending(), 0);
    }

    #[test]
    fn wait_times_out_and_sees_failure() {
        let g = Waiters::default();
        g.register(5);
        let t0 = Instant::now();
        let r = g.wait(5, t0 + Duration::from_millis(50), || 0, || false);
        assert_eq!(r, WaitEnd::TimedOut);
        assert!(t0.elapsed() >= Duration::from_millis(50));
        let failed = AtomicBool::new(true);
        let r = g.wait(
            5,
            Instant::now() + Duration::from_secs(5),
            || 0,
            || failed.load(Ordering::Relaxed),
        );
        assert_eq!(r, WaitEnd::Failed);
    }
}
