//! Consume queues: per (topic, queue id) index of the commit log (§5.3).
//!
//! | path | content |
//! |---|---|
//! | `consumequeue/<topic>/<queueId>/<20-digit byte offset>` | `cq_file_entries` × 20-byte entries |
//!
//! Entry *n* (queue offset *n*) lives at byte *n*·20 across files:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | commit-log offset (i64) |
//! | 8 | 4 | record size (i32) |
//! | 16 | 8 | tags code (i64, `tag_hash(TAGS)`, 0 without tags) |
//!
//! A queue whose first entry is not at offset 0 of its file is padded with filler entries
//! `(0, i32::MAX, 0)`. The end of a queue is the first entry with `offset < 0 || size <= 0`.
//! Only the dispatch thread (and recovery) writes; readers follow `max_offset`.

use super::mmap::{list_segments, repair_short_file, segment_name, MappedFile};
use super::StoreError;
use crate::common::fs::sync_dir;
use parking_lot::{Mutex, RwLock};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Bytes per entry.
pub(crate) const CQ_UNIT: u64 = 20;

/// One consume-queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CqEntry {
    /// Commit-log offset.
    pub(crate) phys: i64,
    /// Record size.
    pub(crate) size: i32,
    /// Tags code.
    pub(crate) tags: i64,
}

impl CqEntry {
    const FILLER: CqEntry = CqEntry { phys: 0, size: i32::MAX, tags: 0 };

    fn encode(&self) -> [u8; CQ_UNIT as usize] {
        let mut b = [0u8; CQ_UNIT as usize];
        b[..8].copy_from_slice(&self.phys.to_be_bytes());
        b[8..12].copy_from_slice(&self.size.to_be_bytes());
        b[12..].copy_from_slice(&self.tags.to_be_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<CqEntry> {
        let phys = i64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let size = i32::from_be_bytes(b.get(8..12)?.try_into().ok()?);
        let tags = i64::from_be_bytes(b.get(12..20)?.try_into().ok()?);
        Some(CqEntry { phys, size, tags })
    }

    /// True for padding entries, which point at no record.
    pub(crate) fn is_filler(&self) -> bool {
        self.size == i32::MAX && self.phys == 0
    }

    fn is_valid(&self) -> bool {
        self.phys >= 0 && self.size > 0
    }
}

/// What a read of entries found.
pub(crate) enum Entries {
    /// Entries from the requested offset to the end of its file or of the queue.
    Found(Vec<CqEntry>),
    /// The file holding the offset is missing; the next file starts at this queue offset.
    FileMissing(i64),
}

/// One consume queue.
pub(crate) struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    dir: PathBuf,
    file_size: u64,
    files: RwLock<Vec<Arc<MappedFile>>>,
    min_offset: AtomicI64,
    max_offset: AtomicI64,
    max_phys_end: AtomicI64,
    write_lock: Mutex<()>,
}

/// A queue's files opened from disk, before recovery truncation.
pub(crate) struct LoadedQueue {
    topic: String,
    queue_id: i32,
    dir: PathBuf,
    file_size: u64,
    files: Vec<MappedFile>,
    end: u64,
}

impl LoadedQueue {
    /// Open the files of one queue directory and find its end.
    pub(crate) fn open(
        dir: &Path,
        topic: &str,
        queue_id: i32,
        file_size: u64,
    ) -> Result<LoadedQueue, StoreError> {
        let mut files: Vec<MappedFile> = Vec::new();
        let listed = list_segments(dir)
            .map_err(|e| StoreError::io("listing a consume queue", e).with_path(dir))?;
        let newest = listed.last().map(|(s, _)| *s);
        for (start, path) in listed {
            if start % file_size != 0 {
                log::warn!("ignoring misnamed consume queue file path={}", path.display());
                continue;
            }
            if let Some(prev) = files.last() {
                if prev.start() + file_size != start {
                    // A gap: keep only the newest contiguous run.
                    log::warn!("consume queue topic={topic} queue={queue_id} has a gap before file {start}; dropping older files");
                    for f in files.drain(..) {
                        let _ = f.delete();
                    }
                }
            }
            if Some(start) == newest {
                repair_short_file(&path, file_size as usize).map_err(|e| {
                    StoreError::io("repairing a short consume queue file", e).with_path(&path)
                })?;
            }
            let f = MappedFile::open(&path, start, file_size as usize)
                .map_err(|e| StoreError::io("mapping a consume queue file", e).with_path(&path))?;
            files.push(f);
        }
        let end = match files.last() {
            None => 0,
            Some(last) => {
                let data = last.read_from(0);
                let n = data
                    .chunks_exact(CQ_UNIT as usize)
                    .take_while(|c| CqEntry::decode(c).is_some_and(|e| e.is_valid()))
                    .count() as u64;
                last.start() + n * CQ_UNIT
            }
        };
        Ok(LoadedQueue {
            topic: topic.to_string(),
            queue_id,
            dir: dir.to_path_buf(),
            file_size,
            files,
            end,
        })
    }

