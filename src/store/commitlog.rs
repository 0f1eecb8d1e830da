//! The commit log: fixed-size mapped segments holding records back to back (§5.2).
//!
//! | path | content |
//! |---|---|
//! | `commitlog/<20-digit start offset>` | `segment size` bytes: records (§3.1) back to back, then an 8-byte BLANK |
//!
//! BLANK (end of segment, written when `record + 8 > bytes left`):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | TOTALSIZE = bytes left in the segment |
//! | 4 | 4 | MAGICCODE `0xCBD43194` |
//!
//! The rest of the segment stays zero. Global offset = segment start + position. One writer (the
//! caller holds the store's append lock) appends; readers follow `max_offset` (Release/Acquire).

use super::mmap::{list_segments, repair_short_file, segment_name, MappedFile};
use super::StoreError;
use crate::common::fs::sync_dir;
use crate::common::service::Waker;
use crate::protocol::command::BodyRef;
use crate::protocol::record::{
    decode_view, peek_header, RecordHeader, RecordView, BLANK_LEN, BLANK_MAGIC,
};
use parking_lot::{Mutex, RwLock};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The warm-up service keeps this many bytes past the end of the log faulted in.
const WARM_AHEAD: u64 = 64 << 20;
/// A writer wakes the warm-up service when fewer bytes than this are warm ahead of it.
const WARM_LOW: u64 = 48 << 20;
/// Bytes faulted in per `madvise` call.
const WARM_CHUNK: u64 = 2 << 20;

/// What is at a commit-log offset, for the dispatcher.
pub(crate) enum Step<'a> {
    /// A record of `size` bytes.
    Record(RecordView<'a>, usize),
    /// End of segment: continue at this offset.
    Next(u64),
    /// Nothing (more) published here yet.
    Wait,
    /// Bytes that are not a record: the log is corrupt here.
    Corrupt(String),
}

/// Why an append could not get room.
#[derive(Debug)]
pub(crate) enum RoomError {
    /// The data can never fit in a segment.
    TooLarge,
    /// A new segment could not be created.
    CreateFailed,
}

/// Why replicated bytes could not be appended.
#[derive(Debug)]
pub(crate) enum RawError {
    /// The bytes do not start at the end of the log.
    Offset {
        /// Where they start.
        at: u64,
        /// The end of the log.
        max: u64,
    },
    /// A new segment would not start at a segment boundary.
    Boundary {
        /// Where it would start.
        at: u64,
    },
    /// The bytes run past the end of the current segment.
    Crosses {
        /// Where they start.
        at: u64,
        /// How many.
        len: usize,
        /// Bytes left in the segment.
        left: usize,
    },
    /// Creating or writing a segment failed.
    Io(io::Error),
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawError::Offset { at, max } => {
                write!(f, "data at offset {at} does not continue the log, which ends at {max}")
            }
            RawError::Boundary { at } => {
                write!(f, "a new segment cannot start at {at}: not a multiple of the segment size")
            }
            RawError::Crosses { at, len, left } => write!(
                f,
                "{len} bytes at offset {at} run past the end of the segment ({left} bytes left); are the master and slave segment sizes equal?"
            ),
            RawError::Io(e) => write!(f, "segment I/O failed: {e}"),
        }
    }
}

/// The commit log.
pub(crate) struct CommitLog {
    dir: PathBuf,
    seg_size: u64,
    segments: RwLock<Vec<Arc<MappedFile>>>,
    max_offset: AtomicU64,
    flushed_offset: AtomicU64,
    /// Test hook: segment creation fails with ENOSPC while set.
    fail_create: AtomicBool,
    /// Global offset up to which the newest segment's pages are faulted in (warm-up service).
    warmed: AtomicU64,
    /// Set once a writer asked the warm-up service for more; cleared by the service.
    warm_pending: AtomicBool,
    /// False once prefaulting failed (kernel without MADV_POPULATE_WRITE): no more wake-ups.
    warm_enabled: AtomicBool,
    warm_waker: OnceLock<Waker>,
    /// SYNC_FLUSH: segments append with `pwrite` and flush with `fdatasync`.
    write_through: bool,
    /// Held by `flush` and by live truncation, so a flush never publishes a flushed offset past
    /// a cut it raced with.
    flush_lock: Mutex<()>,
}

