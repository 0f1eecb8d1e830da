//! Consumer offsets (ConsumerOffsetManager): `topic@group` → queue id → offset, persisted to
//! `config/consumerOffset.json` in Apache's shape, bare numeric queue-id keys included (§5.7).

use crate::common::fs::{read_optional, write_atomic};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

type Table = BTreeMap<String, BTreeMap<i32, i64>>;

/// The broker's committed consumer offsets.
pub struct OffsetManager {
    path: PathBuf,
    table: RwLock<Table>,
    dirty: AtomicBool,
    /// On a slave: the `(topic@group, queue)` entries clients committed here (while the master
    /// was away) that the master has not caught up with yet; the copy from the master does not
    /// lower them (see [`OffsetManager::merge_from_master`]).
    local: Mutex<BTreeSet<(String, i32)>>,
    track_local: AtomicBool,
}

fn key(topic: &str, group: &str) -> String {
    format!("{topic}@{group}")
}

impl OffsetManager {
    /// Load `consumerOffset.json` under `config_dir`.
    pub fn open(config_dir: PathBuf) -> std::io::Result<Self> {
        let path = config_dir.join("consumerOffset.json");
        let mut table = Table::new();
        if let Some(text) = read_optional(&path)? {
            table = decode(text.as_bytes()).map_err(|e| {
                std::io::Error::other(format!("{} is not valid: {}", path.display(), e))
            })?;
        }
        Ok(OffsetManager {
            path,
            table: RwLock::new(table),
            dirty: AtomicBool::new(false),
            local: Mutex::new(BTreeSet::new()),
            track_local: AtomicBool::new(false),
        })
    }

    /// Commit an offset.
    pub fn commit(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        self.table.write().entry(key(topic, group)).or_default().insert(queue_id, offset);
        self.dirty.store(true, Ordering::Release);
    }

    /// A slave remembers the offsets its clients commit (UPDATE_CONSUMER_OFFSET), so the copy
    /// from a master that was away does not lower them.
    pub fn track_local_commits(&self, on: bool) {
        self.track_local.store(on, Ordering::Release);
    }

    /// Commit an offset a client sent (UPDATE_CONSUMER_OFFSET).
    pub fn commit_by_client(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        self.commit(group, topic, queue_id, offset);
        if self.track_local.load(Ordering::Acquire) {
            self.local.lock().insert((key(topic, group), queue_id));
        }
    }

    /// The committed offset, if any.
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.table.read().get(&key(topic, group)).and_then(|m| m.get(&queue_id)).copied()
    }

    /// Drop every offset of `group` (ConsumerOffsetManager.removeOffset, used by
    /// DELETE_SUBSCRIPTIONGROUP with removeOffset=true); returns how many topics it had.
    pub fn remove_group(&self, group: &str) -> usize {
        let mut t = self.table.write();
        let before = t.len();
        t.retain(|k, _| {
            let mut parts = k.split('@');
            !(parts.next().is_some() && parts.next() == Some(group) && parts.next().is_none())
        });
        let removed = before - t.len();
        if removed > 0 {
            self.dirty.store(true, Ordering::Release);
            log::warn!("clean group offset group={} topics={}", group, removed);
        }
        removed
    }

    /// Offsets of a group on a topic.
    pub fn group_topic(&self, group: &str, topic: &str) -> BTreeMap<i32, i64> {
        self.table.read().get(&key(topic, group)).cloned().unwrap_or_default()
    }

    /// Topics `group` has committed offsets for (whichTopicByConsumer).
    pub fn topics_of(&self, group: &str) -> std::collections::BTreeSet<String> {
        let t = self.table.read();
        t.keys()
            .filter_map(|k| k.rsplit_once('@'))
            .filter(|(_, g)| *g == group)
            .map(|(topic, _)| topic.to_string())
            .collect()
    }

    /// Groups with committed offsets on `topic` (whichGroupByTopic).
    pub fn groups_of(&self, topic: &str) -> std::collections::BTreeSet<String> {
        let t = self.table.read();
        t.keys()
            .filter_map(|k| k.split_once('@'))
            .filter(|(tp, _)| *tp == topic)
            .map(|(_, g)| g.to_string())
            .collect()
    }

    /// Apache's file text: `{"offsetTable":{"T@G":{0:12,1:7}}}`.
    pub fn encode(&self) -> String {
        let t = self.table.read();
        let mut out = String::from("{\"offsetTable\":{");
        for (i, (k, m)) in t.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push_str(":{");
            for (j, (q, o)) in m.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{q}:{o}"));
            }
            out.push('}');
        }
        out.push_str("}}");
        out
    }

    /// A slave takes its master's offsets (SlaveSynchronize.syncConsumerOffset): every
    /// `topic@group` of `text` (GET_ALL_CONSUMER_OFFSET's body) replaces the slave's, the others
    /// stay; except that a queue whose offset a client committed here and the master has not
    /// reached yet keeps the slave's (Apache's slave takes the returning master's stale offsets,
    /// and its consumers get everything since again). Returns how many entries changed.
    pub fn merge_from_master(&self, text: &[u8]) -> Result<usize, String> {
        let master = decode(text)?;
        let mut changed = 0;
        {
            let mut t = self.table.write();
            let mut local = self.local.lock();
            for (k, m) in master {
                let mine = t.entry(k.clone()).or_default();
                for (q, o) in m {
                    let id = (k.clone(), q);
                    if local.contains(&id) {
                        if mine.get(&q).is_some_and(|&own| own > o) {
                            continue;
                        }
                        local.remove(&id);
                    }
                    if mine.insert(q, o) != Some(o) {
                        changed += 1;
                    }
                }
            }
        }
        if changed > 0 {
            self.dirty.store(true, Ordering::Release);
            self.persist(false);
        }
        Ok(changed)
    }

    /// A master back from an absence takes every offset of `text` (a slave's
    /// GET_ALL_CONSUMER_OFFSET body) that is ahead of its own: consumers committed them to the
    /// slave meanwhile. Returns how many it took.
    pub fn take_over_higher(&self, text: &[u8]) -> Result<usize, String> {
        let slave = decode(text)?;
        let mut took = 0;
        {
            let mut t = self.table.write();
            for (k, m) in slave {
                let mine = t.entry(k).or_default();
                for (q, o) in m {
                    if mine.get(&q).is_none_or(|&own| own < o) {
                        mine.insert(q, o);
                        took += 1;
                    }
                }
            }
        }
        if took > 0 {
            self.dirty.store(true, Ordering::Release);
            self.persist(false);
        }
        Ok(took)
    }

    /// Persist if anything changed since the last call (or always when `force`).
    pub fn persist(&self, force: bool) {
        if !self.dirty.swap(false, Ordering::AcqRel) && !force {
            return;
        }
        if let Err(e) = write_atomic(&self.path, self.encode().as_bytes()) {
            self.dirty.store(true, Ordering::Release);
            log::error!("cannot persist consumer offsets path={} err={}", self.path.display(), e);
        }
    }
}

