//! `MessageStore`: open + recovery, puts under the append lock, gets from the consume queues,
//! queries, shutdown. Background loops live in `services`.
//!
//! `abort` (empty file) exists while the store is open; finding it at open means the previous
//! process did not shut down cleanly. Recovery is the same either way (validate from the
//! checkpoint's safe offset, truncate at the first bad record, re-dispatch), only logged
//! differently.

use super::checkpoint::{Checkpoint, DirLock};
use super::commitlog::{CommitLog, LoadedLog, RoomError, Step};
use super::consume_queue::{ConsumeQueue, CqEntry, Entries, LoadedQueue, CQ_UNIT};
use super::durability::{WaitEnd, Waiters};
use super::index::Index;
use super::mmap::MappedFile;
use super::stats::StoreStats;
use super::{
    valid_topic, ArrivalListener, GetResult, GetStatus, PutMessage, PutResult, PutStatus,
    QueryResult, StoreConfig, StoreError,
};
use crate::common::crc::masked_crc32;
use crate::common::service::{Service, Waker};
use crate::common::time::now_millis;
use crate::protocol::command::BodyRef;
use crate::protocol::record::{
    decode_view, encode_view_into, get_property, offset_msg_id, sysflag, view_len, RecordView,
    MAX_PROPERTIES_LEN,
};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Times the append lock from its taking to its release (the append histogram and
/// pageCacheLockTimeMills).
/// One record of a put: encoded into the log at `start` (bytes after the put's first record).
struct Part {
    m: PutMessage,
    crc: i32,
    start: usize,
    len: usize,
    /// Its queue offset (set under the append lock).
    queue_offset: i64,
    /// False for prepared and rolled-back transactional halves: they take no queue offset.
    gets_offset: bool,
}

impl Part {
    /// The record as the log holds it, at commit-log offset `phys` and store time `now`.
    fn view(&self, phys: i64, now: i64) -> RecordView<'_> {
        let m = &self.m;
        RecordView {
            total_size: self.len,
            body_crc: self.crc,
            queue_id: m.queue_id,
            flag: m.flag,
            queue_offset: self.queue_offset,
            physical_offset: phys,
            sys_flag: m.sys_flag,
            born_timestamp: m.born_timestamp,
            born_host: m.born_host,
            store_timestamp: now,
            store_host: m.store_host,
            reconsume_times: m.reconsume_times,
            prepared_transaction_offset: m.prepared_transaction_offset,
            body: &m.body,
            topic: &m.topic,
            properties: &m.properties,
        }
    }
}

struct LockClock<'a> {
    stats: &'a StoreStats,
    at: Instant,
}

impl<'a> LockClock<'a> {
    fn start(stats: &'a StoreStats) -> LockClock<'a> {
        stats.lock_taken(Some(now_millis()));
        LockClock { stats, at: Instant::now() }
    }
}

impl Drop for LockClock<'_> {
    fn drop(&mut self) {
        self.stats.record_append(self.at.elapsed());
        self.stats.lock_taken(None);
    }
}

/// Queues by topic, then queue id.
pub(super) type QueueTable = HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>;

/// What the append lock guards: the next queue offset per topic and queue (the map this
/// dereferences to), and the commit-log segment puts append to (see `CommitLog::reserve_in`).
#[derive(Default)]
pub(super) struct AppendState {
    next: HashMap<String, HashMap<i32, i64>>,
    pub(super) segment: Option<Arc<MappedFile>>,
}

impl AppendState {
    /// New queue offsets after the log changed under the lock (slave mode, a cut): the segment
    /// is looked up again at the next put.
    pub(super) fn reset(&mut self, next: HashMap<String, HashMap<i32, i64>>) {
        self.next = next;
        self.segment = None;
    }
}

impl std::ops::Deref for AppendState {
    type Target = HashMap<String, HashMap<i32, i64>>;
    fn deref(&self) -> &Self::Target {
        &self.next
    }
}

impl std::ops::DerefMut for AppendState {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.next
    }
}

