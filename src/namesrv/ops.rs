//! Operator requests of the name server (Apache's DefaultRequestProcessor):
//!
//! - WIPE_WRITE_PERM_OF_BROKER (205) / ADD_WRITE_PERM_OF_BROKER (327): header `brokerName`;
//!   answers `wipeTopicCount` / `addTopicCount`, the topics whose queue data was changed.
//! - GET_NAMESRV_CONFIG (319): the configuration as a properties body (`key=value` lines).
//! - UPDATE_NAMESRV_CONFIG (318): a properties body; a key of the black list (configBlackList,
//!   configStorePath, kvConfigPath, rocketmqHome and the `configBlackList` value) gets
//!   NO_PERMISSION "Can not update config in black list."; an unknown key or a bad value gets
//!   SYSTEM_ERROR naming it, and nothing is changed. Accepted values are kept in memory and
//!   reported by GET_NAMESRV_CONFIG, as Apache's Configuration does; like most of Apache's
//!   name-server settings they do not change a running server (the table and scanner keep
//!   the values they started with).
//!
//! They run on their own one-thread pool, so an operator never queues behind registrations.

use super::config::NamesrvConfig;
use super::routes::RouteTable;
use crate::common::config::{parse_properties, ConfigKeys};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::remoting::{Reply, ReqCtx, Routes};
use parking_lot::RwLock;
use std::sync::Arc;

/// Keys that may never be changed at run time (DefaultRequestProcessor.initConfigBlackList).
const FIXED_BLACK_LIST: [&str; 4] =
    ["configBlackList", "configStorePath", "kvConfigPath", "rocketmqHome"];

struct Ops {
    routes: Arc<RouteTable>,
    cfg: RwLock<NamesrvConfig>,
}

impl Ops {
    fn handle(&self, ctx: &ReqCtx, req: &RemotingCommand) -> RemotingCommand {
        match req.code {
            rq::WIPE_WRITE_PERM_OF_BROKER | rq::ADD_WRITE_PERM_OF_BROKER => {
                let wipe = req.code == rq::WIPE_WRITE_PERM_OF_BROKER;
                let name = match req.str_field("brokerName") {
                    Ok(n) => n,
                    Err(e) => return RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string()),
                };
                let n = self.routes.set_write_perm(name, wipe);
                log::info!(
                    "write perm {} broker={name} topics={n} peer={}",
                    if wipe { "wiped" } else { "added" },
                    ctx.peer()
                );
                let key = if wipe { "wipeTopicCount" } else { "addTopicCount" };
                RemotingCommand::success().with(key, n)
            }
            rq::GET_NAMESRV_CONFIG => {
                let body: String = self
                    .cfg
                    .read()
                    .to_properties()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}\n"))
                    .collect();
                RemotingCommand::success().with_body(body.into_bytes())
            }
            rq::UPDATE_NAMESRV_CONFIG => self.update(ctx, req),
            other => RemotingCommand::error(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {other} not supported"),
            ),
        }
    }

    fn update(&self, ctx: &ReqCtx, req: &RemotingCommand) -> RemotingCommand {
        let text = match std::str::from_utf8(&req.body) {
            Ok(t) => t,
            Err(_) => return RemotingCommand::error(rs::SYSTEM_ERROR, "config body is not UTF-8"),
        };
        let pairs = parse_properties(text);
        let mut cfg = self.cfg.write();
        let black: Vec<String> = FIXED_BLACK_LIST
            .iter()
            .map(|s| s.to_string())
            .chain(cfg.config_black_list.split(';').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect();
        if pairs.iter().any(|(k, _)| black.contains(k)) {
            return RemotingCommand::error(
                rs::NO_PERMISSION,
                "Can not update config in black list.",
            );
        }
        let mut next = cfg.clone();
        for (k, v) in &pairs {
            match next.set(k, v) {
                Ok(true) => {}
                Ok(false) => {
                    return RemotingCommand::error(rs::SYSTEM_ERROR, format!("unknown key {k}"))
                }
                Err(why) => {
                    return RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        format!("bad value '{v}' for {k}: {why}"),
                    )
                }
            }
        }
        *cfg = next;
        log::info!("namesrv config updated keys={} peer={}", pairs.len(), ctx.peer());
        RemotingCommand::success()
    }
}

/// Register the operator codes on their own pool.
pub(super) fn register(table: &mut Routes, routes: Arc<RouteTable>, cfg: NamesrvConfig) {
    let ops = Arc::new(Ops { routes, cfg: RwLock::new(cfg) });
    let pool = table.pool("ops", 1, 1_000);
    let handler =
        Arc::new(move |ctx: &ReqCtx, req: RemotingCommand| Reply::Respond(ops.handle(ctx, &req)));
    for code in [
        rq::WIPE_WRITE_PERM_OF_BROKER,
        rq::ADD_WRITE_PERM_OF_BROKER,
        rq::GET_NAMESRV_CONFIG,
        rq::UPDATE_NAMESRV_CONFIG,
    ] {
        table.register(code, pool, handler.clone());
    }
}
