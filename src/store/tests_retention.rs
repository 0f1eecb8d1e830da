//! Retention, full disk and ENOSPC tests (issue 3).

use super::*;

fn keyed(i: usize) -> PutMessage {
    let mut m = msg("R", 0, &[b'a' + (i % 26) as u8; 500], None);
    m.properties = encode_properties([("KEYS", format!("key-{i}").as_str())]);
    m
}

fn retention_cfg(dir: &TmpDir, reserved_ms: u64) -> StoreConfig {
    StoreConfig {
        cq_file_entries: 16,
        file_reserved_time_ms: reserved_ms,
        delete_when: "99".to_string(),
        disk_max_used_space_ratio: 0,
        disk_space_clean_forcibly_ratio: 100,
        disk_space_warning_level_ratio: 100,
        max_index_num: 40,
        ..cfg(dir, 16 * 1024)
    }
}

fn queue_files(dir: &TmpDir) -> usize {
    std::fs::read_dir(dir.0.join("consumequeue/R/0")).unwrap().count()
}

#[test]
fn retention_deletes_old_segments_queues_and_index_and_moves_min_offsets() {
    let dir = TmpDir::new("retention");
    let s = MessageStore::open(retention_cfg(&dir, 3_600_000)).unwrap();
    for i in 0..200 {
        assert_eq!(s.put_message(keyed(i), false).status, PutStatus::PutOk);
    }
    wait_dispatched(&s);
    let segs_before = segments(&dir).len();
    assert!(segs_before >= 7, "{segs_before}");
    let (cq_before, ix_before) = (queue_files(&dir), s.index_file_count());
    // Nothing is old enough yet.
    s.clean_expired_files();
    assert_eq!(segments(&dir).len(), segs_before);
    assert_eq!(s.commit_log_min_offset(), 0);
    drop(s);

    // Everything is expired now: all but the newest segment go, at open and on each run.
    let s = MessageStore::open(retention_cfg(&dir, 0)).unwrap();
    let min_phys = s.commit_log_min_offset();
    assert_eq!(segments(&dir).len(), 1);
    assert_eq!(min_phys as u64, (segs_before as u64 - 1) * 16 * 1024);
    assert!(queue_files(&dir) < cq_before);
    assert!(s.index_file_count() < ix_before);
    let min = s.min_offset_in_queue("R", 0);
    assert!(min > 0);
    assert_eq!(s.max_offset_in_queue("R", 0), 200);
    // A consumer below the min offset is moved to it.
    let r = s.get_messages("R", 0, 0, 10, 1 << 20, &|_| true);
    assert_eq!((r.status, r.next_begin_offset), (GetStatus::OffsetTooSmall, min));
    // From the min on, every remaining message is there, in order, and the first one is the
    // first record of the remaining segment.
    let rest = all(&s, "R", 0);
    assert_eq!(rest.len() as i64, 200 - min);
    assert_eq!(rest[0].physical_offset, min_phys);
    for (k, m) in rest.iter().enumerate() {
        let i = min as usize + k;
        assert_eq!(m.queue_offset, i as i64);
        assert_eq!(m.body, vec![b'a' + (i % 26) as u8; 500]);
    }
    // The index no longer returns deleted messages; recent ones still resolve.
    assert!(s.query_by_key("R", "key-0", 64, 0, i64::MAX).messages.is_empty());
    assert_eq!(s.query_by_key("R", "key-199", 64, 0, i64::MAX).messages.len(), 1);
    // Appends continue after it; a reopen keeps the same min offsets.
    assert_eq!(s.put_message(keyed(200), false).queue_offset, 200);
    wait_dispatched(&s);
    drop(s);
    let s = MessageStore::open(retention_cfg(&dir, 3_600_000)).unwrap();
    assert_eq!(s.commit_log_min_offset(), min_phys);
    assert_eq!(s.min_offset_in_queue("R", 0), min);
    assert_eq!(all(&s, "R", 0).len() as i64, 201 - min);
}

#[test]
fn full_disk_refuses_puts_and_keeps_reads() {
    let dir = TmpDir::new("diskfull");
    let s = MessageStore::open(retention_cfg(&dir, 3_600_000)).unwrap();
    for i in 0..5 {
        s.put_message(keyed(i), false);
    }
    wait_dispatched(&s);
    assert!(!s.is_disk_full());
    drop(s);
    let full = StoreConfig {
        disk_space_warning_level_ratio: 0,
        clean_file_forcibly_enable: false,
        ..retention_cfg(&dir, 3_600_000)
    };
    let s = MessageStore::open(full).unwrap();
    assert!(s.is_disk_full());
    let r = s.put_message(keyed(5), true);
    assert_eq!((r.status, r.phys_offset), (PutStatus::ServiceNotAvailable, -1));
    assert_eq!(all(&s, "R", 0).len(), 5);
    assert_eq!(s.query_by_key("R", "key-3", 64, 0, i64::MAX).messages.len(), 1);
    drop(s);
    let s = MessageStore::open(retention_cfg(&dir, 3_600_000)).unwrap();
    assert!(!s.is_disk_full());
    assert_eq!(s.put_message(keyed(5), false).queue_offset, 5);
    wait_dispatched(&s);
    assert_eq!(all(&s, "R", 0).len(), 6);
}

#[test]
fn enospc_on_segment_roll_fails_puts_without_damage() {
    let dir = TmpDir::new("enospc");
    let s = MessageStore::open(retention_cfg(&dir, 3_600_000)).unwrap();
    s.set_fail_segment_create(true);
    let mut stored = 0;
    let mut refused = 0;
    for i in 0..60 {
        match s.put_message(keyed(stored), false).status {
            PutStatus::PutOk => stored += 1,
            PutStatus::CreateMappedFileFailed => refused += 1,
            other => panic!("put {i}: {other:?}"),
        }
    }
    // The first segment could not even be created: nothing stored.
    assert_eq!((stored, refused), (0, 60));
    s.set_fail_segment_create(false);
    for _ in 0..40 {
        assert_eq!(s.put_message(keyed(stored), false).status, PutStatus::PutOk);
        stored += 1;
    }
    // Now fail the roll to the next segment.
    s.set_fail_segment_create(true);
    loop {
        match s.put_message(keyed(stored), false).status {
            PutStatus::PutOk => stored += 1,
            PutStatus::CreateMappedFileFailed => break,
            other => panic!("{other:?}"),
        }
    }
    wait_dispatched(&s);
    assert_eq!(all(&s, "R", 0).len(), stored);
    s.set_fail_segment_create(false);
    assert_eq!(s.put_message(keyed(stored), false).queue_offset, stored as i64);
    stored += 1;
    wait_dispatched(&s);
    s.crash();
    drop(s);
    let s = MessageStore::open(retention_cfg(&dir, 3_600_000)).unwrap();
    let got = all(&s, "R", 0);
    assert_eq!(got.len(), stored);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.queue_offset, i as i64);
        assert_eq!(m.body, vec![b'a' + (i % 26) as u8; 500]);
    }
}
