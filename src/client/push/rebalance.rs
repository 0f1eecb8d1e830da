//! Rebalance (RebalanceImpl), lock renewal and the per-queue long-polling pull loop.

use super::*;

impl Inner {
    /// RebalanceImpl.rebalanceByTopic for every subscription.
    pub(super) fn rebalance(self: &Arc<Self>, inst: &Arc<Instance>) {
        let topics: Vec<String> = self.subs.lock().keys().cloned().collect();
        for topic in topics {
            if self.is_stopped() {
                return;
            }
            let route = match inst.route(&topic) {
                Some(r) => r,
                None => match inst.route_or_fetch(&topic) {
                    Ok(r) => r,
                    Err(e) => {
                        log::debug!("rebalance: no route topic={topic} err={e}");
                        continue;
                    }
                },
            };
            let mqs = subscribe_queues(&topic, &route);
            let mine: BTreeSet<MessageQueue> = match self.opts.model {
                MessageModel::Broadcasting => mqs.into_iter().collect(),
                MessageModel::Clustering => {
                    let cids = match api::consumer_ids(inst, &self.opts.group, &topic) {
                        Ok(c) => c,
                        Err(e) => {
                            log::debug!("rebalance: no consumer list topic={topic} err={e}");
                            continue;
                        }
                    };
                    if !cids.contains(&inst.client_id) {
                        // Our heartbeat has not reached this broker yet.
                        inst.send_heartbeat();
                    }
                    self.opts
                        .allocate
                        .allocate(&self.opts.group, &inst.client_id, &mqs, &cids)
                        .into_iter()
                        .collect()
                }
            };
            self.update_queues(inst, &topic, &mine);
        }
    }

    fn update_queues(
        self: &Arc<Self>,
        inst: &Arc<Instance>,
        topic: &str,
        mine: &BTreeSet<MessageQueue>,
    ) {
        let Some((_, store)) = self.running() else { return };
        let orderly_locking = self.is_orderly() && self.opts.model == MessageModel::Clustering;
        let gone: Vec<Arc<ProcessQueue>> = {
            let mut pqs = self.pqs.lock();
            let gone: Vec<MessageQueue> =
                pqs.keys().filter(|q| q.topic == topic && !mine.contains(*q)).cloned().collect();
            gone.iter().filter_map(|q| pqs.remove(q)).collect()
        };
        for pq in gone {
            pq.set_dropped();
            if orderly_locking {
                // Let a running listener call finish before the lock goes.
                let guard = pq.consume_lock.try_lock_for(Duration::from_secs(1));
                store.persist(inst, &pq.mq);
                api::unlock_batch(
                    inst,
                    &pq.mq.broker_name,
                    &self.opts.group,
                    std::slice::from_ref(&pq.mq),
                );
                drop(guard);
            } else {
                store.persist(inst, &pq.mq);
            }
            store.remove(&pq.mq);
            log::info!(
                "queue released group={} topic={} broker={} queue={}",
                self.opts.group,
                pq.mq.topic,
                pq.mq.broker_name,
                pq.mq.queue_id
            );
        }
        let new: Vec<MessageQueue> = {
            let pqs = self.pqs.lock();
            mine.iter().filter(|q| !pqs.contains_key(*q)).cloned().collect()
        };
        for mq in new {
            if self.is_stopped() {
                return;
            }
            let pq = Arc::new(ProcessQueue::new(mq.clone()));
            if orderly_locking {
                match api::lock_batch(
                    inst,
                    &mq.broker_name,
                    &self.opts.group,
                    std::slice::from_ref(&mq),
                ) {
                    Ok(locked) if locked.contains(&mq) => pq.set_locked(true),
                    Ok(_) => {
                        log::debug!(
                            "queue locked by another consumer topic={} queue={}",
                            mq.topic,
                            mq.queue_id
                        );
                        continue;
                    }
                    Err(e) => {
                        log::debug!(
                            "lock failed topic={} queue={} err={}",
                            mq.topic,
                            mq.queue_id,
                            e
                        );
                        continue;
                    }
                }
            }
            store.remove(&mq);
            let offset = match start_offset(inst, &store, &mq, self.opts.consume_from) {
                Ok(o) => o,
                Err(e) => {
                    log::warn!(
                        "cannot find where to start group={} topic={} queue={} err={}",
                        self.opts.group,
                        mq.topic,
                        mq.queue_id,
                        e
                    );
                    continue;
                }
            };
            store.update(&mq, offset, false);
            self.pqs.lock().insert(mq.clone(), pq.clone());
            log::info!(
                "queue assigned group={} topic={} broker={} queue={} offset={}",
                self.opts.group,
                mq.topic,
                mq.broker_name,
                mq.queue_id,
                offset
            );
            let me = self.clone();
            let inst2 = inst.clone();
            let name = format!(
                "rmq-pull-{}-{}",
                mq.queue_id,
                mq.topic.chars().take(12).collect::<String>()
            );
            match spawn_thread(name, move || me.pull_loop(&inst2, &pq, offset)) {
                Ok(h) => {
                    let mut ts = self.pull_threads.lock();
                    ts.retain(|h| !h.is_finished());
                    ts.push(h);
                }
                Err(e) => log::error!("cannot start a pull thread err={e}"),
            }
        }
    }

