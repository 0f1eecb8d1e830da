//! Settings shared by producers and consumers of one client instance.

use std::net::UdpSocket;
use std::time::Duration;

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
        }
    }
}

impl ClientConfig {
    /// Defaults with the given name servers.
    pub fn new(namesrv_addr: &str) -> ClientConfig {
        ClientConfig { namesrv_addr: namesrv_addr.to_string(), ..ClientConfig::default() }
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
}
