//! SIGTERM/SIGINT handling for the server binaries. The handler sets an atomic flag and writes
//! one byte to a self-pipe, so `wait_for_stop` blocks in read(2) instead of polling.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static PIPE_W: AtomicI32 = AtomicI32::new(-1);
static PIPE_R: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    let fd = PIPE_W.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = 1u8;
        // SAFETY: write(2) is async-signal-safe; `b` outlives the call; a failed write is harmless
        // because the flag is already set.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }
}

/// Install handlers for SIGTERM and SIGINT.
pub fn install() {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints, as pipe(2) requires.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
        PIPE_R.store(fds[0], Ordering::SeqCst);
        PIPE_W.store(fds[1], Ordering::SeqCst);
    }
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: `on_signal` only touches atomics and write(2), both async-signal-safe, and has the
    // signature signal(2) expects.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
}

/// True once SIGTERM or SIGINT arrived.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Block until a stop signal arrives.
pub fn wait_for_stop() {
    let fd = PIPE_R.load(Ordering::SeqCst);
    while !stop_requested() {
        if fd < 0 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            continue;
        }
        let mut b = 0u8;
        // SAFETY: `b` is a valid one-byte buffer for the duration of the call.
        let _ = unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
    }
}
