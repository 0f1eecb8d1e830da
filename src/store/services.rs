//! Background work of the store: dispatch (commit log → consume queues → arrival listener),
//! commit-log flush (periodic, or group commit in SYNC_FLUSH mode), consume-queue flush and the
//! checkpoint.

use super::checkpoint::Checkpoint;
use super::commitlog::Step;
use super::consume_queue::{ConsumeQueue, CqEntry};
use super::message_store::Shared;
use super::FlushDiskType;
use crate::common::service::Service;
use crate::protocol::record::{get_property, sysflag, tag_hash, RecordView};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGE: u64 = 4096;
/// SYNC_FLUSH: how long unwaited-for data may stay unflushed.
const IDLE_FLUSH: Duration = Duration::from_millis(10);

/// Spawn the store's services.
pub(super) fn start(shared: &Arc<Shared>) -> io::Result<Vec<Service>> {
    let mut out = Vec::new();

    let sh = shared.clone();
    let dispatch = Service::spawn("store-dispatch", move |ctx| {
        // Each round dispatches everything appended so far; a round that found work is
        // followed at once by another (no polling interval, no yield). Only when a round finds
        // nothing does the thread park, and the first append after that wakes it.
        // A round that finds bytes it cannot dispatch yet (a slave's partly received record, or
        // unreadable data) waits 10 ms before it looks again instead of spinning.
        let mut stalled = false;
        loop {
            if sh.dispatch_available() > 0 {
                stalled = false;
                if ctx.is_stopped() {
                    break;
                }
                continue;
            }
            sh.dispatch_idle.store(true, Ordering::Relaxed);
            std::sync::atomic::fence(Ordering::SeqCst);
            let wait = if sh.dispatch_behind() == 0 {
                Duration::from_millis(1000)
            } else if !stalled {
                // An append landed between the round and the flag: look again at once.
                stalled = true;
                sh.dispatch_idle.store(false, Ordering::Relaxed);
                continue;
            } else {
                Duration::from_millis(10)
            };
            if !ctx.wait(wait) {
                break;
            }
        }
        sh.dispatch_available();
    })?;
    let _ = shared.dispatch_waker.set(dispatch.waker());
    out.push(dispatch);

    let sh = shared.clone();
    let flush = match shared.cfg.flush_disk_type {
        FlushDiskType::Sync => Service::spawn("store-flush", move |ctx| {
            // Group commit: one flush covers every waiter that appended before it. The writers
            // one flush woke come back together, so the next flush waits (at most as long as a
            // flush takes) until as many wait again: on 2 cores, flushing as soon as the first
            // of 64 came back split them into two half-size flushes of nearly the same cost.
            let mut want = 1;
            let mut window = Duration::ZERO;
            let mut last = Instant::now();
            loop {
                sh.flushes.gather(want);
                let pending = sh.flushes.pending();
                if pending > 0 && (pending >= want || last.elapsed() >= window) {
                    let t0 = Instant::now();
                    let (woken, left) = sh.flush_commit_log();
                    last = Instant::now();
                    window = (2 * (last - t0)).min(Duration::from_millis(1));
                    want = (woken + left).max(1);
                    continue;
                }
                // Data nobody waits for (sends without WAIT, a slave's replicated bytes) is
                // flushed 10 ms after the last flush, as Apache's GroupCommitService flushes on
                // every 10 ms round.
                if pending == 0 && sh.log.dirty_bytes() > 0 && last.elapsed() >= IDLE_FLUSH {
                    sh.flush_commit_log();
                    last = Instant::now();
                    continue;
                }
                let wait = if pending > 0 {
                    window.saturating_sub(last.elapsed())
                } else {
                    Duration::from_millis(10)
                };
                if !ctx.wait(wait) {
                    break;
                }
            }
            sh.flush_commit_log();
        })?,
        FlushDiskType::Async => Service::spawn("store-flush", move |ctx| {
            let interval = Duration::from_millis(sh.cfg.flush_interval_ms.max(1));
            let thorough = Duration::from_millis(sh.cfg.flush_thorough_interval_ms);
            let least = sh.cfg.flush_least_pages as u64 * PAGE;
            let mut last_full = Instant::now();
            while ctx.wait(interval) {
                let dirty = sh.log.dirty_bytes();
                let full = last_full.elapsed() >= thorough;
                if dirty > 0 && (full || dirty >= least) {
                    sh.flush_commit_log();
                }
                if full {
                    last_full = Instant::now();
                }
            }
            sh.flush_commit_log();
        })?,
    };
    let _ = shared.flush_waker.set(flush.waker());
    out.push(flush);
    // Fails the waiting callbacks past their deadline (syncFlushTimeout, or the replica
    // timeout) even while a flush hangs (Apache's FlushDiskWatcher); parked writer threads time
    // out by themselves. Replica waits exist in both flush modes.
    let sh = shared.clone();
    let period = Duration::from_millis((sh.cfg.sync_flush_timeout_ms / 4).clamp(1, 100));
    out.push(Service::spawn("store-flush-watch", move |ctx| {
        while ctx.wait(period) {
            let now = Instant::now();
            sh.flushes.expire(now);
            sh.replicas.expire(now);
        }
    })?);
    // Runs the callbacks of completed flush waits (responses to sends), off the flush thread.
    // Completed replica waits run their callbacks on the thread that reported the slave's
    // acknowledgement (the master's HA reader): a callback only queues a response on a
    // connection, whose writes never block, and a hand-off here cost a wake-up and two context
    // switches per acknowledgement.
    let sh = shared.clone();
    let answer = Service::spawn("store-flush-answer", move |ctx| {
        while ctx.wait(Duration::from_secs(1)) {
            // One write per client for the sends a group commit completed.
            crate::common::batch::scope(|| sh.flushes.run_answers());
            sh.replicas.run_answers();
        }
        sh.flushes.run_answers();
        sh.replicas.run_answers();
    })?;
    shared.flushes.set_answer_waker(answer.waker());
    out.push(answer);

    let sh = shared.clone();
    let warm = Service::spawn("store-warm", move |ctx| {
        sh.log.warm();
        while ctx.wait(Duration::from_millis(1000)) {
            sh.log.warm();
        }
    })?;
    shared.log.set_warm_waker(warm.waker());
    out.push(warm);

    let sh = shared.clone();
    let cq = Service::spawn("store-cq-flush", move |ctx| {
        while ctx.wait(Duration::from_millis(sh.cfg.flush_cq_interval_ms.max(1))) {
            if let Err(e) = sh.flush_queues_and_checkpoint() {
                log::error!("consume queue flush failed root={}: {e}", sh.root.display());
            }
        }
    })?;
    out.push(cq);
    out.push(super::retention::start(shared)?);
    Ok(out)
}

