//! Non-blocking reads and writes on a socket descriptor, for `trio_csms.ws.sysio`.
//!
//! Why not `os.read`/`os.write`: they release the GIL around the system call. In the server the
//! store's writer thread is usually waiting for it, so every release hands it over: a futex
//! wake and a thread switch on the one core, per read and per write. These calls never wait
//! (MSG_DONTWAIT, whatever the descriptor's mode), so they can keep the GIL. They also report
//! "nothing to read" as a value instead of raising `BlockingIOError`, and a write to a socket
//! the peer closed fails with EPIPE without raising SIGPIPE (MSG_NOSIGNAL), whatever an
//! embedding application did with that signal.

use std::io;

/// Retries on EINTR; `Ok(None)` for EAGAIN/EWOULDBLOCK, `Err` for every other error.
fn retrying(mut call: impl FnMut() -> isize) -> io::Result<Option<usize>> {
    loop {
        let done = call();
        if done >= 0 {
            return Ok(Some(done as usize));
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(error),
        }
    }
}

/// Read at most `buf.len()` bytes: `Some(0)` at the end of the stream, `None` when nothing is
/// waiting.
pub fn read_some(fd: i32, buf: &mut [u8]) -> io::Result<Option<usize>> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call.
    retrying(|| unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) })
}

/// Write as much of `data` as the socket takes now: how many bytes, or `None` when it takes
/// none.
pub fn write_some(fd: i32, data: &[u8]) -> io::Result<Option<usize>> {
    // SAFETY: `data` is valid for reads of `data.len()` bytes for the whole call.
    retrying(|| unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), SEND_FLAGS) })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND_FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
// Elsewhere (macOS) there is no MSG_NOSIGNAL; Python ignores SIGPIPE unless told otherwise.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND_FLAGS: i32 = libc::MSG_DONTWAIT;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    #[test]
    fn reads_what_was_written_then_would_block() {
        let (a, b) = pair();
        let mut buf = [0u8; 16];
        assert_eq!(read_some(b.as_raw_fd(), &mut buf).unwrap(), None);
        assert_eq!(write_some(a.as_raw_fd(), b"hello").unwrap(), Some(5));
        assert_eq!(read_some(b.as_raw_fd(), &mut buf).unwrap(), Some(5));
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(read_some(b.as_raw_fd(), &mut buf).unwrap(), None);
    }

    #[test]
    fn end_of_stream_reads_zero() {
        let (a, b) = pair();
        drop(a);
        let mut buf = [0u8; 16];
        assert_eq!(read_some(b.as_raw_fd(), &mut buf).unwrap(), Some(0));
    }

    #[test]
    fn a_full_socket_takes_part_then_nothing() {
        let (a, _b) = pair();
        let data = vec![7u8; 1 << 20];
        let mut total = 0;
        while let Some(written) = write_some(a.as_raw_fd(), &data).unwrap() {
            assert!(written > 0);
            total += written;
        }
        assert!(total > 0 && total < data.len() * 64);
    }

    #[test]
    fn a_blocking_descriptor_does_not_block() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(read_some(b.as_raw_fd(), &mut buf).unwrap(), None);
        let data = vec![7u8; 1 << 20];
        while write_some(a.as_raw_fd(), &data).unwrap().is_some() {}
    }

    #[test]
    fn other_errors_are_errors() {
        let mut buf = [0u8; 4];
        let error = read_some(-1, &mut buf).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(9)); // EBADF
        let (a, b) = pair();
        drop(b);
        let error = write_some(a.as_raw_fd(), b"x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }
}
