//! plain_acl.yml as Apache 4.x reads it (PlainPermissionManager.load, buildPlainAccessResource,
//! Permission.java): global whitelists, and accounts with their keys, whitelist, admin flag,
//! default perms and per-resource perms.
//!
//! ```yaml
//! globalWhiteRemoteAddresses:
//!   - 10.10.103.*
//! accounts:
//!   - accessKey: RocketMQ          # longer than 6 characters
//!     secretKey: 12345678          # longer than 6 characters
//!     whiteRemoteAddress:          # blank: no address skips the signature
//!     admin: false
//!     defaultTopicPerm: DENY       # absent means DENY, as in Apache
//!     defaultGroupPerm: SUB
//!     topicPerms: [topicA=DENY, topicB=PUB|SUB]
//!     groupPerms: [groupA=DENY]    # checked as the resource %RETRY%groupA
//! ```

use super::addr::AddrPattern;
use super::yaml::{self, Yaml};
use crate::protocol::access::Need;
use std::collections::HashMap;
use std::fmt;

/// Prefix of a consumer group's retry topic, which names the group as a resource.
pub const RETRY_PREFIX: &str = "%RETRY%";

/// Permission bits (Permission.java: DENY 1, ANY 2, PUB 4, SUB 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perm(u8);

impl Perm {
    /// No access.
    pub const DENY: Perm = Perm(1);
    /// Needed: any of PUB or SUB.
    pub const ANY: Perm = Perm(2);
    /// Publish.
    pub const PUB: Perm = Perm(4);
    /// Subscribe.
    pub const SUB: Perm = Perm(8);
    /// Publish and subscribe.
    pub const PUB_SUB: Perm = Perm(4 | 8);

    /// Permission.parsePermFromString: `PUB`, `SUB`, `PUB|SUB`, `SUB|PUB`, `DENY`; anything
    /// else (or nothing) is DENY. The second value says whether the text was one of those.
    pub fn parse(text: Option<&str>) -> (Perm, bool) {
        match text.map(str::trim) {
            Some("PUB") => (Perm::PUB, true),
            Some("SUB") => (Perm::SUB, true),
            Some("PUB|SUB" | "SUB|PUB") => (Perm::PUB_SUB, true),
            Some("DENY") | None => (Perm::DENY, true),
            Some(_) => (Perm::DENY, false),
        }
    }

    /// The bits a request needs.
    pub fn needed(n: Need) -> Perm {
        match n {
            Need::Pub => Perm::PUB,
            Need::Sub => Perm::SUB,
            Need::PubOrSub => Perm::PUB_SUB,
            Need::Any => Perm::ANY,
        }
    }

    /// Permission.checkPermission: DENY refuses; ANY needs PUB or SUB; else any needed bit.
    pub fn grants(self, needed: Perm) -> bool {
        if self.0 & Perm::DENY.0 != 0 {
            return false;
        }
        if needed.0 & Perm::ANY.0 != 0 {
            return self.0 & (Perm::PUB.0 | Perm::SUB.0) != 0;
        }
        needed.0 & self.0 != 0
    }
}

/// One account of the file. Its Debug form leaves the secret key out.
#[derive(Clone)]
pub struct Account {
    /// `accessKey`.
    pub access_key: String,
    pub(crate) secret_key: String,
    /// `whiteRemoteAddress`: a match skips the signature and the resource checks.
    pub white: AddrPattern,
    /// `admin`.
    pub admin: bool,
    /// `defaultTopicPerm`.
    pub default_topic_perm: Perm,
    /// `defaultGroupPerm`.
    pub default_group_perm: Perm,
    /// `topicPerms` by topic and `groupPerms` by `%RETRY%<group>`.
    pub perms: HashMap<String, Perm>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("white", &self.white)
            .field("admin", &self.admin)
            .field("default_topic_perm", &self.default_topic_perm)
            .field("default_group_perm", &self.default_group_perm)
            .field("perms", &self.perms)
            .finish()
    }
}

impl Account {
    /// The permission this account holds on `resource`: its own entry or the default for the
    /// resource's kind.
    pub fn perm_on(&self, resource: &str) -> Perm {
        match self.perms.get(resource) {
            Some(p) => *p,
            None if resource.starts_with(RETRY_PREFIX) => self.default_group_perm,
            None => self.default_topic_perm,
        }
    }
}

/// A parsed plain_acl.yml.
#[derive(Debug, Clone, Default)]
pub struct AclConfig {
    /// `globalWhiteRemoteAddresses`.
    pub global_white: Vec<AddrPattern>,
    /// Accounts by access key (a later duplicate replaces an earlier one, as in Apache).
    pub accounts: HashMap<String, Account>,
}

