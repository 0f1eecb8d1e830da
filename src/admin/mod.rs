//! Operator operations in the manner of Apache's mqadmin (DefaultMQAdminExt), as a library
//! (issue 12 point 6, issue 14): every operation takes typed arguments and returns a typed,
//! serializable result; `rmq-admin` only parses arguments and prints. Built over the client
//! layer (`client::rpc` for plain requests, `client::Producer`/`PullConsumer` for messages).
//!
//! ```no_run
//! use rmq::admin::{Admin, Target};
//! # fn main() -> rmq::admin::Result<()> {
//! let admin = Admin::new("127.0.0.1:9876")?;
//! for b in admin.cluster_list()? {
//!     println!("{} {} {}", b.cluster, b.broker_name, b.addr);
//! }
//! admin.update_topic(&Target::Cluster("DefaultCluster".into()), &Default::default())?;
//! # Ok(())
//! # }
//! ```

mod cluster;
mod error;
mod group;
mod message;
mod namesrv;
mod stats;
mod topic;

pub use cluster::{BrokerConfigEntry, ClusterBroker, ClusterRt, SendRtRow};
pub use error::{Error, ErrorKind, Result};
pub use group::parse_timestamp;
pub use group::{
    BrokerConsumeRow, BrokerConsumeStats, ConnectionRow, ConsumerConnectionInfo, ConsumerProgress,
    QueueProgress, ResetRow, SubGroupOptions, SubscriptionRow,
};
pub use message::{
    ConsumeOptions, MessageDump, MessageView, PrintOptions, QueueDump, SendOptions, SendOutcome,
    TOOLS_CONSUMER_GROUP,
};
pub use namesrv::{KvEntry, NamesrvConfigDump, WritePermResult};
pub use stats::{StatsAllRow, StatsItem, StatsView};
pub use topic::{QueueStatus, RouteBroker, RouteQueue, TopicOptions, TopicRoute};

use crate::client::rpc::Rpc;
use crate::protocol::body::{ClusterInfo, TopicRouteData};
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;
use std::collections::BTreeSet;
use std::time::Duration;

/// Default timeout of one request (mqadmin's 5 s is `timeoutMillis` of DefaultMQAdminExt).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which brokers an operation acts on: one address (`-b`), or every master of a cluster (`-c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One broker address `ip:port`.
    Broker(String),
    /// Every master broker of the named cluster.
    Cluster(String),
}

/// An admin session: name servers to ask and a connection pool.
pub struct Admin {
    rpc: Rpc,
    namesrv_addr: String,
    creds: parking_lot::RwLock<Option<crate::client::Credentials>>,
}

impl Admin {
    /// An admin over the `;`-separated name servers, with [`DEFAULT_TIMEOUT`].
    pub fn new(namesrv_addr: &str) -> Result<Admin> {
        Admin::with_timeout(namesrv_addr, DEFAULT_TIMEOUT)
    }

    /// An admin whose every request is bounded by `timeout`.
    pub fn with_timeout(namesrv_addr: &str, timeout: Duration) -> Result<Admin> {
        let list: Vec<String> = namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if list.is_empty() {
            return Err(Error::invalid("no name server address given (-n or $NAMESRV_ADDR)"));
        }
        Ok(Admin {
            namesrv_addr: list.join(";"),
            rpc: Rpc::new(list, timeout),
            creds: Default::default(),
        })
    }

    /// An admin for commands that name their broker (`-b`) and need no name server; anything
    /// that does need one fails with [`ErrorKind::InvalidArgument`].
    pub fn direct(timeout: Duration) -> Admin {
        Admin {
            namesrv_addr: String::new(),
            rpc: Rpc::new(Vec::new(), timeout),
            creds: Default::default(),
        }
    }

    /// Sign every request with the ACL account `access_key` / `secret_key` (rmq-admin's
    /// `--accessKey`/`--secretKey`).
    pub fn set_credentials(&self, access_key: &str, secret_key: &str) {
        let c = crate::client::Credentials::new(access_key, secret_key);
        self.rpc.set_credentials(&c);
        *self.creds.write() = Some(c);
    }

    /// The credentials for the producers and consumers an admin command makes.
    pub(crate) fn credentials(&self) -> Option<crate::client::Credentials> {
        self.creds.read().clone()
    }

    /// The name servers.
    pub fn namesrvs(&self) -> &[String] {
        self.rpc.namesrvs()
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.rpc.timeout()
    }

