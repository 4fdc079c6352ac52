//! Telling HTTP/1.x from h2c by a connection's first bytes, sans-IO: the
//! caller accumulates what it read and asks again while the answer is
//! [`Detected::NeedMore`], so a preface split over many reads is still seen.

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Longest method token accepted while looking for the first space.
const MAX_METHOD: usize = 32;

/// What the first bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// The full h2 client preface (prior knowledge).
    H2,
    /// An HTTP/1.x request line begins (a method token, then a space).
    H1,
    /// Not enough bytes yet: keep them all and read more.
    NeedMore,
    /// Neither protocol: close the connection.
    Unknown,
}

/// Looks at every byte received so far.
pub fn detect(buf: &[u8]) -> Detected {
    if buf.is_empty() {
        return Detected::NeedMore;
    }
    let n = buf.len().min(PREFACE.len());
    if buf[..n] == PREFACE[..n] {
        return if n == PREFACE.len() {
            Detected::H2
        } else {
            Detected::NeedMore
        };
    }
    // `PRI` is reserved for the preface (RFC 9113 §3.4): a near miss is
    // neither protocol.
    if buf.starts_with(b"PRI ") {
        return Detected::Unknown;
    }
    // Empty lines before a request line are HTTP/1.1's to bound and skip.
    if matches!(buf[0], b'\r' | b'\n') {
        return Detected::H1;
    }
    for (i, &b) in buf.iter().enumerate().take(MAX_METHOD + 1) {
        if b == b' ' {
            return if i == 0 {
                Detected::Unknown
            } else {
                Detected::H1
            };
        }
        if !is_tchar(b) || i == MAX_METHOD {
            return Detected::Unknown;
        }
    }
    Detected::NeedMore
}

/// Whether `b` may appear in a method token (RFC 9110 §5.6.2 `tchar`).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface_is_h2_only_when_complete() {
        for i in 1..PREFACE.len() {
            assert_eq!(detect(&PREFACE[..i]), Detected::NeedMore, "prefix {i}");
        }
        assert_eq!(detect(PREFACE), Detected::H2);
        let mut more = PREFACE.to_vec();
        more.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        assert_eq!(detect(&more), Detected::H2);
    }

    #[test]
    fn methods_are_h1() {
        assert_eq!(detect(b"GET / HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"MKCOL /x HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"PRIX / HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"\r\nGET / HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"DELE"), Detected::NeedMore);
    }

    #[test]
    fn garbage_is_unknown() {
        assert_eq!(detect(b"\x16\x03\x01\x02"), Detected::Unknown);
        assert_eq!(detect(b" GET"), Detected::Unknown);
        assert_eq!(detect(b"PRI * HTTP/2.0\r\n\r\nXX"), Detected::Unknown);
        assert_eq!(detect(b"PRI / HTTP/1.1\r\n"), Detected::Unknown);
        assert_eq!(detect(&[b'A'; 40]), Detected::Unknown);
    }
}
