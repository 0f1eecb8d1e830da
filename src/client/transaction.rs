//! The transaction producer (Apache's TransactionMQProducer and
//! DefaultMQProducerImpl.sendMessageInTransaction / checkTransactionState).
//!
//! [`TransactionProducer::send_in_transaction`] sends a half message (property `TRAN_MSG=true`,
//! `PGROUP`, sysflag TRANSACTION_PREPARED_TYPE) that consumers do not see, runs the local
//! transaction, then tells the broker the outcome with a one-way END_TRANSACTION: commit makes the
//! message consumable, rollback drops it, unknown leaves it to the broker's check. When the
//! outcome is unknown or the END_TRANSACTION was lost, the broker later sends
//! CHECK_TRANSACTION_STATE to a producer of the group; the client instance hands it to this
//! producer, whose checker thread (`rmq-txn-check`) runs [`TransactionListener::check_local`] and
//! answers with END_TRANSACTION (`fromTransactionCheck=true`).
//!
//! ```no_run
//! use rmq::client::*;
//! use std::sync::Arc;
//!
//! struct Orders;
//! impl TransactionListener for Orders {
//!     fn execute_local(&self, _msg: &Message) -> LocalTxState {
//!         LocalTxState::Commit // or Rollback, or Unknown to decide in check_local
//!     }
//!     fn check_local(&self, _msg: &MessageExt) -> LocalTxState {
//!         LocalTxState::Commit
//!     }
//! }
//!
//! # fn main() -> Result<()> {
//! let p = TransactionProducer::new(ProducerOptions::new("tx_group", "127.0.0.1:9876"), Arc::new(Orders))?;
//! p.start()?;
//! let r = p.send_in_transaction(&Message::new("TopicTest", "order 1"))?;
//! println!("half {} in queue {}", r.msg_id, r.queue.queue_id);
//! p.shutdown();
//! # Ok(())
//! # }
//! ```

use super::error::{Error, ErrorKind, Result};
use super::message::{keys, Message, MessageExt};
use super::producer::{Producer, ProducerOptions, SendResult, SendStatus};
use crate::common::service::spawn_thread;
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;
use crate::protocol::record::{decode_offset_msg_id, sysflag};
use crossbeam_channel::{bounded, Sender, TrySendError};
use parking_lot::Mutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

/// `PGROUP`: the producer group of a half message.
pub(crate) const PGROUP: &str = "PGROUP";
/// Checks waiting for the checker thread; more are dropped (the broker asks again later).
/// Apache's checkRequestHoldMax default.
const CHECK_QUEUE: usize = 2000;

/// The outcome of a local transaction (Apache's LocalTransactionState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTxState {
    /// Make the message consumable (COMMIT_MESSAGE).
    Commit,
    /// Drop the message (ROLLBACK_MESSAGE).
    Rollback,
    /// Not known yet: the broker asks again later with a check (UNKNOW).
    Unknown,
}

impl LocalTxState {
    /// The END_TRANSACTION `commitOrRollback` value (MessageSysFlag transaction type).
    fn wire(self) -> i32 {
        match self {
            LocalTxState::Commit => sysflag::TRANSACTION_COMMIT,
            LocalTxState::Rollback => sysflag::TRANSACTION_ROLLBACK,
            LocalTxState::Unknown => sysflag::TRANSACTION_NOT,
        }
    }
}

/// The application side of a transaction producer.
pub trait TransactionListener: Send + Sync {
    /// Run the local transaction after the half message was stored. Runs on the thread that
    /// called [`TransactionProducer::send_in_transaction`]. A panic counts as `Unknown`.
    fn execute_local(&self, msg: &Message) -> LocalTxState;
    /// Tell the broker's check how a transaction ended. Runs on the producer's checker thread
    /// (`rmq-txn-check`), one check at a time. A panic counts as `Unknown`.
    fn check_local(&self, msg: &MessageExt) -> LocalTxState;
}