    /// Close every connection.
    pub fn shutdown(&self) {
        self.rpc.shutdown();
    }

    pub(crate) fn call(&self, addr: &str, req: RemotingCommand) -> Result<RemotingCommand> {
        Ok(self.rpc.call(addr, req)?)
    }

    pub(crate) fn invoke(&self, addr: &str, req: RemotingCommand) -> Result<RemotingCommand> {
        Ok(self.rpc.invoke(addr, req)?)
    }

    pub(crate) fn call_namesrv(&self, req: RemotingCommand) -> Result<RemotingCommand> {
        self.need_namesrv()?;
        Ok(self.rpc.call_namesrv(req)?)
    }

    fn need_namesrv(&self) -> Result<()> {
        if self.namesrvs().is_empty() {
            return Err(Error::invalid("no name server address given (-n or $NAMESRV_ADDR)"));
        }
        Ok(())
    }

    pub(crate) fn namesrv_addr(&self) -> &str {
        &self.namesrv_addr
    }

    /// The name servers, or an InvalidArgument error when there are none.
    pub(crate) fn namesrv_list(&self) -> Result<&[String]> {
        self.need_namesrv()?;
        Ok(self.namesrvs())
    }

    /// GET_BROKER_CLUSTER_INFO from the name servers.
    pub fn cluster_info(&self) -> Result<ClusterInfo> {
        let r = self.call_namesrv(RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO))?;
        ClusterInfo::decode(&r.body)
            .map_err(|e| Error::bad_answer("cluster info", "name server", e))
    }

    /// GET_ROUTEINFO_BY_TOPIC; an unknown topic is [`ErrorKind::NotFound`].
    pub fn route(&self, topic: &str) -> Result<TopicRouteData> {
        check_name("topic", topic)?;
        let req = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic);
        match self.call_namesrv(req) {
            Ok(r) => TopicRouteData::decode(&r.body)
                .map_err(|e| Error::bad_answer("route", "name server", e)),
            Err(e) if e.code() == Some(crate::protocol::codes::response::TOPIC_NOT_EXIST) => {
                Err(Error::not_found(format!("topic {topic} has no route on the name server")))
            }
            Err(e) => Err(e),
        }
    }

    /// `(broker name, master address)` of every broker, or of one cluster's brokers.
    pub fn masters(&self, cluster: Option<&str>) -> Result<Vec<(String, String)>> {
        let info = self.cluster_info()?;
        let names: BTreeSet<String> = match cluster {
            Some(c) => match info.cluster_addr_table.get(c) {
                Some(n) => n.clone(),
                None => return Err(Error::not_found(format!("cluster {c} not found"))),
            },
            None => info.broker_addr_table.keys().cloned().collect(),
        };
        Ok(names
            .into_iter()
            .filter_map(|n| {
                let addr = info.broker_addr_table.get(&n)?.broker_addrs.get(&0)?.clone();
                Some((n, addr))
            })
            .collect())
    }

    /// The broker addresses a [`Target`] names.
    pub fn targets(&self, target: &Target) -> Result<Vec<String>> {
        match target {
            Target::Broker(b) => Ok(vec![b.clone()]),
            Target::Cluster(c) => {
                let m = self.masters(Some(c))?;
                if m.is_empty() {
                    return Err(Error::not_found(format!("cluster {c} has no master broker")));
                }
                Ok(m.into_iter().map(|(_, a)| a).collect())
            }
        }
    }

    /// The master address of a broker name (from the cluster info).
    pub fn master_of(&self, broker_name: &str) -> Result<String> {
        let info = self.cluster_info()?;
        info.broker_addr_table
            .get(broker_name)
            .and_then(|b| b.broker_addrs.get(&0).cloned())
            .ok_or_else(|| Error::not_found(format!("broker {broker_name} has no master")))
    }
}

/// Refuse an empty or blank name before asking anyone.
pub(crate) fn check_name(what: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() {
        return Err(Error::invalid(format!("the {what} name is empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_name_server() {
        assert_eq!(Admin::new(" ; ").err().map(|e| e.kind()), Some(ErrorKind::InvalidArgument));
        let a = Admin::new("127.0.0.1:1; 127.0.0.1:2").unwrap();
        assert_eq!(a.namesrvs(), ["127.0.0.1:1", "127.0.0.1:2"]);
        assert_eq!(check_name("topic", " ").unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}
