//! CPU time and memory of a process, from `/proc/<pid>/stat` and `/proc/<pid>/status` (Linux
//! proc(5)): what rmq-bench reports for a local broker and what `/metrics` serves as the
//! standard `process_*` families.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::registry::Def;
use super::snapshot::{FamilySnapshot, Kind};
use crate::common::sys::clock_ticks_per_second;
use std::io;

/// One reading of a process's resource use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcStats {
    /// User CPU seconds since the process started.
    pub user_seconds: f64,
    /// System CPU seconds since the process started.
    pub system_seconds: f64,
    /// Resident set size in bytes (VmRSS).
    pub rss_bytes: u64,
    /// Anonymous resident memory in bytes (RssAnon): heap and stacks, not mapped files.
    pub rss_anon_bytes: u64,
    /// Number of threads.
    pub threads: u64,
}

impl ProcStats {
    /// User plus system CPU seconds.
    pub fn cpu_seconds(&self) -> f64 {
        self.user_seconds + self.system_seconds
    }

    /// Read the stats of `pid`.
    pub fn read(pid: u32) -> io::Result<ProcStats> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        Self::parse(&stat, &status, clock_ticks_per_second())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc stat"))
    }

    /// Read the stats of this process.
    pub fn own() -> io::Result<ProcStats> {
        Self::read(std::process::id())
    }

    /// Parse the two files. `stat`'s second field, the command, is in parentheses and may hold
    /// spaces, so fields are counted from its closing parenthesis.
    pub fn parse(stat: &str, status: &str, ticks: u64) -> Option<ProcStats> {
        let after = stat.get(stat.rfind(')')? + 1..)?;
        // After ")": state(3) ppid(4) ... utime(14) stime(15): indexes 11 and 12 from here.
        let fields: Vec<&str> = after.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        let kb = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let ticks = ticks.max(1) as f64;
        Some(ProcStats {
            user_seconds: utime as f64 / ticks,
            system_seconds: stime as f64 / ticks,
            rss_bytes: kb("VmRSS:") * 1024,
            rss_anon_bytes: kb("RssAnon:") * 1024,
            threads: kb("Threads:"),
        })
    }
}

/// `process_cpu_seconds_total`.
pub const PROCESS_CPU: Def = Def {
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    kind: Kind::Counter,
    labels: &[],
};
/// `process_resident_memory_bytes`.
pub const PROCESS_RSS: Def = Def {
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    kind: Kind::Gauge,
    labels: &[],
};
/// `rmq_process_resident_anon_bytes`.
pub const PROCESS_RSS_ANON: Def = Def {
    name: "rmq_process_resident_anon_bytes",
    help: "Anonymous resident memory (RssAnon) in bytes: heap and stacks, not mapped files.",
    kind: Kind::Gauge,
    labels: &[],
};
/// `process_threads`.
pub const PROCESS_THREADS: Def =
    Def { name: "process_threads", help: "Number of OS threads.", kind: Kind::Gauge, labels: &[] };

/// A collector of this process's `process_*` families (empty when /proc cannot be read).
pub fn collect_own(out: &mut Vec<FamilySnapshot>) {
    let Ok(s) = ProcStats::own() else { return };
    for (def, v) in [
        (PROCESS_CPU, s.cpu_seconds()),
        (PROCESS_RSS, s.rss_bytes as f64),
        (PROCESS_RSS_ANON, s.rss_anon_bytes as f64),
        (PROCESS_THREADS, s.threads as f64),
    ] {
        let mut f = FamilySnapshot::new(&def);
        f.push(&[], v);
        out.push(f);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let stat = "4242 (rmq broker (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 \
                    33 0 100 1000000 500 18446744073709551615";
        let status = "Name:\trmq\nVmRSS:\t  20480 kB\nRssAnon:\t  8192 kB\nThreads:\t33\n";
        let s = ProcStats::parse(stat, status, 100).unwrap();
        assert_eq!((s.user_seconds, s.system_seconds), (2.5, 0.75));
        assert_eq!(s.cpu_seconds(), 3.25);
        assert_eq!((s.rss_bytes, s.rss_anon_bytes, s.threads), (20480 * 1024, 8192 * 1024, 33));
        assert!(ProcStats::parse("garbage", "", 100).is_none());
    }

    #[test]
    fn reads_itself() {
        let s = ProcStats::own().unwrap();
        assert!(s.rss_bytes > 0 && s.threads >= 1, "{s:?}");
    }
}
