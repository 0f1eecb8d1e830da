//! One assigned queue of a push consumer (ProcessQueue.java): pulled messages waiting for or in
//! consumption, ordered by queue offset, with the flags rebalance and locking set.

use super::message::MessageExt;
use crate::protocol::body::MessageQueue;
use crossbeam_channel::{bounded, Receiver, Sender};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A broker lock older than this is not trusted (REBALANCE_LOCK_MAX_LIVE_TIME).
const LOCK_MAX_LIVE: Duration = Duration::from_secs(30);

/// A pulled message as the queue holds it. Orderly consumption takes its messages from the
/// queue, so they are kept whole; concurrent consumption hands each batch to a task, so the
/// queue keeps only the body size (for flow control) and the offset (for commits) instead of a
/// second copy of every cached message.
enum Held {
    Whole(Box<MessageExt>),
    Size(usize),
}

impl Held {
    fn body_len(&self) -> usize {
        match self {
            Held::Whole(m) => m.body().len(),
            Held::Size(n) => *n,
        }
    }
}

#[derive(Default)]
struct State {
    /// Pulled, not yet consumed (concurrent: also those being consumed).
    msgs: BTreeMap<i64, Held>,
    /// Orderly: taken by the running listener call.
    consuming: BTreeMap<i64, MessageExt>,
    bytes: usize,
    /// Highest offset ever put.
    max_offset: i64,
    /// Orderly: a consume task is scheduled or running.
    orderly_active: bool,
    lock_time: Option<Instant>,
}

/// A queue being consumed.
pub(crate) struct ProcessQueue {
    pub mq: MessageQueue,
    state: Mutex<State>,
    dropped: AtomicBool,
    locked: AtomicBool,
    /// Orderly: held by the one thread consuming this queue.
    pub consume_lock: Mutex<()>,
    /// Dropped (sender gone) when the queue is dropped, waking pauses.
    drop_tx: Mutex<Option<Sender<()>>>,
    drop_rx: Receiver<()>,
}

impl ProcessQueue {
    /// A new, empty queue.
    pub fn new(mq: MessageQueue) -> ProcessQueue {
        let (tx, rx) = bounded(0);
        ProcessQueue {
            mq,
            state: Mutex::new(State { max_offset: -1, ..State::default() }),
            dropped: AtomicBool::new(false),
            locked: AtomicBool::new(false),
            consume_lock: Mutex::new(()),
            drop_tx: Mutex::new(Some(tx)),
            drop_rx: rx,
        }
    }

    /// Mark dropped (the queue moved elsewhere or the consumer stops).
    pub fn set_dropped(&self) {
        self.dropped.store(true, Ordering::Release);
        self.drop_tx.lock().take();
    }

    /// True once dropped.
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// A receiver that becomes ready (disconnected) when the queue is dropped.
    pub fn drop_signal(&self) -> &Receiver<()> {
        &self.drop_rx
    }

    /// Record the outcome of a lock request.
    pub fn set_locked(&self, locked: bool) {
        self.locked.store(locked, Ordering::Release);
        if locked {
            self.state.lock().lock_time = Some(Instant::now());
        }
    }

