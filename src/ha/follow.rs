//! How a slave places the master's frames in its own log: the catch-up rules of docs/HA.md.
//!
//! On each connection the slave reports an offset and the master sends from there (an Apache
//! master exactly there; an rmq master from its min offset for 0 or an offset below it, and a
//! heartbeat carrying its max for an offset above it). The phases:
//!
//! | phase | report | frames |
//! |---|---|---|
//! | start | the start of the slave's last record (its max when empty; 0 to reset; a step-back target) | the first frame decides: append, compare, reset or step back |
//! | verify | the same | the master's bytes are compared with those the slave already holds, up to its max |
//! | stream | the slave's max after each append | appended byte for byte |
//!
//! While comparing, a difference (or a master that ends first) is a cut when the first record
//! of the comparison matched whole: that record is common to both logs, so everything before
//! it is too (replication only ever appends the master's bytes at the slave's end). The slave
//! then truncates at the first differing byte, or at the master's end, and streams on. Without
//! such a record it reconnects reporting an earlier record start, stepping back 1, 2, 4 …
//! records and then a file at a time; below its own min offset it resets its log to wherever
//! the master sends from (as it does when empty, or when the master's data starts past its
//! end: a slave below the master's oldest file).

use crate::store::MessageStore;
use std::sync::Arc;

/// Most records one step back covers (then steps go a file at a time).
const MAX_STEP: u32 = 1 << 16;

/// What the connection does after a frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Read on.
    Continue,
    /// Reconnect now, reporting the new offset ([`Follower::begin`]).
    Reconnect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start { reported: u64 },
    Verify { reported: u64, from: u64, pos: u64, first_end: Option<u64> },
    Stream,
}

/// The slave's side of one master, across reconnects.
pub(super) struct Follower {
    store: Arc<MessageStore>,
    phase: Phase,
    /// Report this on the next connection (a step-back target).
    next_report: Option<u64>,
    /// Report 0 on the next connection and reset the log to the first frame's offset.
    reset: bool,
    /// Records the next step back covers.
    steps: u32,
}

impl Follower {
    pub(super) fn new(store: Arc<MessageStore>) -> Follower {
        Follower {
            store,
            phase: Phase::Start { reported: 0 },
            next_report: None,
            reset: false,
            steps: 1,
        }
    }

    fn bounds(&self) -> (u64, u64) {
        let s = &self.store;
        (s.commit_log_min_offset().max(0) as u64, s.commit_log_max_offset().max(0) as u64)
    }

    /// A new connection: the offset to report first.
    pub(super) fn begin(&mut self) -> u64 {
        let (min, max) = self.bounds();
        let reported = if self.reset {
            0
        } else if let Some(r) = self.next_report.take() {
            r
        } else if max == min {
            max
        } else {
            self.store.commit_log_record_start_before(max, 1).unwrap_or(max)
        };
        self.phase = Phase::Start { reported };
        reported
    }

    /// What to report now: the max once streaming, else the first report again.
    pub(super) fn report(&self) -> u64 {
        match self.phase {
            Phase::Start { reported } | Phase::Verify { reported, .. } => reported,
            Phase::Stream => self.bounds().1,
        }
    }

    /// True once the slave appends what it receives.
    pub(super) fn streaming(&self) -> bool {
        self.phase == Phase::Stream
    }

    /// Place one frame; `Err` is a protocol or store failure (reconnect after a backoff).
    pub(super) fn on_frame(&mut self, offset: u64, body: &[u8]) -> Result<Next, String> {
        match self.phase {
            Phase::Start { reported } => self.first_frame(reported, offset, body),
            Phase::Verify { reported, from, pos, first_end } => {
                self.verify(reported, from, pos, first_end, offset, body)
            }
            Phase::Stream => self.append(offset, body),
        }
    }

    fn first_frame(&mut self, reported: u64, offset: u64, body: &[u8]) -> Result<Next, String> {
        let (min, max) = self.bounds();
        if self.reset || min == max || offset > max {
            if offset != max {
                let why = if self.reset {
                    "it has no record in common with the master"
                } else if min == max {
                    "it is empty"
                } else {
                    "its log ends before the master's oldest offset"
                };
                self.reset_to(offset, why)?;
            }
            self.reset = false;
            return self.stream_from(offset, body);
        }
        if offset < min {
            return Err(format!(
                "master sent offset {offset}, below this slave's min offset {min} (reported {reported})"
            ));
        }
        let seg = self.store.commit_log_segment_size();
        if offset == reported || offset.is_multiple_of(seg) {
            if offset == max {
                return self.stream_from(offset, body);
            }
            let first_end = self.store.commit_log_record_end(offset);
            self.phase = Phase::Verify { reported, from: offset, pos: offset, first_end };
            return self.verify(reported, offset, offset, first_end, offset, body);
        }
        if body.is_empty() && offset < reported {
            // An rmq master telling where it ends: this slave is ahead of it.
            log::warn!(
                "slave is ahead of its master: master ends at {offset}, slave at {max}; looking for the last common record"
            );
            self.step_back(offset);
            return Ok(Next::Reconnect);
        }
        Err(format!("master sent offset {offset} although the slave asked for {reported}"))
    }

