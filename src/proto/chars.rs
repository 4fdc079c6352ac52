//! Byte classes of the HTTP and URI grammars as lookup tables: one load per
//! byte instead of a comparison chain (these checks run on every request).

/// A table that holds `true` for ASCII letters and digits and for `extra`.
const fn class(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// `tchar` (RFC 9110 §5.6.2): the bytes of a token, such as a field name.
static TCHAR: [bool; 256] = class(b"!#$%&'*+-.^_`|~");

/// `unreserved` and `sub-delims` (RFC 3986 §2.2, §2.3): the bytes of a
/// reg-name other than `%` escapes.
static REG_NAME: [bool; 256] = class(b"-._~!$&'()*+,;=");

/// Whether `b` may appear in a token.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether `bytes` is a token (non-empty, every byte a `tchar`).
#[inline]
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    // PERF: a fold without an early exit has no branch per byte (names are
    // short and almost always valid).
    !bytes.is_empty() & bytes.iter().fold(true, |ok, &b| ok & is_tchar(b))
}

/// Whether `b` may appear unescaped in a reg-name.
#[inline]
pub(crate) fn is_reg_name_byte(b: u8) -> bool {
    REG_NAME[usize::from(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_the_grammar() {
        for b in 0..=255u8 {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), tchar, "tchar {b:#x}");
            let reg = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b);
            assert_eq!(is_reg_name_byte(b), reg, "reg-name {b:#x}");
        }
        assert!(is_token(b"x-dispatch") && !is_token(b"") && !is_token(b"content-length\r"));
    }
}
