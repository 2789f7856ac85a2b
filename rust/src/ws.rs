//! The receiving half of the WebSocket framing (RFC 6455 §5): frames in, whole messages and
//! control frames out. A server reads masked client frames; a client reads unmasked server
//! frames (§5.1: either side closes on a frame masked the wrong way).
//!
//! [`FrameReader`] is fed the bytes read from the socket, in pieces of any size, and returns
//! what they complete: text messages (UTF-8 checked), binary messages, pings, pongs, the peer's
//! close, or the protocol violation that ends the connection, with the close code to send.
//! Fragmented messages are reassembled; control frames may arrive between fragments.
//!
//! Pure Rust: knows nothing about Python or sockets. Its behaviour is pinned by the pure-Python
//! twin `python/trio_csms/ws/_frames_py.py`; change both or neither.

/// RFC 6455 §5.2 opcodes.
pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// RFC 6455 §7.4.1 status codes the reader sends on a violation.
pub const PROTOCOL_ERROR: u16 = 1002;
pub const INVALID_DATA: u16 = 1007;
pub const MESSAGE_TOO_BIG: u16 = 1009;

/// Largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// What a fed chunk completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole text (opcode 1, valid UTF-8) or binary (opcode 2) message, unmasked.
    Message { opcode: u8, payload: Vec<u8> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The peer's close frame: its status code (None when the frame had no body) and reason.
    Close { code: Option<u16>, reason: String },
    /// The peer broke the protocol: close with `code`. Nothing is read after it.
    Violation { code: u16, reason: String },
}

/// Whether `code` may appear in a close frame (§7.4): the codes defined for use on the wire
/// (1000-1003, 1007-1011, and 1012-1014 registered with IANA since) and 3000-4999.
pub fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// XOR `data` with the 4-byte masking `key` (§5.3), in place.
pub fn unmask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().expect("chunks of 8")) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

/// One frame's header, once enough bytes for it have arrived.
struct Header {
    fin: bool,
    opcode: u8,
    key: [u8; 4],
    /// Bytes of header, the payload starts here.
    start: usize,
    length: usize,
}

enum Parsed {
    NeedMore,
    Frame(Header),
    Violation(u16, String),
}

/// Reads client frames for one connection. See the module documentation.
#[derive(Debug)]
pub struct FrameReader {
    max_message: usize,
    /// Whether frames must be masked (a server reading client frames) or must not be.
    masked: bool,
    /// Received bytes not yet forming a whole frame.
    buffer: Vec<u8>,
    /// The fragments so far of a message still in progress, unmasked.
    message: Vec<u8>,
    /// TEXT or BINARY while a fragmented message is in progress, else CONTINUATION.
    message_opcode: u8,
    /// Set after a close or a violation: nothing more is read.
    finished: bool,
}

impl FrameReader {
    /// A reader refusing messages longer than `max_message` bytes (close code 1009); `masked`:
    /// frames must be masked (the server side), or must not be (the client side).
    pub fn new(max_message: usize, masked: bool) -> Self {
        FrameReader {
            max_message,
            masked,
            buffer: Vec::new(),
            message: Vec::new(),
            message_opcode: CONTINUATION,
            finished: false,
        }
    }