/// Why a file cannot be used: the YAML line when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based YAML line, or 0.
    pub line: usize,
    why: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.why)
        } else {
            write!(f, "line {}: {}", self.line, self.why)
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<yaml::YamlError> for ConfigError {
    fn from(e: yaml::YamlError) -> Self {
        ConfigError { line: 0, why: e.to_string() }
    }
}

fn err(why: impl Into<String>) -> ConfigError {
    ConfigError { line: 0, why: why.into() }
}

impl ConfigError {
    fn about(self, who: &str) -> ConfigError {
        ConfigError { line: self.line, why: format!("{who}: {}", self.why) }
    }
}

/// Keys must be longer than this (AclConstants.ACCESS_KEY_MIN_LENGTH, SECRET_KEY_MIN_LENGTH).
pub const KEY_MIN_LENGTH: usize = 6;

fn scalar<'a>(v: Option<&'a Yaml>, what: &str) -> Result<Option<&'a str>, ConfigError> {
    match v {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::Scalar(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("{what} must be a single value"))),
    }
}

fn list<'a>(v: Option<&'a Yaml>, what: &str) -> Result<&'a [Yaml], ConfigError> {
    match v {
        None | Some(Yaml::Null) => Ok(&[]),
        Some(Yaml::Seq(items)) => Ok(items),
        Some(_) => Err(err(format!("{what} must be a list"))),
    }
}

/// YAML 1.1 booleans, as SnakeYAML reads them.
fn boolean(v: Option<&str>, what: &str) -> Result<bool, ConfigError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(false),
        Some("true" | "yes" | "on" | "y") => Ok(true),
        Some("false" | "no" | "off" | "n") => Ok(false),
        Some(other) => Err(err(format!("{what} must be true or false, not '{other}'"))),
    }
}

fn java_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn perm_items(
    items: &[Yaml],
    group: bool,
    who: &str,
    perms: &mut HashMap<String, Perm>,
) -> Result<(), ConfigError> {
    let kind = if group { "groupPerms" } else { "topicPerms" };
    for item in items {
        let text = scalar(Some(item), kind)?.unwrap_or("");
        // StringUtils.split(resource, "="): '=' separated, empty tokens dropped, exactly two.
        let tokens: Vec<&str> = text.split('=').filter(|t| !t.is_empty()).collect();
        let [name, perm] = tokens.as_slice() else {
            return Err(err(format!(
                "{kind} entry '{text}' must be 'name=PERM' (PUB, SUB, PUB|SUB or DENY)"
            )));
        };
        let (p, known) = Perm::parse(Some(perm));
        if !known {
            log::warn!("acl {who}: {kind} entry '{text}' has an unknown permission; it means DENY");
        }
        let name = name.trim();
        let resource = if group { format!("{RETRY_PREFIX}{name}") } else { name.to_string() };
        perms.insert(resource, p);
    }
    Ok(())
}

fn account(i: usize, v: &Yaml) -> Result<Account, ConfigError> {
    if !matches!(v, Yaml::Map(_)) {
        return Err(err(format!("accounts[{i}] must be a map")));
    }
    let ak = scalar(v.get("accessKey"), "accessKey")?.unwrap_or("");
    let who = format!("account {} (accessKey={ak})", i + 1);
    let sk = scalar(v.get("secretKey"), "secretKey")?.unwrap_or("");
    if java_len(ak) <= KEY_MIN_LENGTH || java_len(sk) <= KEY_MIN_LENGTH {
        return Err(err(format!(
            "{who}: accessKey and secretKey must both be longer than {KEY_MIN_LENGTH} characters"
        )));
    }
    account_fields(v, ak, sk).map_err(|e| e.about(&who))
}

fn account_fields(v: &Yaml, ak: &str, sk: &str) -> Result<Account, ConfigError> {
    let who = format!("accessKey={ak}");
    let white_text = scalar(v.get("whiteRemoteAddress"), "whiteRemoteAddress")?.unwrap_or("");
    let white = AddrPattern::parse(white_text).map_err(err)?;
    let default_perm = |key: &str| -> Result<Perm, ConfigError> {
        let text = scalar(v.get(key), key)?;
        let (p, known) = Perm::parse(text);
        if !known {
            log::warn!("acl {who}: {key} '{}' is unknown; it means DENY", text.unwrap_or(""));
        }
        Ok(p)
    };
    let mut perms = HashMap::new();
    perm_items(list(v.get("groupPerms"), "groupPerms")?, true, &who, &mut perms)?;
    perm_items(list(v.get("topicPerms"), "topicPerms")?, false, &who, &mut perms)?;
    Ok(Account {
        access_key: ak.to_string(),
        secret_key: sk.to_string(),
        white,
        admin: boolean(scalar(v.get("admin"), "admin")?, "admin")?,
        default_topic_perm: default_perm("defaultTopicPerm")?,
        default_group_perm: default_perm("defaultGroupPerm")?,
        perms,
    })
}

