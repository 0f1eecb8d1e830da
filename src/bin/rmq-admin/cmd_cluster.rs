//! Topic, cluster and broker commands.

use crate::args::{opt, req, usage, Opt, Opts, Res};
use crate::table::{kv_lines, Align, Out, Table};
use rmq::admin::{Admin, ClusterRt, Target, TopicOptions};
use std::fmt::Write as _;

use Align::{Left, Right};

/// `-b BROKER_ADDR` or `-c CLUSTER`, if either was given.
pub fn target_opt(o: &Opts) -> Option<Target> {
    if let Some(b) = o.get('b') {
        return Some(Target::Broker(b.trim().to_string()));
    }
    o.get('c').map(|c| Target::Cluster(c.trim().to_string()))
}

/// `-b` or `-c`, required.
pub fn target(o: &Opts) -> Res<Target> {
    match target_opt(o) {
        Some(t) => Ok(t),
        None => usage(format!("{} needs -b BROKER_ADDR or -c CLUSTER", o.command)),
    }
}

pub const UPDATE_TOPIC: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    opt('b', "brokerAddr", "ADDR", "create on this broker"),
    opt('c', "clusterName", "CLUSTER", "create on every master of the cluster"),
    opt('r', "readQueueNums", "N", "read queues (8)"),
    opt('w', "writeQueueNums", "N", "write queues (8)"),
    opt('p', "perm", "PERM", "permission: 2 write, 4 read, 6 both (6)"),
    opt('o', "order", "true|false", "ordered topic (false)"),
];

pub fn update_topic(a: &Admin, o: &Opts) -> Res<Out> {
    let t = target(o)?;
    let opts = TopicOptions {
        topic: o.need('t')?,
        read_queues: o.num_or('r', 8)?,
        write_queues: o.num_or('w', 8)?,
        perm: o.num_or('p', 6)?,
        order: o.bool_or('o', false)?,
    };
    let done = a.update_topic(&t, &opts)?;
    let mut text = String::new();
    for addr in &done {
        let _ = writeln!(
            text,
            "create topic to {addr} success. topic={} read={} write={} perm={} order={}",
            opts.topic, opts.read_queues, opts.write_queues, opts.perm, opts.order
        );
    }
    Ok(Out::new(text, &serde_json::json!({ "topic": opts.topic, "brokers": done })))
}

pub const DELETE_TOPIC: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    req('c', "clusterName", "CLUSTER", "delete from this cluster's brokers"),
];

pub fn delete_topic(a: &Admin, o: &Opts) -> Res<Out> {
    let (topic, cluster) = (o.need('t')?, o.need('c')?);
    let (brokers, namesrvs) = a.delete_topic(&cluster, &topic)?;
    let mut text = String::new();
    for b in &brokers {
        let _ = writeln!(text, "delete topic [{topic}] from broker {b} success.");
    }
    for n in &namesrvs {
        let _ = writeln!(text, "delete topic [{topic}] from name server {n} success.");
    }
    let json = serde_json::json!({ "topic": topic, "brokers": brokers, "namesrvs": namesrvs });
    Ok(Out::new(text, &json))
}

pub fn topic_list(a: &Admin, _o: &Opts) -> Res<Out> {
    let list = a.topic_list()?;
    Ok(Out::new(list.iter().map(|t| format!("{t}\n")).collect(), &list))
}

pub const TOPIC: &[Opt] = &[req('t', "topic", "TOPIC", "topic name")];

pub fn topic_route(a: &Admin, o: &Opts) -> Res<Out> {
    let r = a.topic_route(&o.need('t')?)?;
    let mut b =
        Table::new(&[("Broker Name", Left), ("Cluster", Left), ("BID", Right), ("Addr", Left)]);
    for x in &r.brokers {
        b.row(vec![
            x.broker_name.clone(),
            x.cluster.clone(),
            x.broker_id.to_string(),
            x.addr.clone(),
        ]);
    }
    let mut q = Table::new(&[
        ("Broker Name", Left),
        ("Read Queues", Right),
        ("Write Queues", Right),
        ("Perm", Right),
    ]);
    for x in &r.queues {
        q.row(vec![
            x.broker_name.clone(),
            x.read_queue_nums.to_string(),
            x.write_queue_nums.to_string(),
            x.perm.to_string(),
        ]);
    }
    let mut text = format!("{}\n{}", b.render(), q.render());
    if let Some(c) = &r.order_topic_conf {
        let _ = writeln!(text, "\nOrder Topic Conf: {c}");
    }
    Ok(Out::new(text, &r))
}

pub fn topic_status(a: &Admin, o: &Opts) -> Res<Out> {
    let rows = a.topic_status(&o.need('t')?)?;
    let mut t = Table::new(&[
        ("Broker Name", Left),
        ("QID", Right),
        ("Min Offset", Right),
        ("Max Offset", Right),
        ("Last Updated", Right),
    ]);
    for r in &rows {
        t.row(vec![
            r.broker_name.clone(),
            r.queue_id.to_string(),
            r.min_offset.to_string(),
            r.max_offset.to_string(),
            r.last_update_timestamp.to_string(),
        ]);
    }
    Ok(Out::new(t.render(), &rows))
}

