//! The checkpoint file and the store directory lock (§5.5, §5.6).
//!
//! `checkpoint`, 4096 bytes, big-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | physicMsgTimestamp: store time of the newest flushed commit-log record |
//! | 8 | 8 | logicsMsgTimestamp: store time of the newest record dispatched to a consume queue |
//! | 16 | 8 | indexMsgTimestamp: store time of the newest indexed record |
//! | 24 | 8 | rmq: safe dispatch offset: every commit-log record below it is in a flushed consume queue |
//! | 32 | 4 | rmq: magic `0x524D5143` ("RMQC") marking the offset at 24 as valid |
//!
//! Written with `write_atomic` (temp file, fsync, rename, fsync dir). `lock` is held with an
//! exclusive flock for the store's lifetime; `abort` exists while the store is open.

use super::StoreError;
use crate::common::fs::write_atomic;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

const CHECKPOINT_LEN: usize = 4096;
const RMQ_MAGIC: i32 = 0x524D_5143;

/// Checkpoint contents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// physicMsgTimestamp.
    pub(crate) physic_ts: i64,
    /// logicsMsgTimestamp.
    pub(crate) logics_ts: i64,
    /// indexMsgTimestamp.
    pub(crate) index_ts: i64,
    /// Commit-log offset below which everything is dispatched and flushed (0 if unknown).
    pub(crate) safe_offset: u64,
}

fn i64_at(b: &[u8], pos: usize) -> i64 {
    b.get(pos..pos + 8).and_then(|s| s.try_into().ok()).map_or(0, i64::from_be_bytes)
}

impl Checkpoint {
    /// Read `path`; a missing or short file gives the zero checkpoint.
    pub(crate) fn load(path: &Path) -> Checkpoint {
        let Ok(b) = std::fs::read(path) else { return Checkpoint::default() };
        let magic = b.get(32..36).and_then(|s| s.try_into().ok()).map_or(0, i32::from_be_bytes);
        let safe = if magic == RMQ_MAGIC { i64_at(&b, 24).max(0) as u64 } else { 0 };
        Checkpoint {
            physic_ts: i64_at(&b, 0),
            logics_ts: i64_at(&b, 8),
            index_ts: i64_at(&b, 16),
            safe_offset: safe,
        }
    }

    /// Write `path` atomically.
    pub(crate) fn store(&self, path: &Path) -> std::io::Result<()> {
        let mut b = vec![0u8; CHECKPOINT_LEN];
        b[0..8].copy_from_slice(&self.physic_ts.to_be_bytes());
        b[8..16].copy_from_slice(&self.logics_ts.to_be_bytes());
        b[16..24].copy_from_slice(&self.index_ts.to_be_bytes());
        b[24..32].copy_from_slice(&(self.safe_offset as i64).to_be_bytes());
        b[32..36].copy_from_slice(&RMQ_MAGIC.to_be_bytes());
        write_atomic(path, &b)
    }
}

/// Exclusive lock on `<root>/lock`, released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Take the lock or fail with a clear error if another store holds it.
    pub(crate) fn acquire(root: &Path) -> Result<DirLock, StoreError> {
        let path = root.join("lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("opening the lock file", e).with_path(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::locked().with_path(root)),
            Err(TryLockError::Error(e)) => {
                Err(StoreError::io("locking the store directory", e).with_path(&path))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trip_and_lock() {
        let dir = std::env::temp_dir().join(format!("rmq-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("checkpoint");
        assert_eq!(Checkpoint::load(&p), Checkpoint::default());
        let c = Checkpoint { physic_ts: 1, logics_ts: 2, index_ts: 4, safe_offset: 3 };
        c.store(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
        assert_eq!(Checkpoint::load(&p), c);
        let l = DirLock::acquire(&dir).unwrap();
        assert!(DirLock::acquire(&dir).unwrap_err().is_locked());
        drop(l);
        DirLock::acquire(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
