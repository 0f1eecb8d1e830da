//! Delayed messages (CommitLog's delay rewrite + ScheduleMessageService).
//!
//! A message with the `DELAY` property (level ≥ 1), or a send-back with a delay level, is stored
//! in `SCHEDULE_TOPIC_XXXX`, queue `level - 1`, with its real destination kept in the `REAL_TOPIC`
//! and `REAL_QID` properties. The rewrite happens here in the broker, before the store, so the
//! store stays generic. The `broker-schedule` service scans each level's queue in order: a
//! message is due at its store timestamp plus the level's delay (all messages of one level have
//! the same delay, so the first one not yet due ends the scan of that level). Due messages are
//! re-put to their real topic and queue (keeping `DELAY`, `REAL_TOPIC` and `REAL_QID` in the
//! stored properties, as Apache's copy does). The next offset per level is kept in
//! `config/delayOffset.json` (`{"offsetTable":{1:5,3:0}}`, Apache's shape), written after every
//! round that delivered something and at stop, so a clean restart neither loses nor repeats a
//! delivery; after a crash at most the last round's deliveries repeat (at least once).

use super::topics::SCHEDULE_TOPIC;
use crate::common::fs::{read_optional, write_atomic};
use crate::protocol::record::sysflag;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Property holding the delay level.
pub const PROPERTY_DELAY: &str = "DELAY";
/// Property holding the real topic of a scheduled message.
pub const PROPERTY_REAL_TOPIC: &str = "REAL_TOPIC";
/// Property holding the real queue id of a scheduled message.
pub const PROPERTY_REAL_QID: &str = "REAL_QID";

/// If `props` carries a delay level ≥ 1 and the message is not a transaction half or rollback,
/// move it to the schedule topic: returns the new (topic, queue id) and adds `REAL_TOPIC` /
/// `REAL_QID` to `props` (a level beyond the last is clamped to it, as Apache does).
pub fn apply_delay(
    levels: usize,
    topic: &str,
    queue_id: i32,
    sys_flag: i32,
    props: &mut Vec<(String, String)>,
) -> Option<(String, i32)> {
    let tx = sysflag::transaction_type(sys_flag);
    if tx != sysflag::TRANSACTION_NOT && tx != sysflag::TRANSACTION_COMMIT {
        return None;
    }
    let level: i64 =
        props.iter().rev().find(|(k, _)| k == PROPERTY_DELAY)?.1.trim().parse().ok()?;
    if level <= 0 || levels == 0 {
        return None;
    }
    let level = level.min(levels as i64);
    props
        .retain(|(k, _)| k != PROPERTY_DELAY && k != PROPERTY_REAL_TOPIC && k != PROPERTY_REAL_QID);
    props.push((PROPERTY_DELAY.into(), level.to_string()));
    props.push((PROPERTY_REAL_TOPIC.into(), topic.to_string()));
    props.push((PROPERTY_REAL_QID.into(), queue_id.to_string()));
    Some((SCHEDULE_TOPIC.to_string(), (level - 1) as i32))
}

/// Next offset to deliver per delay level, persisted as `delayOffset.json`.
pub struct DelayOffsets {
    path: PathBuf,
    table: Mutex<BTreeMap<i32, i64>>,
}

impl DelayOffsets {
    /// Load `delayOffset.json` under `config_dir`.
    pub fn open(config_dir: PathBuf) -> std::io::Result<Self> {
        let path = config_dir.join("delayOffset.json");
        let mut table = BTreeMap::new();
        if let Some(text) = read_optional(&path)? {
            table = decode_offsets(text.as_bytes()).map_err(|e| {
                std::io::Error::other(format!("{} is not valid: {}", path.display(), e))
            })?;
        }
        Ok(DelayOffsets { path, table: Mutex::new(table) })
    }

    /// The next offset of `level` (0 when never delivered).
    pub fn get(&self, level: i32) -> i64 {
        self.table.lock().get(&level).copied().unwrap_or(0)
    }

    /// Record the next offset of `level`.
    pub fn set(&self, level: i32, offset: i64) {
        self.table.lock().insert(level, offset);
    }

