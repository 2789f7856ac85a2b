//! The OCPP-J message envelope (Part 4 §4): `[2, id, action, {payload}]`, `[3, id, {payload}]`
//! and `[4, id, errorCode, errorDescription, {errorDetails}]`.
//!
//! [`parse_frame`] reads one WebSocket text frame and either finds its parts or names the first
//! fault, with the CALLERROR that answers it. It does not decode payloads: it only checks that
//! the payload is a well-formed JSON object and reports where it is, so the caller can decode
//! it with the right message type. The `build_*` functions write frames.
//!
//! Pure Rust: knows nothing about Python, sockets or message schemas. Its behaviour is pinned
//! byte for byte by the pure-Python twin `python/trio_csms/rpc/_frames_py.py`; change both or
//! neither.

use std::borrow::Cow;
use std::ops::Range;

use crate::actions::action_index;
use crate::json::{read_string, skip_value, skip_ws};

/// Part 4 §4.1.4: a message id is a string of at most 36 characters (room for a UUID).
pub const MAX_MESSAGE_ID_CHARS: usize = 36;
/// How much of an unknown Action is quoted back in the error description.
pub const MAX_QUOTED_ACTION_CHARS: usize = 64;
/// How much of an unsupported MessageTypeId literal is quoted back in the error description.
pub const MAX_QUOTED_TYPE_ID_CHARS: usize = 32;

/// Part 4 §4.1.3 message type numbers.
pub const CALL: u8 = 2;
pub const CALLRESULT: u8 = 3;
pub const CALLERROR: u8 = 4;

/// A well-formed frame. Strings are unescaped; ranges are byte offsets into the input that
/// delimit a JSON object exactly (from its `{` to its `}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    Call {
        message_id: Cow<'a, str>,
        /// Index into [`crate::actions::ACTIONS`].
        action: usize,
        payload: Range<usize>,
    },
    CallResult {
        message_id: Cow<'a, str>,
        payload: Range<usize>,
    },
    CallError {
        message_id: Cow<'a, str>,
        /// Passed through as sent; not checked against the Part 4 §4.3 table.
        error_code: Cow<'a, str>,
        error_description: Cow<'a, str>,
        error_details: Range<usize>,
    },
}

/// The Part 4 §4.3 error codes a malformed frame can be answered with. Spelled as on the wire
/// by [`ErrorCode::as_str`], the same strings as Python's `trio_csms.rpc.errors.ErrorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    FormatViolation,
    MessageTypeNotSupported,
    NotImplemented,
    RpcFrameworkError,
}

impl ErrorCode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
        }
    }
}

/// What is wrong with a frame: the first fault found, scanning left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault<'a> {
    NotUtf8,
    NotArray,
    TypeIdNotInteger,
    /// The MessageTypeId literal exactly as it appears in the frame.
    TypeIdNotSupported(&'a str),
    MessageIdNotString,
    MessageIdTooLong,
    /// A `]` where another element is due, or a `,` after the last one.
    WrongElementCount,
    NotValidJson,
    ActionNotString,
    UnknownAction(Cow<'a, str>),
    PayloadNotObject,
    PayloadNotValidJson,
    ErrorCodeNotString,
    ErrorDescriptionNotString,
    ErrorDetailsNotObject,
    ErrorDetailsNotValidJson,
}

/// A malformed frame and the CALLERROR that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError<'a> {
    /// The id to answer with; `None` when it could not be read (answer with `"-1"`, §4.2.3).
    pub message_id: Option<Cow<'a, str>>,
    /// The MessageTypeId if it was 2, 3 or 4, else 0.
    pub message_type: u8,
    pub fault: Fault<'a>,
}

/// The first `max` characters of `s`.
fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

fn char_count_exceeds(s: &str, max: usize) -> bool {
    // A UTF-8 string never has more characters than bytes.
    s.len() > max && s.chars().count() > max
}