    #[allow(clippy::too_many_arguments)]
    fn verify(
        &mut self,
        reported: u64,
        from: u64,
        pos: u64,
        first_end: Option<u64>,
        offset: u64,
        body: &[u8],
    ) -> Result<Next, String> {
        if offset != pos {
            return Err(format!("master sent offset {offset} while the slave compared at {pos}"));
        }
        let (_, max) = self.bounds();
        let proven = |x: u64| first_end.is_some_and(|e| x >= e);
        if body.is_empty() {
            if proven(pos) {
                log::warn!(
                    "slave was ahead of its master: truncating its log from {max} to the master's end {pos}"
                );
                self.truncate(pos)?;
                return self.stream_from(pos, body);
            }
            self.step_back(from.min(offset));
            return Ok(Next::Reconnect);
        }
        let ours_end = max.min(pos + body.len() as u64);
        let n = (ours_end - pos) as usize;
        let ours = self
            .store
            .commit_log_data(pos, n)
            .ok_or_else(|| format!("slave cannot read its own log at {pos}"))?;
        let theirs = body.get(..n).unwrap_or(body);
        match ours.iter().zip(theirs).position(|(a, b)| a != b) {
            Some(i) => {
                let x = pos + i as u64;
                if proven(x) {
                    log::warn!(
                        "slave log diverged from its master at offset {x}: truncating it from {max} and continuing"
                    );
                    self.truncate(x)?;
                    self.stream_from(x, body.get(i..).unwrap_or(&[]))
                } else {
                    log::info!(
                        "slave log differs from its master at {x} before a common record (compared from {from}); stepping back"
                    );
                    self.step_back(from);
                    Ok(Next::Reconnect)
                }
            }
            None if ours.len() < n => Err(format!("slave log shorter than its max at {pos}")),
            None if ours_end == max => {
                if max > from {
                    log::info!("slave log matches its master from {from} to its end {max}");
                }
                self.stream_from(max, body.get(n..).unwrap_or(&[]))
            }
            None => {
                self.phase = Phase::Verify { reported, from, pos: ours_end, first_end };
                Ok(Next::Continue)
            }
        }
    }

    /// Stream from `at` (the log's end), appending the rest of the frame there.
    fn stream_from(&mut self, at: u64, rest: &[u8]) -> Result<Next, String> {
        self.phase = Phase::Stream;
        self.steps = 1;
        self.append(at, rest)
    }

    fn append(&mut self, offset: u64, body: &[u8]) -> Result<Next, String> {
        let max = self.bounds().1;
        if offset != max {
            return Err(format!("master sent offset {offset}, the slave's log ends at {max}"));
        }
        if !body.is_empty() {
            self.store.append_replicated_undispatched(offset, body).map_err(|e| e.to_string())?;
        }
        Ok(Next::Continue)
    }

    fn truncate(&self, to: u64) -> Result<(), String> {
        self.store.truncate_commit_log(to).map_err(|e| e.to_string())
    }

    fn reset_to(&self, offset: u64, why: &str) -> Result<(), String> {
        let (min, max) = self.bounds();
        if min == max && max == offset {
            return Ok(());
        }
        log::warn!(
            "slave restarts its log at the master's offset {offset} because {why} (dropping {min}..{max})"
        );
        self.store.reset_commit_log(offset).map_err(|e| e.to_string())
    }

    /// The next connection reports an earlier record start than `below`; with none left, it
    /// resets.
    fn step_back(&mut self, below: u64) {
        let (min, _) = self.bounds();
        match self.store.commit_log_record_start_before(below, self.steps) {
            Some(target) if below > min => {
                log::info!("slave steps back to offset {target} ({} records)", self.steps);
                self.next_report = Some(target);
                self.steps = (self.steps.saturating_mul(2)).min(MAX_STEP);
            }
            _ => {
                log::warn!(
                    "slave has no record in common with its master down to {min}; it will reset"
                );
                self.reset = true;
            }
        }
    }
}
