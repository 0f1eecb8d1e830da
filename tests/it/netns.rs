//! Multi-host harness (issue 11, "Several hosts"): each host is a network namespace of its own,
//! with its own address and port space, as separate machines would be, all on one switch.
//!
//! The contract:
//! - [`Net::new`] creates a hub namespace holding a bridge (the switch) and picks a private
//!   `10.x.y.0/24` for the test, from the process id and a counter (a subnet that an interface of
//!   the root namespace already uses is skipped). Every name starts with `rmqt-<pid>-<n>-`, so
//!   parallel tests and earlier runs never collide; namespaces left by runs whose process is gone
//!   are deleted.
//! - [`Net::host`] creates namespace `rmqt-<pid>-<n>-<name>` with a veth pair (`eth0` in the
//!   host, port `p<k>` on the bridge), address `10.x.y.k/24` ([`Host::addr`]), loopback up and a
//!   default route on eth0, so clients see their host address as their own (as on a machine with
//!   one interface; nothing leaves the bridge). It also gets a directory, [`Host::dir`], for its
//!   stores and logs under the test's [`TestDir`].
//! - Nothing is created in the root namespace, and traffic stays inside the namespaces the test
//!   made. The test process itself stays in the root namespace and cannot reach the hosts: run
//!   servers, clients and rmq-admin on hosts ([`Host::start`], [`Host::spawn`], [`Host::admin`]).
//! - Programs run on a host through `ip netns exec`, which execs them in place: the PID the test
//!   holds is the program's, and [`Proc`] / [`Job`] stop it by that PID. [`Net`]'s Drop then kills
//!   by PID whatever still runs in its namespaces (only the test's own processes can be there)
//!   and deletes them, which removes the veths and the bridge, also when the test panics. Declare
//!   the `Net` before the processes, so that their Drop (which prints a failed test's logs) runs
//!   first.
//! - Servers bind and advertise their host's address on Apache's default ports (9876; 10911 with
//!   fast port 10909 and HA port 10912), since every host has its own ports. [`Host::broker`]
//!   takes any extra `--key=value` flags, which override its defaults (brokerRole, brokerId,
//!   haMasterAddress, haListenPort, flushDiskType ...).
//! - [`Host::cut`] sets the host's switch port down: the host and its peers see silence, no reset,
//!   as with a pulled cable; established connections survive a short cut. [`Host::restore`] sets
//!   it up again.
//! - A missing `ip` tool or missing privileges (root, or CAP_SYS_ADMIN and CAP_NET_ADMIN) is a
//!   test failure with a message saying so, never a skip.

mod cut;
mod ha_kill;

use crate::util::{small_store_args, Proc, TestDir, BROKER_BIN, NAMESRV_BIN};
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// rmq-admin, run on a host by [`Host::admin`].
pub const ADMIN_BIN: &str = env!("CARGO_BIN_EXE_rmq-admin");
/// The name server port on its host (Apache's default).
pub const NAMESRV_PORT: u16 = 9876;
/// A broker's main port on its host (Apache's default; fast port 10909).
pub const BROKER_PORT: u16 = 10911;
/// A broker's HA port on its host (listenPort + 1, as Apache).
pub const HA_PORT: u16 = 10912;

static NETS: AtomicUsize = AtomicUsize::new(0);
static LOGS: AtomicUsize = AtomicUsize::new(0);
const PREFIX: &str = "rmqt-";

/// Run `ip <args>`; Err(stderr) when it fails. A missing `ip` is a failure of the test.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip").args(args).stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!("the multi-host tests need iproute2's `ip` (apt-get install iproute2): {e}")
    });
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn ip_ok(args: &[&str]) {
    if let Err(e) = ip(args) {
        panic!("ip {}: {e}", args.join(" "));
    }
}

/// A test's private network: a switch and the hosts on it. Dropping it kills what still runs on
/// its hosts and deletes every namespace it made.
pub struct Net {
    prefix: String,
    hub: String,
    subnet: [u8; 3],
    namespaces: Vec<String>,
    hosts: usize,
    dir: TestDir,
}

