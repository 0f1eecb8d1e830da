//! Running the listener (ConsumeMessageConcurrentlyService, ConsumeMessageOrderlyService) and
//! sending failed messages back.

use super::*;

impl Inner {
    pub(super) fn dispatch(&self, pq: &Arc<ProcessQueue>, msgs: Vec<MessageExt>) {
        let listener = self.listener.lock().clone();
        let schedule = pq.put(&msgs, matches!(listener, Some(Listener::Orderly(_))));
        match listener {
            Some(Listener::Orderly(_)) if schedule => self.submit(Task::Orderly(pq.clone())),
            Some(Listener::Orderly(_)) => {}
            Some(Listener::Concurrent(_)) => {
                let mut msgs = msgs;
                while !msgs.is_empty() {
                    let rest = msgs.split_off(self.opts.max_batch_size.min(msgs.len()));
                    self.submit(Task::Concurrent(pq.clone(), msgs));
                    msgs = rest;
                }
            }
            None => {}
        }
    }

    pub(super) fn run_task(&self, t: Task) {
        if self.is_stopped() {
            return;
        }
        let listener = self.listener.lock().clone();
        match (t, listener) {
            (Task::Concurrent(pq, msgs), Some(Listener::Concurrent(l))) => {
                self.consume_concurrently(&pq, msgs, &l)
            }
            (Task::Orderly(pq), Some(Listener::Orderly(l))) => self.consume_orderly(&pq, &l),
            _ => {}
        }
    }

    /// Retry-topic messages show their original topic (resetRetryAndNamespace).
    fn reset_retry_topic(&self, msgs: &mut [MessageExt]) {
        let retry = api::retry_topic(&self.opts.group);
        for m in msgs {
            if m.message.topic() == retry {
                if let Some(t) = m.message.property(keys::RETRY_TOPIC).map(str::to_string) {
                    m.message.set_topic(&t);
                }
            }
        }
    }

    fn consume_concurrently(
        &self,
        pq: &Arc<ProcessQueue>,
        mut msgs: Vec<MessageExt>,
        l: &ConcurrentListener,
    ) {
        if pq.is_dropped() {
            return;
        }
        let Some((inst, store)) = self.running() else { return };
        self.reset_retry_topic(&mut msgs);
        let status = match std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))) {
            Ok(s) => s,
            Err(_) => {
                log::warn!(
                    "the listener panicked; the messages will be consumed again group={}",
                    self.opts.group
                );
                ConsumeStatus::ReconsumeLater
            }
        };
        let mut failed = Vec::new();
        if status == ConsumeStatus::ReconsumeLater {
            if self.opts.model == MessageModel::Broadcasting {
                log::warn!(
                    "broadcasting: reconsume-later messages are dropped group={} count={}",
                    self.opts.group,
                    msgs.len()
                );
            } else {
                for m in &msgs {
                    if !self.send_back(&inst, m) {
                        failed.push(m.clone());
                    }
                }
            }
        }
        if pq.is_dropped() {
            return;
        }
        let done: Vec<i64> = msgs
            .iter()
            .filter(|m| !failed.iter().any(|f| f.queue_offset == m.queue_offset))
            .map(|m| m.queue_offset)
            .collect();
        if let Some(o) = pq.remove(&done) {
            store.update(&pq.mq, o, true);
        }
        if !failed.is_empty() {
            self.submit_later(Task::Concurrent(pq.clone(), failed), RETRY_LOCAL_PAUSE);
        }
    }

    fn max_reconsume(&self) -> i32 {
        if self.opts.max_reconsume_times < 0 {
            16
        } else {
            self.opts.max_reconsume_times
        }
    }

    /// CONSUMER_SEND_MSG_BACK, else a plain send to the retry topic (Apache's sendMessageBack).
    fn send_back(&self, inst: &Instance, m: &MessageExt) -> bool {
        let max = self.max_reconsume();
        let e = match api::send_back(inst, &self.opts.group, m, 0, max) {
            Ok(()) => return true,
            Err(e) => e,
        };
        log::warn!("send-back failed, resending to the retry topic msg={} err={}", m.msg_id, e);
        let topic = api::retry_topic(&self.opts.group);
        let mut props = m.properties().clone();
        props.entry(keys::RETRY_TOPIC.into()).or_insert_with(|| m.topic().to_string());
        props.entry(keys::ORIGIN_MESSAGE_ID.into()).or_insert_with(|| m.msg_id.clone());
        props.insert(keys::DELAY.into(), (3 + m.reconsume_times).to_string());
        props.remove(keys::MIN_OFFSET);
        props.remove(keys::MAX_OFFSET);
        let out = Outgoing {
            topic: topic.clone(),
            body: m.body().to_vec(),
            flag: m.flag(),
            sys_flag: 0,
            properties: record::encode_properties(
                props.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            uniq_ids: m.msg_id.clone(),
            batch: false,
            reconsume_times: Some(m.reconsume_times.saturating_add(1)),
            max_reconsume_times: Some(max),
        };
        let route = match inst.route_or_fetch(&topic) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("resend to retry topic failed msg={} err={}", m.msg_id, e);
                return false;
            }
        };
        let mqs = publish_queues(&topic, &route);
        let Some(mq) = mqs.get(m.queue_id.unsigned_abs() as usize % mqs.len().max(1)) else {
            return false;
        };
        let deadline = Instant::now() + inst.cfg.request_timeout;
        match send_to_broker(inst, &self.opts.group, 1, &out, mq, false, deadline) {
            Ok(_) => true,
            Err(e) => {
                log::warn!("resend to retry topic failed msg={} err={}", m.msg_id, e);
                false
            }
        }
    }

    /// ConsumeMessageOrderlyService.ConsumeRequest: one thread per queue, messages in order.
    fn consume_orderly(&self, pq: &Arc<ProcessQueue>, l: &OrderlyListener) {
        let Some((_, store)) = self.running() else { return };
        let _one_thread = pq.consume_lock.lock();
        for _ in 0..ORDERLY_BATCHES_PER_TASK {
            if pq.is_dropped() || self.is_stopped() {
                pq.deactivate();
                return;
            }
            if self.opts.model == MessageModel::Clustering && !pq.is_locked() {
                self.submit_later(Task::Orderly(pq.clone()), ORDERLY_PAUSE / 10);
                return;
            }
            let mut msgs = pq.take(self.opts.max_batch_size);
            if msgs.is_empty() {
                return;
            }
            self.reset_retry_topic(&mut msgs);
            let status = match std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))) {
                Ok(s) => s,
                Err(_) => {
                    log::warn!(
                        "the orderly listener panicked; retrying the queue group={}",
                        self.opts.group
                    );
                    OrderlyStatus::SuspendCurrentQueueAMoment
                }
            };
            match status {
                OrderlyStatus::Success => {
                    if let Some(o) = pq.commit() {
                        if !pq.is_dropped() {
                            store.update(&pq.mq, o, false);
                        }
                    }
                }
                OrderlyStatus::SuspendCurrentQueueAMoment => {
                    pq.rollback();
                    self.submit_later(Task::Orderly(pq.clone()), ORDERLY_PAUSE);
                    return;
                }
            }
        }
        self.submit(Task::Orderly(pq.clone()));
    }
}