impl FrameError<'_> {
    /// The errorCode for the CALLERROR that answers this frame.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self.fault {
            Fault::TypeIdNotSupported(_) => ErrorCode::MessageTypeNotSupported,
            Fault::UnknownAction(_) => ErrorCode::NotImplemented,
            Fault::PayloadNotObject
            | Fault::PayloadNotValidJson
            | Fault::ErrorDetailsNotObject
            | Fault::ErrorDetailsNotValidJson => ErrorCode::FormatViolation,
            _ => ErrorCode::RpcFrameworkError,
        }
    }

    /// The errorDescription: a fixed sentence per fault.
    #[must_use]
    pub fn description(&self) -> Cow<'static, str> {
        Cow::Borrowed(match &self.fault {
            Fault::NotUtf8 => "frame is not valid UTF-8",
            Fault::NotArray => "frame is not a JSON array",
            Fault::TypeIdNotInteger => "MessageTypeId is not an integer",
            Fault::TypeIdNotSupported(literal) => {
                let literal = truncate_chars(literal, MAX_QUOTED_TYPE_ID_CHARS);
                return Cow::Owned(format!("MessageTypeId {literal} is not supported"));
            }
            Fault::MessageIdNotString => "MessageId is not a string",
            Fault::MessageIdTooLong => "MessageId is longer than 36 characters",
            Fault::WrongElementCount => match self.message_type {
                CALL => "CALL must have 4 elements",
                CALLRESULT => "CALLRESULT must have 3 elements",
                _ => "CALLERROR must have 5 elements",
            },
            Fault::NotValidJson => "frame is not valid JSON",
            Fault::ActionNotString => "Action is not a string",
            Fault::UnknownAction(action) => {
                let action = truncate_chars(action, MAX_QUOTED_ACTION_CHARS);
                return Cow::Owned(format!("unknown action: {action}"));
            }
            Fault::PayloadNotObject => "payload is not a JSON object",
            Fault::PayloadNotValidJson => "payload is not valid JSON",
            Fault::ErrorCodeNotString => "ErrorCode is not a string",
            Fault::ErrorDescriptionNotString => "ErrorDescription is not a string",
            Fault::ErrorDetailsNotObject => "ErrorDetails is not a JSON object",
            Fault::ErrorDetailsNotValidJson => "ErrorDetails is not valid JSON",
        })
    }
}

/// The end of the integer literal `-?(0|[1-9][0-9]*)` at `pos`, when it is a whole number
/// token: not followed by another digit (`02`), a fraction or an exponent.
fn scan_integer(b: &[u8], mut pos: usize) -> Option<usize> {
    if b.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match b.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => {
            pos += 1;
            while let Some(b'0'..=b'9') = b.get(pos) {
                pos += 1;
            }
        }
        _ => return None,
    }
    match b.get(pos) {
        Some(b'0'..=b'9' | b'.' | b'e' | b'E') => None,
        _ => Some(pos),
    }
}

/// Part 4 §4.1.3: the payload of an unknown message type is ignored, but its id is still
/// worth answering with if it can be read (`, "id"` right after the type).
fn unsupported_type_id(text: &str, pos: usize) -> Option<Cow<'_, str>> {
    let b = text.as_bytes();
    let comma = skip_ws(b, pos);
    if b.get(comma) != Some(&b',') {
        return None;
    }
    let (id, _) = read_string(text, skip_ws(b, comma + 1))?;
    (!char_count_exceeds(&id, MAX_MESSAGE_ID_CHARS)).then_some(id)
}

/// One frame being parsed: the input and what is known so far, to label any fault.
struct Parser<'a> {
    text: &'a str,
    message_type: u8,
    message_id: Option<Cow<'a, str>>,
}

impl<'a> Parser<'a> {
    fn fail<T>(&mut self, fault: Fault<'a>) -> Result<T, FrameError<'a>> {
        Err(FrameError {
            message_id: self.message_id.take(),
            message_type: self.message_type,
            fault,
        })
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// After a non-final element: whitespace, `,`, whitespace. Returns the next element's start.
    fn separator(&mut self, pos: usize) -> Result<usize, FrameError<'a>> {
        let b = self.bytes();
        let pos = skip_ws(b, pos);
        match b.get(pos) {
            Some(b',') => Ok(skip_ws(b, pos + 1)),
            Some(b']') => self.fail(Fault::WrongElementCount),
            _ => self.fail(Fault::NotValidJson),
        }
    }

    /// After the final element: whitespace, `]`, whitespace, end of input.
    fn end(&mut self, pos: usize) -> Result<(), FrameError<'a>> {
        let b = self.bytes();
        let pos = skip_ws(b, pos);
        match b.get(pos) {
            Some(b']') if skip_ws(b, pos + 1) == b.len() => Ok(()),
            Some(b',') => self.fail(Fault::WrongElementCount),
            _ => self.fail(Fault::NotValidJson),
        }
    }

