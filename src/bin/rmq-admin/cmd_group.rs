//! Consumer and producer group commands.

use crate::args::{opt, req, Opt, Opts, Res};
use crate::cmd_cluster::target;
use crate::table::{Align, Out, Table};
use rmq::admin::{parse_timestamp, Admin, SubGroupOptions};
use std::fmt::Write as _;

use Align::{Left, Right};

pub const PROGRESS: &[Opt] = &[
    req('g', "groupName", "GROUP", "consumer group"),
    opt('t', "topicName", "TOPIC", "only this topic"),
];

pub fn consumer_progress(a: &Admin, o: &Opts) -> Res<Out> {
    let topic = o.get('t').map(str::trim).filter(|t| !t.is_empty());
    let p = a.consumer_progress(&o.need('g')?, topic)?;
    for w in &p.warnings {
        eprintln!("rmq-admin: warning: {w}");
    }
    let mut t = Table::new(&[
        ("Topic", Left),
        ("Broker Name", Left),
        ("QID", Right),
        ("Broker Offset", Right),
        ("Consumer Offset", Right),
        ("Diff", Right),
        ("LastTime", Right),
    ]);
    for q in &p.queues {
        t.row(vec![
            q.topic.clone(),
            q.broker_name.clone(),
            q.queue_id.to_string(),
            q.broker_offset.to_string(),
            q.consumer_offset.to_string(),
            q.diff.to_string(),
            q.last_timestamp.to_string(),
        ]);
    }
    let text = format!(
        "{}\nConsume TPS: {:.2}\nDiff Total: {}\n",
        t.render(),
        p.consume_tps,
        p.diff_total
    );
    Ok(Out::new(text, &p))
}

pub const CONSUMER_GROUP: &[Opt] = &[req('g', "consumerGroup", "GROUP", "consumer group")];

pub fn consumer_connection(a: &Admin, o: &Opts) -> Res<Out> {
    let c = a.consumer_connection(&o.need('g')?)?;
    let mut t = Table::new(&[
        ("", Right),
        ("ClientId", Left),
        ("ClientAddr", Left),
        ("Language", Left),
        ("Version", Right),
    ]);
    for (i, k) in c.connections.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            k.client_id.clone(),
            k.client_addr.clone(),
            k.language.clone(),
            k.version.to_string(),
        ]);
    }
    let mut s = Table::new(&[("", Right), ("Topic", Left), ("SubExpression", Left)]);
    for (i, r) in c.subscriptions.iter().enumerate() {
        s.row(vec![(i + 1).to_string(), r.topic.clone(), r.sub_expression.clone()]);
    }
    let mut text = t.render();
    let _ = write!(text, "\nBelow is subscription:\n{}", s.render());
    let _ = writeln!(text, "\nConsumeType: {}", c.consume_type);
    let _ = writeln!(text, "MessageModel: {}", c.message_model);
    let _ = writeln!(text, "ConsumeFromWhere: {}", c.consume_from_where);
    Ok(Out::new(text, &c))
}

pub const PRODUCER_GROUP: &[Opt] = &[req('g', "producerGroup", "GROUP", "producer group")];

pub fn producer_connection(a: &Admin, o: &Opts) -> Res<Out> {
    let rows = a.producer_connection(&o.need('g')?)?;
    let mut t = Table::new(&[
        ("", Right),
        ("ClientId", Left),
        ("ClientAddr", Left),
        ("Language", Left),
        ("Version", Right),
    ]);
    for (i, c) in rows.iter().enumerate() {
        t.row(vec![
            format!("{:04}", i + 1),
            c.client_id.clone(),
            c.client_addr.clone(),
            c.language.clone(),
            c.version.to_string(),
        ]);
    }
    Ok(Out::new(t.render(), &rows))
}

pub const UPDATE_SUB_GROUP: &[Opt] = &[
    req('g', "groupName", "GROUP", "consumer group"),
    opt('b', "brokerAddr", "ADDR", "one broker"),
    opt('c', "clusterName", "CLUSTER", "every master of the cluster"),
    opt('r', "retryMaxTimes", "N", "retries before the dead-letter queue (16)"),
    opt('d', "consumeBroadcastEnable", "true|false", "allow broadcasting (true)"),
    opt('s', "consumeEnable", "true|false", "allow consumption (true)"),
];

pub fn update_sub_group(a: &Admin, o: &Opts) -> Res<Out> {
    let opts = SubGroupOptions {
        group: o.need('g')?,
        consume_enable: o.bool_or('s', true)?,
        broadcast_enable: o.bool_or('d', true)?,
        retry_max_times: o.num_or('r', 16)?,
    };
    let done = a.update_sub_group(&target(o)?, &opts)?;
    let text =
        done.iter().map(|b| format!("create subscription group to {b} success.\n")).collect();
    Ok(Out::new(text, &serde_json::json!({ "group": opts.group, "brokers": done })))
}

