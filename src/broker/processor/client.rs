//! Client management (ClientManageProcessor, ConsumerManageProcessor's group list):
//! HEART_BEAT, UNREGISTER_CLIENT, CHECK_CLIENT_CONFIG, GET_CONSUMER_LIST_BY_GROUP.

use super::{not_supported, reply};
use crate::broker::clients::ClientChannel;
use crate::broker::core::Core;
use crate::broker::topics::RETRY_PREFIX;
use crate::protocol::body::{ConsumerList, HeartbeatData};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::{Handler, Reply, ReqCtx};
use std::sync::Arc;
use std::time::Instant;

/// Heartbeats and client registration.
pub(crate) struct ClientProcessor {
    pub c: Arc<Core>,
}

impl Handler for ClientProcessor {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        reply(match req.code {
            rq::HEART_BEAT => Ok(self.heartbeat(ctx, &req)),
            rq::UNREGISTER_CLIENT => self.unregister(&req),
            rq::GET_CONSUMER_LIST_BY_GROUP => self.consumer_list(&req),
            rq::CHECK_CLIENT_CONFIG => Ok(RemotingCommand::success()),
            other => Ok(not_supported(other)),
        })
    }
}

impl ClientProcessor {
    fn heartbeat(&self, ctx: &ReqCtx, req: &RemotingCommand) -> RemotingCommand {
        let c = &self.c;
        let hb = match HeartbeatData::decode(&req.body) {
            Ok(h) => h,
            Err(e) => {
                log::warn!("bad heartbeat peer={} err={}", ctx.peer(), e);
                return RemotingCommand::error(
                    rs::SYSTEM_ERROR,
                    format!("the heartbeat body is not valid JSON: {e}"),
                );
            }
        };
        let ch = ClientChannel {
            client_id: hb.client_id.clone(),
            conn: ctx.conn.clone(),
            language: req.language.to_string(),
            version: req.version,
            last_update: Instant::now(),
        };
        let auto_create = c.cfg().auto_create_subscription_group;
        for cd in &hb.consumer_data_set {
            // ClientManageProcessor.heartBeat: the group (auto-created) gives the retry topic's
            // queue count and whether members are told about changes.
            let gc = c.groups.find(&cd.group_name, auto_create);
            if let Some(gc) = &gc {
                c.ensure_topic(&format!("{RETRY_PREFIX}{}", cd.group_name), gc.retry_queue_nums);
            }
            let notify = gc.is_none_or(|g| g.notify_consumer_ids_changed_enable);
            if c.clients.register_consumer(ch.clone(), cd) {
                log::info!(
                    "consumer group changed group={} client={}",
                    cd.group_name,
                    hb.client_id
                );
                if notify {
                    c.clients.notify_ids_changed(&cd.group_name);
                }
            }
        }
        for p in &hb.producer_data_set {
            c.clients.register_producer(&p.group_name, ch.clone());
        }
        RemotingCommand::success()
    }

    fn unregister(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let client = req.str_field("clientID")?;
        if let Some(g) = req.field("producerGroup").filter(|g| !g.is_empty()) {
            self.c.clients.unregister_producer(g, client);
        }
        if let Some(g) = req.field("consumerGroup").filter(|g| !g.is_empty()) {
            if self.c.clients.unregister_consumer(g, client) {
                log::info!("consumer unregistered group={} client={}", g, client);
                self.c.clients.notify_ids_changed(g);
            }
        }
        Ok(RemotingCommand::success())
    }

    fn consumer_list(&self, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let group = req.str_field("consumerGroup")?;
        let ids = self.c.clients.consumer_ids(group);
        Ok(if ids.is_empty() {
            RemotingCommand::error(rs::SYSTEM_ERROR, format!("no consumer for this group, {group}"))
        } else {
            let body = ConsumerList { consumer_id_list: ids };
            RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
        })
    }
}
