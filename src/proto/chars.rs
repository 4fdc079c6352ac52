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

/// Classes of the bytes of a plain `host[:port]` authority: 1 for a
/// reg-name byte ([`REG_NAME`]), 3 for `:`, 0 for anything else.
static PLAIN_AUTHORITY: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = REG_NAME[b] as u8;
        b += 1;
    }
    t[b':' as usize] = 3;
    t
};

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

/// How a `host[:port]` authority reads without escapes or an IP-literal:
/// whether every byte is a reg-name byte or `:`, and how many `:` there are.
#[inline]
pub(crate) fn plain_authority(value: &[u8]) -> (bool, u32) {
    // PERF: one table load per byte, no branch: `all` keeps bit 0 only if
    // every byte had it, `sum` counts a `:` as 3 and any other byte as 1.
    let (mut all, mut sum) = (1u8, 0u32);
    for &b in value {
        let class = PLAIN_AUTHORITY[usize::from(b)];
        all &= class;
        sum += u32::from(class);
    }
    // Meaningful only when every byte counted 1 or 3.
    let colons = sum.wrapping_sub(value.len() as u32) / 2;
    (all == 1, colons)
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