    /// Apache's text: `{"offsetTable":{1:5,2:0}}` (fastjson's bare numeric keys).
    pub fn encode(&self) -> String {
        let t = self.table.lock();
        let items: Vec<String> = t.iter().map(|(l, o)| format!("{l}:{o}")).collect();
        format!("{{\"offsetTable\":{{{}}}}}", items.join(","))
    }

    /// A slave takes its master's table (GET_ALL_DELAY_OFFSET's body), in memory and on disk
    /// (Apache's SlaveSynchronize.syncDelayOffset only writes the file). Returns true if it
    /// changed.
    pub fn replace_from_master(&self, text: &[u8]) -> Result<bool, String> {
        let master = decode_offsets(text)?;
        {
            let mut t = self.table.lock();
            if *t == master {
                return Ok(false);
            }
            *t = master;
        }
        self.persist();
        Ok(true)
    }

    /// Write the table atomically.
    pub fn persist(&self) {
        if let Err(e) = write_atomic(&self.path, self.encode().as_bytes()) {
            log::error!("cannot persist delay offsets path={} err={}", self.path.display(), e);
        }
    }
}

/// `{"offsetTable":{1:5,2:0}}` to the table.
fn decode_offsets(text: &[u8]) -> Result<BTreeMap<i32, i64>, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        #[serde(default)]
        offset_table: BTreeMap<String, i64>,
    }
    let f: File = crate::protocol::json::from_fastjson(text).map_err(|e| e.to_string())?;
    Ok(f.offset_table
        .into_iter()
        .filter_map(|(k, o)| k.trim().parse::<i32>().ok().map(|l| (l, o)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn delay_rewrite_clamps_and_keeps_real_destination() {
        let mut p = props(&[("TAGS", "A"), ("DELAY", "3")]);
        assert_eq!(apply_delay(18, "T", 2, 0, &mut p), Some((SCHEDULE_TOPIC.to_string(), 2)));
        assert!(p.contains(&("REAL_TOPIC".into(), "T".into())));
        assert!(p.contains(&("REAL_QID".into(), "2".into())));
        let mut p = props(&[("DELAY", "99")]);
        assert_eq!(apply_delay(5, "T", 0, 0, &mut p), Some((SCHEDULE_TOPIC.to_string(), 4)));
        assert!(p.contains(&("DELAY".into(), "5".into())));
        for v in ["0", "-1", "x"] {
            let mut p = props(&[("DELAY", v)]);
            assert_eq!(apply_delay(18, "T", 0, 0, &mut p), None);
        }
        let mut p = props(&[("TAGS", "A")]);
        assert_eq!(apply_delay(18, "T", 0, 0, &mut p), None);
        // A prepared transaction half is never delayed.
        let mut p = props(&[("DELAY", "2")]);
        let prepared = sysflag::TRANSACTION_PREPARED;
        assert_eq!(apply_delay(18, "T", 0, prepared, &mut p), None);
    }

    #[test]
    fn delay_offsets_round_trip_in_apache_shape() {
        let dir = std::env::temp_dir().join(format!("rmq-delayoff-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = DelayOffsets::open(dir.clone()).unwrap();
        d.set(1, 5);
        d.set(3, 12);
        d.persist();
        let text = std::fs::read_to_string(dir.join("delayOffset.json")).unwrap();
        assert_eq!(text, r#"{"offsetTable":{1:5,3:12}}"#);
        let d2 = DelayOffsets::open(dir.clone()).unwrap();
        assert_eq!((d2.get(1), d2.get(2), d2.get(3)), (5, 0, 12));
        assert_eq!(d2.replace_from_master(br#"{"offsetTable":{2:9}}"#), Ok(true));
        assert_eq!((d2.get(1), d2.get(2)), (0, 9));
        assert_eq!(d2.replace_from_master(br#"{"offsetTable":{2:9}}"#), Ok(false));
        assert_eq!(DelayOffsets::open(dir.clone()).unwrap().get(2), 9);
        let _ = std::fs::remove_dir_all(dir);
    }
}