/// State shared by the store handle and its service threads.
pub(super) struct Shared {
    pub(super) cfg: StoreConfig,
    pub(super) root: PathBuf,
    pub(super) cq_dir: PathBuf,
    pub(super) log: CommitLog,
    pub(super) queues: RwLock<QueueTable>,
    pub(super) index: Index,
    /// Next queue offset per topic and queue, and the segment puts append to; guarded with the
    /// append itself (the append lock, the one lock a put takes).
    pub(super) append: Mutex<AppendState>,
    /// Commit-log offset up to which records were dispatched.
    pub(super) reput_offset: AtomicU64,
    pub(super) listener: RwLock<Option<ArrivalListener>>,
    pub(super) dispatch_waker: OnceLock<Waker>,
    /// Set by the dispatch thread before it parks; the first writer after that wakes it. While
    /// it is busy it goes from round to round without a wake-up, so writers that append during
    /// a round pay nothing (Apache's ReputMessageService instead sleeps 1 ms between rounds).
    pub(super) dispatch_idle: AtomicBool,
    pub(super) flush_waker: OnceLock<Waker>,
    /// SYNC_FLUSH writers waiting for the flush that covers their data.
    pub(super) flushes: Waiters,
    /// SYNC_MASTER writers waiting for a slave to acknowledge their data.
    pub(super) replicas: Waiters,
    /// Highest commit-log offset a slave acknowledged (reported by the HA service).
    pub(super) replica_acked: AtomicU64,
    /// Slave mode: puts are refused; only replication appends (`replica.rs`) write the log.
    pub(super) slave_mode: AtomicBool,
    /// Set when shutdown starts: waiters registered from then on are answered at once.
    pub(super) stopping: AtomicBool,
    /// Held by each dispatch pass, and by a slave's truncation or reset of the log.
    pub(super) dispatch_lock: Mutex<()>,
    /// Held by each retention run, and by a slave's truncation or reset of the log.
    pub(super) maint_lock: Mutex<()>,
    /// Serializes checkpoint writes (the consume-queue flush service and a slave's truncation).
    pub(super) checkpoint_lock: Mutex<()>,
    /// Bumped after an append when `growth_waiters` > 0; replication streams wait on it as a
    /// futex ([`MessageStore::wait_commit_log_beyond`]).
    pub(super) growth: AtomicU32,
    pub(super) growth_waiters: AtomicU32,
    /// Set after a failed flush: writes are refused from then on.
    pub(super) failed: AtomicBool,
    /// Disk usage above diskSpaceWarningLevelRatio: writes are refused while set.
    pub(super) disk_full: AtomicBool,
    pub(super) last_store_ts: AtomicI64,
    pub(super) last_dispatch_ts: AtomicI64,
    /// Test hook: the flush thread sleeps this long before each commit-log flush.
    pub(super) flush_delay_ms: AtomicU64,
    /// What the store counts about itself (issue 14).
    pub(super) stats: StoreStats,
}

/// The message store. Open with [`MessageStore::open`]; call [`MessageStore::shutdown`] (or drop
/// it) to stop its threads, flush and mark a clean exit.
pub struct MessageStore {
    pub(super) shared: Arc<Shared>,
    services: Mutex<Vec<Service>>,
    lock: Mutex<Option<DirLock>>,
    pub(super) closed: AtomicBool,
}

fn io_err<'a>(what: &'static str, p: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |e| StoreError::io(what, e).with_path(p)
}

fn load_queues(cq_dir: &Path, file_size: u64, log_end: u64) -> Result<QueueTable, StoreError> {
    let mut table = QueueTable::new();
    let topics = match std::fs::read_dir(cq_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(table),
        Err(e) => return Err(StoreError::io("listing consume queues", e).with_path(cq_dir)),
    };
    for t in topics {
        let t = t.map_err(io_err("listing consume queues", cq_dir))?;
        let Some(topic) = t.file_name().to_str().map(str::to_string) else { continue };
        if !t.path().is_dir() || !valid_topic(&topic) {
            continue;
        }
        let tdir = t.path();
        for q in std::fs::read_dir(&tdir).map_err(io_err("listing consume queues", &tdir))? {
            let q = q.map_err(io_err("listing consume queues", &tdir))?;
            let Some(qid) = q.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let mut lq = LoadedQueue::open(&q.path(), &topic, qid, file_size)?;
            lq.truncate_beyond(log_end)?;
            table.entry(topic.clone()).or_default().insert(qid, Arc::new(lq.finish()));
        }
    }
    Ok(table)
}

