//! trio-csms native core: the OCPP-J frame codec, the WebSocket frame reader and the socket
//! reads and writes that keep the GIL.
//!
//! `json`, `frame`, `actions`, `ws` and `fdio` are plain Rust (tested with `cargo test --no-default-features`).
//! This file only declares them and, behind the `python` feature, the `_native` extension
//! module, which converts their results to Python objects and nothing else.

pub mod actions;
pub mod fdio;
pub mod frame;
pub mod json;
pub mod ws;

/// `trio_csms._native`: the Rust implementation of `trio_csms.rpc.frames`.
///
/// The pure-Python twin is `trio_csms.rpc._frames_py`; both give identical results.
#[cfg(feature = "python")]
#[pyo3::pymodule]
mod _native {
    use pyo3::prelude::*;
    use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

    use std::cell::RefCell;

    use crate::actions::ACTIONS;
    use crate::fdio;
    use crate::frame::{self, Frame, FrameError};
    use crate::ws;

    /// Python's result tuple for a well-formed frame.
    fn frame_tuple<'py>(py: Python<'py>, parsed: Frame<'_>) -> PyResult<Bound<'py, PyTuple>> {
        let none = || py.None().into_bound(py);
        let (kind, id, x, range, text) = match parsed {
            Frame::Call {
                message_id,
                action,
                payload,
            } => (
                2u8,
                message_id,
                action.into_pyobject(py)?.into_any(),
                payload,
                none(),
            ),
            Frame::CallResult {
                message_id,
                payload,
            } => (3, message_id, none(), payload, none()),
            Frame::CallError {
                message_id,
                error_code,
                error_description,
                error_details,
            } => (
                4,
                message_id,
                PyString::new(py, &error_code).into_any(),
                error_details,
                PyString::new(py, &error_description).into_any(),
            ),
        };
        PyTuple::new(
            py,
            [
                kind.into_pyobject(py)?.into_any(),
                PyString::new(py, &id).into_any(),
                x,
                range.start.into_pyobject(py)?.into_any(),
                range.end.into_pyobject(py)?.into_any(),
                text,
            ],
        )
    }

