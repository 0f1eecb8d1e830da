//! `rmq-admin`: operator commands in the spirit of Apache's mqadmin, spoken directly over the
//! remoting protocol to name servers and brokers (src/remoting/client.rs).
//! Exit codes: 0 ok, 1 runtime failure (unreachable server, error response), 2 usage error.

use rmq::protocol::admin_body::TopicStatsTable;
use rmq::protocol::admin_body::{
    ConsumeStats, ConsumerConnection, ProducerConnection, ResetOffsetBody,
};
use rmq::protocol::body::{ClusterInfo, KvTable, TopicList, TopicRouteData};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::{decode_offset_msg_id, decode_record, parse_properties};
use rmq::remoting::RemotingClient;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

const HELP: &str = "usage: rmq-admin COMMAND [options]

Commands (Apache mqadmin names):
  updateTopic         -t TOPIC (-b BROKER_ADDR | -c CLUSTER) [-r READ_QUEUES] [-w WRITE_QUEUES]
                      [-p PERM] [-o true|false]        create or update a topic
  deleteTopic         -t TOPIC -c CLUSTER               delete from the cluster's brokers and
                                                        from every name server
  topicList                                             topics known to the name server
  topicRoute          -t TOPIC                          route data (brokers and queues)
  topicStatus         -t TOPIC                          min/max offset per queue
  clusterList                                           clusters, brokers and their figures
  brokerStatus        -b BROKER_ADDR                    runtime figures of one broker
  consumerProgress    -g GROUP [-t TOPIC]               offsets and lag per queue
  consumerConnection  -g GROUP                          the group's clients and subscriptions
  producerConnection  -g GROUP                          the group's producers
  getBrokerConfig     (-b BROKER_ADDR | -c CLUSTER)     broker configuration
  updateBrokerConfig  -k KEY -v VALUE (-b BROKER_ADDR | -c CLUSTER)
  updateSubGroup      -g GROUP (-b BROKER_ADDR | -c CLUSTER) [-r RETRY_MAX_TIMES]
                      [-d true|false (consumeBroadcastEnable)] [-s true|false (consumeEnable)]
  queryMsgById        -i MSG_ID                         one message by its offset message id
  resetOffsetByTime   -g GROUP -t TOPIC -s MILLIS|now [-f true|false (force)]
                      move the group's offsets to the first message stored at or after the
                      time (only backwards unless forced): pushed to running consumers by
                      the broker, or committed directly when none is online

Common options:
  -n NAMESRV_ADDR   name servers, ';'-separated (default: $NAMESRV_ADDR)
  -h, --help        this text
Exit status: 0 ok, 1 the command failed, 2 usage error.";

const TIMEOUT: Duration = Duration::from_secs(5);

/// Why the command did not succeed; maps to the exit code.
enum Fail {
    Usage(String),
    Runtime(String),
}

type Res<T> = Result<T, Fail>;

fn usage<T>(msg: impl Into<String>) -> Res<T> {
    Err(Fail::Usage(msg.into()))
}

fn runtime(msg: impl Into<String>) -> Fail {
    Fail::Runtime(msg.into())
}

struct Opts {
    command: String,
    flags: BTreeMap<char, String>,
}

fn parse(args: &[String]) -> Res<Opts> {
    let mut it = args.iter();
    let Some(command) = it.next() else { return usage("no command given (see --help)") };
    if command == "-h" || command == "--help" {
        return Ok(Opts { command: "help".into(), flags: BTreeMap::new() });
    }
    let mut flags = BTreeMap::new();
    while let Some(a) = it.next() {
        if a == "-h" || a == "--help" {
            return Ok(Opts { command: "help".into(), flags });
        }
        let mut chars = a.chars();
        let (Some('-'), Some(f), None) = (chars.next(), chars.next(), chars.next()) else {
            return usage(format!("unexpected argument '{a}' (see --help)"));
        };
        if !"nbtgcrwpoikvdsf".contains(f) {
            return usage(format!("unknown option -{f} (see --help)"));
        }
        let Some(v) = it.next() else { return usage(format!("-{f} needs a value")) };
        flags.insert(f, v.clone());
    }
    Ok(Opts { command: command.clone(), flags })
}

