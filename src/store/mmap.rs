//! A fixed-size file mapped into memory, shared by one appender and many readers.
//!
//! The only module of the store with `unsafe`. Invariants that make the raw accesses sound:
//! * the file is sized (and preallocated) before it is mapped, never resized while mapped, and the
//!   store directory is flock-ed so no other rmq process truncates it (a truncated mapping would
//!   raise SIGBUS, see ripgrep's mmap.rs);
//! * bytes below `published` are immutable while shared: appends only write at or after
//!   `published` (checked under `write_lock`), then publish with a Release store; readers only
//!   borrow bytes below an Acquire load of `published`;
//! * rewriting published bytes (`truncate`) takes `&mut self`, i.e. happens before sharing
//!   (recovery) when no reader can exist.
#![allow(unsafe_code)]

use memmap2::MmapRaw;
use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A mapped segment file (commit log or consume queue).
pub(crate) struct MappedFile {
    path: PathBuf,
    start: u64,
    map: MmapRaw,
    size: usize,
    published: AtomicUsize,
    flushed: AtomicUsize,
    write_lock: Mutex<()>,
    /// Appends go through `pwrite` and flushes through `fdatasync` instead of copying into the
    /// mapping and `msync` (SYNC_FLUSH commit log; see [`MappedFile::set_write_through`]).
    write_through: AtomicBool,
    _file: File,
}

fn preallocate(file: &File, size: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(size)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file size too large"))?;
    // SAFETY: posix_fallocate only reads its integer arguments; the fd is open for the call's
    // duration because `file` is borrowed.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    match rc {
        0 => Ok(()),
        // Filesystems without fallocate support: fall back to a sparse file.
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(size),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

/// Repair the newest file of a directory left shorter than `size` by a kill during its
/// preallocation (issue 13): appends start only once a file is fully preallocated, so such a file
/// holds nothing but zeros. If every byte it has is zero, extend it to `size` (preallocated),
/// fsync it and return `Ok(true)`. A short file holding any data (a changed segment size, or
/// damage) is left untouched (`Ok(false)`), and opening it then fails as before.
pub(crate) fn repair_short_file(path: &Path, size: usize) -> io::Result<bool> {
    use std::io::Read;
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    if len >= size as u64 {
        return Ok(false);
    }
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if buf.get(..n).is_some_and(|b| b.iter().any(|&x| x != 0)) {
            return Ok(false);
        }
    }
    preallocate(&file, size as u64)?;
    file.sync_all()?;
    log::warn!(
        "repaired file path={} left at {len} of {size} bytes by an interrupted preallocation",
        path.display()
    );
    Ok(true)
}

/// `fallocate(FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)`: the range reads as zeros afterwards,
/// in the file and in every mapping of it (the kernel drops those cached pages).
fn zero_range(file: &File, off: u64, len: u64) -> io::Result<()> {
    let (off, len) = match (libc::off_t::try_from(off), libc::off_t::try_from(len)) {
        (Ok(o), Ok(l)) => (o, l),
        _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, "range too large")),
    };
    // SAFETY: fallocate only reads its integer arguments; the fd is open for the call. It does
    // not change the file size, so the mapping stays fully backed (no SIGBUS).
    let rc = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE,
            off,
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A pull's messages are sent straight from the mapping: published bytes never change while the
/// segment is shared (module invariant), and a segment cut at run time is replaced by a copy
/// ([`MappedFile::copy_prefix`]), so a handle keeps reading what it was given.
impl crate::protocol::command::SharedBytes for MappedFile {
    fn bytes(&self) -> &[u8] {
        self.read_from(0)
    }
}

impl MappedFile {
    /// Create a new zero-filled file of `size` bytes (preallocated so a full disk fails here, not
    /// with SIGBUS later) and map it. Nothing is published.
    pub(crate) fn create(path: &Path, start: u64, size: usize) -> io::Result<MappedFile> {
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(path)?;
        let res =
            preallocate(&file, size as u64).and_then(|()| Self::map(path, file, start, size, 0));
        if res.is_err() {
            let _ = std::fs::remove_file(path);
        }
        res
    }

