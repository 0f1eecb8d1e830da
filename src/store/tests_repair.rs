//! Issue 13: a commit-log segment or consume-queue file left short by a kill during its
//! preallocation is repaired at start, not refused; a short file holding data still is.

use super::mmap::segment_name;
use super::*;
use crate::protocol::record::encode_properties;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

struct TmpDir(PathBuf);

impl TmpDir {
    fn new(name: &str) -> TmpDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rmq-repair-{name}-{}-{n}", std::process::id()));
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

const SEG: u64 = 8192;
const CQ_ENTRIES: usize = 16;

fn cfg(dir: &TmpDir) -> StoreConfig {
    StoreConfig {
        root_dir: dir.0.clone(),
        commit_log_file_size: SEG,
        cq_file_entries: CQ_ENTRIES as u64,
        flush_interval_ms: 10,
        flush_cq_interval_ms: 20,
        max_hash_slot_num: 64,
        max_index_num: 256,
        ..StoreConfig::default()
    }
}

fn msg(i: usize) -> PutMessage {
    PutMessage {
        topic: "R".to_string(),
        queue_id: 0,
        flag: 0,
        sys_flag: 0,
        born_timestamp: 1,
        born_host: "127.0.0.1:5000".parse().unwrap(),
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: format!("body-{i}").into_bytes().into(),
        properties: encode_properties([("UNIQ_KEY", "K")]),
    }
}

fn wait_dispatched(s: &MessageStore) {
    let t0 = Instant::now();
    while s.dispatch_behind_bytes() > 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "dispatch stuck");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Bodies of queue R/0, in order.
fn bodies(s: &MessageStore) -> Vec<String> {
    let mut out = Vec::new();
    let mut off = 0;
    loop {
        let r = s.get_messages("R", 0, off, 32, 1 << 20, &|_| true);
        if r.status != GetStatus::Found {
            return out;
        }
        for m in &r.messages {
            let (rec, _) = crate::protocol::record::decode_record(m, true).unwrap();
            out.push(String::from_utf8(rec.body).unwrap());
        }
        off = r.next_begin_offset;
    }
}

/// Store `n` messages and shut down cleanly.
fn fill(dir: &TmpDir, n: usize) {
    let s = MessageStore::open(cfg(dir)).unwrap();
    for i in 0..n {
        assert_eq!(s.put_message(msg(i), false).status, PutStatus::PutOk);
    }
    wait_dispatched(&s);
    s.shutdown();
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn expected(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("body-{i}")).collect()
}

#[test]
fn short_zero_commit_log_segment_is_repaired() {
    for short_len in [0usize, 100, 4096] {
        let dir = TmpDir::new("log");
        fill(&dir, 10);
        // The kill came while the next segment was being preallocated.
        let log = dir.0.join("commitlog");
        let segs = std::fs::read_dir(&log).unwrap().count() as u64;
        write_file(&log.join(segment_name(segs * SEG)), &vec![0u8; short_len]);
        let s = MessageStore::open(cfg(&dir)).unwrap_or_else(|e| panic!("{short_len}: {e}"));
        assert_eq!(bodies(&s), expected(10), "short_len {short_len}");
        for i in 10..40 {
            assert_eq!(s.put_message(msg(i), false).status, PutStatus::PutOk);
        }
        wait_dispatched(&s);
        assert_eq!(bodies(&s), expected(40));
        s.shutdown();
        for e in std::fs::read_dir(&log).unwrap() {
            assert_eq!(e.unwrap().metadata().unwrap().len(), SEG);
        }
    }
}

#[test]
fn short_zero_consume_queue_file_is_repaired() {
    // Exactly one full consume-queue file, then a kill while creating the second.
    let dir = TmpDir::new("cq");
    fill(&dir, CQ_ENTRIES);
    let qdir = dir.0.join("consumequeue").join("R").join("0");
    let next = qdir.join(segment_name((CQ_ENTRIES * 20) as u64));
    write_file(&next, &[0u8; 7]);
    let s = MessageStore::open(cfg(&dir)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bodies(&s), expected(CQ_ENTRIES));
    assert_eq!(s.put_message(msg(CQ_ENTRIES), false).status, PutStatus::PutOk);
    wait_dispatched(&s);
    assert_eq!(bodies(&s), expected(CQ_ENTRIES + 1));
    s.shutdown();
    assert_eq!(std::fs::metadata(&next).unwrap().len(), (CQ_ENTRIES * 20) as u64);
}

#[test]
fn short_file_with_data_is_still_refused() {
    let dir = TmpDir::new("data");
    fill(&dir, 3);
    let log = dir.0.join("commitlog");
    let segs = std::fs::read_dir(&log).unwrap().count() as u64;
    let bad = log.join(segment_name(segs * SEG));
    write_file(&bad, &[0xAB; 100]);
    let e = MessageStore::open(cfg(&dir)).err().expect("a short file with data must be refused");
    assert!(e.to_string().contains("expected 8192"), "{e}");
    assert_eq!(std::fs::metadata(&bad).unwrap().len(), 100, "the file was changed");
}