struct Admin {
    opts: Opts,
    client: RemotingClient,
}

impl Admin {
    fn flag(&self, f: char) -> Option<&str> {
        self.opts.flags.get(&f).map(String::as_str)
    }

    fn need(&self, f: char, what: &str) -> Res<String> {
        match self.flag(f) {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => usage(format!("{} needs -{f} {what}", self.opts.command)),
        }
    }

    fn namesrvs(&self) -> Res<Vec<String>> {
        let raw = self
            .flag('n')
            .map(str::to_string)
            .or_else(|| std::env::var("NAMESRV_ADDR").ok())
            .unwrap_or_default();
        let list: Vec<String> =
            raw.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if list.is_empty() {
            return usage(format!(
                "{} needs -n NAMESRV_ADDR (or $NAMESRV_ADDR)",
                self.opts.command
            ));
        }
        Ok(list)
    }

    /// Send `req` to `addr`; a non-SUCCESS answer is an error naming the code and remark.
    fn call(&self, addr: &str, req: RemotingCommand) -> Res<RemotingCommand> {
        let code = req.code;
        let r = self
            .client
            .invoke(addr, req, TIMEOUT)
            .map_err(|e| runtime(format!("request {code} to {addr} failed: {e}")))?;
        if r.code != rs::SUCCESS {
            return Err(runtime(format!(
                "request {code} to {addr} answered code {}: {}",
                r.code,
                r.remark.unwrap_or_default()
            )));
        }
        Ok(r)
    }

