//! Topic and group names as Apache 4.9.8 accepts them (common/topic/TopicValidator.java for
//! topics, client/Validators.java checkGroup for groups): the characters `[%|a-zA-Z0-9_-]`, at
//! most 127 characters for a topic and 255 for a group. The broker runs every name a heartbeat,
//! send or admin request carries through these before it creates anything (issue 13: any
//! heartbeat used to auto-create any group and its retry topic). Pure.

use std::fmt;

/// Longest topic name (TopicValidator.TOPIC_MAX_LENGTH; TOPICLEN of a record is a signed byte).
pub const TOPIC_MAX_LEN: usize = 127;
/// Longest group name (Validators.CHARACTER_MAX_LENGTH).
pub const GROUP_MAX_LEN: usize = 255;
/// The pattern both validators cite in their refusals.
pub const NAME_PATTERN: &str = "^[%|a-zA-Z0-9_-]+$";

/// Topics Apache lists as system topics (TopicValidator.SYSTEM_TOPIC_SET); names starting with
/// `rmq_sys_` are system topics too.
pub const SYSTEM_TOPICS: [&str; 9] = [
    "TBW102",
    "SCHEDULE_TOPIC_XXXX",
    "BenchmarkTest",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
];

/// Topics no client may send to (TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET).
pub const NOT_ALLOWED_SEND_TOPICS: [&str; 6] = [
    "SCHEDULE_TOPIC_XXXX",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
];

/// A refused topic or group name; Display is Apache's refusal text (the broker answers
/// SYSTEM_ERROR (1) with it, as TopicValidator.validateTopic does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    kind: NameErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NameErrorKind {
    BlankTopic,
    TopicChars,
    TopicTooLong,
    BlankGroup,
    GroupTooLong,
    GroupChars(String),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NameErrorKind::BlankTopic => f.write_str("The specified topic is blank."),
            NameErrorKind::TopicChars => write!(
                f,
                "The specified topic contains illegal characters, allowing only {NAME_PATTERN}"
            ),
            NameErrorKind::TopicTooLong => {
                f.write_str("The specified topic is longer than topic max length.")
            }
            NameErrorKind::BlankGroup => f.write_str("the specified group is blank"),
            NameErrorKind::GroupTooLong => {
                write!(f, "the specified group is longer than group max length {GROUP_MAX_LEN}.")
            }
            NameErrorKind::GroupChars(g) => write!(
                f,
                "the specified group[{g}] contains illegal characters, allowing only {NAME_PATTERN}"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// True for the characters of [`NAME_PATTERN`].
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '_' | '-')
}

/// Java's `UtilAll.isBlank`: empty or only whitespace.
fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// Length as Java's `String.length()` counts it (UTF-16 units).
fn java_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// TopicValidator.validateTopic: not blank, only [`NAME_PATTERN`] characters, at most
/// [`TOPIC_MAX_LEN`]; checked in that order, as Apache does.
pub fn validate_topic(topic: &str) -> Result<(), NameError> {
    let kind = if is_blank(topic) {
        NameErrorKind::BlankTopic
    } else if !topic.chars().all(is_name_char) {
        NameErrorKind::TopicChars
    } else if java_len(topic) > TOPIC_MAX_LEN {
        NameErrorKind::TopicTooLong
    } else {
        return Ok(());
    };
    Err(NameError { kind })
}

/// Validators.checkGroup: not blank, at most [`GROUP_MAX_LEN`], only [`NAME_PATTERN`]
/// characters; checked in that order, as Apache does. The refusal quotes at most 255 characters
/// of the name.
pub fn validate_group(group: &str) -> Result<(), NameError> {
    let kind = if is_blank(group) {
        NameErrorKind::BlankGroup
    } else if java_len(group) > GROUP_MAX_LEN {
        NameErrorKind::GroupTooLong
    } else if !group.chars().all(is_name_char) {
        NameErrorKind::GroupChars(group.chars().take(GROUP_MAX_LEN).collect())
    } else {
        return Ok(());
    };
    Err(NameError { kind })
}

/// TopicValidator.isSystemTopic.
pub fn is_system_topic(topic: &str) -> bool {
    SYSTEM_TOPICS.contains(&topic) || topic.starts_with("rmq_sys_")
}

/// TopicValidator.isNotAllowedSendTopic.
pub fn is_not_allowed_send_topic(topic: &str) -> bool {
    NOT_ALLOWED_SEND_TOPICS.contains(&topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_as_apache() {
        for ok in ["T", "%RETRY%G", "a|b", "A-z_0-9", &"x".repeat(127)] {
            assert_eq!(validate_topic(ok), Ok(()), "{ok}");
        }
        let msg = |t: &str| validate_topic(t).unwrap_err().to_string();
        assert_eq!(msg(""), "The specified topic is blank.");
        assert_eq!(msg(" \t"), "The specified topic is blank.");
        assert_eq!(
            msg("a b"),
            "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
        );
        for bad in ["a.b", "ü", "a/b", "a\u{0}", "t\n", "日本"] {
            assert!(msg(bad).contains("illegal characters"), "{bad}");
        }
        assert_eq!(msg(&"x".repeat(128)), "The specified topic is longer than topic max length.");
        // Characters are checked before the length, as Apache does.
        assert!(msg(&"é".repeat(200)).contains("illegal"));
    }

    #[test]
    fn groups_as_apache() {
        for ok in ["G", "CID_x-1", "%a|b%", &"g".repeat(255)] {
            assert_eq!(validate_group(ok), Ok(()), "{ok}");
        }
        let msg = |g: &str| validate_group(g).unwrap_err().to_string();
        assert_eq!(msg("   "), "the specified group is blank");
        assert_eq!(
            msg(&"g".repeat(256)),
            "the specified group is longer than group max length 255."
        );
        assert_eq!(
            msg("g:1"),
            "the specified group[g:1] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
        );
        // Length counts UTF-16 units: 128 emoji are 256 units.
        assert!(msg(&"\u{1F600}".repeat(128)).contains("max length"));
    }

    #[test]
    fn system_topics() {
        assert!(is_system_topic("TBW102") && is_system_topic("rmq_sys_x"));
        assert!(!is_system_topic("TopicTest"));
        assert!(is_not_allowed_send_topic("SCHEDULE_TOPIC_XXXX"));
        assert!(!is_not_allowed_send_topic("RMQ_SYS_TRACE_TOPIC"));
    }
}
