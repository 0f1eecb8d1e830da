//! The log-path, log-level and log-file setters (SetProducerLogPath, SetPushConsumerLogLevel,
//! SetPullConsumerLogFileNumAndSize, ...), honoured: the library's log records (the rmq client's
//! `log` records) go to `<path>/<pid>_rocketmq-cpp.log` in the directory the program named, and
//! nowhere until it names one. Apache's library writes to `$HOME/logs/rocketmq-cpp/` whatever the
//! setters say (its SetProducerLogPath is a no-op in 2.1.0); this one never writes under $HOME
//! unasked. As in Apache's library the settings are process-wide (its logger is a singleton), so
//! the last call wins whichever handle it was made on. The environment variable
//! ROCKETMQ_CLIENT_LOG_DIR (honoured by Apache's later releases) counts as naming a directory.
//!
//! Files rotate by size: when the current file reaches the per-file size (MB, default 100), it
//! becomes `.1`, the older ones shift up, and at most `fileNum` files (default 3) are kept.

use log::LevelFilter;
use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

struct Sink {
    dir: Option<PathBuf>,
    level: LevelFilter,
    file_num: u32,
    file_size: u64,
    open: Option<(File, u64)>,
}

static SINK: Mutex<Sink> = Mutex::new(Sink {
    dir: None,
    level: LevelFilter::Info,
    file_num: 3,
    file_size: 100 * 1024 * 1024,
    open: None,
});
static INSTALL: Once = Once::new();
static ENV: Once = Once::new();

struct FileLog;

impl log::Log for FileLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "[{}]({}):{} {}\n",
            timestamp(SystemTime::now()),
            record.level().as_str().to_ascii_lowercase(),
            record.target(),
            record.args()
        );
        SINK.lock().write(line.as_bytes());
    }

    fn flush(&self) {
        if let Some((f, _)) = SINK.lock().open.as_mut() {
            let _ = f.flush();
        }
    }
}

impl Sink {
    fn path(dir: &Path, n: u32) -> PathBuf {
        let name = format!("{}_rocketmq-cpp.log", std::process::id());
        if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{name}.{n}"))
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let Some(dir) = self.dir.clone() else { return };
        if self.open.as_ref().is_some_and(|(_, n)| *n + bytes.len() as u64 > self.file_size) {
            self.open = None;
            self.rotate(&dir);
        }
        if self.open.is_none() {
            let p = Sink::path(&dir, 0);
            if let Ok(f) = OpenOptions::new().create(true).append(true).open(&p) {
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                self.open = Some((f, len));
            }
        }
        if let Some((f, n)) = self.open.as_mut() {
            if f.write_all(bytes).is_ok() {
                *n += bytes.len() as u64;
            }
        }
    }

    /// `.log` → `.log.1` → ... → `.log.<file_num-1>`; the oldest is removed.
    fn rotate(&self, dir: &Path) {
        let keep = self.file_num.max(1);
        let _ = std::fs::remove_file(Sink::path(dir, keep - 1));
        for n in (0..keep - 1).rev() {
            let _ = std::fs::rename(Sink::path(dir, n), Sink::path(dir, n + 1));
        }
        if keep == 1 {
            let _ = std::fs::remove_file(Sink::path(dir, 0));
        }
    }

    fn apply(&self) {
        log::set_max_level(if self.dir.is_some() { self.level } else { LevelFilter::Off });
    }
}

fn install() {
    INSTALL.call_once(|| {
        // The `log` crate inside this library is private to it, so nobody else installs a logger
        // in it; a failure would only mean a second install, which Once prevents.
        let _ = log::set_logger(&FileLog);
        log::set_max_level(LevelFilter::Off);
    });
    ENV.call_once(|| {
        if let Some(d) = std::env::var_os("ROCKETMQ_CLIENT_LOG_DIR").filter(|d| !d.is_empty()) {
            let _ = set_dir(Path::new(&d));
        }
    });
}

/// Called by every Create* function: installs the logger (silent until a directory is named).
pub(crate) fn init() {
    install();
}

/// Log to `dir` (created if missing).
pub(crate) fn set_dir(dir: &Path) -> Result<(), String> {
    install();
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create log directory {}: {e}", dir.display()))?;
    let mut s = SINK.lock();
    s.dir = Some(dir.to_path_buf());
    s.open = None;
    s.apply();
    drop(s);
    log::info!("rocketmq-compat logging to {}", dir.display());
    Ok(())
}

/// CLogLevel: 1 FATAL and 2 ERROR → error, 3 warn, 4 info, 5 debug, 6 trace; any other value
/// info (Apache's default branch).
pub(crate) fn set_level(level: i32) {
    install();
    let f = match level {
        1 | 2 => LevelFilter::Error,
        3 => LevelFilter::Warn,
        5 => LevelFilter::Debug,
        6 => LevelFilter::Trace,
        _ => LevelFilter::Info,
    };
    let mut s = SINK.lock();
    s.level = f;
    s.apply();
}

/// At most `num` files (>= 1) of `size_mb` MB (>= 1) each.
pub(crate) fn set_files(num: i32, size_mb: std::ffi::c_long) -> Result<(), String> {
    install();
    if num < 1 || size_mb < 1 {
        return Err(format!("log file number {num} and size {size_mb} MB must both be at least 1"));
    }
    let mut s = SINK.lock();
    s.file_num = num.min(1000) as u32;
    s.file_size = (size_mb as u64).min(1 << 20) * 1024 * 1024;
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC.
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_civil_time() {
        let t = UNIX_EPOCH + Duration::from_millis(951_782_400_123); // 2000-02-29 00:00:00.123
        assert_eq!(timestamp(t), "2000-02-29 00:00:00.123");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14 22:13:20.000"
        );
    }

    #[test]
    fn files_rotate_by_size_and_keep_file_num() {
        let dir = std::env::temp_dir().join(format!("rmq-compat-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = Sink {
            dir: Some(dir.clone()),
            level: LevelFilter::Info,
            file_num: 3,
            file_size: 100,
            open: None,
        };
        for i in 0..20 {
            s.write(format!("line {i:02} padded to forty bytes.......\n").as_bytes());
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let base = format!("{}_rocketmq-cpp.log", std::process::id());
        assert_eq!(names, vec![base.clone(), format!("{base}.1"), format!("{base}.2")]);
        for n in &names {
            assert!(std::fs::metadata(dir.join(n)).unwrap().len() <= 100);
        }
        let newest = std::fs::read_to_string(dir.join(&base)).unwrap();
        assert!(newest.contains("line 19"), "{newest}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
