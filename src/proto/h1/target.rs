//! The request-target of an HTTP/1.x request line (RFC 9112 §3.2): its
//! origin and absolute forms, and the authority syntax that an
//! absolute-form target and the `Host` field share (RFC 3986 §3.2).

/// A request-target split for routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target<'b> {
    /// The path (`/` when an absolute-form target has none).
    pub(crate) path: &'b str,
    /// After the first `?`; empty when there is none.
    pub(crate) query: &'b str,
    /// The authority of an absolute-form target, which replaces `Host`
    /// (RFC 9112 §3.2.2).
    pub(crate) authority: Option<&'b str>,
}

/// Splits the `target` of a `method` request. The forms a server accepts
/// (RFC 9112 §3.2): origin-form (`/path?query`), absolute-form with an
/// `http` or `https` scheme (case-insensitive; its authority must be a valid
/// non-empty `host[:port]`), and asterisk-form for `OPTIONS` only. Anything
/// else — a path without its leading `/`, `*` with another method, the
/// authority-form of `CONNECT` (no tunnels here) — is `None` (400).
pub(crate) fn split<'t>(method: &str, target: &'t str) -> Option<Target<'t>> {
    let Some(rest) = strip_http_scheme(target) else {
        let asterisk = target == "*" && method == "OPTIONS";
        if !(target.starts_with('/') || asterisk) {
            return None;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        return Some(Target {
            path,
            query,
            authority: None,
        });
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    if authority.is_empty() || !is_valid_authority(authority.as_bytes()) {
        return None;
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some(Target {
        path: if path.is_empty() { "/" } else { path },
        query,
        authority: Some(authority),
    })
}

/// `target` after `http://` or `https://` (scheme in any case).
fn strip_http_scheme(target: &str) -> Option<&str> {
    let b = target.as_bytes();
    if b.first() == Some(&b'/') {
        return None;
    }
    for scheme in ["http://", "https://"] {
        if b.len() >= scheme.len() && b[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes()) {
            return Some(&target[scheme.len()..]);
        }
    }
    None
}

/// Whether `value` is `host [ ":" port ]` (RFC 3986 §3.2.2, §3.2.3): an
/// IP-literal in brackets, or a reg-name / IPv4 address of unreserved,
/// sub-delims and percent-encoded octets; the port all digits. Empty is
/// valid (a `Host` field for a target without authority, RFC 9110 §7.2);
/// userinfo (`@`), spaces, `/` and the like are not.
pub(crate) fn is_valid_authority(value: &[u8]) -> bool {
    // PERF: the common value (a name or IPv4 address, maybe a port, no
    // escape) in one branch-free pass.
    let (plain, colons) = crate::proto::chars::plain_authority(value);
    if plain && colons == 0 {
        return true;
    }
    if plain && colons == 1 {
        let colon = value.iter().position(|&b| b == b':').unwrap_or(0);
        return value[colon + 1..].iter().all(u8::is_ascii_digit);
    }
    let (host, port) = if value.first() == Some(&b'[') {
        let Some(close) = value.iter().position(|&b| b == b']') else {
            return false;
        };
        let literal = &value[1..close];
        if literal.is_empty() || !literal.iter().all(|&b| is_ip_literal_byte(b)) {
            return false;
        }
        match &value[close + 1..] {
            [] => return true,
            [b':', port @ ..] => (&[][..], port),
            _ => return false,
        }
    } else {
        match value.iter().rposition(|&b| b == b':') {
            Some(colon) => (&value[..colon], &value[colon + 1..]),
            None => (value, &[][..]),
        }
    };
    is_reg_name(host) && port.iter().all(u8::is_ascii_digit)
}

/// A reg-name (or IPv4 address): unreserved, sub-delims, `%XX`.
fn is_reg_name(host: &[u8]) -> bool {
    let mut i = 0;
    while i < host.len() {
        match host[i] {
            b'%' => {
                let hex = host.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
                continue;
            }
            b if crate::proto::chars::is_reg_name_byte(b) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// What may appear between the brackets of an IP-literal: IPv6 (hex digits,
/// `:`, `.` for an embedded IPv4) and IPvFuture (`v`, unreserved, sub-delims).
fn is_ip_literal_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b":.-_~!$&'()*+,;=".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form_splits_at_the_first_question_mark() {
        let t = split("GET", "/a/b?x=1?y").unwrap();
        assert_eq!((t.path, t.query, t.authority), ("/a/b", "x=1?y", None));
    }

    #[test]
    fn asterisk_form_is_for_options_only_and_other_forms_are_refused() {
        assert_eq!(split("OPTIONS", "*").unwrap().path, "*");
        for (method, bad) in [
            ("GET", "*"),
            ("GET", "hello"),
            ("GET", "hello/world"),
            ("CONNECT", "example.com:443"),
            ("GET", "ftp://x/"),
            ("OPTIONS", "*x"),
        ] {
            assert_eq!(split(method, bad), None, "{method} {bad}");
        }
    }

    #[test]
    fn absolute_form_gives_path_query_and_authority() {
        let t = split("GET", "http://example.com:8080/hello?a=b").unwrap();
        assert_eq!(
            (t.path, t.query, t.authority),
            ("/hello", "a=b", Some("example.com:8080"))
        );
        let t = split("GET", "HTTPS://x").unwrap();
        assert_eq!((t.path, t.query, t.authority), ("/", "", Some("x")));
        let t = split("GET", "http://x?q").unwrap();
        assert_eq!((t.path, t.query, t.authority), ("/", "q", Some("x")));
        let t = split("GET", "http://[::1]:80/p").unwrap();
        assert_eq!((t.path, t.authority), ("/p", Some("[::1]:80")));
    }

    #[test]
    fn absolute_form_with_a_bad_or_empty_authority_is_refused() {
        for bad in [
            "http:///hello",
            "http://u@x/",
            "http://a b/",
            "http://x:8o/",
            "http://[::1/",
        ] {
            assert_eq!(split("GET", bad), None, "{bad}");
        }
    }

    #[test]
    fn authority_syntax() {
        for ok in [
            "",
            "x",
            "example.com",
            "example.com:80",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:1",
            "a%20b",
            "x:",
        ] {
            assert!(is_valid_authority(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "a b/c@d", "a b", "a/b", "u@h", "x:port", "[::1", "[]", "[::1]x", "%zz", "h\t", "a\"b",
        ] {
            assert!(!is_valid_authority(bad.as_bytes()), "{bad}");
        }
    }
}
