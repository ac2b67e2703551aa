//! A transfer (a stream, a download, a zip) as a visitor's HTTP/1.1 client sees it while it
//! runs: its head read, then its body read as fast as it comes on a thread of its own, so a
//! test can change the share meanwhile and see when, and how, the body ended.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Running {
    pub head: String,
    conn: TcpStream,
    pub reader: JoinHandle<Seen>,
}

#[derive(Debug)]
pub struct Seen {
    /// When the body ended (the server closed, or the connection failed).
    pub ended: Instant,
    /// Whether it ended as a whole body does: the last chunk, or `Content-Length` bytes.
    pub clean: bool,
    pub bytes: usize,
}

impl Running {
    /// `GET path` on sharelog at `port` with `headers`; panics unless the answer is a 200.
    pub fn start(port: u16, path: &str, headers: &[(&str, &str)]) -> Running {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        conn.write_all(request.as_bytes()).unwrap();
        // Generous: a body that never ends fails the test's own time checks first.
        conn.set_read_timeout(Some(Duration::from_secs(40)))
            .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let split = loop {
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "{path}: closed before the head");
            raw.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
        let mut body = raw[split + 4..].to_vec();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse::<usize>().unwrap());
        let chunked = head.contains("transfer-encoding: chunked");
        assert!(length.is_some() || chunked, "{path}: {head}");
        let mut from = conn.try_clone().unwrap();
        let reader = std::thread::spawn(move || {
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
            let ended = Instant::now();
            let clean = match length {
                Some(len) => body.len() == len,
                None => body.ends_with(b"\r\n0\r\n\r\n"),
            };
            Seen {
                ended,
                clean,
                bytes: body.len(),
            }
        });
        Running { head, conn, reader }
    }

    /// Hangs up (the reader thread sees the end at once).
    pub fn hang_up(self) {
        let _ = self.conn.shutdown(Shutdown::Both);
        let _ = self.reader.join();
    }

    pub fn seen(self) -> Seen {
        self.reader.join().unwrap()
    }
}
