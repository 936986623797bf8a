//! Asking a running seesay to describe the screen: a local Unix socket with a one-line protocol.
//!
//! `seesay --describe-screen` (bound to a key in the desktop's own shortcut settings, which is
//! what works on Wayland) connects to the socket and writes `describe-screen\n`; the app's
//! listener thread forwards the request over a channel, and the app acts as if its hotkey was
//! pressed, then answers `ok\n`. No app listening means the caller describes on its own.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// How long either side waits for the other's line: a stuck peer must not hold the listener.
const LINE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a client can ask of the running app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Describe the whole screen.
    DescribeScreen,
    /// Describe the active window (not seesay's own).
    DescribeWindow,
}

impl Request {
    /// The line sent for this request, without its newline.
    pub fn as_line(self) -> &'static str {
        match self {
            Self::DescribeScreen => "describe-screen",
            Self::DescribeWindow => "describe-window",
        }
    }

    /// Reads a line sent by a client (surrounding white space is ignored).
    pub fn parse(line: &str) -> Option<Self> {
        match line.trim() {
            "describe-screen" => Some(Self::DescribeScreen),
            "describe-window" => Some(Self::DescribeWindow),
            _ => None,
        }
    }
}

/// What went wrong with the socket, in words.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// Another seesay already listens there.
    #[error("another seesay is already running (it listens on {0})")]
    AlreadyRunning(PathBuf),
    /// Something at the path is not ours to replace.
    #[error("{0} exists and is not a seesay socket of this user; remove it to let seesay listen")]
    NotOurs(PathBuf),
    /// The running app did not understand or did not answer.
    #[error("the running seesay answered {0:?}")]
    Refused(String),
    /// A system call failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What seesay was doing.
        what: &'static str,
        /// The socket's path.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RemoteError {
    let path = path.to_path_buf();
    move |source| RemoteError::Io { what, path, source }
}

/// Where the socket lives: `$XDG_RUNTIME_DIR/seesay.sock` (a private directory), else
/// `/tmp/seesay-$UID.sock`.
pub fn socket_path() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("seesay.sock"),
        None => std::env::temp_dir().join(format!("seesay-{}.sock", current_uid())),
    }
}

/// This process's user id, read without libc: the owner of `/proc/self`.
fn current_uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}

/// Sends `request` to a seesay listening at `path`. `Ok(false)`: none is running there.
pub fn send(path: &Path, request: Request) -> Result<bool, RemoteError> {
    let mut stream = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e) if is_nobody_there(&e) => return Ok(false),
        Err(e) => return Err(io("cannot connect to", path)(e)),
    };
    stream
        .set_read_timeout(Some(LINE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(LINE_TIMEOUT)))
        .and_then(|()| writeln!(stream, "{}", request.as_line()))
        .map_err(io("cannot write to", path))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(io("no answer from", path))?;
    match answer.trim() {
        "ok" => Ok(true),
        other => Err(RemoteError::Refused(other.to_owned())),
    }
}

fn is_nobody_there(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
    )
}

/// The app's end of the socket: a named thread accepts clients and forwards their requests.
/// Dropping it stops the thread and removes the socket file.
#[derive(Debug)]
pub struct Listener {
    path: PathBuf,
    requests: mpsc::Receiver<Request>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Listens at `path`, replacing a stale socket left by a seesay that died; `wake` is called
    /// after each request is queued (the app asks for a repaint there).
    pub fn start(path: &Path, wake: Arc<dyn Fn() + Send + Sync>) -> Result<Self, RemoteError> {
        remove_stale(path)?;
        let listener = UnixListener::bind(path).map_err(io("cannot listen on", path))?;
        // In /tmp the file is visible to all: only this user may talk to it.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(io("cannot restrict", path))?;
        let (tx, requests) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        std::thread::Builder::new()
            .name("seesay-remote".into())
            .spawn(move || serve(&listener, &tx, &thread_stop, wake.as_ref()))
            .map_err(io("cannot start the listener thread for", path))?;
        Ok(Self {
            path: path.to_path_buf(),
            requests,
            stop,
        })
    }

