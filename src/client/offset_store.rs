//! Consumer offsets: in memory, committed to the broker (clustering, RemoteBrokerOffsetStore) or
//! to a local JSON file (broadcasting, LocalFileOffsetStore).
//!
//! The local file is `<dir>/<client id>/<group>/offsets.json` (Apache's path layout, default dir
//! `~/.rocketmq_offsets`), written atomically, holding
//! `{"offsetTable":[{"topic":..,"brokerName":..,"queueId":..,"offset":..}]}`. Apache writes a
//! fastjson map with object keys, which is not JSON; this layout is.

use super::api;
use super::error::{Error, ErrorKind, Result};
use super::instance::Instance;
use crate::common::fs::{read_optional, write_atomic_with};
use crate::protocol::body::MessageQueue;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Offsets of one consumer group.
pub(crate) struct OffsetStore {
    group: String,
    file: Option<PathBuf>,
    table: Mutex<HashMap<MessageQueue, i64>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    topic: String,
    broker_name: String,
    queue_id: i32,
    offset: i64,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FileBody {
    #[serde(default)]
    offset_table: Vec<Entry>,
}

/// The default directory of broadcasting offset files.
pub(crate) fn default_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".rocketmq_offsets")
}

impl OffsetStore {
    /// Offsets kept on the broker.
    pub fn remote(group: &str) -> OffsetStore {
        OffsetStore { group: group.to_string(), file: None, table: Mutex::new(HashMap::new()) }
    }

    /// Offsets kept in a local file; loads it when present.
    pub fn local(dir: &Path, client_id: &str, group: &str) -> Result<OffsetStore> {
        let file = dir.join(client_id).join(group).join("offsets.json");
        let mut table = HashMap::new();
        let text = read_optional(&file).map_err(|e| io_err(&file, "read", &e))?;
        if let Some(text) = text {
            let body: FileBody = serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!(
                        "the offset file {} is not valid: {e}; fix or remove it",
                        file.display()
                    ),
                )
            })?;
            for e in body.offset_table {
                let mq = MessageQueue {
                    topic: e.topic,
                    broker_name: e.broker_name,
                    queue_id: e.queue_id,
                };
                table.insert(mq, e.offset);
            }
        }
        Ok(OffsetStore { group: group.to_string(), file: Some(file), table: Mutex::new(table) })
    }

    /// True for the local-file store.
    pub fn is_local(&self) -> bool {
        self.file.is_some()
    }

    /// Set the in-memory offset; with `increase_only` a smaller value is ignored.
    pub fn update(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        let mut t = self.table.lock();
        let e = t.entry(mq.clone()).or_insert(offset);
        if !increase_only || offset > *e {
            *e = offset;
        }
    }

    /// The in-memory offset.
    pub fn read_memory(&self, mq: &MessageQueue) -> Option<i64> {
        self.table.lock().get(mq).copied()
    }

    /// The stored offset: the broker's committed one (-1 when none), or the file's.
    pub fn read_store(&self, inst: &Instance, mq: &MessageQueue) -> Result<i64> {
        if self.is_local() {
            return Ok(self.read_memory(mq).unwrap_or(-1));
        }
        let o = api::query_offset(inst, &self.group, mq)?;
        if o >= 0 {
            self.update(mq, o, false);
        }
        Ok(o)
    }

    /// Commit the offsets of `mqs` (remote) or write the whole table (local).
    pub fn persist_all(&self, inst: &Instance, mqs: &[MessageQueue]) {
        if let Some(file) = &self.file {
            if let Err(e) = self.write_file(file) {
                log::warn!("cannot write offsets group={} err={}", self.group, e);
            }
            return;
        }
        for mq in mqs {
            self.persist(inst, mq);
        }
    }

    /// Commit the offset of one queue.
    pub fn persist(&self, inst: &Instance, mq: &MessageQueue) {
        if let Some(file) = &self.file {
            if let Err(e) = self.write_file(file) {
                log::warn!("cannot write offsets group={} err={}", self.group, e);
            }
            return;
        }
        let Some(o) = self.read_memory(mq) else { return };
        if let Err(e) = api::update_offset(inst, &self.group, mq, o) {
            log::warn!(
                "offset commit failed group={} topic={} queue={} offset={} err={}",
                self.group,
                mq.topic,
                mq.queue_id,
                o,
                e
            );
        }
    }

    /// Forget a queue (after it moved to another consumer).
    pub fn remove(&self, mq: &MessageQueue) {
        if !self.is_local() {
            self.table.lock().remove(mq);
        }
    }

    fn write_file(&self, file: &Path) -> Result<()> {
        // The snapshot is taken under the file's save lock: saves land in snapshot order.
        let snapshot = || {
            let mut body = FileBody::default();
            for (mq, o) in self.table.lock().iter() {
                body.offset_table.push(Entry {
                    topic: mq.topic.clone(),
                    broker_name: mq.broker_name.clone(),
                    queue_id: mq.queue_id,
                    offset: *o,
                });
            }
            body.offset_table.sort_by(|a, b| {
                (&a.topic, &a.broker_name, a.queue_id).cmp(&(&b.topic, &b.broker_name, b.queue_id))
            });
            serde_json::to_vec_pretty(&body).map_err(std::io::Error::other)
        };
        write_atomic_with(file, snapshot).map_err(|e| io_err(file, "write", &e))
    }
}

fn io_err(file: &Path, what: &str, e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("cannot {what} the offset file {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_file_round_trip() {
        let dir = std::env::temp_dir().join(format!("rmq-offsets-{}", std::process::id()));
        let mq = MessageQueue { topic: "T".into(), broker_name: "b".into(), queue_id: 3 };
        {
            let s = OffsetStore::local(&dir, "1.2.3.4@x", "G").unwrap();
            s.update(&mq, 10, false);
            s.update(&mq, 5, true);
            assert_eq!(s.read_memory(&mq), Some(10));
            s.write_file(s.file.as_ref().unwrap()).unwrap();
        }
        let s = OffsetStore::local(&dir, "1.2.3.4@x", "G").unwrap();
        assert_eq!(s.read_memory(&mq), Some(10));
        assert!(dir.join("1.2.3.4@x/G/offsets.json").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
