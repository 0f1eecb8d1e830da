//! What master/slave replication (`crate::ha`) needs of the store, and nothing else does:
//! raw commit-log bytes for a master to send, appends of those bytes at exactly the slave's end,
//! truncation of a slave that is ahead of or diverged from its master, and a reset of a slave
//! that has nothing in common with it (Apache's DefaultMessageStore.getCommitLogData and
//! appendToCommitLog; truncation and reset are rmq's, see docs/HA.md).
//!
//! A slave's consume queues and index are built by the ordinary dispatch from complete records
//! only, with the queue offset stored in each record, so its queue offsets equal the master's.
//! Live truncation never rewrites a published byte: the segment (or consume-queue file) holding
//! the cut is replaced by a copy of the bytes before it, later files are unlinked, and readers
//! keep the mappings they hold.

use super::message_store::Shared;
use super::{MessageStore, StoreError};
use crate::common::sys::{futex_wait, futex_wake_all};
use std::collections::HashMap;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

impl MessageStore {
    /// Slave mode on or off. In slave mode puts answer SERVICE_NOT_AVAILABLE (Apache's
    /// checkStoreStatus for BrokerRole.SLAVE) and only [`MessageStore::append_replicated`]
    /// writes the commit log; truncation and reset are allowed only in slave mode.
    ///
    /// Leaving slave mode (a slave turned master without a restart) first dispatches what was
    /// replicated, cuts a record the master had only partly sent, and takes the next queue
    /// offsets from the consume queues, so puts continue the master's queue offsets.
    pub fn set_slave_mode(&self, on: bool) {
        let sh = &self.shared;
        if on {
            if !sh.slave_mode.swap(true, Ordering::AcqRel) {
                log::info!("store root={} slave_mode=true", sh.root.display());
            }
            return;
        }
        let mut a = sh.append.lock();
        if !sh.slave_mode.load(Ordering::Acquire) {
            return;
        }
        sh.dispatch_available();
        let (reput, max) = (sh.reput_offset.load(Ordering::Acquire), sh.log.max_offset());
        if reput < max {
            log::warn!(
                "store root={} leaves slave mode with a partly replicated record at {reput}: cutting {} bytes",
                sh.root.display(),
                max - reput
            );
            let _d = sh.dispatch_lock.lock();
            if let Err(e) = sh.log.truncate_live(reput) {
                log::error!(
                    "cannot cut the partly replicated record root={}: {e}",
                    sh.root.display()
                );
            }
        } else if reput > max {
            // The master's BLANK tail arrived only in part: the rest of the segment is zeros.
            sh.log.seal_last();
        }
        a.reset(next_queue_offsets(sh));
        sh.slave_mode.store(false, Ordering::Release);
        log::info!("store root={} slave_mode=false", sh.root.display());
    }

    /// True in slave mode.
    pub fn is_slave_mode(&self) -> bool {
        self.shared.slave_mode.load(Ordering::Acquire)
    }

    /// Size of a commit-log segment (`mappedFileSizeCommitLog`); master and slave must agree.
    pub fn commit_log_segment_size(&self) -> u64 {
        self.shared.log.segment_size()
    }

    /// At most `max_bytes` of the commit log from `offset`, never past the end of its segment; a
    /// full segment's BLANK and the zeros after it are included, so a slave's files match the
    /// master's byte for byte. Empty at the end of the log; `None` below the min offset or past
    /// the max offset.
    pub fn commit_log_data(&self, offset: u64, max_bytes: usize) -> Option<Vec<u8>> {
        self.shared.log.read_raw(offset, max_bytes)
    }

    /// Append bytes received from the master at `offset`, which must be this log's max offset
    /// (slave mode only). They may end inside a record; they may not run past a segment's end. A
    /// new segment starts when `offset` is the end of a full segment. Every complete record is
    /// dispatched before this returns, on this thread (or by the thread dispatching now).
    pub fn append_replicated(&self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        self.append_replicated_undispatched(offset, data)?;
        self.dispatch_replicated();
        Ok(())
    }

