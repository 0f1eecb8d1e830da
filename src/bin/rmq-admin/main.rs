//! `rmq-admin`: Apache mqadmin's commands over `rmq::admin`. This binary only parses arguments
//! and prints: aligned tables by default, `--json` for scripts, `--help` per command.
//! Exit codes: 0 ok, 1 the command failed (unreachable server, error answer, nothing found),
//! 2 usage error (unknown command or option, missing or malformed argument).

mod args;
mod cmd_cluster;
mod cmd_group;
mod cmd_msg;
mod cmd_ns;
mod table;

use args::{Fail, Opt, Opts, Res};
use rmq::admin::{Admin, DEFAULT_TIMEOUT};
use std::process::ExitCode;
use table::Out;

/// One command: mqadmin's name, a line of help, its options, and what runs it.
struct Cmd {
    name: &'static str,
    summary: &'static str,
    opts: &'static [Opt],
    run: fn(&Admin, &Opts) -> Res<Out>,
}

const fn cmd(
    name: &'static str,
    summary: &'static str,
    opts: &'static [Opt],
    run: fn(&Admin, &Opts) -> Res<Out>,
) -> Cmd {
    Cmd { name, summary, opts, run }
}

use cmd_cluster as c;
use cmd_group as g;
use cmd_msg as m;
use cmd_ns as n;

const COMMANDS: &[Cmd] = &[
    cmd(
        "updateTopic",
        "Create or update a topic on a broker or a cluster.",
        c::UPDATE_TOPIC,
        c::update_topic,
    ),
    cmd(
        "deleteTopic",
        "Delete a topic from a cluster's brokers and every name server.",
        c::DELETE_TOPIC,
        c::delete_topic,
    ),
    cmd("topicList", "Topics known to the name server.", &[], c::topic_list),
    cmd("topicRoute", "Route of a topic: brokers and queues.", c::TOPIC, c::topic_route),
    cmd("topicStatus", "Min and max offset of each queue of a topic.", c::TOPIC, c::topic_status),
    cmd("clusterList", "Clusters, brokers and their figures.", &[], c::cluster_list),
    cmd("brokerStatus", "Runtime figures of one broker.", c::BROKER, c::broker_status),
    cmd(
        "getBrokerConfig",
        "Configuration of a broker or of a cluster's brokers.",
        c::TARGET,
        c::get_broker_config,
    ),
    cmd(
        "updateBrokerConfig",
        "Change one broker configuration key at run time.",
        c::UPDATE_BROKER_CONFIG,
        c::update_broker_config,
    ),
    cmd(
        "cleanExpiredCQ",
        "Clean expired consume queues on a broker, a cluster or every broker.",
        c::TARGET,
        c::clean_expired_cq,
    ),
    cmd(
        "clusterRT",
        "Send messages to every broker and print the send time (one round).",
        c::CLUSTER_RT,
        c::cluster_rt,
    ),
    cmd(
        "consumerProgress",
        "Offsets and lag of a consumer group per queue.",
        g::PROGRESS,
        g::consumer_progress,
    ),
    cmd(
        "consumerConnection",
        "Online clients and subscriptions of a consumer group.",
        g::CONSUMER_GROUP,
        g::consumer_connection,
    ),
    cmd(
        "producerConnection",
        "Online clients of a producer group.",
        g::PRODUCER_GROUP,
        g::producer_connection,
    ),
    cmd(
        "updateSubGroup",
        "Create or update a subscription group.",
        g::UPDATE_SUB_GROUP,
        g::update_sub_group,
    ),
    cmd(
        "deleteSubGroup",
        "Delete a subscription group from a broker or a cluster.",
        g::DELETE_SUB_GROUP,
        g::delete_sub_group,
    ),
    cmd(
        "resetOffsetByTime",
        "Move a group's offsets to the first message stored at or after a time.",
        g::RESET_OFFSET,
        g::reset_offset_by_time,
    ),
    cmd(
        "brokerConsumeStats",
        "Every group's progress on one broker (GET_BROKER_CONSUME_STATS).",
        g::BROKER_CONSUME_STATS,
        g::broker_consume_stats,
    ),
    cmd(
        "statsAll",
        "Per topic and group: accumulation, in/out TPS, messages of the last 24 hours.",
        g::STATS_ALL,
        g::stats_all,
    ),
    cmd("queryMsgById", "One message by its offset message id.", m::BY_ID, m::query_msg_by_id),
    cmd("queryMsgByKey", "Messages of a topic with a key.", m::BY_KEY, m::query_msg_by_key),
    cmd(
        "queryMsgByUniqueKey",
        "A message by its unique id (UNIQ_KEY).",
        m::BY_UNIQUE_KEY,
        m::query_msg_by_unique_key,
    ),
    cmd(
        "queryMsgByOffset",
        "The message at an offset of one queue.",
        m::BY_OFFSET,
        m::query_msg_by_offset,
    ),
    cmd("printMsg", "Print the messages of every queue of a topic.", m::PRINT, m::print_msg),
    cmd(
        "printMsgByQueue",
        "Print or count the messages of one queue.",
        m::PRINT_BY_QUEUE,
        m::print_msg_by_queue,
    ),
    cmd("sendMessage", "Send one message.", m::SEND, m::send_message),
    cmd(
        "consumeMessage",
        "Read messages from a topic or a queue (commits nothing).",
        m::CONSUME,
        m::consume_message,
    ),
    cmd("getNamesrvConfig", "Configuration of every name server.", &[], n::get_namesrv_config),
    cmd(
        "updateNamesrvConfig",
        "Change one name server configuration key.",
        n::KEY_VALUE,
        n::update_namesrv_config,
    ),
    cmd("updateKvConfig", "Create or update a KV config entry.", n::KV_UPDATE, n::update_kv_config),
    cmd("deleteKvConfig", "Delete a KV config entry.", n::KV_DELETE, n::delete_kv_config),
    cmd("getKvConfig", "One KV config entry, or a whole namespace.", n::KV_GET, n::get_kv_config),
    cmd(
        "wipeWritePerm",
        "Take write permission from a broker's queues on every name server.",
        n::BROKER_NAME,
        n::wipe_write_perm,
    ),
    cmd(
        "addWritePerm",
        "Give a broker's queues read and write permission back.",
        n::BROKER_NAME,
        n::add_write_perm,
    ),
];

