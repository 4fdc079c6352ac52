//! Telling HTTP/1.x from h2c by a connection's first bytes, sans-IO: the
//! caller accumulates what it read and asks again while the answer is
//! [`Detected::NeedMore`], so a preface split over many reads is still seen.

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// The full h2 client preface (prior knowledge).
    H2,
    /// Anything else: HTTP/1.x, whose parser answers malformed input with
    /// its status (400, 505) and closes, so bad bytes get a clear answer.
    H1,
    /// A prefix of the preface: keep every byte and read more.
    NeedMore,
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
    Detected::H1
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
    fn everything_else_is_h1_for_its_parser_to_judge() {
        assert_eq!(detect(b"GET / HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"MKCOL /x HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"PRIX / HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"\r\nGET / HTTP/1.1\r\n"), Detected::H1);
        assert_eq!(detect(b"D"), Detected::H1);
        assert_eq!(detect(b"\x16\x03\x01\x02"), Detected::H1);
        assert_eq!(detect(b"PRI * HTTP/2.0\r\n\r\nXX"), Detected::H1);
    }
}
