//! Poll-style pull consumer: poll until --count messages arrived or --timeout passed, committing
//! offsets after each batch.
//!
//! `cargo run --example pull_consumer -- --topic TopicTest --group G --count 10`

mod common;

use rmq::client::{ConsumeFrom, PullConsumer, PullConsumerOptions};
use std::time::{Duration, Instant};

fn main() {
    let a = common::args("example_pull_consumer_group");
    let mut opts = PullConsumerOptions::new(&a.group, &a.namesrv);
    opts.consume_from = ConsumeFrom::FirstOffset;
    let consumer = PullConsumer::new(opts).unwrap_or_else(|e| fail(e));
    consumer.start().unwrap_or_else(|e| fail(e));
    consumer.subscribe(&a.topic, "*").unwrap_or_else(|e| fail(e));
    let start = Instant::now();
    let mut n = 0;
    while n < a.count && start.elapsed() < a.timeout {
        match consumer.poll(Duration::from_secs(1)) {
            Ok(msgs) => {
                for m in &msgs {
                    common::print_received(m);
                }
                n += msgs.len();
                if !msgs.is_empty() {
                    if let Err(e) = consumer.commit() {
                        eprintln!("commit failed: {e}");
                    }
                }
            }
            Err(e) => {
                eprintln!("poll failed: {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    consumer.shutdown();
    println!("received {n} messages");
    std::process::exit(if n >= a.count { 0 } else { 1 });
}

fn fail(e: rmq::client::Error) -> ! {
    eprintln!("pull consumer: {e}");
    std::process::exit(1)
}
