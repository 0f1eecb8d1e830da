//! Consume with a concurrent listener (clustering) until --count messages arrived or --timeout passed.
//!
//! `cargo run --example push_consumer -- --topic TopicTest --group G --count 10 --timeout 60`

mod common;

use rmq::client::{ConsumeFrom, ConsumeStatus, MessageExt, PushConsumer, PushConsumerOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let a = common::args("example_push_consumer_group");
    let mut opts = PushConsumerOptions::new(&a.group, &a.namesrv);
    // A new group starts at the beginning of each queue, so it sees what was sent before it.
    opts.consume_from = ConsumeFrom::FirstOffset;
    let consumer = PushConsumer::new(opts).unwrap_or_else(|e| fail(e));
    consumer.subscribe(&a.topic, "*").unwrap_or_else(|e| fail(e));
    let received = Arc::new(AtomicUsize::new(0));
    let r = received.clone();
    consumer
        .register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
            for m in msgs {
                common::print_received(m);
            }
            r.fetch_add(msgs.len(), Ordering::SeqCst);
            ConsumeStatus::Success
        }))
        .unwrap_or_else(|e| fail(e));
    consumer.start().unwrap_or_else(|e| fail(e));
    let start = Instant::now();
    while received.load(Ordering::SeqCst) < a.count && start.elapsed() < a.timeout {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    consumer.shutdown();
    let n = received.load(Ordering::SeqCst);
    println!("received {n} messages");
    std::process::exit(if n >= a.count { 0 } else { 1 });
}

fn fail(e: rmq::client::Error) -> ! {
    eprintln!("consumer: {e}");
    std::process::exit(1)
}
