//! Store tests: temp dirs under `std::env::temp_dir()`, small segments.

use super::*;
use crate::protocol::record::{decode_record, encode_properties, tag_hash, MessageRecord};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

struct TmpDir(PathBuf);

impl TmpDir {
    fn new(name: &str) -> TmpDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rmq-store-{name}-{}-{n}", std::process::id()));
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

fn cfg(dir: &TmpDir, seg: u64) -> StoreConfig {
    StoreConfig {
        root_dir: dir.0.clone(),
        commit_log_file_size: seg,
        cq_file_entries: 64,
        flush_interval_ms: 10,
        flush_cq_interval_ms: 20,
        max_hash_slot_num: 64,
        max_index_num: 256,
        ..StoreConfig::default()
    }
}

fn msg(topic: &str, q: i32, body: &[u8], tags: Option<&str>) -> PutMessage {
    let properties = match tags {
        Some(t) => encode_properties([("TAGS", t), ("UNIQ_KEY", "ABC")]),
        None => encode_properties([("UNIQ_KEY", "ABC")]),
    };
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
        properties,
    }
}

fn body(i: usize) -> Vec<u8> {
    format!("message-{i}-{}", "x".repeat(i % 50)).into_bytes()
}

fn wait_dispatched(s: &MessageStore) {
    let t0 = Instant::now();
    while s.dispatch_behind_bytes() > 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "dispatch stuck");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn all(s: &MessageStore, topic: &str, q: i32) -> Vec<MessageRecord> {
    let mut out = Vec::new();
    let mut off = s.min_offset_in_queue(topic, q);
    loop {
        let r = s.get_messages(topic, q, off, 7, 1 << 20, &|_| true);
        if r.status != GetStatus::Found {
            assert_eq!(r.status, GetStatus::OffsetOverflowOne, "at {off}");
            return out;
        }
        for m in &r.messages {
            out.push(decode_record(m, true).unwrap().0);
        }
        off = r.next_begin_offset;
    }
}

fn segments(dir: &TmpDir) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir.0.join("commitlog")).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn put_get_across_segment_rolls() {
    let dir = TmpDir::new("roll");
    let s = MessageStore::open(cfg(&dir, 4096)).unwrap();
    let mut phys = Vec::new();
    for i in 0..300 {
        let r = s.put_message(
            msg("T", (i % 3) as i32, &body(i), Some(if i % 2 == 0 { "A" } else { "B" })),
            false,
        );
        assert_eq!(r.status, PutStatus::PutOk);
        assert_eq!(r.queue_offset, (i / 3) as i64);
        assert_eq!(r.msg_ids.len(), 1);
        phys.push(r.phys_offset);
    }
    assert!(segments(&dir).len() > 5, "expected several segments");
    wait_dispatched(&s);
    for q in 0..3 {
        assert_eq!(s.max_offset_in_queue("T", q), 100);
        let got = all(&s, "T", q);
        assert_eq!(got.len(), 100);
        for (n, m) in got.iter().enumerate() {
            let i = n * 3 + q as usize;
            assert_eq!(m.body, body(i));
            assert_eq!(m.queue_offset, n as i64);
            assert_eq!(m.physical_offset, phys[i]);
            assert_eq!(m.topic, "T");
        }
    }
    // Records never straddle segments.
    for &p in &phys {
        let raw = s.look_message_by_offset(p).unwrap();
        assert_eq!(p as u64 / 4096, (p as u64 + raw.len() as u64 - 1) / 4096);
    }
    assert_eq!(s.commit_log_min_offset(), 0);
    assert!(s.commit_log_max_offset() > 4096 * 5);
    assert_eq!(s.queues(), vec![("T".to_string(), 0), ("T".to_string(), 1), ("T".to_string(), 2)]);
    s.shutdown();
}

