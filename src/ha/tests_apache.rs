//! Byte compatibility with Apache's classic HA protocol (issue 11): no Java broker runs here, so
//! each test plays one side by hand over a raw socket, exactly as Apache's code does
//! (HAService.HAClient for a slave; HAConnection's ReadSocketService and WriteSocketService for
//! a master), and checks the bytes.

use super::tests::*;
use super::*;
use crate::store::MessageStore;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn read_frame(s: &mut TcpStream) -> (u64, Vec<u8>) {
    let mut h = [0u8; 12];
    s.read_exact(&mut h).unwrap();
    let offset = i64::from_be_bytes(h[..8].try_into().unwrap());
    let size = i32::from_be_bytes(h[8..].try_into().unwrap());
    assert!(offset >= 0 && size >= 0, "header {h:?}");
    let mut body = vec![0u8; size as usize];
    s.read_exact(&mut body).unwrap();
    (offset as u64, body)
}

/// The master's whole log `[from, to)` as one byte string, from its files.
fn log_bytes(m: &MessageStore, from: u64, to: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while (from + out.len() as u64) < to {
        let d = m.commit_log_data(from + out.len() as u64, 1 << 20).unwrap();
        assert!(!d.is_empty());
        out.extend_from_slice(&d);
    }
    out.truncate((to - from) as usize);
    out
}

/// An Apache slave (HAClient) follows an rmq master: it reports 8-byte offsets, parses 12-byte
/// headers, and gets exactly the master's bytes, never a frame across a file.
#[test]
fn an_apache_slave_follows_the_rmq_master() {
    let md = TmpDir::new("apache-slave");
    let m = open(&md);
    fill(&m, 120, "a");
    let cfg = HaConfig { housekeeping_interval: Duration::from_secs(1), ..ha_cfg() };
    let ha = HaService::start(m.clone(), loopback(), cfg).unwrap();
    let mut s = TcpStream::connect(ha.local_addr()).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    // An empty Apache slave reports 0 (HAClient.reportSlaveMaxOffset: putLong(0)).
    s.write_all(&[0u8; 8]).unwrap();
    let max = m.commit_log_max_offset() as u64;
    let mut got = Vec::new();
    while (got.len() as u64) < max {
        let (offset, body) = read_frame(&mut s);
        if body.is_empty() {
            continue;
        }
        assert_eq!(offset, got.len() as u64, "frames are contiguous from the min offset 0");
        assert!(body.len() <= 1000, "haTransferBatchSize");
        assert_eq!(offset / SEG, (offset + body.len() as u64 - 1) / SEG, "never across a file");
        got.extend_from_slice(&body);
    }
    assert_eq!(got, log_bytes(&m, 0, max), "the master's bytes, BLANK tails included");
    // Caught up: a heartbeat, 12 bytes, offset = the master's end, size 0.
    let mut h = [0u8; 12];
    s.read_exact(&mut h).unwrap();
    let mut want = (max as i64).to_be_bytes().to_vec();
    want.extend_from_slice(&0i32.to_be_bytes());
    assert_eq!(h.to_vec(), want);
    // Acknowledge (HAClient reports its max after each append): the master records it.
    s.write_all(&(max as i64).to_be_bytes()).unwrap();
    assert!(wait_until(T, || m.replica_acked_offset() == max));
    assert_eq!(ha.slave_states()[0].acked_offset, max);
    // New data arrives as the next frame, exactly at the old end.
    let r = m.put_message(msg("T", 0, b"one more", "k"), false);
    assert_eq!(r.phys_offset as u64, max);
    let (offset, body) = loop {
        let f = read_frame(&mut s);
        if !f.1.is_empty() {
            break f;
        }
        assert_eq!(f.0, max, "heartbeats carry the transfer position");
    };
    assert_eq!((offset, body), (max, m.look_message_by_offset(r.phys_offset).unwrap()));
    // A slave that stops reporting is dropped after haHousekeepingInterval.
    let mut rest = Vec::new();
    let t0 = std::time::Instant::now();
    let _ = s.read_to_end(&mut rest);
    assert!(t0.elapsed() < Duration::from_secs(10), "the master closed the connection");
    assert!(wait_until(T, || ha.slave_states().is_empty()), "silent slave not dropped");
    for chunk in rest.chunks(12).filter(|c| c.len() == 12) {
        assert_eq!(&chunk[8..], &[0, 0, 0, 0], "only heartbeats after the last data");
    }
}

/// An Apache slave with data reports its max and gets frames from exactly there; one past the
/// master's end gets a heartbeat carrying the master's end (Apache's own master would send
/// heartbeats at the slave's offset, and its slave would wait for ever).
#[test]
fn an_apache_slave_with_data_starts_at_its_own_offset() {
    let md = TmpDir::new("apache-slave-offset");
    let m = open(&md);
    let r = fill(&m, 50, "a");
    let ha = HaService::start(m.clone(), loopback(), ha_cfg()).unwrap();
    let at = r.phys_offset as u64;
    let mut s = TcpStream::connect(ha.local_addr()).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s.write_all(&(at as i64).to_be_bytes()).unwrap();
    let (offset, body) = read_frame(&mut s);
    assert_eq!(offset, at);
    assert_eq!(body, log_bytes(&m, at, at + body.len() as u64));
    let max = m.commit_log_max_offset() as u64;
    let mut ahead = TcpStream::connect(ha.local_addr()).unwrap();
    ahead.set_read_timeout(Some(T)).unwrap();
    ahead.write_all(&((max + 100) as i64).to_be_bytes()).unwrap();
    assert_eq!(read_frame(&mut ahead), (max, Vec::new()));
    assert!(wait_until(T, || ha.slave_states().len() == 2));
    assert!(ha.slave_states().iter().any(|x| x.transfer_start.is_none()), "ahead: no transfer");
    assert!(ha.in_sync_slave_available(max), "the first slave is being sent the log");
    assert_eq!(m.replica_acked_offset(), 0, "reports that received nothing acknowledge nothing");
}