    /// [`MessageStore::append_replicated`] without the dispatch: the slave's replication thread
    /// appends what one read brought, reports the new end to its master, and only then calls
    /// [`MessageStore::dispatch_replicated`], so a SYNC_MASTER send does not wait for the slave's
    /// consume queues and no dispatch thread is woken per frame. Records left undispatched are
    /// picked up by the dispatch thread within its idle wait (1 s).
    pub fn append_replicated_undispatched(
        &self,
        offset: u64,
        data: &[u8],
    ) -> Result<(), StoreError> {
        const WHAT: &str = "append replicated data";
        let sh = &self.shared;
        if !self.is_slave_mode() {
            return Err(StoreError::rejected(WHAT, "the store is not in slave mode"));
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::rejected(WHAT, "the store is shut down"));
        }
        {
            let _a = sh.append.lock();
            sh.log
                .append_raw(offset, data)
                .map_err(|e| StoreError::rejected(WHAT, e.to_string()))?;
        }
        sh.wake_growth();
        Ok(())
    }

    /// Dispatch the complete replicated records appended so far (consume queues, index,
    /// long-poll wake-ups) on this thread. A record the last frame ended inside waits for the
    /// frame that completes it, which dispatches it; the dispatch thread is not woken for it.
    pub fn dispatch_replicated(&self) {
        self.shared.dispatch_available();
    }

    /// Start of the record (or end-of-segment BLANK) holding byte `offset - 1`, then
    /// `steps - 1` records further back, never before that segment's start. A slave reports this
    /// instead of its max offset to check that its tail matches its master's. `None` when
    /// `offset` is not in `(min, max]`.
    pub fn commit_log_record_start_before(&self, offset: u64, steps: u32) -> Option<u64> {
        let hint = self.shared.reput_offset.load(Ordering::Acquire);
        self.shared.log.record_start_before(offset, steps, hint)
    }

    /// End of the record starting at `offset` (a BLANK ends with its segment); `None` without a
    /// complete header there.
    pub fn commit_log_record_end(&self, offset: u64) -> Option<u64> {
        self.shared.log.record_end(offset)
    }

    /// Cut the commit log back to `to` (slave mode only; `min <= to`; nothing happens at or past
    /// the max offset). `to` may lie inside a record, whose first bytes then stay for the master
    /// to complete; consume-queue and index entries of every record not wholly before `to` go,
    /// dispatch resumes at the first of them, and the checkpoint is written before this returns.
    pub fn truncate_commit_log(&self, to: u64) -> Result<(), StoreError> {
        const WHAT: &str = "truncate the commit log";
        let sh = &self.shared;
        if !self.is_slave_mode() {
            return Err(StoreError::rejected(WHAT, "the store is not in slave mode"));
        }
        let _m = sh.maint_lock.lock();
        let mut a = sh.append.lock();
        let _d = sh.dispatch_lock.lock();
        let (min, max) = (sh.log.min_offset(), sh.log.max_offset());
        if to >= max {
            return Ok(());
        }
        if to < min {
            return Err(StoreError::rejected(
                WHAT,
                format!("offset {to} is below the min offset {min}; reset the log instead"),
            ));
        }
        // The first record not wholly before `to`: the one holding byte `to`.
        let first_cut = sh.log.record_start_before(to + 1, 1, min).unwrap_or(to);
        sh.log.truncate_live(to).map_err(|e| StoreError::io("truncating the commit log", e))?;
        let queues: Vec<_> = sh.queues.read().values().flat_map(|t| t.values().cloned()).collect();
        let mut entries = 0;
        for q in queues {
            entries += q
                .truncate_from_phys(first_cut)
                .map_err(|e| StoreError::io("truncating a consume queue", e))?;
        }
        sh.index.truncate_live(first_cut);
        sh.reput_offset.fetch_min(first_cut, Ordering::AcqRel);
        a.reset(next_queue_offsets(sh));
        sh.flush_queues_and_checkpoint()
            .map_err(|e| StoreError::io("writing the checkpoint", e).with_path(&sh.root))?;
        log::warn!(
            "commit log truncated root={} from={max} to={to} first_cut_record={first_cut} queue_entries_dropped={entries}",
            sh.root.display()
        );
        Ok(())
    }

    /// Delete the whole commit log, every consume queue and index file, and restart the log
    /// empty at `start`, a multiple of the segment size (slave mode only): a slave that is empty,
    /// below its master's oldest file, or without any record in common with it. Consume queues
    /// then begin at the queue offsets of the first records replicated.
    pub fn reset_commit_log(&self, start: u64) -> Result<(), StoreError> {
        const WHAT: &str = "reset the commit log";
        let sh = &self.shared;
        if !self.is_slave_mode() {
            return Err(StoreError::rejected(WHAT, "the store is not in slave mode"));
        }
        let seg = sh.log.segment_size();
        if !start.is_multiple_of(seg) {
            return Err(StoreError::rejected(
                WHAT,
                format!("offset {start} is not a multiple of the segment size {seg}"),
            ));
        }
        let _m = sh.maint_lock.lock();
        let mut a = sh.append.lock();
        let _d = sh.dispatch_lock.lock();
        let (min, max) = (sh.log.min_offset(), sh.log.max_offset());
        sh.log.reset_live(start).map_err(|e| StoreError::io("resetting the commit log", e))?;
        let queues = std::mem::take(&mut *sh.queues.write());
        for q in queues.values().flat_map(|t| t.values()) {
            q.destroy();
        }
        for topic in queues.keys() {
            let _ = std::fs::remove_dir_all(sh.cq_dir.join(topic));
        }
        sh.index.clear();
        sh.reput_offset.store(start, Ordering::Release);
        a.reset(next_queue_offsets(sh));
        sh.flush_queues_and_checkpoint()
            .map_err(|e| StoreError::io("writing the checkpoint", e).with_path(&sh.root))?;
        log::warn!(
            "commit log reset root={} old_min={min} old_max={max} new_start={start}",
            sh.root.display()
        );
        Ok(())
    }

    /// Block until the commit log's max offset passes `offset`, or `timeout` passes; returns the
    /// max offset. A master's replication stream waits here for new data (every append wakes it
    /// with one futex call while someone waits, and costs nothing otherwise).
    pub fn wait_commit_log_beyond(&self, offset: u64, timeout: Duration) -> u64 {
        let sh = &self.shared;
        let deadline = Instant::now() + timeout;
        sh.growth_waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let max = loop {
            let epoch = sh.growth.load(Ordering::SeqCst);
            let max = sh.log.max_offset();
            let now = Instant::now();
            if max > offset || now >= deadline || self.closed.load(Ordering::Acquire) {
                break max;
            }
            futex_wait(&sh.growth, epoch, deadline - now);
        };
        sh.growth_waiters.fetch_sub(1, Ordering::SeqCst);
        max
    }

    /// Wake every [`MessageStore::wait_commit_log_beyond`] now (a stream that is stopping).
    pub fn wake_commit_log_waiters(&self) {
        let sh = &self.shared;
        sh.growth.fetch_add(1, Ordering::SeqCst);
        futex_wake_all(&sh.growth);
    }
}

/// The next queue offset of every queue, from its consume queue (after a cut or a reset).
fn next_queue_offsets(sh: &Shared) -> HashMap<String, HashMap<i32, i64>> {
    sh.queues
        .read()
        .iter()
        .map(|(t, qs)| (t.clone(), qs.iter().map(|(q, cq)| (*q, cq.max_offset())).collect()))
        .collect()
}
