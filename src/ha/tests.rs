//! Master and slave stores in one process over loopback TCP (issue 11): identical files and
//! queue offsets, catch-up of empty, too-old, diverged and ahead slaves, the replica waiter.

use super::*;
use crate::store::{
    Durable, GetStatus, MessageStore, PutMessage, PutResult, PutStatus, StoreConfig, WaitFor,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) const SEG: u64 = 4096;
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A directory removed on drop.
pub(super) struct TmpDir(pub(super) PathBuf);

impl TmpDir {
    pub(super) fn new(name: &str) -> TmpDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rmq-ha-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TmpDir(p)
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn store_cfg(dir: &TmpDir) -> StoreConfig {
    StoreConfig {
        root_dir: dir.0.clone(),
        commit_log_file_size: SEG,
        cq_file_entries: 64,
        flush_interval_ms: 10,
        flush_cq_interval_ms: 20,
        max_hash_slot_num: 64,
        max_index_num: 256,
        ..StoreConfig::default()
    }
}

pub(super) fn open(dir: &TmpDir) -> Arc<MessageStore> {
    MessageStore::open(store_cfg(dir)).unwrap()
}

pub(super) fn ha_cfg() -> HaConfig {
    HaConfig {
        heartbeat_interval: Duration::from_millis(200),
        housekeeping_interval: Duration::from_secs(3),
        transfer_batch_size: 1000,
        ..HaConfig::default()
    }
}

pub(super) fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A message; `KEYS` makes it findable by key (the index must follow truncations too).
pub(super) fn msg(topic: &str, q: i32, body: &[u8], key: &str) -> PutMessage {
    PutMessage {
        topic: topic.to_string(),
        queue_id: q,
        flag: 0,
        sys_flag: 0,
        born_timestamp: 1,
        born_host: "127.0.0.1:5000".parse().unwrap(),
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: body.to_vec().into(),
        properties: format!("KEYS\u{1}{key}\u{2}TAGS\u{1}t\u{2}"),
    }
}

/// `n` messages over three queues of "T" and, every 10th, a batch of 4 on "B".
pub(super) fn fill(s: &MessageStore, n: usize, tag: &str) -> PutResult {
    let mut last = None;
    for i in 0..n {
        let body = format!("{tag}-{i}-{}", "x".repeat(i % 60));
        let r = s.put_message(msg("T", (i % 3) as i32, body.as_bytes(), tag), false);
        assert_eq!(r.status, PutStatus::PutOk);
        if i % 10 == 0 {
            let batch = (0..4).map(|j| msg("B", 0, format!("{tag}-b{i}-{j}").as_bytes(), tag));
            assert_eq!(s.put_messages(batch.collect(), false).status, PutStatus::PutOk);
        }
        last = Some(r);
    }
    last.unwrap()
}

pub(super) fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    cond()
}

