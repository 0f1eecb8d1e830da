//! Test harness: unique temp dirs, real rmq processes on 127.0.0.1 port 0, waiting helpers.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique directory per test, removed on drop unless the test failed.
pub struct TestDir {
    pub path: PathBuf,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = base.join(format!("{}-{}-{}", name, std::process::id(), n));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TestDir { path }
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.path);
        } else {
            // Keep the logs of a failed test, not its preallocated segments: a few failures
            // must not fill the disk.
            remove_big_files(&self.path);
        }
    }
}

fn remove_big_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.metadata() {
            Ok(m) if m.is_dir() => remove_big_files(&path),
            Ok(m) if m.len() > 8 << 20 => {
                let _ = fs::remove_file(&path);
            }
            _ => {}
        }
    }
}

/// Poll `cond` until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
    cond()
}

/// A running rmq binary, killed by PID on drop; its stderr log is printed if the test panics.
pub struct Proc {
    pub child: Option<Child>,
    pub ready: String,
    pub log: PathBuf,
    pub name: String,
}

impl Proc {
    /// Start `bin` with `args`, wait for its READY line (the last one it prints).
    pub fn start(bin: &str, args: &[String], log: PathBuf, expect_ready: usize) -> Proc {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        Proc::start_command(cmd, bin, log, expect_ready)
    }

    /// [`Proc::start`] for a prepared command (a binary run through a wrapper such as
    /// `ip netns exec`, which must exec it in place so that the child's PID is the binary's).
    pub fn start_command(mut cmd: Command, bin: &str, log: PathBuf, expect_ready: usize) -> Proc {
        let logf = fs::File::create(&log).unwrap();
        let mut child = cmd
            .env("RMQ_LOG", std::env::var("RMQ_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(logf))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("READY") && tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut ready = String::new();
        for _ in 0..expect_ready {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => ready = l,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{bin} did not become ready; log:\n{}",
                        fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        }
        Proc {
            child: Some(child),
            ready,
            log,
            name: bin.rsplit('/').next().unwrap_or(bin).to_string(),
        }
    }

    /// The value of `key=` in the READY line.
    pub fn ready_field(&self, key: &str) -> String {
        self.ready
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in READY line {}", self.ready))
            .to_string()
    }

    /// The advertised address with 127.0.0.1 in place of 0.0.0.0.
    pub fn addr(&self, key: &str) -> String {
        self.ready_field(key).replace("0.0.0.0", "127.0.0.1")
    }

    /// SIGTERM and wait (graceful stop).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_kill(c.id(), 15);
            let end = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                if Instant::now() > end {
                    let _ = c.kill();
                    let _ = c.wait();
                    panic!("{} did not stop on SIGTERM", self.name);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn unsafe_kill(pid: u32, sig: i32) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("==== log of {} ({}) ====", self.name, self.log.display());
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(80).collect();
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        }
        self.kill9();
    }
}

/// A name server and one broker, as real processes on loopback.
pub struct Cluster {
    pub dir: PathBuf,
    pub namesrv: Proc,
    pub broker: Proc,
    pub broker_args: Vec<String>,
    restarts: usize,
}

pub const NAMESRV_BIN: &str = env!("CARGO_BIN_EXE_rmq-namesrv");
pub const BROKER_BIN: &str = env!("CARGO_BIN_EXE_rmq-broker");

/// Store sizes for test brokers: Apache's defaults preallocate a 1 GiB commit-log segment and a
/// 420 MB index file per broker, which many brokers side by side would spend on nothing. Later
/// flags (a test's own) override these.
pub fn small_store_args() -> Vec<String> {
    ["--mappedFileSizeCommitLog=67108864", "--maxHashSlotNum=50000", "--maxIndexNum=200000"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

impl Cluster {
    pub fn start(dir: &Path, extra: &[&str]) -> Cluster {
        Cluster::start_with(dir, &[], extra)
    }

    /// A cluster whose name server also gets `ns_extra` (e.g. `--metricsPort=-1`).
    pub fn start_with(dir: &Path, ns_extra: &[&str], extra: &[&str]) -> Cluster {
        let mut ns_args = vec![
            "--listenPort=0".to_string(),
            "--bindAddress=127.0.0.1".to_string(),
            format!("--kvConfigPath={}", dir.join("kv.json").display()),
        ];
        ns_args.extend(ns_extra.iter().map(|s| s.to_string()));
        let namesrv = Proc::start(NAMESRV_BIN, &ns_args, dir.join("namesrv.log"), 1);
        let ns = namesrv.addr("listen");
        let mut broker_args = vec![
            "-n".to_string(),
            ns,
            "--listenPort=0".to_string(),
            "--bindAddress=127.0.0.1".to_string(),
            "--brokerIP1=127.0.0.1".to_string(),
            format!("--storePathRootDir={}", dir.join("store").display()),
            "--brokerName=broker-a".to_string(),
        ];
        broker_args.extend(small_store_args());
        broker_args.extend(extra.iter().map(|s| s.to_string()));
        let broker = Proc::start(BROKER_BIN, &broker_args, dir.join("broker-0.log"), 1);
        Cluster { dir: dir.to_path_buf(), namesrv, broker, broker_args, restarts: 0 }
    }

    pub fn namesrv_addr(&self) -> String {
        self.namesrv.addr("listen")
    }

    pub fn broker_addr(&self) -> String {
        self.broker.addr("listen")
    }

    /// Start the broker again with the same store (after stop or kill9).
    pub fn restart_broker(&mut self) {
        self.restarts += 1;
        let log = self.dir.join(format!("broker-{}.log", self.restarts));
        self.broker = Proc::start(BROKER_BIN, &self.broker_args, log, 1);
    }
}