impl MessageStore {
    /// Lock the directory, recover, and start the flush, dispatch and consume-queue flush services.
    pub fn open(cfg: StoreConfig) -> Result<Arc<MessageStore>, StoreError> {
        if cfg.commit_log_file_size < 4096 || cfg.commit_log_file_size > i32::MAX as u64 {
            return Err(StoreError::config(
                "commit_log_file_size must be between 4096 and 2^31-1 bytes",
            ));
        }
        if cfg.cq_file_entries == 0 || cfg.cq_file_entries > (i32::MAX as u64) / CQ_UNIT {
            return Err(StoreError::config("cq_file_entries must be between 1 and 107374182"));
        }
        let t0 = Instant::now();
        let root = cfg.root_dir.clone();
        std::fs::create_dir_all(&root).map_err(io_err("creating the store dir", &root))?;
        let lock = DirLock::acquire(&root)?;
        let abort = root.join("abort");
        let crashed = abort.exists();
        std::fs::write(&abort, b"").map_err(io_err("creating the abort file", &abort))?;

        let ckpt = Checkpoint::load(&root.join("checkpoint"));
        let log_dir = cfg.commit_log_path();
        let seg_size = cfg.commit_log_file_size;
        let mut loaded = LoadedLog::open(&log_dir, seg_size)?;
        let old_end = loaded.segs.last().map_or(0, |s| s.start() + seg_size);
        let (valid_end, checked) = loaded.scan(ckpt.safe_offset, cfg.check_crc_on_recover);
        let scan_ms = t0.elapsed().as_millis();
        loaded.truncate(&log_dir, valid_end)?;
        let truncate_ms = t0.elapsed().as_millis() - scan_ms;
        let cq_dir = root.join("consumequeue");
        let file_size = cfg.cq_file_entries * CQ_UNIT;
        let queues = load_queues(&cq_dir, file_size, valid_end)?;
        let (index, index_rebuild) = Index::load(
            &root.join("index"),
            cfg.max_hash_slot_num,
            cfg.max_index_num,
            valid_end,
            crashed,
        )?;
        let write_through = cfg.flush_disk_type == super::FlushDiskType::Sync;
        let log = CommitLog::new(&log_dir, seg_size, loaded, valid_end, write_through);

        let shared = Arc::new(Shared {
            root: root.clone(),
            cq_dir,
            log,
            queues: RwLock::new(queues),
            index,
            append: Mutex::new(AppendState::default()),
            reput_offset: AtomicU64::new(0),
            listener: RwLock::new(None),
            dispatch_waker: OnceLock::new(),
            dispatch_idle: AtomicBool::new(false),
            flush_waker: OnceLock::new(),
            flushes: Waiters::default(),
            replicas: Waiters::default(),
            replica_acked: AtomicU64::new(0),
            slave_mode: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            dispatch_lock: Mutex::new(()),
            maint_lock: Mutex::new(()),
            checkpoint_lock: Mutex::new(()),
            growth: AtomicU32::new(0),
            growth_waiters: AtomicU32::new(0),
            failed: AtomicBool::new(false),
            disk_full: AtomicBool::new(false),
            last_store_ts: AtomicI64::new(ckpt.physic_ts),
            last_dispatch_ts: AtomicI64::new(ckpt.logics_ts),
            flush_delay_ms: AtomicU64::new(0),
            stats: StoreStats::new(),
            cfg,
        });
        // Re-dispatch from the safe offset if it is a record boundary, else from its segment.
        let max = shared.log.max_offset();
        let mut from = ckpt.safe_offset.clamp(shared.log.min_offset(), max);
        if from < max
            && !shared
                .log
                .step(from, |s| matches!(s, Step::Record(v, _) if v.physical_offset == from as i64))
        {
            from = (from / seg_size * seg_size).max(shared.log.min_offset());
        }
        // A damaged index file is rebuilt from its first record (a record boundary), or from the
        // start of the log; consume-queue entries already present are skipped.
        if let Some(r) = index_rebuild {
            let r = r.clamp(shared.log.min_offset(), max);
            let boundary = r == shared.log.min_offset()
                || shared
                    .log
                    .step(r, |s| matches!(s, Step::Record(v, _) if v.physical_offset == r as i64));
            from = from.min(if boundary { r } else { shared.log.min_offset() });
        }
        shared.reput_offset.store(from, Ordering::Release);
        let t1 = Instant::now();
        let redispatched = shared.dispatch_available();
        let dispatch_ms = t1.elapsed().as_millis();
        {
            let mut table = shared.append.lock();
            for (topic, qs) in shared.queues.read().iter() {
                let t = table.entry(topic.clone()).or_default();
                for (qid, q) in qs {
                    t.insert(*qid, q.max_offset());
                }
            }
        }
        let nqueues: usize = shared.queues.read().values().map(HashMap::len).sum();
        log::info!(
            "store recovered root={} previous_exit={} checkpoint_offset={} records_checked={checked} \
             valid_end={valid_end} previous_file_end={old_end} redispatch_from={from} redispatched={redispatched} \
             queues={nqueues} scan_ms={scan_ms} truncate_ms={truncate_ms} dispatch_ms={dispatch_ms} took_ms={}",
            root.display(),
            if crashed { "crash" } else { "clean" },
            ckpt.safe_offset,
            t0.elapsed().as_millis()
        );
        // Min offsets follow the commit log; a full disk is known before the first put.
        shared.clean_once();
        let services =
            super::services::start(&shared).map_err(io_err("starting store services", &root))?;
        Ok(Arc::new(MessageStore {
            shared,
            services: Mutex::new(services),
            lock: Mutex::new(Some(lock)),
            closed: AtomicBool::new(false),
        }))
    }

