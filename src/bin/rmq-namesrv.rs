//! `rmq-namesrv`: the name server, started as Apache's mqnamesrv is (`-c namesrv.properties`).

use rmq::common::config::{load, parse_args};
use rmq::common::{logging, signals};
use rmq::namesrv::{self, NamesrvConfig};
use std::process::ExitCode;

const HELP: &str = "usage: rmq-namesrv [-c namesrv.properties] [--key=value ...]

Keys (Apache names): listenPort (9876), bindAddress (0.0.0.0), kvConfigPath,
orderMessageEnable, serverWorkerThreads, maxFrameSize, scanNotActiveBrokerInterval,
brokerExpiredMillis. Logging level: RMQ_LOG=debug|info|warn|error.
Prints `READY role=namesrv listen=ADDR` once listening; stops on SIGTERM/SIGINT.";

fn main() -> ExitCode {
    logging::init();
    let args = match parse_args(std::env::args().skip(1), &[]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rmq-namesrv: {e}");
            return ExitCode::from(2);
        }
    };
    if args.has("help") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if args.has("version") {
        println!("rmq-namesrv {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let mut cfg = NamesrvConfig::default();
    match load(&mut cfg, &args) {
        Ok(unknown) => {
            for k in unknown {
                log::warn!("unknown configuration key ignored key={k}");
            }
        }
        Err(e) => {
            eprintln!("rmq-namesrv: {e}");
            return ExitCode::from(2);
        }
    }
    signals::install();
    let mut h = match namesrv::start(cfg) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("rmq-namesrv: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    println!("READY role=namesrv listen={}", h.local_addr());
    signals::wait_for_stop();
    h.shutdown();
    ExitCode::SUCCESS
}
