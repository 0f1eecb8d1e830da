//! Configuration files and flags with Apache's key names: `key=value` properties files (as
//! `mqnamesrv -c` and `mqbroker -c` read them), every key also settable as `--key=value`.

use std::fmt;
use std::path::PathBuf;

/// A typed configuration that accepts Apache key names.
pub trait ConfigKeys {
    /// Set `key` from text. `Ok(false)` means the key is unknown; `Err` means a bad value.
    fn set(&mut self, key: &str, value: &str) -> Result<bool, String>;
}

/// A configuration error: which key, which value, why. Maps to exit code 2.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(String);

impl ConfigError {
    /// An error with a message.
    pub fn new(msg: impl Into<String>) -> Self {
        ConfigError(msg.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Parse Java-properties text: `key=value` (or `key: value`, `key value`), `#`/`!` comments.
/// As in Java's `Properties.load`, the key ends at the first `=`, `:`, space, tab or form feed;
/// whitespace and then one `=` or `:` after it are skipped. Other (multi-byte) whitespace is part
/// of the key or value. Total: no input panics (issue 13: an UPDATE_BROKER_CONFIG body with
/// `a\u{3000}b` used to split a character in two).
pub fn parse_properties(text: &str) -> Vec<(String, String)> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\x0c');
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let (k, v) = match line.find(|c: char| c == '=' || c == ':' || is_space(c)) {
            Some(i) => {
                let (k, rest) = line.split_at(i);
                let rest = rest.trim_start_matches(is_space);
                let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest);
                (k, rest)
            }
            None => (line, ""),
        };
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    out
}

/// Parsed command line of a server binary.
#[derive(Debug, Default, Clone)]
pub struct Args {
    /// `-c FILE`.
    pub config_file: Option<PathBuf>,
    /// `--key=value` settings, in order (including `-n ADDR` as namesrvAddr).
    pub sets: Vec<(String, String)>,
    /// Bare switches such as `standalone`, `help`, `version`.
    pub switches: Vec<String>,
}

impl Args {
    /// True if the switch was given.
    pub fn has(&self, s: &str) -> bool {
        self.switches.iter().any(|x| x == s)
    }
}

/// Parse `-c FILE`, `-n ADDR`, `--key=value`, `--key value`, `-h`, `--help`, `-v`, `--version`
/// and the switches named in `switches`.
pub fn parse_args<I: IntoIterator<Item = String>>(
    args: I,
    switches: &[&str],
) -> Result<Args, ConfigError> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => out.switches.push("help".into()),
            "-v" | "--version" => out.switches.push("version".into()),
            "-c" | "--config" => {
                let f = it.next().ok_or_else(|| ConfigError::new("-c needs a file name"))?;
                out.config_file = Some(PathBuf::from(f));
            }
            "-n" => {
                let v = it
                    .next()
                    .ok_or_else(|| ConfigError::new("-n needs a name server address list"))?;
                out.sets.push(("namesrvAddr".into(), v));
            }
            s if s.starts_with("--") => {
                let body = &s[2..];
                if switches.contains(&body) {
                    out.switches.push(body.to_string());
                } else if let Some((k, v)) = body.split_once('=') {
                    out.sets.push((k.to_string(), v.to_string()));
                } else {
                    let v = it
                        .next()
                        .ok_or_else(|| ConfigError::new(format!("--{body} needs a value")))?;
                    out.sets.push((body.to_string(), v));
                }
            }
            other => {
                return Err(ConfigError::new(format!("unexpected argument '{other}' (see --help)")))
            }
        }
    }
    Ok(out)
}

/// Load the config file (if any) then apply flags on top. Unknown keys are returned for a
/// warning; a bad value is an error naming the key.
pub fn load<C: ConfigKeys>(cfg: &mut C, args: &Args) -> Result<Vec<String>, ConfigError> {
    let mut pairs = Vec::new();
    if let Some(f) = &args.config_file {
        let text = std::fs::read_to_string(f).map_err(|e| {
            ConfigError::new(format!("cannot read config file {}: {}", f.display(), e))
        })?;
        pairs.extend(parse_properties(&text));
    }
    pairs.extend(args.sets.iter().cloned());
    let mut unknown = Vec::new();
    for (k, v) in pairs {
        match cfg.set(&k, &v) {
            Ok(true) => {}
            Ok(false) => unknown.push(k),
            Err(why) => return Err(ConfigError::new(format!("bad value '{v}' for {k}: {why}"))),
        }
    }
    Ok(unknown)
}

/// Why a binary should exit before starting: help/version text (code 0, stdout) or a usage or
/// configuration error (code 2, stderr). The binary prints it; the library never does.
#[derive(Debug)]
pub struct EarlyExit {
    /// Process exit code.
    pub code: u8,
    /// Text to print.
    pub message: String,
}

impl EarlyExit {
    /// Print the message where it belongs and return the exit code.
    pub fn report(self, prog: &str) -> u8 {
        if self.code == 0 {
            println!("{}", self.message);
        } else {
            eprintln!("{prog}: {}", self.message);
        }
        self.code
    }
}

/// Shared start-up of the server binaries: parse flags, handle `--help`/`--version`, load the
/// config file and flags into `cfg`, warn (through `log`) about unknown keys.
pub fn startup<C: ConfigKeys>(
    prog: &str,
    help: &str,
    switches: &[&str],
    cfg: &mut C,
) -> Result<Args, EarlyExit> {
    let args = parse_args(std::env::args().skip(1), switches)
        .map_err(|e| EarlyExit { code: 2, message: e.to_string() })?;
    if args.has("help") {
        return Err(EarlyExit { code: 0, message: help.to_string() });
    }
    if args.has("version") {
        return Err(EarlyExit {
            code: 0,
            message: format!("{prog} {}", env!("CARGO_PKG_VERSION")),
        });
    }
    let unknown = load(cfg, &args).map_err(|e| EarlyExit { code: 2, message: e.to_string() })?;
    for k in unknown {
        log::warn!("unknown configuration key ignored key={k}");
    }
    Ok(args)
}

/// Parse a boolean the way Java's Boolean.parseBoolean is used in configs, but strictly.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// Parse a number.
pub fn parse_num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim().parse().map_err(|_| "expected a number".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_args() {
        let p = parse_properties(
            "# c\nbrokerName = b1\nlistenPort:10911\n\n flushDiskType=SYNC_FLUSH\n",
        );
        assert_eq!(p[0], ("brokerName".into(), "b1".into()));
        assert_eq!(p[1], ("listenPort".into(), "10911".into()));
        assert_eq!(p[2].1, "SYNC_FLUSH");
        // Multi-byte whitespace never splits a character; Java's separators only.
        let p =
            parse_properties("a\u{3000}b\nk\u{a0}=v\u{2003}\nx \t: y = z\nkey value=1\n\u{3000}\n");
        let want: Vec<(String, String)> =
            [("a\u{3000}b", ""), ("k", "v"), ("x", "y = z"), ("key", "value=1")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(p, want);
        let a = parse_args(
            ["-n", "127.0.0.1:9876", "--listenPort=0", "--brokerName", "x", "--standalone"]
                .map(String::from),
            &["standalone"],
        )
        .unwrap();
        assert!(a.has("standalone"));
        assert_eq!(a.sets.len(), 3);
        assert!(parse_args(["bogus".to_string()], &[]).is_err());
    }
}