    /// Append one message. `wait_for_flush` only matters in SYNC_FLUSH mode.
    pub fn put_message(&self, m: PutMessage, wait_for_flush: bool) -> PutResult {
        self.put_messages(vec![m], wait_for_flush)
    }

    /// Append a client batch: same topic and queue, consecutive queue offsets, contiguous in the
    /// log (the segment is rolled first if the whole batch does not fit).
    pub fn put_messages(&self, ms: Vec<PutMessage>, wait_for_flush: bool) -> PutResult {
        let t0 = Instant::now();
        let r = self.put_inner(ms, wait_for_flush);
        match r.status {
            PutStatus::PutOk | PutStatus::FlushDiskTimeout => self.shared.stats.record_put(
                r.msg_ids.len() as u64,
                r.wrote_bytes.max(0) as u64,
                t0.elapsed(),
            ),
            _ => self.shared.stats.record_put_failed(),
        }
        r
    }

    /// The store's statistics (StoreStatsService's store-side figures and metric families).
    pub fn stats(&self) -> &StoreStats {
        &self.shared.stats
    }

    fn put_inner(&self, ms: Vec<PutMessage>, wait_for_flush: bool) -> PutResult {
        let sh = &self.shared;
        if self.closed.load(Ordering::Acquire) || sh.failed.load(Ordering::Acquire) {
            return PutResult::failed(PutStatus::ServiceNotAvailable);
        }
        if sh.slave_mode.load(Ordering::Acquire) {
            log::debug!("put refused: the store is a slave's");
            return PutResult::failed(PutStatus::ServiceNotAvailable);
        }
        if sh.disk_full.load(Ordering::Acquire) {
            log::debug!("put refused: disk full");
            return PutResult::failed(PutStatus::ServiceNotAvailable);
        }
        let Some(first) = ms.first() else { return PutResult::failed(PutStatus::MessageIllegal) };
        let (topic, queue_id, store_host) = (first.topic.clone(), first.queue_id, first.store_host);
        if !valid_topic(&topic) || queue_id < 0 {
            return PutResult::failed(PutStatus::MessageIllegal);
        }
        for m in &ms {
            if m.topic != topic || m.queue_id != queue_id || m.body.len() > sh.cfg.max_message_size
            {
                return PutResult::failed(PutStatus::MessageIllegal);
            }
            if m.properties.len() > MAX_PROPERTIES_LEN {
                return PutResult::failed(PutStatus::PropertiesSizeExceeded);
            }
        }
        // CRC and size outside the lock; under it, offsets and the store time are set and each
        // record is encoded straight into the mapped segment (the body's one copy into the file).
        let mut total = 0usize;
        let mut parts = Vec::with_capacity(ms.len());
        for m in ms {
            let tx = sysflag::transaction_type(m.sys_flag);
            let gets_offset = tx == sysflag::TRANSACTION_NOT || tx == sysflag::TRANSACTION_COMMIT;
            let mut p = Part {
                crc: masked_crc32(&m.body),
                m,
                start: total,
                len: 0,
                queue_offset: 0,
                gets_offset,
            };
            p.len = view_len(&p.view(0, 0));
            total += p.len;
            parts.push(p);
        }
        let (phys, first_qo, now) = {
            let mut table = sh.append.lock();
            let _clock = LockClock::start(&sh.stats);
            let phys = match sh.log.reserve_in(total, &mut table.segment) {
                Ok(p) => p,
                Err(RoomError::TooLarge) => return PutResult::failed(PutStatus::MessageIllegal),
                Err(RoomError::CreateFailed) => {
                    return PutResult::failed(PutStatus::CreateMappedFileFailed)
                }
            };
            let now = now_millis();
            let next = table.get(&topic).and_then(|t| t.get(&queue_id)).copied().unwrap_or(0);
            let mut qo = next;
            let mut first_qo = None;
            for p in &mut parts {
                let this = if p.gets_offset { qo } else { 0 };
                first_qo.get_or_insert(this);
                if p.gets_offset {
                    qo += 1;
                }
                p.queue_offset = this;
            }
            let fill = |dst: &mut [u8]| {
                for p in &parts {
                    let at = (phys + p.start as u64) as i64;
                    encode_view_into(&p.view(at, now), &mut dst[p.start..p.start + p.len]);
                }
            };
            let appended = match table.segment.as_deref() {
                Some(seg) => sh.log.append_in(seg, phys, total, fill),
                None => false,
            };
            if !appended {
                log::error!(
                    "commit log append failed topic={topic} queue={queue_id} offset={phys}"
                );
                return PutResult::failed(PutStatus::UnknownError);
            }
            if qo != next {
                table.entry(topic.clone()).or_default().insert(queue_id, qo);
            }
            sh.last_store_ts.store(now, Ordering::Release);
            (phys, first_qo.unwrap_or(0), now)
        };
        sh.wake_growth();
        sh.dispatch_inline();
        let msg_ids = parts
            .iter()
            .map(|p| offset_msg_id(store_host, (phys + p.start as u64) as i64))
            .collect();
        let mut status = PutStatus::PutOk;
        if sh.cfg.flush_disk_type == super::FlushDiskType::Sync && wait_for_flush {
            let end = phys + total as u64;
            if !sh.wait_flushed(end, Duration::from_millis(sh.cfg.sync_flush_timeout_ms)) {
                log::warn!("sync flush timed out topic={topic} queue={queue_id} offset={phys}");
                status = PutStatus::FlushDiskTimeout;
            }
        }
        PutResult {
            status,
            phys_offset: phys as i64,
            queue_offset: first_qo,
            msg_ids,
            store_timestamp: now,
            wrote_bytes: total as i64,
        }
    }