pub const DELETE_SUB_GROUP: &[Opt] = &[
    req('g', "groupName", "GROUP", "subscription group"),
    opt('b', "brokerAddr", "ADDR", "one broker"),
    opt(
        'c',
        "clusterName",
        "CLUSTER",
        "every master of the cluster (also deletes the group's %RETRY% and %DLQ% topics)",
    ),
    opt('r', "removeOffset", "true|false", "also drop the group's offsets (false)"),
];

pub fn delete_sub_group(a: &Admin, o: &Opts) -> Res<Out> {
    let g = o.need('g')?;
    let t = target(o)?;
    let done = a.delete_sub_group(&t, &g, o.bool_or('r', false)?)?;
    let text = done
        .iter()
        .map(|b| format!("delete subscription group [{g}] from broker [{b}] success.\n"))
        .collect();
    Ok(Out::new(text, &serde_json::json!({ "group": g, "brokers": done })))
}

pub const RESET_OFFSET: &[Opt] = &[
    req('g', "group", "GROUP", "consumer group"),
    req('t', "topic", "TOPIC", "topic"),
    req('s', "timestamp", "MILLIS|now", "first message stored at or after this time"),
    opt('f', "force", "true|false", "also move offsets forward (false)"),
];

pub fn reset_offset_by_time(a: &Admin, o: &Opts) -> Res<Out> {
    let ts = parse_timestamp(&o.need('s')?)?;
    let rows = a.reset_offset_by_time(&o.need('g')?, &o.need('t')?, ts, o.bool_or('f', false)?)?;
    let mut t = Table::new(&[
        ("brokerName", Left),
        ("QID", Right),
        ("brokerOffset", Right),
        ("consumerOffset", Right),
        ("timestampOffset", Right),
        ("resetOffset", Right),
    ]);
    let dash = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    for r in &rows {
        t.row(vec![
            r.broker_name.clone(),
            r.queue_id.to_string(),
            dash(r.broker_offset),
            dash(r.consumer_offset),
            dash(r.timestamp_offset),
            r.reset_offset.to_string(),
        ]);
    }
    let mut text = t.render();
    if rows.iter().any(|r| r.pushed) {
        text.push_str("(pushed to the running consumers by the broker)\n");
    }
    Ok(Out::new(text, &rows))
}

pub const BROKER_CONSUME_STATS: &[Opt] = &[
    req('b', "brokerAddr", "ADDR", "broker address"),
    opt('t', "timeoutMillis", "MS", "request timeout (50000)"),
    opt('l', "level", "N", "only rows with at least this diff (0)"),
    opt('o', "order", "true|false", "order topics only (false)"),
];

pub fn broker_consume_stats(_a: &Admin, o: &Opts) -> Res<Out> {
    let timeout = std::time::Duration::from_millis(o.num_or('t', 50_000u64)?);
    let a = Admin::direct(timeout);
    o.sign(&a);
    let s = a.broker_consume_stats(&o.need('b')?, o.bool_or('o', false)?, o.num_or('l', 0)?)?;
    let mut t = Table::new(&[
        ("Topic", Left),
        ("Group", Left),
        ("Broker Name", Left),
        ("QID", Right),
        ("Broker Offset", Right),
        ("Consumer Offset", Right),
        ("Diff", Right),
        ("LastTime", Right),
    ]);
    for r in &s.rows {
        t.row(vec![
            r.topic.clone(),
            r.group.clone(),
            r.broker_name.clone(),
            r.queue_id.to_string(),
            r.broker_offset.to_string(),
            r.consumer_offset.to_string(),
            r.diff.to_string(),
            r.last_timestamp.to_string(),
        ]);
    }
    Ok(Out::new(format!("{}\nDiff Total: {}\n", t.render(), s.total_diff), &s))
}

pub const STATS_ALL: &[Opt] = &[
    crate::args::switch('a', "activeTopic", "only topics with traffic in the last 24 hours"),
    opt('t', "topic", "TOPIC", "only this topic"),
];

pub fn stats_all(a: &Admin, o: &Opts) -> Res<Out> {
    let topic = o.get('t').map(str::trim).filter(|t| !t.is_empty());
    let rows = a.stats_all(topic, o.has('a'))?;
    let mut t = Table::new(&[
        ("Topic", Left),
        ("Consumer Group", Left),
        ("Accumulation", Right),
        ("InTPS", Right),
        ("OutTPS", Right),
        ("InMsg24Hour", Right),
        ("OutMsg24Hour", Right),
    ]);
    for r in &rows {
        let (group, out_tps, out_24h) = match &r.group {
            Some(g) => (g.clone(), format!("{:.2}", r.out_tps), r.out_msg_24h.to_string()),
            None => (String::new(), String::new(), "NO_CONSUMER".into()),
        };
        t.row(vec![
            r.topic.clone(),
            group,
            r.accumulation.to_string(),
            format!("{:.2}", r.in_tps),
            out_tps,
            r.in_msg_24h.to_string(),
            out_24h,
        ]);
    }
    Ok(Out::new(t.render(), &rows))
}