/// Segments opened from disk, before recovery hands them to a [`CommitLog`].
pub(crate) struct LoadedLog {
    pub(crate) segs: Vec<MappedFile>,
}

/// Checks beyond the body CRC, which does not cover the header, topic or properties: the record
/// knows its own offset and its topic is a valid name.
fn plausible(v: &RecordView<'_>, at: u64) -> bool {
    v.physical_offset == at as i64 && super::valid_topic(v.topic)
}

/// Properties that end in a NUL: what a write cut short leaves (the file is zero-filled and a
/// record is copied front to back). A NUL inside properties is no sign of damage: Apache's C++
/// client 1.x can put one in the message ids it makes under concurrency, and brokers store it.
fn ends_in_nul(v: &RecordView<'_>) -> bool {
    v.properties.as_bytes().last() == Some(&0)
}

/// A record that decodes whole, or a segment's closing BLANK, starts at the front of `rest`:
/// both are written after the record before them was complete.
fn record_follows(rest: &[u8], check_crc: bool) -> bool {
    match peek_header(rest) {
        Some(RecordHeader::Message { .. }) => decode_view(rest, check_crc).is_ok(),
        Some(RecordHeader::Blank { size }) => size as usize == rest.len(),
        _ => false,
    }
}

impl LoadedLog {
    /// Open every segment in `dir`; they must be contiguous and all `seg_size` bytes.
    pub(crate) fn open(dir: &Path, seg_size: u64) -> Result<LoadedLog, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::io("creating the commit log dir", e).with_path(dir))?;
        let mut segs: Vec<MappedFile> = Vec::new();
        let listed = list_segments(dir)
            .map_err(|e| StoreError::io("listing the commit log", e).with_path(dir))?;
        let newest = listed.last().map(|(s, _)| *s);
        for (start, path) in listed {
            if start % seg_size != 0 {
                return Err(StoreError::corrupt(
                    "opening the commit log",
                    format!(
                        "segment start {start} is not a multiple of the segment size {seg_size}"
                    ),
                )
                .with_path(&path));
            }
            if let Some(prev) = segs.last() {
                if prev.start() + seg_size != start {
                    return Err(StoreError::corrupt(
                        "opening the commit log",
                        format!("gap before segment {start}"),
                    )
                    .with_path(&path));
                }
            }
            if Some(start) == newest {
                repair_short_file(&path, seg_size as usize).map_err(|e| {
                    StoreError::io("repairing a short commit log segment", e).with_path(&path)
                })?;
            }
            let f = MappedFile::open(&path, start, seg_size as usize)
                .map_err(|e| StoreError::io("mapping a commit log segment", e).with_path(&path))?;
            segs.push(f);
        }
        Ok(LoadedLog { segs })
    }

    /// Validate records from the start of the segment containing `from` up to the first invalid
    /// one; returns the valid end offset and the number of records checked.
    pub(crate) fn scan(&self, from: u64, check_crc: bool) -> (u64, u64) {
        let Some(first) = self.segs.first() else { return (0, 0) };
        let seg_size = first.size() as u64;
        let last_start = self.segs.last().map_or(0, |s| s.start());
        let from = from.clamp(first.start(), last_start);
        let mut idx = ((from - first.start()) / seg_size) as usize;
        let mut records = 0u64;
        loop {
            let Some(seg) = self.segs.get(idx) else {
                // Last segment ended with a BLANK: valid data ends at its end.
                return (self.segs.last().map_or(0, |s| s.start() + seg_size), records);
            };
            let data = seg.read_from(0);
            let mut pos = 0usize;
            loop {
                let rest = data.get(pos..).unwrap_or(&[]);
                match peek_header(rest) {
                    Some(RecordHeader::Blank { size }) if size as usize == rest.len() => {
                        break;
                    }
                    Some(RecordHeader::Message { .. }) => match decode_view(rest, check_crc) {
                        // A record ending in NUL counts as torn only where nothing follows it:
                        // the tail, where a cut write is. In the middle it was written whole.
                        Ok((v, n))
                            if plausible(&v, seg.start() + pos as u64)
                                && n + BLANK_LEN <= rest.len()
                                && (!ends_in_nul(&v)
                                    || record_follows(rest.get(n..).unwrap_or(&[]), check_crc)) =>
                        {
                            pos += n;
                            records += 1;
                        }
                        Ok(_) => {
                            log::warn!("commit log record at offset={} is implausible (physical offset, topic, size, or a torn tail ending in NUL); truncating there", seg.start() + pos as u64);
                            return (seg.start() + pos as u64, records);
                        }
                        Err(e) => {
                            log::warn!("commit log ends with an invalid record at offset={}: {e}; truncating there", seg.start() + pos as u64);
                            return (seg.start() + pos as u64, records);
                        }
                    },
                    _ => return (seg.start() + pos as u64, records),
                }
            }
            idx += 1;
        }
    }

    /// Cut the log at `valid_end`: zero the tail of its segment, delete later segments.
    pub(crate) fn truncate(&mut self, dir: &Path, valid_end: u64) -> Result<(), StoreError> {
        let mut deleted = 0;
        while let Some(last) = self.segs.last() {
            if last.start() >= valid_end {
                if let Some(seg) = self.segs.pop() {
                    let p = seg.path().to_path_buf();
                    seg.delete().map_err(|e| {
                        StoreError::io("deleting a commit log segment", e).with_path(&p)
                    })?;
                    deleted += 1;
                }
            } else {
                break;
            }
        }
        if deleted > 0 {
            sync_dir(dir)
                .map_err(|e| StoreError::io("syncing the commit log dir", e).with_path(dir))?;
            log::info!("commit log recovery deleted {deleted} segment(s) after offset={valid_end}");
        }
        if let Some(last) = self.segs.last_mut() {
            let keep = (valid_end - last.start()) as usize;
            last.truncate(keep)
                .map_err(|e| StoreError::io("truncating a commit log segment", e).with_path(dir))?;
        }
        Ok(())
    }
}