    fn queue(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.shared.queues.read().get(topic).and_then(|t| t.get(&queue_id)).cloned()
    }

    /// Read up to `max_msgs` messages (and about `max_bytes`) from a queue, starting at `offset`,
    /// keeping those whose tags code passes `filter`. Statuses per the PULL_MESSAGE table (§2.6).
    pub fn get_messages(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msgs: i32,
        max_bytes: usize,
        filter: &dyn Fn(i64) -> bool,
    ) -> GetResult {
        let (t0, log) = (Instant::now(), &self.shared.log);
        let r = self
            .get_with(topic, queue_id, offset, max_msgs, max_bytes, filter, |o, n| log.read(o, n));
        self.shared.stats.record_get(t0.elapsed());
        r
    }

    /// [`MessageStore::get_messages`] without copying: each message is a range of the mapped
    /// commit log, held alive by its handle, for a writer to send from where it lies.
    pub fn get_message_refs(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msgs: i32,
        max_bytes: usize,
        filter: &dyn Fn(i64) -> bool,
    ) -> GetResult<BodyRef> {
        let (t0, log) = (Instant::now(), &self.shared.log);
        let r = self.get_with(topic, queue_id, offset, max_msgs, max_bytes, filter, |o, n| {
            log.read_shared(o, n)
        });
        self.shared.stats.record_get(t0.elapsed());
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn get_with<M: AsRef<[u8]>>(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msgs: i32,
        max_bytes: usize,
        filter: &dyn Fn(i64) -> bool,
        read: impl Fn(u64, usize) -> Option<M>,
    ) -> GetResult<M> {
        let mut r = GetResult {
            status: GetStatus::NoMatchedLogicQueue,
            next_begin_offset: 0,
            min_offset: 0,
            max_offset: 0,
            messages: Vec::new(),
        };
        let Some(cq) = self.queue(topic, queue_id) else { return r };
        let (min, max) = (cq.min_offset(), cq.max_offset());
        r.min_offset = min;
        r.max_offset = max;
        if max == 0 {
            r.status = GetStatus::NoMessageInQueue;
            return r;
        }
        if offset < min {
            r.status = GetStatus::OffsetTooSmall;
            r.next_begin_offset = min;
            return r;
        }
        if offset == max {
            r.status = GetStatus::OffsetOverflowOne;
            r.next_begin_offset = offset;
            return r;
        }
        if offset > max {
            // As Apache DefaultMessageStore.getMessage: back to 0 while the queue starts at 0.
            r.status = GetStatus::OffsetOverflowBadly;
            r.next_begin_offset = if min == 0 { min } else { max };
            return r;
        }
        let max_msgs = max_msgs.max(1) as usize;
        // Scan at most max(800, maxMsgNums) entries while filtering (Apache: 16000 bytes of CQ).
        let scan_limit = max_msgs.max(800);
        let entries = match cq.read(offset, scan_limit) {
            Entries::Found(e) => e,
            Entries::FileMissing(next) => {
                r.status = GetStatus::OffsetFoundNull;
                r.next_begin_offset = next;
                return r;
            }
        };
        r.status = GetStatus::NoMatchedMessage;
        let mut scanned = 0i64;
        let mut bytes = 0usize;
        for e in entries {
            if r.messages.len() >= max_msgs
                || (!r.messages.is_empty() && bytes + e.size as usize > max_bytes)
            {
                break;
            }
            scanned += 1;
            if e.is_filler() {
                continue;
            }
            if !filter(e.tags) {
                continue;
            }
            match read(e.phys as u64, e.size as usize) {
                Some(rec) => {
                    bytes += rec.as_ref().len();
                    r.messages.push(rec);
                    r.status = GetStatus::Found;
                }
                None if r.messages.is_empty() => r.status = GetStatus::MessageWasRemoving,
                None => {}
            }
        }
        r.next_begin_offset = offset + scanned;
        r
    }

    /// Next offset to be written to a queue's consume queue (dispatched entries); 0 if unknown.
    pub fn max_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.queue(topic, queue_id).map_or(0, |q| q.max_offset())
    }