/// Commit-log files of a store root: (name, bytes), sorted.
pub(super) fn log_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(root.join("commitlog"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// The slave holds the master's log, and both dispatched all of it.
fn caught_up(m: &MessageStore, s: &MessageStore) -> bool {
    s.commit_log_max_offset() == m.commit_log_max_offset()
        && s.dispatch_behind_bytes() == 0
        && m.dispatch_behind_bytes() == 0
}

/// Every queue entry the master still holds is in the slave at the same queue offset, with the
/// same record bytes; the slave has no queue the master lacks.
pub(super) fn same_queues(m: &MessageStore, s: &MessageStore) {
    assert_eq!(m.queues(), s.queues());
    for (t, q) in m.queues() {
        assert_eq!(m.max_offset_in_queue(&t, q), s.max_offset_in_queue(&t, q), "{t}/{q}");
        let mut off = m.min_offset_in_queue(&t, q);
        while off < m.max_offset_in_queue(&t, q) {
            let a = m.get_messages(&t, q, off, 32, 1 << 20, &|_| true);
            let b = s.get_messages(&t, q, off, 32, 1 << 20, &|_| true);
            assert_eq!(a.status, GetStatus::Found, "{t}/{q} at {off}");
            assert_eq!((a.messages, a.next_begin_offset), (b.messages, b.next_begin_offset));
            off = a.next_begin_offset;
        }
    }
}

fn keys(s: &MessageStore, key: &str) -> usize {
    ["T", "B"].iter().map(|t| s.query_by_key(t, key, 64, 0, i64::MAX).messages.len()).sum()
}

const T: Duration = Duration::from_secs(20);

#[test]
fn slave_files_and_queues_match_the_master_across_segments_and_batches() {
    let (md, sd) = (TmpDir::new("m"), TmpDir::new("s"));
    let m = open(&md);
    fill(&m, 150, "a");
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    assert!(!ha.in_sync_slave_available(0), "no slave: known at once");
    let s = open(&sd);
    let addr = ha.local_addr().to_string();
    let client = SlaveClient::start(s.clone(), ha_cfg(), Some(&addr)).unwrap();
    assert_eq!(
        s.put_message(msg("T", 0, b"no", "k"), false).status,
        PutStatus::ServiceNotAvailable
    );
    // More data while the slave streams.
    fill(&m, 150, "b");
    assert!(wait_until(T, || caught_up(&m, &s)), "slave did not catch up");
    assert!(log_files(&md.0).len() > 8, "several segments");
    assert_eq!(log_files(&md.0), log_files(&sd.0), "byte-identical commit log");
    same_queues(&m, &s);
    assert_eq!(keys(&m, "b"), keys(&s, "b"));
    let max = m.commit_log_max_offset() as u64;
    assert!(wait_until(T, || ha.slave_states().first().is_some_and(|x| x.acked_offset == max)));
    let st = ha.slave_states();
    assert_eq!(st.len(), 1);
    assert_eq!((st[0].transfer_start, st[0].lag_bytes), (Some(0), 0));
    assert!(ha.in_sync_slave_available(max));
    assert_eq!(m.replica_acked_offset(), max);
    let cs = client.status();
    assert!(cs.streaming && cs.local_offset == max && cs.master_offset == max, "{cs:?}");
    assert_eq!(cs.master_addr.as_deref(), Some(addr.as_str()));
    client.shutdown();
    assert!(wait_until(T, || ha.slave_states().is_empty()), "closed connection dropped");
    assert!(!ha.in_sync_slave_available(max));
    ha.shutdown();
}

#[test]
fn empty_slave_catches_up_from_the_masters_min_offset_after_retention() {
    let (md, sd) = (TmpDir::new("ret-m"), TmpDir::new("ret-s"));
    {
        let m = open(&md);
        fill(&m, 200, "old");
    }
    // Everything expired: retention leaves only the newest file; then more files come.
    let mut c = store_cfg(&md);
    c.file_reserved_time_ms = 0;
    c.delete_when = "99".into();
    c.disk_max_used_space_ratio = 0;
    let m = MessageStore::open(c).unwrap();
    let min = m.commit_log_min_offset();
    assert!(min > 0 && (min as u64).is_multiple_of(SEG), "oldest file deleted: min {min}");
    fill(&m, 200, "new");
    assert!(log_files(&md.0).len() >= 3);
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    let s = open(&sd);
    let _client = SlaveClient::start(s.clone(), ha_cfg(), Some(&ha.local_addr().to_string()));
    assert!(wait_until(T, || caught_up(&m, &s)), "slave did not catch up");
    assert_eq!(s.commit_log_min_offset(), min, "the whole retained log, from its first file");
    assert_eq!(log_files(&md.0), log_files(&sd.0));
    same_queues(&m, &s);
    s.clean_expired_files();
    for (t, q) in m.queues() {
        assert_eq!(m.min_offset_in_queue(&t, q), s.min_offset_in_queue(&t, q), "{t}/{q}");
    }
}

/// Inode of a store's first commit-log file: a truncation keeps the files before the cut, a
/// reset would replace them all.
fn first_file_inode(root: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(root.join("commitlog").join(format!("{:020}", 0))).unwrap().ino()
}

/// `s` gets a copy of `m`'s log up to its max, then (out of slave mode) its own records.
fn diverge(m: &MessageStore, s: &MessageStore, own: usize) {
    s.set_slave_mode(true);
    let mut off = 0;
    while let Some(d) = m.commit_log_data(off, 4096).filter(|d| !d.is_empty()) {
        s.append_replicated(off, &d).unwrap();
        off += d.len() as u64;
    }
    s.set_slave_mode(false);
    if own > 0 {
        fill(s, own, "own");
        assert!(wait_until(T, || s.dispatch_behind_bytes() == 0));
        assert!(keys(s, "own") > 0);
    }
}

#[test]
fn diverged_slave_is_truncated_to_the_last_common_record_and_continues() {
    let (md, sd) = (TmpDir::new("div-m"), TmpDir::new("div-s"));
    let m = open(&md);
    fill(&m, 100, "a");
    let s = open(&sd);
    diverge(&m, &s, 40);
    // The master writes other records at the same offsets, and more.
    fill(&m, 120, "b");
    assert!(s.commit_log_max_offset() < m.commit_log_max_offset());
    let ino = first_file_inode(&sd.0);
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    let _client = SlaveClient::start(s.clone(), ha_cfg(), Some(&ha.local_addr().to_string()));
    assert!(wait_until(T, || caught_up(&m, &s)), "slave did not catch up");
    fill(&m, 30, "c");
    assert!(wait_until(T, || caught_up(&m, &s)));
    assert_eq!(log_files(&md.0), log_files(&sd.0));
    same_queues(&m, &s);
    assert_eq!(keys(&s, "own"), 0, "the slave's own records are gone, index included");
    assert_eq!(keys(&s, "b"), keys(&m, "b"));
    assert_eq!(first_file_inode(&sd.0), ino, "truncated, not reset");
}

#[test]
fn ahead_slave_is_truncated_to_the_masters_end_and_continues() {
    let (md, sd) = (TmpDir::new("ahead-m"), TmpDir::new("ahead-s"));
    let m = open(&md);
    fill(&m, 100, "a");
    let s = open(&sd);
    diverge(&m, &s, 60);
    assert!(s.commit_log_max_offset() > m.commit_log_max_offset());
    let ino = first_file_inode(&sd.0);
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    let _client = SlaveClient::start(s.clone(), ha_cfg(), Some(&ha.local_addr().to_string()));
    assert!(wait_until(T, || caught_up(&m, &s)), "slave not cut back to the master's end");
    assert_eq!(keys(&s, "own"), 0);
    fill(&m, 50, "b");
    assert!(wait_until(T, || caught_up(&m, &s)));
    assert_eq!(log_files(&md.0), log_files(&sd.0));
    same_queues(&m, &s);
    assert_eq!(first_file_inode(&sd.0), ino, "truncated, not reset");
}

#[test]
fn slave_below_the_masters_oldest_file_restarts_from_it() {
    let (md, sd) = (TmpDir::new("old-m"), TmpDir::new("old-s"));
    {
        let m = open(&md);
        fill(&m, 60, "a");
        let s = open(&sd);
        diverge(&m, &s, 0);
        s.set_slave_mode(true);
        fill(&m, 200, "b");
    }
    let mut c = store_cfg(&md);
    c.file_reserved_time_ms = 0;
    c.delete_when = "99".into();
    c.disk_max_used_space_ratio = 0;
    let m = MessageStore::open(c).unwrap();
    fill(&m, 60, "c");
    let s = open(&sd);
    assert!(s.commit_log_max_offset() < m.commit_log_min_offset(), "slave below the oldest file");
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    let _client = SlaveClient::start(s.clone(), ha_cfg(), Some(&ha.local_addr().to_string()));
    assert!(wait_until(T, || caught_up(&m, &s)), "slave did not restart from the oldest file");
    assert_eq!(s.commit_log_min_offset(), m.commit_log_min_offset());
    assert_eq!(log_files(&md.0), log_files(&sd.0));
    same_queues(&m, &s);
}

fn wait_durable(s: &Arc<MessageStore>, replica: Duration) -> (Durable, Duration) {
    let r = s.put_message(msg("W", 0, b"w", "w"), false);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let t0 = Instant::now();
    s.when_durable(
        &r,
        WaitFor { flush: true, replica: Some(replica) },
        Box::new(move |d| tx.send(d).unwrap()),
    );
    let d = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    (d, t0.elapsed())
}

#[test]
fn replica_wait_completes_when_the_slave_acks_and_times_out_without_it() {
    let (md, sd) = (TmpDir::new("wait-m"), TmpDir::new("wait-s"));
    let m = open(&md);
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    let s = open(&sd);
    let client =
        SlaveClient::start(s.clone(), ha_cfg(), Some(&ha.local_addr().to_string())).unwrap();
    assert!(wait_until(T, || ha.in_sync_slave_available(0)));
    for _ in 0..20 {
        let (d, took) = wait_durable(&m, Duration::from_secs(10));
        assert_eq!(d, Durable::Ok);
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(s.commit_log_max_offset() >= m.commit_log_max_offset(), "the slave has it");
    }
    client.set_master_addr(None);
    assert!(wait_until(T, || !ha.in_sync_slave_available(0)), "slave gone");
    let (d, took) = wait_durable(&m, Duration::from_millis(300));
    assert_eq!(d, Durable::ReplicaTimeout);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    // The slave follows the master again from where it stopped.
    client.set_master_addr(Some(&ha.local_addr().to_string()));
    let (d, _) = wait_durable(&m, Duration::from_secs(10));
    assert_eq!(d, Durable::Ok);
    assert!(wait_until(T, || caught_up(&m, &s)));
    assert_eq!(log_files(&md.0), log_files(&sd.0));
}

#[test]
fn slave_follows_a_master_address_set_at_run_time_and_a_restarted_master() {
    let (md, sd) = (TmpDir::new("addr-m"), TmpDir::new("addr-s"));
    let m = open(&md);
    fill(&m, 50, "a");
    let s = open(&sd);
    let client = SlaveClient::start(s.clone(), ha_cfg(), None).unwrap();
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    client.set_master_addr(Some(&ha.local_addr().to_string()));
    assert!(wait_until(T, || caught_up(&m, &s)));
    ha.shutdown();
    fill(&m, 50, "b");
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    client.set_master_addr(Some(&ha.local_addr().to_string()));
    assert!(wait_until(T, || caught_up(&m, &s)), "slave did not follow the new address");
    assert_eq!(log_files(&md.0), log_files(&sd.0));
    same_queues(&m, &s);
}
