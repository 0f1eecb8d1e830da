//! `rmq-namesrv`: the name server, started as Apache's mqnamesrv is (`-c namesrv.properties`).

use rmq::common::config::startup;
use rmq::common::{logging, signals};
use rmq::namesrv::{self, NamesrvConfig};
use std::process::ExitCode;

const HELP: &str = "usage: rmq-namesrv [-c namesrv.properties] [--key=value ...]

Keys (Apache names): listenPort (9876), bindAddress (0.0.0.0), kvConfigPath,
orderMessageEnable, serverWorkerThreads, maxFrameSize, scanNotActiveBrokerInterval,
brokerExpiredMillis, metricsPort (0 = off, the default; -1 = any free port; serves
GET /metrics in the Prometheus text format). Logging level: RMQ_LOG=debug|info|warn|error.
Prints `READY role=namesrv listen=ADDR` once listening; stops on SIGTERM/SIGINT.";

fn main() -> ExitCode {
    logging::init();
    let mut cfg = NamesrvConfig::default();
    if let Err(code) = startup("rmq-namesrv", HELP, &[], &mut cfg) {
        return ExitCode::from(code.report("rmq-namesrv"));
    }
    signals::install();
    let mut h = match namesrv::start(cfg) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("rmq-namesrv: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match h.metrics_addr() {
        Some(m) => println!("READY role=namesrv listen={} metrics={m}", h.local_addr()),
        None => println!("READY role=namesrv listen={}", h.local_addr()),
    }
    signals::wait_for_stop();
    h.shutdown();
    ExitCode::SUCCESS
}
