//! Strict JSON scanning (RFC 8259) for the OCPP-J frame parser.
//!
//! Three operations on a byte slice: skip whitespace, read one string token (unescaped), and
//! check that one value is well-formed and find where it ends, without building it. The
//! validator is iterative, so hostile nesting can't overflow the stack; anything nested deeper
//! than [`MAX_DEPTH`] containers is rejected as invalid.
//!
//! Knows nothing about OCPP, frames or Python. Every position is a byte offset into the input.
//! The grammar is exactly the one `python/trio_csms/rpc/_frames_py.py` implements with regular
//! expressions; the two must accept and reject the same inputs.

use std::borrow::Cow;

/// The deepest nesting of objects and arrays a value may have (the value itself counts as 1).
/// OCPP 2.0.1 payloads nest fewer than 10 levels; the limit bounds the work and the memory a
/// peer can make us spend, and fits the container stack in one `u64` bitmask.
pub const MAX_DEPTH: usize = 64;

/// The input is not well-formed JSON at this point. Callers only need to know *that* it is
/// invalid: the frame parser reports one fixed description per element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// The first position at or after `pos` that is not JSON whitespace (space, tab, LF, CR).
#[inline]
#[must_use]
pub fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(pos) {
        pos += 1;
    }
    pos
}

#[inline]
fn hex_digit(c: u8) -> Option<u16> {
    match c {
        b'0'..=b'9' => Some(u16::from(c - b'0')),
        b'a'..=b'f' => Some(u16::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(c - b'A' + 10)),
        _ => None,
    }
}

/// The code unit spelled by the four hex digits at `pos`.
#[inline]
fn hex4(b: &[u8], pos: usize) -> Option<u16> {
    let digits = b.get(pos..pos + 4)?;
    digits
        .iter()
        .try_fold(0u16, |acc, &c| Some((acc << 4) | hex_digit(c)?))
}

const HIGH_SURROGATES: std::ops::RangeInclusive<u16> = 0xD800..=0xDBFF;
const LOW_SURROGATES: std::ops::RangeInclusive<u16> = 0xDC00..=0xDFFF;

/// Checks the escape whose backslash is at `pos - 1`; returns the position after it.
///
/// A `\u` high surrogate must be followed at once by a `\u` low surrogate; a lone surrogate
/// of either kind is invalid, because it can't become a Unicode scalar value.
#[inline]
fn scan_escape(b: &[u8], pos: usize) -> Result<usize, Invalid> {
    match b.get(pos) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(pos + 1),
        Some(b'u') => {
            let unit = hex4(b, pos + 1).ok_or(Invalid)?;
            if HIGH_SURROGATES.contains(&unit) {
                if b.get(pos + 5) == Some(&b'\\') && b.get(pos + 6) == Some(&b'u') {
                    let low = hex4(b, pos + 7).ok_or(Invalid)?;
                    if LOW_SURROGATES.contains(&low) {
                        return Ok(pos + 11);
                    }
                }
                Err(Invalid)
            } else if LOW_SURROGATES.contains(&unit) {
                Err(Invalid)
            } else {
                Ok(pos + 5)
            }
        }
        _ => Err(Invalid),
    }
}

/// Validates the string token whose opening quote is at `pos`.
///
/// Returns the position after the closing quote and whether the token contains escapes.
/// Invalid: a bad escape, a raw byte below 0x20, or no closing quote before the end.
#[inline]
pub fn scan_string(b: &[u8], pos: usize) -> Result<(usize, bool), Invalid> {
    debug_assert_eq!(b.get(pos), Some(&b'"'));
    let mut i = pos + 1;
    let mut escaped = false;
    loop {
        match *b.get(i).ok_or(Invalid)? {
            b'"' => return Ok((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i = scan_escape(b, i + 1)?;
            }
            0x00..=0x1f => return Err(Invalid),
            _ => i += 1,
        }
    }
}

/// Reads the string token that starts at `pos`: its unescaped value and the position after it.
///
/// `None` when the byte at `pos` is not `"` or the token is invalid (see [`scan_string`]).
/// `text` must be the whole input, already known to be UTF-8, so that positions are byte
/// offsets into it. A token without escapes is borrowed, not copied.
#[must_use]
pub fn read_string(text: &str, pos: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    if b.get(pos) != Some(&b'"') {
        return None;
    }
    let (end, escaped) = scan_string(b, pos).ok()?;
    let raw = &text[pos + 1..end - 1];
    let value = if escaped {
        Cow::Owned(unescape(raw))
    } else {
        Cow::Borrowed(raw)
    };
    Some((value, end))
}

/// Decodes the escapes of a string token's contents that [`scan_string`] has accepted.
fn unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut run_start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&raw[run_start..i]);
        let (ch, len) = match b[i + 1] {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            _ => decode_u_escape(b, i),
        };
        out.push(ch);
        i += len;
        run_start = i;
    }
    out.push_str(&raw[run_start..]);
    out
}

