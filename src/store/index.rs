//! Index files: a hash index from `topic#key` to commit-log offsets, for QUERY_MESSAGE by message
//! key (`KEYS`, space separated) and unique key (`UNIQ_KEY`). Same layout as Apache's
//! store/index/IndexFile.java; written only by the dispatch thread.
//!
//! | path | content |
//! |---|---|
//! | `index/<yyyyMMddHHmmssSSS>` (creation time, UTC) | header, `maxHashSlotNum` slots, `maxIndexNum` entries |
//!
//! Header (40 bytes):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | beginTimestamp: store time of the first entry |
//! | 8 | 8 | endTimestamp: store time of the newest entry |
//! | 16 | 8 | beginPhyOffset: commit-log offset of the first entry |
//! | 24 | 8 | endPhyOffset: commit-log offset of the newest entry |
//! | 32 | 4 | hashSlotCount: slots in use |
//! | 36 | 4 | indexCount: next entry number (starts at 1; entry 0 is never used) |
//!
//! Slot *s* (4 bytes at 40 + 4·s) holds the number of the newest entry whose key hash modulo the
//! slot count is *s* (0 = none). Entry *n* (20 bytes at 40 + 4·slots + 20·n):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | keyHash: `abs(Java hashCode("topic#key"))` (0 for `Integer.MIN_VALUE`) |
//! | 4 | 8 | phyOffset |
//! | 12 | 4 | timeDiff: seconds from beginTimestamp |
//! | 16 | 4 | prevIndex: the previous entry of the same slot (0 = end of chain) |
//!
//! A file is full when indexCount reaches `maxIndexNum`; the next one inherits the previous end
//! offset and time in its header until its first entry. Entries are appended in commit-log order,
//! which lets recovery cut a suffix exactly by unlinking the newest entries from their slots.

use super::mmap::RandomFile;
use super::StoreError;
use crate::common::fs::sync_dir;
use crate::protocol::record::{get_property, sysflag, tag_hash};
use parking_lot::RwLock;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

/// Header size.
pub(crate) const HEADER_LEN: usize = 40;
const SLOT_LEN: usize = 4;
const ENTRY_LEN: usize = 20;
const H_BEGIN_TS: usize = 0;
const H_END_TS: usize = H_BEGIN_TS + 8;
const H_BEGIN_PHY: usize = H_END_TS + 8;
const H_END_PHY: usize = H_BEGIN_PHY + 8;
const H_SLOT_COUNT: usize = H_END_PHY + 8;
const H_INDEX_COUNT: usize = H_SLOT_COUNT + 4;
const E_PHY: usize = 4;
const E_TIME: usize = E_PHY + 8;
const E_PREV: usize = E_TIME + 4;

/// Apache's `maxMsgsNumBatch`: a query returns at most this many offsets.
pub(crate) const MAX_QUERY_NUM: usize = 64;

fn get_i64(b: &[u8], at: usize) -> i64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, i64::from_be_bytes)
}

fn get_i32(b: &[u8], at: usize) -> i32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, i32::from_be_bytes)
}