impl CommitLog {
    /// Wrap recovered segments; everything up to `valid_end` is published.
    /// `write_through`: see [`MappedFile::set_write_through`] (the store sets it in SYNC_FLUSH).
    pub(crate) fn new(
        dir: &Path,
        seg_size: u64,
        loaded: LoadedLog,
        valid_end: u64,
        write_through: bool,
    ) -> CommitLog {
        let segs: Vec<Arc<MappedFile>> = loaded.segs.into_iter().map(Arc::new).collect();
        for s in &segs {
            s.set_write_through(write_through);
        }
        let max = segs.last().map_or(valid_end, |s| s.start() + s.published() as u64);
        CommitLog {
            dir: dir.to_path_buf(),
            seg_size,
            segments: RwLock::new(segs),
            max_offset: AtomicU64::new(max),
            flushed_offset: AtomicU64::new(max),
            fail_create: AtomicBool::new(false),
            warmed: AtomicU64::new(max),
            warm_pending: AtomicBool::new(false),
            warm_enabled: AtomicBool::new(true),
            warm_waker: OnceLock::new(),
            write_through,
            flush_lock: Mutex::new(()),
        }
    }

    /// First offset still stored (the end of the log when no segment is left).
    pub(crate) fn min_offset(&self) -> u64 {
        self.segments.read().first().map_or_else(|| self.max_offset(), |s| s.start())
    }

    /// Segment size.
    pub(crate) fn segment_size(&self) -> u64 {
        self.seg_size
    }

    /// End of the published data.
    pub(crate) fn max_offset(&self) -> u64 {
        self.max_offset.load(Ordering::Acquire)
    }

    /// Offset up to which the data was flushed.
    pub(crate) fn flushed_offset(&self) -> u64 {
        self.flushed_offset.load(Ordering::Acquire)
    }

    fn segment_for(&self, off: u64) -> Option<Arc<MappedFile>> {
        let segs = self.segments.read();
        let first = segs.first()?.start();
        if off < first {
            return None;
        }
        segs.get(((off - first) / self.seg_size) as usize).cloned()
    }

    /// Copy `len` published bytes at global offset `off`.
    pub(crate) fn read(&self, off: u64, len: usize) -> Option<Vec<u8>> {
        let seg = self.segment_for(off)?;
        seg.read((off - seg.start()) as usize, len).map(|b| b.to_vec())
    }

