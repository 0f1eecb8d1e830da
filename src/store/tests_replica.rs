//! Replication API tests (issue 11): raw copies build identical files and queue offsets,
//! live truncation and reset, the durability waiter's replica list, the growth wait.

use super::*;

/// A slave-mode store beside `dir`.
fn slave(dir: &TmpDir, seg: u64) -> Arc<MessageStore> {
    let s = MessageStore::open(cfg(dir, seg)).unwrap();
    s.set_slave_mode(true);
    s
}

/// Copy the master's log from `from` to its end in chunks of `chunk` bytes (which split
/// records), as the HA stream does.
fn copy(master: &MessageStore, slave: &MessageStore, from: u64, chunk: usize) {
    let mut off = from;
    loop {
        let data = master.commit_log_data(off, chunk).unwrap();
        if data.is_empty() {
            break;
        }
        slave.append_replicated(off, &data).unwrap();
        off += data.len() as u64;
    }
    assert_eq!(off as i64, master.commit_log_max_offset());
}

fn files(root: &std::path::Path, sub: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(root.join(sub))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Every queue of `a` holds the same entries (queue offsets and record bytes) in `b`.
fn same_queues(a: &MessageStore, b: &MessageStore) {
    assert_eq!(a.queues(), b.queues());
    for (t, q) in a.queues() {
        assert_eq!(a.min_offset_in_queue(&t, q), b.min_offset_in_queue(&t, q), "{t}/{q}");
        assert_eq!(a.max_offset_in_queue(&t, q), b.max_offset_in_queue(&t, q), "{t}/{q}");
        let mut off = a.min_offset_in_queue(&t, q);
        while off < a.max_offset_in_queue(&t, q) {
            let x = a.get_messages(&t, q, off, 16, 1 << 20, &|_| true);
            let y = b.get_messages(&t, q, off, 16, 1 << 20, &|_| true);
            assert_eq!(x, y, "{t}/{q} at {off}");
            off = x.next_begin_offset;
        }
    }
}

fn master_with_messages(dir: &TmpDir, n: usize) -> Arc<MessageStore> {
    let m = MessageStore::open(cfg(dir, 4096)).unwrap();
    for i in 0..n {
        let r = m.put_message(msg("T", (i % 3) as i32, &body(i), Some("A")), false);
        assert_eq!(r.status, PutStatus::PutOk);
        if i % 10 == 0 {
            let batch = (0..4).map(|j| msg("B", 0, &body(i + j), None)).collect();
            assert_eq!(m.put_messages(batch, false).status, PutStatus::PutOk);
        }
    }
    m
}

#[test]
fn replicated_bytes_give_identical_files_and_queue_offsets() {
    let (md, sd) = (TmpDir::new("repl-m"), TmpDir::new("repl-s"));
    let m = master_with_messages(&md, 200);
    let s = slave(&sd, 4096);
    assert_eq!(
        s.put_message(msg("T", 0, b"x", None), false).status,
        PutStatus::ServiceNotAvailable
    );
    assert!(m.append_replicated(0, b"x").is_err(), "a master refuses replicated bytes");
    assert!(s.append_replicated(5, b"x").is_err(), "not at the end of the log");
    copy(&m, &s, 0, 1000);
    assert!(segments(&md).len() > 5);
    // A frame may not run past a segment's end.
    let end = s.commit_log_max_offset() as u64;
    let left = 4096 - end % 4096;
    assert!(s.append_replicated(end, &vec![0; left as usize + 1]).is_err());
    wait_dispatched(&m);
    wait_dispatched(&s);
    m.flush_waiters();
    assert_eq!(files(&md.0, "commitlog"), files(&sd.0, "commitlog"));
    same_queues(&m, &s);
    let q = s.query_by_key("T", "ABC", 64, 0, i64::MAX);
    assert_eq!(q, m.query_by_key("T", "ABC", 64, 0, i64::MAX));
    assert!(!q.messages.is_empty());
    // A slave restarted keeps its replica: recovery accepts the copied records.
    drop(s);
    let s = slave(&sd, 4096);
    same_queues(&m, &s);
    // Out of slave mode it takes puts at the master's next queue offsets.
    s.set_slave_mode(false);
    let r = s.put_message(msg("T", 0, b"promoted", None), false);
    assert_eq!(r.queue_offset, m.max_offset_in_queue("T", 0));
}

#[test]
fn record_boundaries_and_raw_reads() {
    let dir = TmpDir::new("bounds");
    let m = MessageStore::open(cfg(&dir, 4096)).unwrap();
    let phys: Vec<i64> =
        (0..40).map(|i| m.put_message(msg("T", 0, &body(i), None), false).phys_offset).collect();
    let max = m.commit_log_max_offset() as u64;
    assert_eq!(m.commit_log_record_start_before(max, 1), Some(*phys.last().unwrap() as u64));
    assert_eq!(m.commit_log_record_start_before(max, 3), Some(phys[phys.len() - 3] as u64));
    let last_seg = max / 4096 * 4096;
    assert_eq!(
        m.commit_log_record_start_before(max, 10_000),
        Some(last_seg),
        "stops at its segment"
    );
    // Inside a record: its start.
    assert_eq!(m.commit_log_record_start_before(phys[5] as u64 + 7, 1), Some(phys[5] as u64));
    assert_eq!(m.commit_log_record_start_before(0, 1), None);
    assert_eq!(m.commit_log_record_start_before(max + 1, 1), None);
    assert_eq!(m.commit_log_record_end(phys[5] as u64), Some(phys[6] as u64));
    // A full segment ends with a BLANK reaching its end; raw reads include it and its zeros.
    let first_in_1 = phys.iter().find(|&&p| p >= 4096).copied().unwrap() as u64;
    let blank = m.commit_log_record_start_before(4096, 1).unwrap();
    assert_eq!(
        blank,
        *phys.iter().rev().find(|&&p| p < 4096).unwrap() as u64
            + m.look_message_by_offset(*phys.iter().rev().find(|&&p| p < 4096).unwrap())
                .unwrap()
                .len() as u64
    );
    assert_eq!(m.commit_log_record_end(blank), Some(4096));
    let tail = m.commit_log_data(blank, 1 << 20).unwrap();
    assert_eq!(tail.len() as u64, 4096 - blank, "never past the segment");
    assert_eq!(first_in_1, 4096);
    assert_eq!(m.commit_log_data(max, 100), Some(Vec::new()));
    assert_eq!(m.commit_log_data(max + 1, 100), None);
}

/// A diverged slave: the same first records, then other records at the same offsets. Cut back
/// to the common end (and once in the middle of a record), it continues identically.
#[test]
fn truncation_drops_diverged_records_and_replication_continues() {
    let (ad, bd, sd) = (TmpDir::new("trunc-a"), TmpDir::new("trunc-b"), TmpDir::new("trunc-s"));
    let a = master_with_messages(&ad, 60);
    let common = a.commit_log_max_offset() as u64;
    // b: a copy of a's log, then its own records.
    let b = slave(&bd, 4096);
    copy(&a, &b, 0, 4096);
    b.set_slave_mode(false);
    for i in 0..30 {
        let mut x = msg("T", i % 3, format!("other-{i}").as_bytes(), Some("Z"));
        x.properties = crate::protocol::record::encode_properties([("KEYS", "otherkey")]);
        b.put_message(x, false);
    }
    for i in 0..60 {
        a.put_message(msg("T", (i % 3) as i32, &body(1000 + i), Some("A")), false);
    }
    let s = slave(&sd, 4096);
    copy(&b, &s, 0, 777);
    wait_dispatched(&s);
    assert!(!s.query_by_key("T", "otherkey", 64, 0, i64::MAX).messages.is_empty());
    s.truncate_commit_log(common).unwrap();
    assert_eq!(s.commit_log_max_offset() as u64, common);
    assert!(s.query_by_key("T", "otherkey", 64, 0, i64::MAX).messages.is_empty(), "index cut");
    copy(&a, &s, common, 500);
    wait_dispatched(&a);
    wait_dispatched(&s);
    a.flush_waiters();
    assert_eq!(files(&ad.0, "commitlog"), files(&sd.0, "commitlog"));
    same_queues(&a, &s);
    // Cut in the middle of the last record: its first bytes stay, its queue entry goes, and the
    // rest from the master completes it.
    let last = s.commit_log_record_start_before(s.commit_log_max_offset() as u64, 1).unwrap();
    let entries = |s: &MessageStore| (0..3).map(|q| s.max_offset_in_queue("T", q)).sum::<i64>();
    let before = entries(&s);
    s.truncate_commit_log(last + 9).unwrap();
    assert_eq!(s.commit_log_max_offset() as u64, last + 9);
    assert_eq!(entries(&s), before - 1, "the cut record left its queue");
    copy(&a, &s, last + 9, 3);
    wait_dispatched(&s);
    same_queues(&a, &s);
    assert_eq!(files(&ad.0, "commitlog"), files(&sd.0, "commitlog"));
    // The cut survives a restart (the checkpoint was written with it).
    drop(s);
    let s = slave(&sd, 4096);
    same_queues(&a, &s);
}

/// A slave restarting at the master's oldest file: the log and the queues begin at non-zero
/// offsets, also after a restart.
#[test]
fn reset_restarts_the_log_at_a_segment_boundary() {
    let (md, sd) = (TmpDir::new("reset-m"), TmpDir::new("reset-s"));
    let m = master_with_messages(&md, 200);
    let s = slave(&sd, 4096);
    copy(&m, &s, 0, 4096);
    wait_dispatched(&s);
    assert!(s.reset_commit_log(100).is_err(), "not a segment boundary");
    let start = 3 * 4096;
    s.reset_commit_log(start).unwrap();
    s.set_slave_mode(false);
    assert!(s.reset_commit_log(start).is_err(), "only in slave mode");
    s.set_slave_mode(true);
    assert_eq!(
        (s.commit_log_min_offset(), s.commit_log_max_offset()),
        (start as i64, start as i64)
    );
    assert!(s.queues().is_empty());
    assert!(s.query_by_key("T", "ABC", 64, 0, i64::MAX).messages.is_empty());
    copy(&m, &s, start, 1500);
    wait_dispatched(&s);
    wait_dispatched(&m);
    for (t, q) in s.queues() {
        let first = s.min_offset_in_queue(&t, q);
        let r = s.get_messages(&t, q, first, 1000, 1 << 30, &|_| true);
        assert_eq!(r.status, GetStatus::Found);
        let head = crate::protocol::record::decode_record(&r.messages[0], true).unwrap().0;
        assert!(head.physical_offset >= start as i64);
        assert!(head.queue_offset > 0, "{t}/{q} starts mid-way");
        let from_master = m.get_messages(&t, q, head.queue_offset, 1000, 1 << 30, &|_| true);
        assert_eq!(from_master.messages, r.messages, "{t}/{q}: same queue offsets, same bytes");
        assert_eq!(s.max_offset_in_queue(&t, q), m.max_offset_in_queue(&t, q));
    }
    assert!(s.truncate_commit_log(start - 1).is_err(), "below the min offset");
    let slave_files = files(&sd.0, "commitlog");
    assert_eq!(slave_files.first().unwrap().0, format!("{start:020}"));
    let master_files = files(&md.0, "commitlog");
    assert_eq!(&master_files[3..], &slave_files[..]);
    drop(s);
    let s = slave(&sd, 4096);
    assert_eq!(s.commit_log_min_offset(), start as i64);
    assert_eq!(s.commit_log_max_offset(), m.commit_log_max_offset());
    for (t, q) in s.queues() {
        assert_eq!(s.max_offset_in_queue(&t, q), m.max_offset_in_queue(&t, q));
    }
}

fn durable(
    s: &Arc<MessageStore>,
    need: WaitFor,
) -> (PutResult, crossbeam_channel::Receiver<(Durable, Instant)>) {
    let r = s.put_message(msg("D", 0, b"d", None), false);
    assert_eq!(r.status, PutStatus::PutOk);
    let (tx, rx) = crossbeam_channel::bounded(1);
    s.when_durable(&r, need, Box::new(move |d| tx.send((d, Instant::now())).unwrap()));
    (r, rx)
}

#[test]
fn replica_waits_complete_on_ack_or_time_out_and_combine_with_the_flush() {
    let dir = TmpDir::new("durable-async");
    let s = MessageStore::open(cfg(&dir, 1 << 16)).unwrap();
    let replica = |ms| WaitFor { flush: true, replica: Some(Duration::from_millis(ms)) };
    // Nothing to wait for (ASYNC_FLUSH ignores `flush`): answered at once, here.
    let (_, rx) = durable(&s, WaitFor { flush: true, replica: None });
    assert_eq!(rx.try_recv().unwrap().0, Durable::Ok);
    // Acknowledged: only once the ack covers the end offset.
    let (r, rx) = durable(&s, replica(10_000));
    let end = (r.phys_offset + r.wrote_bytes) as u64;
    s.notify_replica_ack(end - 1);
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    s.notify_replica_ack(end);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, Durable::Ok);
    assert_eq!(s.replica_acked_offset(), end);
    s.notify_replica_ack(1);
    assert_eq!(s.replica_acked_offset(), end, "the acknowledged offset only grows");
    // Already acknowledged data: at once.
    let (_, rx) = durable(&s, WaitFor { flush: false, replica: Some(Duration::from_secs(5)) });
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
    // No acknowledgement: FLUSH_SLAVE_TIMEOUT at the timeout.
    let t0 = Instant::now();
    let (_, rx) = durable(&s, replica(200));
    let (d, at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(d, Durable::ReplicaTimeout);
    assert!(
        at - t0 >= Duration::from_millis(200) && at - t0 < Duration::from_secs(2),
        "{:?}",
        at - t0
    );
    // Shutdown answers what is still waiting.
    let (_, rx) = durable(&s, replica(60_000));
    s.flush_waiters();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, Durable::ReplicaTimeout);
}