impl AclConfig {
    /// Parse the text of a plain_acl.yml. An empty file is a configuration without accounts.
    pub fn parse(text: &str) -> Result<AclConfig, ConfigError> {
        let doc =
            yaml::parse(text).map_err(|e| ConfigError { line: e.line, why: e.to_string() })?;
        let mut cfg = AclConfig::default();
        match &doc {
            Yaml::Null => return Ok(cfg),
            Yaml::Map(_) => {}
            _ => return Err(err("the file must be a map (globalWhiteRemoteAddresses, accounts)")),
        }
        for item in list(doc.get("globalWhiteRemoteAddresses"), "globalWhiteRemoteAddresses")? {
            if let Some(text) = scalar(Some(item), "a globalWhiteRemoteAddresses entry")? {
                let p = AddrPattern::parse(text)
                    .map_err(|e| err(format!("globalWhiteRemoteAddresses: {e}")))?;
                cfg.global_white.push(p);
            }
        }
        for (i, a) in list(doc.get("accounts"), "accounts")?.iter().enumerate() {
            let a = account(i, a)?;
            cfg.accounts.insert(a.access_key.clone(), a);
        }
        Ok(cfg)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// distribution/conf/plain_acl.yml of 4.9.8, as shipped.
    pub(crate) const APACHE_FILE: &str = "globalWhiteRemoteAddresses:\n  - 10.10.103.*\n  - 192.168.0.*\n\naccounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    whiteRemoteAddress:\n    admin: false\n    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n    topicPerms:\n      - topicA=DENY\n      - topicB=PUB|SUB\n      - topicC=SUB\n    groupPerms:\n      # the group should convert to retry topic\n      - groupA=DENY\n      - groupB=PUB|SUB\n      - groupC=SUB\n\n  - accessKey: rocketmq2\n    secretKey: 12345678\n    whiteRemoteAddress: 192.168.1.*\n    # if it is admin, it could access all resources\n    admin: true\n";

    #[test]
    fn apache_distribution_file() {
        let c = AclConfig::parse(APACHE_FILE).unwrap();
        assert_eq!(c.global_white.len(), 2);
        assert!(c.global_white[0].matches("10.10.103.9".parse().unwrap()));
        let a = &c.accounts["RocketMQ"];
        assert_eq!(a.secret_key, "12345678");
        assert!(!a.admin && !a.white.matches("192.168.1.1".parse().unwrap()));
        assert_eq!((a.default_topic_perm, a.default_group_perm), (Perm::DENY, Perm::SUB));
        assert_eq!(a.perm_on("topicB"), Perm::PUB_SUB);
        assert_eq!(a.perm_on("topicZ"), Perm::DENY);
        assert_eq!(a.perm_on("%RETRY%groupA"), Perm::DENY);
        assert_eq!(a.perm_on("%RETRY%groupZ"), Perm::SUB);
        assert!(!format!("{a:?}").contains("12345678"), "Debug shows the secret");
        let b = &c.accounts["rocketmq2"];
        assert!(b.admin && b.white.matches("192.168.1.20".parse().unwrap()));
        // Absent default perms are DENY, as parsePermFromString(null).
        assert_eq!(b.default_topic_perm, Perm::DENY);
        assert!(AclConfig::parse("").unwrap().accounts.is_empty());
    }

    #[test]
    fn permission_logic() {
        assert!(!Perm::DENY.grants(Perm::SUB) && !Perm::DENY.grants(Perm::ANY));
        assert!(Perm::PUB.grants(Perm::PUB) && !Perm::PUB.grants(Perm::SUB));
        assert!(Perm::PUB_SUB.grants(Perm::SUB) && Perm::SUB.grants(Perm::PUB_SUB));
        assert!(Perm::SUB.grants(Perm::ANY) && Perm::PUB.grants(Perm::ANY));
        assert_eq!(Perm::parse(Some(" SUB|PUB ")), (Perm::PUB_SUB, true));
        assert_eq!(Perm::parse(Some("READ")), (Perm::DENY, false));
        assert_eq!(Perm::parse(None), (Perm::DENY, true));
    }

    #[test]
    fn refusals_name_the_account_and_line() {
        let base = "accounts:\n  - accessKey: goodkey1\n    secretKey: goodsecret\n";
        for (extra, want) in [
            ("    topicPerms:\n      - topicA\n", "'name=PERM'"),
            ("    topicPerms:\n      - a=b=c\n", "'name=PERM'"),
            ("    whiteRemoteAddress: 300.1.1.1\n", "not valid"),
            ("    admin: maybe\n", "must be true or false"),
            ("    topicPerms: x\n", "must be a list"),
        ] {
            let e = AclConfig::parse(&format!("{base}{extra}")).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("goodkey1"), "{extra}: {e}");
        }
        let short = "accounts:\n  - accessKey: short\n    secretKey: 1234567\n";
        assert!(AclConfig::parse(short).unwrap_err().to_string().contains("longer than 6"));
        let short = "accounts:\n  - accessKey: longenough\n    secretKey: 123456\n";
        assert!(AclConfig::parse(short).unwrap_err().to_string().contains("longer than 6"));
        let e = AclConfig::parse("accounts:\n  - a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(AclConfig::parse("- x\n").is_err());
        assert!(AclConfig::parse("globalWhiteRemoteAddresses: [1.2.3]\n").is_err());
        // A later account with the same key replaces the earlier one.
        let dup = format!("{base}  - accessKey: goodkey1\n    secretKey: othersecret\n");
        assert_eq!(AclConfig::parse(&dup).unwrap().accounts["goodkey1"].secret_key, "othersecret");
    }
}
