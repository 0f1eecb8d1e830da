//! A one-shot hand-off of one value between two threads, whose receiver sleeps at once.
//!
//! A caller waiting for its response used a `crossbeam_channel::bounded(1)`, whose receive
//! spins and calls `sched_yield` before it parks. With 16 callers waiting on one connection that
//! spinning was a tenth of the client's CPU, on cores the broker needs. This slot is a mutex and
//! a condition variable: the receiver parks at once and the sender wakes it.

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

enum State<T> {
    Waiting,
    Sent(T),
    /// The sender went away without sending; or the value was taken.
    Closed,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

/// The sending half; dropping it unsent wakes the receiver with [`Wait::Closed`].
pub struct Sender<T> {
    slot: Arc<Slot<T>>,
}

/// The receiving half.
pub struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

/// Why [`Receiver::recv_timeout`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The time ran out.
    Timeout,
    /// The sender was dropped without sending.
    Closed,
}

/// A connected pair.
pub fn pair<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot { state: Mutex::new(State::Waiting), ready: Condvar::new() });
    (Sender { slot: slot.clone() }, Receiver { slot })
}

impl<T> Sender<T> {
    /// Hand `value` over and wake the receiver (a receiver that gave up just drops it).
    pub fn send(self, value: T) {
        let mut s = self.slot.state.lock();
        if matches!(*s, State::Waiting) {
            *s = State::Sent(value);
        }
        drop(s);
        self.slot.ready.notify_one();
        // Drop sees Sent and does nothing more.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = self.slot.state.lock();
        if matches!(*s, State::Waiting) {
            *s = State::Closed;
            drop(s);
            self.slot.ready.notify_one();
        }
    }
}

impl<T> Receiver<T> {
    /// The value, waiting at most `timeout` for it.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, Wait> {
        let deadline = Instant::now().checked_add(timeout);
        let mut s = self.slot.state.lock();
        loop {
            if !matches!(*s, State::Waiting) {
                return match std::mem::replace(&mut *s, State::Closed) {
                    State::Sent(v) => Ok(v),
                    _ => Err(Wait::Closed),
                };
            }
            match deadline {
                Some(d) => {
                    if self.slot.ready.wait_until(&mut s, d).timed_out()
                        && matches!(*s, State::Waiting)
                    {
                        return Err(Wait::Timeout);
                    }
                }
                None => self.slot.ready.wait(&mut s),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_sent_before_or_during_the_wait_arrives() {
        let (tx, rx) = pair();
        tx.send(1);
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Ok(1));
        let (tx, rx) = pair();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            tx.send("late");
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("late"));
        t.join().unwrap();
    }

    #[test]
    fn a_dropped_sender_wakes_the_receiver_and_silence_times_out() {
        let (tx, rx) = pair::<u8>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            drop(tx);
        });
        let start = Instant::now();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Err(Wait::Closed));
        assert!(start.elapsed() < Duration::from_secs(4));
        t.join().unwrap();
        let (_tx, rx) = pair::<u8>();
        let start = Instant::now();
        assert_eq!(rx.recv_timeout(Duration::from_millis(40)), Err(Wait::Timeout));
        assert!(start.elapsed() >= Duration::from_millis(40));
        // A huge timeout is a wait without deadline, not an overflow.
        let (tx, rx) = pair();
        tx.send(3u8);
        assert_eq!(rx.recv_timeout(Duration::MAX), Ok(3));
    }

    #[test]
    fn a_send_after_the_receiver_is_gone_is_dropped_quietly() {
        let (tx, rx) = pair::<Vec<u8>>();
        drop(rx);
        tx.send(vec![1, 2, 3]);
    }
}
