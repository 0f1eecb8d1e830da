//! NUL-terminated copies of a message's fields, made on first request so that getters can return
//! `const char*` the way Apache's return `std::string::c_str()`. A copy lives until the message
//! changes (outgoing messages) or is released; moving a `CString` inside the map never moves its
//! bytes, so a returned pointer stays put while the entry lives.

use crate::args::c_string;
use rmq::client::Message;
use std::collections::HashMap;
use std::ffi::{c_char, CString};

/// A string field of a message.
#[derive(Hash, PartialEq, Eq)]
pub(crate) enum Field {
    Topic,
    Tags,
    Keys,
    MsgId,
    Property(String),
}

/// The copies of one message.
#[derive(Default)]
pub(crate) struct Cache {
    strs: HashMap<Field, CString>,
    body: Option<Vec<u8>>,
}

/// "" for absent fields: Apache returns the empty std::string's c_str(), never NULL.
pub(crate) fn empty() -> *const c_char {
    c"".as_ptr()
}

impl Cache {
    /// The field `f` of `msg` (`msg_id` only used for [`Field::MsgId`]).
    pub(crate) fn str_field(&mut self, f: Field, msg: &Message, msg_id: &str) -> *const c_char {
        if let Some(c) = self.strs.get(&f) {
            return c.as_ptr();
        }
        let value = match &f {
            Field::Topic => Some(msg.topic()),
            Field::Tags => msg.tags(),
            Field::Keys => msg.keys(),
            Field::MsgId => Some(msg_id),
            Field::Property(k) => msg.property(k),
        };
        match value {
            None => empty(),
            Some(v) => self.strs.entry(f).or_insert_with(|| c_string(v)).as_ptr(),
        }
    }

    /// The body with a NUL after it (bytes after an interior NUL are kept, as in a std::string).
    pub(crate) fn body(&mut self, msg: &Message) -> *const c_char {
        self.body
            .get_or_insert_with(|| {
                let mut b = Vec::with_capacity(msg.body().len() + 1);
                b.extend_from_slice(msg.body());
                b.push(0);
                b
            })
            .as_ptr()
            .cast()
    }

    /// Forget every copy (the message changed).
    pub(crate) fn clear(&mut self) {
        self.strs.clear();
        self.body = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn copies_are_stable_and_absent_fields_are_empty() {
        let mut m = Message::new("T", b"a\0b".to_vec());
        m.set_tags("A");
        let mut c = Cache::default();
        let t = c.str_field(Field::Topic, &m, "");
        for i in 0..100 {
            c.str_field(Field::Property(format!("p{i}")), &m, "");
        }
        assert_eq!(t, c.str_field(Field::Topic, &m, ""), "a pointer never moves");
        // SAFETY: the cache keeps the strings alive; all are NUL-terminated.
        unsafe {
            assert_eq!(CStr::from_ptr(t).to_str().unwrap(), "T");
            assert_eq!(CStr::from_ptr(c.str_field(Field::Tags, &m, "")).to_str().unwrap(), "A");
            assert_eq!(CStr::from_ptr(c.str_field(Field::Keys, &m, "")).to_bytes(), b"");
            assert_eq!(std::slice::from_raw_parts(c.body(&m).cast::<u8>(), 4), b"a\0b\0");
        }
    }
}
