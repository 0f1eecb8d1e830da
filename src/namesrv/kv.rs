//! KV config (namespace → key → value), persisted as `{"configTable":{...}}` (KVConfigManager).

use crate::common::fs::{read_optional, write_atomic};
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

    fn persist(&self, snapshot: BTreeMap<String, BTreeMap<String, String>>) {
        let body =
            serde_json::to_vec_pretty(&KvFile { config_table: snapshot }).unwrap_or_default();
        if let Err(e) = write_atomic(&self.path, &body) {
            log::error!("cannot persist kv config path={} err={}", self.path.display(), e);
        }
    }

    /// Put a value.
    pub fn put(&self, ns: &str, key: &str, value: &str) {
        let snap = {
            let mut t = self.table.write();
            t.entry(ns.to_string()).or_default().insert(key.to_string(), value.to_string());
            t.clone()
        };
        self.persist(snap);
    }

    /// Get a value.
    pub fn get(&self, ns: &str, key: &str) -> Option<String> {
        self.table.read().get(ns).and_then(|m| m.get(key)).cloned()
    }

    /// Delete a value.
    pub fn delete(&self, ns: &str, key: &str) {
        let snap = {
            let mut t = self.table.write();
            if let Some(m) = t.get_mut(ns) {
                m.remove(key);
            }
            t.clone()
        };
        self.persist(snap);
    }

    /// All values of a namespace.
    pub fn list(&self, ns: &str) -> Option<BTreeMap<String, String>> {
        self.table.read().get(ns).cloned()
    }
}
