//! Flags and environment shared by the examples: NAMESRV_ADDR (default 127.0.0.1:9876),
//! --topic, --group, --count, --timeout (seconds, consumers only). RMQ_LOG=info shows client logs.

#![allow(dead_code)]

use std::time::Duration;

pub struct Args {
    pub namesrv: String,
    pub topic: String,
    pub group: String,
    pub count: usize,
    pub timeout: Duration,
}

pub fn args(default_group: &str) -> Args {
    if let Ok(l) = std::env::var("RMQ_LOG") {
        let level = l.parse().unwrap_or(log::LevelFilter::Info);
        let _ =
            simplelog::WriteLogger::init(level, simplelog::Config::default(), std::io::stderr());
    }
    let mut a = Args {
        namesrv: std::env::var("NAMESRV_ADDR").unwrap_or_else(|_| "127.0.0.1:9876".to_string()),
        topic: "TopicTest".to_string(),
        group: default_group.to_string(),
        count: 10,
        timeout: Duration::from_secs(60),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        if name == "--help" || name == "-h" {
            println!("flags: --topic T --group G --count N --timeout SECS; env NAMESRV_ADDR");
            std::process::exit(0);
        }
        let Some(value) = inline.or_else(|| it.next()) else {
            eprintln!("{name} needs a value");
            std::process::exit(2);
        };
        match name.as_str() {
            "--topic" => a.topic = value,
            "--group" => a.group = value,
            "--count" => a.count = parse(&name, &value),
            "--timeout" => a.timeout = Duration::from_secs(parse(&name, &value) as u64),
            _ => {
                eprintln!("unknown flag {name} (try --help)");
                std::process::exit(2);
            }
        }
    }
    a
}

fn parse(name: &str, v: &str) -> usize {
    v.parse().unwrap_or_else(|_| {
        eprintln!("{name} needs a number, got '{v}'");
        std::process::exit(2)
    })
}

/// Print the message line every consumer example prints.
pub fn print_received(m: &rmq::client::MessageExt) {
    println!(
        "received topic={} queue={} offset={} id={} tags={} body={}",
        m.topic(),
        m.queue_id,
        m.queue_offset,
        m.msg_id,
        m.tags().unwrap_or(""),
        String::from_utf8_lossy(m.body())
    );
}
