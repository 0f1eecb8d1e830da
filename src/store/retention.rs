//! Retention: the `store-clean` service deletes expired commit-log segments, then consume-queue
//! and index files wholly below the new commit-log min offset, and tracks whether the disk is
//! full (Apache's DefaultMessageStore CleanCommitLogService and CleanConsumeQueueService).
//!
//! Each run (at open and every `cleanResourceInterval`):
//!
//! | disk used (of the commit log's file system) | effect |
//! |---|---|
//! | > `diskSpaceWarningLevelRatio` (90 %) | disk full: puts answer SERVICE_NOT_AVAILABLE; delete as below, forcibly |
//! | > `diskSpaceCleanForciblyRatio` (85 %) | with `cleanFileForciblyEnable`, delete the oldest segments even if not expired |
//! | > `diskMaxUsedSpaceRatio` (75 %) | delete expired segments at any hour |
//! | otherwise | delete expired segments only during a `deleteWhen` hour |
//!
//! A segment is expired when it was last modified `fileReservedTime` ago. The newest segment
//! and any not yet dispatched are never deleted; at most 10 go per run (deleteCommitLogFilesInterval
//! spacing is not needed: unlinking never blocks readers, who keep their mapping).

use super::message_store::Shared;
use crate::common::service::Service;
use crate::common::sys::{disk_used_percent, local_hour};
use crate::common::time::now_millis;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Apache's deleteFileBatchMax.
const DELETE_FILES_BATCH_MAX: usize = 10;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CleanReport {
    /// Commit-log segments deleted.
    pub(crate) segments: usize,
    /// Consume-queue files deleted.
    pub(crate) queue_files: usize,
    /// Index files deleted.
    pub(crate) index_files: usize,
}

/// Spawn `store-clean`.
pub(super) fn start(shared: &Arc<Shared>) -> io::Result<Service> {
    let sh = shared.clone();
    Service::spawn("store-clean", move |ctx| {
        let every = Duration::from_millis(sh.cfg.clean_resource_interval_ms.max(10));
        while ctx.wait(every) {
            sh.clean_once();
        }
    })
}

/// True when `hour` is listed in `delete_when` ("04", "03;15").
fn is_delete_hour(delete_when: &str, hour: u32) -> bool {
    delete_when.split(';').any(|h| h.trim().parse::<u32>().is_ok_and(|h| h == hour))
}

impl Shared {
    /// Check the disk and mark it full or not; returns (used percent, delete forcibly, delete
    /// expired now because of space).
    pub(super) fn check_disk(&self) -> (f64, bool, bool) {
        let cfg = &self.cfg;
        let dir = cfg.commit_log_path();
        let used = match disk_used_percent(&dir) {
            Ok(u) => u,
            Err(e) => {
                log::warn!("cannot read disk usage path={}: {e}", dir.display());
                return (-1.0, false, true);
            }
        };
        let mut force = false;
        if used > cfg.disk_space_warning_level_ratio as f64 {
            if !self.disk_full.swap(true, Ordering::AcqRel) {
                log::error!(
                    "disk full: {used:.1}% of the disk holding {} is used, above diskSpaceWarningLevelRatio={}%; new messages are refused until space is freed",
                    dir.display(),
                    cfg.disk_space_warning_level_ratio
                );
            }
            force = true;
        } else {
            if used > cfg.disk_space_clean_forcibly_ratio as f64 {
                force = true;
            }
            if self.disk_full.swap(false, Ordering::AcqRel) {
                log::info!("disk usage down to {used:.1}%: accepting new messages again");
            }
        }
        (used, force && cfg.clean_file_forcibly_enable, used > cfg.disk_max_used_space_ratio as f64)
    }

    /// One retention run.
    pub(crate) fn clean_once(&self) -> CleanReport {
        let _m = self.maint_lock.lock();
        let (used, force, space) = self.check_disk();
        let now = now_millis();
        let timely = is_delete_hour(&self.cfg.delete_when, local_hour(now));
        let mut r = CleanReport::default();
        if timely || space || force {
            let limit = self.reput_offset.load(Ordering::Acquire);
            r.segments = self.log.delete_expired(
                self.cfg.file_reserved_time_ms,
                force,
                limit,
                DELETE_FILES_BATCH_MAX,
            );
        }
        let min = self.log.min_offset();
        let queues: Vec<_> =
            self.queues.read().values().flat_map(|t| t.values().cloned()).collect();
        for q in queues {
            r.queue_files += q.delete_below(min);
        }
        r.index_files = self.index.delete_below(min);
        if r != CleanReport::default() {
            log::info!(
                "retention run disk_used_pct={used:.1} forced={force} commit_log_min_offset={min} segments={} queue_files={} index_files={}",
                r.segments,
                r.queue_files,
                r.index_files
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::is_delete_hour;

    #[test]
    fn delete_when_hours() {
        assert!(is_delete_hour("04", 4));
        assert!(!is_delete_hour("04", 5));
        assert!(is_delete_hour("03;15", 15));
        assert!(is_delete_hour("00;01", 0));
    }
}