impl Net {
    /// A new network with no hosts; `test` names its directory.
    pub fn new(test: &str) -> Net {
        reap_stale();
        let pid = std::process::id();
        let n = NETS.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("{PREFIX}{pid}-{n}");
        let mut net = Net {
            hub: format!("{prefix}-hub"),
            prefix,
            subnet: pick_subnet(pid, n),
            namespaces: Vec::new(),
            hosts: 0,
            dir: TestDir::new(&format!("netns-{test}")),
        };
        let hub = net.hub.clone();
        net.add_namespace(&hub);
        ip_ok(&["-n", &hub, "link", "set", "lo", "up"]);
        ip_ok(&["-n", &hub, "link", "add", "br0", "type", "bridge", "forward_delay", "0"]);
        ip_ok(&["-n", &hub, "link", "set", "br0", "up"]);
        net
    }

    fn add_namespace(&mut self, ns: &str) {
        if let Err(e) = ip(&["netns", "add", ns]) {
            panic!(
                "cannot create network namespace {ns}: {e}\nthe multi-host tests need root (or \
                 CAP_SYS_ADMIN and CAP_NET_ADMIN), as CI has"
            );
        }
        self.namespaces.push(ns.to_string());
    }

    /// A new host named `name` (lowercase letters, digits and '-'), on the switch.
    pub fn host(&mut self, name: &str) -> Host {
        assert!(
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "host name {name:?}: lowercase letters, digits and '-' only"
        );
        self.hosts += 1;
        let k = self.hosts;
        assert!(k < 255, "a /24 holds 254 hosts");
        let ns = format!("{}-{name}", self.prefix);
        self.add_namespace(&ns);
        let [a, b, c] = self.subnet;
        let addr = Ipv4Addr::new(a, b, c, k as u8);
        let port = format!("p{k}");
        let cidr = format!("{addr}/24");
        let hub = self.hub.as_str();
        ip_ok(&[
            "-n", hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        ip_ok(&["-n", hub, "link", "set", &port, "master", "br0", "up"]);
        ip_ok(&["-n", &ns, "link", "set", "lo", "up"]);
        ip_ok(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"]);
        ip_ok(&["-n", &ns, "link", "set", "eth0", "up"]);
        ip_ok(&["-n", &ns, "route", "add", "default", "dev", "eth0"]);
        let dir = self.dir.path.join(name);
        fs::create_dir_all(&dir).unwrap();
        Host { name: name.to_string(), ns, hub: self.hub.clone(), port, addr, dir }
    }

    /// The test's subnet, `10.x.y.0/24`.
    pub fn subnet(&self) -> String {
        let [a, b, c] = self.subnet;
        format!("{a}.{b}.{c}.0/24")
    }

    /// The test's directory (one subdirectory per host).
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            // Only processes this test started can be in namespaces it created.
            for pid in ip(&["netns", "pids", ns]).unwrap_or_default().split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("netns: cannot delete namespace {ns}: {e}");
            }
        }
    }
}

/// Delete namespaces of earlier runs whose test process is gone (a SIGKILLed `cargo test`).
fn reap_stale() {
    let list = ip(&["netns", "list"]).unwrap_or_else(|e| {
        panic!("`ip netns list` failed: {e}\nthe multi-host tests need root, as CI has")
    });
    for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = ns.strip_prefix(PREFIX).and_then(|r| r.split('-').next()) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let left = ip(&["netns", "pids", ns]).unwrap_or_default();
            eprintln!("netns: deleting stale namespace {ns} (processes left: {left:?})");
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// A `10.x.y` prefix from the pid and the net counter that no root-namespace interface uses.
fn pick_subnet(pid: u32, n: usize) -> [u8; 3] {
    let used = ip(&["-4", "-o", "addr", "show"]).unwrap_or_default();
    let mut seed = (pid as usize).wrapping_mul(7919).wrapping_add(n.wrapping_mul(257));
    for _ in 0..1000 {
        let (x, y) = (16 + (seed % 224) as u8, ((seed / 224) % 256) as u8);
        if !used.contains(&format!("inet 10.{x}.{y}.")) {
            return [10, x, y];
        }
        seed = seed.wrapping_add(1);
    }
    panic!("no free 10.x.y.0/24 subnet: {used}");
}

/// A host of a [`Net`]: a namespace with one address. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Host {
    name: String,
    ns: String,
    hub: String,
    port: String,
    addr: Ipv4Addr,
    dir: PathBuf,
}

