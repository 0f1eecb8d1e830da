//! Name-server discovery through a "domain" (SetProducerNameServerDomain and friends): Apache's
//! TopAddressing fetches `http://host[:port]/path` and takes the first line of the answer,
//! `"host:9876;host2:9876"`, as the name-server list. Done once, at start; plain HTTP/1.0 over a
//! std TcpStream with timeouts and a 64 KiB cap on the answer.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);
const MAX_ANSWER: u64 = 64 * 1024;

/// `(host, port, path)` of an `http://` URL (a bare `host[:port][/path]` is taken as http too;
/// Apache's default path is `/rocketmq/nsaddr`).
fn parse(url: &str) -> Result<(String, u16, String), String> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "name server domain '{url}': scheme {scheme} is not supported (http only)"
            ))
        }
        None => url,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/rocketmq/nsaddr"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>().map_err(|_| format!("name server domain '{url}': bad port '{p}'"))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("name server domain '{url}' has no host"));
    }
    Ok((host.to_string(), port, path.to_string()))
}

/// The name-server list served at `url`.
pub(crate) fn fetch(url: &str) -> Result<String, String> {
    let (host, port, path) = parse(url)?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("name server domain {host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("name server domain {host}:{port} has no address"))?;
    let fail = |e: std::io::Error| format!("name server domain {url}: {e}");
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(fail)?;
    s.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
    s.set_write_timeout(Some(TIMEOUT)).map_err(fail)?;
    let req = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(fail)?;
    let mut answer = Vec::new();
    s.take(MAX_ANSWER).read_to_end(&mut answer).map_err(fail)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("name server domain {url}: not an HTTP answer"))?;
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("name server domain {url} answered '{status}'"));
    }
    let list = body.lines().next().unwrap_or("").trim().to_string();
    if list.is_empty() {
        return Err(format!("name server domain {url} answered an empty list"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_parse_like_apaches_top_addressing() {
        assert_eq!(
            parse("http://ns.example:8080/rocketmq/nsaddr").unwrap(),
            ("ns.example".into(), 8080, "/rocketmq/nsaddr".into())
        );
        assert_eq!(
            parse("ns.example").unwrap(),
            ("ns.example".into(), 80, "/rocketmq/nsaddr".into())
        );
        assert!(parse("https://x/y").is_err());
        assert!(parse("http://:80/x").is_err());
    }

    #[test]
    fn the_list_is_the_first_line_of_a_200_answer() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.0 200 OK\r\n\r\n127.0.0.1:9876;127.0.0.1:9877\nignored\n",
                "HTTP/1.0 404 Not Found\r\n\r\n",
            ] {
                let (mut c, _) = l.accept().unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 512];
                while !req.ends_with(b"\r\n\r\n") {
                    let n = c.read(&mut buf).unwrap();
                    assert!(n > 0, "request cut short");
                    req.extend_from_slice(&buf[..n]);
                }
                assert!(String::from_utf8_lossy(&req).starts_with("GET /ns HTTP/1.0"));
                c.write_all(answer.as_bytes()).unwrap();
            }
        });
        let url = format!("http://127.0.0.1:{port}/ns");
        assert_eq!(fetch(&url).unwrap(), "127.0.0.1:9876;127.0.0.1:9877");
        assert!(fetch(&url).unwrap_err().contains("404"));
        t.join().unwrap();
    }
}