/// Apache's text (the file, GET_ALL_CONSUMER_OFFSET's body) to the table.
fn decode(text: &[u8]) -> Result<Table, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        #[serde(default)]
        offset_table: BTreeMap<String, BTreeMap<String, i64>>,
    }
    let f: File = crate::protocol::json::from_fastjson(text).map_err(|e| e.to_string())?;
    Ok(f.offset_table
        .into_iter()
        .map(|(k, m)| {
            let inner =
                m.into_iter().filter_map(|(q, o)| q.trim().parse().ok().map(|q| (q, o))).collect();
            (k, inner)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persist_and_reload_with_bare_keys() {
        let dir = std::env::temp_dir().join(format!("rmq-offsets-{}", std::process::id()));
        let m = OffsetManager::open(dir.clone()).unwrap();
        m.commit("G", "T", 0, 12);
        m.commit("G", "T", 3, 7);
        m.persist(false);
        let text = std::fs::read_to_string(dir.join("consumerOffset.json")).unwrap();
        assert_eq!(text, r#"{"offsetTable":{"T@G":{0:12,3:7}}}"#);
        let m2 = OffsetManager::open(dir.clone()).unwrap();
        assert_eq!(m2.query("G", "T", 3), Some(7));
        assert_eq!(m2.query("G", "T", 1), None);
        // A slave takes the master's entries and keeps its others.
        m2.commit("G2", "T", 0, 4);
        assert_eq!(m2.merge_from_master(br#"{"offsetTable":{"T@G":{0:20,3:7}}}"#), Ok(1));
        assert_eq!((m2.query("G", "T", 0), m2.query("G2", "T", 0)), (Some(20), Some(4)));
        assert_eq!(m2.merge_from_master(br#"{"offsetTable":{"T@G":{0:20,3:7}}}"#), Ok(0));
        assert!(m2.merge_from_master(b"{").is_err());
        // A client's commit on the slave outlives a stale master until the master reaches it;
        // after that the master's word counts again (an offset reset).
        m2.track_local_commits(true);
        m2.commit_by_client("G", "T", 0, 50);
        assert_eq!(m2.merge_from_master(br#"{"offsetTable":{"T@G":{0:20}}}"#), Ok(0));
        assert_eq!(m2.query("G", "T", 0), Some(50));
        assert_eq!(m2.merge_from_master(br#"{"offsetTable":{"T@G":{0:50}}}"#), Ok(0));
        assert_eq!(m2.merge_from_master(br#"{"offsetTable":{"T@G":{0:5}}}"#), Ok(1));
        assert_eq!(m2.query("G", "T", 0), Some(5));
        // A returning master takes only what is ahead of its own.
        assert_eq!(m2.take_over_higher(br#"{"offsetTable":{"T@G":{0:9,3:1},"T@H":{1:2}}}"#), Ok(2));
        assert_eq!(
            (m2.query("G", "T", 0), m2.query("G", "T", 3), m2.query("H", "T", 1)),
            (Some(9), Some(7), Some(2))
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
