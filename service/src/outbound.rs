//! Outgoing requests to URLs that members supply (webhook endpoints today, and every such
//! request after): the address check and an HTTP client that connects only to addresses it
//! checked.
//!
//! - [`is_internal`] checks an address against the IANA IPv4 and IPv6 Special-Purpose
//!   Address Registries (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
//!   <https://www.iana.org/assignments/iana-ipv6-special-registry>) plus multicast, and
//!   judges the IPv4 address embedded in IPv4-mapped (RFC 4291), IPv4-translated (RFC 2765),
//!   NAT64 (RFC 6052), 6to4 (RFC 3056) and Teredo (RFC 4380) addresses by the IPv4 rules;
//!   IPv4-compatible addresses (deprecated, RFC 4291 §2.5.5.1) and anything outside global
//!   unicast (2000::/3) are refused outright.
//! - [`client`] builds a `reqwest` client whose DNS resolver drops internal addresses
//!   ([`GuardedResolver`]), with no proxy and no redirects: the address connected to is the
//!   one checked, per request, so DNS rebinding between a check and the connection cannot
//!   swap it. [`check_target`] refuses literal internal hosts (which skip DNS) and names
//!   that resolve only internally, with a clear error, before a URL is stored or used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::ServiceError;

fn v4_in(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn v6_in(ip: Ipv6Addr, net: [u16; 8], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::from(net)) & mask)
}

/// IPv4 blocks refused: the IANA IPv4 Special-Purpose Address Registry, multicast and
/// reserved (224.0.0.0/3, which includes the limited broadcast address).
const V4_BLOCKED: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),        // "this network" (RFC 791)
    ([10, 0, 0, 0], 8),       // private (RFC 1918)
    ([100, 64, 0, 0], 10),    // shared address space, CGNAT (RFC 6598)
    ([127, 0, 0, 0], 8),      // loopback (RFC 1122)
    ([169, 254, 0, 0], 16),   // link-local, cloud metadata (RFC 3927)
    ([172, 16, 0, 0], 12),    // private (RFC 1918)
    ([192, 0, 0, 0], 24),     // IETF protocol assignments (RFC 6890)
    ([192, 0, 2, 0], 24),     // documentation TEST-NET-1 (RFC 5737)
    ([192, 31, 196, 0], 24),  // AS112-v4 (RFC 7535)
    ([192, 52, 193, 0], 24),  // AMT (RFC 7450)
    ([192, 88, 99, 0], 24),   // deprecated 6to4 relay anycast (RFC 7526)
    ([192, 168, 0, 0], 16),   // private (RFC 1918)
    ([192, 175, 48, 0], 24),  // direct delegation AS112 service (RFC 7534)
    ([198, 18, 0, 0], 15),    // benchmarking (RFC 2544)
    ([198, 51, 100, 0], 24),  // documentation TEST-NET-2 (RFC 5737)
    ([203, 0, 113, 0], 24),   // documentation TEST-NET-3 (RFC 5737)
    ([224, 0, 0, 0], 4),      // multicast (RFC 5771)
    ([240, 0, 0, 0], 4),      // reserved, limited broadcast (RFC 1112, RFC 919)
];

/// IPv6 blocks inside global unicast (2000::/3) that are refused (the IANA IPv6
/// Special-Purpose Address Registry; Teredo, inside 2001::/23, is judged by its IPv4 parts).
const V6_BLOCKED: &[([u16; 8], u32)] = &[
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),              // IETF protocol assignments (RFC 2928)
    ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32),         // documentation (RFC 3849)
    ([0x2620, 0x004f, 0x8000, 0, 0, 0, 0, 0], 48),    // direct delegation AS112 (RFC 7534)
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),              // documentation (RFC 9637)
];

/// The IPv4 address(es) an IPv6 address stands for, with the form's name: IPv4-mapped
/// `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`, Teredo `2001:0:SSSS:SSSS:f:p:CCCC:CCCC`
/// (server, and the client as the bitwise NOT of the last 32 bits). Empty for other forms.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<(&'static str, Ipv4Addr)> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..5] == [0; 5] && s[5] == 0xffff {
        vec![("ipv4-mapped", v4(s[6], s[7]))]
    } else if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        vec![("ipv4-translated", v4(s[6], s[7]))]
    } else if s[..6] == [0; 6] {
        vec![("ipv4-compatible", v4(s[6], s[7]))]
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        vec![("nat64", v4(s[6], s[7]))]
    } else if s[0] == 0x2002 {
        vec![("6to4", v4(s[1], s[2]))]
    } else if s[0] == 0x2001 && s[1] == 0 {
        vec![("teredo server", v4(s[2], s[3])), ("teredo client", v4(!s[6], !s[7]))]
    } else {
        vec![]
    }
}