    /// Map an existing file, which must be exactly `size` bytes. Everything is published (the
    /// caller validates and then `truncate`s).
    pub(crate) fn open(path: &Path, start: u64, size: usize) -> io::Result<MappedFile> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len();
        if len != size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file is {len} bytes, expected {size} (was the segment size changed?)"),
            ));
        }
        Self::map(path, file, start, size, size)
    }

    fn map(path: &Path, file: File, start: u64, size: usize, published: usize) -> io::Result<Self> {
        let map = MmapRaw::map_raw(&file)?;
        if map.len() != size {
            return Err(io::Error::other("mapping has an unexpected length"));
        }
        Ok(MappedFile {
            path: path.to_path_buf(),
            start,
            map,
            size,
            published: AtomicUsize::new(published),
            flushed: AtomicUsize::new(published),
            write_lock: Mutex::new(()),
            write_through: AtomicBool::new(false),
            _file: file,
        })
    }

    /// Write appends with `pwrite` and flush with `fdatasync`. Pages dirtied through a shared
    /// mapping cost a write fault after every flush (the kernel write-protects them again) and
    /// make each flush commit the file system journal: on ext4 a 64 KiB group commit took
    /// 230-450 µs through the mapping against 110-180 µs through `pwrite` (BENCHMARKS.md). The
    /// mapping still serves reads: it shares the page cache with `pwrite`.
    pub(crate) fn set_write_through(&self, on: bool) {
        self.write_through.store(on, Ordering::Release);
    }

    /// Global offset of the first byte (the number in the file name).
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// File size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Path of the file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes readers may see.
    pub(crate) fn published(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// Bytes not yet flushed.
    pub(crate) fn dirty(&self) -> usize {
        self.published().saturating_sub(self.flushed.load(Ordering::Acquire))
    }

    /// Bytes left for appends.
    pub(crate) fn remaining(&self) -> usize {
        self.size - self.published()
    }

    /// Append `data` at the published position and publish it. Returns the position it was
    /// written at, or `None` if it does not fit.
    pub(crate) fn append(&self, data: &[u8]) -> Option<usize> {
        self.append_with(data.len(), |dst| dst.copy_from_slice(data))
    }

    /// Append `len` bytes that `fill` writes, at the published position, and publish them:
    /// `fill` gets the mapped bytes themselves, so a record is encoded straight into the file.
    /// (Under write-through, where the file is written with pwrite rather than through the
    /// mapping, `fill` writes a buffer that is then written.) Returns the position, or `None`
    /// if `len` does not fit.
    pub(crate) fn append_with(&self, len: usize, fill: impl FnOnce(&mut [u8])) -> Option<usize> {
        let _g = self.write_lock.lock();
        let pos = self.published.load(Ordering::Acquire);
        let end = pos.checked_add(len)?;
        if end > self.size {
            return None;
        }
        if self.write_through.load(Ordering::Acquire) {
            let mut data = vec![0u8; len];
            fill(&mut data);
            // The file is preallocated, so this fails only on an I/O error; nothing is published
            // then, and the next append overwrites whatever part was written.
            if let Err(e) = self._file.write_all_at(&data, pos as u64) {
                log::error!("write to {} at {pos} failed: {e}", self.path.display());
                return None;
            }
            self.published.store(end, Ordering::Release);
            return Some(pos);
        }
        // SAFETY: [pos, end) is inside the mapping (end <= size == map.len()) and at or beyond
        // `published`, so no reader holds a borrow of it (module invariant); `write_lock`
        // excludes other writers, and the slice lives only for `fill`, before it is published.
        let dst = unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().add(pos), len) };
        fill(dst);
        self.published.store(end, Ordering::Release);
        Some(pos)
    }

    /// Fault the pages of `[from, to)` in for writing without changing a byte
    /// (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14+), so the appender's first write to them does
    /// not pay for allocating and zeroing page-cache pages. Run by the warm-up service on another
    /// thread, ahead of the appender.
    pub(crate) fn prefault(&self, from: usize, to: usize) -> io::Result<()> {
        let to = to.min(self.size);
        let from = from.min(to) & !(4096 - 1);
        if from >= to {
            return Ok(());
        }
        // SAFETY: [from, to) lies inside the mapping (to <= size == map.len(), and `from` is
        // rounded down to a page boundary, the mapping being page-aligned). MADV_POPULATE_WRITE
        // only populates page tables: it reads and writes no byte of the mapping, so it cannot
        // race with the appender or with readers.
        let rc = unsafe {
            libc::madvise(
                self.map.as_mut_ptr().add(from).cast(),
                to - from,
                libc::MADV_POPULATE_WRITE,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Write zeros over `[from, to)` past the published end and make them durable (write-through
    /// files; Apache's warmMappedFile). A preallocated range reads as zeros but is marked
    /// unwritten, so the first flush of each block also commits the file-system journal; once
    /// written, a group commit's `fdatasync` only writes data (about half the time on ext4).
    /// Zeros go down in pieces under the write lock, never over published bytes.
    pub(crate) fn zero_ahead(&self, from: usize, to: usize) -> io::Result<()> {
        const PIECE: usize = 256 * 1024;
        static ZEROS: [u8; PIECE] = [0; PIECE];
        let to = to.min(self.size);
        let mut pos = from;
        while pos < to {
            let _g = self.write_lock.lock();
            pos = pos.max(self.published.load(Ordering::Acquire));
            let n = PIECE.min(to.saturating_sub(pos));
            if n == 0 {
                break;
            }
            self._file.write_all_at(&ZEROS[..n], pos as u64)?;
            pos += n;
        }
        self._file.sync_data()
    }

    /// Publish the rest of the file without writing it (after an end-of-segment BLANK): the file
    /// stays zero-filled there and no further append fits.
    pub(crate) fn seal(&self) {
        let _g = self.write_lock.lock();
        self.published.store(self.size, Ordering::Release);
    }

    /// Borrow `len` published bytes at `pos`; `None` if any of them is not published.
    pub(crate) fn read(&self, pos: usize, len: usize) -> Option<&[u8]> {
        let end = pos.checked_add(len)?;
        if end > self.published() {
            return None;
        }
        // SAFETY: [pos, end) is inside the mapping and below `published` (Acquire above pairs
        // with the Release in `append`), so those bytes were fully written and are never written
        // again while `&self` is shared (module invariant); the borrow is tied to `&self`, which
        // keeps the mapping alive.
        Some(unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(pos), len) })
    }

    /// Borrow all published bytes from `pos`.
    pub(crate) fn read_from(&self, pos: usize) -> &[u8] {
        let p = self.published();
        self.read(pos.min(p), p.saturating_sub(pos)).unwrap_or(&[])
    }

    /// Cut the published data to `len` bytes and zero everything after it (recovery only).
    pub(crate) fn truncate(&mut self, len: usize) -> io::Result<()> {
        let len = len.min(self.size);
        // Zero the tail in the file system (no page faults on a mostly untouched 1 GiB tail,
        // which made crash recovery read a whole segment); fall back to writing zeros.
        if len < self.size
            && zero_range(&self._file, len as u64, (self.size - len) as u64)
                .and_then(|()| self._file.sync_data())
                .is_ok()
        {
            self.published.store(len, Ordering::Release);
            self.flushed.store(len, Ordering::Release);
            return Ok(());
        }
        const CHUNK: usize = 64 * 1024;
        let mut pos = len;
        while pos < self.size {
            let n = CHUNK.min(self.size - pos);
            // SAFETY: [pos, pos + n) is inside the mapping; `&mut self` guarantees no reader
            // borrows any part of it and no other writer exists.
            let chunk =
                unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().add(pos), n) };
            // Only write pages that are dirty, so an untouched tail is not faulted in for writing.
            if chunk.iter().any(|&b| b != 0) {
                chunk.fill(0);
            }
            pos += n;
        }
        self.published.store(len, Ordering::Release);
        self.flushed.store(0, Ordering::Release);
        self.flush()?;
        Ok(())
    }

    /// msync (or, write-through, fdatasync) everything published but not yet flushed.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let published = self.published();
        let flushed = self.flushed.load(Ordering::Acquire);
        if published > flushed {
            if self.write_through.load(Ordering::Acquire) {
                self._file.sync_data()?;
            } else {
                self.map.flush_range(flushed, published - flushed)?;
            }
            self.flushed.fetch_max(published, Ordering::AcqRel);
        } else if published < flushed {
            self.flushed.store(published, Ordering::Release);
        }
        Ok(())
    }

    /// Replace this file on disk by a copy of its first `keep` published bytes followed by zeros
    /// (a live truncation: readers of this mapping keep the old inode and its bytes, so no
    /// published byte is ever rewritten). The copy is written under a temporary name, synced and
    /// renamed over the file; the caller syncs the directory. The new file is published up to
    /// `keep` and shares nothing with this one.
    pub(crate) fn copy_prefix(&self, keep: usize) -> io::Result<MappedFile> {
        let bytes = self.read(0, keep).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "cannot keep more bytes than published")
        })?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".truncating");
        let tmp = PathBuf::from(tmp);
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&tmp)?;
        let written = preallocate(&file, self.size as u64)
            .and_then(|()| file.write_all_at(bytes, 0))
            .and_then(|()| file.sync_data())
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let f = Self::map(&self.path, file, self.start, self.size, keep)?;
        f.set_write_through(self.write_through.load(Ordering::Acquire));
        Ok(f)
    }

    /// Unmap and delete the file.
    pub(crate) fn delete(self) -> io::Result<()> {
        let path = self.path.clone();
        drop(self);
        std::fs::remove_file(path)
    }
}