    /// First offset still stored in a queue; 0 if unknown.
    pub fn min_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.queue(topic, queue_id).map_or(0, |q| q.min_offset())
    }

    fn store_time_of(&self, e: CqEntry) -> Option<i64> {
        if e.is_filler() {
            return None;
        }
        self.shared
            .log
            .with_bytes(e.phys as u64, e.size as usize, |b| {
                decode_view(b, false).ok().map(|(v, _)| v.store_timestamp)
            })
            .flatten()
    }

    /// The first queue offset whose message was stored at or after `ts`; the max offset if all
    /// are older; 0 for an unknown or empty queue.
    pub fn offset_by_timestamp(&self, topic: &str, queue_id: i32, ts: i64) -> i64 {
        let Some(cq) = self.queue(topic, queue_id) else { return 0 };
        let (mut lo, mut hi) = (cq.min_offset(), cq.max_offset());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let t = cq.entry(mid).and_then(|e| self.store_time_of(e)).unwrap_or(i64::MIN);
            if t < ts {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Store time of the oldest message in a queue; −1 if none.
    pub fn earliest_message_time(&self, topic: &str, queue_id: i32) -> i64 {
        let Some(cq) = self.queue(topic, queue_id) else { return -1 };
        let (min, max) = (cq.min_offset(), cq.max_offset());
        (min..max.min(min + 1000))
            .find_map(|q| cq.entry(q).and_then(|e| self.store_time_of(e)))
            .unwrap_or(-1)
    }

    /// Messages of `topic` whose unique key (`UNIQ_KEY`) or one of whose keys (`KEYS`) is `key`,
    /// stored within `[begin_ts, end_ts]` (ms), newest first, at most `max` (capped at 64, Apache's
    /// maxMsgsNumBatch). Index hash collisions are filtered out here.
    pub fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin_ts: i64,
        end_ts: i64,
    ) -> QueryResult {
        let hits = self.shared.index.query(topic, key, max, begin_ts, end_ts);
        let mut r = QueryResult {
            messages: Vec::new(),
            index_last_update_timestamp: hits.last_update_timestamp,
            index_last_update_phy_offset: hits.last_update_phy_offset,
        };
        for off in hits.offsets {
            let Some(rec) = u64::try_from(off).ok().and_then(|o| self.shared.log.read_record(o))
            else {
                continue;
            };
            let matches = decode_view(&rec, false).is_ok_and(|(v, _)| {
                v.topic == topic
                    && (get_property(v.properties, "UNIQ_KEY") == Some(key)
                        || get_property(v.properties, "KEYS")
                            .is_some_and(|ks| ks.split(' ').any(|k| k == key)))
            });
            if matches {
                r.messages.push(rec);
            }
        }
        r
    }

    /// The raw record at a commit-log offset.
    pub fn look_message_by_offset(&self, phys_offset: i64) -> Option<Vec<u8>> {
        u64::try_from(phys_offset).ok().and_then(|o| self.shared.log.read_record(o))
    }

    /// First commit-log offset still stored.
    pub fn commit_log_min_offset(&self) -> i64 {
        self.shared.log.min_offset() as i64
    }

    /// End of the commit log (next write offset).
    pub fn commit_log_max_offset(&self) -> i64 {
        self.shared.log.max_offset() as i64
    }

    /// Bytes written to the commit log but not yet dispatched to consume queues.
    pub fn dispatch_behind_bytes(&self) -> i64 {
        self.shared
            .log
            .max_offset()
            .saturating_sub(self.shared.reput_offset.load(Ordering::Acquire)) as i64
    }

    /// Install the callback run by the dispatch thread after each consume-queue entry.
    pub fn set_arrival_listener(&self, f: ArrivalListener) {
        *self.shared.listener.write() = Some(f);
    }

    /// Known (topic, queue id) pairs.
    pub fn queues(&self) -> Vec<(String, i32)> {
        let mut v: Vec<(String, i32)> = self
            .shared
            .queues
            .read()
            .iter()
            .flat_map(|(t, qs)| qs.keys().map(move |q| (t.clone(), *q)))
            .collect();
        v.sort();
        v
    }

    /// Drop a topic's consume queues and their files. Its records stay in the commit log; records
    /// of the topic not yet dispatched may recreate a queue.
    pub fn delete_topic(&self, topic: &str) {
        let mut table = self.shared.append.lock();
        table.remove(topic);
        let removed = self.shared.queues.write().remove(topic);
        if let Some(qs) = removed {
            for q in qs.values() {
                q.destroy();
            }
            let dir = self.shared.cq_dir.join(topic);
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::warn!("cannot delete consume queue dir path={}: {e}", dir.display());
                }
            }
            log::info!("deleted consume queues topic={topic} queues={}", qs.len());
        }
    }

    /// Stop services, flush everything, write the checkpoint and remove the abort file.
    /// Idempotent; also run on drop.
    pub fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.stopping.store(true, Ordering::Release);
        // Stop the writers' wake-ups first, then the services (dispatch drains on its way out).
        let mut services = std::mem::take(&mut *self.services.lock());
        for s in services.iter_mut() {
            s.stop();
        }
        let sh = &self.shared;
        // Take the append lock so no put is half way, then drain the dispatch.
        let _g = sh.append.lock();
        sh.dispatch_available();
        let flushed = sh.flush_all();
        // Wake any waiter: the flush service and the HA service are gone.
        sh.flushes.wake_all(sh.log.flushed_offset());
        sh.replicas.wake_all(sh.replica_acked.load(Ordering::Acquire));
        let clean = match flushed {
            Ok(()) => sh.dispatch_behind() == 0,
            Err(e) => {
                log::error!("final flush failed root={}: {e}", sh.root.display());
                false
            }
        };
        if clean {
            let abort = sh.root.join("abort");
            if let Err(e) = std::fs::remove_file(&abort) {
                log::warn!("cannot remove abort file path={}: {e}", abort.display());
            }
        }
        drop(self.lock.lock().take());
        log::info!(
            "store shut down root={} clean={clean} max_offset={}",
            sh.root.display(),
            sh.log.max_offset()
        );
    }

    /// Test helper: stop the threads without flushing, checkpointing or removing `abort`, and
    /// release the directory lock, as a killed process would (the page cache keeps the data).
    #[cfg(test)]
    pub(crate) fn crash(&self) {
        self.closed.store(true, Ordering::Release);
        self.shared.stopping.store(true, Ordering::Release);
        let mut services = std::mem::take(&mut *self.services.lock());
        // Service::stop on dispatch is fine: it only loses nothing durable.
        for s in services.iter_mut() {
            s.stop();
        }
        drop(self.lock.lock().take());
    }

    /// Commit-log offset up to which the data is flushed.
    pub fn commit_log_flushed_offset(&self) -> i64 {
        self.shared.log.flushed_offset() as i64
    }

    /// Test hook: make every commit-log flush take at least `ms` longer (a slow disk).
    #[cfg(test)]
    pub(crate) fn set_flush_delay(&self, ms: u64) {
        self.shared.flush_delay_ms.store(ms, Ordering::Release);
    }

    /// True while puts are refused because the disk is full (diskSpaceWarningLevelRatio).
    pub fn is_disk_full(&self) -> bool {
        self.shared.disk_full.load(Ordering::Acquire)
    }

    /// Run the retention service once, now (tests and admin tools).
    pub fn clean_expired_files(&self) {
        self.shared.clean_once();
    }

    /// Test hook: new commit-log segments fail as on a full disk (ENOSPC).
    #[cfg(test)]
    pub(crate) fn set_fail_segment_create(&self, fail: bool) {
        self.shared.log.set_fail_create(fail);
    }

    /// Number of index files (tests).
    #[cfg(test)]
    pub(crate) fn index_file_count(&self) -> usize {
        self.shared.index.file_count()
    }

    /// Root directory of the store.
    pub fn root_dir(&self) -> &Path {
        &self.shared.root
    }
}