/// True for addresses a request to a member-supplied URL must not reach (see the module
/// notes): loopback, private, link-local, shared, documentation, benchmarking, protocol
/// assignments, multicast, reserved, unique-local, site-local, discard, and every IPv6 form
/// that embeds such an IPv4 address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => V4_BLOCKED.iter().any(|(net, len)| v4_in(v4, *net, *len)),
        IpAddr::V6(v6) => {
            let embedded = embedded_ipv4(v6);
            match embedded.first().map(|e| e.0) {
                // Deprecated: never a real endpoint (and "::" and "::1" are in this form).
                Some("ipv4-compatible") => true,
                Some(_) => embedded.iter().any(|(_, v4)| is_internal(IpAddr::V4(*v4))),
                None => !v6_in(v6, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) || V6_BLOCKED.iter().any(|(net, len)| v6_in(v6, *net, *len)),
            }
        }
    }
}

/// A DNS resolver (the system's, via `getaddrinfo`) that returns only addresses
/// [`is_internal`] allows; a name with none left fails to resolve. `allow_internal` (the
/// operator's development setting) turns the filter off.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    pub allow_internal: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_internal;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| allow || !is_internal(a.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// A client for member-supplied URLs: [`GuardedResolver`], no proxy (a proxy would resolve
/// the name itself), no redirects (a redirect could point anywhere), `timeout` for the whole
/// request. Send only URLs that passed [`check_target`] (literal addresses skip DNS).
///
/// Errors: [`ServiceError::Internal`] when the TLS backend cannot start.
pub fn client(timeout: Duration, allow_internal: bool, user_agent: &str) -> Result<reqwest::Client, ServiceError> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { allow_internal }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .user_agent(user_agent)
        .build()
        .map_err(ServiceError::internal)
}