    /// Python's result tuple for a malformed frame; the id is `"-1"` when it was unreadable.
    #[cold]
    fn error_tuple<'py>(py: Python<'py>, error: &FrameError<'_>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            [
                0u8.into_pyobject(py)?.into_any(),
                PyString::new(py, error.message_id.as_deref().unwrap_or("-1")).into_any(),
                PyString::new(py, error.code().as_str()).into_any(),
                error.message_type.into_pyobject(py)?.into_any(),
                (-1i8).into_pyobject(py)?.into_any(),
                PyString::new(py, &error.description()).into_any(),
            ],
        )
    }

    /// Parse one OCPP-J frame into the 6-tuple described in `trio_csms.rpc.frames`.
    ///
    /// Never raises for `bytes` input; any other type raises TypeError.
    #[pyfunction]
    fn parse_frame<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyTuple>> {
        match frame::parse_frame(data) {
            Ok(parsed) => frame_tuple(py, parsed),
            Err(error) => error_tuple(py, &error),
        }
    }

    /// `[2,"<message_id>","<action>",<payload>]`; raises UnicodeEncodeError on lone surrogates.
    #[pyfunction]
    fn build_call<'py>(
        py: Python<'py>,
        message_id: &str,
        action: &str,
        payload: &[u8],
    ) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &frame::build_call(message_id, action, payload))
    }

    /// `[3,"<message_id>",<payload>]`; raises UnicodeEncodeError on lone surrogates.
    #[pyfunction]
    fn build_result<'py>(py: Python<'py>, message_id: &str, payload: &[u8]) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &frame::build_result(message_id, payload))
    }

    /// `[4,"<message_id>","<code>","<description>",<details>]`; raises UnicodeEncodeError on
    /// lone surrogates.
    #[pyfunction]
    fn build_error<'py>(
        py: Python<'py>,
        message_id: &str,
        code: &str,
        description: &str,
        details: &[u8],
    ) -> Bound<'py, PyBytes> {
        PyBytes::new(
            py,
            &frame::build_error(message_id, code, description, details),
        )
    }

    thread_local! {
        /// Where `read_nonblocking` reads before copying into the bytes it returns: a fresh
        /// buffer per call would cost more than the read.
        static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// `os.read(fd, size)` that keeps the GIL (see `fdio`): the bytes read, b"" at the end of
    /// the stream, None when nothing is waiting; OSError for any other failure.
    #[pyfunction]
    fn read_nonblocking<'py>(
        py: Python<'py>,
        fd: i32,
        size: usize,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        READ_BUFFER.with_borrow_mut(|buf| {
            if buf.len() < size {
                buf.resize(size, 0);
            }
            let read = fdio::read_some(fd, &mut buf[..size])?;
            Ok(read.map(|count| PyBytes::new(py, &buf[..count])))
        })
    }

    /// `os.write(fd, data[offset:])` that keeps the GIL (see `fdio`): how many bytes were
    /// written, None when the socket takes none now; OSError for any other failure.
    #[pyfunction]
    fn write_nonblocking(fd: i32, data: &[u8], offset: usize) -> PyResult<Option<usize>> {
        let rest = data.get(offset..).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "offset {offset} is past the end of {} bytes",
                data.len()
            ))
        })?;
        Ok(fdio::write_some(fd, rest)?)
    }

    /// The WebSocket frame reader of one connection (`trio_csms.ws.frames.FrameReader`).
    #[pyclass(module = "trio_csms._native")]
    struct FrameReader {
        inner: ws::FrameReader,
    }

    #[pymethods]
    impl FrameReader {
        #[new]
        #[pyo3(signature = (max_message_size, masked = true))]
        fn new(max_message_size: usize, masked: bool) -> Self {
            FrameReader {
                inner: ws::FrameReader::new(max_message_size, masked),
            }
        }

        /// The events `data` completes, as tuples: `(opcode, payload)` for messages (1, 2),
        /// pings (9) and pongs (10); `(8, code or None, reason)` for the peer's close;
        /// `(0, code, reason)` for a violation.
        fn feed<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
            let events = self.inner.feed(data);
            let list = PyList::empty(py);
            for event in events {
                list.append(event_tuple(py, event)?)?;
            }
            Ok(list)
        }

        /// Whether a close or a violation ended the reading.
        #[getter]
        fn finished(&self) -> bool {
            self.inner.finished()
        }
    }

    fn event_tuple(py: Python<'_>, event: ws::Event) -> PyResult<Bound<'_, PyTuple>> {
        let opcode_and = |opcode: u8, payload: &[u8]| {
            PyTuple::new(
                py,
                [
                    opcode.into_pyobject(py)?.into_any(),
                    PyBytes::new(py, payload).into_any(),
                ],
            )
        };
        let coded = |kind: u8, code: Option<u16>, reason: &str| {
            PyTuple::new(
                py,
                [
                    kind.into_pyobject(py)?.into_any(),
                    code.into_pyobject(py)?.into_any(),
                    PyString::new(py, reason).into_any(),
                ],
            )
        };
        match event {
            ws::Event::Message { opcode, payload } => opcode_and(opcode, &payload),
            ws::Event::Ping(payload) => opcode_and(ws::PING, &payload),
            ws::Event::Pong(payload) => opcode_and(ws::PONG, &payload),
            ws::Event::Close { code, reason } => coded(ws::CLOSE, code, &reason),
            ws::Event::Violation { code, reason } => coded(0, Some(code), &reason),
        }
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("ACTIONS", PyTuple::new(m.py(), ACTIONS)?)?;
        // Lets a benchmark refuse to time a debug build.
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        m.add("build_profile", profile)?;
        Ok(())
    }
}