    fn string(
        &mut self,
        pos: usize,
        fault: Fault<'a>,
    ) -> Result<(Cow<'a, str>, usize), FrameError<'a>> {
        match read_string(self.text, pos) {
            Some(found) => Ok(found),
            None => self.fail(fault),
        }
    }

    /// A payload or errorDetails object at `pos`: its byte range.
    fn object(
        &mut self,
        pos: usize,
        not_object: Fault<'a>,
        not_valid: Fault<'a>,
    ) -> Result<Range<usize>, FrameError<'a>> {
        let b = self.bytes();
        if b.get(pos) != Some(&b'{') {
            return self.fail(not_object);
        }
        match skip_value(b, pos) {
            Ok(end) => Ok(pos..end),
            Err(_) => self.fail(not_valid),
        }
    }
}

/// Parses one OCPP-J frame.
///
/// Returns the frame's parts, or the first fault found scanning left to right together with
/// the message type and id read before it. Never panics, whatever the input.
pub fn parse_frame(data: &[u8]) -> Result<Frame<'_>, FrameError<'_>> {
    // Part 4 §4.1.2: the whole message must be UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return Err(FrameError {
            message_id: None,
            message_type: 0,
            fault: Fault::NotUtf8,
        });
    };
    let mut p = Parser {
        text,
        message_type: 0,
        message_id: None,
    };
    let b = data;

    let pos = skip_ws(b, 0);
    if b.get(pos) != Some(&b'[') {
        return p.fail(Fault::NotArray);
    }

    // §4.1.3 MessageTypeId.
    let pos = skip_ws(b, pos + 1);
    let Some(type_end) = scan_integer(b, pos) else {
        return p.fail(Fault::TypeIdNotInteger);
    };
    let literal = &text[pos..type_end];
    p.message_type = match literal {
        "2" => CALL,
        "3" => CALLRESULT,
        "4" => CALLERROR,
        _ => {
            p.message_id = unsupported_type_id(text, type_end);
            return p.fail(Fault::TypeIdNotSupported(literal));
        }
    };

    // §4.1.4 MessageId.
    let pos = skip_ws(b, type_end);
    if b.get(pos) != Some(&b',') {
        return p.fail(Fault::MessageIdNotString);
    }
    let (message_id, pos) = p.string(skip_ws(b, pos + 1), Fault::MessageIdNotString)?;
    if char_count_exceeds(&message_id, MAX_MESSAGE_ID_CHARS) {
        return p.fail(Fault::MessageIdTooLong);
    }
    p.message_id = Some(message_id);
    let pos = p.separator(pos)?;

    match p.message_type {
        CALL => {
            // §4.2.1 [2, id, action, {payload}]
            let (action, pos) = p.string(pos, Fault::ActionNotString)?;
            let Some(action) = action_index(&action) else {
                return p.fail(Fault::UnknownAction(action));
            };
            let pos = p.separator(pos)?;
            let payload = p.object(pos, Fault::PayloadNotObject, Fault::PayloadNotValidJson)?;
            p.end(payload.end)?;
            Ok(Frame::Call {
                message_id: p.message_id.take().unwrap_or_default(),
                action,
                payload,
            })
        }
        CALLRESULT => {
            // §4.2.2 [3, id, {payload}]
            let payload = p.object(pos, Fault::PayloadNotObject, Fault::PayloadNotValidJson)?;
            p.end(payload.end)?;
            Ok(Frame::CallResult {
                message_id: p.message_id.take().unwrap_or_default(),
                payload,
            })
        }
        _ => {
            // §4.2.3 [4, id, errorCode, errorDescription, {errorDetails}]
            let (error_code, pos) = p.string(pos, Fault::ErrorCodeNotString)?;
            let pos = p.separator(pos)?;
            let (error_description, pos) = p.string(pos, Fault::ErrorDescriptionNotString)?;
            let pos = p.separator(pos)?;
            let error_details = p.object(
                pos,
                Fault::ErrorDetailsNotObject,
                Fault::ErrorDetailsNotValidJson,
            )?;
            p.end(error_details.end)?;
            Ok(Frame::CallError {
                message_id: p.message_id.take().unwrap_or_default(),
                error_code,
                error_description,
                error_details,
            })
        }
    }
}