    /// True while our broker lock is held and fresh.
    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Acquire)
            && self.state.lock().lock_time.is_some_and(|t| t.elapsed() < LOCK_MAX_LIVE)
    }

    /// Messages and body bytes held (waiting and consuming).
    pub fn load(&self) -> (usize, usize) {
        let s = self.state.lock();
        (s.msgs.len() + s.consuming.len(), s.bytes)
    }

    /// Add pulled messages, kept `whole` for orderly consumption (else only their offsets and
    /// sizes). Orderly: returns true when the caller must schedule a consume task.
    pub fn put(&self, msgs: &[MessageExt], whole: bool) -> bool {
        let mut s = self.state.lock();
        for m in msgs {
            let held =
                if whole { Held::Whole(Box::new(m.clone())) } else { Held::Size(m.body().len()) };
            if s.msgs.insert(m.queue_offset, held).is_none() {
                s.bytes += m.body().len();
            }
            s.max_offset = s.max_offset.max(m.queue_offset);
        }
        if !s.orderly_active && !s.msgs.is_empty() {
            s.orderly_active = true;
            return true;
        }
        false
    }

    /// Concurrent: forget consumed `offsets`; returns the offset the group may commit
    /// (the first one still held, else one past the highest ever put).
    pub fn remove(&self, offsets: &[i64]) -> Option<i64> {
        let mut s = self.state.lock();
        for o in offsets {
            if let Some(m) = s.msgs.remove(o) {
                s.bytes = s.bytes.saturating_sub(m.body_len());
            }
        }
        if s.max_offset < 0 {
            return None;
        }
        Some(s.msgs.keys().next().copied().unwrap_or(s.max_offset.saturating_add(1)))
    }

    /// Orderly: take up to `n` messages in order; none left clears the active flag.
    pub fn take(&self, n: usize) -> Vec<MessageExt> {
        let mut s = self.state.lock();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some((o, held)) = s.msgs.pop_first() else { break };
            match held {
                Held::Whole(m) => {
                    s.consuming.insert(o, (*m).clone());
                    out.push(*m);
                }
                // Put without its message (a concurrent listener replaced by an orderly one):
                // nothing to hand out; forget it.
                Held::Size(n) => s.bytes = s.bytes.saturating_sub(n),
            }
        }
        if out.is_empty() {
            s.orderly_active = false;
        }
        out
    }

    /// Orderly: the taken messages were consumed; the offset to commit.
    pub fn commit(&self) -> Option<i64> {
        let mut s = self.state.lock();
        let last = s.consuming.keys().next_back().copied();
        let taken = std::mem::take(&mut s.consuming);
        for m in taken.values() {
            s.bytes = s.bytes.saturating_sub(m.body().len());
        }
        last.map(|o| o + 1)
    }

    /// Orderly: put the taken messages back to be consumed again.
    pub fn rollback(&self) {
        let mut s = self.state.lock();
        let taken = std::mem::take(&mut s.consuming);
        s.msgs.extend(taken.into_iter().map(|(o, m)| (o, Held::Whole(Box::new(m)))));
    }

    /// Orderly: the queue's task stops (it will be scheduled again by the next `put`).
    pub fn deactivate(&self) {
        self.state.lock().orderly_active = false;
    }

    /// Nothing held, waiting or consuming.
    pub fn is_empty(&self) -> bool {
        let s = self.state.lock();
        s.msgs.is_empty() && s.consuming.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::message::Message;

    fn m(o: i64) -> MessageExt {
        MessageExt {
            message: Message::new("T", "xy"),
            msg_id: o.to_string(),
            offset_msg_id: String::new(),
            queue_id: 0,
            queue_offset: o,
            commit_log_offset: 0,
            reconsume_times: 0,
            born_timestamp: 0,
            store_timestamp: 0,
            born_host: String::new(),
            store_host: String::new(),
            sys_flag: 0,
            store_size: 0,
            broker_name: "b".into(),
            prepared_transaction_offset: 0,
        }
    }

    #[test]
    fn offsets_follow_the_oldest_unconsumed() {
        let mq = MessageQueue { topic: "T".into(), broker_name: "b".into(), queue_id: 0 };
        let pq = ProcessQueue::new(mq);
        assert_eq!(pq.remove(&[]), None);
        pq.put(&[m(5), m(6), m(7)], false);
        assert_eq!(pq.load(), (3, 6));
        assert_eq!(pq.remove(&[6]), Some(5));
        assert_eq!(pq.remove(&[5]), Some(7));
        assert_eq!(pq.remove(&[7]), Some(8));
        assert!(pq.is_empty());
        // Orderly take / rollback / commit.
        pq.put(&[m(8), m(9)], true);
        assert_eq!(pq.take(1)[0].queue_offset, 8);
        pq.rollback();
        assert_eq!(pq.take(2).len(), 2);
        assert_eq!(pq.commit(), Some(10));
        assert!(pq.take(1).is_empty());
    }
}
