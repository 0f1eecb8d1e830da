//! Settings shared by producers and consumers of one client instance.

use crate::acl;
use crate::protocol::command::RemotingCommand;
use crate::remoting::{OutboundHook, RemotingClient};
use std::fmt;
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::Duration;

/// ACL session credentials (Apache's SessionCredentials): with them every request the client
/// sends carries `AccessKey` (and `SecurityToken`, `OnsChannel` when set) and a `Signature`
/// computed as Apache's clients do (AclClientRPCHook). A broker with `aclEnable=false` ignores
/// them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account's `accessKey`.
    pub access_key: String,
    /// The account's `secretKey` (never logged; `Debug` redacts it).
    pub secret_key: String,
    /// A `SecurityToken` to send along (signed like any field); usually `None`.
    pub security_token: Option<String>,
    /// The `OnsChannel` field Apache's C++ client adds (`"ALIYUN"` there); `None` sends none,
    /// as Apache's Java client.
    pub channel: Option<String>,
}

impl Credentials {
    /// Credentials of the account `access_key` / `secret_key`.
    pub fn new(access_key: &str, secret_key: &str) -> Credentials {
        Credentials {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            security_token: None,
            channel: None,
        }
    }

    /// Sign `cmd` (adds `AccessKey`, `SecurityToken`, `OnsChannel`, then `Signature`).
    pub fn sign(&self, cmd: &mut RemotingCommand) {
        if let Some(t) = self.security_token.as_deref().filter(|t| !t.is_empty()) {
            cmd.put(acl::SECURITY_TOKEN, t);
        }
        let channel = self.channel.as_deref().filter(|c| !c.is_empty());
        acl::sign(cmd, &self.access_key, &self.secret_key, channel);
    }

    /// Install these credentials as `client`'s outbound hook: every request it sends is signed.
    pub fn install(&self, client: &RemotingClient) {
        client.set_outbound_hook(Arc::new(self.clone()));
    }
}

impl OutboundHook for Credentials {
    fn before_send(&self, _addr: &str, cmd: &mut RemotingCommand) {
        self.sign(cmd);
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .field("channel", &self.channel)
            .finish()
    }
}

/// Name servers, identity and timers of a client (Apache's ClientConfig).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Name server addresses, `;`-separated: `"a:9876;b:9876"`.
    pub namesrv_addr: String,
    /// Instance name; `"DEFAULT"` becomes the process id, as in Apache's client.
    pub instance_name: String,
    /// This host's address as brokers should see it (part of the client id).
    pub client_ip: String,
    /// Timeout of ordinary requests to name servers and brokers.
    pub request_timeout: Duration,
    /// How often routes are refreshed from the name servers.
    pub poll_namesrv_interval: Duration,
    /// How often a heartbeat goes to every broker of the client's topics.
    pub heartbeat_interval: Duration,
    /// How often consumers commit their offsets.
    pub persist_offset_interval: Duration,
    /// ACL credentials: `Some` signs every request (see [`Credentials`]).
    pub credentials: Option<Credentials>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            namesrv_addr: std::env::var("NAMESRV_ADDR").unwrap_or_default(),
            instance_name: "DEFAULT".to_string(),
            client_ip: local_ip(),
            request_timeout: Duration::from_secs(3),
            poll_namesrv_interval: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(30),
            persist_offset_interval: Duration::from_secs(5),
            credentials: None,
        }
    }
}

impl ClientConfig {
    /// Defaults with the given name servers.
    pub fn new(namesrv_addr: &str) -> ClientConfig {
        ClientConfig { namesrv_addr: namesrv_addr.to_string(), ..ClientConfig::default() }
    }

    /// Sign every request with the account `access_key` / `secret_key` (Apache's
    /// `setSessionCredentials`; see [`Credentials`] for a security token or channel).
    pub fn set_credentials(&mut self, access_key: &str, secret_key: &str) {
        self.credentials = Some(Credentials::new(access_key, secret_key));
    }

    /// Install the credentials, if any, as `client`'s signing hook.
    pub(crate) fn install_signer(&self, client: &RemotingClient) {
        if let Some(c) = &self.credentials {
            c.install(client);
        }
    }

    /// The name server list, trimmed, without empty entries.
    pub fn namesrv_list(&self) -> Vec<String> {
        self.namesrv_addr
            .split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `ip@instance`, with `DEFAULT` replaced by the process id (ClientConfig.buildMQClientId).
    pub fn client_id(&self) -> String {
        let inst = if self.instance_name.is_empty() || self.instance_name == "DEFAULT" {
            std::process::id().to_string()
        } else {
            self.instance_name.clone()
        };
        format!("{}@{}", self.client_ip, inst)
    }
}

/// The address of the interface with the default route, else 127.0.0.1. Connecting a UDP socket
/// only selects a route; no packet is sent.
fn local_ip() -> String {
    UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("8.8.8.8:53").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namesrv_list_and_client_id() {
        let mut c = ClientConfig::new(" a:1; b:2;;");
        assert_eq!(c.namesrv_list(), vec!["a:1".to_string(), "b:2".to_string()]);
        c.client_ip = "10.0.0.1".into();
        c.instance_name = "x".into();
        assert_eq!(c.client_id(), "10.0.0.1@x");
        assert_eq!(c.request_timeout, Duration::from_secs(3));
    }

    #[test]
    fn credentials_sign_and_redact() {
        let mut c = Credentials::new("rmq-acl-ak", "secret-123");
        c.channel = Some("ALIYUN".into());
        c.security_token = Some("tok".into());
        let mut cmd = RemotingCommand::request(10).with("topic", "T").with_body(b"x".to_vec());
        c.sign(&mut cmd);
        assert_eq!(cmd.field(acl::ACCESS_KEY), Some("rmq-acl-ak"));
        assert_eq!(cmd.field(acl::SECURITY_TOKEN), Some("tok"));
        assert_eq!(cmd.field(acl::ONS_CHANNEL), Some("ALIYUN"));
        assert!(acl::verify("secret-123", &cmd));
        assert!(!acl::verify("secret-124", &cmd));
        let dbg = format!("{:?}", ClientConfig { credentials: Some(c), ..ClientConfig::new("a") });
        assert!(!dbg.contains("secret-123") && !dbg.contains("tok\""), "{dbg}");
    }
}
