//! What producers and consumers share: name-server resolution at start, session
//! credentials, and the version string of the Show*Version functions.

use rmq::client::Credentials;
use std::ffi::c_char;

/// The text Show*Version returns (Apache's returns its own SDK version string).
pub(crate) const VERSION: &str = concat!(
    "rmq-compat ",
    env!("CARGO_PKG_VERSION"),
    " (C API of rocketmq-client-cpp 1.2.x and 2.1.0)\0"
);

/// VERSION as a C string.
pub(crate) fn version_ptr() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// VERSION in a MAX_SDK_VERSION_LENGTH array, for Apache's exported `VERSION_FOR_*` symbols.
pub(crate) const fn version_array() -> [c_char; 256] {
    let mut a = [0 as c_char; 256];
    let b = VERSION.as_bytes();
    let mut i = 0;
    while i < b.len() && i < 255 {
        a[i] = b[i] as c_char;
        i += 1;
    }
    a
}

/// The credentials of Set*SessionCredentials: every request of the handle is then signed with
/// Apache's ACL algorithm, with `onsChannel` as the `OnsChannel` field as Apache's C++ client
/// sends it (an empty channel sends none).
pub(crate) fn credentials(access_key: &str, secret_key: &str, channel: &str) -> Credentials {
    let mut c = Credentials::new(access_key, secret_key);
    c.channel = (!channel.is_empty()).then(|| channel.to_string());
    c
}

/// The name servers to use at start: a domain's list when a domain is set (Apache's
/// TopAddressing), else the address given (or NAMESRV_ADDR).
pub(crate) fn resolve_namesrv(addr: &str, domain: &str) -> Result<String, String> {
    if !domain.is_empty() {
        match crate::nsdomain::fetch(domain) {
            Ok(list) => return Ok(list),
            Err(e) if !addr.is_empty() => {
                log::warn!("{e}; using the name server address {addr}");
            }
            Err(e) => return Err(e),
        }
    }
    if addr.trim().is_empty() {
        return Err("no name server address: call Set*NameServerAddress (\"host:9876;host2:9876\") or set NAMESRV_ADDR".into());
    }
    Ok(addr.to_string())
}

/// NAMESRV_ADDR, the default name-server address of a new handle.
pub(crate) fn env_namesrv() -> String {
    std::env::var("NAMESRV_ADDR").unwrap_or_default()
}
