//! Who is connected (AdminBrokerProcessor): GET_CONSUMER_CONNECTION_LIST (203),
//! GET_PRODUCER_CONNECTION_LIST (204), and GET_CONSUMER_RUNNING_INFO (307), which the broker
//! forwards to the consumer's own connection and answers with the consumer's reply (callConsumer).

use super::clients::ClientChannel;
use super::Broker;
use crate::protocol::admin_body::{ClientConnection, ConsumerConnection, ProducerConnection};
use crate::protocol::codes::response as rs;
use crate::protocol::command::{FieldError, RemotingCommand};
use std::time::Duration;

/// How long the broker waits for the consumer's answer (Broker2Client.callClient: 10 s).
const CALL_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// `MQVersion.V3_1_8_SNAPSHOT` ordinal: older clients cannot answer (callConsumer).
const MIN_CALLABLE_VERSION: i32 = 62;

fn connection(ch: &ClientChannel) -> ClientConnection {
    ClientConnection {
        client_addr: ch.conn.peer().to_string(),
        client_id: ch.client_id.clone(),
        language: ch.language.clone(),
        version: ch.version,
    }
}

impl Broker {
    pub(crate) fn consumer_connections(&self, group: &str) -> RemotingCommand {
        let Some(g) = self.clients.consumer_group(group) else {
            return RemotingCommand::error(
                rs::CONSUMER_NOT_ONLINE,
                format!("the consumer group[{group}] not online"),
            );
        };
        let mut connection_set: Vec<ClientConnection> =
            g.channels.values().map(connection).collect();
        connection_set.sort();
        let body = ConsumerConnection {
            connection_set,
            consume_from_where: g.consume_from_where,
            consume_type: g.consume_type,
            message_model: g.message_model,
            subscription_table: g.subscriptions,
        };
        RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
    }

    pub(crate) fn producer_connections(&self, group: &str) -> RemotingCommand {
        let Some(chs) = self.clients.producer_group(group) else {
            return RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("the producer group[{group}] not exist"),
            );
        };
        let mut connection_set: Vec<ClientConnection> = chs.iter().map(connection).collect();
        connection_set.sort();
        let body = ProducerConnection { connection_set };
        RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// Forward the request (same code, ext fields and body) to the consumer `clientId` of
    /// `consumerGroup` and return its response.
    pub(crate) fn call_consumer(
        &self,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, FieldError> {
        let group = req.str_field("consumerGroup")?;
        let client_id = req.str_field("clientId")?;
        let ch = self
            .clients
            .consumer_group(group)
            .and_then(|g| g.channels.values().find(|c| c.client_id == client_id).cloned());
        let Some(ch) = ch else {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("The Consumer <{group}> <{client_id}> not online"),
            ));
        };
        if ch.version < MIN_CALLABLE_VERSION {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!(
                    "The Consumer <{client_id}> Version <{}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT",
                    ch.version
                ),
            ));
        }
        let mut fwd = RemotingCommand::request(req.code);
        fwd.ext_fields = req.ext_fields.clone();
        fwd.body = req.body.clone();
        Ok(match ch.conn.invoke(fwd, CALL_CLIENT_TIMEOUT) {
            Ok(resp) => {
                // Hand back the consumer's answer as ours (the server sets opaque and flags).
                let mut out = RemotingCommand::response(resp.code, resp.remark);
                out.ext_fields = resp.ext_fields;
                out.body = resp.body;
                out
            }
            Err(e) if e.is_timeout() => RemotingCommand::error(
                rs::CONSUME_MSG_TIMEOUT,
                format!("consumer <{group}> <{client_id}> Timeout: {e}"),
            ),
            Err(e) => RemotingCommand::error(
                rs::SYSTEM_ERROR,
                format!("invoke consumer <{group}> <{client_id}> Exception: {e}"),
            ),
        })
    }
}
