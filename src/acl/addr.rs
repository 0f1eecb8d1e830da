//! Address patterns of plain_acl.yml (RemoteAddressStrategyFactory.java, AclUtils.java):
//!
//! | pattern | matches |
//! |---|---|
//! | blank | nothing (an account without `whiteRemoteAddress`) |
//! | `*`, `*.*.*.*`, `*:*:*:*:*:*:*:*` | every address |
//! | `192.168.0.1`, `::1` | that address |
//! | `192.168.1.1,192.168.1.2` | any listed address |
//! | `192.168.1.{1,2,3}`, `2001:db8::{1,2}` | the prefix followed by any listed last part |
//! | `192.168.1.*`, `192.168.*.*`, `192.168.1.1-100`, `192.168.1-10.*` | each part a number, `*` or a range `a-b` |
//! | `2001:db8::1-ff`, `2001:db8:1:*`, `2::ac5:78:1-200:*` | the same in IPv6 groups (hex); `*` ends the pattern |
//!
//! Deviation from Apache: every part of a range pattern is checked. Apache only compares the
//! parts before the first `*` or range and that one, ignoring any written after it (so
//! `192.168.1-10.5` would match `192.168.3.77` there; here it does not). Both accept what the
//! other accepts for patterns whose later parts are `*`, which is how they are written.
//! An IPv4-mapped IPv6 peer (`::ffff:a.b.c.d`) is matched as its IPv4 address, as Apache sees it.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One part of an address: `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    lo: u16,
    hi: u16,
}

impl Part {
    fn exact(v: u16) -> Part {
        Part { lo: v, hi: v }
    }
}

/// Four IPv4 or eight IPv6 parts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    V4([Part; 4]),
    V6([Part; 8]),
}

impl Shape {
    fn matches(&self, ip: IpAddr) -> bool {
        let within = |p: &Part, v: u16| p.lo <= v && v <= p.hi;
        match (self, ip) {
            (Shape::V4(parts), IpAddr::V4(a)) => {
                parts.iter().zip(a.octets()).all(|(p, v)| within(p, u16::from(v)))
            }
            (Shape::V6(parts), IpAddr::V6(a)) => {
                parts.iter().zip(a.segments()).all(|(p, v)| within(p, v))
            }
            _ => false,
        }
    }

    fn exact(ip: IpAddr) -> Shape {
        match canonical(ip) {
            IpAddr::V4(a) => Shape::V4(a.octets().map(|o| Part::exact(u16::from(o)))),
            IpAddr::V6(a) => Shape::V6(a.segments().map(Part::exact)),
        }
    }
}

/// A compiled `whiteRemoteAddress` / `globalWhiteRemoteAddresses` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrPattern {
    /// `None` matches everything; an empty list matches nothing.
    alternatives: Option<Vec<Shape>>,
}

/// IPv4-mapped IPv6 addresses as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl AddrPattern {
    /// The pattern that matches nothing (a blank entry).
    pub fn none() -> AddrPattern {
        AddrPattern { alternatives: Some(Vec::new()) }
    }

    /// Compile `text`; `Err` says what is wrong, as Apache refuses the file then too.
    pub fn parse(text: &str) -> Result<AddrPattern, String> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(AddrPattern::none());
        }
        if matches!(t, "*" | "*.*.*.*" | "*:*:*:*:*:*:*:*") {
            return Ok(AddrPattern { alternatives: None });
        }
        let bad = || format!("the address pattern '{t}' is not valid");
        let alternatives = if let Some(open) = t.strip_suffix('}') {
            // prefix{a,b,c}: each item completes the prefix to a full address.
            let (prefix, items) = open.rsplit_once('{').ok_or_else(bad)?;
            if !(prefix.ends_with('.') || prefix.ends_with(':')) {
                return Err(bad());
            }
            items
                .split(',')
                .map(|i| exact_addr(&format!("{prefix}{}", i.trim())).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?
        } else if t.contains(',') {
            t.split(',')
                .filter(|i| !i.trim().is_empty())
                .map(|i| exact_addr(i.trim()).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?
        } else if t.contains('*') || t.contains('-') {
            vec![range(t).ok_or_else(bad)?]
        } else {
            vec![exact_addr(t).ok_or_else(bad)?]
        };
        Ok(AddrPattern { alternatives: Some(alternatives) })
    }

    /// True when `ip` is covered.
    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match &self.alternatives {
            None => true,
            Some(alts) => alts.iter().any(|s| s.matches(ip)),
        }
    }
}

/// A full IPv4 address (leading zeros allowed, as Apache's validator does) or IPv6 address.
fn exact_addr(t: &str) -> Option<Shape> {
    if t.contains(':') {
        return t.parse::<Ipv6Addr>().ok().map(|a| Shape::exact(IpAddr::V6(a)));
    }
    let mut octets = [0u8; 4];
    let mut parts = t.split('.');
    for o in &mut octets {
        *o = dec(parts.next()?)?.try_into().ok()?;
    }
    parts.next().is_none().then(|| Shape::exact(IpAddr::V4(Ipv4Addr::from(octets))))
}

fn dec(s: &str) -> Option<u16> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn hex(s: &str) -> Option<u16> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u16::from_str_radix(s, 16).ok())
        .flatten()
}