/// Refuses a URL whose host is an internal address, or a name that resolves to no public
/// address (checked now for a clear error; [`client`] checks again at every connection).
///
/// Errors: [`ServiceError::Invalid`] naming the problem.
pub async fn check_target(url: &str, allow_internal: bool) -> Result<(), ServiceError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| ServiceError::Invalid("The URL is not a valid absolute URL.".into()))?;
    if allow_internal {
        return Ok(());
    }
    let public = || ServiceError::Invalid("The URL must point at a public address.".into());
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) if is_internal(IpAddr::V4(ip)) => Err(public()),
        Some(url::Host::Ipv6(ip)) if is_internal(IpAddr::V6(ip)) => Err(public()),
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => Ok(()),
        Some(url::Host::Domain(name)) => {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name, 0))
                .await
                .map_err(|_| ServiceError::Invalid("The URL's host could not be resolved.".into()))?
                .collect();
            if found.is_empty() || found.iter().all(|a| is_internal(a.ip())) {
                return Err(public());
            }
            Ok(())
        }
        None => Err(ServiceError::Invalid("The URL needs a host.".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per registry entry and embedded form: the address and whether it is refused.
    const TABLE: &[(&str, bool)] = &[
        // IPv4 special-purpose registry.
        ("0.1.2.3", true),
        ("10.1.2.3", true),
        ("100.64.0.1", true),
        ("100.127.255.254", true),
        ("127.0.0.1", true),
        ("127.255.0.9", true),
        ("169.254.169.254", true),
        ("172.16.0.1", true),
        ("172.31.255.255", true),
        ("192.0.0.9", true),
        ("192.0.2.1", true),
        ("192.31.196.1", true),
        ("192.52.193.1", true),
        ("192.88.99.1", true),
        ("192.168.1.1", true),
        ("192.175.48.1", true),
        ("198.18.0.1", true),
        ("198.19.255.1", true),
        ("198.51.100.7", true),
        ("203.0.113.7", true),
        ("224.0.0.1", true),
        ("239.255.255.250", true),
        ("240.0.0.1", true),
        ("255.255.255.255", true),
        // Public IPv4, including neighbours of the blocks.
        ("1.1.1.1", false),
        ("8.8.8.8", false),
        ("93.184.216.34", false),
        ("100.63.255.255", false),
        ("100.128.0.1", false),
        ("172.15.255.255", false),
        ("172.32.0.1", false),
        ("192.0.3.1", false),
        ("198.20.0.1", false),
        ("223.255.255.1", false),
        // IPv6 special-purpose registry and the rest outside global unicast.
        ("::", true),
        ("::1", true),
        ("100::1", true),
        ("64:ff9b:1::1", true),
        ("2001::1", true),
        ("2001:2::1", true),
        ("2001:10::1", true),
        ("2001:db8::1", true),
        ("2620:4f:8000::1", true),
        ("3fff::1", true),
        ("5f00::1", true),
        ("fc00::1", true),
        ("fd12:3456::1", true),
        ("fe80::1", true),
        ("fec0::1", true),
        ("ff02::1", true),
        // Embedded IPv4, internal: mapped, translated, compatible, NAT64, 6to4, Teredo.
        ("::ffff:127.0.0.1", true),
        ("::ffff:10.0.0.1", true),
        ("::ffff:0:7f00:1", true),
        ("::127.0.0.1", true),
        ("::8.8.8.8", true),
        ("64:ff9b::7f00:1", true),
        ("64:ff9b::a9fe:a9fe", true),
        ("2002:7f00:1::", true),
        ("2002:c0a8:101::1", true),
        ("2001:0:7f00:1::", true),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", true), // client 10.0.0.1
        // Embedded IPv4, public.
        ("::ffff:8.8.8.8", false),
        ("::ffff:0:808:808", false),
        ("64:ff9b::808:808", false),
        ("2002:808:808::1", false),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", false), // server 65.54.227.120, client 8.8.8.8
        // Public IPv6.
        ("2606:4700:4700::1111", false),
        ("2a00:1450:4001::200e", false),
    ];

    #[test]
    fn the_special_purpose_registries_are_refused() {
        let mut wrong = Vec::new();
        for (ip, internal) in TABLE {
            let parsed: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
            if is_internal(parsed) != *internal {
                wrong.push(format!("{ip}: expected internal={internal}"));
            }
        }
        println!("address table: {} addresses, {} refused, {} wrong", TABLE.len(), TABLE.iter().filter(|r| r.1).count(), wrong.len());
        assert!(wrong.is_empty(), "{wrong:?}");
    }

    #[test]
    fn embedded_addresses_are_extracted() {
        let e = |s: &str| embedded_ipv4(s.parse().unwrap());
        assert_eq!(e("::ffff:0:7f00:1"), [("ipv4-translated", Ipv4Addr::new(127, 0, 0, 1))]);
        assert_eq!(e("2002:7f00:1::"), [("6to4", Ipv4Addr::new(127, 0, 0, 1))]);
        assert_eq!(e("2001:0:4136:e378:8000:63bf:3fff:fdd2")[1], ("teredo client", Ipv4Addr::new(192, 0, 2, 45)), "RFC 4380's example");
        assert!(e("2606:4700:4700::1111").is_empty());
    }

    #[tokio::test]
    async fn literal_and_resolved_internal_targets_are_refused() {
        for url in ["https://[::ffff:0:7f00:1]/hook", "https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://[fec0::1]/", "https://0x7f.1/", "https://2130706433/", "https://localhost/"] {
            assert!(check_target(url, false).await.is_err(), "{url}");
        }
        assert!(check_target("https://[2606:4700:4700::1111]/", false).await.is_ok());
        assert!(check_target("http://127.0.0.1:9/", true).await.is_ok(), "the development setting allows local endpoints");
    }

    #[tokio::test]
    async fn the_client_will_not_connect_to_a_name_that_resolves_internally() {
        // "localhost" resolves to loopback only: the guarded resolver leaves nothing to dial.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = client(Duration::from_secs(5), false, "test").unwrap();
        let err = client.get(format!("http://localhost:{port}/")).send().await.expect_err("refused");
        assert!(format!("{err:?}").contains("no public address"), "{err:?}");
        let open = super::client(Duration::from_secs(5), true, "test").unwrap();
        let served = tokio::spawn(async move { listener.accept().await.map(|_| ()) });
        let _ = open.get(format!("http://localhost:{port}/")).timeout(Duration::from_millis(300)).send().await;
        assert!(served.await.unwrap().is_ok(), "allowed when the operator allows internal endpoints");
    }
}