    /// The next request received, if any (never blocks).
    pub fn try_recv(&self) -> Option<Request> {
        self.requests.try_recv().ok()
    }

    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the thread from accept() so it sees the flag and ends.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes a socket file no one listens on; refuses when someone does, or when the file is not
/// a socket of this user (never delete what is not ours).
fn remove_stale(path: &Path) -> Result<(), RemoteError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() || meta.uid() != current_uid() {
        return Err(RemoteError::NotOurs(path.to_path_buf()));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(RemoteError::AlreadyRunning(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(io("cannot remove the stale socket", path))
        }
        Err(e) => Err(io("cannot check", path)(e)),
    }
}

/// Accepts clients one at a time until stopped or the app's end of the channel is gone.
fn serve(
    listener: &UnixListener,
    tx: &mpsc::Sender<Request>,
    stop: &AtomicBool,
    wake: &(dyn Fn() + Send + Sync),
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        // A client that sends nothing only costs LINE_TIMEOUT.
        let _ = stream.set_read_timeout(Some(LINE_TIMEOUT));
        let _ = stream.set_write_timeout(Some(LINE_TIMEOUT));
        let mut line = String::new();
        if BufReader::new(&stream).read_line(&mut line).is_err() {
            continue;
        }
        let answer = match Request::parse(&line) {
            Some(request) => {
                if tx.send(request).is_err() {
                    return;
                }
                wake();
                "ok"
            }
            None => "unknown request",
        };
        let _ = writeln!(&stream, "{answer}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    fn counting_wake() -> (Arc<AtomicUsize>, Arc<dyn Fn() + Send + Sync>) {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        (
            count,
            Arc::new(move || {
                c.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    fn recv(listener: &Listener) -> Option<Request> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Some(r) = listener.try_recv() {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    #[test]
    fn requests_round_trip_as_lines() {
        for r in [Request::DescribeScreen, Request::DescribeWindow] {
            assert_eq!(Request::parse(&format!("{}\n", r.as_line())), Some(r));
        }
        assert_eq!(Request::parse("rm -rf /"), None);
    }

    #[test]
    fn a_client_message_reaches_the_listeners_channel() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("seesay.sock");
        let (woken, wake) = counting_wake();
        let listener = Listener::start(&path, wake).expect("listen");
        assert!(send(&path, Request::DescribeWindow).expect("send"));
        assert_eq!(recv(&listener), Some(Request::DescribeWindow));
        assert!(send(&path, Request::DescribeScreen).expect("send"));
        assert_eq!(recv(&listener), Some(Request::DescribeScreen));
        assert_eq!(woken.load(Ordering::SeqCst), 2);
        // Something else is answered, not forwarded.
        let mut s = UnixStream::connect(&path).expect("connect");
        writeln!(s, "format-disk").expect("write");
        let mut answer = String::new();
        BufReader::new(&s).read_line(&mut answer).expect("answer");
        assert_eq!(answer.trim(), "unknown request");
        assert_eq!(listener.try_recv(), None);
    }

    #[test]
    fn with_no_app_running_send_says_so() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("seesay.sock");
        assert!(!send(&path, Request::DescribeScreen).expect("send"));
        // A socket file left by a seesay that died is the same as none.
        drop(UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        assert!(!send(&path, Request::DescribeScreen).expect("send"));
    }

    #[test]
    fn a_stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("seesay.sock");
        drop(UnixListener::bind(&path).expect("bind"));
        let (_, wake) = counting_wake();
        let listener = Listener::start(&path, wake).expect("listen over a stale socket");
        assert!(send(&path, Request::DescribeScreen).expect("send"));
        assert_eq!(recv(&listener), Some(Request::DescribeScreen));
        // Stopping removes the file, so the next start finds nothing stale.
        drop(listener);
        assert!(!path.exists());
    }

    #[test]
    fn a_second_instance_detects_the_first() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("seesay.sock");
        let (_, wake) = counting_wake();
        let first = Listener::start(&path, wake.clone()).expect("listen");
        let second = Listener::start(&path, wake);
        assert!(
            matches!(second, Err(RemoteError::AlreadyRunning(_))),
            "{second:?}"
        );
        // The first still works: the second did not remove its socket.
        assert!(send(&path, Request::DescribeWindow).expect("send"));
        assert_eq!(recv(&first), Some(Request::DescribeWindow));
    }

    #[test]
    fn a_file_that_is_not_a_socket_is_left_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("seesay.sock");
        std::fs::write(&path, "precious").expect("write");
        let (_, wake) = counting_wake();
        let err = Listener::start(&path, wake).expect_err("must refuse");
        assert!(matches!(err, RemoteError::NotOurs(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "precious");
    }
}
