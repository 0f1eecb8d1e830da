//! Queues derived from a topic's route (MQClientInstance.topicRouteData2TopicPublishInfo and
//! topicRouteData2TopicSubscribeInfo). Pure functions.

use crate::protocol::body::{perm, MessageQueue, TopicRouteData};

/// Master broker id.
pub const MASTER_ID: i64 = 0;
/// Most queues taken from one route entry: a route from a hostile name server must not make
/// the client (or the C program hosting librmq) allocate billions of queues (issue 13).
pub const MAX_QUEUES_PER_BROKER: i32 = 1024;
/// Most queues taken from one route in all.
pub const MAX_QUEUES_PER_TOPIC: usize = 65_536;

/// Push queues `0..n` of `broker` (n capped) while the list has room.
fn push_queues(out: &mut Vec<MessageQueue>, topic: &str, broker: &str, n: i32) {
    for q in 0..n.clamp(0, MAX_QUEUES_PER_BROKER) {
        if out.len() >= MAX_QUEUES_PER_TOPIC {
            return;
        }
        out.push(mq(topic, broker, q));
    }
}

/// The writable queues of `topic`, ordered by broker name then queue id. Brokers without a master
/// are skipped. An `orderTopicConf` (`"brokerA:4;brokerB:4"`) takes precedence, as in Apache.
pub fn publish_queues(topic: &str, route: &TopicRouteData) -> Vec<MessageQueue> {
    let mut out = Vec::new();
    if let Some(conf) = route.order_topic_conf.as_deref().filter(|c| !c.trim().is_empty()) {
        for item in conf.split(';') {
            let mut kv = item.split(':');
            let (Some(b), Some(n)) = (kv.next(), kv.next()) else { continue };
            let n: i32 = n.trim().parse().unwrap_or(0);
            push_queues(&mut out, topic, b.trim(), n);
        }
        return out;
    }
    let mut qds = route.queue_datas.clone();
    qds.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    for qd in qds {
        if qd.perm & perm::WRITE == 0 {
            continue;
        }
        let has_master = route
            .broker_datas
            .iter()
            .any(|b| b.broker_name == qd.broker_name && b.broker_addrs.contains_key(&MASTER_ID));
        if !has_master {
            continue;
        }
        push_queues(&mut out, topic, &qd.broker_name, qd.write_queue_nums);
    }
    out
}

/// The readable queues of `topic`, sorted.
pub fn subscribe_queues(topic: &str, route: &TopicRouteData) -> Vec<MessageQueue> {
    let mut out = Vec::new();
    for qd in &route.queue_datas {
        if qd.perm & perm::READ == 0 {
            continue;
        }
        push_queues(&mut out, topic, &qd.broker_name, qd.read_queue_nums);
    }
    out.sort();
    out
}

fn mq(topic: &str, broker: &str, q: i32) -> MessageQueue {
    MessageQueue { topic: topic.to_string(), broker_name: broker.to_string(), queue_id: q }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::{BrokerData, QueueData};

    fn route() -> TopicRouteData {
        let qd = |b: &str, p: i32, r: i32, w: i32| QueueData {
            broker_name: b.into(),
            perm: p,
            read_queue_nums: r,
            topic_sys_flag: 0,
            write_queue_nums: w,
        };
        let bd = |b: &str, ids: &[i64]| BrokerData {
            broker_addrs: ids.iter().map(|i| (*i, format!("{b}:{i}"))).collect(),
            broker_name: b.into(),
            cluster: "C".into(),
        };
        TopicRouteData {
            order_topic_conf: None,
            queue_datas: vec![
                qd("b", 6, 2, 3),
                qd("a", 6, 1, 1),
                qd("c", 4, 2, 2),
                qd("d", 6, 1, 1),
            ],
            broker_datas: vec![bd("a", &[0]), bd("b", &[0, 1]), bd("c", &[0]), bd("d", &[1])],
        }
    }

    #[test]
    fn publish_skips_readonly_and_masterless() {
        let q: Vec<(String, i32)> = publish_queues("T", &route())
            .into_iter()
            .map(|m| (m.broker_name, m.queue_id))
            .collect();
        let want: Vec<(String, i32)> =
            vec![("a".into(), 0), ("b".into(), 0), ("b".into(), 1), ("b".into(), 2)];
        assert_eq!(q, want);
    }

    #[test]
    fn subscribe_includes_readonly() {
        assert_eq!(subscribe_queues("T", &route()).len(), 6);
        let mut r = route();
        r.order_topic_conf = Some("x:2;y:1".into());
        let q = publish_queues("T", &r);
        assert_eq!(q.len(), 3);
        assert_eq!(q[2].broker_name, "y");
    }

    #[test]
    fn hostile_queue_counts_are_capped() {
        let mut r = route();
        for qd in &mut r.queue_datas {
            qd.read_queue_nums = i32::MAX;
            qd.write_queue_nums = i32::MAX;
        }
        assert_eq!(publish_queues("T", &r).len(), 2 * MAX_QUEUES_PER_BROKER as usize);
        assert_eq!(subscribe_queues("T", &r).len(), 4 * MAX_QUEUES_PER_BROKER as usize);
        r.order_topic_conf = Some(vec!["b:2147483647"; 100].join(";"));
        assert_eq!(publish_queues("T", &r).len(), MAX_QUEUES_PER_TOPIC);
        r.order_topic_conf = Some("b:-5;c:x".into());
        assert!(publish_queues("T", &r).is_empty());
    }
}
