//! File helpers: atomic replace of small metadata files (temp, fsync, rename, fsync dir).
//!
//! Every save of JSON state (topics.json, subscriptionGroup.json, kvConfig.json, offsets,
//! checkpoints) goes through [`write_atomic`] or [`write_atomic_with`]. Each save writes its own
//! temporary file (`<name>.<pid>.<n>.tmp`, never shared), and saves of one target inside this
//! process run one at a time, so a torn or half-renamed file never lands (issue 13: concurrent
//! saves used to share one `<name>.tmp`, and one writer could rename another's half-written file
//! into place).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Numbers the temporary files of this process.
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// One lock per target file (by canonical directory + name), held for a whole save.
fn target_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let key = match (fs::canonicalize(dir), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => path.to_path_buf(),
    };
    LOCKS.get_or_init(Default::default).lock().entry(key).or_default().clone()
}

/// Replace `path` with `data` atomically: write a temporary file of this save's own, fsync it,
/// rename it over `path`, fsync the directory. A crash leaves either the old or the new content,
/// never a torn file; concurrent saves of one target never mix their bytes.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    write_atomic_with(path, || Ok(data.to_vec()))
}

/// As [`write_atomic`], with the content produced by `make` while this target's save lock is
/// held: when several threads save snapshots of the same state, the one that writes last also
/// took its snapshot last, so an older snapshot never replaces a newer one.
pub fn write_atomic_with(
    path: &Path,
    make: impl FnOnce() -> io::Result<Vec<u8>>,
) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir)?;
    let lock = target_lock(path);
    let _one_writer = lock.lock();
    let data = make()?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.{}.tmp", std::process::id(), TMP_SEQ.fetch_add(1, Ordering::Relaxed)));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(&data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// fsync a directory so that creations, renames and deletions in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Read a file into a string; `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rmq-fs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// Version `v` of the file: a JSON-ish text whose length and every byte depend on `v`.
    fn version(v: usize) -> Vec<u8> {
        let fill = char::from(b'a' + (v % 26) as u8).to_string().repeat(20_000 + 977 * (v % 13));
        format!("{{\"v\":{v},\"fill\":\"{fill}\"}}").into_bytes()
    }

    fn is_whole(bytes: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(bytes) else { return false };
        let Some(v) = text.strip_prefix("{\"v\":").and_then(|r| r.split(',').next()) else {
            return false;
        };
        v.parse::<usize>().is_ok_and(|v| version(v) == bytes)
    }

    /// Issue 13: concurrent saves of one file shared a fixed `.tmp` name; a writer could rename
    /// another's half-written (truncated) temp into place, or fail because it was already gone.
    #[test]
    fn concurrent_saves_never_land_a_torn_file() {
        let dir = temp_dir("race");
        let path = dir.join("topics.json");
        write_atomic(&path, &version(0)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) {
                    let b = fs::read(&path).unwrap();
                    assert!(is_whole(&b), "a reader saw a torn file of {} bytes", b.len());
                    reads += 1;
                }
                reads
            })
        };
        let writers: Vec<_> = (0..6)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..15 {
                        write_atomic(&path, &version(t * 1000 + i)).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        assert!(is_whole(&fs::read(&path).unwrap()));
        let left: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["topics.json"], "temporary files left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn snapshot_taken_under_the_lock_and_failures_clean_up() {
        let dir = temp_dir("with");
        let path = dir.join("kv.json");
        let counter = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (path, counter) = (path.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        write_atomic_with(&path, || {
                            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                            Ok(n.to_string().into_bytes())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // The last snapshot taken is the one on disk.
        assert_eq!(fs::read_to_string(&path).unwrap(), "100");
        let e = write_atomic_with(&path, || Err(io::Error::other("no snapshot"))).unwrap_err();
        assert_eq!(e.to_string(), "no snapshot");
        assert_eq!(fs::read_to_string(&path).unwrap(), "100");
        // A rename that fails (target is a directory) leaves no temporary file.
        let sub = dir.join("sub");
        fs::create_dir_all(sub.join("x")).unwrap();
        assert!(write_atomic(&sub, b"data").is_err());
        let left: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