impl Drop for MessageStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    /// After an append was published: wake the dispatch thread if it is idle (a put dispatches
    /// inline first, [`Shared::dispatch_inline`]), and replication streams waiting for the log
    /// to grow.
    pub(super) fn wake_dispatch(&self) {
        // Pairs with the fences in the dispatch loop and in `wait_commit_log_beyond`: either
        // they see the new max offset, or we see their idle flag or waiter count.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.dispatch_idle.load(Ordering::Relaxed)
            && self.dispatch_idle.swap(false, Ordering::AcqRel)
        {
            if let Some(w) = self.dispatch_waker.get() {
                w.wake();
            }
        }
        self.wake_growth();
    }

    /// Wake replication streams waiting for the log to grow.
    pub(super) fn wake_growth(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.growth_waiters.load(Ordering::Relaxed) > 0 {
            self.growth.fetch_add(1, Ordering::SeqCst);
            crate::common::sys::futex_wake_all(&self.growth);
        }
    }

    /// Wait until the commit log is flushed to `end` (group commit). False on timeout.
    fn wait_flushed(&self, end: u64, timeout: Duration) -> bool {
        if self.log.flushed_offset() >= end {
            return true;
        }
        let deadline = Instant::now() + timeout;
        if self.flushes.register(end) {
            if let Some(w) = self.flush_waker.get() {
                w.wake();
            }
        }
        let flushed = || self.log.flushed_offset();
        let failed = || self.failed.load(Ordering::Acquire);
        self.flushes.wait(end, deadline, flushed, failed) == WaitEnd::Flushed
    }

    /// Bytes not yet dispatched.
    pub(super) fn dispatch_behind(&self) -> u64 {
        self.log.max_offset().saturating_sub(self.reput_offset.load(Ordering::Acquire))
    }

    /// Flush the commit log and every consume queue, then write the checkpoint.
    pub(super) fn flush_all(&self) -> std::io::Result<()> {
        self.log.flush()?;
        self.flush_queues_and_checkpoint()
    }
}