#[test]
fn batch_put_is_contiguous_and_rolls_whole() {
    let dir = TmpDir::new("batch");
    let s = MessageStore::open(cfg(&dir, 4096)).unwrap();
    s.put_message(msg("B", 0, &[1; 3000], None), false);
    let batch: Vec<PutMessage> = (0..10).map(|i| msg("B", 0, &body(i), Some("X"))).collect();
    let r = s.put_messages(batch, false);
    assert_eq!(r.status, PutStatus::PutOk);
    assert_eq!(r.queue_offset, 1);
    assert_eq!(r.phys_offset, 4096, "batch must start in the next segment");
    assert_eq!(r.msg_ids.len(), 10);
    wait_dispatched(&s);
    let got = all(&s, "B", 0);
    assert_eq!(got.len(), 11);
    let mut expect_phys = 4096;
    for (i, m) in got.iter().skip(1).enumerate() {
        assert_eq!(m.queue_offset, i as i64 + 1);
        assert_eq!(m.physical_offset, expect_phys);
        assert_eq!(r.msg_ids[i], crate::protocol::record::offset_msg_id(m.store_host, expect_phys));
        expect_phys += s.look_message_by_offset(expect_phys).unwrap().len() as i64;
    }
    // Invalid batches.
    let mixed = vec![msg("B", 0, b"a", None), msg("C", 0, b"a", None)];
    assert_eq!(s.put_messages(mixed, false).status, PutStatus::MessageIllegal);
    let huge: Vec<PutMessage> = (0..5).map(|_| msg("B", 0, &[0; 1000], None)).collect();
    assert_eq!(s.put_messages(huge, false).status, PutStatus::MessageIllegal);
    assert_eq!(s.put_messages(Vec::new(), false).status, PutStatus::MessageIllegal);
    let mut bad = msg("B", 0, b"a", None);
    bad.properties = "k\u{1}".to_string() + &"v".repeat(40000);
    assert_eq!(s.put_message(bad, false).status, PutStatus::PropertiesSizeExceeded);
    assert_eq!(s.put_message(msg("a/b", 0, b"a", None), false).status, PutStatus::MessageIllegal);
    let mut c = cfg(&dir, 4096);
    c.max_message_size = 10;
    drop(s);
    let s = MessageStore::open(c).unwrap();
    assert_eq!(s.put_message(msg("B", 0, &[0; 11], None), false).status, PutStatus::MessageIllegal);
}

#[test]
fn reopen_after_clean_shutdown() {
    let dir = TmpDir::new("reopen");
    {
        let s = MessageStore::open(cfg(&dir, 8192)).unwrap();
        for i in 0..100 {
            assert_eq!(
                s.put_message(msg("R", (i % 2) as i32, &body(i), None), false).status,
                PutStatus::PutOk
            );
        }
        // A second open of the same directory fails while the first holds the lock.
        let e = MessageStore::open(cfg(&dir, 8192)).err().unwrap();
        assert!(e.is_locked(), "{e}");
        s.shutdown();
        s.shutdown();
    }
    assert!(!dir.0.join("abort").exists());
    let s = MessageStore::open(cfg(&dir, 8192)).unwrap();
    assert!(dir.0.join("abort").exists());
    assert_eq!(s.max_offset_in_queue("R", 0), 50);
    let end = s.commit_log_max_offset();
    let r = s.put_message(msg("R", 0, b"after", None), false);
    assert_eq!(r.queue_offset, 50);
    assert_eq!(r.phys_offset, end);
    wait_dispatched(&s);
    let got = all(&s, "R", 0);
    assert_eq!(got.len(), 51);
    assert_eq!(got[50].body, b"after");
    assert_eq!(got[10].body, body(20));
}

#[test]
fn crash_recovery_keeps_everything() {
    let dir = TmpDir::new("crash");
    let mut c = cfg(&dir, 4096);
    c.flush_cq_interval_ms = 60_000; // checkpoint never advances: recovery must re-dispatch
    {
        let s = MessageStore::open(c.clone()).unwrap();
        for i in 0..120 {
            s.put_message(msg("C", (i % 4) as i32, &body(i), Some("t")), false);
        }
        s.crash();
    }
    assert!(dir.0.join("abort").exists());
    let s = MessageStore::open(c.clone()).unwrap();
    for q in 0..4 {
        assert_eq!(s.max_offset_in_queue("C", q), 30);
        let got = all(&s, "C", q);
        assert_eq!(got.len(), 30);
        for (n, m) in got.iter().enumerate() {
            assert_eq!(m.body, body(n * 4 + q as usize));
        }
    }
    let r = s.put_message(msg("C", 1, b"new", None), false);
    assert_eq!(r.queue_offset, 30);
    s.crash();
    drop(s);
    // Crash again after the consume queues were partly written: no duplicates.
    let s = MessageStore::open(c).unwrap();
    assert_eq!(all(&s, "C", 1).len(), 31);
}

