//! Name-server operations: getNamesrvConfig, updateNamesrvConfig, the KV config commands
//! (updateKvConfig, deleteKvConfig, getKvConfig, getKvListByNamespace), wipeWritePerm and
//! addWritePerm. Each asks every name server given, as mqadmin does.

use super::{check_name, Admin, Error, Result};
use crate::common::config::parse_properties;
use crate::protocol::body::KvTable;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use serde::Serialize;

/// One name server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamesrvConfigDump {
    /// Name server address.
    pub addr: String,
    /// `(key, value)` in the order it sent them.
    pub entries: Vec<(String, String)>,
}

/// One KV entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvEntry {
    /// Namespace.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// What one name server answered to wipeWritePerm / addWritePerm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WritePermResult {
    /// Name server address.
    pub namesrv: String,
    /// Topics changed, or None when this name server failed.
    pub topics: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Admin {
    /// GET_NAMESRV_CONFIG from every name server.
    pub fn namesrv_config(&self) -> Result<Vec<NamesrvConfigDump>> {
        let mut out = Vec::new();
        for ns in self.namesrv_list()? {
            let r = self.call(ns, RemotingCommand::request(rq::GET_NAMESRV_CONFIG))?;
            out.push(NamesrvConfigDump {
                addr: ns.clone(),
                entries: parse_properties(&String::from_utf8_lossy(&r.body)),
            });
        }
        Ok(out)
    }

    /// UPDATE_NAMESRV_CONFIG `key=value` on every name server; returns them.
    pub fn update_namesrv_config(&self, key: &str, value: &str) -> Result<Vec<String>> {
        if key.trim().is_empty() || key.contains(['=', '\n']) || value.contains('\n') {
            return Err(Error::invalid(format!("'{key}' = '{value}' is not one config entry")));
        }
        for ns in self.namesrv_list()? {
            let req = RemotingCommand::request(rq::UPDATE_NAMESRV_CONFIG)
                .with_body(format!("{key}={value}\n").into_bytes());
            self.call(ns, req)?;
        }
        Ok(self.namesrvs().to_vec())
    }

    /// PUT_KV_CONFIG on every name server.
    pub fn update_kv_config(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        check_name("namespace", namespace)?;
        check_name("key", key)?;
        for ns in self.namesrv_list()? {
            let req = RemotingCommand::request(rq::PUT_KV_CONFIG)
                .with("namespace", namespace)
                .with("key", key)
                .with("value", value);
            self.call(ns, req)?;
        }
        Ok(())
    }

    /// DELETE_KV_CONFIG on every name server.
    pub fn delete_kv_config(&self, namespace: &str, key: &str) -> Result<()> {
        check_name("namespace", namespace)?;
        check_name("key", key)?;
        for ns in self.namesrv_list()? {
            let req = RemotingCommand::request(rq::DELETE_KV_CONFIG)
                .with("namespace", namespace)
                .with("key", key);
            self.call(ns, req)?;
        }
        Ok(())
    }

    /// GET_KV_CONFIG from the first name server that answers; a missing key is NotFound.
    pub fn kv_config(&self, namespace: &str, key: &str) -> Result<KvEntry> {
        check_name("namespace", namespace)?;
        check_name("key", key)?;
        let req = RemotingCommand::request(rq::GET_KV_CONFIG)
            .with("namespace", namespace)
            .with("key", key);
        match self.call_namesrv(req) {
            Ok(r) => Ok(KvEntry {
                namespace: namespace.to_string(),
                key: key.to_string(),
                value: r.field("value").unwrap_or("").to_string(),
            }),
            Err(e) if e.code() == Some(rs::QUERY_NOT_FOUND) => {
                Err(Error::not_found(format!("no KV config {namespace}/{key}")))
            }
            Err(e) => Err(e),
        }
    }

    /// GET_KVLIST_BY_NAMESPACE; an unknown namespace is NotFound.
    pub fn kv_list(&self, namespace: &str) -> Result<Vec<KvEntry>> {
        check_name("namespace", namespace)?;
        let req =
            RemotingCommand::request(rq::GET_KVLIST_BY_NAMESPACE).with("namespace", namespace);
        match self.call_namesrv(req) {
            Ok(r) => {
                let t: KvTable = crate::protocol::json::from_fastjson(&r.body)
                    .map_err(|e| Error::bad_answer("KV list", "name server", e))?;
                Ok(t.table
                    .into_iter()
                    .map(|(key, value)| KvEntry { namespace: namespace.to_string(), key, value })
                    .collect())
            }
            Err(e) if e.code() == Some(rs::QUERY_NOT_FOUND) => {
                Err(Error::not_found(format!("no KV config in namespace {namespace}")))
            }
            Err(e) => Err(e),
        }
    }

    /// WIPE_WRITE_PERM_OF_BROKER (`wipe`) or ADD_WRITE_PERM_OF_BROKER on every name server.
    /// Each name server's outcome is reported; it fails only when every one failed.
    pub fn set_write_perm(&self, broker_name: &str, wipe: bool) -> Result<Vec<WritePermResult>> {
        check_name("broker", broker_name)?;
        let (code, key) = if wipe {
            (rq::WIPE_WRITE_PERM_OF_BROKER, "wipeTopicCount")
        } else {
            (rq::ADD_WRITE_PERM_OF_BROKER, "addTopicCount")
        };
        let mut out = Vec::new();
        let mut first_err: Option<Error> = None;
        for ns in self.namesrv_list()? {
            let req = RemotingCommand::request(code).with("brokerName", broker_name);
            let res = self.call(ns, req);
            if let Err(e) = &res {
                first_err.get_or_insert_with(|| e.clone());
            }
            out.push(match res {
                Ok(r) => WritePermResult {
                    namesrv: ns.clone(),
                    topics: Some(r.field(key).and_then(|v| v.parse().ok()).unwrap_or(0)),
                    error: None,
                },
                Err(e) => WritePermResult {
                    namesrv: ns.clone(),
                    topics: None,
                    error: Some(e.to_string()),
                },
            });
        }
        if out.iter().all(|r| r.topics.is_none()) {
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        Ok(out)
    }
}
