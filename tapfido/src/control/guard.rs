//! Which requests the control API accepts: its threat model, as code.
//!
//! The API binds loopback only, so the network cannot reach it; what remains is the local
//! browser. Any web page can make it send requests to `127.0.0.1` (an `<img>`, a form, a
//! `fetch` in `no-cors` mode), and a page on a hostile domain that re-resolves to
//! `127.0.0.1` (DNS rebinding) can even read the answers. Local processes are trusted: they
//! can reach vpcd and the state files directly anyway. So a request is refused when:
//!
//! | header | refused when | status |
//! |--------|--------------|--------|
//! | `Host` | missing on HTTP/1.1 (RFC 9112 §3.2), repeated, or not a loopback name (`localhost`, `127.0.0.0/8`, `[::1]`, any port): DNS rebinding | 400 / 403 |
//! | `Origin` | present and not a loopback `http(s)` origin (`null` included): a cross-site page | 403 |
//! | `Sec-Fetch-Site` | `cross-site` (Fetch Metadata, sent by current browsers on every request) | 403 |
//! | `Referer` | present and not on a loopback host (older browsers without Fetch Metadata) | 403 |
//!
//! A non-browser client (python-fido2's test controller, `curl`, `tapfido tap`) sends a
//! loopback `Host` and none of the others, and is served. A browser page served from a
//! loopback origin (the control API's own, or another local tool's) is served too.

/// Why a request was refused; [`Refusal::status`] is its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 400: HTTP/1.1 without `Host`, or more than one `Host`.
    BadHost,
    /// 403: `Host` names something other than loopback (DNS rebinding).
    ForeignHost,
    /// 403: `Origin` is not a loopback origin.
    CrossOrigin,
    /// 403: `Sec-Fetch-Site: cross-site`.
    CrossSite,
    /// 403: `Referer` is not on a loopback host.
    ForeignReferer,
}

impl Refusal {
    /// HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            Self::BadHost => 400,
            Self::ForeignHost | Self::CrossOrigin | Self::CrossSite | Self::ForeignReferer => 403,
        }
    }

    /// What the JSON error body says.
    pub fn message(self) -> &'static str {
        match self {
            Self::BadHost => "exactly one Host header is required",
            Self::ForeignHost => "Host is not a loopback name (localhost, 127.0.0.1, [::1])",
            Self::CrossOrigin => "requests from other origins than loopback are refused",
            Self::CrossSite => "cross-site requests are refused",
            Self::ForeignReferer => "requests from pages on other hosts are refused",
        }
    }
}

/// Checks a complete request head (request line and headers) against the table above.
pub fn check(head: &[u8]) -> Result<(), Refusal> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let http_11 = lines.next().is_some_and(|line| !line.ends_with("HTTP/1.0"));
    let mut host = None;
    let mut hosts = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            host = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("origin") {
            if !is_loopback_origin(value) {
                return Err(Refusal::CrossOrigin);
            }
        } else if name.eq_ignore_ascii_case("sec-fetch-site") {
            if value.eq_ignore_ascii_case("cross-site") {
                return Err(Refusal::CrossSite);
            }
        } else if name.eq_ignore_ascii_case("referer") && !is_loopback_origin(origin_of(value)) {
            return Err(Refusal::ForeignReferer);
        }
    }
    match (hosts, host) {
        (0, _) if !http_11 => Ok(()),
        (1, Some(host)) if is_loopback_authority(&host) => Ok(()),
        (1, Some(_)) => Err(Refusal::ForeignHost),
        _ => Err(Refusal::BadHost),
    }
}

/// `scheme://authority` of a URL (what an `Origin` holds), the rest dropped.
fn origin_of(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return url;
    };
    let rest = &url[scheme_end + 3..];
    let end = rest
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + 3 + i);
    &url[..end]
}

/// Whether `origin` is `http://` or `https://` followed by a loopback authority.
fn is_loopback_origin(origin: &str) -> bool {
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(is_loopback_authority)
}

/// Whether `authority` (`host[:port]`, no user info) names loopback.
pub fn is_loopback_authority(authority: &str) -> bool {
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(rest) = authority.strip_prefix('[') {
        // [IPv6]:port
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if !(after.is_empty() || valid_port(after.strip_prefix(':'))) {
            return false;
        }
        return ip
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if valid_port(Some(port)) => host,
            Some(_) => return false,
            None => authority,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn valid_port(port: Option<&str>) -> bool {
    port.is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &str) -> Vec<u8> {
        format!("GET /usb0/touch/on HTTP/1.1\r\n{headers}\r\n").into_bytes()
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:35980",
            "127.1.2.3:1",
            "localhost",
            "LOCALHOST:80",
            "localhost.:35980",
            "[::1]",
            "[::1]:35980",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:35980",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1",
            "0.0.0.0:35980",
            "[::2]:1",
            "[::1",
            "[::1]x",
            "127.0.0.1:",
            "127.0.0.1:x",
            "user@127.0.0.1",
            "[::ffff:7f00:1]",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn non_browser_clients_pass() {
        assert_eq!(check(&head("Host: 127.0.0.1:35980\r\n")), Ok(()));
        assert_eq!(check(&head("host: localhost\r\nAccept: */*\r\n")), Ok(()));
        assert_eq!(check(b"GET / HTTP/1.0\r\n\r\n"), Ok(()));
    }

    #[test]
    fn same_origin_browser_requests_pass() {
        let h = "Host: 127.0.0.1:35980\r\nOrigin: http://127.0.0.1:35980\r\n\
                 Sec-Fetch-Site: same-origin\r\nReferer: http://127.0.0.1:35980/\r\n";
        assert_eq!(check(&head(h)), Ok(()));
        let h = "Host: localhost:35980\r\nSec-Fetch-Site: none\r\n";
        assert_eq!(check(&head(h)), Ok(()));
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", Refusal::BadHost),
            ("Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n", Refusal::BadHost),
            ("Host: evil.example:35980\r\n", Refusal::ForeignHost),
            (
                "Host: 127.0.0.1\r\nOrigin: https://evil.example\r\n",
                Refusal::CrossOrigin,
            ),
            ("Host: 127.0.0.1\r\nOrigin: null\r\n", Refusal::CrossOrigin),
            (
                "Host: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n",
                Refusal::CrossSite,
            ),
            (
                "Host: 127.0.0.1\r\nReferer: https://evil.example/page?x=http://127.0.0.1\r\n",
                Refusal::ForeignReferer,
            ),
        ];
        for (headers, refusal) in cases {
            assert_eq!(check(&head(headers)), Err(refusal), "{headers:?}");
        }
        assert_eq!(Refusal::ForeignHost.status(), 403);
        assert_eq!(Refusal::BadHost.status(), 400);
    }
}
