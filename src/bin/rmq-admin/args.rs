//! Command-line options: every command declares its options; `-x VALUE`, `--long VALUE`,
//! `--long=VALUE` and bare switches are accepted, plus the common `-n`, `--json`, `-h`.

use std::collections::BTreeMap;

/// One option of a command.
pub struct Opt {
    /// Short letter (mqadmin's).
    pub short: char,
    /// Long name (mqadmin's long option name).
    pub long: &'static str,
    /// Value name, or None for a switch.
    pub value: Option<&'static str>,
    /// Required?
    pub required: bool,
    /// Help text.
    pub help: &'static str,
}

/// Shorthand constructors.
pub const fn req(short: char, long: &'static str, v: &'static str, help: &'static str) -> Opt {
    Opt { short, long, value: Some(v), required: true, help }
}

pub const fn opt(short: char, long: &'static str, v: &'static str, help: &'static str) -> Opt {
    Opt { short, long, value: Some(v), required: false, help }
}

pub const fn switch(short: char, long: &'static str, help: &'static str) -> Opt {
    Opt { short, long, value: None, required: false, help }
}

/// Why a command cannot run (exit 2) or did not succeed (exit 1).
pub enum Fail {
    Usage(String),
    Runtime(String),
}

pub type Res<T> = Result<T, Fail>;

pub fn usage<T>(msg: impl Into<String>) -> Res<T> {
    Err(Fail::Usage(msg.into()))
}

impl From<rmq::admin::Error> for Fail {
    fn from(e: rmq::admin::Error) -> Fail {
        match e.kind() {
            rmq::admin::ErrorKind::InvalidArgument => Fail::Usage(e.to_string()),
            _ => Fail::Runtime(e.to_string()),
        }
    }
}

/// Parsed options of one command.
pub struct Opts {
    pub command: String,
    values: BTreeMap<char, String>,
    pub namesrv: Option<String>,
    /// `--accessKey` / `--secretKey`: sign every request (ACL).
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub json: bool,
    pub help: bool,
}

impl Opts {
    /// Sign `admin`'s requests with `--accessKey`/`--secretKey`, when given.
    pub fn sign(&self, admin: &rmq::admin::Admin) {
        if let (Some(ak), Some(sk)) = (&self.access_key, &self.secret_key) {
            admin.set_credentials(ak, sk);
        }
    }

    /// The value of `-c`, if given.
    pub fn get(&self, c: char) -> Option<&str> {
        self.values.get(&c).map(String::as_str)
    }

    /// True when the switch `-c` was given.
    pub fn has(&self, c: char) -> bool {
        self.values.contains_key(&c)
    }

    /// A required value (checked during parsing, so present).
    pub fn need(&self, c: char) -> Res<String> {
        match self.get(c) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => usage(format!("{} needs -{c}", self.command)),
        }
    }

    pub fn bool_or(&self, c: char, default: bool) -> Res<bool> {
        match self.get(c).map(str::trim) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => usage(format!("-{c} expects true or false, not '{v}'")),
        }
    }

    pub fn num_or<T: std::str::FromStr>(&self, c: char, default: T) -> Res<T> {
        match self.get(c).map(str::trim) {
            None => Ok(default),
            Some(v) => v.parse().or_else(|_| usage(format!("-{c} expects a number, not '{v}'"))),
        }
    }

    pub fn num<T: std::str::FromStr>(&self, c: char) -> Res<Option<T>> {
        match self.get(c).map(str::trim) {
            None => Ok(None),
            Some(v) => {
                v.parse().map(Some).or_else(|_| usage(format!("-{c} expects a number, not '{v}'")))
            }
        }
    }
}

/// Parse `args` (after the command name) against `opts`.
pub fn parse(command: &str, args: &[String], opts: &[Opt]) -> Res<Opts> {
    let mut o = Opts {
        command: command.to_string(),
        values: BTreeMap::new(),
        namesrv: None,
        access_key: None,
        secret_key: None,
        json: false,
        help: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                o.help = true;
                continue;
            }
            "--json" => {
                o.json = true;
                continue;
            }
            _ => {}
        }
        let (spec, inline): (Option<&Opt>, Option<String>) = if let Some(long) =
            a.strip_prefix("--")
        {
            let (name, v) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if let Some(slot) = match name {
                "namesrvAddr" => Some(&mut o.namesrv),
                "accessKey" => Some(&mut o.access_key),
                "secretKey" => Some(&mut o.secret_key),
                _ => None,
            } {
                let v = match v {
                    Some(v) => v,
                    None => it.next().cloned().ok_or_else(|| needs_value(name))?,
                };
                *slot = Some(v);
                continue;
            }
            (opts.iter().find(|s| s.long == name), v)
        } else if let Some(short) = a.strip_prefix('-').filter(|s| s.chars().count() == 1) {
            let c = short.chars().next().unwrap_or(' ');
            if c == 'n' {
                o.namesrv = Some(it.next().cloned().ok_or_else(|| needs_value("n NAMESRV_ADDR"))?);
                continue;
            }
            (opts.iter().find(|s| s.short == c), None)
        } else {
            return usage(format!("unexpected argument '{a}' (see {command} --help)"));
        };
        let Some(spec) = spec else {
            return usage(format!("{command} has no option {a} (see {command} --help)"));
        };
        let value = match (spec.value, inline) {
            (None, None) => String::new(),
            (None, Some(_)) => return usage(format!("-{} takes no value", spec.short)),
            (Some(_), Some(v)) => v,
            (Some(m), None) => {
                it.next().cloned().ok_or_else(|| needs_value(&format!("{} {m}", spec.short)))?
            }
        };
        o.values.insert(spec.short, value);
    }
    if o.access_key.is_some() != o.secret_key.is_some() {
        return usage("--accessKey and --secretKey go together");
    }
    if !o.help {
        for s in opts.iter().filter(|s| s.required) {
            if o.get(s.short).is_none_or(|v| v.trim().is_empty()) {
                return usage(format!(
                    "{command} needs -{} {} (see {command} --help)",
                    s.short,
                    s.value.unwrap_or("")
                ));
            }
        }
    }
    Ok(o)
}

fn needs_value(what: &str) -> Fail {
    Fail::Usage(format!("-{what} needs a value"))
}

/// The help text of one command.
pub fn help(name: &str, summary: &str, opts: &[Opt]) -> String {
    let mut out = format!("usage: rmq-admin {name}");
    for s in opts {
        let v = s.value.map(|v| format!(" {v}")).unwrap_or_default();
        if s.required {
            out.push_str(&format!(" -{}{v}", s.short));
        } else {
            out.push_str(&format!(" [-{}{v}]", s.short));
        }
    }
    out.push_str(" [-n NAMESRV_ADDR] [--accessKey AK --secretKey SK] [--json]\n\n");
    out.push_str(summary);
    out.push_str("\n\nOptions:\n");
    for s in opts {
        let v = s.value.map(|v| format!(" {v}")).unwrap_or_default();
        let left = format!("  -{}, --{}{v}", s.short, s.long);
        out.push_str(&format!("{left:<36} {}\n", s.help));
    }
    out.push_str(&format!(
        "{:<36} {}\n",
        "  -n, --namesrvAddr ADDR", "name servers, ';'-separated (default: $NAMESRV_ADDR)"
    ));
    out.push_str(&format!(
        "{:<36} {}\n",
        "  --accessKey AK --secretKey SK", "sign requests for a broker with aclEnable=true"
    ));
    out.push_str(&format!("{:<36} {}\n", "  --json", "print the result as JSON"));
    out.push_str(&format!("{:<36} {}\n", "  -h, --help", "this text"));
    out
}