#[test]
fn crash_recovery_keeps_records_with_nul_in_properties() {
    // Apache's C++ client 1.x can send a message id with a NUL in it (CI lost SEND_OK'd
    // messages when recovery took that for a torn record and cut the log there).
    let dir = TmpDir::new("crash-nul");
    let c = cfg(&dir, 4096);
    let with_props = |i: usize, props: &str| {
        let mut m = msg("N", 0, &body(i), None);
        m.properties = props.to_string();
        m
    };
    {
        let s = MessageStore::open(c.clone()).unwrap();
        for i in 0..60 {
            let m = match i % 3 {
                0 => with_props(
                    i,
                    &encode_properties([("UNIQ_KEY", "0100007F 0\0F700"), ("K", "v")]),
                ),
                1 => with_props(i, &encode_properties([("UNIQ_KEY", "ABC"), ("END", "nul\0")])),
                _ => msg("N", 0, &body(i), None),
            };
            assert_eq!(s.put_message(m, false).status, PutStatus::PutOk);
        }
        // The last record ends in NUL with nothing after it: indistinguishable from a write cut
        // short, so recovery drops it (it was the newest, last to be acknowledged).
        s.put_message(with_props(60, &encode_properties([("END", "nul\0")])), false);
        wait_dispatched(&s);
        s.crash();
    }
    let s = MessageStore::open(c).unwrap();
    let got = all(&s, "N", 0);
    assert_eq!(got.len(), 60, "every record followed by another survives");
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.body, body(i));
    }
    assert!(got[0].properties.contains("0100007F 0\0F700"), "{:?}", got[0].properties);
}