    fn entry_at_byte(&self, pos: u64) -> Option<CqEntry> {
        let first = self.files.first()?.start();
        let f = self.files.get(((pos.checked_sub(first)?) / self.file_size) as usize)?;
        let off = (pos - f.start()) as usize;
        CqEntry::decode(f.read(off, CQ_UNIT as usize)?)
    }

    /// Drop entries pointing at or beyond `log_end`, zero the tail, delete files past the end.
    pub(crate) fn truncate_beyond(&mut self, log_end: u64) -> Result<(), StoreError> {
        let first = self.files.first().map_or(0, |f| f.start());
        while self.end > first {
            match self.entry_at_byte(self.end - CQ_UNIT) {
                Some(e)
                    if !e.is_filler()
                        && (e.phys as u64).saturating_add(e.size as u64) > log_end =>
                {
                    self.end -= CQ_UNIT
                }
                _ => break,
            }
        }
        let mut deleted = false;
        while let Some(last) = self.files.last() {
            if last.start() >= self.end && self.files.len() > 1 || last.start() > self.end {
                if let Some(f) = self.files.pop() {
                    let p = f.path().to_path_buf();
                    f.delete().map_err(|e| {
                        StoreError::io("deleting a consume queue file", e).with_path(&p)
                    })?;
                    deleted = true;
                }
            } else {
                break;
            }
        }
        if deleted {
            let _ = sync_dir(&self.dir);
        }
        if let Some(last) = self.files.last_mut() {
            let keep = (self.end - last.start()) as usize;
            if keep < last.published() {
                last.truncate(keep).map_err(|e| {
                    StoreError::io("truncating a consume queue", e).with_path(&self.dir)
                })?;
            }
        }
        Ok(())
    }

    /// Build the live queue.
    pub(crate) fn finish(self) -> ConsumeQueue {
        let max = (self.end / CQ_UNIT) as i64;
        // Leading fillers (a queue created mid-way) hold nothing: the min is the first entry.
        let mut min = self.files.first().map_or(0, |f| f.start() / CQ_UNIT) as i64;
        while min < max && self.entry_at_byte(min as u64 * CQ_UNIT).is_some_and(|e| e.is_filler()) {
            min += 1;
        }
        let mut max_phys_end = 0i64;
        let mut pos = self.end;
        let first = self.files.first().map_or(0, |f| f.start());
        while pos > first {
            pos -= CQ_UNIT;
            match self.entry_at_byte(pos) {
                Some(e) if !e.is_filler() => {
                    max_phys_end = e.phys + e.size as i64;
                    break;
                }
                Some(_) => continue,
                None => break,
            }
        }
        ConsumeQueue {
            topic: self.topic,
            queue_id: self.queue_id,
            dir: self.dir,
            file_size: self.file_size,
            files: RwLock::new(self.files.into_iter().map(Arc::new).collect()),
            min_offset: AtomicI64::new(min),
            max_offset: AtomicI64::new(max),
            max_phys_end: AtomicI64::new(max_phys_end),
            write_lock: Mutex::new(()),
        }
    }
}

impl ConsumeQueue {
    /// A new, empty queue (its directory is created with the first entry).
    pub(crate) fn new(dir: &Path, topic: &str, queue_id: i32, file_size: u64) -> ConsumeQueue {
        LoadedQueue {
            topic: topic.to_string(),
            queue_id,
            dir: dir.to_path_buf(),
            file_size,
            files: Vec::new(),
            end: 0,
        }
        .finish()
    }

    /// Topic.
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    /// Queue id.
    pub(crate) fn queue_id(&self) -> i32 {
        self.queue_id
    }

    /// Next queue offset to be written.
    pub(crate) fn max_offset(&self) -> i64 {
        self.max_offset.load(Ordering::Acquire)
    }

    /// First queue offset still stored.
    pub(crate) fn min_offset(&self) -> i64 {
        self.min_offset.load(Ordering::Acquire)
    }

    /// End (offset + size) of the newest record indexed.
    pub(crate) fn max_phys_end(&self) -> i64 {
        self.max_phys_end.load(Ordering::Acquire)
    }

