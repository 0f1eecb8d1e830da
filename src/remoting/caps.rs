//! The connection caps of a server as configuration keys, shared by the broker and the name
//! server: idle close (Apache's `serverChannelMaxIdleTimeSeconds`), connections in total and per
//! client address, each connection's outbound queue, and its requests in flight.

use super::server::ServerConfig;
use crate::common::config::parse_num;
use std::time::Duration;

/// Connection caps, in the keys' units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnCaps {
    /// `serverChannelMaxIdleTimeSeconds` (Apache, 120): close a connection silent this long;
    /// 0 = never.
    pub idle_seconds: u64,
    /// `maxConnections` (4096): more are closed at once.
    pub max_connections: usize,
    /// `maxConnectionsPerIp` (1024): connections from one client address; more are closed.
    pub max_connections_per_ip: usize,
    /// `outboundQueueBytes` (64 MiB): a connection's unwritten answers; over it it is closed.
    pub outbound_queue_bytes: usize,
    /// `maxInFlightPerConnection` (4096): requests of one connection queued or running; more
    /// are answered SYSTEM_BUSY.
    pub max_in_flight_per_connection: usize,
}

impl Default for ConnCaps {
    fn default() -> Self {
        let s = ServerConfig::new("", ([127, 0, 0, 1], 0).into());
        ConnCaps {
            idle_seconds: s.idle_timeout.map_or(0, |d| d.as_secs()),
            max_connections: s.max_connections,
            max_connections_per_ip: s.max_connections_per_ip,
            outbound_queue_bytes: s.outbound.max_bytes,
            max_in_flight_per_connection: s.dispatch.max_in_flight_per_connection,
        }
    }
}

impl ConnCaps {
    /// The keys, in the order [`ConnCaps::properties`] lists them.
    pub const KEYS: [&'static str; 5] = [
        "serverChannelMaxIdleTimeSeconds",
        "maxConnections",
        "maxConnectionsPerIp",
        "outboundQueueBytes",
        "maxInFlightPerConnection",
    ];

    /// Set `key`; `Ok(false)` when it is not one of [`ConnCaps::KEYS`].
    pub fn set(&mut self, key: &str, v: &str) -> Result<bool, String> {
        let at_least_one = |v: &str| -> Result<usize, String> {
            let n: usize = parse_num(v)?;
            if n == 0 {
                return Err("must be at least 1".into());
            }
            Ok(n)
        };
        match key {
            "serverChannelMaxIdleTimeSeconds" => self.idle_seconds = parse_num(v)?,
            "maxConnections" => self.max_connections = at_least_one(v)?,
            "maxConnectionsPerIp" => self.max_connections_per_ip = at_least_one(v)?,
            "outboundQueueBytes" => self.outbound_queue_bytes = at_least_one(v)?,
            "maxInFlightPerConnection" => self.max_in_flight_per_connection = at_least_one(v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Every key with its value.
    pub fn properties(&self) -> [(&'static str, String); 5] {
        [
            (Self::KEYS[0], self.idle_seconds.to_string()),
            (Self::KEYS[1], self.max_connections.to_string()),
            (Self::KEYS[2], self.max_connections_per_ip.to_string()),
            (Self::KEYS[3], self.outbound_queue_bytes.to_string()),
            (Self::KEYS[4], self.max_in_flight_per_connection.to_string()),
        ]
    }

    /// The outbound queue must hold one whole frame, or the largest answer closes its connection.
    pub fn validate(&self, max_frame: usize) -> Result<(), String> {
        if self.outbound_queue_bytes < max_frame {
            return Err(format!(
                "outboundQueueBytes={} is below maxFrameSize={max_frame}: one large answer would \
                 close its connection",
                self.outbound_queue_bytes
            ));
        }
        Ok(())
    }

    /// Put the caps into a server's settings.
    pub fn apply(&self, s: &mut ServerConfig) {
        s.idle_timeout = (self.idle_seconds > 0).then(|| Duration::from_secs(self.idle_seconds));
        s.max_connections = self.max_connections;
        s.max_connections_per_ip = self.max_connections_per_ip;
        s.outbound.max_bytes = self.outbound_queue_bytes;
        s.dispatch.max_in_flight_per_connection = self.max_in_flight_per_connection;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_apply_and_validate() {
        let mut c = ConnCaps::default();
        assert_eq!(
            c.properties().map(|(_, v)| v),
            ["120", "4096", "1024", "67108864", "4096"].map(String::from)
        );
        for (k, v) in [
            ("serverChannelMaxIdleTimeSeconds", "0"),
            ("maxConnections", "10"),
            ("maxConnectionsPerIp", " 2 "),
            ("outboundQueueBytes", "33554432"),
            ("maxInFlightPerConnection", "7"),
        ] {
            assert_eq!(c.set(k, v), Ok(true), "{k}");
        }
        assert_eq!(c.set("maxFrameSize", "1"), Ok(false));
        for k in &ConnCaps::KEYS[1..] {
            assert!(c.set(k, "0").is_err(), "{k}=0 must be refused");
            assert!(c.set(k, "-1").is_err(), "{k}=-1 must be refused");
        }
        assert!(c.set("serverChannelMaxIdleTimeSeconds", "x").is_err());
        let mut s = ServerConfig::new("t", ([127, 0, 0, 1], 0).into());
        c.apply(&mut s);
        assert_eq!(s.idle_timeout, None);
        assert_eq!((s.max_connections, s.max_connections_per_ip), (10, 2));
        assert_eq!((s.outbound.max_bytes, s.dispatch.max_in_flight_per_connection), (32 << 20, 7));
        c.set("serverChannelMaxIdleTimeSeconds", "30").unwrap();
        c.apply(&mut s);
        assert_eq!(s.idle_timeout, Some(Duration::from_secs(30)));
        assert!(c.validate(16 << 20).is_ok());
        assert!(c.validate(64 << 20).unwrap_err().contains("outboundQueueBytes"));
    }
}