fn patch_file(path: &std::path::Path, at: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn torn_tail_is_truncated() {
    let dir = TmpDir::new("torn");
    let seg = 4096u64;
    let base = TmpDir::new("torn-base");
    let (last_phys, last_len) = {
        let s = MessageStore::open(cfg(&base, seg)).unwrap();
        for i in 0..40 {
            s.put_message(msg("W", 0, &body(i), Some("a")), false);
        }
        let r = s.put_message(msg("W", 7, b"the last one", Some("a")), false);
        wait_dispatched(&s);
        s.shutdown();
        let len = s.look_message_by_offset(r.phys_offset).unwrap().len() as u64;
        (r.phys_offset as u64, len)
    };
    let seg_path = base.0.join("commitlog").join(format!("{:020}", last_phys / seg * seg));
    let local = last_phys % seg;
    // Damage the last record at several places: zeroed tail from byte k, or one flipped byte.
    let mut damages: Vec<(u64, Vec<u8>)> =
        (0..last_len).step_by(7).map(|k| (local + k, vec![0; (last_len - k) as usize])).collect();
    damages.push((local + last_len - 20, vec![0xAA])); // a body/property byte: CRC or length check
    damages.push((local + 4, vec![0x11])); // the magic
    damages.push((local + 90, vec![0x5A; 3])); // inside the body: CRC
    for (at, bytes) in damages {
        let _ = std::fs::remove_dir_all(&dir.0);
        copy_dir(&base.0, &dir.0);
        std::fs::remove_file(dir.0.join("abort")).ok();
        let p = dir.0.join(seg_path.strip_prefix(&base.0).unwrap());
        patch_file(&p, at, &bytes);
        let s = MessageStore::open(cfg(&dir, seg)).unwrap();
        assert_eq!(s.commit_log_max_offset() as u64, last_phys, "damage at {at}");
        let got = all(&s, "W", 0);
        assert_eq!(got.len(), 40);
        assert_eq!(got[39].body, body(39));
        let r7 = s.get_messages("W", 7, 0, 32, 1 << 20, &|_| true);
        assert_eq!(r7.status, GetStatus::NoMessageInQueue);
        assert_eq!(s.max_offset_in_queue("W", 7), 0);
        let r = s.put_message(msg("W", 7, b"again", None), false);
        assert_eq!((r.phys_offset as u64, r.queue_offset), (last_phys, 0));
        wait_dispatched(&s);
        assert_eq!(all(&s, "W", 7)[0].body, b"again");
        s.shutdown();
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else if e.file_name() != "lock" {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

#[test]
fn filter_by_tags_code() {
    let dir = TmpDir::new("filter");
    let s = MessageStore::open(cfg(&dir, 1 << 16)).unwrap();
    for i in 0..20 {
        let tag = if i % 4 == 0 {
            Some("TagA")
        } else if i % 4 == 1 {
            None
        } else {
            Some("TagB")
        };
        s.put_message(msg("F", 0, &body(i), tag), false);
    }
    wait_dispatched(&s);
    let a = tag_hash("TagA");
    let r = s.get_messages("F", 0, 0, 32, 1 << 20, &|c| c == a);
    assert_eq!(r.status, GetStatus::Found);
    assert_eq!(r.messages.len(), 5);
    assert_eq!(r.next_begin_offset, 20);
    let r = s.get_messages("F", 0, 0, 2, 1 << 20, &|c| c == a);
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.next_begin_offset, 5);
    let r = s.get_messages("F", 0, 1, 32, 1 << 20, &|c| c == 12345);
    assert_eq!(r.status, GetStatus::NoMatchedMessage);
    assert_eq!(r.next_begin_offset, 20);
    // Untagged messages have code 0.
    let r = s.get_messages("F", 0, 0, 32, 1 << 20, &|c| c == 0);
    assert_eq!(r.messages.len(), 5);
    // max_bytes: the first message is always returned.
    let r = s.get_messages("F", 0, 0, 32, 1, &|_| true);
    assert_eq!((r.messages.len(), r.next_begin_offset), (1, 1));
}

#[test]
fn offset_statuses() {
    let dir = TmpDir::new("status");
    let s = MessageStore::open(cfg(&dir, 1 << 16)).unwrap();
    let all_f: &dyn Fn(i64) -> bool = &|_| true;
    assert_eq!(
        s.get_messages("S", 0, 0, 32, 1 << 20, all_f).status,
        GetStatus::NoMatchedLogicQueue
    );
    for i in 0..5 {
        s.put_message(msg("S", 0, &body(i), None), false);
    }
    wait_dispatched(&s);
    let r = s.get_messages("S", 0, 5, 32, 1 << 20, all_f);
    assert_eq!(
        (r.status, r.next_begin_offset, r.min_offset, r.max_offset),
        (GetStatus::OffsetOverflowOne, 5, 0, 5)
    );
    let r = s.get_messages("S", 0, 9, 32, 1 << 20, all_f);
    assert_eq!((r.status, r.next_begin_offset), (GetStatus::OffsetOverflowBadly, 0));
    let r = s.get_messages("S", 0, -1, 32, 1 << 20, all_f);
    assert_eq!((r.status, r.next_begin_offset), (GetStatus::OffsetTooSmall, 0));
    let r = s.get_messages("S", 0, 3, 32, 1 << 20, all_f);
    assert_eq!((r.status, r.messages.len(), r.next_begin_offset), (GetStatus::Found, 2, 5));
    // Timestamps.
    let t = decode_record(&r.messages[0], true).unwrap().0.store_timestamp;
    assert!(s.offset_by_timestamp("S", 0, t) <= 3);
    assert_eq!(s.offset_by_timestamp("S", 0, i64::MAX), 5);
    assert_eq!(s.offset_by_timestamp("S", 0, 0), 0);
    assert!(s.earliest_message_time("S", 0) <= t);
    assert_eq!(s.earliest_message_time("nope", 0), -1);
    // Prepared transaction records take queue offset 0 and get no consume-queue entry.
    let mut p = msg("S", 0, b"half", None);
    p.sys_flag = crate::protocol::record::sysflag::TRANSACTION_PREPARED;
    let r = s.put_message(p, false);
    assert_eq!(r.queue_offset, 0);
    let r = s.put_message(msg("S", 0, b"next", None), false);
    assert_eq!(r.queue_offset, 5);
    wait_dispatched(&s);
    assert_eq!(s.max_offset_in_queue("S", 0), 6);
    // delete_topic drops the queue; new messages start again at 0.
    s.delete_topic("S");
    assert!(!dir.0.join("consumequeue").join("S").exists());
    assert_eq!(s.max_offset_in_queue("S", 0), 0);
    assert_eq!(s.put_message(msg("S", 0, b"fresh", None), false).queue_offset, 0);
}

#[test]
fn sync_flush_and_listener() {
    let dir = TmpDir::new("sync");
    let mut c = cfg(&dir, 1 << 16);
    c.flush_disk_type = "SYNC_FLUSH".parse().unwrap();
    let s = MessageStore::open(c).unwrap();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    s.set_arrival_listener(Arc::new(move |t: &str, q, max, tags| {
        s2.lock().push((t.to_string(), q, max, tags))
    }));
    let t0 = Instant::now();
    for i in 0..20 {
        let r = s.put_message(msg("Y", 2, &body(i), Some("TagA")), true);
        assert_eq!(r.status, PutStatus::PutOk);
    }
    assert!(t0.elapsed() < Duration::from_secs(5));
    wait_dispatched(&s);
    let v = seen.lock().clone();
    assert_eq!(v.len(), 20);
    assert_eq!(v[19], ("Y".to_string(), 2, 20, tag_hash("TagA")));
    assert!("FOO".parse::<FlushDiskType>().is_err());
}

/// Issue 3: a SYNC_FLUSH put whose flush outlasts syncFlushTimeout is answered
/// FLUSH_DISK_TIMEOUT, yet the message is stored (Apache's GroupCommitService behaviour).
#[test]
fn sync_flush_timeout_reports_flush_disk_timeout() {
    let dir = TmpDir::new("flush-timeout");
    let mut c = cfg(&dir, 1 << 16);
    c.flush_disk_type = FlushDiskType::Sync;
    c.sync_flush_timeout_ms = 50;
    let s = MessageStore::open(c).unwrap();
    assert_eq!(s.put_message(msg("F", 0, b"fast", None), true).status, PutStatus::PutOk);
    s.set_flush_delay(400);
    let r = s.put_message(msg("F", 0, b"slow", None), true);
    assert_eq!(r.status, PutStatus::FlushDiskTimeout);
    assert_eq!(r.queue_offset, 1);
    // Not waiting for the flush is unaffected.
    assert_eq!(s.put_message(msg("F", 0, b"nowait", None), false).status, PutStatus::PutOk);
    s.set_flush_delay(0);
    wait_dispatched(&s);
    let bodies: Vec<Vec<u8>> = all(&s, "F", 0).into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, vec![b"fast".to_vec(), b"slow".to_vec(), b"nowait".to_vec()]);
}

#[test]
fn when_flushed_answers_after_the_flush_or_at_the_timeout() {
    let dir = TmpDir::new("flush-callback");
    let mut c = cfg(&dir, 1 << 16);
    c.flush_disk_type = FlushDiskType::Sync;
    c.sync_flush_timeout_ms = 50;
    let s = MessageStore::open(c).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let put = |body: &[u8]| {
        let r = s.put_message(msg("C", 0, body, None), false);
        assert_eq!(r.status, PutStatus::PutOk);
        let (tx, end) = (tx.clone(), r.phys_offset + r.wrote_bytes);
        let store = s.clone();
        s.when_flushed(
            &r,
            Box::new(move |ok| tx.send((end, ok, store.commit_log_flushed_offset())).unwrap()),
        );
    };
    put(b"fast");
    let (end, ok, flushed) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(ok && flushed >= end, "answered only once flushed: end={end} flushed={flushed}");
    // A flush that takes longer than syncFlushTimeout: the callback fails at the timeout, while
    // the flush still hangs (the watcher, not the flush thread, runs it).
    s.set_flush_delay(1000);
    std::thread::sleep(Duration::from_millis(20));
    let t0 = Instant::now();
    put(b"slow");
    let (_, ok, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(!ok, "a flush slower than the timeout reports failure");
    assert!(t0.elapsed() < Duration::from_millis(900), "failed at the timeout: {:?}", t0.elapsed());
    s.set_flush_delay(0);
    // Each callback runs once.
    std::thread::sleep(Duration::from_millis(1200));
    assert!(rx.try_recv().is_err());
    wait_dispatched(&s);
    let bodies: Vec<Vec<u8>> = all(&s, "C", 0).into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, vec![b"fast".to_vec(), b"slow".to_vec()]);
}

#[path = "tests_retention.rs"]
mod retention;

#[path = "tests_index.rs"]
mod index;

#[path = "tests_replica.rs"]
mod replica;
