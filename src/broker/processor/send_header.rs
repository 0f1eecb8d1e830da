//! The send request header (SendMessageRequestHeader and its V2 form), read straight into a
//! typed struct: SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE carry one-letter names (§2.5), which
//! are read where they are, never renamed into a map first.

use crate::broker::topics::TBW102;
use crate::protocol::codes::request as rq;
use crate::protocol::command::{FieldError, RemotingCommand};

/// A send's header.
pub(crate) struct SendHeader<'a> {
    pub topic: &'a str,
    pub default_topic: &'a str,
    pub default_queue_nums: i32,
    pub queue_id: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub flag: i32,
    pub properties: &'a str,
    pub reconsume_times: i32,
    pub max_reconsume_times: Option<i32>,
    pub batch: bool,
}

/// Read the header of a send (`"1"` reads as true for `batch`, §7.3). Apache's decoder only
/// logs a missing @CFNotNull field; the send then fails with a NullPointerException
/// (SYSTEM_ERROR) when it unboxes a missing number. Those are refused with a reason;
/// producerGroup and defaultTopic are not needed to store a message.
pub(crate) fn parse(req: &RemotingCommand) -> Result<SendHeader<'_>, FieldError> {
    let v2 = req.code != rq::SEND_MESSAGE;
    let k = |short: &'static str, long: &'static str| if v2 { short } else { long };
    Ok(SendHeader {
        topic: req.str_at(k("b", "topic"), "topic")?,
        default_topic: req.field(k("c", "defaultTopic")).unwrap_or(TBW102),
        default_queue_nums: req.i32_at(k("d", "defaultTopicQueueNums"), "defaultTopicQueueNums")?,
        queue_id: req.i32_at(k("e", "queueId"), "queueId")?,
        sys_flag: req.i32_at(k("f", "sysFlag"), "sysFlag")?,
        born_timestamp: req.i64_at(k("g", "bornTimestamp"), "bornTimestamp")?,
        flag: req.i32_at(k("h", "flag"), "flag")?,
        properties: req.field(k("i", "properties")).unwrap_or(""),
        reconsume_times: req.opt_i32_at(k("j", "reconsumeTimes"), "reconsumeTimes")?.unwrap_or(0),
        max_reconsume_times: if req.version >= 121 {
            req.opt_i32_at(k("l", "maxReconsumeTimes"), "maxReconsumeTimes")?
        } else {
            None
        },
        batch: req.bool_field(k("m", "batch")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_names_read_the_same_fields() {
        let v1 = RemotingCommand::request(rq::SEND_MESSAGE)
            .with("topic", "T")
            .with("defaultTopicQueueNums", 4)
            .with("queueId", 2)
            .with("sysFlag", 0)
            .with("bornTimestamp", 7)
            .with("flag", 1)
            .with("batch", "1");
        let v2 = RemotingCommand::request(rq::SEND_MESSAGE_V2)
            .with("b", "T")
            .with("c", "D")
            .with("d", 4)
            .with("e", 2)
            .with("f", 0)
            .with("g", 7)
            .with("h", 1)
            .with("m", "true");
        for (req, default_topic) in [(&v1, TBW102), (&v2, "D")] {
            let h = parse(req).unwrap();
            assert_eq!(
                (h.topic, h.default_topic, h.queue_id, h.born_timestamp),
                ("T", default_topic, 2, 7)
            );
            assert!(h.batch);
        }
        let mut missing = v2.clone();
        missing.ext_fields.remove("e");
        let e = parse(&missing).err().unwrap().to_string();
        assert!(e.contains("'queueId'"), "{e}");
    }
}