/// A fixed-size file mapped for random reads and writes (index files). Exclusive access for
/// writes comes from `&mut self`: the owner keeps it behind a lock.
pub(crate) struct RandomFile {
    path: PathBuf,
    map: memmap2::MmapMut,
    _file: File,
}

impl RandomFile {
    /// Create a zero-filled, preallocated file of `size` bytes and map it.
    pub(crate) fn create(path: &Path, size: usize) -> io::Result<RandomFile> {
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(path)?;
        let res = preallocate(&file, size as u64).and_then(|()| Self::map(path, file, size));
        if res.is_err() {
            let _ = std::fs::remove_file(path);
        }
        res
    }

    /// Map an existing file, which must be exactly `size` bytes.
    pub(crate) fn open(path: &Path, size: usize) -> io::Result<RandomFile> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len();
        if len != size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file is {len} bytes, expected {size} (was the index size changed?)"),
            ));
        }
        Self::map(path, file, size)
    }

    fn map(path: &Path, file: File, size: usize) -> io::Result<RandomFile> {
        // SAFETY: the file was sized before mapping and is never resized while mapped; the store
        // directory lock keeps other rmq processes from truncating it (module invariant). All
        // access then goes through the safe `MmapMut` slice API, with `&mut self` for writes.
        let map = unsafe { memmap2::MmapOptions::new().len(size).map_mut(&file)? };
        Ok(RandomFile { path: path.to_path_buf(), map, _file: file })
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The mapped bytes, writable.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// Path of the file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// msync the whole mapping.
    pub(crate) fn flush(&self) -> io::Result<()> {
        self.map.flush()
    }
}