    /// `len` published bytes at global offset `off`, as a handle on the mapped segment (no copy).
    pub(crate) fn read_shared(&self, off: u64, len: usize) -> Option<BodyRef> {
        let seg = self.segment_for(off)?;
        let pos = (off - seg.start()) as usize;
        BodyRef::new(seg, pos, len)
    }

    /// Run `f` on published bytes at `off` (no copy).
    pub(crate) fn with_bytes<R>(
        &self,
        off: u64,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let seg = self.segment_for(off)?;
        seg.read((off - seg.start()) as usize, len).map(f)
    }

    /// Copy the whole record at `off`, if there is one.
    pub(crate) fn read_record(&self, off: u64) -> Option<Vec<u8>> {
        let seg = self.segment_for(off)?;
        let rest = seg.read_from((off - seg.start()) as usize);
        match peek_header(rest)? {
            RecordHeader::Message { total_size } => rest.get(..total_size).map(|b| b.to_vec()),
            _ => None,
        }
    }

    /// What is at `off` (for the dispatcher). `f` runs on the record view while the segment is held.
    pub(crate) fn step<R>(&self, off: u64, f: impl FnOnce(Step<'_>) -> R) -> R {
        let Some(seg) = self.segment_for(off) else { return f(Step::Wait) };
        let pos = (off - seg.start()) as usize;
        if pos >= seg.size() {
            return f(Step::Next(seg.start() + self.seg_size));
        }
        let rest = seg.read_from(pos);
        match peek_header(rest) {
            None => f(Step::Wait),
            Some(RecordHeader::Blank { .. }) => f(Step::Next(seg.start() + self.seg_size)),
            Some(RecordHeader::Message { total_size }) if rest.len() < total_size => f(Step::Wait),
            Some(RecordHeader::Message { .. }) => match decode_view(rest, false) {
                Ok((v, n)) => f(Step::Record(v, n)),
                Err(e) => f(Step::Corrupt(e.to_string())),
            },
            Some(RecordHeader::Invalid) => {
                // An all-zero header at the published end cannot happen (appends are atomic).
                f(Step::Corrupt("bad magic code".to_string()))
            }
        }
    }

    /// Make sure the current segment has room for `len` bytes (plus a BLANK), rolling to a new
    /// segment if needed. Returns the offset the data will be written at. Caller holds the append
    /// lock. With the writer's `cached` last segment: while it has room and
    /// still ends where the log ends (it was not sealed, cut or replaced since), the append
    /// takes no lock besides the caller's append lock. Otherwise the segment table is read (or
    /// a new segment added) and the cache refreshed. Append with [`CommitLog::append_in`].
    pub(crate) fn reserve_in(
        &self,
        len: usize,
        cached: &mut Option<Arc<MappedFile>>,
    ) -> Result<u64, RoomError> {
        let need = len as u64 + BLANK_LEN as u64;
        if need > self.seg_size {
            return Err(RoomError::TooLarge);
        }
        if let Some(seg) = cached.as_ref() {
            let end = seg.start() + seg.published() as u64;
            if end == self.max_offset() && seg.remaining() as u64 >= need {
                return Ok(end);
            }
        }
        let at = self.reserve_slow(need)?;
        *cached = self.segments.read().last().cloned();
        Ok(at)
    }

    fn reserve_slow(&self, need: u64) -> Result<u64, RoomError> {
        let cur = self.segments.read().last().cloned();
        let next_start = match cur {
            Some(seg) if seg.remaining() as u64 >= need => {
                return Ok(seg.start() + seg.published() as u64)
            }
            Some(seg) => {
                let left = seg.remaining();
                if left >= BLANK_LEN {
                    let mut blank = [0u8; BLANK_LEN];
                    blank[..4].copy_from_slice(&(left as i32).to_be_bytes());
                    blank[4..].copy_from_slice(&BLANK_MAGIC.to_be_bytes());
                    let _ = seg.append(&blank);
                }
                seg.seal();
                let end = seg.start() + self.seg_size;
                self.max_offset.store(end, Ordering::Release);
                end
            }
            None => self.max_offset(),
        };
        match self.create_segment(next_start) {
            Ok(f) => {
                self.segments.write().push(Arc::new(f));
                self.wake_warmer();
                Ok(next_start)
            }
            Err(e) => {
                log::error!(
                    "cannot create commit log segment path={}: {e}",
                    self.dir.join(segment_name(next_start)).display()
                );
                Err(RoomError::CreateFailed)
            }
        }
    }

    /// Append `len` bytes at `at` to `seg`, the segment [`CommitLog::reserve_in`] reserved them
    /// in; `fill` writes them straight into the segment (see [`MappedFile::append_with`]).
    /// Caller holds the append lock.
    pub(crate) fn append_in(
        &self,
        seg: &MappedFile,
        at: u64,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> bool {
        if seg.start() + seg.published() as u64 != at {
            return false;
        }
        if seg.append_with(len, fill).is_none() {
            return false;
        }
        self.published_to(at + len as u64);
        true
    }

    /// Publish the log up to `end` and keep the warm-up service ahead of it.
    fn published_to(&self, end: u64) {
        self.max_offset.store(end, Ordering::Release);
        if end + WARM_LOW > self.warmed.load(Ordering::Relaxed)
            && !self.warm_pending.load(Ordering::Relaxed)
        {
            self.wake_warmer();
        }
    }

    fn create_segment(&self, start: u64) -> io::Result<MappedFile> {
        let path = self.dir.join(segment_name(start));
        if self.fail_create.load(Ordering::Acquire) {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let f = MappedFile::create(&path, start, self.seg_size as usize)?;
        sync_dir(&self.dir)?;
        f.set_write_through(self.write_through);
        log::info!("commit log rolled to new segment offset={start} path={}", path.display());
        Ok(f)
    }

    /// Append bytes copied from a master at `at`, which must be the end of the log (a slave's
    /// replication; the caller holds the append lock). The bytes may end inside a record; they
    /// may not run past the end of a segment. A new segment starts when the current one is
    /// full (or there is none) and `at` is a segment boundary.
    pub(crate) fn append_raw(&self, at: u64, data: &[u8]) -> Result<(), RawError> {
        let max = self.max_offset();
        if at != max {
            return Err(RawError::Offset { at, max });
        }
        if data.is_empty() {
            return Ok(());
        }
        let cur = self.segments.read().last().cloned();
        let seg = match cur {
            Some(seg) if seg.remaining() > 0 => seg,
            _ => {
                if !at.is_multiple_of(self.seg_size) {
                    return Err(RawError::Boundary { at });
                }
                let f = Arc::new(self.create_segment(at).map_err(RawError::Io)?);
                self.segments.write().push(f.clone());
                self.wake_warmer();
                f
            }
        };
        if data.len() > seg.remaining() {
            return Err(RawError::Crosses { at, len: data.len(), left: seg.remaining() });
        }
        if seg.append(data).is_none() {
            return Err(RawError::Io(io::Error::other("segment write failed")));
        }
        self.published_to(at + data.len() as u64);
        Ok(())
    }

    /// Copy of at most `max` published bytes from `off`, never past the end of its segment
    /// (replication; the BLANK tail of a full segment included). `None` below the first
    /// segment or past the end of the log; empty at the end of the log.
    pub(crate) fn read_raw(&self, off: u64, max: usize) -> Option<Vec<u8>> {
        let end = self.max_offset();
        if off < self.min_offset() || off > end {
            return None;
        }
        let Some(seg) = self.segment_for(off) else { return Some(Vec::new()) };
        let rest = seg.read_from((off - seg.start()) as usize);
        // Never past the log's max offset: a segment publishes an append a moment before the
        // max moves, and bytes sent from there made a slave acknowledge (and the writer ask for)
        // offsets beyond the max, which dropped the slave.
        let n = max.min(rest.len()).min((end - off) as usize);
        Some(rest.get(..n).unwrap_or(&[]).to_vec())
    }

    /// Start of the record (or BLANK) holding byte `off - 1`, then `steps - 1` records further
    /// back, never before that segment's start. `hint` is a known record start (the dispatch
    /// position) a single step may scan from. `None` when `off` is not in `(min, max]`.
    pub(crate) fn record_start_before(&self, off: u64, steps: u32, hint: u64) -> Option<u64> {
        if off <= self.min_offset() || off > self.max_offset() {
            return None;
        }
        let seg = self.segment_for(off - 1)?;
        let start = seg.start();
        let data = seg.read_from(0);
        let mut pos = if steps <= 1 && hint >= start && hint < off { hint - start } else { 0 };
        let keep = steps.clamp(1, 1 << 16) as usize;
        let mut ring = std::collections::VecDeque::with_capacity(keep.min(1024));
        while start + pos < off {
            if ring.len() == keep {
                ring.pop_front();
            }
            ring.push_back(start + pos);
            match peek_header(data.get(pos as usize..).unwrap_or(&[])) {
                Some(RecordHeader::Message { total_size }) => pos += total_size as u64,
                _ => break,
            }
        }
        Some(ring.front().copied().unwrap_or(start))
    }

    /// End of the record starting at `off` (the segment's end for a BLANK); `None` without a
    /// readable header there.
    pub(crate) fn record_end(&self, off: u64) -> Option<u64> {
        let seg = self.segment_for(off)?;
        let rest = seg.read_from((off - seg.start()) as usize);
        match peek_header(rest)? {
            RecordHeader::Message { total_size } => Some(off + total_size as u64),
            RecordHeader::Blank { .. } => Some(seg.start() + self.seg_size),
            RecordHeader::Invalid => None,
        }
    }

    /// Cut the live log at `to` (`min <= to <= max`): later segments are unlinked and the
    /// segment holding `to` is replaced by a copy of its bytes before `to`
    /// ([`MappedFile::copy_prefix`]). Readers keep the segments they hold. The caller holds the
    /// append lock and keeps the dispatcher away.
    pub(crate) fn truncate_live(&self, to: u64) -> io::Result<()> {
        let _f = self.flush_lock.lock();
        let mut gone = Vec::new();
        {
            let mut segs = self.segments.write();
            while segs.last().is_some_and(|s| s.start() >= to) {
                gone.extend(segs.pop());
            }
            if let Some(last) = segs.last_mut() {
                let keep = (to - last.start()) as usize;
                if keep < last.published() {
                    *last = Arc::new(last.copy_prefix(keep)?);
                }
            }
        }
        for seg in &gone {
            if let Err(e) = std::fs::remove_file(seg.path()) {
                log::warn!("cannot delete commit log segment path={}: {e}", seg.path().display());
            }
        }
        sync_dir(&self.dir)?;
        self.max_offset.store(to, Ordering::Release);
        self.flushed_offset.fetch_min(to, Ordering::AcqRel);
        self.warmed.store(to, Ordering::Release);
        Ok(())
    }

    /// Publish the rest of the last segment (its BLANK arrived, its zeros only in part).
    pub(crate) fn seal_last(&self) {
        if let Some(seg) = self.segments.read().last() {
            seg.seal();
            self.max_offset.store(seg.start() + self.seg_size, Ordering::Release);
        }
    }

    /// Drop every segment and restart the log empty at `start`, a segment boundary (a slave
    /// that has nothing in common with its master). The caller holds the append lock.
    pub(crate) fn reset_live(&self, start: u64) -> io::Result<()> {
        let _f = self.flush_lock.lock();
        let gone = std::mem::take(&mut *self.segments.write());
        for seg in &gone {
            if let Err(e) = std::fs::remove_file(seg.path()) {
                log::warn!("cannot delete commit log segment path={}: {e}", seg.path().display());
            }
        }
        sync_dir(&self.dir)?;
        self.max_offset.store(start, Ordering::Release);
        self.flushed_offset.store(start, Ordering::Release);
        self.warmed.store(start, Ordering::Release);
        let seg = Arc::new(self.create_segment(start)?);
        self.segments.write().push(seg);
        self.wake_warmer();
        Ok(())
    }

    /// Install the warm-up service's waker.
    pub(crate) fn set_warm_waker(&self, w: Waker) {
        let _ = self.warm_waker.set(w);
    }

    fn wake_warmer(&self) {
        if self.warm_enabled.load(Ordering::Relaxed)
            && !self.warm_pending.swap(true, Ordering::AcqRel)
        {
            if let Some(w) = self.warm_waker.get() {
                w.wake();
            }
        }
    }

    /// Warm-up service body: fault in the newest segment's pages up to `WARM_AHEAD` bytes past
    /// the end of the log (Apache's warmMappedFile / AllocateMappedFileService, done with
    /// `MADV_POPULATE_WRITE` instead of writing zeros). First writes to fresh page-cache pages
    /// cost the appender 1-2 µs per KiB (page allocation and zeroing); this moves that work to
    /// the service's thread.
    pub(crate) fn warm(&self) {
        self.warm_pending.store(false, Ordering::Release);
        if !self.warm_enabled.load(Ordering::Relaxed) {
            return;
        }
        let Some(seg) = self.segments.read().last().cloned() else { return };
        let (start, seg_end) = (seg.start(), seg.start() + self.seg_size);
        let target = (self.max_offset() + WARM_AHEAD).min(seg_end);
        let mut from = self.warmed.load(Ordering::Acquire).max(start + seg.published() as u64);
        while from < target {
            let to = (from + WARM_CHUNK).min(target);
            let (a, b) = ((from - start) as usize, (to - start) as usize);
            let res = if self.write_through { seg.zero_ahead(a, b) } else { seg.prefault(a, b) };
            if let Err(e) = res {
                log::info!("commit log warm-up disabled: {e}");
                self.warm_enabled.store(false, Ordering::Relaxed);
                return;
            }
            self.warmed.fetch_max(to, Ordering::AcqRel);
            from = to;
        }
    }

    /// msync every segment with unflushed data; returns the new flushed offset.
    pub(crate) fn flush(&self) -> io::Result<u64> {
        let _f = self.flush_lock.lock();
        let target = self.max_offset();
        let from = self.flushed_offset();
        let segs: Vec<Arc<MappedFile>> = {
            let all = self.segments.read();
            all.iter()
                .filter(|s| s.start() + self.seg_size > from && s.dirty() > 0)
                .cloned()
                .collect()
        };
        for s in segs {
            s.flush()?;
        }
        self.flushed_offset.fetch_max(target, Ordering::AcqRel);
        Ok(target)
    }

    /// Test hook: make new segments fail as on a full disk.
    #[cfg(test)]
    pub(crate) fn set_fail_create(&self, fail: bool) {
        self.fail_create.store(fail, Ordering::Release);
    }

    /// Delete up to `max_files` of the oldest segments, never the newest one nor one reaching past
    /// `limit` (not yet dispatched): those last modified at least `reserved_ms` ago, or any when
    /// `force` (disk nearly full). Stops at the first segment that must stay (Apache's
    /// MappedFileQueue.deleteExpiredFileByTime). Returns the number deleted.
    pub(crate) fn delete_expired(
        &self,
        reserved_ms: u64,
        force: bool,
        limit: u64,
        max_files: usize,
    ) -> usize {
        let now = std::time::SystemTime::now();
        let mut deleted = 0;
        while deleted < max_files {
            let seg = {
                let segs = self.segments.read();
                match segs.first() {
                    Some(first) if segs.len() > 1 => first.clone(),
                    _ => break,
                }
            };
            if seg.start() + self.seg_size > limit {
                break;
            }
            let age = std::fs::metadata(seg.path())
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .map_or(0, |d| d.as_millis() as u64);
            if !force && age < reserved_ms {
                break;
            }
            {
                let mut segs = self.segments.write();
                if segs.first().is_some_and(|f| Arc::ptr_eq(f, &seg)) {
                    segs.remove(0);
                }
            }
            // Readers holding the Arc keep the mapping; unlinking never truncates it.
            match std::fs::remove_file(seg.path()) {
                Ok(()) => log::info!(
                    "deleted expired commit log segment path={} age_ms={age} forced={force}",
                    seg.path().display()
                ),
                Err(e) => log::warn!(
                    "cannot delete commit log segment path={}: {e}",
                    seg.path().display()
                ),
            }
            deleted += 1;
        }
        if deleted > 0 {
            if let Err(e) = sync_dir(&self.dir) {
                log::warn!("cannot sync commit log dir path={}: {e}", self.dir.display());
            }
        }
        deleted
    }

    /// Unflushed bytes.
    pub(crate) fn dirty_bytes(&self) -> u64 {
        self.max_offset().saturating_sub(self.flushed_offset())
    }
}
