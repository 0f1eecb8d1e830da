//! The `broker-pull-hold` service (PullRequestHoldService): wakes parked pulls when the store's
//! dispatch reports an arrival on their queue, and answers them at their deadline.

use crate::broker::processor::pull::PullProcessor;
use crossbeam_channel::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An arrival reported by dispatch: topic, queue id, the queue's new max offset, tag hash.
pub(crate) type Arrival = (String, i32, i64, i64);

/// Body of the hold thread; ends when `stop` fires or is dropped, answering what is parked.
pub(crate) fn run(pull: Arc<PullProcessor>, arrivals: Receiver<Arrival>, stop: Receiver<()>) {
    let hold = &pull.c.hold;
    loop {
        // The next deadline bounds the wait; with nothing parked, only arrivals and stop wake.
        let wait = Duration::from_millis(200);
        crossbeam_channel::select! {
            recv(arrivals) -> a => {
                let Ok(first) = a else { break };
                let mut batch = vec![first];
                while let Ok(x) = arrivals.try_recv() {
                    batch.push(x);
                }
                for (topic, queue, max, code) in batch {
                    for h in hold.take_woken(&topic, queue, max, Some(code)) {
                        pull.rerun(h);
                    }
                }
            }
            recv(stop) -> _ => break,
            default(wait) => {}
        }
        for h in hold.take_expired(Instant::now()) {
            pull.rerun(h);
        }
        if matches!(stop.try_recv(), Ok(()) | Err(TryRecvError::Disconnected)) {
            break;
        }
    }
    // Answer what is still parked, so clients do not wait for their own timeout.
    for h in hold.drain_all() {
        pull.rerun(h);
    }
}