impl Shared {
    /// Flush the commit log and wake group-commit waiters; a failure makes the store refuse writes.
    /// Returns how many group-commit waiters it woke and how many still wait.
    fn flush_commit_log(&self) -> (usize, usize) {
        let delay = self.flush_delay_ms.load(Ordering::Acquire);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        let t0 = Instant::now();
        let flushed = self.log.flush();
        self.stats.record_flush(t0.elapsed());
        match flushed {
            Ok(flushed) => {
                let (woken, left) = self.flushes.complete(flushed);
                if woken > 0 {
                    self.stats.record_group_commit(woken);
                }
                (woken, left)
            }
            Err(e) => {
                if !self.failed.swap(true, Ordering::AcqRel) {
                    log::error!(
                        "commit log flush failed, refusing further writes root={}: {e}",
                        self.root.display()
                    );
                }
                self.flushes.wake_all(self.log.flushed_offset());
                (0, 0)
            }
        }
    }

    fn queue_for(&self, topic: &str, queue_id: i32) -> Arc<ConsumeQueue> {
        if let Some(q) = self.queues.read().get(topic).and_then(|t| t.get(&queue_id)) {
            return q.clone();
        }
        let mut w = self.queues.write();
        w.entry(topic.to_string())
            .or_default()
            .entry(queue_id)
            .or_insert_with(|| {
                let dir = self.cq_dir.join(topic).join(queue_id.to_string());
                let file_size = self.cfg.cq_file_entries * super::consume_queue::CQ_UNIT;
                Arc::new(ConsumeQueue::new(&dir, topic, queue_id, file_size))
            })
            .clone()
    }

