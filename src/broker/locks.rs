//! Queue locks of orderly consumers (RebalanceLockManager): one owner per (group, queue), held
//! for 60 s after its last renewal.

use crate::protocol::body::MessageQueue;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Queue locks per group (RebalanceLockManager): one owner per queue, 60 s expiry.
#[derive(Default)]
pub struct LockManager {
    locks: Mutex<HashMap<(String, MessageQueue), (String, Instant)>>,
}

/// A lock expires this long after its last renewal.
const LOCK_EXPIRY: Duration = Duration::from_secs(60);

impl LockManager {
    /// Lock (or renew) `mqs` for `client`; returns the queues it now holds.
    pub fn lock(&self, group: &str, client: &str, mqs: &[MessageQueue]) -> Vec<MessageQueue> {
        self.lock_at(group, client, mqs, Instant::now())
    }

    fn lock_at(
        &self,
        group: &str,
        client: &str,
        mqs: &[MessageQueue],
        now: Instant,
    ) -> Vec<MessageQueue> {
        let mut t = self.locks.lock();
        let mut ok = Vec::new();
        for mq in mqs {
            let k = (group.to_string(), mq.clone());
            let free = match t.get(&k) {
                None => true,
                Some((owner, at)) => owner == client || now.duration_since(*at) > LOCK_EXPIRY,
            };
            if free {
                log::debug!("queue locked group={} client={} queue={:?}", group, client, mq);
                t.insert(k, (client.to_string(), now));
                ok.push(mq.clone());
            } else {
                log::debug!("queue locked by another client group={} queue={:?}", group, mq);
            }
        }
        ok
    }

    /// Release `mqs` held by `client`.
    pub fn unlock(&self, group: &str, client: &str, mqs: &[MessageQueue]) {
        let mut t = self.locks.lock();
        for mq in mqs {
            let k = (group.to_string(), mq.clone());
            if t.get(&k).is_some_and(|(o, _)| o == client) {
                t.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(q: i32) -> MessageQueue {
        MessageQueue { broker_name: "b".into(), queue_id: q, topic: "T".into() }
    }

    #[test]
    fn one_owner_per_queue_per_group_until_expiry_or_unlock() {
        let m = LockManager::default();
        let t0 = Instant::now();
        assert_eq!(m.lock_at("G", "c1", &[mq(0), mq(1)], t0), vec![mq(0), mq(1)]);
        // Another client of the group gets only the free queue; another group is independent.
        assert_eq!(m.lock_at("G", "c2", &[mq(1), mq(2)], t0), vec![mq(2)]);
        assert_eq!(m.lock_at("G2", "c2", &[mq(1)], t0), vec![mq(1)]);
        // The owner renews; at 59 s the lock still holds against others.
        let t59 = t0 + Duration::from_secs(59);
        assert_eq!(m.lock_at("G", "c1", &[mq(0)], t59), vec![mq(0)]);
        assert!(m.lock_at("G", "c2", &[mq(1)], t59).is_empty());
        // Past 60 s without renewal, another client takes over.
        let t61 = t0 + Duration::from_secs(61);
        assert_eq!(m.lock_at("G", "c2", &[mq(1)], t61), vec![mq(1)]);
        assert!(m.lock_at("G", "c2", &[mq(0)], t61).is_empty(), "q0 was renewed at 59 s");
        // Unlock by a non-owner does nothing; by the owner frees the queue at once.
        m.unlock("G", "c2", &[mq(0)]);
        assert!(m.lock_at("G", "c2", &[mq(0)], t61).is_empty());
        m.unlock("G", "c1", &[mq(0)]);
        assert_eq!(m.lock_at("G", "c2", &[mq(0)], t61), vec![mq(0)]);
    }
}