#[test]
fn sync_flush_and_replica_waits_need_both() {
    let dir = TmpDir::new("durable-sync");
    let mut c = cfg(&dir, 1 << 16);
    c.flush_disk_type = FlushDiskType::Sync;
    c.sync_flush_timeout_ms = 300;
    let s = MessageStore::open(c).unwrap();
    let both = WaitFor { flush: true, replica: Some(Duration::from_secs(5)) };
    // Acked before the flush: answered after the flush, Ok.
    let (r, rx) = durable(&s, both);
    s.notify_replica_ack((r.phys_offset + r.wrote_bytes) as u64);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, Durable::Ok);
    assert!(s.commit_log_flushed_offset() >= r.phys_offset + r.wrote_bytes);
    // Flushed, then acked.
    let (r, rx) = durable(&s, both);
    std::thread::sleep(Duration::from_millis(50));
    assert!(rx.try_recv().is_err(), "flushed but not acknowledged");
    s.notify_replica_ack((r.phys_offset + r.wrote_bytes) as u64);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, Durable::Ok);
    // A flush slower than syncFlushTimeout with the slave acknowledging: FLUSH_DISK_TIMEOUT.
    s.set_flush_delay(1000);
    std::thread::sleep(Duration::from_millis(20));
    let (r, rx) = durable(&s, both);
    s.notify_replica_ack((r.phys_offset + r.wrote_bytes) as u64);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, Durable::FlushTimeout);
    s.set_flush_delay(0);
    // Both fail: the replica's failure wins, as in Apache.
    let (_, rx) = durable(&s, WaitFor { flush: true, replica: Some(Duration::from_millis(100)) });
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, Durable::ReplicaTimeout);
}