pub fn cluster_list(a: &Admin, _o: &Opts) -> Res<Out> {
    let rows = a.cluster_list()?;
    let mut t = Table::new(&[
        ("Cluster Name", Left),
        ("Broker Name", Left),
        ("BID", Right),
        ("Addr", Left),
        ("Version", Left),
        ("InTPS", Right),
        ("OutTPS", Right),
        ("PCWait(ms)", Right),
        ("Hour", Right),
        ("SPACE", Right),
        ("Msgs Today", Right),
        ("Lag(bytes)", Right),
    ]);
    for r in &rows {
        t.row(vec![
            r.cluster.clone(),
            r.broker_name.clone(),
            r.broker_id.to_string(),
            r.addr.clone(),
            r.version.clone().unwrap_or_else(|| "unreachable".into()),
            format!("{:.2}", r.in_tps),
            format!("{:.2}", r.out_tps),
            r.page_cache_wait_ms.to_string(),
            format!("{:.2}", r.hours),
            format!("{:.4}", r.disk_ratio),
            r.msg_put_today.to_string(),
            r.replication_lag.map_or_else(|| "-".into(), |l| l.to_string()),
        ]);
    }
    Ok(Out::new(t.render(), &rows))
}

pub const BROKER: &[Opt] = &[req('b', "brokerAddr", "ADDR", "broker address")];

pub fn broker_status(a: &Admin, o: &Opts) -> Res<Out> {
    let kv = a.broker_status(&o.need('b')?)?;
    let text = kv.iter().map(|(k, v)| format!("{k:<36}: {v}\n")).collect();
    Ok(Out::new(text, &kv))
}

pub const TARGET: &[Opt] = &[
    opt('b', "brokerAddr", "ADDR", "one broker"),
    opt('c', "clusterName", "CLUSTER", "every master of the cluster"),
];

pub fn get_broker_config(a: &Admin, o: &Opts) -> Res<Out> {
    let entries = a.broker_config(&target(o)?)?;
    let mut text = String::new();
    let mut last = "";
    for e in &entries {
        if e.addr != last {
            let _ = writeln!(text, "============{}============", e.addr);
            last = &e.addr;
        }
        let _ = writeln!(text, "{:<40}=  {}", e.key, e.value);
    }
    Ok(Out::new(text, &entries))
}

pub const UPDATE_BROKER_CONFIG: &[Opt] = &[
    req('k', "key", "KEY", "config key"),
    req('v', "value", "VALUE", "config value"),
    opt('b', "brokerAddr", "ADDR", "one broker"),
    opt('c', "clusterName", "CLUSTER", "every master of the cluster"),
];

pub fn update_broker_config(a: &Admin, o: &Opts) -> Res<Out> {
    let (k, v) = (o.need('k')?, o.need('v')?);
    let done = a.update_broker_config(&target(o)?, &k, &v)?;
    let mut text = String::new();
    for (addr, remark) in &done {
        let _ = write!(text, "update broker config success, {addr}");
        if !remark.is_empty() {
            let _ = write!(text, " ({remark})");
        }
        text.push('\n');
    }
    let json: Vec<_> =
        done.iter().map(|(a, r)| serde_json::json!({ "addr": a, "remark": r })).collect();
    Ok(Out::new(text, &json))
}

pub fn clean_expired_cq(a: &Admin, o: &Opts) -> Res<Out> {
    let done = a.clean_expired_cq(target_opt(o).as_ref())?;
    let text =
        done.iter().map(|b| format!("clean expired consume queues on {b}: success\n")).collect();
    Ok(Out::new(text, &done))
}

pub const CLUSTER_RT: &[Opt] = &[
    opt('a', "amount", "N", "messages per broker (100)"),
    opt('s', "size", "BYTES", "body size (128)"),
    opt('c', "cluster", "CLUSTER", "only this cluster (default: all)"),
    opt('p', "printLog", "true|false", "print as cluster|broker|rt lines (false)"),
];

pub fn cluster_rt(a: &Admin, o: &Opts) -> Res<Out> {
    let rt = ClusterRt {
        amount: o.num_or('a', 100)?,
        size: o.num_or('s', 128)?,
        cluster: o.get('c').map(|c| c.trim().to_string()),
    };
    let rows = a.cluster_rt(&rt)?;
    let text = if o.bool_or('p', false)? {
        rows.iter().map(|r| format!("{}|{}|{:.0}\n", r.cluster, r.broker_name, r.rt_ms)).collect()
    } else {
        let mut t = Table::new(&[
            ("Cluster Name", Left),
            ("Broker Name", Left),
            ("RT", Right),
            ("successCount", Right),
            ("failCount", Right),
        ]);
        for r in &rows {
            t.row(vec![
                r.cluster.clone(),
                r.broker_name.clone(),
                format!("{:.2}", r.rt_ms),
                r.success.to_string(),
                r.failed.to_string(),
            ]);
        }
        t.render()
    };
    Ok(Out::new(text, &rows))
}

/// The `key: value` form used by a few one-record answers.
pub fn pairs(p: &[(&str, String)]) -> String {
    kv_lines(p.iter().map(|(k, v)| (*k, v.clone())))
}
