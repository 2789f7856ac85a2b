"""The station websocket: RFC 6455 framing (`frames`), in Rust with a pure-Python twin."""