#[test]
fn wait_commit_log_beyond_wakes_on_append_and_times_out() {
    let dir = TmpDir::new("growth");
    let s = MessageStore::open(cfg(&dir, 1 << 16)).unwrap();
    let t0 = Instant::now();
    assert_eq!(s.wait_commit_log_beyond(0, Duration::from_millis(50)), 0);
    assert!(t0.elapsed() >= Duration::from_millis(50));
    let s2 = s.clone();
    let h = std::thread::spawn(move || {
        let t = Instant::now();
        (s2.wait_commit_log_beyond(0, Duration::from_secs(30)), t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(50));
    let r = s.put_message(msg("G", 0, b"g", None), false);
    let (max, took) = h.join().unwrap();
    assert_eq!(max, r.wrote_bytes as u64);
    assert!(took < Duration::from_secs(10), "woken by the append: {took:?}");
}

/// A slave turned master at run time: a record the master had only partly sent is cut, and
/// puts continue the replicated queue offsets.
#[test]
fn leaving_slave_mode_cuts_a_partial_record_and_continues_queue_offsets() {
    let (md, sd) = (TmpDir::new("leave-m"), TmpDir::new("leave-s"));
    let m = master_with_messages(&md, 30);
    let s = slave(&sd, 4096);
    let max = m.commit_log_max_offset() as u64;
    let last = m.commit_log_record_start_before(max, 1).unwrap();
    let mut off = 0;
    while off < last + 10 {
        let d = m.commit_log_data(off, (last + 10 - off) as usize).unwrap();
        s.append_replicated(off, &d).unwrap();
        off += d.len() as u64;
    }
    s.set_slave_mode(false);
    assert_eq!(s.commit_log_max_offset() as u64, last, "the partial record is cut");
    wait_dispatched(&m);
    // The master's last record is T/2's last message: its queue offset is taken again.
    let expect = m.max_offset_in_queue("T", 2) - 1;
    let r = s.put_message(msg("T", 2, b"as master", None), false);
    assert_eq!(r.status, PutStatus::PutOk);
    assert_eq!((r.phys_offset as u64, r.queue_offset), (last, expect));
    wait_dispatched(&s);
    for (t, q) in s.queues() {
        let got = all(&s, &t, q);
        let offsets: Vec<i64> = got.iter().map(|x| x.queue_offset).collect();
        assert_eq!(offsets, (0..got.len() as i64).collect::<Vec<_>>(), "{t}/{q} has no gap");
    }
}

/// The slave's replication thread appends without dispatching, reports, then dispatches:
/// `dispatch_replicated` indexes every complete record before it returns, and a record a frame
/// ended inside is indexed once the next frame completes it.
#[test]
fn undispatched_appends_are_indexed_by_dispatch_replicated_including_split_records() {
    let (md, sd) = (TmpDir::new("repl-um"), TmpDir::new("repl-us"));
    let m = MessageStore::open(cfg(&md, 1 << 20)).unwrap();
    for i in 0..3 {
        assert_eq!(m.put_message(msg("T", 0, &body(i), None), false).status, PutStatus::PutOk);
    }
    let s = slave(&sd, 1 << 20);
    let all = m.commit_log_data(0, 1 << 20).unwrap();
    let second = m.commit_log_record_end(0).unwrap() as usize;
    // The first frame ends inside the second record.
    let cut = second + 10;
    s.append_replicated_undispatched(0, &all[..cut]).unwrap();
    s.dispatch_replicated();
    assert_eq!(s.max_offset_in_queue("T", 0), 1, "only the complete record");
    s.append_replicated_undispatched(cut as u64, &all[cut..]).unwrap();
    s.dispatch_replicated();
    assert_eq!(s.max_offset_in_queue("T", 0), 3);
    same_queues(&m, &s);
}
