//! Message commands: queries, print, send, consume.

use crate::args::{opt, req, switch, usage, Opt, Opts, Res};
use crate::cmd_cluster::pairs;
use crate::table::{Align, Out, Table};
use rmq::admin::{
    parse_timestamp, Admin, ConsumeOptions, MessageDump, MessageView, PrintOptions, SendOptions,
};
use std::fmt::Write as _;

use Align::{Left, Right};

/// mqadmin's message detail block (QueryMsgByIdSubCommand.printMsg).
fn detail(m: &MessageView) -> String {
    let props: Vec<String> = m.properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs(&[
        ("OffsetID:", m.offset_msg_id.clone()),
        ("MsgId:", m.msg_id.clone()),
        ("Topic:", m.topic.clone()),
        ("Tags:", format!("[{}]", m.tags.as_deref().unwrap_or(""))),
        ("Keys:", format!("[{}]", m.keys.as_deref().unwrap_or(""))),
        ("Queue ID:", m.queue_id.to_string()),
        ("Queue Offset:", m.queue_offset.to_string()),
        ("CommitLog Offset:", m.commit_log_offset.to_string()),
        ("Reconsume Times:", m.reconsume_times.to_string()),
        ("Born Timestamp:", m.born_timestamp.to_string()),
        ("Store Timestamp:", m.store_timestamp.to_string()),
        ("Born Host:", m.born_host.clone()),
        ("Store Host:", m.store_host.clone()),
        ("System Flag:", m.sys_flag.to_string()),
        ("Properties:", format!("{{{}}}", props.join(", "))),
        ("Message Body:", m.body.clone()),
    ])
}

/// One line per message, as printMsg prints them.
fn line(m: &MessageView, body: bool) -> String {
    format!(
        "MSGID: {} queueId={} queueOffset={} storeTimestamp={} tags={} keys={} BODY: {}\n",
        m.msg_id,
        m.queue_id,
        m.queue_offset,
        m.store_timestamp,
        m.tags.as_deref().unwrap_or(""),
        m.keys.as_deref().unwrap_or(""),
        if body { m.body.as_str() } else { "NOT PRINT BODY" }
    )
}

pub const BY_ID: &[Opt] = &[req('i', "msgId", "OFFSET_MSG_ID", "offset message id")];

pub fn query_msg_by_id(a: &Admin, o: &Opts) -> Res<Out> {
    let m = a.query_msg_by_id(&o.need('i')?)?;
    Ok(Out::new(detail(&m), &m))
}

pub const BY_KEY: &[Opt] =
    &[req('t', "topic", "TOPIC", "topic name"), req('k', "msgKey", "KEY", "message key")];

pub fn query_msg_by_key(a: &Admin, o: &Opts) -> Res<Out> {
    let msgs = a.query_msg_by_key(&o.need('t')?, &o.need('k')?)?;
    let mut t = Table::new(&[("Message ID", Left), ("QID", Right), ("Offset", Right)]);
    for m in &msgs {
        t.row(vec![m.msg_id.clone(), m.queue_id.to_string(), m.queue_offset.to_string()]);
    }
    Ok(Out::new(t.render(), &msgs))
}

pub const BY_UNIQUE_KEY: &[Opt] = &[
    req('i', "msgId", "MSG_ID", "unique message id (UNIQ_KEY)"),
    req('t', "topic", "TOPIC", "topic of the message"),
    switch('a', "showAll", "print every copy (at most 32)"),
];

pub fn query_msg_by_unique_key(a: &Admin, o: &Opts) -> Res<Out> {
    let msgs = a.query_msg_by_unique_key(&o.need('t')?, &o.need('i')?, o.has('a'))?;
    let text = msgs.iter().map(detail).collect::<Vec<_>>().join("\n");
    Ok(Out::new(text, &msgs))
}

pub const BY_OFFSET: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    req('b', "brokerName", "BROKER", "broker name"),
    req('i', "queueId", "QID", "queue id"),
    req('o', "offset", "OFFSET", "queue offset"),
];

