//! [`ExtFields`]: a command's custom header, every key and value kept as text in one buffer.
//!
//! A send's header has a dozen fields; a map of owned strings costs two allocations per field
//! and a tree node per few, on every request and every response. Here the decoder appends the
//! unescaped keys and values to one `String` and records where each lies, then sorts the
//! records once: two allocations per header. Lookups are a binary search over a dozen entries.
//!
//! Semantics are a sorted map's: keys are unique (a later duplicate wins, as a map's insert
//! does), iteration is in key byte order (the order the JSON encoder writes, as Java's does).
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use std::cmp::Ordering;
use std::fmt;

/// Room a header built by inserts starts with: a send's V2 header and its response fit.
const FIRST_TEXT: usize = 256;
const FIRST_SPANS: usize = 16;

/// Where one entry's key and value lie in the text.
#[derive(Debug, Clone, Copy)]
struct Span {
    key: (usize, usize),
    value: (usize, usize),
}

/// The ext fields of a [`RemotingCommand`](super::command::RemotingCommand).
#[derive(Clone, Default)]
pub struct ExtFields {
    text: String,
    /// Sorted by key, keys unique (outside a decoder's [`Builder`]).
    spans: Vec<Span>,
}

fn slice(text: &str, (start, end): (usize, usize)) -> &str {
    text.get(start..end).unwrap_or_default()
}

