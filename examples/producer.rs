//! Send --count messages synchronously and print each send result.
//!
//! `NAMESRV_ADDR=127.0.0.1:9876 cargo run --example producer -- --topic TopicTest --count 10`

mod common;

use rmq::client::{Message, Producer, ProducerOptions};

fn main() {
    let a = common::args("example_producer_group");
    let producer =
        Producer::new(ProducerOptions::new(&a.group, &a.namesrv)).unwrap_or_else(|e| fail(e));
    producer.start().unwrap_or_else(|e| fail(e));
    let mut ok = 0;
    for i in 0..a.count {
        let mut msg = Message::new(&a.topic, format!("Hello RocketMQ {i}"));
        msg.set_tags("TagA");
        msg.set_keys(&format!("key-{i}"));
        match producer.send(&msg) {
            Ok(r) => {
                ok += 1;
                println!(
                    "sent {i} status={:?} id={} queue={} offset={}",
                    r.status, r.msg_id, r.queue.queue_id, r.queue_offset
                );
            }
            Err(e) => eprintln!("send {i} failed: {e}"),
        }
    }
    producer.shutdown();
    println!("sent {ok} of {} messages", a.count);
    std::process::exit(if ok == a.count { 0 } else { 1 });
}

fn fail(e: rmq::client::Error) -> ! {
    eprintln!("producer: {e}");
    std::process::exit(1)
}
