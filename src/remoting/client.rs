//! Blocking remoting client: connections pooled by address, a reader thread per connection,
//! responses matched by opaque, per-call timeouts, one-way sends.

use super::connection::{read_loop, Connection, ReadOptions};
use super::error::RemotingError;
use super::hooks::OutboundHook;
use crate::common::service::spawn_thread;
use crate::protocol::command::RemotingCommand;
use crate::protocol::frame::DEFAULT_MAX_FRAME;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Handles requests the server sends to us (NOTIFY_CONSUMER_IDS_CHANGED, ...). Returns the
/// response to send, if any.
pub type RequestHandler =
    Arc<dyn Fn(&Arc<Connection>, RemotingCommand) -> Option<RemotingCommand> + Send + Sync>;

/// A pool of connections to remote servers.
pub struct RemotingClient {
    conns: Mutex<HashMap<String, Arc<Connection>>>,
    readers: Mutex<Vec<JoinHandle<()>>>,
    handler: Arc<RwLock<Option<RequestHandler>>>,
    outbound: RwLock<Option<Arc<dyn OutboundHook>>>,
    connect_timeout: Duration,
    max_frame: usize,
}

impl Default for RemotingClient {
    fn default() -> Self {
        Self::new()
    }
}

impl RemotingClient {
    /// A client with a 3 s connect timeout.
    pub fn new() -> Self {
        RemotingClient {
            conns: Mutex::new(HashMap::new()),
            readers: Mutex::new(Vec::new()),
            handler: Arc::new(RwLock::new(None)),
            outbound: RwLock::new(None),
            connect_timeout: Duration::from_secs(3),
            max_frame: DEFAULT_MAX_FRAME,
        }
    }

    /// Install the handler for server-initiated requests.
    pub fn set_request_handler(&self, h: RequestHandler) {
        *self.handler.write() = Some(h);
    }

    /// Install the hook every request runs through before it is sent (request signing).
    pub fn set_outbound_hook(&self, h: Arc<dyn OutboundHook>) {
        *self.outbound.write() = Some(h);
    }

    fn outbound(&self, addr: &str, cmd: &mut RemotingCommand) {
        if let Some(h) = self.outbound.read().as_ref() {
            h.before_send(addr, cmd);
        }
    }

    /// The pooled connection to `addr`, connecting if needed.
    pub fn connection(&self, addr: &str) -> Result<Arc<Connection>, RemotingError> {
        if let Some(c) = self.conns.lock().get(addr) {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let sock: SocketAddr = addr
            .to_socket_addrs()
            .map_err(|e| RemotingError::connect(addr, e))?
            .next()
            .ok_or_else(|| RemotingError::connect(addr, std::io::Error::other("no address")))?;
        let stream = TcpStream::connect_timeout(&sock, self.connect_timeout)
            .map_err(|e| RemotingError::connect(addr, e))?;
        let reader = stream.try_clone().map_err(|e| RemotingError::connect(addr, e))?;
        let conn = Connection::new(stream).map_err(|e| RemotingError::connect(addr, e))?;
        let mut conns = self.conns.lock();
        if let Some(c) = conns.get(addr) {
            if !c.is_closed() {
                // Another thread won the race; use its connection.
                conn.close();
                return Ok(c.clone());
            }
        }
        conns.insert(addr.to_string(), conn.clone());
        drop(conns);
        let c2 = conn.clone();
        let handler = self.handler.clone();
        let max = self.max_frame;
        let h = spawn_thread(format!("rmq-client-{}", conn.id()), move || {
            let opts = ReadOptions { max_frame: max, ..Default::default() };
            read_loop(&c2, reader, opts, |conn, cmd| {
                let h = handler.read().clone();
                let (opaque, form, oneway) = (cmd.opaque, cmd.serialize_type, cmd.is_oneway());
                let resp = h.and_then(|h| h(conn, cmd));
                if let (Some(r), false) = (resp, oneway) {
                    conn.respond(opaque, form, r);
                }
            });
        })
        .map_err(|e| RemotingError::connect(addr, e))?;
        let mut readers = self.readers.lock();
        readers.retain(|h| !h.is_finished());
        readers.push(h);
        Ok(conn)
    }

    /// Send `cmd` to `addr` and wait up to `timeout` for the response.
    pub fn invoke(
        &self,
        addr: &str,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let conn = self.connection(addr)?;
        self.outbound(addr, &mut cmd);
        conn.invoke(cmd, timeout)
    }

    /// Send `cmd` to `addr` one-way.
    pub fn invoke_oneway(&self, addr: &str, mut cmd: RemotingCommand) -> Result<(), RemotingError> {
        let conn = self.connection(addr)?;
        self.outbound(addr, &mut cmd);
        conn.oneway(cmd)
    }

    /// Close the connection to `addr`, if any.
    pub fn close_addr(&self, addr: &str) {
        if let Some(c) = self.conns.lock().remove(addr) {
            c.close();
        }
    }

    /// Close every connection and join the readers.
    pub fn shutdown(&self) {
        let conns: Vec<_> = self.conns.lock().drain().map(|(_, c)| c).collect();
        for c in conns {
            c.close();
        }
        let readers: Vec<_> = self.readers.lock().drain(..).collect();
        for r in readers {
            let _ = r.join();
        }
    }
}

impl Drop for RemotingClient {
    fn drop(&mut self) {
        self.shutdown();
    }
}