impl ExtFields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    fn key_at(&self, s: &Span) -> &str {
        slice(&self.text, s.key)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.spans.binary_search_by(|s| self.key_at(s).cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.find(key).ok()?;
        self.spans.get(i).map(|s| slice(&self.text, s.value))
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key` to `value`, replacing any earlier value.
    pub fn insert(&mut self, key: &str, value: &str) {
        self.insert_with(key, |text| text.push_str(value));
    }

    /// Set `key` to the text of `value`, written straight into the buffer.
    pub fn insert_display(&mut self, key: &str, value: impl fmt::Display) {
        use fmt::Write;
        // Writing into a String cannot fail.
        self.insert_with(key, |text| {
            let _ = write!(text, "{value}");
        });
    }

    fn insert_with(&mut self, key: &str, write_value: impl FnOnce(&mut String)) {
        let value_span = |text: &mut String| {
            let start = text.len();
            write_value(text);
            (start, text.len())
        };
        match self.find(key) {
            Ok(i) => {
                let v = value_span(&mut self.text);
                if let Some(s) = self.spans.get_mut(i) {
                    s.value = v;
                }
                self.compact_if_mostly_garbage();
            }
            Err(i) => {
                if self.spans.capacity() == 0 {
                    // A header built field by field (a request or a response): one allocation
                    // each for a typical header instead of a doubling series.
                    self.text.reserve(FIRST_TEXT);
                    self.spans.reserve(FIRST_SPANS);
                }
                let start = self.text.len();
                self.text.push_str(key);
                let k = (start, self.text.len());
                let v = value_span(&mut self.text);
                self.spans.insert(i, Span { key: k, value: v });
            }
        }
    }

    /// Remove `key`; true when it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.find(key) {
            Ok(i) => {
                self.spans.remove(i);
                self.compact_if_mostly_garbage();
                true
            }
            Err(_) => false,
        }
    }

    /// Keep only the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        let text = &self.text;
        self.spans.retain(|s| keep(slice(text, s.key), slice(text, s.value)));
        self.compact_if_mostly_garbage();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(|s| (slice(&self.text, s.key), slice(&self.text, s.value)))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.spans.iter().map(|s| self.key_at(s))
    }

    /// Replaced values and removed entries leave their text behind; rebuild the text once the
    /// dead part outweighs the live one, so repeated edits cannot grow it without bound.
    fn compact_if_mostly_garbage(&mut self) {
        let live: usize =
            self.spans.iter().map(|s| (s.key.1 - s.key.0) + (s.value.1 - s.value.0)).sum();
        if self.text.len() <= 2 * live + 256 {
            return;
        }
        let mut text = String::with_capacity(live);
        for s in &mut self.spans {
            for r in [&mut s.key, &mut s.value] {
                let start = text.len();
                text.push_str(slice(&self.text, *r));
                *r = (start, text.len());
            }
        }
        self.text = text;
    }
}

/// Builds an [`ExtFields`] from a decoder's entries in arrival order: the decoder writes each
/// key and value straight into the text, and [`Builder::finish`] sorts once.
pub(crate) struct Builder {
    fields: ExtFields,
}

impl Builder {
    /// For a header of about `header_len` bytes.
    pub(crate) fn with_capacity(header_len: usize) -> Self {
        Builder {
            fields: ExtFields {
                text: String::with_capacity(header_len.min(64 * 1024)),
                spans: Vec::with_capacity(16),
            },
        }
    }

    /// Entries so far (duplicates counted).
    pub(crate) fn len(&self) -> usize {
        self.fields.spans.len()
    }

    /// The text to append a key or value to; note `text().len()` before and after.
    pub(crate) fn text(&mut self) -> &mut String {
        &mut self.fields.text
    }

    /// Record the entry whose key and value were just appended at these ranges.
    pub(crate) fn push(&mut self, key: (usize, usize), value: (usize, usize)) {
        self.fields.spans.push(Span { key, value });
    }

    /// Append `key` and `value` and record them.
    pub(crate) fn push_str(&mut self, key: &str, value: &str) {
        let text = &mut self.fields.text;
        let ks = text.len();
        text.push_str(key);
        let ke = text.len();
        text.push_str(value);
        let ve = text.len();
        self.push((ks, ke), (ke, ve));
    }

    /// Sorted by key; of equal keys the last one stays, as repeated map inserts leave it.
    pub(crate) fn finish(self) -> ExtFields {
        let mut f = self.fields;
        let text = &f.text;
        let by_key = |a: &Span, b: &Span| slice(text, a.key).cmp(slice(text, b.key));
        if !f.spans.is_sorted_by(|a, b| by_key(a, b) == Ordering::Less) {
            // Stable: equal keys keep their arrival order, so the last of a run is the latest.
            f.spans.sort_by(by_key);
            let mut kept: Vec<Span> = Vec::with_capacity(f.spans.len());
            for s in f.spans.drain(..) {
                match kept.last_mut() {
                    Some(last) if slice(text, last.key) == slice(text, s.key) => *last = s,
                    _ => kept.push(s),
                }
            }
            f.spans = kept;
            f.compact_if_mostly_garbage();
        }
        f
    }
}

impl PartialEq for ExtFields {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for ExtFields {}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut b = Builder::with_capacity(0);
        for (k, v) in iter {
            b.push_str(k.as_ref(), v.as_ref());
        }
        b.finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_as_a_sorted_map_under_inserts_replacements_and_removals() {
        let mut f = ExtFields::new();
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        // A fixed pseudo-random walk over a few keys, checked against BTreeMap after each step.
        let mut x: u32 = 7;
        for step in 0..2000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = format!("k{}", (x >> 8) % 13);
            let value = "v".repeat(((x >> 4) % 40) as usize) + &step.to_string();
            match (x >> 20) % 4 {
                0 => assert_eq!(f.remove(&key), m.remove(&key).is_some()),
                1 => {
                    f.retain(|k, _| !k.ends_with('3'));
                    m.retain(|k, _| !k.ends_with('3'));
                }
                _ => {
                    f.insert(&key, &value);
                    m.insert(key.clone(), value);
                }
            }
            assert_eq!(f.len(), m.len());
            assert_eq!(f.get(&key), m.get(&key).map(String::as_str));
            assert!(f.iter().eq(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))), "step {step}");
        }
        // Replacements did not let the text grow without bound.
        assert!(f.text.len() < 4096, "text grew to {}", f.text.len());
    }

    #[test]
    fn builder_sorts_once_and_the_last_duplicate_wins() {
        let mut b = Builder::with_capacity(64);
        for (k, v) in [("b", "1"), ("a", "2"), ("b", "3"), ("", "e"), ("c", ""), ("a", "4")] {
            b.push_str(k, v);
        }
        let f = b.finish();
        let got: Vec<(&str, &str)> = f.iter().collect();
        assert_eq!(got, [("", "e"), ("a", "4"), ("b", "3"), ("c", "")]);
        assert_eq!(f.get("b"), Some("3"));
        assert_eq!(f.get("z"), None);
        assert!(f.contains_key(""));
        let keys: Vec<&str> = f.keys().collect();
        assert_eq!(keys, ["", "a", "b", "c"]);
    }

    #[test]
    fn equality_and_debug_follow_the_entries() {
        let a: ExtFields = [("x", "1"), ("y", "2")].into_iter().collect();
        let mut b = ExtFields::new();
        b.insert("y", "0");
        b.insert("x", "1");
        assert_ne!(a, b);
        b.insert("y", "2");
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), r#"{"x": "1", "y": "2"}"#);
    }
}