    /// Ask the name servers in turn; the first answer wins.
    fn call_namesrv(&self, req: RemotingCommand) -> Res<RemotingCommand> {
        let mut last = runtime("no name server");
        for ns in self.namesrvs()? {
            match self.call(&ns, req.clone()) {
                Ok(r) => return Ok(r),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn cluster_info(&self) -> Res<ClusterInfo> {
        let r = self.call_namesrv(RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO))?;
        ClusterInfo::decode(&r.body).map_err(|e| runtime(format!("bad cluster info: {e}")))
    }

    fn route(&self, topic: &str) -> Res<TopicRouteData> {
        let r = self.call_namesrv(
            RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic),
        )?;
        TopicRouteData::decode(&r.body).map_err(|e| runtime(format!("bad route data: {e}")))
    }

    /// (broker name, master address) of every broker, or of one cluster.
    fn masters(&self, cluster: Option<&str>) -> Res<Vec<(String, String)>> {
        let info = self.cluster_info()?;
        let names: BTreeSet<String> = match cluster {
            Some(c) => match info.cluster_addr_table.get(c) {
                Some(n) => n.clone(),
                None => return Err(runtime(format!("cluster {c} not found on the name server"))),
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

    /// The brokers named by -b or -c.
    fn targets(&self) -> Res<Vec<String>> {
        if let Some(b) = self.flag('b') {
            return Ok(vec![b.to_string()]);
        }
        if let Some(c) = self.flag('c') {
            let m = self.masters(Some(c))?;
            if m.is_empty() {
                return Err(runtime(format!("cluster {c} has no master broker")));
            }
            return Ok(m.into_iter().map(|(_, a)| a).collect());
        }
        usage(format!("{} needs -b BROKER_ADDR or -c CLUSTER", self.opts.command))
    }

    fn bool_flag(&self, f: char, default: bool) -> Res<bool> {
        match self.flag(f) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => usage(format!("-{f} expects true or false, not '{v}'")),
        }
    }

    fn num_flag(&self, f: char, default: i64) -> Res<i64> {
        match self.flag(f) {
            None => Ok(default),
            Some(v) => v.parse().or_else(|_| usage(format!("-{f} expects a number, not '{v}'"))),
        }
    }

    fn run(&self) -> Res<String> {
        match self.opts.command.as_str() {
            "help" => Ok(HELP.to_string()),
            "updateTopic" => self.update_topic(),
            "deleteTopic" => self.delete_topic(),
            "topicList" => self.topic_list(),
            "topicRoute" => self.topic_route(),
            "topicStatus" => self.topic_status(),
            "clusterList" => self.cluster_list(),
            "brokerStatus" => self.broker_status(),
            "consumerProgress" => self.consumer_progress(),
            "consumerConnection" => self.consumer_connection(),
            "producerConnection" => self.producer_connection(),
            "getBrokerConfig" => self.get_broker_config(),
            "updateBrokerConfig" => self.update_broker_config(),
            "updateSubGroup" => self.update_sub_group(),
            "queryMsgById" => self.query_msg_by_id(),
            "resetOffsetByTime" => self.reset_offset_by_time(),
            other => usage(format!("unknown command '{other}' (see --help)")),
        }
    }

    fn update_topic(&self) -> Res<String> {
        let topic = self.need('t', "TOPIC")?;
        let read = self.num_flag('r', 8)?;
        let write = self.num_flag('w', 8)?;
        let perm = self.num_flag('p', 6)?;
        let order = self.bool_flag('o', false)?;
        let mut out = String::new();
        for addr in self.targets()? {
            let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
                .with("topic", &topic)
                .with("defaultTopic", "TBW102")
                .with("readQueueNums", read)
                .with("writeQueueNums", write)
                .with("perm", perm)
                .with("topicFilterType", "SINGLE_TAG")
                .with("topicSysFlag", 0)
                .with("order", order);
            self.call(&addr, req)?;
            let _ = writeln!(
                out,
                "create topic to {addr} success. topic={topic} read={read} write={write} perm={perm} order={order}"
            );
        }
        Ok(out)
    }

    fn delete_topic(&self) -> Res<String> {
        let topic = self.need('t', "TOPIC")?;
        let cluster = self.need('c', "CLUSTER")?;
        let mut out = String::new();
        for (_, addr) in self.masters(Some(&cluster))? {
            self.call(
                &addr,
                RemotingCommand::request(rq::DELETE_TOPIC_IN_BROKER).with("topic", &topic),
            )?;
            let _ = writeln!(out, "delete topic [{topic}] from broker {addr} success.");
        }
        for ns in self.namesrvs()? {
            self.call(
                &ns,
                RemotingCommand::request(rq::DELETE_TOPIC_IN_NAMESRV).with("topic", &topic),
            )?;
            let _ = writeln!(out, "delete topic [{topic}] from name server {ns} success.");
        }
        Ok(out)
    }

    fn topic_list(&self) -> Res<String> {
        let r =
            self.call_namesrv(RemotingCommand::request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER))?;
        let list: TopicList = rmq::protocol::json::from_fastjson(&r.body)
            .map_err(|e| runtime(format!("bad topic list: {e}")))?;
        Ok(list.topic_list.into_iter().map(|t| t + "\n").collect())
    }

    fn topic_route(&self) -> Res<String> {
        let route = self.route(&self.need('t', "TOPIC")?)?;
        let mut out = String::new();
        for b in &route.broker_datas {
            for (id, addr) in &b.broker_addrs {
                let _ = writeln!(
                    out,
                    "broker {:<24} cluster {:<20} id {id} addr {addr}",
                    b.broker_name, b.cluster
                );
            }
        }
        for q in &route.queue_datas {
            let _ = writeln!(
                out,
                "queues {:<24} read {:<4} write {:<4} perm {}",
                q.broker_name, q.read_queue_nums, q.write_queue_nums, q.perm
            );
        }
        if let Some(conf) = &route.order_topic_conf {
            let _ = writeln!(out, "orderTopicConf {conf}");
        }
        Ok(out)
    }

    fn topic_status(&self) -> Res<String> {
        let topic = self.need('t', "TOPIC")?;
        let route = self.route(&topic)?;
        let mut out = format!(
            "{:<32} {:<4} {:>16} {:>16} {}\n",
            "#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"
        );
        for b in &route.broker_datas {
            let Some(addr) = b.broker_addrs.get(&0) else { continue };
            let r = self.call(
                addr,
                RemotingCommand::request(rq::GET_TOPIC_STATS_INFO).with("topic", &topic),
            )?;
            let t = TopicStatsTable::decode(&r.body)
                .map_err(|e| runtime(format!("bad topic stats: {e}")))?;
            for (mq, o) in &t.offset_table {
                let _ = writeln!(
                    out,
                    "{:<32} {:<4} {:>16} {:>16} {}",
                    mq.broker_name,
                    mq.queue_id,
                    o.min_offset,
                    o.max_offset,
                    o.last_update_timestamp
                );
            }
        }
        Ok(out)
    }

    fn runtime_info(&self, addr: &str) -> Res<BTreeMap<String, String>> {
        let r = self.call(addr, RemotingCommand::request(rq::GET_BROKER_RUNTIME_INFO))?;
        let kv: KvTable = rmq::protocol::json::from_fastjson(&r.body)
            .map_err(|e| runtime(format!("bad runtime info from {addr}: {e}")))?;
        Ok(kv.table)
    }

    fn cluster_list(&self) -> Res<String> {
        let info = self.cluster_info()?;
        let mut out = format!(
            "{:<20} {:<24} {:<4} {:<22} {:<10} {:>14}\n",
            "#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version", "#Messages"
        );
        for (cluster, names) in &info.cluster_addr_table {
            for name in names {
                let Some(b) = info.broker_addr_table.get(name) else { continue };
                for (id, addr) in &b.broker_addrs {
                    let (version, msgs) = match self.runtime_info(addr) {
                        Ok(t) => (
                            t.get("brokerVersionDesc").cloned().unwrap_or_default(),
                            t.get("msgPutTotalTodayNow").cloned().unwrap_or_default(),
                        ),
                        Err(_) => ("unreachable".to_string(), "-".to_string()),
                    };
                    let _ = writeln!(
                        out,
                        "{cluster:<20} {name:<24} {id:<4} {addr:<22} {version:<10} {msgs:>14}"
                    );
                }
            }
        }
        Ok(out)
    }

    fn broker_status(&self) -> Res<String> {
        let addr = self.need('b', "BROKER_ADDR")?;
        Ok(self.runtime_info(&addr)?.into_iter().map(|(k, v)| format!("{k:<36}: {v}\n")).collect())
    }

    fn consumer_progress(&self) -> Res<String> {
        let group = self.need('g', "GROUP")?;
        let topic = self.flag('t').unwrap_or("");
        let mut all = ConsumeStats::default();
        let mut failures = Vec::new();
        for (_, addr) in self.masters(None)? {
            let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
                .with("consumerGroup", &group)
                .with("topic", topic);
            // A broker that is down must not hide the progress on the others.
            let r = match self.call(&addr, req) {
                Ok(r) => r,
                Err(Fail::Runtime(e) | Fail::Usage(e)) => {
                    failures.push(e);
                    continue;
                }
            };
            let s = ConsumeStats::decode(&r.body)
                .map_err(|e| runtime(format!("bad consume stats from {addr}: {e}")))?;
            all.consume_tps += s.consume_tps;
            all.offset_table.extend(s.offset_table);
        }
        if all.offset_table.is_empty() {
            failures.insert(0, format!("no consume progress for group {group}"));
            return Err(runtime(failures.join("; ")));
        }
        for f in &failures {
            eprintln!("rmq-admin: warning: {f}");
        }
        let mut out = format!(
            "{:<32} {:<24} {:<4} {:>14} {:>14} {:>10} {}\n",
            "#Topic",
            "#Broker Name",
            "#QID",
            "#Broker Offset",
            "#Consumer Offset",
            "#Diff",
            "#LastTime"
        );
        let mut rows: Vec<_> = all.offset_table.iter().collect();
        rows.sort_by(|a, b| {
            (&a.0.topic, &a.0.broker_name, a.0.queue_id).cmp(&(
                &b.0.topic,
                &b.0.broker_name,
                b.0.queue_id,
            ))
        });
        for (mq, o) in rows {
            let _ = writeln!(
                out,
                "{:<32} {:<24} {:<4} {:>14} {:>14} {:>10} {}",
                mq.topic,
                mq.broker_name,
                mq.queue_id,
                o.broker_offset,
                o.consumer_offset,
                o.lag(),
                o.last_timestamp
            );
        }
        let _ =
            writeln!(out, "\nConsume TPS: {:.2}\nDiff Total: {}", all.consume_tps, all.total_lag());
        Ok(out)
    }

    fn consumer_connection(&self) -> Res<String> {
        let group = self.need('g', "GROUP")?;
        let mut found: Option<ConsumerConnection> = None;
        let mut last = runtime(format!("the consumer group[{group}] not online"));
        for (_, addr) in self.masters(None)? {
            let req = RemotingCommand::request(rq::GET_CONSUMER_CONNECTION_LIST)
                .with("consumerGroup", &group);
            match self.call(&addr, req) {
                Ok(r) => {
                    let c: ConsumerConnection = rmq::protocol::json::from_fastjson(&r.body)
                        .map_err(|e| {
                            runtime(format!("bad consumer connection from {addr}: {e}"))
                        })?;
                    match &mut found {
                        None => found = Some(c),
                        Some(f) => {
                            f.connection_set.extend(c.connection_set);
                            f.subscription_table.extend(c.subscription_table);
                        }
                    }
                }
                Err(e) => last = e,
            }
        }
        let Some(mut c) = found else { return Err(last) };
        c.connection_set.sort();
        c.connection_set.dedup_by(|a, b| a.client_id == b.client_id);
        let mut out = format!(
            "{:<4} {:<40} {:<22} {:<8} {}\n",
            "#", "#ClientId", "#ClientAddr", "#Language", "#Version"
        );
        for (i, k) in c.connection_set.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:<4} {:<40} {:<22} {:<8} {}",
                i + 1,
                k.client_id,
                k.client_addr,
                k.language,
                k.version
            );
        }
        let _ = writeln!(out, "\nBelow is subscription:");
        for (i, (t, s)) in c.subscription_table.iter().enumerate() {
            let _ = writeln!(out, "{:<4} Topic: {:<32} SubExpression: {}", i + 1, t, s.sub_string);
        }
        let _ = writeln!(out, "\nConsumeType: {}", c.consume_type);
        let _ = writeln!(out, "MessageModel: {}", c.message_model);
        let _ = writeln!(out, "ConsumeFromWhere: {}", c.consume_from_where);
        Ok(out)
    }

    fn producer_connection(&self) -> Res<String> {
        let group = self.need('g', "GROUP")?;
        let mut conns = BTreeMap::new();
        let mut last = runtime(format!("the producer group[{group}] not exist"));
        for (_, addr) in self.masters(None)? {
            let req = RemotingCommand::request(rq::GET_PRODUCER_CONNECTION_LIST)
                .with("producerGroup", &group);
            match self.call(&addr, req) {
                Ok(r) => {
                    let p: ProducerConnection = rmq::protocol::json::from_fastjson(&r.body)
                        .map_err(|e| {
                            runtime(format!("bad producer connection from {addr}: {e}"))
                        })?;
                    for c in p.connection_set {
                        conns.insert(c.client_id.clone(), c);
                    }
                }
                Err(e) => last = e,
            }
        }
        if conns.is_empty() {
            return Err(last);
        }
        let mut out = String::new();
        for (i, c) in conns.values().enumerate() {
            let _ = writeln!(
                out,
                "{:04}  {:<40} {:<22} {:<8} {}",
                i + 1,
                c.client_id,
                c.client_addr,
                c.language,
                c.version
            );
        }
        Ok(out)
    }

    fn get_broker_config(&self) -> Res<String> {
        let mut out = String::new();
        for addr in self.targets()? {
            let r = self.call(&addr, RemotingCommand::request(rq::GET_BROKER_CONFIG))?;
            let _ = writeln!(out, "============{addr}============");
            for (k, v) in rmq::common::config::parse_properties(&String::from_utf8_lossy(&r.body)) {
                let _ = writeln!(out, "{k:<40}=  {v}");
            }
        }
        Ok(out)
    }

    fn update_broker_config(&self) -> Res<String> {
        let key = self.need('k', "KEY")?;
        let value = self.need('v', "VALUE")?;
        let mut out = String::new();
        for addr in self.targets()? {
            let req = RemotingCommand::request(rq::UPDATE_BROKER_CONFIG)
                .with_body(format!("{key}={value}\n").into_bytes());
            let r = self.call(&addr, req)?;
            let _ = write!(out, "update broker config success, {addr}");
            if let Some(remark) = r.remark.filter(|s| !s.is_empty()) {
                let _ = write!(out, " ({remark})");
            }
            out.push('\n');
        }
        Ok(out)
    }

    fn update_sub_group(&self) -> Res<String> {
        let group = self.need('g', "GROUP")?;
        let body = serde_json::json!({
            "groupName": group,
            "consumeEnable": self.bool_flag('s', true)?,
            "consumeFromMinEnable": false,
            "consumeBroadcastEnable": self.bool_flag('d', true)?,
            "retryQueueNums": 1,
            "retryMaxTimes": self.num_flag('r', 16)?,
            "brokerId": 0,
            "whichBrokerWhenConsumeSlowly": 1,
            "notifyConsumerIdsChangedEnable": true,
        });
        let mut out = String::new();
        for addr in self.targets()? {
            let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
                .with_body(body.to_string().into_bytes());
            self.call(&addr, req)?;
            let _ = writeln!(out, "create subscription group to {addr} success.");
        }
        Ok(out)
    }

    /// mqadmin's resetOffsetByTime: INVOKE_BROKER_TO_RESET_OFFSET on every broker of the
    /// topic's route, which pushes the offsets to the running consumers; where no consumer is
    /// online (CONSUMER_NOT_ONLINE), the old way: per queue SEARCH_OFFSET_BY_TIMESTAMP then
    /// UPDATE_CONSUMER_OFFSET.
    fn reset_offset_by_time(&self) -> Res<String> {
        let group = self.need('g', "GROUP")?;
        let topic = self.need('t', "TOPIC")?;
        let ts = match self.need('s', "MILLIS|now")?.as_str() {
            "now" => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            v => v
                .parse()
                .or_else(|_| usage(format!("-s expects milliseconds or 'now', not '{v}'")))?,
        };
        let force = self.bool_flag('f', false)?;
        let route = self.route(&topic)?;
        let mut out = format!(
            "{:<24} {:<4} {:>14} {:>16} {:>16} {:>14}\n",
            "#brokerName",
            "#QID",
            "#brokerOffset",
            "#consumerOffset",
            "#timestampOffset",
            "#resetOffset"
        );
        for b in &route.broker_datas {
            let Some(addr) = b.broker_addrs.get(&0) else { continue };
            let req = RemotingCommand::request(rq::INVOKE_BROKER_TO_RESET_OFFSET)
                .with("topic", &topic)
                .with("group", &group)
                .with("timestamp", ts)
                .with("isForce", force);
            let r = self
                .client
                .invoke(addr, req, TIMEOUT)
                .map_err(|e| runtime(format!("reset offset on {addr} failed: {e}")))?;
            if r.code == rs::SUCCESS {
                let body = ResetOffsetBody::decode(&r.body)
                    .map_err(|e| runtime(format!("bad reset answer from {addr}: {e}")))?;
                for (mq, off) in &body.offset_table {
                    let _ = writeln!(
                        out,
                        "{:<24} {:<4} {:>14} {:>16} {:>16} {:>14}",
                        mq.broker_name, mq.queue_id, "-", "-", "-", off
                    );
                }
                let _ = writeln!(out, "(pushed to the running consumers by {addr})");
                continue;
            }
            if r.code != rs::CONSUMER_NOT_ONLINE {
                return Err(runtime(format!(
                    "reset offset on {addr} answered code {}: {}",
                    r.code,
                    r.remark.unwrap_or_default()
                )));
            }
            let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
                .with("consumerGroup", &group)
                .with("topic", &topic);
            let stats = ConsumeStats::decode(&self.call(addr, req)?.body)
                .map_err(|e| runtime(format!("bad consume stats from {addr}: {e}")))?;
            for (mq, o) in &stats.offset_table {
                let req = RemotingCommand::request(rq::SEARCH_OFFSET_BY_TIMESTAMP)
                    .with("topic", &topic)
                    .with("queueId", mq.queue_id)
                    .with("timestamp", ts);
                let at = self
                    .call(addr, req)?
                    .i64_field("offset")
                    .map_err(|e| runtime(format!("bad search offset answer: {e}")))?;
                let reset = if force || at < o.consumer_offset { at } else { o.consumer_offset };
                if reset != o.consumer_offset {
                    let req = RemotingCommand::request(rq::UPDATE_CONSUMER_OFFSET)
                        .with("consumerGroup", &group)
                        .with("topic", &topic)
                        .with("queueId", mq.queue_id)
                        .with("commitOffset", reset);
                    self.call(addr, req)?;
                }
                let _ = writeln!(
                    out,
                    "{:<24} {:<4} {:>14} {:>16} {:>16} {:>14}",
                    mq.broker_name, mq.queue_id, o.broker_offset, o.consumer_offset, at, reset
                );
            }
        }
        Ok(out)
    }

    fn query_msg_by_id(&self) -> Res<String> {
        let id = self.need('i', "MSG_ID")?;
        let Some((host, offset)) = decode_offset_msg_id(&id) else {
            return usage(format!("'{id}' is not an offset message id (32 or 56 hex digits)"));
        };
        let addr = host.to_string();
        let r = self
            .call(&addr, RemotingCommand::request(rq::VIEW_MESSAGE_BY_ID).with("offset", offset))?;
        let (m, _) = decode_record(&r.body, false)
            .map_err(|e| runtime(format!("bad message record: {e}")))?;
        let mut out = String::new();
        let _ = writeln!(out, "{:<20}{}", "OffsetID:", id);
        let _ = writeln!(out, "{:<20}{}", "Topic:", m.topic);
        let props = parse_properties(&m.properties);
        let prop = |k: &str| {
            props.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone()).unwrap_or_default()
        };
        let _ = writeln!(out, "{:<20}[{}]", "Tags:", prop("TAGS"));
        let _ = writeln!(out, "{:<20}[{}]", "Keys:", prop("KEYS"));
        let _ = writeln!(out, "{:<20}{}", "Queue ID:", m.queue_id);
        let _ = writeln!(out, "{:<20}{}", "Queue Offset:", m.queue_offset);
        let _ = writeln!(out, "{:<20}{}", "CommitLog Offset:", m.physical_offset);
        let _ = writeln!(out, "{:<20}{}", "Reconsume Times:", m.reconsume_times);
        let _ = writeln!(out, "{:<20}{}", "Born Timestamp:", m.born_timestamp);
        let _ = writeln!(out, "{:<20}{}", "Store Timestamp:", m.store_timestamp);
        let _ = writeln!(out, "{:<20}{}", "Born Host:", m.born_host);
        let _ = writeln!(out, "{:<20}{}", "Store Host:", m.store_host);
        let _ = writeln!(out, "{:<20}{}", "System Flag:", m.sys_flag);
        let _ =
            writeln!(out, "{:<20}{}", "Properties:", m.properties.replace(['\u{1}', '\u{2}'], " "));
        let _ = writeln!(out, "{:<20}{}", "Message Body:", String::from_utf8_lossy(&m.body));
        Ok(out)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-v" && args.len() == 1)
        || args.first().is_some_and(|a| a == "--version")
    {
        println!("rmq-admin {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let result = parse(&args).and_then(|opts| {
        let admin = Admin { opts, client: RemotingClient::new() };
        let r = admin.run();
        admin.client.shutdown();
        r
    });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(Fail::Usage(msg)) => {
            eprintln!("rmq-admin: {msg}");
            ExitCode::from(2)
        }
        Err(Fail::Runtime(msg)) => {
            eprintln!("rmq-admin: {msg}");
            ExitCode::from(1)
        }
    }
}
