//! Issue 12 point 6 / issue 14: the admin operations as a library, called without a process,
//! with typed results and typed errors.

use crate::util::{wait_until, Cluster, TestDir};
use rmq::admin::{
    Admin, ConsumeOptions, ErrorKind, PrintOptions, SendOptions, Target, TopicOptions,
};
use std::time::Duration;

#[test]
fn admin_library_typed_results_and_errors() {
    let dir = TestDir::new("admin-lib");
    let cluster = Cluster::start(&dir.path, &["--brokerClusterName=LibCluster"]);
    let admin = Admin::new(&cluster.namesrv_addr()).unwrap();
    let addr = cluster.broker_addr();

    // Errors have kinds a caller can act on.
    let e = admin.topic_route("NoSuchTopic").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(admin.topic_status(" ").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(admin.query_msg_by_id("nothex").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(admin.masters(Some("NoCluster")).unwrap_err().kind(), ErrorKind::NotFound);
    let dead = Admin::with_timeout("127.0.0.1:1", Duration::from_secs(1)).unwrap();
    assert_eq!(dead.topic_list().unwrap_err().kind(), ErrorKind::Unreachable);
    let direct = Admin::direct(Duration::from_secs(1));
    assert_eq!(direct.topic_list().unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert!(direct.broker_status(&addr).unwrap().contains_key("brokerVersionDesc"));
    let e = admin.update_broker_config(&Target::Broker(addr.clone()), "brokerConfigPath", "/x");
    let e = e.unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Remote, Some(16)), "NO_PERMISSION: {e}");
    assert!(e.remark().contains("black list"), "{}", e.remark());

    // Topic, send, status.
    let topic = "LibTopic";
    let o =
        TopicOptions { topic: topic.into(), read_queues: 3, write_queues: 3, ..Default::default() };
    assert_eq!(
        admin.update_topic(&Target::Cluster("LibCluster".into()), &o).unwrap(),
        std::slice::from_ref(&addr)
    );
    assert!(wait_until(Duration::from_secs(20), || admin.topic_route(topic).is_ok()));
    let route = admin.topic_route(topic).unwrap();
    assert_eq!((route.queues.len(), route.queues[0].write_queue_nums), (1, 3));
    assert_eq!(route.brokers[0].addr, addr);
    for i in 0..6 {
        let r = admin
            .send_message(&SendOptions {
                topic: topic.into(),
                body: format!("lib-{i}"),
                keys: Some(format!("k{i}")),
                tags: Some("T".into()),
                queue: Some(("broker-a".into(), i % 3)),
            })
            .unwrap();
        assert_eq!(
            (r.send_status.as_str(), r.queue_id, r.queue_offset),
            ("SEND_OK", i % 3, (i / 3) as i64)
        );
    }
    // The consume queues are built by the dispatch thread, shortly after SEND_OK.
    let offsets = || -> Vec<(i32, i64)> {
        admin.topic_status(topic).unwrap().iter().map(|q| (q.queue_id, q.max_offset)).collect()
    };
    assert!(
        wait_until(Duration::from_secs(20), || offsets() == [(0, 2), (1, 2), (2, 2)]),
        "{:?}",
        offsets()
    );

    // Reading back: by key, by queue, with a limit, consuming a count.
    assert!(wait_until(Duration::from_secs(10), || admin
        .query_msg_by_key(topic, "k4")
        .is_ok_and(|m| m.len() == 1)));
    let m = &admin.query_msg_by_key(topic, "k4").unwrap()[0];
    assert_eq!((m.body.as_str(), m.queue_id, m.queue_offset), ("lib-4", 1, 1));
    assert_eq!(admin.query_msg_by_id(&m.offset_msg_id).unwrap().body, "lib-4");
    assert_eq!(admin.query_msg_by_unique_key(topic, &m.msg_id, false).unwrap()[0].body, "lib-4");
    assert_eq!(admin.query_msg_by_offset(topic, "broker-a", 2, 1).unwrap().body, "lib-5");
    assert_eq!(
        admin.query_msg_by_offset(topic, "broker-a", 2, 7).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let all = admin.print_msg(&PrintOptions { topic: topic.into(), ..Default::default() }).unwrap();
    let mut bodies: Vec<String> =
        all.queues.iter().flat_map(|q| q.messages.iter().map(|m| m.body.clone())).collect();
    bodies.sort();
    assert_eq!(bodies, (0..6).map(|i| format!("lib-{i}")).collect::<Vec<_>>());
    assert_eq!(all.tag_counts, [("T".to_string(), 6)]);
    let some = admin
        .print_msg(&PrintOptions { topic: topic.into(), limit: Some(4), ..Default::default() })
        .unwrap();
    assert_eq!(some.queues.iter().map(|q| q.messages.len()).sum::<usize>(), 4);
    let q = admin
        .consume_message(&ConsumeOptions {
            topic: topic.into(),
            queue: Some(("broker-a".into(), 0)),
            offset: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.queues[0].messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["lib-3"]);

    // Reading committed nothing for the tools group: all six are still to consume.
    let p = admin.consumer_progress("TOOLS_CONSUMER", Some(topic)).unwrap();
    assert!(p.queues.iter().all(|q| q.consumer_offset == 0), "{p:?}");
    assert_eq!(p.diff_total, 6);
    admin.shutdown();
}