/// The length of `s` as a JSON string token, quotes included.
fn quoted_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|c| match c {
            b'"' | b'\\' | 0x08 | 0x0c | b'\n' | b'\r' | b'\t' => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Appends `s` as a JSON string token: `"` and `\` escaped, control characters as `\b \f \n
/// \r \t` or `\u00xx` (lowercase hex), everything else (DEL, non-ASCII) as raw UTF-8.
fn push_quoted(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let b = s.as_bytes();
    let mut run_start = 0;
    for (i, &c) in b.iter().enumerate() {
        let short = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x00..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&b[run_start..i]);
        run_start = i + 1;
        if short != 0 {
            out.extend_from_slice(&[b'\\', short]);
        } else {
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&[HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
        }
    }
    out.extend_from_slice(&b[run_start..]);
    out.push(b'"');
}

/// `[2,"<message_id>","<action>",<payload>]`. The payload is inserted as given.
#[must_use]
pub fn build_call(message_id: &str, action: &str, payload: &[u8]) -> Vec<u8> {
    let len = 6 + quoted_len(message_id) + quoted_len(action) + payload.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"[2,");
    push_quoted(&mut out, message_id);
    out.push(b',');
    push_quoted(&mut out, action);
    out.push(b',');
    out.extend_from_slice(payload);
    out.push(b']');
    debug_assert_eq!(out.len(), len);
    out
}

/// `[3,"<message_id>",<payload>]`. The payload is inserted as given.
#[must_use]
pub fn build_result(message_id: &str, payload: &[u8]) -> Vec<u8> {
    let len = 5 + quoted_len(message_id) + payload.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"[3,");
    push_quoted(&mut out, message_id);
    out.push(b',');
    out.extend_from_slice(payload);
    out.push(b']');
    debug_assert_eq!(out.len(), len);
    out
}