impl Host {
    /// The host name given to [`Net::host`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// `addr:port` on this host.
    pub fn endpoint(&self, port: u16) -> String {
        format!("{}:{port}", self.addr)
    }

    /// The namespace's name (for `ip netns exec` by hand).
    #[allow(dead_code)] // for the HA version of the multi-host test (issue 11)
    pub fn netns(&self) -> &str {
        &self.ns
    }

    /// The host's directory: its stores and logs.
    #[allow(dead_code)] // for the HA version of the multi-host test (issue 11)
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `program` as a command that runs on this host.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns]).arg(program);
        c
    }

    /// Run `program args` on this host to its end.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program} on {}: {e}", self.name))
    }

    /// `rmq-admin <args> -n <namesrv>` on this host: its stdout, or Err(stdout and stderr).
    pub fn admin(&self, namesrv: &str, args: &[&str]) -> Result<String, String> {
        let mut all = args.to_vec();
        all.extend(["-n", namesrv]);
        let out = self.run(ADMIN_BIN, &all);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "rmq-admin {all:?}: {}\n{stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn log_file(&self, program: &str) -> PathBuf {
        let base = program.rsplit('/').next().unwrap_or(program);
        self.dir.join(format!("{base}-{}.log", LOGS.fetch_add(1, Ordering::SeqCst)))
    }

    /// Start `bin args` on this host and wait for its READY line (stderr goes to a log file of
    /// the host's directory, printed if the test panics).
    pub fn start(&self, bin: &str, args: &[String]) -> Proc {
        let mut cmd = self.command(bin);
        cmd.args(args);
        Proc::start_command(cmd, bin, self.log_file(bin), 1)
    }

    /// A name server on `addr:9876`; `extra` flags override the defaults.
    pub fn namesrv(&self, extra: &[&str]) -> Proc {
        let mut args = vec![
            format!("--listenPort={NAMESRV_PORT}"),
            format!("--bindAddress={}", self.addr),
            format!("--kvConfigPath={}", self.dir.join("namesrv-kv.json").display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.start(NAMESRV_BIN, &args)
    }

    /// The flags [`Host::broker`] starts a broker with: name servers `namesrv` (';'-separated),
    /// `addr:10911` bound and advertised, its store in the host's directory, small store files,
    /// then `extra` (`--key=value`, overriding the rest; a second broker on one host needs its
    /// own `--listenPort` and `--storePathRootDir`).
    pub fn broker_args(
        &self,
        namesrv: &str,
        name: &str,
        cluster: &str,
        extra: &[&str],
    ) -> Vec<String> {
        let mut args = vec![
            "-n".to_string(),
            namesrv.to_string(),
            format!("--listenPort={BROKER_PORT}"),
            format!("--bindAddress={}", self.addr),
            format!("--brokerIP1={}", self.addr),
            format!("--storePathRootDir={}", self.dir.join("store").display()),
            format!("--brokerName={name}"),
            format!("--brokerClusterName={cluster}"),
        ];
        args.extend(small_store_args());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// A broker started with [`Host::broker_args`]; start it again on the same store with
    /// `host.start(BROKER_BIN, &args)`.
    pub fn broker(&self, namesrv: &str, name: &str, cluster: &str, extra: &[&str]) -> Proc {
        self.start(BROKER_BIN, &self.broker_args(namesrv, name, cluster, extra))
    }

    /// Start `program args` on this host as a [`Job`]: stdin piped, stdout lines collected,
    /// stderr to a log file of the host's directory.
    pub fn spawn(&self, program: &Path, args: &[&str]) -> Job {
        let name =
            format!("{}@{}", program.file_name().unwrap_or_default().to_string_lossy(), self.name);
        let log = self.log_file(&program.to_string_lossy());
        let mut child = self
            .command(program)
            .args(args)
            .env("RMQ_LOG", std::env::var("RMQ_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .env("HOME", &self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdin = child.stdin.take();
        let out = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l2 = lines.clone();
        let reader = std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(l);
            }
        });
        Job { name, child: Some(child), stdin, lines, reader: Some(reader), log }
    }

    /// Pull the host's cable: its switch port goes down (silence both ways, no reset).
    pub fn cut(&self) {
        ip_ok(&["-n", &self.hub, "link", "set", &self.port, "down"]);
    }

    /// Plug the cable back in.
    pub fn restore(&self) {
        ip_ok(&["-n", &self.hub, "link", "set", &self.port, "up"]);
    }
}

/// A client process on a host, killed by PID on drop (its stderr log printed if the test
/// panics). It usually runs until its stdin closes ([`Job::close_stdin`]).
pub struct Job {
    name: String,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
    log: PathBuf,
}

impl Job {
    /// `f` over the stdout lines so far.
    pub fn with_lines<R>(&self, f: impl FnOnce(&[String]) -> R) -> R {
        f(&self.lines.lock().unwrap())
    }

    /// Close the job's stdin (a numbered_stream stops and exits).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Wait for the job to exit (killed and a panic after `timeout`); its exit code, once every
    /// stdout line is collected.
    pub fn finish(&mut self, timeout: Duration) -> i32 {
        let mut child = self.child.take().unwrap_or_else(|| panic!("{} already ended", self.name));
        let end = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        status.code().unwrap_or(-1)
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("==== log of {} ({}) ====", self.name, self.log.display());
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        }
        self.kill9();
    }
}