    /// Whether a close or a violation ended the reading.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Take `data`; return the events it completes, in order.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        if self.finished {
            return events;
        }
        // The common case, a whole frame in one read, is parsed straight from `data`.
        let owned;
        let input: &[u8] = if self.buffer.is_empty() {
            data
        } else {
            self.buffer.extend_from_slice(data);
            owned = std::mem::take(&mut self.buffer);
            &owned
        };
        let mut pos = 0;
        while !self.finished {
            match self.header(&input[pos..]) {
                Parsed::NeedMore => break,
                Parsed::Violation(code, reason) => self.violate(&mut events, code, reason),
                Parsed::Frame(header) => {
                    let end = pos + header.start + header.length;
                    if end > input.len() {
                        break;
                    }
                    let mut payload = input[pos + header.start..end].to_vec();
                    if self.masked {
                        unmask(&mut payload, header.key);
                    }
                    pos = end;
                    self.frame(&mut events, header, payload);
                }
            }
        }
        if !self.finished && pos < input.len() {
            self.buffer = input[pos..].to_vec();
        }
        events
    }

    fn violate(&mut self, events: &mut Vec<Event>, code: u16, reason: String) {
        self.finished = true;
        self.buffer = Vec::new();
        self.message = Vec::new();
        events.push(Event::Violation { code, reason });
    }

    /// The header at the start of `input`, checked against everything it alone can break.
    fn header(&self, input: &[u8]) -> Parsed {
        if input.len() < 2 {
            return Parsed::NeedMore;
        }
        let (b0, b1) = (input[0], input[1]);
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0F;
        if b0 & 0x70 != 0 {
            return violation(PROTOCOL_ERROR, "reserved bits set without an extension");
        }
        if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
            return Parsed::Violation(PROTOCOL_ERROR, format!("unknown opcode {opcode:#x}"));
        }
        if (b1 & 0x80 != 0) != self.masked {
            let reason = if self.masked {
                "client frame is not masked"
            } else {
                "server frame is masked"
            };
            return violation(PROTOCOL_ERROR, reason);
        }
        let (length, at) = match b1 & 0x7F {
            126 if input.len() < 4 => return Parsed::NeedMore,
            126 => (u16::from_be_bytes([input[2], input[3]]) as u64, 4),
            127 if input.len() < 10 => return Parsed::NeedMore,
            127 => (
                u64::from_be_bytes(input[2..10].try_into().expect("8 bytes")),
                10,
            ),
            n => (n as u64, 2),
        };
        if length >> 63 != 0 {
            return violation(PROTOCOL_ERROR, "payload length has its most significant bit set");
        }
        if opcode >= CLOSE {
            if !fin {
                return violation(PROTOCOL_ERROR, "fragmented control frame");
            }
            if length > MAX_CONTROL_PAYLOAD as u64 {
                return violation(PROTOCOL_ERROR, "control frame payload over 125 bytes");
            }
        } else {
            if opcode == CONTINUATION && self.message_opcode == CONTINUATION {
                return violation(PROTOCOL_ERROR, "continuation frame without a message");
            }
            if opcode != CONTINUATION && self.message_opcode != CONTINUATION {
                return violation(PROTOCOL_ERROR, "new message before the previous one ended");
            }
            let total = self.message.len() as u64 + length;
            if total > self.max_message as u64 {
                return Parsed::Violation(
                    MESSAGE_TOO_BIG,
                    format!("message larger than {} bytes", self.max_message),
                );
            }
        }
        let key_size = if self.masked { 4 } else { 0 };
        if input.len() < at + key_size {
            return Parsed::NeedMore;
        }
        let key = if self.masked {
            [input[at], input[at + 1], input[at + 2], input[at + 3]]
        } else {
            [0; 4]
        };
        Parsed::Frame(Header {
            fin,
            opcode,
            key,
            start: at + key_size,
            length: length as usize,
        })
    }

    fn frame(&mut self, events: &mut Vec<Event>, header: Header, payload: Vec<u8>) {
        match header.opcode {
            PING => events.push(Event::Ping(payload)),
            PONG => events.push(Event::Pong(payload)),
            CLOSE => self.close(events, &payload),
            opcode => {
                let (opcode, payload) = if opcode == CONTINUATION {
                    self.message.extend_from_slice(&payload);
                    (self.message_opcode, None)
                } else {
                    (opcode, Some(payload))
                };
                if !header.fin {
                    if let Some(first) = payload {
                        self.message = first;
                        self.message_opcode = opcode;
                    }
                    return;
                }
                let whole = payload.unwrap_or_else(|| std::mem::take(&mut self.message));
                self.message_opcode = CONTINUATION;
                if opcode == TEXT && std::str::from_utf8(&whole).is_err() {
                    let reason = "text message is not valid UTF-8".to_string();
                    return self.violate(events, INVALID_DATA, reason);
                }
                events.push(Event::Message {
                    opcode,
                    payload: whole,
                });
            }
        }
    }

    fn close(&mut self, events: &mut Vec<Event>, payload: &[u8]) {
        match payload.len() {
            0 => {
                self.finished = true;
                events.push(Event::Close {
                    code: None,
                    reason: String::new(),
                });
            }
            1 => self.violate(events, PROTOCOL_ERROR, "close frame with a 1-byte body".into()),
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                if !valid_close_code(code) {
                    let reason = format!("invalid close code {code}");
                    return self.violate(events, PROTOCOL_ERROR, reason);
                }
                match std::str::from_utf8(&payload[2..]) {
                    Ok(reason) => {
                        self.finished = true;
                        events.push(Event::Close {
                            code: Some(code),
                            reason: reason.to_string(),
                        });
                    }
                    Err(_) => {
                        let reason = "close reason is not valid UTF-8".to_string();
                        self.violate(events, INVALID_DATA, reason)
                    }
                }
            }
        }
    }
}

