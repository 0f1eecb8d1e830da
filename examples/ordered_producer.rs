//! Send --count messages so that each of four order ids keeps its messages in one queue, in order.
//!
//! `cargo run --example ordered_producer -- --topic OrderTopic --count 20`

mod common;

use rmq::client::{Message, Producer, ProducerOptions};

fn main() {
    let a = common::args("example_ordered_producer_group");
    let producer =
        Producer::new(ProducerOptions::new(&a.group, &a.namesrv)).unwrap_or_else(|e| fail(e));
    producer.start().unwrap_or_else(|e| fail(e));
    let mut ok = 0;
    for i in 0..a.count {
        let order_id = format!("order-{}", i % 4);
        let mut msg = Message::new(&a.topic, format!("{order_id} step {}", i / 4));
        msg.set_keys(&order_id);
        match producer.send_orderly(&msg, &order_id) {
            Ok(r) => {
                ok += 1;
                println!(
                    "sent {i} order={order_id} queue={} offset={}",
                    r.queue.queue_id, r.queue_offset
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
    eprintln!("ordered producer: {e}");
    std::process::exit(1)
}