/// examples/numbered_stream, built once per run in this test binary's profile
/// (`cargo build --example numbered_stream`).
pub fn numbered_stream() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/it-… → target/<profile>
        let exe = std::env::current_exe().unwrap();
        let profile = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "build",
            "--example",
            "numbered_stream",
        ]);
        if profile.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let st = build.status().expect("cargo build --example numbered_stream");
        assert!(st.success(), "cargo build --example numbered_stream failed");
        profile.join("examples").join("numbered_stream")
    })
}

#[test]
fn netns_harness_kills_and_deletes_what_it_made_even_when_the_test_panics() {
    let mut left: Option<(Child, Vec<String>, PathBuf)> = None;
    let slot = std::panic::AssertUnwindSafe(&mut left);
    let r = std::panic::catch_unwind(move || {
        let slot = slot;
        let mut net = Net::new("teardown");
        let (h1, h2) = (net.host("one"), net.host("two"));
        assert_ne!(h1.addr(), h2.addr());
        // A process the test forgot to stop: the net's Drop must kill it by PID.
        let child = h1.command("sleep").arg("600").stdin(Stdio::null()).spawn().unwrap();
        let names = vec![net.hub.clone(), h1.ns.clone(), h2.ns.clone()];
        let listed = ip(&["netns", "list"]).unwrap();
        assert!(names.iter().all(|n| listed.contains(n.as_str())), "{listed}");
        // `ip netns exec` enters the namespace a moment after spawn returns (under load, after
        // the first look): wait for the process to show up there.
        let pid = child.id().to_string();
        let seen_by = Instant::now() + Duration::from_secs(10);
        while !ip(&["netns", "pids", &h1.ns]).unwrap().lines().any(|l| l.trim() == pid) {
            assert!(Instant::now() < seen_by, "pid {pid} never appeared in {}", h1.ns);
            std::thread::sleep(Duration::from_millis(20));
        }
        *slot.0 = Some((child, names, net.dir().to_path_buf()));
        panic!("a test failing with its hosts up");
    });
    assert!(r.is_err());
    let (mut child, names, dir) = left.expect("the closure ran to its panic");
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "the forgotten process still runs");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "killed, not ended: {status}");
    let listed = ip(&["netns", "list"]).unwrap();
    for n in names {
        assert!(!listed.contains(n.as_str()), "namespace {n} left behind: {listed}");
    }
    // A failed test keeps its directory for its logs; this one failed on purpose.
    let _ = fs::remove_dir_all(dir);
}