fn put_i64(b: &mut [u8], at: usize, v: i64) {
    if let Some(s) = b.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

fn put_i32(b: &mut [u8], at: usize, v: i32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Apache's `indexKeyHashMethod` of `topic#key`.
pub(crate) fn key_hash(topic: &str, key: &str) -> i32 {
    (tag_hash(&format!("{topic}#{key}")) as i32).checked_abs().unwrap_or(0)
}

/// File header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Header {
    begin_ts: i64,
    end_ts: i64,
    begin_phy: i64,
    end_phy: i64,
    slot_count: i32,
    index_count: i32,
}

impl Header {
    fn read(b: &[u8]) -> Header {
        Header {
            begin_ts: get_i64(b, H_BEGIN_TS),
            end_ts: get_i64(b, H_END_TS),
            begin_phy: get_i64(b, H_BEGIN_PHY),
            end_phy: get_i64(b, H_END_PHY),
            slot_count: get_i32(b, H_SLOT_COUNT),
            index_count: get_i32(b, H_INDEX_COUNT).max(1),
        }
    }

    fn write(&self, b: &mut [u8]) {
        put_i64(b, H_BEGIN_TS, self.begin_ts);
        put_i64(b, H_END_TS, self.end_ts);
        put_i64(b, H_BEGIN_PHY, self.begin_phy);
        put_i64(b, H_END_PHY, self.end_phy);
        put_i32(b, H_SLOT_COUNT, self.slot_count);
        put_i32(b, H_INDEX_COUNT, self.index_count);
    }
}

/// One index file.
struct IndexFile {
    slots: usize,
    max_entries: usize,
    file: RwLock<RandomFile>,
    dirty: AtomicBool,
}

impl IndexFile {
    fn size(slots: usize, entries: usize) -> usize {
        HEADER_LEN + slots * SLOT_LEN + entries * ENTRY_LEN
    }

    fn create(path: &Path, slots: usize, entries: usize, prev: Header) -> io::Result<IndexFile> {
        let mut f = RandomFile::create(path, Self::size(slots, entries))?;
        let h = Header {
            begin_ts: prev.end_ts,
            end_ts: prev.end_ts,
            begin_phy: prev.end_phy,
            end_phy: prev.end_phy,
            slot_count: 0,
            index_count: 1,
        };
        h.write(f.bytes_mut());
        f.flush()?;
        Ok(IndexFile { slots, max_entries: entries, file: RwLock::new(f), dirty: false.into() })
    }

    fn open(path: &Path, slots: usize, entries: usize) -> io::Result<IndexFile> {
        let f = RandomFile::open(path, Self::size(slots, entries))?;
        Ok(IndexFile { slots, max_entries: entries, file: RwLock::new(f), dirty: false.into() })
    }

    fn header(&self) -> Header {
        Header::read(self.file.read().bytes())
    }

    fn slot_pos(&self, hash: i32) -> usize {
        HEADER_LEN + (hash as u32 as usize % self.slots) * SLOT_LEN
    }

    fn entry_pos(&self, n: usize) -> usize {
        HEADER_LEN + self.slots * SLOT_LEN + n * ENTRY_LEN
    }

    fn is_full(&self) -> bool {
        self.header().index_count as usize >= self.max_entries
    }

    /// Add an entry; false when the file is full.
    fn put(&self, hash: i32, phy: i64, ts: i64) -> bool {
        let mut f = self.file.write();
        let b = f.bytes_mut();
        let mut h = Header::read(b);
        let n = h.index_count as usize;
        if n >= self.max_entries {
            return false;
        }
        let sp = self.slot_pos(hash);
        let mut prev = get_i32(b, sp);
        if prev <= 0 || prev as usize >= n {
            prev = 0;
        }
        if n <= 1 {
            h.begin_ts = ts;
            h.begin_phy = phy;
        }
        let diff =
            if h.begin_ts <= 0 { 0 } else { ((ts - h.begin_ts) / 1000).clamp(0, i32::MAX as i64) };
        let ep = self.entry_pos(n);
        put_i32(b, ep, hash);
        put_i64(b, ep + E_PHY, phy);
        put_i32(b, ep + E_TIME, diff as i32);
        put_i32(b, ep + E_PREV, prev);
        put_i32(b, sp, n as i32);
        if prev == 0 {
            h.slot_count += 1;
        }
        h.index_count = n as i32 + 1;
        h.end_phy = phy;
        h.end_ts = ts;
        h.write(b);
        self.dirty.store(true, Ordering::Release);
        true
    }

    /// Apache's `isTimeMatched`: the file's time range overlaps `[begin, end]`.
    fn time_matched(&self, begin: i64, end: i64) -> bool {
        let h = self.header();
        (begin < h.begin_ts && end > h.end_ts)
            || (begin >= h.begin_ts && begin <= h.end_ts)
            || (end >= h.begin_ts && end <= h.end_ts)
    }

    /// Append to `out` the offsets of entries with this hash stored within `[begin, end]`, newest
    /// first, until `out` holds `max`.
    fn select(&self, out: &mut Vec<i64>, hash: i32, max: usize, begin: i64, end: i64) {
        let f = self.file.read();
        let b = f.bytes();
        let h = Header::read(b);
        let mut n = get_i32(b, self.slot_pos(hash));
        // prevIndex must point to an older entry, so the walk ends even in a damaged file.
        while n > 0 && n < h.index_count && out.len() < max {
            let ep = self.entry_pos(n as usize);
            let diff = get_i32(b, ep + E_TIME);
            if diff < 0 {
                break;
            }
            let t = h.begin_ts + diff as i64 * 1000;
            if get_i32(b, ep) == hash && t >= begin && t <= end {
                out.push(get_i64(b, ep + E_PHY));
            }
            let prev = get_i32(b, ep + E_PREV);
            if prev <= 0 || prev >= n || t < begin {
                break;
            }
            n = prev;
        }
    }

    /// Remove the entries at commit-log offsets `>= log_end` (always a suffix). False when the
    /// slot chains do not match the entries (a damaged file, to be rebuilt).
    fn truncate_from(&self, log_end: u64) -> io::Result<bool> {
        let mut f = self.file.write();
        let b = f.bytes_mut();
        let mut h = Header::read(b);
        let mut n = h.index_count - 1;
        let mut cut = 0;
        while n >= 1 {
            let ep = self.entry_pos(n as usize);
            if get_i64(b, ep + E_PHY) < log_end as i64 {
                break;
            }
            let sp = self.slot_pos(get_i32(b, ep));
            if get_i32(b, sp) != n {
                return Ok(false);
            }
            let prev = get_i32(b, ep + E_PREV);
            put_i32(b, sp, prev);
            if prev == 0 {
                h.slot_count -= 1;
            }
            if let Some(e) = b.get_mut(ep..ep + ENTRY_LEN) {
                e.fill(0);
            }
            n -= 1;
            cut += 1;
        }
        if cut > 0 {
            h.index_count = n + 1;
            if n >= 1 {
                let ep = self.entry_pos(n as usize);
                h.end_phy = get_i64(b, ep + E_PHY);
                h.end_ts = h.begin_ts + get_i32(b, ep + E_TIME) as i64 * 1000;
            }
            h.write(b);
            f.flush()?;
            log::info!(
                "index file path={} lost {cut} entries at or past commit log offset {log_end}",
                f.path().display()
            );
        }
        Ok(true)
    }

    /// True when every entry is exactly where its slot chain leads (walking entries newest first,
    /// each must be its slot's current head; then every slot must be empty). O(entries).
    fn validate(&self) -> bool {
        let f = self.file.read();
        let b = f.bytes();
        let h = Header::read(b);
        let mut heads: Vec<i32> =
            (0..self.slots).map(|s| get_i32(b, HEADER_LEN + s * SLOT_LEN)).collect();
        for n in (1..h.index_count).rev() {
            let ep = self.entry_pos(n as usize);
            let slot = get_i32(b, ep) as u32 as usize % self.slots;
            match heads.get_mut(slot) {
                Some(head) if *head == n => *head = get_i32(b, ep + E_PREV),
                _ => return false,
            }
        }
        heads.iter().all(|&h| h == 0)
    }

    fn flush(&self) -> io::Result<()> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            if let Err(e) = self.file.read().flush() {
                self.dirty.store(true, Ordering::Release);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Offsets found by a query plus the index's progress (QUERY_MESSAGE response fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IndexHits {
    /// Commit-log offsets, newest first.
    pub(crate) offsets: Vec<i64>,
    /// endTimestamp of the newest index file.
    pub(crate) last_update_timestamp: i64,
    /// endPhyOffset of the newest index file.
    pub(crate) last_update_phy_offset: i64,
}

/// All index files of a store.
pub(crate) struct Index {
    dir: PathBuf,
    slots: usize,
    entries: usize,
    files: RwLock<Vec<(PathBuf, Arc<IndexFile>)>>,
    /// Commit-log offset of the newest indexed record (−1: none); dispatch skips older ones.
    last_indexed: AtomicI64,
    create_failed: AtomicBool,
}

/// `yyyyMMddHHmmssSSS` in UTC (Apache's UtilAll.timeMillisToHumanString uses local time; names
/// only order the files).
fn file_name(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}{:03}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

impl Index {
    /// Open the index files in `dir` and cut entries at or past `log_end` (the recovered end of
    /// the commit log); after a crash also check the newest file's chains in full (its pages
    /// may be the ones a power loss tore). Returns the index and, when a damaged file had to be
    /// dropped, the commit-log offset from which records must be indexed again.
    pub(crate) fn load(
        dir: &Path,
        slots: usize,
        entries: usize,
        log_end: u64,
        crashed: bool,
    ) -> Result<(Index, Option<u64>), StoreError> {
        if slots == 0 || entries < 2 || IndexFile::size(slots, entries) > i32::MAX as usize {
            return Err(StoreError::config(
                "maxHashSlotNum must be at least 1, maxIndexNum at least 2, and the index file under 2 GiB",
            ));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::io("creating the index dir", e).with_path(dir))?;
        let mut names = Vec::new();
        for e in std::fs::read_dir(dir)
            .map_err(|e| StoreError::io("listing the index dir", e).with_path(dir))?
        {
            let e = e.map_err(|e| StoreError::io("listing the index dir", e).with_path(dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.len() == 17 && name.bytes().all(|b| b.is_ascii_digit()) {
                names.push(e.path());
            }
        }
        names.sort();
        let mut files = Vec::new();
        let mut rebuild_from: Option<u64> = None;
        for path in names {
            match IndexFile::open(&path, slots, entries) {
                Ok(f) => files.push((path, Arc::new(f))),
                Err(e) => {
                    log::warn!("dropping unreadable index file path={}: {e}", path.display());
                    let _ = std::fs::remove_file(&path);
                    rebuild_from = Some(0);
                }
            }
        }
        // Newest first: cut entries past the log end; drop files left empty or damaged.
        while let Some((path, f)) = files.last() {
            let h = f.header();
            if h.end_phy < log_end as i64 && (!crashed || f.validate()) {
                break;
            }
            let consistent = f
                .truncate_from(log_end)
                .map_err(|e| StoreError::io("truncating an index file", e).with_path(path))?
                && (!crashed || f.validate());
            if consistent && f.header().index_count > 1 {
                break;
            }
            if !consistent {
                log::warn!("index file path={} is damaged; rebuilding it", path.display());
                let from = if h.index_count > 1 { h.begin_phy.max(0) as u64 } else { 0 };
                rebuild_from = Some(rebuild_from.map_or(from, |r| r.min(from)));
            }
            let path = path.clone();
            files.pop();
            std::fs::remove_file(&path)
                .map_err(|e| StoreError::io("deleting an index file", e).with_path(&path))?;
        }
        let _ = sync_dir(dir);
        let last_indexed = files
            .iter()
            .rev()
            .map(|(_, f)| f.header())
            .find(|h| h.index_count > 1)
            .map_or(-1, |h| h.end_phy);
        // A record's keys may straddle two files: when a file is rebuilt from its first record,
        // that record is indexed again whole (query() drops the duplicate offsets).
        let last_indexed = rebuild_from.map_or(last_indexed, |r| last_indexed.min(r as i64 - 1));
        let index = Index {
            dir: dir.to_path_buf(),
            slots,
            entries,
            files: RwLock::new(files),
            last_indexed: AtomicI64::new(last_indexed),
            create_failed: AtomicBool::new(false),
        };
        Ok((index, rebuild_from))
    }

    /// The file to write to, rolling to a new one when the newest is full.
    fn writable(&self) -> Option<Arc<IndexFile>> {
        let prev = match self.files.read().last() {
            Some((_, f)) if !f.is_full() => return Some(f.clone()),
            Some((_, f)) => f.header(),
            None => Header::default(),
        };
        let mut ms = crate::common::time::now_millis();
        let mut path = self.dir.join(file_name(ms));
        while path.exists() {
            ms += 1;
            path = self.dir.join(file_name(ms));
        }
        match IndexFile::create(&path, self.slots, self.entries, prev)
            .and_then(|f| sync_dir(&self.dir).map(|()| f))
        {
            Ok(f) => {
                log::info!("index rolled to new file path={}", path.display());
                self.create_failed.store(false, Ordering::Release);
                let f = Arc::new(f);
                self.files.write().push((path, f.clone()));
                Some(f)
            }
            Err(e) => {
                if !self.create_failed.swap(true, Ordering::AcqRel) {
                    log::error!(
                        "cannot create index file path={}: {e}; messages are not indexed until this is fixed",
                        path.display()
                    );
                }
                None
            }
        }
    }

    /// Index one record's unique key and keys (dispatch thread only). Records at or below the
    /// newest indexed offset (re-dispatch after recovery) and rolled-back transaction records are
    /// skipped, as in Apache's IndexService.buildIndex.
    pub(crate) fn build(&self, topic: &str, properties: &str, sys_flag: i32, phys: u64, ts: i64) {
        let phys = phys as i64;
        if phys <= self.last_indexed.load(Ordering::Acquire)
            || sysflag::transaction_type(sys_flag) == sysflag::TRANSACTION_ROLLBACK
        {
            return;
        }
        let uniq = get_property(properties, "UNIQ_KEY").filter(|k| !k.is_empty());
        let keys = get_property(properties, "KEYS").unwrap_or("");
        for key in uniq.into_iter().chain(keys.split(' ').filter(|k| !k.is_empty())) {
            let hash = key_hash(topic, key);
            loop {
                let Some(f) = self.writable() else { return };
                if f.put(hash, phys, ts) {
                    break;
                }
            }
        }
        self.last_indexed.store(phys, Ordering::Release);
    }

    /// Offsets of records of `topic` with `key` stored within `[begin, end]` (ms), at most
    /// `max` (capped at [`MAX_QUERY_NUM`]), newest file first. Hash collisions are possible: the
    /// caller checks each record.
    pub(crate) fn query(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
    ) -> IndexHits {
        let max = max.clamp(1, MAX_QUERY_NUM);
        let hash = key_hash(topic, key);
        let files: Vec<Arc<IndexFile>> = self.files.read().iter().map(|(_, f)| f.clone()).collect();
        let mut hits = IndexHits::default();
        if let Some(last) = files.last() {
            let h = last.header();
            hits.last_update_timestamp = h.end_ts;
            hits.last_update_phy_offset = h.end_phy;
        }
        for f in files.iter().rev() {
            if f.time_matched(begin, end) {
                let mut found = Vec::new();
                f.select(&mut found, hash, max, begin, end);
                for o in found {
                    if hits.offsets.len() < max && !hits.offsets.contains(&o) {
                        hits.offsets.push(o);
                    }
                }
            }
            if f.header().begin_ts < begin || hits.offsets.len() >= max {
                break;
            }
        }
        hits
    }

    /// msync files with new entries.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let files: Vec<Arc<IndexFile>> = self.files.read().iter().map(|(_, f)| f.clone()).collect();
        for f in files {
            f.flush()?;
        }
        Ok(())
    }

    /// Store time of the newest entry (checkpoint's indexMsgTimestamp).
    pub(crate) fn end_timestamp(&self) -> i64 {
        self.files.read().last().map_or(0, |(_, f)| f.header().end_ts)
    }

    /// Delete files (never the newest) whose entries all point below `log_min`. Returns how many.
    pub(crate) fn delete_below(&self, log_min: u64) -> usize {
        let doomed: Vec<PathBuf> = {
            let mut files = self.files.write();
            let keep_from = files
                .iter()
                .position(|(_, f)| f.header().end_phy >= log_min as i64)
                .unwrap_or(files.len())
                .min(files.len().saturating_sub(1));
            files.drain(..keep_from).map(|(p, _)| p).collect()
        };
        for p in &doomed {
            match std::fs::remove_file(p) {
                Ok(()) => log::info!("deleted expired index file path={}", p.display()),
                Err(e) => log::warn!("cannot delete index file path={}: {e}", p.display()),
            }
        }
        if !doomed.is_empty() {
            let _ = sync_dir(&self.dir);
        }
        doomed.len()
    }

    /// Remove the entries at commit-log offsets `>= phys` while the store runs (a slave's
    /// truncation): newest files first, each entry unlinked from its slot; files left empty go.
    /// A file whose chains do not match its entries is dropped whole (its keys are no longer
    /// found by QUERY_MESSAGE; nothing else depends on them).
    pub(crate) fn truncate_live(&self, phys: u64) {
        let mut files = self.files.write();
        while let Some((path, f)) = files.last() {
            let h = f.header();
            if h.end_phy < phys as i64 && h.index_count > 1 {
                break;
            }
            let keep = if h.index_count <= 1 {
                // An empty newest file carries its predecessor's end offset: drop it only if
                // that end is cut too.
                h.end_phy < phys as i64
            } else {
                match f.truncate_from(phys) {
                    Ok(true) => f.header().index_count > 1,
                    Ok(false) => {
                        log::warn!("index file path={} is damaged; dropping it", path.display());
                        false
                    }
                    Err(e) => {
                        log::warn!("cannot truncate index file path={}: {e}", path.display());
                        false
                    }
                }
            };
            if keep {
                break;
            }
            let path = path.clone();
            files.pop();
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn!("cannot delete index file path={}: {e}", path.display());
            }
        }
        let _ = sync_dir(&self.dir);
        let last = files.iter().rev().map(|(_, f)| f.header()).find(|h| h.index_count > 1);
        self.last_indexed.store(last.map_or(-1, |h| h.end_phy), Ordering::Release);
    }

    /// Delete every index file (a slave's reset).
    pub(crate) fn clear(&self) {
        let gone = std::mem::take(&mut *self.files.write());
        for (path, _) in gone {
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn!("cannot delete index file path={}: {e}", path.display());
            }
        }
        let _ = sync_dir(&self.dir);
        self.last_indexed.store(-1, Ordering::Release);
    }

    /// Number of index files (tests).
    #[cfg(test)]
    pub(crate) fn file_count(&self) -> usize {
        self.files.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("rmq-index-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    fn props(uniq: &str, keys: &str) -> String {
        format!("UNIQ_KEY\u{1}{uniq}\u{2}KEYS\u{1}{keys}\u{2}")
    }

    #[test]
    fn layout_put_query_roll_and_truncate() {
        let dir = tmp("basic");
        let (ix, rebuild) = Index::load(&dir, 4, 8, 0, false).unwrap();
        assert_eq!(rebuild, None);
        // 10 records × 3 keys over files of 7 entries: five files.
        for i in 0..10u64 {
            let k = format!("k{} common", i % 3);
            ix.build("T", &props(&format!("U{i}"), &k), 0, i * 100, 1_000_000 + i as i64 * 1000);
        }
        assert_eq!(ix.file_count(), 5);
        let f = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
        assert_eq!(f.metadata().unwrap().len(), (HEADER_LEN + 4 * 4 + 8 * 20) as u64);
        let q = ix.query("T", "common", 64, 0, i64::MAX);
        assert_eq!(q.offsets, (0..10).rev().map(|i| i * 100).collect::<Vec<i64>>());
        assert_eq!(q.last_update_phy_offset, 900);
        assert_eq!(q.last_update_timestamp, 1_009_000);
        assert_eq!(ix.query("T", "U4", 64, 0, i64::MAX).offsets, vec![400]);
        assert_eq!(ix.query("T", "k1", 64, 0, i64::MAX).offsets, vec![700, 400, 100]);
        assert_eq!(ix.query("T", "k1", 2, 0, i64::MAX).offsets, vec![700, 400]);
        assert_eq!(ix.query("T", "k1", 64, 1_002_000, 1_005_000).offsets, vec![400]);
        assert!(ix.query("Other", "k1", 64, 0, i64::MAX).offsets.is_empty());
        // Re-dispatch of already indexed records adds nothing.
        ix.build("T", &props("U9", "k0 common"), 0, 900, 1_009_000);
        assert_eq!(ix.query("T", "U9", 64, 0, i64::MAX).offsets, vec![900]);
        drop(ix);
        // Recovery cut the log at 650: entries of 700.. disappear, the rest stays.
        let (ix, rebuild) = Index::load(&dir, 4, 8, 650, true).unwrap();
        assert_eq!(rebuild, None);
        assert_eq!(
            ix.query("T", "common", 64, 0, i64::MAX).offsets,
            vec![600, 500, 400, 300, 200, 100, 0]
        );
        assert!(ix.query("T", "U7", 64, 0, i64::MAX).offsets.is_empty());
        // New records at the freed offsets are indexed again.
        ix.build("T", &props("V7", "new"), 0, 650, 2_000_000);
        assert_eq!(ix.query("T", "new", 64, 0, i64::MAX).offsets, vec![650]);
        assert_eq!(ix.query("T", "U6", 64, 0, i64::MAX).offsets, vec![600]);
        // Retention: files wholly below 500 go, the newest always stays.
        assert_eq!(ix.file_count(), 4);
        assert_eq!(ix.delete_below(500), 2);
        assert_eq!(ix.query("T", "U1", 64, 0, i64::MAX).offsets, Vec::<i64>::new());
        assert_eq!(ix.query("T", "U5", 64, 0, i64::MAX).offsets, vec![500]);
        assert_eq!(ix.delete_below(10_000), 1);
        assert_eq!(ix.file_count(), 1);
        drop(ix);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damaged_file_is_rebuilt_and_hashes_match_java() {
        // Java's String.hashCode over UTF-16 units, then Math.abs.
        let h = "T#abc".encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32));
        assert_eq!(key_hash("T", "abc"), h.abs());
        assert_eq!(file_name(0), "19700101000000000");
        assert_eq!(file_name(1_700_000_000_123), "20231114221320123");
        let dir = tmp("damaged");
        let (ix, _) = Index::load(&dir, 4, 100, 0, false).unwrap();
        for i in 0..5u64 {
            ix.build("T", &props(&format!("U{i}"), ""), 0, i * 10, 1000);
        }
        drop(ix);
        // Break the newest slot pointer so the chains no longer match the entries.
        let path = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
        let mut b = std::fs::read(&path).unwrap();
        for s in 0..4 {
            b[HEADER_LEN + s * 4..HEADER_LEN + s * 4 + 4].copy_from_slice(&0i32.to_be_bytes());
        }
        std::fs::write(&path, &b).unwrap();
        let (ix, rebuild) = Index::load(&dir, 4, 100, 25, false).unwrap();
        assert_eq!(rebuild, Some(0));
        assert_eq!(ix.file_count(), 0);
        ix.build("T", &props("U0", ""), 0, 0, 1000);
        assert_eq!(ix.query("T", "U0", 64, 0, i64::MAX).offsets, vec![0]);
        drop(ix);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
