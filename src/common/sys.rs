//! Thin libc wrappers that need `unsafe`: file-system usage, the local hour, a futex and the
//! clock-tick rate.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Percentage of the file system holding `path` that is in use, as Apache's
/// UtilAll.getDiskPartitionSpaceUsedPercent computes it: (total − free) / total, where free
/// includes blocks reserved for root.
pub fn disk_used_percent(path: &Path) -> io::Result<f64> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated string alive for the call; `st` is a valid out pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let total = st.f_blocks as f64 * st.f_frsize as f64;
    if total <= 0.0 {
        return Ok(0.0);
    }
    let free = st.f_bfree as f64 * st.f_frsize as f64;
    Ok((total - free) / total * 100.0)
}

/// Space of the file system holding `path`: (total, free including root's reserve, usable by
/// unprivileged users), in bytes (Java's File.getTotalSpace, getFreeSpace, getUsableSpace).
pub fn disk_space(path: &Path) -> io::Result<(u64, u64, u64)> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated string alive for the call; `st` is a valid out pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let unit = st.f_frsize as u64;
    Ok((
        (st.f_blocks as u64).saturating_mul(unit),
        (st.f_bfree as u64).saturating_mul(unit),
        (st.f_bavail as u64).saturating_mul(unit),
    ))
}

/// The hour of day (0-23) in the local time zone, as Apache's deleteWhen check uses.
pub fn local_hour(epoch_ms: i64) -> u32 {
    let t: libc::time_t = (epoch_ms / 1000) as libc::time_t;
    // SAFETY: an all-zero tm is a valid value of this plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return ((epoch_ms / 3_600_000) % 24) as u32;
    }
    tm.tm_hour.clamp(0, 23) as u32
}

/// Days since the epoch in the local time zone (changes at local midnight, when Apache's
/// BrokerStats.record runs).
pub fn local_day(epoch_ms: i64) -> i64 {
    let t: libc::time_t = (epoch_ms / 1000) as libc::time_t;
    // SAFETY: an all-zero tm is a valid value of this plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant.
    let offset = if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() { 0 } else { tm.tm_gmtoff };
    (epoch_ms / 1000 + offset).div_euclid(86_400)
}

/// Total physical memory in bytes (Apache's StoreUtil.TOTAL_PHYSICAL_MEMORY_SIZE); 0 if unknown.
pub fn total_physical_memory() -> u64 {
    // SAFETY: sysconf only reads system values.
    let (pages, page) =
        unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    if pages <= 0 || page <= 0 {
        return 0;
    }
    (pages as u64).saturating_mul(page as u64)
}