/// `[4,"<message_id>","<code>","<description>",<details>]`. The details are inserted as given.
#[must_use]
pub fn build_error(message_id: &str, code: &str, description: &str, details: &[u8]) -> Vec<u8> {
    let len =
        7 + quoted_len(message_id) + quoted_len(code) + quoted_len(description) + details.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"[4,");
    push_quoted(&mut out, message_id);
    out.push(b',');
    push_quoted(&mut out, code);
    out.push(b',');
    push_quoted(&mut out, description);
    out.push(b',');
    out.extend_from_slice(details);
    out.push(b']');
    debug_assert_eq!(out.len(), len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ACTIONS;

    /// The Python-facing tuple, flattened for comparison:
    /// (kind, message_id, x, start, end, text) with x and text as strings.
    type Flat = (u8, String, String, isize, isize, String);

    fn flat(data: &[u8]) -> Flat {
        match parse_frame(data) {
            Ok(Frame::Call {
                message_id,
                action,
                payload,
            }) => (
                2,
                message_id.into_owned(),
                ACTIONS[action].to_owned(),
                payload.start as isize,
                payload.end as isize,
                String::new(),
            ),
            Ok(Frame::CallResult {
                message_id,
                payload,
            }) => (
                3,
                message_id.into_owned(),
                String::new(),
                payload.start as isize,
                payload.end as isize,
                String::new(),
            ),
            Ok(Frame::CallError {
                message_id,
                error_code,
                error_description,
                error_details,
            }) => (
                4,
                message_id.into_owned(),
                error_code.into_owned(),
                error_details.start as isize,
                error_details.end as isize,
                error_description.into_owned(),
            ),
            Err(e) => (
                0,
                e.message_id.as_deref().unwrap_or("-1").to_owned(),
                e.code().as_str().to_owned(),
                isize::from(e.message_type),
                -1,
                e.description().into_owned(),
            ),
        }
    }

    fn err(id: &str, code: &str, seen: u8, description: &str) -> Flat {
        (
            0,
            id.to_owned(),
            code.to_owned(),
            isize::from(seen),
            -1,
            description.to_owned(),
        )
    }

    fn rpc(id: &str, seen: u8, description: &str) -> Flat {
        err(id, "RpcFrameworkError", seen, description)
    }

    fn format(id: &str, seen: u8, description: &str) -> Flat {
        err(id, "FormatViolation", seen, description)
    }

    fn check(data: &str, expected: Flat) {
        assert_eq!(flat(data.as_bytes()), expected, "{data:?}");
    }

    #[test]
    fn call() {
        let data = r#"[2,"19223201","BootNotification",{"reason":"PowerUp"}]"#;
        let start = data.find('{').unwrap() as isize;
        let end = data.len() as isize - 1;
        check(
            data,
            (
                2,
                "19223201".into(),
                "BootNotification".into(),
                start,
                end,
                String::new(),
            ),
        );
        match parse_frame(data.as_bytes()).unwrap() {
            Frame::Call { action, .. } => assert_eq!(action, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn call_with_whitespace_everywhere() {
        let data = " \r\n\t[ 2 ,\n \"a\" ,\t\"Heartbeat\" , { } ] \n";
        let start = data.find('{').unwrap() as isize;
        check(
            data,
            (
                2,
                "a".into(),
                "Heartbeat".into(),
                start,
                start + 3,
                String::new(),
            ),
        );
    }

    #[test]
    fn callresult() {
        let data = r#"[3,"x",{"a":[1,2,{"b":null}]}]"#;
        check(
            data,
            (
                3,
                "x".into(),
                String::new(),
                7,
                data.len() as isize - 1,
                String::new(),
            ),
        );
    }

    #[test]
    fn callerror() {
        let data =
            r#"[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]"#;
        let start = data.find('{').unwrap() as isize;
        check(
            data,
            (
                4,
                "162376037".into(),
                "NotSupported".into(),
                start,
                start + 2,
                "SetDisplayMessageRequest not implemented".into(),
            ),
        );
        // The error code is passed through unchecked.
        check(
            r#"[4,"i","",  "",{"x":1}]"#,
            (4, "i".into(), String::new(), 15, 22, String::new()),
        );
    }

    #[test]
    fn strings_are_unescaped_and_offsets_are_bytes() {
        let data = "[4,\"\\u00e9\\n\",\"C\\/d\",\"d\u{e9}\\ud83d\\ude00\",{\"\u{20ac}\":1}]";
        let start = data.find('{').unwrap() as isize;
        check(
            data,
            (
                4,
                "\u{e9}\n".into(),
                "C/d".into(),
                start,
                data.len() as isize - 1,
                "d\u{e9}\u{1f600}".into(),
            ),
        );
    }

    #[test]
    fn rule_1_not_utf8() {
        for bad in [
            &b"[2,\"\xff\",\"Heartbeat\",{}]"[..],
            b"\xc3",
            b"[3,\"a\",{\"k\":\"\xed\xa0\x80\"}]",
            b"[3,\"a\",{}]\xc0\xaf",
        ] {
            assert_eq!(flat(bad), rpc("-1", 0, "frame is not valid UTF-8"));
        }
    }

    #[test]
    fn rule_2_not_an_array() {
        for bad in [
            "",
            "   ",
            "{}",
            "2",
            "\"[\"",
            "\u{feff}[2]",
            "\u{0c}[3,\"a\",{}]",
            "null",
        ] {
            check(bad, rpc("-1", 0, "frame is not a JSON array"));
        }
    }

    #[test]
    fn rule_3_type_id_not_an_integer() {
        for bad in [
            "[",
            "[]",
            "[ ]",
            "[\"2\",\"a\",{}]",
            "[2.0,\"a\",{}]",
            "[2e0,\"a\",{}]",
            "[2E0]",
            "[2.]",
            "[02,\"a\",{}]",
            "[-02]",
            "[00]",
            "[-]",
            "[+2]",
            "[x]",
            "[null]",
            "[,2]",
            "[-x]",
            "[.2]",
        ] {
            check(bad, rpc("-1", 0, "MessageTypeId is not an integer"));
        }
    }

    #[test]
    fn rule_4_type_id_not_supported() {
        let not = |id: &str, literal: &str| {
            err(
                id,
                "MessageTypeNotSupported",
                0,
                &format!("MessageTypeId {literal} is not supported"),
            )
        };
        check("[5,\"abc\",{}]", not("abc", "5"));
        check("[6, \"abc\" , garbage", not("abc", "6"));
        check("[0]", not("-1", "0"));
        check("[-0,\"a\"]", not("a", "-0"));
        check("[-2,\"a\"]", not("a", "-2"));
        check("[1 \"a\"]", not("-1", "1"));
        check("[1,\"a", not("-1", "1"));
        check("[1,\"a\\x\"]", not("-1", "1"));
        check("[1,7]", not("-1", "1"));
        check("[1x", not("-1", "1"));
        let id36 = "a".repeat(36);
        check(&format!("[7,\"{id36}\"]"), not(&id36, "7"));
        check(&format!("[7,\"{id36}b\"]"), not("-1", "7"));
        let long = "9".repeat(40);
        check(&format!("[{long}]"), not("-1", &long[..32]));
    }

    #[test]
    fn rule_5_message_id_not_a_string() {
        for (bad, seen) in [
            ("[2]", 2),
            ("[3 ]", 3),
            ("[4", 4),
            ("[2 \"a\"]", 2),
            ("[2,]", 2),
            ("[2,5,\"Heartbeat\",{}]", 2),
            ("[3,null,{}]", 3),
            ("[3,\"a", 3),
            ("[3,\"a\\qb\",{}]", 3),
            ("[3,\"a\u{1}b\",{}]", 3),
            ("[3,\"\\ud800\",{}]", 3),
            ("[3,\"\\udc00\",{}]", 3),
            ("[3,\"\\ud800\\ud800\",{}]", 3),
            ("[3,\"\\u12\",{}]", 3),
            ("[2x,\"a\"]", 2),
            ("[4,", 4),
        ] {
            check(bad, rpc("-1", seen, "MessageId is not a string"));
        }
    }

    #[test]
    fn rule_6_message_id_too_long() {
        let id36 = "é".repeat(36);
        check(
            &format!("[3,\"{id36}\",{{}}]"),
            (3, id36.clone(), String::new(), 78, 80, String::new()),
        );
        check(
            &format!("[3,\"{id36}x\",{{}}]"),
            rpc("-1", 3, "MessageId is longer than 36 characters"),
        );
        // Counted after unescaping: 36 escaped characters are fine.
        let escaped = "\\u0041".repeat(36);
        check(
            &format!("[3,\"{escaped}\",{{}}]"),
            (3, "A".repeat(36), String::new(), 222, 224, String::new()),
        );
        // An astral character is one character.
        let astral = "\\ud83d\\ude00".repeat(37);
        check(
            &format!("[3,\"{astral}\",{{}}]"),
            rpc("-1", 3, "MessageId is longer than 36 characters"),
        );
        check(
            "[3,\"\",{}]",
            (3, String::new(), String::new(), 6, 8, String::new()),
        );
    }

    #[test]
    fn rule_7_separator_after_the_id() {
        check("[2,\"a\"]", rpc("a", 2, "CALL must have 4 elements"));
        check("[3,\"a\" ]", rpc("a", 3, "CALLRESULT must have 3 elements"));
        check("[4,\"a\"\n]", rpc("a", 4, "CALLERROR must have 5 elements"));
        check("[2,\"a\"", rpc("a", 2, "frame is not valid JSON"));
        check(
            "[2,\"a\" \"Heartbeat\",{}]",
            rpc("a", 2, "frame is not valid JSON"),
        );
        check("[3,\"a\":{}]", rpc("a", 3, "frame is not valid JSON"));
    }

    #[test]
    fn rule_8_action() {
        for bad in [
            "[2,\"a\",1,{}]",
            "[2,\"a\",]",
            "[2,\"a\",",
            "[2,\"a\",\"Heart",
            "[2,\"a\",\"\\x\"]",
        ] {
            check(bad, rpc("a", 2, "Action is not a string"));
        }
        let unknown = |action: &str| {
            err(
                "a",
                "NotImplemented",
                2,
                &format!("unknown action: {action}"),
            )
        };
        check("[2,\"a\",\"heartbeat\",{}]", unknown("heartbeat"));
        check(
            "[2,\"a\",\"HeartbeatRequest\",{}]",
            unknown("HeartbeatRequest"),
        );
        check("[2,\"a\",\"\",{}]", unknown(""));
        // The unknown action wins over later faults, and is quoted up to 64 characters.
        check("[2,\"a\",\"Nope\"", unknown("Nope"));
        let long = "ü".repeat(70);
        check(
            &format!("[2,\"a\",\"{long}\",{{}}]"),
            unknown(&"ü".repeat(64)),
        );
        // Escapes in the action are decoded before the lookup.
        check(
            "[2,\"a\",\"H\\u0065artbeat\",{}]",
            (2, "a".into(), "Heartbeat".into(), 24, 26, String::new()),
        );
        // Separator after the action.
        check(
            "[2,\"a\",\"Heartbeat\"]",
            rpc("a", 2, "CALL must have 4 elements"),
        );
        check(
            "[2,\"a\",\"Heartbeat\"}",
            rpc("a", 2, "frame is not valid JSON"),
        );
    }

    #[test]
    fn rule_9_payload() {
        for (bad, seen) in [
            ("[2,\"a\",\"Heartbeat\",[]]", 2),
            ("[2,\"a\",\"Heartbeat\",null]", 2),
            ("[2,\"a\",\"Heartbeat\",", 2),
            ("[2,\"a\",\"Heartbeat\",]", 2),
            ("[3,\"a\",\"{}\"]", 3),
            ("[3,\"a\",1]", 3),
        ] {
            check(bad, format("a", seen, "payload is not a JSON object"));
        }
        let deep_ok = format!("[3,\"a\",{}1{}]", "{\"k\":".repeat(64), "}".repeat(64));
        assert_eq!(flat(deep_ok.as_bytes()).0, 3);
        let deep = format!("[3,\"a\",{}1{}]", "{\"k\":[".repeat(33), "]}".repeat(33));
        for bad in [
            "[3,\"a\",{]",
            "[3,\"a\",{\"k\":01}]",
            "[3,\"a\",{\"k\":1.}]",
            "[3,\"a\",{\"k\":.5}]",
            "[3,\"a\",{\"k\":+1}]",
            "[3,\"a\",{\"k\":NaN}]",
            "[3,\"a\",{\"k\":\"\\ud800\"}]",
            "[3,\"a\",{\"k\":\"\t\"}]",
            "[3,\"a\",{\"k\":\"\\a\"}]",
            "[3,\"a\",{\"k\":1,}]",
            "[3,\"a\",{k:1}]",
            "[3,\"a\",{\"k\":1",
            "[3,\"a\",{\"k\"",
            "[3,\"a\",{",
            &deep,
        ] {
            check(bad, format("a", 3, "payload is not valid JSON"));
        }
    }

    #[test]
    fn rule_10_callerror_elements() {
        check(
            "[4,\"a\",1,\"d\",{}]",
            rpc("a", 4, "ErrorCode is not a string"),
        );
        check("[4,\"a\",]", rpc("a", 4, "ErrorCode is not a string"));
        check(
            "[4,\"a\",\"C\"]",
            rpc("a", 4, "CALLERROR must have 5 elements"),
        );
        check("[4,\"a\",\"C\":", rpc("a", 4, "frame is not valid JSON"));
        check(
            "[4,\"a\",\"C\",null,{}]",
            rpc("a", 4, "ErrorDescription is not a string"),
        );
        check(
            "[4,\"a\",\"C\",\"d\"]",
            rpc("a", 4, "CALLERROR must have 5 elements"),
        );
        check(
            "[4,\"a\",\"C\",\"d\" {}]",
            rpc("a", 4, "frame is not valid JSON"),
        );
        check(
            "[4,\"a\",\"C\",\"d\",[]]",
            format("a", 4, "ErrorDetails is not a JSON object"),
        );
        check(
            "[4,\"a\",\"C\",\"d\",{\"x\"}]",
            format("a", 4, "ErrorDetails is not valid JSON"),
        );
    }

    #[test]
    fn rule_11_after_the_last_element() {
        check(
            "[3,\"a\",{},{}]",
            rpc("a", 3, "CALLRESULT must have 3 elements"),
        );
        check(
            "[3,\"a\",{} , 1]",
            rpc("a", 3, "CALLRESULT must have 3 elements"),
        );
        check(
            "[2,\"a\",\"Reset\",{},]",
            rpc("a", 2, "CALL must have 4 elements"),
        );
        check(
            "[4,\"a\",\"C\",\"d\",{},{}]",
            rpc("a", 4, "CALLERROR must have 5 elements"),
        );
        for bad in [
            "[3,\"a\",{}",
            "[3,\"a\",{} ",
            "[3,\"a\",{}}",
            "[3,\"a\",{}]]",
            "[3,\"a\",{}] x",
            "[3,\"a\",{}]\u{0}",
        ] {
            check(bad, rpc("a", 3, "frame is not valid JSON"));
        }
        check(
            "[3,\"a\",{}] \t\r\n",
            (3, "a".into(), String::new(), 7, 9, String::new()),
        );
    }

    #[test]
    fn every_action_is_known() {
        for (i, action) in ACTIONS.iter().enumerate() {
            let data = format!("[2,\"id\",\"{action}\",{{}}]");
            match parse_frame(data.as_bytes()) {
                Ok(Frame::Call { action, .. }) => assert_eq!(action, i),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn plain_strings_are_borrowed() {
        let data = b"[4,\"id\",\"Code\",\"desc\",{}]";
        match parse_frame(data).unwrap() {
            Frame::CallError {
                message_id,
                error_code,
                error_description,
                ..
            } => {
                assert!(matches!(message_id, Cow::Borrowed("id")));
                assert!(matches!(error_code, Cow::Borrowed("Code")));
                assert!(matches!(error_description, Cow::Borrowed("desc")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_truncation_is_an_error_and_never_panics() {
        let data = "[2, \"\u{e9}\\u00e9\", \"DataTransfer\", {\"a\": [1, -2.5e3, true, null, \"\\ud83d\\ude00\"]}]";
        let b = data.as_bytes();
        assert_eq!(flat(b).0, 2);
        for cut in 0..b.len() {
            assert_eq!(flat(&b[..cut]).0, 0, "{cut}");
        }
    }

    #[test]
    fn builds_frames() {
        assert_eq!(
            build_call("1", "Heartbeat", b"{}"),
            b"[2,\"1\",\"Heartbeat\",{}]"
        );
        assert_eq!(build_result("", b"{\"a\":1}"), b"[3,\"\",{\"a\":1}]");
        assert_eq!(
            build_error("1", "GenericError", "", b"{}"),
            b"[4,\"1\",\"GenericError\",\"\",{}]"
        );
    }

    #[test]
    fn build_escapes_like_json_with_lowercase_hex() {
        let s = "q\"b\\s/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é😀";
        let expected = "[3,\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é😀\",{}]";
        assert_eq!(build_result(s, b"{}"), expected.as_bytes());
    }

    #[test]
    fn built_frames_parse_back() {
        let id = "\u{1}\"\\é😀";
        let data = build_error(id, "C\n", "d\u{1f}", b"{\"k\":[]}");
        match parse_frame(&data).unwrap() {
            Frame::CallError {
                message_id,
                error_code,
                error_description,
                error_details,
            } => {
                assert_eq!(message_id, id);
                assert_eq!(error_code, "C\n");
                assert_eq!(error_description, "d\u{1f}");
                assert_eq!(&data[error_details], b"{\"k\":[]}");
            }
            other => panic!("{other:?}"),
        }
        let data = build_call(id, "Reset", b"{}");
        assert_eq!(
            flat(&data),
            (
                2,
                id.into(),
                "Reset".into(),
                data.len() as isize - 3,
                data.len() as isize - 1,
                String::new()
            )
        );
    }
}
