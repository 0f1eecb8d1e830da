//! Plain request/response calls to name servers and brokers, for operator tools (`rmq::admin`,
//! like Apache's MQClientAPIImpl under DefaultMQAdminExt): no instance, no heartbeats, no
//! routes cache. Every call blocks for at most the configured timeout.

use super::error::{Error, ErrorKind, Result};
use super::message::{decode_messages, MessageExt};
use crate::protocol::codes::response as rs;
use crate::protocol::command::RemotingCommand;
use crate::remoting::RemotingClient;
use std::time::Duration;

/// A connection pool for one-off requests.
pub struct Rpc {
    remoting: RemotingClient,
    namesrvs: Vec<String>,
    timeout: Duration,
}

impl Rpc {
    /// Calls to `namesrvs` (tried in order) and any broker, each bounded by `timeout`.
    pub fn new(namesrvs: Vec<String>, timeout: Duration) -> Rpc {
        Rpc { remoting: RemotingClient::new(), namesrvs, timeout }
    }

    /// Sign every request with `creds` (ACL).
    pub fn set_credentials(&self, creds: &super::config::Credentials) {
        creds.install(&self.remoting);
    }

    /// The name servers, in the order they are tried.
    pub fn namesrvs(&self) -> &[String] {
        &self.namesrvs
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send `req` to `addr` and return whatever it answers (any response code). Transport
    /// failures are errors of kind Network or Timeout.
    pub fn invoke(&self, addr: &str, req: RemotingCommand) -> Result<RemotingCommand> {
        self.invoke_for(addr, req, self.timeout)
    }

    /// [`Rpc::invoke`] with its own timeout (slow operator requests).
    pub fn invoke_for(
        &self,
        addr: &str,
        req: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let code = req.code;
        self.remoting
            .invoke(addr, req, timeout)
            .map_err(|e| Error::remoting(&e, &format!("request {code} to {addr}")))
    }

    /// Send `req` to `addr`; an answer other than SUCCESS is an error of kind Broker that keeps
    /// the response code and remark.
    pub fn call(&self, addr: &str, req: RemotingCommand) -> Result<RemotingCommand> {
        let code = req.code;
        let r = self.invoke(addr, req)?;
        if r.code != rs::SUCCESS {
            return Err(Error::broker(
                r.code,
                r.remark.as_deref(),
                format!("request {code} to {addr} failed"),
            ));
        }
        Ok(r)
    }

    /// Ask the name servers in turn; the first that answers SUCCESS wins. An error answer is
    /// returned as is (the name servers agree on routes), a transport error tries the next.
    pub fn call_namesrv(&self, req: RemotingCommand) -> Result<RemotingCommand> {
        let mut last = Error::new(ErrorKind::NoRoute, "no name server address given");
        for ns in &self.namesrvs {
            match self.call(ns, req.clone()) {
                Ok(r) => return Ok(r),
                Err(e) if e.kind() == ErrorKind::Broker => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Close every connection.
    pub fn shutdown(&self) {
        self.remoting.shutdown();
    }
}

/// Decode the stored records of a body (QUERY_MESSAGE, VIEW_MESSAGE_BY_ID, PULL_MESSAGE
/// answers) into messages, bodies inflated. A record that does not decode ends the list.
pub fn decode_records(body: &[u8], broker_name: &str) -> Vec<MessageExt> {
    decode_messages(body, broker_name)
}
