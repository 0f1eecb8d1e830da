//! Work a thread defers to the end of a batch it is running. A thread that completes many
//! requests at once (the master's HA reader answering the SYNC_MASTER sends one acknowledgement
//! covers, the store's responder after a group commit) wraps that in [`scope`]; a connection
//! that gets a response inside it queues the frame and [`defer`]s its write, so the responses
//! of one batch to one connection leave in one system call instead of one each. Outside a scope
//! nothing is deferred.
//!
//! Scopes are per thread and do not nest: an inner `scope` runs inside the outer one. The
//! deferred work runs when the outermost scope ends, also when it ends by a panic.

use std::cell::RefCell;

type Work = Box<dyn FnOnce()>;

thread_local! {
    static DEFERRED: RefCell<Option<Vec<Work>>> = const { RefCell::new(None) };
}

/// True inside a [`scope`] on this thread.
pub fn active() -> bool {
    DEFERRED.with(|d| d.borrow().is_some())
}

/// Run `f`; work it [`defer`]s runs after it, in the order deferred (work deferred by that work
/// runs too, before this returns).
pub fn scope<R>(f: impl FnOnce() -> R) -> R {
    if active() {
        return f();
    }
    struct End;
    impl Drop for End {
        fn drop(&mut self) {
            loop {
                let work = DEFERRED.with(|d| d.borrow_mut().as_mut().map(std::mem::take));
                let Some(work) = work.filter(|w| !w.is_empty()) else { break };
                for w in work {
                    w();
                }
            }
            DEFERRED.with(|d| *d.borrow_mut() = None);
        }
    }
    DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
    let _end = End;
    f()
}

/// Run `w` at the end of this thread's [`scope`], or now outside one.
pub fn defer(w: impl FnOnce() + 'static) {
    let w: Work = Box::new(w);
    let left = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) => {
            list.push(w);
            None
        }
        None => Some(w),
    });
    if let Some(w) = left {
        w();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn deferred_work_runs_after_the_scope_body_and_at_once_outside_one() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        defer(move || l.borrow_mut().push("outside"));
        assert_eq!(*log.borrow(), ["outside"]);
        let l = log.clone();
        let r = scope(|| {
            assert!(active());
            let l2 = l.clone();
            defer(move || {
                l2.borrow_mut().push("deferred");
                // Deferred by deferred work: still inside the scope, runs before it returns.
                let l3 = l2.clone();
                defer(move || l3.borrow_mut().push("again"));
            });
            // A nested scope does not run the outer scope's work early.
            scope(|| l.borrow_mut().push("inner"));
            l.borrow_mut().push("body");
            7
        });
        assert_eq!(r, 7);
        assert!(!active());
        assert_eq!(*log.borrow(), ["outside", "inner", "body", "deferred", "again"]);
    }

    #[test]
    fn a_panicking_scope_still_runs_its_work_and_ends() {
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scope(|| {
                defer(move || r.set(true));
                panic!("in the body");
            })
        }));
        assert!(caught.is_err());
        assert!(ran.get(), "the write a response deferred is not lost");
        assert!(!active(), "the thread is out of the scope");
    }
}
