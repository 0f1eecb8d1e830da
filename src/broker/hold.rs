//! Parked pulls (PullRequestHoldService): a pull that finds nothing waits here until a matching
//! message is dispatched to its queue, its suspend time runs out, or its connection closes.
//!
//! A parked pull keeps only what its answer needs (the typed pull arguments and the context to
//! answer through), never the request frame. Parking is capped per connection and in total
//! (issue 13); a pull over a cap is answered SYSTEM_BUSY at once, which clients take as "pull
//! again after a delay". The closed connection's pulls are dropped at once.

use crate::protocol::record::tag_hash;
use crate::remoting::ReqCtx;
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Parked pulls per connection at most.
pub const MAX_PARKED_PER_CONNECTION: usize = 4096;
/// Parked pulls in all at most.
pub const MAX_PARKED: usize = 65_536;

/// Which tag hashes a pull accepts; `None` = all.
#[derive(Clone, Debug)]
pub struct TagFilter(Option<BTreeSet<i64>>);

impl TagFilter {
    /// From a TAG expression: `*` or empty = all, else `A || B`.
    pub fn parse(expr: &str) -> TagFilter {
        let e = expr.trim();
        if e.is_empty() || e == "*" {
            return TagFilter(None);
        }
        TagFilter(Some(
            e.split("||").map(str::trim).filter(|t| !t.is_empty()).map(tag_hash).collect(),
        ))
    }

    /// Whether a consume-queue tag hash passes.
    pub fn matches(&self, code: i64) -> bool {
        self.0.as_ref().is_none_or(|s| s.contains(&code))
    }
}

/// What a pull asks for, parsed once from its header.
#[derive(Clone, Debug)]
pub struct PullArgs {
    /// `consumerGroup`.
    pub group: String,
    /// `topic`.
    pub topic: String,
    /// `queueId`.
    pub queue_id: i32,
    /// `queueOffset`.
    pub offset: i64,
    /// `maxMsgNums`, clamped.
    pub max_nums: i32,
    /// `sysFlag`.
    pub sys_flag: i32,
    /// `commitOffset`, when given.
    pub commit_offset: Option<i64>,
    /// `suspendTimeoutMillis`.
    pub suspend_ms: u64,
}

/// One parked pull.
pub struct Held {
    /// Where to answer.
    pub ctx: ReqCtx,
    /// The pull.
    pub args: PullArgs,
    /// Its filter.
    pub filter: TagFilter,
    /// When it is answered anyway.
    pub deadline: Instant,
}

/// Parked pulls by (topic, queue).
#[derive(Default)]
pub struct PullHold {
    held: Mutex<HashMap<(String, i32), Vec<Held>>>,
    per_conn: Mutex<HashMap<u64, usize>>,
    /// Number of parked pulls, read without the lock by the dispatch thread so that arrivals
    /// wake the hold thread only when someone waits.
    count: AtomicUsize,
}

