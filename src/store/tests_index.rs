//! Index through the store: crash recovery cuts index entries with the log, a damaged index file
//! is rebuilt from the commit log (issue 3).

use super::*;

fn keyed(i: usize, key: &str) -> PutMessage {
    let mut m = msg("I", (i % 2) as i32, format!("body-{i}").as_bytes(), None);
    let uniq = format!("U{i}");
    m.properties = encode_properties([("KEYS", key), ("UNIQ_KEY", uniq.as_str())]);
    m
}

fn small(dir: &TmpDir) -> StoreConfig {
    StoreConfig { max_hash_slot_num: 8, max_index_num: 16, ..cfg(dir, 1 << 16) }
}

fn bodies(s: &MessageStore, key: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .query_by_key("I", key, 64, 0, i64::MAX)
        .messages
        .iter()
        .map(|m| String::from_utf8(decode_record(m, true).unwrap().0.body).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn index_survives_torn_tail_and_rebuilds_damaged_files() {
    let dir = TmpDir::new("index");
    let s = MessageStore::open(small(&dir)).unwrap();
    let mut last = 0;
    for i in 0..30 {
        last = s.put_message(keyed(i, if i % 2 == 0 { "even" } else { "odd" }), false).phys_offset;
    }
    wait_dispatched(&s);
    assert_eq!(bodies(&s, "odd").len(), 15);
    assert_eq!(bodies(&s, "U29"), vec!["body-29".to_string()]);
    assert!(s.index_file_count() >= 4);
    s.crash();
    drop(s);
    // Tear the last record: its index entries must go too, and its offset gets reused.
    patch_file(&segments(&dir)[0], last as u64 + 30, &[0xFF; 4]);
    let s = MessageStore::open(small(&dir)).unwrap();
    assert!(bodies(&s, "U29").is_empty());
    assert_eq!(bodies(&s, "odd").len(), 14);
    let r = s.put_message(keyed(99, "odd"), false);
    assert_eq!(r.phys_offset, last);
    wait_dispatched(&s);
    assert_eq!(bodies(&s, "U99"), vec!["body-99".to_string()]);
    assert_eq!(bodies(&s, "odd").len(), 15);
    wait_dispatched(&s);
    s.crash();
    drop(s);
    // After a crash the newest index file is checked in full: zeroed slots (a torn page) make it
    // damaged, so it is deleted and rebuilt from the commit log.
    let newest =
        std::fs::read_dir(dir.0.join("index")).unwrap().map(|e| e.unwrap().path()).max().unwrap();
    patch_file(&newest, 40, &[0u8; 32]);
    let s = MessageStore::open(small(&dir)).unwrap();
    wait_dispatched(&s);
    let mut even: Vec<String> = (0..30).step_by(2).map(|i| format!("body-{i}")).collect();
    even.sort();
    assert_eq!(bodies(&s, "even"), even);
    assert_eq!(bodies(&s, "U99"), vec!["body-99".to_string()]);
    assert_eq!(bodies(&s, "odd").len(), 15);
}