    fn file_for_append(&self, pos: u64) -> io::Result<Arc<MappedFile>> {
        if let Some(last) = self.files.read().last() {
            if last.start() + last.published() as u64 == pos && last.remaining() > 0 {
                return Ok(last.clone());
            }
        }
        std::fs::create_dir_all(&self.dir)?;
        let start = pos / self.file_size * self.file_size;
        let f = MappedFile::create(
            &self.dir.join(segment_name(start)),
            start,
            self.file_size as usize,
        )?;
        sync_dir(&self.dir)?;
        let f = Arc::new(f);
        let mut files = self.files.write();
        if files.is_empty() {
            self.min_offset.store((start / CQ_UNIT) as i64, Ordering::Release);
        }
        files.push(f.clone());
        Ok(f)
    }

    fn append_raw(&self, e: CqEntry) -> io::Result<()> {
        let pos = self.max_offset() as u64 * CQ_UNIT;
        let f = self.file_for_append(pos)?;
        // A fresh file for a queue that starts mid-file: pad up to the entry's slot.
        while (f.start() + f.published() as u64) < pos {
            f.append(&CqEntry::FILLER.encode())
                .ok_or_else(|| io::Error::other("consume queue file full"))?;
        }
        f.append(&e.encode()).ok_or_else(|| io::Error::other("consume queue file full"))?;
        self.max_offset.store(self.max_offset() + 1, Ordering::Release);
        Ok(())
    }

    /// Write the entry for `queue_offset`. Returns Ok(false) when it is already present (a
    /// re-dispatch after recovery); missing offsets before it are padded with fillers.
    pub(crate) fn put(&self, queue_offset: i64, e: CqEntry) -> io::Result<bool> {
        let _g = self.write_lock.lock();
        if queue_offset < self.max_offset() || e.phys + e.size as i64 <= self.max_phys_end() {
            return Ok(false);
        }
        let first_mid_way = self.files.read().is_empty() && queue_offset > 0;
        if first_mid_way {
            // First entry of a queue created mid-way (a slave that starts at its master's
            // oldest file): start at the file holding it.
            let start = queue_offset as u64 * CQ_UNIT / self.file_size * self.file_size;
            self.max_offset.store((start / CQ_UNIT) as i64, Ordering::Release);
            self.min_offset.store((start / CQ_UNIT) as i64, Ordering::Release);
        }
        while self.max_offset() < queue_offset {
            self.append_raw(CqEntry::FILLER)?;
        }
        self.append_raw(e)?;
        if first_mid_way {
            // The fillers before it hold nothing (Apache's putMessagePositionInfo sets
            // minLogicOffset to the first entry the same way).
            self.min_offset.store(queue_offset, Ordering::Release);
        }
        self.max_phys_end.store(e.phys + e.size as i64, Ordering::Release);
        Ok(true)
    }

    /// Drop the entries of records at commit-log offsets `>= phys` (a live truncation of the
    /// commit log on a slave). The file holding the new end is replaced by a copy of its entries
    /// before it ([`MappedFile::copy_prefix`]), later files are deleted; readers keep the files
    /// they hold. Returns how many entries went.
    pub(crate) fn truncate_from_phys(&self, phys: u64) -> io::Result<i64> {
        let _g = self.write_lock.lock();
        let old_max = self.max_offset();
        let first = self.files.read().first().map_or(old_max, |f| (f.start() / CQ_UNIT) as i64);
        let mut end = old_max;
        while end > first {
            match self.entry(end - 1) {
                Some(e) if !e.is_filler() && e.phys >= phys as i64 => end -= 1,
                _ => break,
            }
        }
        if end == old_max {
            return Ok(0);
        }
        self.max_offset.store(end, Ordering::Release);
        let end_byte = end as u64 * CQ_UNIT;
        let mut gone = Vec::new();
        {
            let mut files = self.files.write();
            while files.len() > 1 && files.last().is_some_and(|f| f.start() >= end_byte) {
                gone.extend(files.pop());
            }
            if let Some(last) = files.last_mut() {
                let keep = end_byte.saturating_sub(last.start()) as usize;
                if keep < last.published() {
                    *last = Arc::new(last.copy_prefix(keep)?);
                }
            }
        }
        for f in &gone {
            if let Err(e) = std::fs::remove_file(f.path()) {
                log::warn!("cannot delete consume queue file path={}: {e}", f.path().display());
            }
        }
        sync_dir(&self.dir)?;
        let mut max_phys_end = 0;
        let mut at = end;
        while at > first {
            at -= 1;
            match self.entry(at) {
                Some(e) if e.is_filler() => continue,
                Some(e) => {
                    max_phys_end = e.phys + e.size as i64;
                    break;
                }
                None => break,
            }
        }
        self.max_phys_end.store(max_phys_end, Ordering::Release);
        if self.min_offset() > end {
            self.min_offset.store(end, Ordering::Release);
        }
        Ok(old_max - end)
    }

