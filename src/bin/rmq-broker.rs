//! `rmq-broker`: the broker, started as Apache's mqbroker is (`-n ADDR -c broker.conf`), or with
//! `--standalone` as a single-node cluster with an embedded name server.

use rmq::broker::{self, BrokerConfig};
use rmq::common::config::startup;
use rmq::common::{logging, signals};
use rmq::namesrv::{self, NamesrvConfig};
use std::process::ExitCode;

const HELP: &str =
    "usage: rmq-broker [-n NAMESRV_ADDR] [-c broker.conf] [--standalone] [--key=value ...]

--standalone   also run a name server in this process (port namesrvListenPort, 9876) and
               register to it: one command, a working single-node cluster.
Keys (Apache names, in broker.conf or as --key=value): brokerClusterName, brokerName,
brokerId, namesrvAddr, listenPort (10911; fast port = listenPort-2), brokerIP1, bindAddress,
storePathRootDir, storePathCommitLog, mapedFileSizeCommitLog, mapedFileSizeConsumeQueue,
flushDiskType (ASYNC_FLUSH|SYNC_FLUSH), syncFlushTimeout, flushIntervalCommitLog,
flushCommitLogLeastPages, flushCommitLogThoroughInterval, autoCreateTopicEnable,
autoCreateSubscriptionGroup, defaultTopicQueueNums, brokerPermission, maxMessageSize,
sendMessageThreadPoolNums, pullMessageThreadPoolNums, longPollingEnable, regionId, traceOn,
registerNameServerPeriod, flushConsumerOffsetInterval, brokerRole, maxFrameSize,
checkCRCOnRecover, channelExpiredTimeout, namesrvListenPort, shortPollingTimeMills,
messageDelayLevel (\"1s 5s 10s 30s 1m ... 2h\"), flushDelayOffsetInterval,
clientHousekeepingInterval, queryMessageThreadPoolNums, queryThreadPoolQueueCapacity.
Metrics: metricsPort (0 = off, the default; -1 = any free port): GET /metrics in the Prometheus
text format (rocketmq-exporter's names, docs/METRICS.md).
Transactions: transactionCheckInterval (60000 ms), transactionTimeOut (6000 ms),
transactionCheckMax (15), rejectTransactionMessage (false).
ACL: aclEnable (false), plainAclFile (default $ROCKETMQ_HOME/conf/plain_acl.yml; rocketmqHome
overrides ROCKETMQ_HOME), innerClientAccessKey / innerClientSecretKey (sign the broker's own
requests, e.g. a slave's sync from an ACL master).
Store retention and index: fileReservedTime (hours), deleteWhen, diskMaxUsedSpaceRatio,
cleanResourceInterval, cleanFileForciblyEnable, maxHashSlotNum, maxIndexNum; rmq extensions:
fileReservedTimeMillis, diskSpaceCleanForciblyRatio, diskSpaceWarningLevelRatio.
Replication (README, Deployment modes): brokerRole (ASYNC_MASTER|SYNC_MASTER|SLAVE), brokerId
(0 on a master, > 0 on a slave), haListenPort (listenPort+1), haMasterAddress (a slave's master
HA address; unset: from the name server), brokerIP2, slaveTimeout (3000 ms),
haSendHeartbeatInterval, haHousekeepingInterval, haTransferBatchSize, haSlaveFallbehindMax,
slaveReadEnable; rmq extension: slaveSyncInterval (10000 ms).
Logging level: RMQ_LOG=debug|info|warn|error.
Prints `READY role=broker listen=ADDR fast=ADDR ha=ADDR [metrics=ADDR]` once serving; stops on SIGTERM/SIGINT.";

fn main() -> ExitCode {
    logging::init();
    let mut cfg = BrokerConfig::default();
    let args = match startup("rmq-broker", HELP, &["standalone"], &mut cfg) {
        Ok(a) => a,
        Err(exit) => return ExitCode::from(exit.report("rmq-broker")),
    };
    // Apache: brokerConfigPath is the -c file; UPDATE_BROKER_CONFIG rewrites it.
    if let Some(f) = &args.config_file {
        cfg.broker_config_path = Some(f.clone());
    }
    signals::install();
    let mut embedded = None;
    if args.has("standalone") {
        let ns_cfg = NamesrvConfig {
            listen_port: cfg.namesrv_listen_port,
            bind_address: cfg.bind_address,
            kv_config_path: cfg.store_path_root_dir.join("namesrv").join("kvConfig.json"),
            ..NamesrvConfig::default()
        };
        match namesrv::start(ns_cfg) {
            Ok(h) => {
                let port = h.local_addr().port();
                cfg.namesrv_addr = format!("127.0.0.1:{port}");
                println!("READY role=namesrv listen={}", h.local_addr());
                embedded = Some(h);
            }
            Err(e) => {
                eprintln!("rmq-broker: cannot start the embedded name server: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if cfg.namesrv_list().is_empty() {
        eprintln!("rmq-broker: no name server address: use -n ADDR, namesrvAddr in broker.conf, NAMESRV_ADDR or --standalone");
        return ExitCode::from(2);
    }
    let mut h = match broker::start(cfg) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("rmq-broker: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let ha = h.ha_addr().map(|a| a.to_string()).unwrap_or_default();
    let metrics = h.metrics_addr().map(|m| format!(" metrics={m}")).unwrap_or_default();
    println!("READY role=broker listen={} fast={} ha={ha}{metrics}", h.local_addr(), h.fast_addr());
    signals::wait_for_stop();
    h.shutdown();
    if let Some(mut ns) = embedded {
        ns.shutdown();
    }
    ExitCode::SUCCESS
}