/// The character spelled by the `\uXXXX` (or surrogate pair) escape at `i`, and its length.
fn decode_u_escape(b: &[u8], i: usize) -> (char, usize) {
    // scan_escape accepted this escape, so the digits and any low surrogate are present.
    let unit = hex4(b, i + 2).unwrap_or(0xFFFD);
    if HIGH_SURROGATES.contains(&unit) {
        let low = hex4(b, i + 8).unwrap_or(0xDC00);
        let scalar = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
        (char::from_u32(scalar).unwrap_or('\u{FFFD}'), 12)
    } else {
        (char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'), 6)
    }
}

#[inline]
fn skip_digits(b: &[u8], mut pos: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(pos) {
        pos += 1;
    }
    pos
}

/// Validates the number token at `pos`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
/// Returns the position after it. What follows (`01`, `1.2.3`) is the caller's concern.
fn scan_number(b: &[u8], mut pos: usize) -> Result<usize, Invalid> {
    if b.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match b.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = skip_digits(b, pos + 1),
        _ => return Err(Invalid),
    }
    if b.get(pos) == Some(&b'.') {
        let end = skip_digits(b, pos + 1);
        if end == pos + 1 {
            return Err(Invalid);
        }
        pos = end;
    }
    if let Some(b'e' | b'E') = b.get(pos) {
        pos += 1;
        if let Some(b'+' | b'-') = b.get(pos) {
            pos += 1;
        }
        let end = skip_digits(b, pos);
        if end == pos {
            return Err(Invalid);
        }
        pos = end;
    }
    Ok(pos)
}

#[inline]
fn scan_literal(b: &[u8], pos: usize, literal: &[u8]) -> Result<usize, Invalid> {
    if b[pos..].starts_with(literal) {
        Ok(pos + literal.len())
    } else {
        Err(Invalid)
    }
}

/// After `{` or `,` inside an object: whitespace, a key, whitespace, `:`, whitespace.
/// Returns the position of the member's value.
#[inline]
fn scan_key(b: &[u8], pos: usize) -> Result<usize, Invalid> {
    if b.get(pos) != Some(&b'"') {
        return Err(Invalid);
    }
    let (end, _) = scan_string(b, pos)?;
    let colon = skip_ws(b, end);
    if b.get(colon) != Some(&b':') {
        return Err(Invalid);
    }
    Ok(skip_ws(b, colon + 1))
}

