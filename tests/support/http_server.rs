//! A tiny std-only HTTP/1.1 server for download tests.
//!
//! It serves one in-memory file at one path on `127.0.0.1:<random port>` from
//! a background thread, honours `Range: bytes=N-`, records every request for
//! assertions, and can cut the first response short to simulate a dropped
//! connection. It never touches the network beyond loopback and stops when
//! the [`TestServer`] is dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// e.g. `GET`.
    pub method: String,
    /// Request target, e.g. `/ggml-tiny.en.bin`.
    pub path: String,
    /// Value of the `Range` header, if any.
    pub range: Option<String>,
}

/// How the server should behave; build with [`TestServer::builder`].
pub struct TestServerBuilder {
    path: String,
    body: Vec<u8>,
    drop_first_after: Option<usize>,
    ignore_range: bool,
}

impl TestServerBuilder {
    /// On the first request, send the headers for the full response but only
    /// `bytes` body bytes, then close the connection.
    pub fn drop_first_after(mut self, bytes: usize) -> Self {
        self.drop_first_after = Some(bytes);
        self
    }

    /// Answer `200` with the whole file even when a `Range` is requested, like
    /// servers that do not support resuming.
    pub fn ignore_range(mut self) -> Self {
        self.ignore_range = true;
        self
    }

    /// Binds to a free loopback port and starts serving in the background.
    pub fn start(self) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback test server");
        let addr = listener.local_addr().expect("local address of test server");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let state = ServerState {
            path: self.path,
            body: self.body,
            drop_first_after: self.drop_first_after,
            ignore_range: self.ignore_range,
            requests: Arc::clone(&requests),
        };
        let stop_flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    state.handle(stream);
                }
            }
        });
        TestServer {
            addr,
            requests,
            stop,
            handle: Some(handle),
        }
    }
}

/// A running server; dropping it stops the background thread.
pub struct TestServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts configuring a server that serves `body` at `path` (e.g. `/f.bin`).
    pub fn builder(path: &str, body: Vec<u8>) -> TestServerBuilder {
        TestServerBuilder {
            path: path.to_string(),
            body,
            drop_first_after: None,
            ignore_range: false,
        }
    }

    /// `http://127.0.0.1:<port>` with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

struct ServerState {
    path: String,
    body: Vec<u8>,
    drop_first_after: Option<usize>,
    ignore_range: bool,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl ServerState {
    /// Serves one request per connection and closes it, which keeps the
    /// server single-threaded and its request log strictly ordered.
    fn handle(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
        let Ok(read_half) = stream.try_clone() else {
            return;
        };
        let Some(request) = read_request(BufReader::new(read_half)) else {
            return;
        };
        let index = {
            let mut log = match self.requests.lock() {
                Ok(log) => log,
                Err(poisoned) => poisoned.into_inner(),
            };
            log.push(request.clone());
            log.len() - 1
        };
        let mut stream = stream;

        if request.method != "GET" || request.path != self.path {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }

        let len = self.body.len();
        let start = if self.ignore_range {
            None
        } else {
            request.range.as_deref().and_then(parse_range_start)
        };
        let (head, body) = match start {
            Some(s) if s >= len => {
                let head = format!(
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                (head, &self.body[..0])
            }
            Some(s) => {
                let head = format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                    len - 1,
                    len - s
                );
                (head, &self.body[s..])
            }
            None => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nAccept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
                );
                (head, &self.body[..])
            }
        };

        let body = match self.drop_first_after {
            Some(k) if index == 0 => &body[..k.min(body.len())],
            _ => body,
        };
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
        let _ = stream.flush();
        // The request was read in full, so closing sends a clean FIN (not a
        // reset) and the client receives every byte written above.
        let _ = stream.shutdown(Shutdown::Write);
    }
}

/// Reads the request line and headers (no request bodies are expected).
fn read_request(mut reader: BufReader<TcpStream>) -> Option<RecordedRequest> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut range = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    Some(RecordedRequest {
        method,
        path,
        range,
    })
}

/// `bytes=N-` -> N. Other range forms are answered with the whole file.
fn parse_range_start(value: &str) -> Option<usize> {
    value
        .trim()
        .strip_prefix("bytes=")?
        .strip_suffix('-')?
        .parse()
        .ok()
}
