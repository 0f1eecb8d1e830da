//! Issue 3: torn tail at process level. Stop a broker, cut (zero) or corrupt the last bytes of
//! the commit log, restart: every message before the damage is served, none after, and new sends
//! append right after the last good message.

use crate::retention::{pull_all, send};
use crate::util::{Cluster, TestDir};
use rmq::protocol::codes::response as rs;
use rmq::remoting::RemotingClient;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};

fn body(round: usize, i: usize) -> Vec<u8> {
    format!("round{round}-msg-{i}-{}", "z".repeat(i % 90)).into_bytes()
}

/// Commit-log offset encoded in an offset message id (its last 16 hex digits).
fn phys_of(msg_id: &str) -> u64 {
    u64::from_str_radix(&msg_id[msg_id.len() - 16..], 16).unwrap()
}

fn patch(path: &std::path::Path, at: u64, f: impl FnOnce(&mut [u8])) {
    let mut file = OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut buf = vec![0u8; 64];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut buf).unwrap();
    f(&mut buf);
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&buf).unwrap();
    file.sync_all().unwrap();
}

#[test]
fn torn_or_corrupt_tail_is_cut_and_appends_continue() {
    let dir = TestDir::new("torn");
    let mut cluster = Cluster::start(&dir.path, &["--mapedFileSizeCommitLog=1048576"]);
    let c = RemotingClient::new();
    let seg = dir.path.join("store/commitlog/00000000000000000000");
    let mut expected: Vec<Vec<u8>> = Vec::new();
    // Round 0: zero the last 7 bytes of the newest record (a cut write).
    // Round 1: flip one byte inside the newest record's body (corruption).
    // Round 2: zero the newest record's whole header (a torn first page).
    for round in 0..3 {
        let addr = cluster.broker_addr();
        let mut last_id = String::new();
        for i in 0..40 {
            let b = body(round, i);
            let r = send(&c, &addr, "TornTopic", 0, b.clone());
            assert_eq!(r.code, rs::SUCCESS);
            assert_eq!(r.i64_field("queueOffset").unwrap(), expected.len() as i64);
            last_id = r.field("msgId").unwrap().to_string();
            expected.push(b);
        }
        cluster.broker.stop();
        let at = phys_of(&last_id);
        let lost = expected.pop().unwrap();
        match round {
            0 => {
                // The record ends with its properties; find its end from the size field.
                let mut size = [0u8; 4];
                let mut f = std::fs::File::open(&seg).unwrap();
                f.seek(SeekFrom::Start(at)).unwrap();
                f.read_exact(&mut size).unwrap();
                let end = at + u32::from_be_bytes(size) as u64;
                patch(&seg, end - 7, |b| b[..7].fill(0));
            }
            1 => {
                let mut buf = vec![0u8; 400];
                let mut f = std::fs::File::open(&seg).unwrap();
                f.seek(SeekFrom::Start(at)).unwrap();
                f.read_exact(&mut buf).unwrap();
                let pos = buf.windows(lost.len()).position(|w| w == &lost[..]).unwrap();
                patch(&seg, at + pos as u64 + 3, |b| b[0] ^= 0x40);
            }
            _ => patch(&seg, at, |b| b[..32].fill(0)),
        }
        cluster.restart_broker();
        let addr = cluster.broker_addr();
        let got = pull_all(&c, &addr, "TornTopic", 0, 0);
        let bodies: Vec<Vec<u8>> = got.iter().map(|(_, b)| b.clone()).collect();
        assert_eq!(bodies.len(), expected.len(), "round {round}");
        assert!(bodies == expected, "round {round}: served bodies differ");
        for (k, (qo, _)) in got.iter().enumerate() {
            assert_eq!(*qo, k as i64);
        }
        // The next send takes the damaged record's place.
        let b = format!("round{round}-after").into_bytes();
        let r = send(&c, &addr, "TornTopic", 0, b.clone());
        assert_eq!(r.code, rs::SUCCESS);
        assert_eq!(r.i64_field("queueOffset").unwrap(), expected.len() as i64);
        assert_eq!(phys_of(r.field("msgId").unwrap()), at);
        expected.push(b);
        // Dispatch to the consume queue is asynchronous: wait until the new message is indexed.
        let mut got = Vec::new();
        crate::util::wait_until(std::time::Duration::from_secs(10), || {
            got = pull_all(&c, &addr, "TornTopic", 0, 0);
            got.len() >= expected.len()
        });
        assert_eq!(got.len(), expected.len());
        assert_eq!(got.last().unwrap().1, *expected.last().unwrap());
    }
}
