//! Name server request handlers (DefaultRequestProcessor). Unknown codes get 3 (the server's
//! default), where Java's name server stays silent and makes the C++ client reconnect.

use super::kv::KvStore;
use super::routes::{Registration, RouteTable};
use crate::protocol::body::{DataVersion, KvTable, RegisterBrokerBody, TopicList};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::{FieldError, RemotingCommand};
use crate::remoting::{Reply, ReqCtx, Routes};
use std::sync::Arc;

struct Namesrv {
    routes: Arc<RouteTable>,
    kv: Arc<KvStore>,
    order_message_enable: bool,
}

const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

fn bad_field(e: FieldError) -> RemotingCommand {
    RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())
}

impl Namesrv {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Result<RemotingCommand, FieldError> {
        Ok(match req.code {
            rq::REGISTER_BROKER => self.register(ctx, &req)?,
            rq::UNREGISTER_BROKER => {
                self.routes.unregister(
                    req.field("clusterName"),
                    req.str_field("brokerAddr")?,
                    req.str_field("brokerName")?,
                    req.i64_field("brokerId")?,
                );
                RemotingCommand::success()
            }
            rq::GET_ROUTEINFO_BY_TOPIC => {
                let topic = req.str_field("topic")?;
                match self.routes.route(topic) {
                    Some(mut r) => {
                        if self.order_message_enable {
                            r.order_topic_conf = self.kv.get(ORDER_TOPIC_CONFIG, topic);
                        }
                        let strict = req.version >= 401 || req.bool_field("acceptStandardJsonOnly");
                        RemotingCommand::success().with_body(r.encode(strict))
                    }
                    None => RemotingCommand::error(
                        rs::TOPIC_NOT_EXIST,
                        format!("No topic route info in name server for the topic: {topic}"),
                    ),
                }
            }
            rq::GET_BROKER_CLUSTER_INFO => {
                RemotingCommand::success().with_body(self.routes.cluster_info().encode())
            }
            rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
                let body = TopicList { topic_list: self.routes.topics() };
                RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
            }
            rq::GET_TOPICS_BY_CLUSTER => {
                let body = TopicList {
                    topic_list: self.routes.topics_of_cluster(req.str_field("cluster")?),
                };
                RemotingCommand::success().with_body(serde_json::to_vec(&body).unwrap_or_default())
            }
            rq::DELETE_TOPIC_IN_NAMESRV => {
                self.routes
                    .delete_topic(req.str_field("topic")?, req.field("clusterName").unwrap_or(""));
                RemotingCommand::success()
            }
            rq::PUT_KV_CONFIG => {
                self.kv.put(
                    req.str_field("namespace")?,
                    req.str_field("key")?,
                    req.str_field("value")?,
                );
                RemotingCommand::success()
            }
            rq::GET_KV_CONFIG => {
                let (ns, key) = (req.str_field("namespace")?, req.str_field("key")?);
                match self.kv.get(ns, key) {
                    Some(v) => RemotingCommand::success().with("value", v),
                    None => RemotingCommand::error(
                        rs::QUERY_NOT_FOUND,
                        format!("No config item, Namespace: {ns} Key: {key}"),
                    ),
                }
            }
            rq::DELETE_KV_CONFIG => {
                self.kv.delete(req.str_field("namespace")?, req.str_field("key")?);
                RemotingCommand::success()
            }
            rq::GET_KVLIST_BY_NAMESPACE => {
                let ns = req.str_field("namespace")?;
                match self.kv.list(ns) {
                    Some(table) => RemotingCommand::success()
                        .with_body(serde_json::to_vec(&KvTable { table }).unwrap_or_default()),
                    None => RemotingCommand::error(
                        rs::QUERY_NOT_FOUND,
                        format!("No config item, Namespace: {ns}"),
                    ),
                }
            }
            rq::QUERY_DATA_VERSION => {
                let addr = req.str_field("brokerAddr")?;
                let dv: DataVersion =
                    crate::protocol::json::from_strict(&req.body).unwrap_or_default();
                let (changed, current) = self.routes.query_data_version(addr, &dv);
                RemotingCommand::success().with("changed", changed).with_body(
                    current.map(|c| serde_json::to_vec(&c).unwrap_or_default()).unwrap_or_default(),
                )
            }
            other => RemotingCommand::error(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {other} not supported"),
            ),
        })
    }

    fn register(&self, ctx: &ReqCtx, req: &RemotingCommand) -> Result<RemotingCommand, FieldError> {
        let crc = req.opt_i32("bodyCrc32")?.unwrap_or(0);
        if crc != 0 && crc != crate::common::crc::masked_crc32(&req.body) {
            log::warn!("register rejected peer={} reason=\"body crc mismatch\"", ctx.peer());
            return Ok(RemotingCommand::error(rs::SYSTEM_ERROR, "crc32 not match"));
        }
        if req.bool_field("compressed") {
            return Ok(RemotingCommand::error(
                rs::SYSTEM_ERROR,
                "compressed broker registration is not supported; set compressedRegister=false",
            ));
        }
        let body: RegisterBrokerBody = if req.body.is_empty() {
            RegisterBrokerBody::default()
        } else {
            match crate::protocol::json::from_fastjson(&req.body) {
                Ok(b) => b,
                Err(e) => {
                    return Ok(RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        format!("bad register body: {e}"),
                    ))
                }
            }
        };
        let res = self.routes.register(Registration {
            cluster: req.str_field("clusterName")?,
            addr: req.str_field("brokerAddr")?,
            name: req.str_field("brokerName")?,
            id: req.i64_field("brokerId")?,
            ha_server_addr: req.field("haServerAddr").unwrap_or(""),
            topics: body.topic_config_serialize_wrapper,
            conn_id: ctx.conn.id(),
        });
        let mut resp = RemotingCommand::success();
        if let Some(h) = res.ha_server_addr {
            resp.put("haServerAddr", h);
        }
        if let Some(m) = res.master_addr {
            resp.put("masterAddr", m);
        }
        if let Some(table) = self.kv.list(ORDER_TOPIC_CONFIG) {
            resp.body = serde_json::to_vec(&KvTable { table }).unwrap_or_default();
        }
        Ok(resp)
    }
}

/// Build the name server's request table.
pub fn build_routes(
    routes: Arc<RouteTable>,
    kv: Arc<KvStore>,
    order_message_enable: bool,
    threads: usize,
) -> Routes {
    let ns = Arc::new(Namesrv { routes: routes.clone(), kv, order_message_enable });
    let mut table = Routes::new();
    let pool = table.pool("default", threads, 10_000);
    let handler = Arc::new(move |ctx: &ReqCtx, req: RemotingCommand| {
        log::debug!("namesrv request code={} peer={}", req.code, ctx.peer());
        Reply::Respond(ns.handle(ctx, req).unwrap_or_else(bad_field))
    });
    for code in [
        rq::REGISTER_BROKER,
        rq::UNREGISTER_BROKER,
        rq::GET_ROUTEINFO_BY_TOPIC,
        rq::GET_BROKER_CLUSTER_INFO,
        rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
        rq::GET_TOPICS_BY_CLUSTER,
        rq::DELETE_TOPIC_IN_NAMESRV,
        rq::PUT_KV_CONFIG,
        rq::GET_KV_CONFIG,
        rq::DELETE_KV_CONFIG,
        rq::GET_KVLIST_BY_NAMESPACE,
        rq::QUERY_DATA_VERSION,
    ] {
        table.register(code, pool, handler.clone());
    }
    table.on_close(Arc::new(move |conn| routes.connection_closed(conn.id())));
    table
}