fn violation(code: u16, reason: &str) -> Parsed {
    Parsed::Violation(code, reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A masked client frame, as a station sends it.
    fn client(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first];
        let n = payload.len();
        if n < 126 {
            out.push(0x80 | n as u8);
        } else if n < 65536 {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        out.extend_from_slice(&KEY);
        let mut body = payload.to_vec();
        unmask(&mut body, KEY);
        out.extend_from_slice(&body);
        out
    }

    fn text(payload: &[u8]) -> Event {
        Event::Message {
            opcode: TEXT,
            payload: payload.to_vec(),
        }
    }

    fn violation_code(events: &[Event]) -> Option<u16> {
        match events.last() {
            Some(Event::Violation { code, .. }) => Some(*code),
            _ => None,
        }
    }

    #[test]
    fn rfc_example_masked_hello() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(FrameReader::new(100, true).feed(&frame), vec![text(b"Hello")]);
    }

    #[test]
    fn unmask_matches_bytewise_xor_for_every_length() {
        for n in 0..40 {
            let data: Vec<u8> = (0..n as u8).collect();
            let mut fast = data.clone();
            unmask(&mut fast, KEY);
            let slow: Vec<u8> = data.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]).collect();
            assert_eq!(fast, slow, "length {n}");
        }
    }

    #[test]
    fn frames_split_at_every_byte_are_reassembled() {
        let payload = br#"[2,"1","Heartbeat",{}]"#;
        let frame = client(0x81, payload);
        for cut in 0..frame.len() {
            let mut reader = FrameReader::new(100, true);
            let mut events = reader.feed(&frame[..cut]);
            events.extend(reader.feed(&frame[cut..]));
            assert_eq!(events, vec![text(payload)], "cut at {cut}");
        }
    }

    #[test]
    fn several_frames_in_one_read() {
        let mut data = client(0x81, b"one");
        data.extend(client(0x89, b"p"));
        data.extend(client(0x81, b"two"));
        assert_eq!(
            FrameReader::new(100, true).feed(&data),
            vec![text(b"one"), Event::Ping(b"p".to_vec()), text(b"two")]
        );
    }

    #[test]
    fn sixteen_and_sixty_four_bit_lengths() {
        for n in [125usize, 126, 65535, 65536, 70000] {
            let payload = vec![b'a'; n];
            assert_eq!(
                FrameReader::new(1 << 20, true).feed(&client(0x81, &payload)),
                vec![text(&payload)],
                "length {n}"
            );
        }
    }

    #[test]
    fn fragmented_message_with_a_ping_between_fragments() {
        let mut data = client(0x01, b"[2,\"1\",");
        data.extend(client(0x89, b"keepalive"));
        data.extend(client(0x00, b"\"Heartbeat\","));
        data.extend(client(0x80, b"{}]"));
        assert_eq!(
            FrameReader::new(100, true).feed(&data),
            vec![
                Event::Ping(b"keepalive".to_vec()),
                text(br#"[2,"1","Heartbeat",{}]"#)
            ]
        );
    }

    #[test]
    fn utf8_split_across_fragments_is_valid() {
        let word = "Grüße".as_bytes();
        let mut data = client(0x01, &word[..3]);
        data.extend(client(0x80, &word[3..]));
        assert_eq!(FrameReader::new(100, true).feed(&data), vec![text(word)]);
    }

    #[test]
    fn binary_messages_are_not_utf8_checked() {
        assert_eq!(
            FrameReader::new(100, true).feed(&client(0x82, &[0xff, 0xfe])),
            vec![Event::Message {
                opcode: BINARY,
                payload: vec![0xff, 0xfe]
            }]
        );
    }

    #[test]
    fn violations_and_their_codes() {
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (client(0xC1, b"x"), PROTOCOL_ERROR),           // RSV1
            (client(0x83, b"x"), PROTOCOL_ERROR),           // opcode 3
            (vec![0x81, 0x01, b'x'], PROTOCOL_ERROR),       // not masked
            (client(0x09, b"x"), PROTOCOL_ERROR),           // fragmented ping
            (client(0x89, &[0; 126]), PROTOCOL_ERROR),      // long ping
            (client(0x80, b"x"), PROTOCOL_ERROR),           // continuation first
            (client(0x81, &[0xc3, 0x28]), INVALID_DATA),    // bad UTF-8
            (client(0x81, &[b'a'; 101]), MESSAGE_TOO_BIG),  // over the limit
            (client(0x88, &[0x03]), PROTOCOL_ERROR),        // 1-byte close body
            (client(0x88, &1005u16.to_be_bytes()), PROTOCOL_ERROR),
            (client(0x88, &[0x03, 0xe8, 0xff]), INVALID_DATA),
        ];
        for (data, code) in cases {
            let mut reader = FrameReader::new(100, true);
            assert_eq!(violation_code(&reader.feed(&data)), Some(code), "{data:?}");
            assert!(reader.finished());
            assert_eq!(reader.feed(&client(0x81, b"after")), vec![]);
        }
    }

    #[test]
    fn new_message_inside_a_fragmented_one_is_a_violation() {
        let mut data = client(0x01, b"a");
        data.extend(client(0x81, b"b"));
        assert_eq!(violation_code(&FrameReader::new(100, true).feed(&data)), Some(PROTOCOL_ERROR));
    }

    #[test]
    fn oversize_is_detected_from_the_header_and_across_fragments() {
        // Only the header of a huge frame is there: refused without waiting for its body.
        let mut header = vec![0x81, 0xFF];
        header.extend_from_slice(&(1u64 << 40).to_be_bytes());
        assert_eq!(violation_code(&FrameReader::new(100, true).feed(&header)), Some(MESSAGE_TOO_BIG));
        let mut data = client(0x01, &[b'a'; 60]);
        data.extend(client(0x80, &[b'a'; 41]));
        assert_eq!(violation_code(&FrameReader::new(100, true).feed(&data)), Some(MESSAGE_TOO_BIG));
        // Exactly the limit is fine.
        let mut data = client(0x01, &[b'a'; 60]);
        data.extend(client(0x80, &[b'a'; 40]));
        assert_eq!(FrameReader::new(100, true).feed(&data), vec![text(&[b'a'; 100])]);
    }

    #[test]
    fn close_frames() {
        let mut reader = FrameReader::new(100, true);
        let mut body = 1001u16.to_be_bytes().to_vec();
        body.extend_from_slice("bye ✓".as_bytes());
        assert_eq!(
            reader.feed(&client(0x88, &body)),
            vec![Event::Close {
                code: Some(1001),
                reason: "bye ✓".into()
            }]
        );
        assert!(reader.finished());
        assert_eq!(
            FrameReader::new(100, true).feed(&client(0x88, b"")),
            vec![Event::Close {
                code: None,
                reason: String::new()
            }]
        );
    }

    #[test]
    fn client_side_reads_unmasked_frames_and_refuses_masked_ones() {
        let frame = [0x81, 0x02, b'h', b'i'];
        assert_eq!(FrameReader::new(100, false).feed(&frame), vec![text(b"hi")]);
        let events = FrameReader::new(100, false).feed(&client(0x81, b"hi"));
        assert_eq!(violation_code(&events), Some(PROTOCOL_ERROR));
    }

    #[test]
    fn close_codes() {
        for code in [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(valid_close_code(code), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!valid_close_code(code), "{code}");
        }
    }
}