    /// Entries from `from` to the end of its file (or of the queue), at most `max_n`.
    pub(crate) fn read(&self, from: i64, max_n: usize) -> Entries {
        let max = self.max_offset();
        if from < 0 || from >= max {
            return Entries::Found(Vec::new());
        }
        let pos = from as u64 * CQ_UNIT;
        let f = {
            let files = self.files.read();
            let Some(first) = files.first() else { return Entries::Found(Vec::new()) };
            if pos < first.start() {
                return Entries::FileMissing((first.start() / CQ_UNIT) as i64);
            }
            match files.get(((pos - first.start()) / self.file_size) as usize) {
                Some(f) if f.start() <= pos && pos < f.start() + self.file_size => f.clone(),
                _ => {
                    return Entries::FileMissing(
                        ((pos / self.file_size + 1) * self.file_size / CQ_UNIT) as i64,
                    )
                }
            }
        };
        let end = ((max as u64 * CQ_UNIT).min(f.start() + self.file_size) - f.start()) as usize;
        let local = (pos - f.start()) as usize;
        let bytes = f.read(local, end.saturating_sub(local)).unwrap_or(&[]);
        Entries::Found(
            bytes.chunks_exact(CQ_UNIT as usize).take(max_n).filter_map(CqEntry::decode).collect(),
        )
    }

    /// The entry at `offset`, if stored.
    pub(crate) fn entry(&self, offset: i64) -> Option<CqEntry> {
        match self.read(offset, 1) {
            Entries::Found(v) => v.first().copied(),
            Entries::FileMissing(_) => None,
        }
    }

    /// msync all files with unflushed entries.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let files: Vec<Arc<MappedFile>> =
            self.files.read().iter().filter(|f| f.dirty() > 0).cloned().collect();
        for f in files {
            f.flush()?;
        }
        Ok(())
    }

    /// Delete files (never the newest) whose every entry points below `log_min`, then move the
    /// min offset to the first entry still in the log (Apache's deleteExpiredFile and
    /// correctMinOffset). Returns the number of files deleted.
    pub(crate) fn delete_below(&self, log_min: u64) -> usize {
        let log_min = log_min as i64;
        let _g = self.write_lock.lock();
        let mut deleted = 0;
        loop {
            let f = {
                let files = self.files.read();
                match files.first() {
                    Some(f) if files.len() > 1 => f.clone(),
                    _ => break,
                }
            };
            // The newest real entry of a full file is its last slot; fillers point nowhere.
            let last = f
                .read_from(0)
                .chunks_exact(CQ_UNIT as usize)
                .rev()
                .filter_map(CqEntry::decode)
                .find(|e| e.is_valid() && !e.is_filler());
            if last.is_some_and(|e| e.phys + e.size as i64 > log_min) {
                break;
            }
            self.files.write().remove(0);
            match std::fs::remove_file(f.path()) {
                Ok(()) => deleted += 1,
                Err(e) => {
                    log::warn!("cannot delete consume queue file path={}: {e}", f.path().display())
                }
            }
        }
        if deleted > 0 {
            let _ = sync_dir(&self.dir);
            log::info!(
                "deleted {deleted} expired consume queue file(s) topic={} queue={}",
                self.topic,
                self.queue_id
            );
        }
        self.correct_min_offset(log_min);
        deleted
    }

    /// Move the min offset to the first entry whose record is still in the log.
    fn correct_min_offset(&self, log_min: i64) {
        let files: Vec<Arc<MappedFile>> = self.files.read().clone();
        let Some(first) = files.first() else { return };
        let mut min = (first.start() / CQ_UNIT) as i64;
        let max = self.max_offset();
        'files: for f in &files {
            for (i, c) in f.read_from(0).chunks_exact(CQ_UNIT as usize).enumerate() {
                let at = (f.start() / CQ_UNIT) as i64 + i as i64;
                if at >= max {
                    min = max;
                    break 'files;
                }
                match CqEntry::decode(c) {
                    Some(e) if !e.is_filler() && e.phys >= log_min => {
                        min = at;
                        break 'files;
                    }
                    _ => min = at + 1,
                }
            }
        }
        if min != self.min_offset() {
            log::info!(
                "consume queue topic={} queue={} min offset {} -> {min}",
                self.topic,
                self.queue_id,
                self.min_offset()
            );
            self.min_offset.store(min, Ordering::Release);
        }
    }

    /// Delete every file and the queue directory.
    pub(crate) fn destroy(&self) {
        let _g = self.write_lock.lock();
        let files: Vec<Arc<MappedFile>> = std::mem::take(&mut *self.files.write());
        for f in files {
            let p = f.path().to_path_buf();
            drop(f);
            if let Err(e) = std::fs::remove_file(&p) {
                log::warn!("cannot delete consume queue file path={}: {e}", p.display());
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
        self.max_offset.store(0, Ordering::Release);
        self.min_offset.store(0, Ordering::Release);
    }
}