/// Validates the JSON value that starts exactly at `pos` and returns the position after it.
///
/// Invalid: any syntax error, a string [`scan_string`] rejects, a malformed number, `NaN` and
/// friends, more than [`MAX_DEPTH`] nested containers, or the end of input inside the value.
/// Runs in one pass with a fixed-size stack: bit `d` of `objects` is set when the container
/// at depth `d` (0-based) is an object.
pub fn skip_value(b: &[u8], mut pos: usize) -> Result<usize, Invalid> {
    let mut objects: u64 = 0;
    let mut depth: usize = 0;
    'value: loop {
        // `pos` is at the first byte of a value.
        match *b.get(pos).ok_or(Invalid)? {
            open @ (b'{' | b'[') => {
                if depth == MAX_DEPTH {
                    return Err(Invalid);
                }
                let is_object = open == b'{';
                let close = if is_object { b'}' } else { b']' };
                let inner = skip_ws(b, pos + 1);
                if b.get(inner) == Some(&close) {
                    pos = inner + 1;
                } else {
                    if is_object {
                        objects |= 1 << depth;
                        pos = scan_key(b, inner)?;
                    } else {
                        objects &= !(1 << depth);
                        pos = inner;
                    }
                    depth += 1;
                    continue 'value;
                }
            }
            b'"' => pos = scan_string(b, pos)?.0,
            b't' => pos = scan_literal(b, pos, b"true")?,
            b'f' => pos = scan_literal(b, pos, b"false")?,
            b'n' => pos = scan_literal(b, pos, b"null")?,
            _ => pos = scan_number(b, pos)?,
        }
        // A value is complete: close containers until one expects another element.
        while depth > 0 {
            let in_object = objects & (1 << (depth - 1)) != 0;
            pos = skip_ws(b, pos);
            match b.get(pos) {
                Some(b',') => {
                    let next = skip_ws(b, pos + 1);
                    pos = if in_object { scan_key(b, next)? } else { next };
                    continue 'value;
                }
                Some(b'}') if in_object => {}
                Some(b']') if !in_object => {}
                _ => return Err(Invalid),
            }
            pos += 1;
            depth -= 1;
        }
        return Ok(pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_end(s: &str) -> Result<usize, Invalid> {
        skip_value(s.as_bytes(), 0)
    }

    fn whole(s: &str) -> bool {
        value_end(s) == Ok(s.len())
    }

    #[test]
    fn whitespace_is_only_the_four_json_characters() {
        assert_eq!(skip_ws(b" \t\r\n x", 0), 5);
        assert_eq!(skip_ws(b"\x0c", 0), 0);
        assert_eq!(skip_ws("\u{a0}".as_bytes(), 0), 0);
        assert_eq!(skip_ws(b"  ", 1), 2);
    }

    #[test]
    fn reads_plain_strings_without_copying() {
        let (s, end) = read_string(r#""abc" "#, 0).unwrap();
        assert!(matches!(s, Cow::Borrowed("abc")));
        assert_eq!(end, 5);
        assert_eq!(read_string(r#"x"", "#, 1).unwrap().0, "");
    }

    #[test]
    fn unescapes_every_escape() {
        let text = r#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00z""#;
        let (s, end) = read_string(text, 0).unwrap();
        assert_eq!(s, "\"\\/\u{8}\u{c}\n\r\tA\u{e9}\u{20ac}\u{1f600}z");
        assert_eq!(end, text.len());
    }

    #[test]
    fn rejects_bad_strings() {
        for bad in [
            r#""abc"#,
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\ud800\u0041""#,
            r#""\udc00""#,
            r#""\ude00\ud83d""#,
            "\"a\u{1}b\"",
            "\"tab\there\"",
            r#""\"#,
            r#""\u"#,
        ] {
            assert!(read_string(bad, 0).is_none(), "{bad:?}");
        }
        assert!(read_string("abc", 0).is_none());
        assert!(read_string("", 0).is_none());
    }

    #[test]
    fn non_ascii_and_del_are_fine_raw() {
        let text = "\"\u{7f}é€😀\"";
        assert_eq!(read_string(text, 0).unwrap().0, "\u{7f}é€😀");
    }

    #[test]
    fn accepts_valid_values() {
        for ok in [
            "{}",
            "[]",
            r#"{"a":1}"#,
            r#"{ "a" : [ 1 , -0 , 0.5 , 1e5 , 1E+5 , -1.25e-3 , true , false , null , "x" , {} ] }"#,
            "0",
            "-0",
            "12345678901234567890123456789",
            r#""s""#,
            "true",
            r#"[[[]],{"":{"":[]}}]"#,
            "{\n\t\"a\"\r:\n[ ]\n}",
            r#"{"a":1,"a":2}"#,
        ] {
            assert!(whole(ok), "{ok:?}");
        }
    }

    #[test]
    fn rejects_invalid_values() {
        for bad in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":1",
            "{\"a\":1,",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "{,}",
            "{1:2}",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "[1 2]",
            "{\"a\":01}",
            "[1.]",
            "[.5]",
            "[+1]",
            "[1e]",
            "[1e+]",
            "[-]",
            "[NaN]",
            "[Infinity]",
            "[-Infinity]",
            "[tru]",
            "[nul]",
            "[True]",
            "{\"a\":\"\\ud800\"}",
            "{\"\\q\":1}",
            "[}",
            "{]",
            "[\u{0c}]",
        ] {
            assert!(!whole(bad), "{bad:?}");
        }
    }

    #[test]
    fn number_end_is_left_to_the_caller() {
        assert_eq!(value_end("01"), Ok(1));
        assert_eq!(value_end("1.5.2"), Ok(3));
        assert_eq!(value_end("truex"), Ok(4));
    }

    #[test]
    fn depth_limit_is_64_containers() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(whole(&ok));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(value_end(&deep), Err(Invalid));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(whole(&objects));
        let too_deep = format!(
            "{}{{}}{}",
            r#"{"a":"#.repeat(MAX_DEPTH),
            "}".repeat(MAX_DEPTH)
        );
        assert_eq!(value_end(&too_deep), Err(Invalid));
        // Very deep input is rejected without recursion.
        let huge = "[".repeat(1_000_000);
        assert_eq!(value_end(&huge), Err(Invalid));
    }

    #[test]
    fn mixed_containers_close_in_the_right_order() {
        assert!(whole(r#"[{"a":[{"b":[]}]},[{}]]"#));
        assert!(!whole(r#"[{"a":[{"b":[]]}]}]"#));
        assert!(!whole(r#"{"a":[}"#));
    }
}
