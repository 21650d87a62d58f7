//! The client's address: the connection's peer, or — behind a proxy listed in
//! `FMD_TRUSTED_PROXIES` — the address the proxies say they forwarded for.
//!
//! Forwarding headers (`Forwarded: for=…`, RFC 7239, else `X-Forwarded-For`) are read only
//! when the peer itself is a trusted proxy, from the nearest hop outwards: the first address
//! that is not a trusted proxy is the client. A client cannot pass itself off as another by
//! sending the header directly, and a chain of trusted proxies is followed to its start.

use http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client address of a request whose connection came from `peer`.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if trusted.is_empty() || !is_trusted(&peer) {
        return Some(peer);
    }
    let hops = forwarded_for(headers);
    // Nearest hop last in the header: walk from the end.
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => continue,
            Some(ip) => return Some(*ip),
            // An obfuscated or unknown hop (`for=unknown`, `_hidden`): stop trusting there.
            None => return Some(peer),
        }
    }
    // Every hop was a trusted proxy: the first of them is as close to the client as we get.
    hops.iter().flatten().next().copied().or(Some(peer))
}

/// The addresses the proxies forwarded for, farthest first; `None` for a hop that is not an
/// address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// One node: `203.0.113.7`, `203.0.113.7:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(value: &str) -> Option<IpAddr> {
    let v = value.trim().trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = v.parse() {
        return Some(ip);
    }
    // An IPv4 address with a port.
    v.rsplit_once(':').and_then(|(ip, _port)| ip.parse().ok())
}

/// Parses `FMD_TRUSTED_PROXIES`: addresses or CIDR ranges separated by commas or spaces.
pub fn parse_trusted(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an address nor a CIDR range"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn headers_count_only_from_a_trusted_peer() {
        let trusted = parse_trusted("10.0.0.0/8, 127.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.1.2.3")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.7")
        );
        // Sent by a client directly: ignored.
        assert_eq!(
            client_address(ip("198.51.100.9"), &h, &trusted),
            ip("198.51.100.9")
        );
        // Nothing trusted: the peer, always.
        assert_eq!(client_address(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
        // A forged hop in front of the real client is not believed.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_forwarded_header_is_read_with_ports_and_ipv6() {
        let trusted = parse_trusted("::1 127.0.0.0/8").unwrap();
        let h = headers(&[(
            "forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https, for=127.0.0.5",
        )]);
        assert_eq!(client_address(ip("::1"), &h, &trusted), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=127.0.0.1")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted),
            ip("192.0.2.60")
        );
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted),
            ip("127.0.0.1")
        );
        assert!(parse_trusted("10.0.0.0/33").is_err());
        assert!(parse_trusted("proxy.internal").is_err());
    }
}