/// Name of a segment file: its start offset with 20 decimal digits.
pub(crate) fn segment_name(start: u64) -> String {
    format!("{start:020}")
}

/// List `(start, path)` of the segment files in `dir` (20-digit names), sorted; other names are
/// ignored.
pub(crate) fn list_segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in rd {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(start) = name.parse::<u64>() {
                out.push((start, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_truncate() {
        let dir = std::env::temp_dir().join(format!("rmq-mmap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(segment_name(0));
        let f = MappedFile::create(&p, 0, 4096).unwrap();
        assert_eq!(f.append(b"abc"), Some(0));
        assert_eq!(f.append(b"de"), Some(3));
        assert_eq!(f.read(1, 4), Some(&b"bcde"[..]));
        assert_eq!(f.read(1, 5), None);
        assert!(f.append(&[1; 5000]).is_none());
        f.flush().unwrap();
        drop(f);
        let mut f = MappedFile::open(&p, 0, 4096).unwrap();
        assert_eq!(f.published(), 4096);
        f.truncate(2).unwrap();
        assert_eq!(f.read_from(0), b"ab");
        assert_eq!(f.append(b"Z"), Some(2));
        assert_eq!(list_segments(&dir).unwrap(), vec![(0, p.clone())]);
        f.delete().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn copy_prefix_replaces_the_file_and_leaves_old_readers_alone() {
        let dir = std::env::temp_dir().join(format!("rmq-mmap-copy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(segment_name(4096));
        let f = MappedFile::create(&p, 4096, 4096).unwrap();
        f.append(b"abcdefgh").unwrap();
        let old = f.read(0, 8).unwrap();
        let g = f.copy_prefix(3).unwrap();
        assert_eq!(g.start(), 4096);
        assert_eq!(g.published(), 3);
        assert_eq!(g.read_from(0), b"abc");
        assert_eq!(old, b"abcdefgh", "the old mapping keeps its bytes");
        assert!(f.copy_prefix(9).is_err(), "more than published");
        assert_eq!(g.append(b"XY"), Some(3));
        g.flush().unwrap();
        let on_disk = std::fs::read(&p).unwrap();
        assert_eq!(on_disk.len(), 4096);
        assert_eq!(&on_disk[..6], b"abcXY\0");
        assert!(on_disk[5..].iter().all(|&b| b == 0));
        assert_eq!(list_segments(&dir).unwrap(), vec![(4096, p.clone())], "no temporary left");
        drop((f, g));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