/// Block while `word` holds `expected`, for at most `timeout` (Linux futex, private). Returns on a
/// wake, a timeout, a signal or a changed value; the caller re-checks its condition.
pub fn futex_wait(
    word: &std::sync::atomic::AtomicU32,
    expected: u32,
    timeout: std::time::Duration,
) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: FUTEX_WAIT reads the aligned u32 behind `word` (an AtomicU32 has u32's layout and
    // lives across the call) and the timespec on our stack; it writes nothing.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

/// Wake every thread blocked in [`futex_wait`] on `word`, with one system call.
pub fn futex_wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it reads and writes no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

/// Write as much of `bufs` as the socket takes now, without blocking (sendmsg with
/// MSG_DONTWAIT | MSG_NOSIGNAL, so a closed peer gives EPIPE, not SIGPIPE). `WouldBlock` when
/// the socket buffer is full.
pub fn send_vectored_nonblocking(
    fd: std::os::fd::RawFd,
    bufs: &[std::io::IoSlice<'_>],
) -> io::Result<usize> {
    send_vectored_flags(fd, bufs, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
}

/// Write `bufs` as one blocking sendmsg (bounded by the socket's SO_SNDTIMEO). Unlike
/// `write_vectored` (writev), a closed peer gives EPIPE, never SIGPIPE: inside a C host program,
/// which keeps SIGPIPE's default action, a SIGPIPE would kill the program.
pub fn send_vectored(fd: std::os::fd::RawFd, bufs: &[std::io::IoSlice<'_>]) -> io::Result<usize> {
    send_vectored_flags(fd, bufs, libc::MSG_NOSIGNAL)
}

fn send_vectored_flags(
    fd: std::os::fd::RawFd,
    bufs: &[std::io::IoSlice<'_>],
    flags: libc::c_int,
) -> io::Result<usize> {
    // SAFETY: an all-zero msghdr is a valid value of this plain C struct (no name, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSlice is ABI-compatible with iovec (documented by std); sendmsg only reads them.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len().min(libc::UIO_MAXIOV as usize) as _;
    loop {
        // SAFETY: `msg` points at `bufs`, alive and unmodified for the call; `fd` is a socket the
        // caller keeps open across the call.
        let n = unsafe { libc::sendmsg(fd, &msg, flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// An epoll instance watching sockets for writability (one-shot), plus an eventfd that wakes
/// [`Epoll::wait`] from another thread.
pub struct Epoll {
    epfd: std::os::fd::OwnedFd,
    wake: std::os::fd::OwnedFd,
}

/// The token [`Epoll::wait`] reports for a [`Epoll::wake`] call.
pub const EPOLL_WAKE_TOKEN: u64 = u64::MAX;

impl Epoll {
    /// A new instance.
    pub fn new() -> io::Result<Epoll> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain syscalls returning new descriptors, owned right after the check.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epfd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `epfd` is a fresh descriptor nobody else owns.
        let epfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(epfd) };
        // SAFETY: as above.
        let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if wake < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `wake` is a fresh descriptor nobody else owns.
        let wake = unsafe { std::os::fd::OwnedFd::from_raw_fd(wake) };
        let ep = Epoll { epfd, wake };
        use std::os::fd::AsRawFd;
        ep.ctl(libc::EPOLL_CTL_ADD, ep.wake.as_raw_fd(), libc::EPOLLIN as u32, EPOLL_WAKE_TOKEN)?;
        Ok(ep)
    }

    fn ctl(&self, op: i32, fd: std::os::fd::RawFd, events: u32, token: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` lives on our stack for the call; both descriptors are open.
        if unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), op, fd, &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Report `token` once when `fd` becomes writable (or fails). `first` registers the fd, later
    /// calls re-arm it.
    pub fn watch_writable(
        &self,
        fd: std::os::fd::RawFd,
        token: u64,
        first: bool,
    ) -> io::Result<()> {
        let op = if first { libc::EPOLL_CTL_ADD } else { libc::EPOLL_CTL_MOD };
        let events = (libc::EPOLLOUT | libc::EPOLLONESHOT) as u32;
        match self.ctl(op, fd, events, token) {
            // The registration state is tracked by the caller; recover from a mismatch.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
            }
            r => r,
        }
    }

    /// Stop watching `fd` (errors ignored: a closed fd has left the set already).
    pub fn forget(&self, fd: std::os::fd::RawFd) {
        let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
    }

    /// Wake a thread blocked in [`Epoll::wait`].
    pub fn wake(&self) {
        use std::os::fd::AsRawFd;
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd.
        let _ = unsafe {
            libc::write(self.wake.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8)
        };
    }

    /// Wait up to `timeout_ms` (-1 = for ever) and push the ready tokens into `out`.
    pub fn wait(&self, out: &mut Vec<u64>, timeout_ms: i32) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 64];
        // SAFETY: `evs` is a writable array of 64 events on our stack.
        let n = unsafe {
            libc::epoll_wait(self.epfd.as_raw_fd(), evs.as_mut_ptr(), evs.len() as i32, timeout_ms)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(()) } else { Err(e) };
        }
        for ev in evs.iter().take(n as usize) {
            let token = ev.u64;
            if token == EPOLL_WAKE_TOKEN {
                let mut buf = 0u64;
                // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
                let _ = unsafe {
                    libc::read(self.wake.as_raw_fd(), &mut buf as *mut u64 as *mut libc::c_void, 8)
                };
            }
            out.push(token);
        }
        Ok(())
    }
}

/// Clock ticks per second, the unit of the CPU times in `/proc/<pid>/stat` (USER_HZ); 100 if
/// unknown.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a system value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn disk_usage_and_hour() {
        let p = disk_used_percent(&std::env::temp_dir()).unwrap();
        assert!((0.0..=100.0).contains(&p), "{p}");
        assert!(disk_used_percent(Path::new("/no/such/dir/at/all")).is_err());
        assert!(local_hour(crate::common::time::now_millis()) < 24);
    }

    #[test]
    fn futex_wake_all_wakes_every_waiter_and_wait_times_out() {
        use std::sync::atomic::{AtomicU32, Ordering};
        use std::sync::Arc;
        use std::time::{Duration, Instant};
        let word = Arc::new(AtomicU32::new(0));
        let t0 = Instant::now();
        futex_wait(&word, 0, Duration::from_millis(30));
        assert!(t0.elapsed() >= Duration::from_millis(25), "timed out, not woken");
        futex_wait(&word, 1, Duration::from_secs(10));
        assert!(t0.elapsed() < Duration::from_secs(5), "a changed value returns at once");
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let w = word.clone();
                std::thread::spawn(move || {
                    while w.load(Ordering::SeqCst) == 0 {
                        futex_wait(&w, 0, Duration::from_secs(30));
                    }
                })
            })
            .collect();
        word.store(1, Ordering::SeqCst);
        futex_wake_all(&word);
        for h in waiters {
            h.join().unwrap();
        }
    }

    /// Run `f` with SIGPIPE blocked on this thread; true when `f` raised one (a SIGPIPE from a
    /// write is sent to the writing thread, so it stays pending here and is consumed).
    pub(crate) fn raises_sigpipe(f: impl FnOnce()) -> bool {
        // SAFETY: signal-set calls on local sets; the mask changes only this thread's, and is
        // restored before returning.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            f();
            let mut pending: libc::sigset_t = std::mem::zeroed();
            libc::sigpending(&mut pending);
            let raised = libc::sigismember(&pending, libc::SIGPIPE) == 1;
            if raised {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                libc::sigtimedwait(&set, std::ptr::null_mut(), &ts);
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            raised
        }
    }

    /// A connected loopback socket whose write side is shut (writes fail with EPIPE), and its
    /// peer, kept so the connection stays up.
    pub(crate) fn write_shut_socket() -> (std::net::TcpStream, std::net::TcpStream) {
        use std::net::{Shutdown, TcpListener, TcpStream};
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let peer = l.accept().unwrap().0;
        s.shutdown(Shutdown::Write).unwrap();
        (s, peer)
    }

    #[test]
    fn vectored_sends_to_a_closed_socket_fail_with_epipe_not_sigpipe() {
        use std::io::{IoSlice, Write};
        use std::os::fd::AsRawFd;
        let (s, _peer) = write_shut_socket();
        let bufs = [IoSlice::new(b"frame-1"), IoSlice::new(b"frame-2")];
        // The check is sound: writev, as `write_vectored` does, raises SIGPIPE here.
        assert!(raises_sigpipe(|| assert!((&s).write_vectored(&bufs).is_err())));
        for send in [send_vectored, send_vectored_nonblocking] {
            let mut err = None;
            assert!(!raises_sigpipe(|| err = send(s.as_raw_fd(), &bufs).err()));
            assert_eq!(err.map(|e| e.kind()), Some(std::io::ErrorKind::BrokenPipe));
        }
    }
}