impl PullHold {
    /// True when at least one pull is parked (a cheap check for the arrival path).
    pub fn any_waiting(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Parked pulls now.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// True when nothing is parked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Park `h`, or give it back when a cap is reached.
    pub fn park(&self, h: Held) -> Result<(), Box<Held>> {
        let id = h.ctx.conn.id();
        {
            let mut pc = self.per_conn.lock();
            let n = pc.entry(id).or_insert(0);
            if *n >= MAX_PARKED_PER_CONNECTION || self.len() >= MAX_PARKED {
                return Err(Box::new(h));
            }
            *n += 1;
        }
        if h.ctx.conn.is_closed() {
            // Its close may have run before the count above: never park for a gone peer.
            self.release(&[id]);
            return Err(Box::new(h));
        }
        let key = (h.args.topic.clone(), h.args.queue_id);
        self.held.lock().entry(key).or_default().push(h);
        self.count.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    fn release(&self, ids: &[u64]) {
        let mut pc = self.per_conn.lock();
        for id in ids {
            if let Some(n) = pc.get_mut(id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    pc.remove(id);
                }
            }
        }
    }

    fn taken(&self, out: &[Held]) {
        if !out.is_empty() {
            self.count.fetch_sub(out.len(), Ordering::AcqRel);
            let ids: Vec<u64> = out.iter().map(|h| h.ctx.conn.id()).collect();
            self.release(&ids);
        }
    }

    /// The pulls of a queue that a new max offset (and tag hash, when known) satisfies.
    pub fn take_woken(
        &self,
        topic: &str,
        queue: i32,
        max_offset: i64,
        tags_code: Option<i64>,
    ) -> Vec<Held> {
        let wake = {
            let mut t = self.held.lock();
            let key = (topic.to_string(), queue);
            let Some(list) = t.get_mut(&key) else { return Vec::new() };
            let (wake, keep): (Vec<Held>, Vec<Held>) = list.drain(..).partition(|h| {
                max_offset > h.args.offset && tags_code.is_none_or(|c| h.filter.matches(c))
            });
            *list = keep;
            if list.is_empty() {
                t.remove(&key);
            }
            wake
        };
        self.taken(&wake);
        wake
    }

    /// The pulls whose deadline passed.
    pub fn take_expired(&self, now: Instant) -> Vec<Held> {
        self.take_where(|h| h.deadline <= now)
    }

    /// Every parked pull (shutdown).
    pub fn drain_all(&self) -> Vec<Held> {
        self.take_where(|_| true)
    }

    /// Forget the pulls of a closed connection: nobody reads their answers.
    pub fn drop_connection(&self, conn_id: u64) {
        let gone = self.take_where(|h| h.ctx.conn.id() == conn_id);
        if !gone.is_empty() {
            log::debug!("dropped parked pulls of a closed connection count={}", gone.len());
        }
        self.per_conn.lock().remove(&conn_id);
    }

    fn take_where(&self, f: impl Fn(&Held) -> bool) -> Vec<Held> {
        let out = {
            let mut t = self.held.lock();
            let mut out = Vec::new();
            for list in t.values_mut() {
                let (take, keep): (Vec<Held>, Vec<Held>) = list.drain(..).partition(&f);
                *list = keep;
                out.extend(take);
            }
            t.retain(|_, l| !l.is_empty());
            out
        };
        self.taken(&out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn held(ctx: &ReqCtx, queue: i32, offset: i64, secs: u64) -> Held {
        Held {
            ctx: ctx.clone(),
            args: PullArgs {
                group: "G".into(),
                topic: "T".into(),
                queue_id: queue,
                offset,
                max_nums: 32,
                sys_flag: 0,
                commit_offset: None,
                suspend_ms: 1000,
            },
            filter: TagFilter::parse("*"),
            deadline: Instant::now() + Duration::from_secs(secs),
        }
    }

    #[test]
    fn woken_expired_dropped_and_capped() {
        let hold = PullHold::default();
        let a = ReqCtx::detached("127.0.0.1:1".parse().unwrap());
        let b = ReqCtx::detached("127.0.0.1:2".parse().unwrap());
        assert!(hold.park(held(&a, 0, 5, 60)).is_ok());
        assert!(hold.park(held(&a, 1, 5, 0)).is_ok());
        assert!(hold.park(held(&b, 0, 9, 60)).is_ok());
        assert_eq!(hold.len(), 3);
        // Offset 6 satisfies the pull at 5, not the one at 9.
        let woken = hold.take_woken("T", 0, 6, None);
        assert_eq!(woken.len(), 1);
        assert_eq!(woken[0].args.offset, 5);
        assert_eq!(hold.take_expired(Instant::now()).len(), 1);
        // A closed connection's pulls go at once.
        hold.drop_connection(b.conn.id());
        assert!(hold.is_empty());
        for _ in 0..MAX_PARKED_PER_CONNECTION {
            assert!(hold.park(held(&a, 2, 0, 60)).is_ok());
        }
        assert!(hold.park(held(&a, 2, 0, 60)).is_err(), "the per-connection cap holds");
        assert!(hold.park(held(&b, 2, 0, 60)).is_ok(), "another connection still parks");
        a.conn.close();
        assert!(hold.park(held(&a, 3, 0, 60)).is_err(), "a closed connection never parks");
        assert_eq!(hold.drain_all().len(), MAX_PARKED_PER_CONNECTION + 1);
        assert!(hold.is_empty());
    }
}