pub fn query_msg_by_offset(a: &Admin, o: &Opts) -> Res<Out> {
    let qid = o.num('i')?.unwrap_or(0);
    let off = o.num('o')?.unwrap_or(0);
    let m = a.query_msg_by_offset(&o.need('t')?, &o.need('b')?, qid, off)?;
    Ok(Out::new(detail(&m), &m))
}

fn utf8_only(o: &Opts) -> Res<()> {
    match o.get('c').map(|c| c.trim().to_ascii_uppercase()) {
        None => Ok(()),
        Some(c) if c == "UTF-8" || c == "UTF8" => Ok(()),
        Some(c) => usage(format!("charset {c} is not supported; bodies print as UTF-8")),
    }
}

fn times(o: &Opts, b: char, e: char) -> Res<(Option<i64>, Option<i64>)> {
    let t = |c| o.get(c).map(parse_timestamp).transpose();
    Ok((t(b)?, t(e)?))
}

fn dump_text(d: &MessageDump, print_msg: bool, body: bool, header: bool) -> String {
    let mut text = String::new();
    for q in &d.queues {
        if header {
            let _ = writeln!(
                text,
                "minOffset={}, maxOffset={}, broker={} queueId={}",
                q.min_offset, q.max_offset, q.broker_name, q.queue_id
            );
        }
        if print_msg {
            for m in &q.messages {
                text.push_str(&line(m, body));
            }
        }
        if header {
            text.push_str("--------------------------------------------------------\n");
        }
    }
    text
}

pub const PRINT: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    opt('c', "charsetName", "CHARSET", "UTF-8 only"),
    opt('s', "subExpression", "EXPR", "tag expression (*)"),
    opt('b', "beginTimestamp", "MILLIS|now", "from the first message stored at this time"),
    opt('e', "endTimestamp", "MILLIS|now", "up to the first message stored at this time"),
    opt('d', "printBody", "true|false", "print bodies (true)"),
    opt('l', "limit", "N", "stop after N messages (no limit)"),
];

pub fn print_msg(a: &Admin, o: &Opts) -> Res<Out> {
    utf8_only(o)?;
    let (begin, end) = times(o, 'b', 'e')?;
    let d = a.print_msg(&PrintOptions {
        topic: o.need('t')?,
        queue: None,
        sub_expression: o.get('s').map(str::to_string),
        begin,
        end,
        limit: o.num('l')?,
    })?;
    Ok(Out::new(dump_text(&d, true, o.bool_or('d', true)?, true), &d))
}

pub const PRINT_BY_QUEUE: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    req('a', "brokerName", "BROKER", "broker name"),
    req('i', "queueId", "QID", "queue id"),
    opt('c', "charsetName", "CHARSET", "UTF-8 only"),
    opt('s', "subExpression", "EXPR", "tag expression (*)"),
    opt('b', "beginTimestamp", "MILLIS|now", "from the first message stored at this time"),
    opt('e', "endTimestamp", "MILLIS|now", "up to the first message stored at this time"),
    opt('p', "printMsg", "true|false", "print the messages (false)"),
    opt('d', "printBody", "true|false", "print bodies (false)"),
    opt('f', "calculate", "true|false", "count messages by tag (false)"),
];

pub fn print_msg_by_queue(a: &Admin, o: &Opts) -> Res<Out> {
    utf8_only(o)?;
    let (begin, end) = times(o, 'b', 'e')?;
    let qid: i32 = o.num('i')?.unwrap_or(0);
    let d = a.print_msg(&PrintOptions {
        topic: o.need('t')?,
        queue: Some((o.need('a')?, qid)),
        sub_expression: o.get('s').map(str::to_string),
        begin,
        end,
        limit: None,
    })?;
    let mut text = dump_text(&d, o.bool_or('p', false)?, o.bool_or('d', false)?, false);
    if o.bool_or('f', false)? {
        for (tag, n) in &d.tag_counts {
            let _ = writeln!(text, "Tag: {tag:<30} Count: {n}");
        }
    }
    let total: usize = d.queues.iter().map(|q| q.messages.len()).sum();
    let _ = writeln!(text, "Total: {total}");
    Ok(Out::new(text, &d))
}