/// Commands that can talk to the broker they are given (`-b`, or the host in a message id)
/// without a name server.
const BROKER_ONLY: &[&str] = &[
    "brokerStatus",
    "getBrokerConfig",
    "updateBrokerConfig",
    "cleanExpiredCQ",
    "queryMsgById",
    "brokerConsumeStats",
];

fn overview() -> String {
    let mut out = String::from(
        "usage: rmq-admin COMMAND [options] [-n NAMESRV_ADDR] [--json]\n\n\
         Apache mqadmin's commands against rmq or Apache name servers and brokers.\n\n\
         Commands:\n",
    );
    for c in COMMANDS {
        out.push_str(&format!("  {:<22}{}\n", c.name, c.summary));
    }
    out.push_str(
        "\nrmq-admin COMMAND --help shows a command's options. -n defaults to $NAMESRV_ADDR.\n\
         Exit status: 0 ok, 1 the command failed, 2 usage error.\n",
    );
    out
}

fn run(argv: &[String]) -> Res<String> {
    let Some(name) = argv.first() else { return args::usage("no command given (see --help)") };
    if name == "-h" || name == "--help" || name == "help" {
        return Ok(overview());
    }
    let Some(cmd) = COMMANDS.iter().find(|c| c.name == name) else {
        return args::usage(format!("unknown command '{name}' (see --help)"));
    };
    let o = args::parse(cmd.name, argv.get(1..).unwrap_or(&[]), cmd.opts)?;
    if o.help {
        return Ok(args::help(cmd.name, cmd.summary, cmd.opts));
    }
    let namesrv = o
        .namesrv
        .clone()
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .filter(|s| s.split(';').any(|x| !x.trim().is_empty()));
    let admin = match namesrv {
        Some(ns) => Admin::new(&ns)?,
        None if BROKER_ONLY.contains(&cmd.name) => Admin::direct(DEFAULT_TIMEOUT),
        None => {
            return args::usage(format!("{} needs -n NAMESRV_ADDR (or $NAMESRV_ADDR)", cmd.name))
        }
    };
    o.sign(&admin);
    let out = (cmd.run)(&admin, &o);
    admin.shutdown();
    let out = out?;
    if o.json {
        Ok(serde_json::to_string_pretty(&out.json).unwrap_or_default() + "\n")
    } else {
        Ok(out.text)
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.len() == 1 && (argv[0] == "--version" || argv[0] == "-v") {
        println!("rmq-admin {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    match run(&argv) {
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