    fn dispatch_record(
        &self,
        v: &RecordView<'_>,
        phys: u64,
        size: usize,
        listener: &Option<super::ArrivalListener>,
    ) -> bool {
        self.index.build(v.topic, v.properties, v.sys_flag, phys, v.store_timestamp);
        let tx = sysflag::transaction_type(v.sys_flag);
        if tx != sysflag::TRANSACTION_NOT && tx != sysflag::TRANSACTION_COMMIT {
            return true;
        }
        let tags = get_property(v.properties, "TAGS").map_or(0, tag_hash);
        let q = self.queue_for(v.topic, v.queue_id);
        let e = CqEntry { phys: phys as i64, size: size as i32, tags };
        match q.put(v.queue_offset, e) {
            Ok(true) => {
                self.last_dispatch_ts.store(v.store_timestamp, Ordering::Release);
                if let Some(l) = listener {
                    l(q.topic(), q.queue_id(), q.max_offset(), tags);
                }
            }
            Ok(false) => {}
            Err(err) => {
                // Retry later (disk full?): skipping would leave a hole in the queue.
                log::error!(
                    "cannot write consume queue entry, dispatch paused topic={} queue={} offset={} phys={phys}: {err}",
                    v.topic,
                    v.queue_id,
                    v.queue_offset
                );
                return false;
            }
        }
        true
    }

    /// Dispatch every record between the reput offset and the end of the log. Returns how many
    /// records were looked at. Only one thread calls this at a time (dispatch service, or open and
    /// shutdown when the service is not running).
    pub(super) fn dispatch_available(&self) -> u64 {
        let _d = self.dispatch_lock.lock();
        self.dispatch_locked()
    }

    /// After a put's append: dispatch it here, on the writer's thread, unless another thread is
    /// dispatching (then that one sees it: it looks again after it lets go of the lock). A put
    /// so costs no wake-up and no context switch of the dispatch thread, which on 2 cores was
    /// about 9 µs of CPU per message at one writer. The dispatch thread remains for what this
    /// cannot do (a record not dispatchable yet, a slave's replicated bytes).
    pub(super) fn dispatch_inline(&self) {
        loop {
            // The holder (another writer, or the dispatch thread, which also looks again before
            // it parks) dispatches this record too: no wake-up here. The replication calls that
            // hold the lock run while puts are refused; the dispatch thread's idle wait (1 s)
            // covers them.
            let Some(guard) = self.dispatch_lock.try_lock() else { return };
            let n = self.dispatch_locked();
            drop(guard);
            // Pairs with the fence in `wake_dispatch` of a writer whose try_lock failed while
            // this thread held the lock: its record is published, so this sees it.
            std::sync::atomic::fence(Ordering::SeqCst);
            if self.dispatch_behind() == 0 {
                return;
            }
            if n == 0 {
                // Not dispatchable now: leave it to the dispatch thread's retries.
                self.wake_dispatch();
                return;
            }
        }
    }

    /// [`Shared::dispatch_available`]'s work; the caller holds `dispatch_lock`.
    fn dispatch_locked(&self) -> u64 {
        let listener = self.listener.read().clone();
        let mut off = self.reput_offset.load(Ordering::Acquire);
        let mut n = 0;
        while off < self.log.max_offset() {
            let next = self.log.step(off, |s| match s {
                Step::Record(v, size) => {
                    self.dispatch_record(&v, off, size, &listener).then_some(off + size as u64)
                }
                Step::Next(o) => Some(o),
                Step::Wait => None,
                Step::Corrupt(why) => {
                    log::error!(
                        "dispatch stopped at unreadable commit log data offset={off}: {why}"
                    );
                    None
                }
            });
            match next {
                Some(o) => {
                    n += 1;
                    off = o;
                    self.reput_offset.store(o, Ordering::Release);
                }
                None => break,
            }
        }
        n
    }

    /// Flush every consume queue, then record in the checkpoint how far the log is both dispatched
    /// and flushed.
    pub(super) fn flush_queues_and_checkpoint(&self) -> io::Result<()> {
        let _c = self.checkpoint_lock.lock();
        let safe = self.reput_offset.load(Ordering::Acquire).min(self.log.flushed_offset());
        let logics_ts = self.last_dispatch_ts.load(Ordering::Acquire);
        let queues: Vec<Arc<ConsumeQueue>> =
            self.queues.read().values().flat_map(|t| t.values().cloned()).collect();
        for q in queues {
            q.flush()?;
        }
        self.index.flush()?;
        let ck = Checkpoint {
            physic_ts: self.last_store_ts.load(Ordering::Acquire),
            logics_ts,
            index_ts: self.index.end_timestamp(),
            safe_offset: safe,
        };
        let path = self.root.join("checkpoint");
        if Checkpoint::load(&path) != ck {
            ck.store(&path)?;
        }
        Ok(())
    }
}