    pub(super) fn lock_all(&self, inst: &Instance) {
        let pqs: Vec<Arc<ProcessQueue>> = self.pqs.lock().values().cloned().collect();
        let mut by_broker: BTreeMap<String, Vec<Arc<ProcessQueue>>> = BTreeMap::new();
        for pq in pqs {
            by_broker.entry(pq.mq.broker_name.clone()).or_default().push(pq);
        }
        for (b, pqs) in by_broker {
            let mqs: Vec<MessageQueue> = pqs.iter().map(|p| p.mq.clone()).collect();
            match api::lock_batch(inst, &b, &self.opts.group, &mqs) {
                Ok(ok) => {
                    for pq in pqs {
                        pq.set_locked(ok.contains(&pq.mq));
                    }
                }
                Err(e) => log::debug!("lock renewal failed broker={b} err={e}"),
            }
        }
    }

    /// Wait up to `d`; false when the consumer stops or the queue is dropped.
    fn pause(&self, pq: &ProcessQueue, d: Duration) -> bool {
        select! {
            recv(self.stop_rx) -> _ => {}
            recv(pq.drop_signal()) -> _ => {}
            default(d) => {}
        }
        !self.is_stopped() && !pq.is_dropped()
    }

    /// One queue's long-polling pull loop (PullMessageService + DefaultMQPushConsumerImpl.pullMessage).
    fn pull_loop(&self, inst: &Instance, pq: &Arc<ProcessQueue>, mut offset: i64) {
        let mq = &pq.mq;
        let orderly = self.is_orderly();
        let threshold_bytes =
            self.opts.pull_threshold_size_mib_per_queue.saturating_mul(1024 * 1024);
        let Some((_, store)) = self.running() else { return };
        while !self.is_stopped() && !pq.is_dropped() {
            let (count, bytes) = pq.load();
            if count > self.opts.pull_threshold_per_queue || bytes > threshold_bytes {
                self.flow_control_times.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if !self.pause(pq, FLOW_PAUSE) {
                    break;
                }
                continue;
            }
            if orderly && self.opts.model == MessageModel::Clustering && !pq.is_locked() {
                if !self.pause(pq, Duration::from_millis(100)) {
                    break;
                }
                continue;
            }
            let Some((expr, ver)) = self.subs.lock().get(&mq.topic).cloned() else { break };
            let commit = if self.opts.model == MessageModel::Clustering {
                store.read_memory(mq).filter(|o| *o > 0)
            } else {
                None
            };
            let args = PullArgs {
                group: &self.opts.group,
                mq,
                expr: &expr,
                sub_version: ver,
                offset,
                max_nums: self.opts.pull_batch_size,
                commit_offset: commit,
                suspend: Some(self.opts.suspend_timeout),
                timeout: self.opts.suspend_timeout + LONG_POLL_MARGIN,
            };
            let r = match api::pull(inst, &self.pulls, &args) {
                Ok(r) => r,
                Err(e) => {
                    if self.is_stopped() || pq.is_dropped() {
                        break;
                    }
                    log::debug!("pull failed topic={} queue={} err={}", mq.topic, mq.queue_id, e);
                    if !self.pause(pq, PULL_ERROR_PAUSE) {
                        break;
                    }
                    continue;
                }
            };
            if pq.is_dropped() {
                break;
            }
            match r.status {
                PullStatus::Found => {
                    offset = r.next_begin_offset;
                    self.dispatch(pq, r.messages);
                }
                PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => {
                    offset = r.next_begin_offset;
                    if pq.is_empty() {
                        store.update(mq, offset, true);
                    }
                }
                PullStatus::OffsetIllegal => {
                    log::warn!(
                        "pull offset illegal group={} topic={} queue={} offset={} next={}",
                        self.opts.group,
                        mq.topic,
                        mq.queue_id,
                        offset,
                        r.next_begin_offset
                    );
                    offset = r.next_begin_offset;
                    store.update(mq, offset, false);
                    store.persist(inst, mq);
                }
            }
        }
    }
}