/// Apache's WriteSocketService for a slave reporting `report`, by hand: frames of at most
/// `batch` bytes from `from`, never across a file, then a heartbeat at the end.
fn apache_send(c: &mut TcpStream, src: &MessageStore, from: u64, batch: usize) -> u64 {
    let max = src.commit_log_max_offset() as u64;
    let mut pos = from;
    while pos < max {
        let data = src.commit_log_data(pos, batch).unwrap();
        let mut frame = (pos as i64).to_be_bytes().to_vec();
        frame.extend_from_slice(&(data.len() as i32).to_be_bytes());
        frame.extend_from_slice(&data);
        c.write_all(&frame).unwrap();
        pos += data.len() as u64;
    }
    let mut hb = (pos as i64).to_be_bytes().to_vec();
    hb.extend_from_slice(&0i32.to_be_bytes());
    c.write_all(&hb).unwrap();
    pos
}

/// Read 8-byte reports (each one exactly 8 bytes, big-endian) until one equals `want`.
fn wait_report(c: &mut TcpStream, want: u64) {
    loop {
        let mut b = [0u8; 8];
        c.read_exact(&mut b).unwrap();
        let v = i64::from_be_bytes(b);
        assert!(v >= 0 && v as u64 <= want, "report {v} beyond what was sent ({want})");
        if v as u64 == want {
            return;
        }
    }
}

/// The rmq slave follows an Apache master played by hand: it reports 0 when empty, takes the
/// last file (what Apache sends for 0), reports its max after appends, survives heartbeats,
/// and after a reconnect reports its last record's start, which an Apache master sends from.
#[test]
fn the_rmq_slave_follows_an_apache_master() {
    let (md, sd) = (TmpDir::new("apache-master-src"), TmpDir::new("apache-master-s"));
    let src = open(&md);
    fill(&src, 150, "a");
    let listener = TcpListener::bind(loopback()).unwrap();
    let s = open(&sd);
    let client =
        SlaveClient::start(s.clone(), ha_cfg(), Some(&listener.local_addr().unwrap().to_string()))
            .unwrap();
    let (mut c, _) = listener.accept().unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    let mut first = [0u8; 8];
    c.read_exact(&mut first).unwrap();
    assert_eq!(first, [0u8; 8], "an empty slave reports 0");
    // Apache's master answers 0 with the start of its last file.
    let max = src.commit_log_max_offset() as u64;
    let last_file = max - max % SEG;
    assert!(last_file >= 2 * SEG);
    let end = apache_send(&mut c, &src, last_file, 32 * 1024);
    wait_report(&mut c, end);
    assert!(wait_until(T, || s.dispatch_behind_bytes() == 0 && src.dispatch_behind_bytes() == 0));
    assert_eq!(s.commit_log_min_offset() as u64, last_file);
    let (a, b) = (log_files(&md.0), log_files(&sd.0));
    assert_eq!(b.as_slice(), &a[a.len() - 1..], "the slave holds the master's last file");
    // Heartbeats keep the connection: the slave still reports its max every interval.
    let mut hb = (end as i64).to_be_bytes().to_vec();
    hb.extend_from_slice(&0i32.to_be_bytes());
    c.write_all(&hb).unwrap();
    wait_report(&mut c, end);
    assert!(client.status().streaming);
    // The master goes away and comes back; more data was written meanwhile.
    drop(c);
    fill(&src, 60, "b");
    let (mut c, _) = listener.accept().unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    let mut report = [0u8; 8];
    c.read_exact(&mut report).unwrap();
    let p = i64::from_be_bytes(report) as u64;
    assert_eq!(Some(p), s.commit_log_record_start_before(end, 1), "its last record's start");
    let end = apache_send(&mut c, &src, p, 1000);
    wait_report(&mut c, end);
    assert!(wait_until(T, || s.dispatch_behind_bytes() == 0 && src.dispatch_behind_bytes() == 0));
    let (a, b) = (log_files(&md.0), log_files(&sd.0));
    assert_eq!(b.as_slice(), &a[a.len() - b.len()..]);
    for (t, q) in s.queues() {
        let mut off = s.min_offset_in_queue(&t, q);
        while off < s.max_offset_in_queue(&t, q) {
            let x = s.get_messages(&t, q, off, 32, 1 << 20, &|_| true);
            let y = src.get_messages(&t, q, off, 32, 1 << 20, &|_| true);
            assert_eq!((x.messages, x.next_begin_offset), (y.messages, y.next_begin_offset));
            off = x.next_begin_offset;
        }
        assert_eq!(s.max_offset_in_queue(&t, q), src.max_offset_in_queue(&t, q));
    }
}
