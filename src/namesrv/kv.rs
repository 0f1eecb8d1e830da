//! KV config (namespace → key → value), persisted as `{"configTable":{...}}` (KVConfigManager).

use crate::common::fs::{read_optional, write_atomic_with};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KvFile {
    #[serde(default)]
    config_table: BTreeMap<String, BTreeMap<String, String>>,
}

/// The name server's KV store.
pub struct KvStore {
    path: PathBuf,
    table: RwLock<BTreeMap<String, BTreeMap<String, String>>>,
}

impl KvStore {
    /// Load from `path` (a missing or unreadable file gives an empty table, logged).
    pub fn open(path: PathBuf) -> Self {
        let table = match read_optional(&path) {
            Ok(Some(text)) => match serde_json::from_str::<KvFile>(&text) {
                Ok(f) => f.config_table,
                Err(e) => {
                    log::warn!("ignoring unreadable kv config path={} err={}", path.display(), e);
                    BTreeMap::new()
                }
            },
            Ok(None) => BTreeMap::new(),
            Err(e) => {
                log::warn!("cannot read kv config path={} err={}", path.display(), e);
                BTreeMap::new()
            }
        };
        KvStore { path, table: RwLock::new(table) }
    }

    /// Save the table; the snapshot is taken under the file's save lock, so concurrent saves
    /// land in the order of their snapshots (issue 13).
    fn persist(&self) {
        let snapshot = || {
            let config_table = self.table.read().clone();
            serde_json::to_vec_pretty(&KvFile { config_table }).map_err(std::io::Error::other)
        };
        if let Err(e) = write_atomic_with(&self.path, snapshot) {
            log::error!("cannot persist kv config path={} err={}", self.path.display(), e);
        }
    }

    /// Put a value.
    pub fn put(&self, ns: &str, key: &str, value: &str) {
        self.table
            .write()
            .entry(ns.to_string())
            .or_default()
            .insert(key.to_string(), value.to_string());
        self.persist();
    }

    /// Get a value.
    pub fn get(&self, ns: &str, key: &str) -> Option<String> {
        self.table.read().get(ns).and_then(|m| m.get(key)).cloned()
    }

    /// Delete a value.
    pub fn delete(&self, ns: &str, key: &str) {
        if let Some(m) = self.table.write().get_mut(ns) {
            m.remove(key);
        }
        self.persist();
    }

    /// All values of a namespace.
    pub fn list(&self, ns: &str) -> Option<BTreeMap<String, String>> {
        self.table.read().get(ns).cloned()
    }
}