pub const SEND: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    req('p', "body", "BODY", "message body (UTF-8)"),
    opt('k', "key", "KEYS", "message keys"),
    opt('c', "tags", "TAGS", "message tags"),
    opt('b', "broker", "BROKER", "send to this broker (with -i)"),
    opt('i', "qid", "QID", "send to this queue (needs -b)"),
    opt('m', "msgTraceEnable", "true|false", "message trace (only false)"),
];

pub fn send_message(a: &Admin, o: &Opts) -> Res<Out> {
    if o.bool_or('m', false)? {
        return usage("message trace is not supported (-m false)");
    }
    let queue = match (o.get('b'), o.num::<i32>('i')?) {
        (Some(b), Some(q)) => Some((b.trim().to_string(), q)),
        (None, Some(_)) => return usage("the broker name (-b) must be set if the queue (-i) is"),
        (Some(_), None) => return usage("a broker (-b) needs a queue id (-i)"),
        (None, None) => None,
    };
    let r = a.send_message(&SendOptions {
        topic: o.need('t')?,
        body: o.get('p').unwrap_or("").to_string(),
        keys: o.get('k').map(str::to_string),
        tags: o.get('c').map(str::to_string),
        queue,
    })?;
    let mut t = Table::new(&[
        ("Broker Name", Left),
        ("QID", Right),
        ("Send Result", Left),
        ("MsgId", Left),
    ]);
    t.row(vec![
        r.broker_name.clone(),
        r.queue_id.to_string(),
        r.send_status.clone(),
        r.msg_id.clone(),
    ]);
    Ok(Out::new(t.render(), &r))
}

pub const CONSUME: &[Opt] = &[
    req('t', "topic", "TOPIC", "topic name"),
    opt('b', "brokerName", "BROKER", "broker name (with -i)"),
    opt('i', "queueId", "QID", "queue id (needs -b)"),
    opt('o', "offset", "OFFSET", "start offset (needs -i)"),
    opt('g', "consumerGroup", "GROUP", "consumer group (TOOLS_CONSUMER)"),
    opt('s', "beginTimestamp", "MILLIS|now", "from the first message stored at this time"),
    opt('e', "endTimestamp", "MILLIS|now", "up to the first message stored at this time"),
    opt('c', "MessageNumber", "N", "messages to read (128)"),
];

pub fn consume_message(a: &Admin, o: &Opts) -> Res<Out> {
    let queue = match (o.get('b'), o.num::<i32>('i')?) {
        (Some(b), Some(q)) => Some((b.trim().to_string(), q)),
        (None, Some(_)) => {
            return usage("please set the broker name (-b) before the queue id (-i)")
        }
        (_, None) if o.has('o') => return usage("please set the queue id (-i) before the offset"),
        (Some(_), None) => return usage("a broker (-b) needs a queue id (-i)"),
        (None, None) => None,
    };
    let (begin, end) = times(o, 's', 'e')?;
    let count: i64 = o.num_or('c', 128)?;
    if count <= 0 {
        return usage("please give a positive message number (-c)");
    }
    let d = a.consume_message(&ConsumeOptions {
        topic: o.need('t')?,
        queue,
        offset: o.num('o')?,
        group: o.get('g').map(str::to_string),
        begin,
        end,
        count: count as u64,
    })?;
    let mut text = String::new();
    for q in &d.queues {
        if !q.messages.is_empty() {
            text.push_str("Consume ok\n");
        }
        for m in &q.messages {
            text.push_str(&line(m, true));
        }
    }
    let total: usize = d.queues.iter().map(|q| q.messages.len()).sum();
    let _ = writeln!(text, "Total: {total}");
    Ok(Out::new(text, &d))
}
