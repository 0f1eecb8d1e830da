//! The wire side of sending: SEND_MESSAGE_V2 requests and their responses, topic checks, and
//! message ids.

use super::*;

/// Broker codes after which another attempt may succeed (DefaultMQProducerImpl.retryResponseCodes).
pub(super) const RETRY_CODES: [i32; 6] =
    [rs::TOPIC_NOT_EXIST, rs::SERVICE_NOT_AVAILABLE, rs::SYSTEM_ERROR, rs::NO_PERMISSION, 204, 205];

/// Send `out` to `mq` with a SEND_MESSAGE_V2 (or SEND_BATCH_MESSAGE) request; `None` for one-way.
pub(crate) fn send_to_broker(
    inst: &Instance,
    group: &str,
    default_queue_nums: i32,
    out: &Outgoing,
    mq: &MessageQueue,
    oneway: bool,
    deadline: Instant,
) -> Result<Option<SendResult>> {
    let addr = inst.master_addr(&mq.broker_name).ok_or_else(|| {
        Error::new(ErrorKind::NoRoute, format!("broker '{}' has no master address", mq.broker_name))
    })?;
    let code = if out.batch { rq::SEND_BATCH_MESSAGE } else { rq::SEND_MESSAGE_V2 };
    let mut req = RemotingCommand::request(code)
        .with("a", group)
        .with("b", &out.topic)
        .with("c", DEFAULT_TOPIC)
        .with("d", default_queue_nums)
        .with("e", mq.queue_id)
        .with("f", out.sys_flag)
        .with("g", now_millis())
        .with("h", out.flag)
        .with("i", &out.properties)
        .with("j", out.reconsume_times.unwrap_or(0))
        .with("k", false)
        .with("m", out.batch);
    if let Some(m) = out.max_reconsume_times {
        req.put("l", m);
    }
    req.body = out.body.clone();
    if oneway {
        inst.remoting.invoke_oneway(&addr, req).map_err(|e| {
            Error::remoting(&e, &format!("one-way send to broker {} failed", mq.broker_name))
        })?;
        return Ok(None);
    }
    let timeout = deadline.saturating_duration_since(Instant::now());
    if timeout.is_zero() {
        return Err(Error::new(ErrorKind::Timeout, "the send timeout passed before the send"));
    }
    // The error's context is formatted only when there is an error: this is every send's path.
    let resp = inst
        .remoting
        .invoke(&addr, req, timeout)
        .map_err(|e| Error::remoting(&e, &format!("send to broker {} ({addr})", mq.broker_name)))?;
    let status = match resp.code {
        rs::SUCCESS => SendStatus::Ok,
        rs::FLUSH_DISK_TIMEOUT => SendStatus::FlushDiskTimeout,
        rs::FLUSH_SLAVE_TIMEOUT => SendStatus::FlushSlaveTimeout,
        rs::SLAVE_NOT_AVAILABLE => SendStatus::SlaveNotAvailable,
        c => {
            return Err(Error::broker(
                c,
                resp.remark.as_deref(),
                format!("broker {} refused the message for topic '{}'", mq.broker_name, out.topic),
            ))
        }
    };
    let queue_id = resp.field("queueId").and_then(|v| v.trim().parse().ok()).unwrap_or(mq.queue_id);
    Ok(Some(SendResult {
        status,
        msg_id: out.uniq_ids.clone(),
        offset_msg_id: resp.field("msgId").unwrap_or("").to_string(),
        queue: MessageQueue {
            topic: mq.topic.clone(),
            broker_name: mq.broker_name.clone(),
            queue_id,
        },
        queue_offset: resp.field("queueOffset").and_then(|v| v.trim().parse().ok()).unwrap_or(-1),
        transaction_id: resp.field("transactionId").filter(|t| !t.is_empty()).map(str::to_string),
    }))
}

/// TBW102's route with its queue counts capped at `queue_nums` (topicRouteData2TopicPublishInfo
/// with isDefault).
pub(super) fn derive_from_default(r: &TopicRouteData, queue_nums: i32) -> TopicRouteData {
    let mut r = r.clone();
    for qd in &mut r.queue_datas {
        let n = queue_nums.min(qd.read_queue_nums).max(1);
        qd.read_queue_nums = n;
        qd.write_queue_nums = n;
    }
    r
}

/// Validators.checkTopic: 1..=127 characters of `[%|a-zA-Z0-9_-]`, not the default topic.
pub(crate) fn check_topic(topic: &str) -> Result<()> {
    if topic.trim().is_empty() {
        return Err(Error::invalid("the topic is empty"));
    }
    if topic.len() > 127 {
        return Err(Error::invalid(format!(
            "the topic is {} bytes; the limit is 127",
            topic.len()
        )));
    }
    if !topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"%|_-".contains(&b)) {
        return Err(Error::invalid(format!(
            "the topic '{topic}' contains characters other than [%|a-zA-Z0-9_-]"
        )));
    }
    if topic == DEFAULT_TOPIC {
        return Err(Error::invalid(format!("the default topic '{DEFAULT_TOPIC}' cannot be used")));
    }
    Ok(())
}

static UNIQ_COUNTER: AtomicU32 = AtomicU32::new(0);

pub(super) fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    let mut x = t ^ std::process::id().rotate_left(16) ^ 0x9E37_79B9;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

/// A message id shaped like MessageClientIDSetter's: host IP, pid, a per-process random part,
/// milliseconds since the process's id base, and a counter; 32 hex characters.
pub(crate) fn new_uniq_id() -> String {
    use std::fmt::Write;
    static PREFIX: std::sync::OnceLock<(String, i64)> = std::sync::OnceLock::new();
    let (prefix, base) = PREFIX.get_or_init(|| {
        let ip = ClientConfig::default()
            .client_ip
            .parse::<std::net::Ipv4Addr>()
            .map(|a| a.octets())
            .unwrap_or([127, 0, 0, 1]);
        let mut s = String::with_capacity(20);
        for b in ip {
            let _ = write!(s, "{b:02X}");
        }
        let _ = write!(s, "{:04X}{:08X}", std::process::id() as u16, rand_u32());
        (s, now_millis())
    });
    let diff = (now_millis() - base) as u32;
    let c = UNIQ_COUNTER.fetch_add(1, Ordering::Relaxed) as u16;
    let mut s = String::with_capacity(32);
    s.push_str(prefix);
    let _ = write!(s, "{diff:08X}{c:04X}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_check_and_ids() {
        assert!(check_topic("Topic_1-%|x").is_ok());
        assert!(check_topic("").is_err());
        assert!(check_topic("a b").is_err());
        assert!(check_topic(&"x".repeat(128)).is_err());
        assert!(check_topic("TBW102").is_err());
        let a = new_uniq_id();
        let b = new_uniq_id();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