/// A CHECK_TRANSACTION_STATE the client instance received for a producer group.
pub(crate) struct CheckRequest {
    /// Address of the broker that asked (its END_TRANSACTION goes back there).
    pub broker_addr: String,
    /// The half message, with its real topic and queue.
    pub msg: MessageExt,
    /// Queue offset of the half in the half topic.
    pub tran_state_table_offset: i64,
    /// Commit-log offset of the half.
    pub commit_log_offset: i64,
    /// Transaction id (the half's UNIQ_KEY).
    pub transaction_id: String,
}

/// Where a producer's member hook puts check requests.
pub(crate) trait TxCheck: Send + Sync {
    /// Queue a check; never blocks.
    fn check(&self, req: CheckRequest);
}

/// The checker's queue (held by the instance's member hook; no back reference).
struct CheckQueue {
    tx: Mutex<Option<Sender<CheckRequest>>>,
}

impl TxCheck for CheckQueue {
    fn check(&self, req: CheckRequest) {
        let Some(tx) = self.tx.lock().clone() else { return };
        match tx.try_send(req) {
            Ok(()) => {}
            Err(TrySendError::Full(r)) => log::warn!(
                "transaction check dropped, {} checks waiting msgId={}",
                CHECK_QUEUE,
                r.msg.msg_id
            ),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// A producer of transactional messages. Send + Sync; cheap to clone (clones share one
/// producer). Dropping the last clone shuts it down.
#[derive(Clone)]
pub struct TransactionProducer {
    inner: Arc<TxInner>,
}

struct TxInner {
    producer: Producer,
    listener: Arc<dyn TransactionListener>,
    queue: Arc<CheckQueue>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl TransactionProducer {
    /// A transaction producer with `opts` and `listener`; call [`TransactionProducer::start`].
    pub fn new(
        opts: ProducerOptions,
        listener: Arc<dyn TransactionListener>,
    ) -> Result<TransactionProducer> {
        Ok(TransactionProducer {
            inner: Arc::new(TxInner {
                producer: Producer::new(opts)?,
                listener,
                queue: Arc::new(CheckQueue { tx: Mutex::new(None) }),
                worker: Mutex::new(None),
            }),
        })
    }

    /// Join the client instance and start the checker thread.
    pub fn start(&self) -> Result<()> {
        let (tx, rx) = bounded::<CheckRequest>(CHECK_QUEUE);
        let weak: Weak<TxInner> = Arc::downgrade(&self.inner);
        self.inner.producer.start_with(Some(self.inner.queue.clone()))?;
        let h = spawn_thread("rmq-txn-check".into(), move || {
            for req in rx.iter() {
                match weak.upgrade() {
                    Some(inner) => inner.run_check(req),
                    None => break,
                }
            }
        })
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
        *self.inner.queue.tx.lock() = Some(tx);
        *self.inner.worker.lock() = Some(h);
        Ok(())
    }

    /// Stop the checker (after the check it runs), unregister and stop. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    /// The underlying producer (plain sends of the same group).
    pub fn producer(&self) -> &Producer {
        &self.inner.producer
    }

    /// Send `msg` as a half message, run [`TransactionListener::execute_local`] and end the
    /// transaction with its outcome. The result is the half's send result, with
    /// `transaction_id` set.
    pub fn send_in_transaction(&self, msg: &Message) -> Result<SendResult> {
        let l = self.inner.listener.clone();
        self.send_in_transaction_with(msg, &mut |m| l.execute_local(m)).map(|(r, _)| r)
    }

    /// As [`TransactionProducer::send_in_transaction`], with `execute` as the local
    /// transaction instead of the listener's (Apache's `arg`); also returns the outcome sent.
    pub fn send_in_transaction_with(
        &self,
        msg: &Message,
        execute: &mut dyn FnMut(&Message) -> LocalTxState,
    ) -> Result<(SendResult, LocalTxState)> {
        let p = &self.inner.producer;
        let mut m = msg.clone();
        m.remove_property(keys::DELAY);
        m.put_property(keys::TRAN_MSG, "true");
        m.put_property(PGROUP, p.group());
        let mut r = p.send_half(&m).map_err(|e| Error::with_context(e, "send half message"))?;
        let state = if r.status == SendStatus::Ok {
            let tx_id =
                if r.msg_id.is_empty() { r.offset_msg_id.clone() } else { r.msg_id.clone() };
            r.transaction_id = Some(tx_id.clone());
            m.put_property(keys::UNIQ_KEY, &r.msg_id);
            catch_unwind(AssertUnwindSafe(|| execute(&m))).unwrap_or_else(|_| {
                log::error!("local transaction panicked msgId={}", r.msg_id);
                LocalTxState::Unknown
            })
        } else {
            LocalTxState::Rollback
        };
        if let Err(e) = self.end_transaction(&r, state) {
            // As Apache: the broker's check settles it.
            log::warn!(
                "local transaction {:?} but end transaction failed msgId={} err={}",
                state,
                r.msg_id,
                e
            );
        }
        Ok((r, state))
    }

    /// DefaultMQProducerImpl.endTransaction: one-way END_TRANSACTION to the half's broker.
    fn end_transaction(&self, r: &SendResult, state: LocalTxState) -> Result<()> {
        let p = &self.inner.producer;
        let inst = p.instance()?;
        let addr = inst.master_addr(&r.queue.broker_name).ok_or_else(|| {
            Error::new(
                ErrorKind::NoRoute,
                format!("broker '{}' has no master address", r.queue.broker_name),
            )
        })?;
        let (_, commit_log_offset) = decode_offset_msg_id(&r.offset_msg_id).ok_or_else(|| {
            Error::invalid(format!("bad offset message id '{}'", r.offset_msg_id))
        })?;
        let req = RemotingCommand::request(rq::END_TRANSACTION)
            .with("producerGroup", p.group())
            .with("tranStateTableOffset", r.queue_offset)
            .with("commitLogOffset", commit_log_offset)
            .with("commitOrRollback", state.wire())
            .with("fromTransactionCheck", false)
            .with("msgId", &r.msg_id)
            .with("transactionId", r.transaction_id.as_deref().unwrap_or(&r.msg_id));
        inst.remoting
            .invoke_oneway(&addr, req)
            .map_err(|e| Error::remoting(&e, &format!("end transaction at {addr}")))
    }
}

impl TxInner {
    /// checkTransactionState + processTransactionState: ask the listener, answer the broker.
    fn run_check(&self, req: CheckRequest) {
        let state = catch_unwind(AssertUnwindSafe(|| self.listener.check_local(&req.msg)))
            .unwrap_or_else(|_| {
                log::error!("transaction check panicked msgId={}", req.msg.msg_id);
                LocalTxState::Unknown
            });
        let inst = match self.producer.instance() {
            Ok(i) => i,
            Err(e) => {
                log::debug!("transaction check after shutdown err={e}");
                return;
            }
        };
        let msg_id = req.msg.property(keys::UNIQ_KEY).unwrap_or(&req.msg.msg_id).to_string();
        let cmd = RemotingCommand::request(rq::END_TRANSACTION)
            .with("producerGroup", self.producer.group())
            .with("tranStateTableOffset", req.tran_state_table_offset)
            .with("commitLogOffset", req.commit_log_offset)
            .with("commitOrRollback", state.wire())
            .with("fromTransactionCheck", true)
            .with("msgId", &msg_id)
            .with("transactionId", &req.transaction_id);
        match inst.remoting.invoke_oneway(&req.broker_addr, cmd) {
            Ok(()) => log::debug!("transaction checked msgId={} state={:?}", msg_id, state),
            Err(e) => {
                log::warn!("transaction check answer not sent broker={} err={}", req.broker_addr, e)
            }
        }
    }

    fn shutdown(&self) {
        self.queue.tx.lock().take();
        if let Some(h) = self.worker.lock().take() {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        self.producer.shutdown();
    }
}

impl Drop for TxInner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