/// `*`, `a-b` (a <= b <= max) or a number, in decimal or hex.
fn part(s: &str, num: fn(&str) -> Option<u16>, max: u16) -> Option<Part> {
    let s = s.trim();
    if s == "*" {
        return Some(Part { lo: 0, hi: max });
    }
    let p = match s.split_once('-') {
        Some((a, b)) => Part { lo: num(a)?, hi: num(b)? },
        None => Part::exact(num(s)?),
    };
    (p.lo <= p.hi && p.hi <= max).then_some(p)
}

/// A pattern with `*` or ranges.
fn range(t: &str) -> Option<Shape> {
    if !t.contains(':') {
        let mut parts = [Part::exact(0); 4];
        let mut it = t.split('.');
        for p in &mut parts {
            *p = part(it.next()?, dec, 255)?;
        }
        return it.next().is_none().then_some(Shape::V4(parts));
    }
    // IPv6: a `*` may only end the pattern; `::` stands for zero groups, and without `::` a
    // trailing `*` covers all remaining groups (Apache's prefix semantics).
    let (head, tail) = match t.split_once("::") {
        Some((h, r)) => (h, Some(r)),
        None => (t, None),
    };
    let groups = |s: &str| -> Option<Vec<Part>> {
        if s.is_empty() {
            return Some(Vec::new());
        }
        s.split(':').map(|g| part(g, hex, u16::MAX)).collect()
    };
    let head_parts = groups(head)?;
    let mut all: Vec<Part> = match tail {
        Some(r) => {
            let tail_parts = groups(r)?;
            let fill = 8usize.checked_sub(head_parts.len() + tail_parts.len())?;
            if fill == 0 {
                return None;
            }
            let mut v = head_parts;
            v.extend(std::iter::repeat_n(Part::exact(0), fill));
            v.extend(tail_parts);
            v
        }
        None => head_parts,
    };
    let star_at = t.find('*');
    if star_at.is_some_and(|i| i + 1 != t.len()) {
        return None;
    }
    if tail.is_none() && all.len() < 8 && star_at.is_some() {
        all.resize(8, Part { lo: 0, hi: u16::MAX });
    }
    let parts: [Part; 8] = all.try_into().ok()?;
    Some(Shape::V6(parts))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(pattern: &str, ip: &str) -> bool {
        AddrPattern::parse(pattern).unwrap().matches(ip.parse().unwrap())
    }

    #[test]
    fn ipv4_forms() {
        assert!(!m("", "1.2.3.4") && !m("  ", "127.0.0.1"));
        for all in ["*", "*.*.*.*", "*:*:*:*:*:*:*:*"] {
            assert!(m(all, "1.2.3.4") && m(all, "::1"), "{all}");
        }
        assert!(m("192.168.0.1", "192.168.0.1") && !m("192.168.0.1", "192.168.0.2"));
        assert!(m("192.168.000.001", "192.168.0.1"));
        assert!(m("192.168.0.*", "192.168.0.77") && !m("192.168.0.*", "192.168.1.77"));
        assert!(m("192.168.*.*", "192.168.9.9") && !m("192.168.*.*", "192.169.0.0"));
        assert!(m("192.168.1.1-100", "192.168.1.100") && !m("192.168.1.1-100", "192.168.1.101"));
        assert!(!m("192.168.1.1-100", "192.168.1.0"));
        assert!(m("192.168.1-10.*", "192.168.10.255") && !m("192.168.1-10.*", "192.168.11.1"));
        assert!(m("10.0.0.{1,2,3}", "10.0.0.3") && !m("10.0.0.{1,2,3}", "10.0.0.4"));
        assert!(m("10.0.0.1,10.0.0.9", "10.0.0.9") && !m("10.0.0.1,10.0.0.9", "10.0.0.2"));
        // IPv4-mapped IPv6 peers are their IPv4 address.
        assert!(m("127.0.0.*", "::ffff:127.0.0.2"));
        assert!(!m("127.0.0.1", "::1"));
    }

    #[test]
    fn ipv6_forms() {
        assert!(m("::1", "::1") && m("0:0:0:0:0:0:0:1", "::1") && !m("::1", "::2"));
        assert!(m("2001:db8::{1,a}", "2001:db8::a") && !m("2001:db8::{1,a}", "2001:db8::b"));
        assert!(m("2001:db8::1-ff", "2001:db8::ff") && !m("2001:db8::1-ff", "2001:db8::100"));
        assert!(m("2001:db8:1:*", "2001:db8:1:77::5") && !m("2001:db8:1:*", "2001:db8:2::"));
        assert!(m("1:2:3:4:5:6:7:*", "1:2:3:4:5:6:7:ffff"));
        assert!(m("2::ac5:78:1-200:*", "2::ac5:78:150:9"));
        assert!(!m("2::ac5:78:1-200:*", "2::ac5:78:201:9"));
        assert!(!m("2001:db8::*", "10.0.0.1") && !m("10.*.*.*", "2001:db8::1"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "192.168.1",
            "192.168.1.256",
            "192.168.1.*.1",
            "192.168.1.10-1",
            "192.168.1.-5",
            "192.168.1.1-300",
            "a.b.c.d",
            "192.168.1.{1,x}",
            "192.168.{1,2}",
            "10.0.0.1,nope",
            "2001:db8:*:1",
            "2001:db8::1::2",
            "1:2:3:4:5:6:7:8:9",
            "2001:db8::g",
            "{1,2}",
            "localhost",
        ] {
            assert!(AddrPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
