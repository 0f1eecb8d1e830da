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
mod tests {
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
}
