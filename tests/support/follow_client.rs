//! A client of the live audit feed (`GET /api/audit?follow=true`) over a raw socket,
//! reading the body as it arrives (chunked or not), one `\n`-terminated line at a time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct FollowClient {
    stream: TcpStream,
    reader: BufReader<Body>,
    pub status: u16,
    pub head: String,
}

/// What one read gives.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    Line(Vec<u8>),
    Heartbeat,
    /// The server closed the connection.
    End,
    /// Nothing within the read timeout.
    Nothing,
}

impl FollowClient {
    /// Sends the request and reads the status line and headers only.
    pub fn open(addr: &str, path: &str, token: &str) -> FollowClient {
        let mut stream = TcpStream::connect(addr).unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-ND-Authorization: Bearer {token}\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).unwrap();
            if n == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let stream = reader.get_ref().try_clone().unwrap();
        let reader = BufReader::new(Body {
            inner: reader,
            chunked,
            left: 0,
            done: false,
        });
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {head:?}"));
        FollowClient {
            stream,
            reader,
            status,
            head,
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The rest of the body (for error answers).
    pub fn rest(mut self) -> String {
        let mut s = String::new();
        self.reader.read_to_string(&mut s).unwrap();
        s
    }

    /// The next line, waiting at most `wait`.
    pub fn next(&mut self, wait: Duration) -> Got {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => Got::End,
            Ok(_) if line.last() != Some(&b'\n') => Got::End,
            Ok(_) if line == b"\n" => Got::Heartbeat,
            Ok(_) => {
                line.pop();
                Got::Line(line)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                assert!(line.is_empty(), "a partial line before the timeout");
                Got::Nothing
            }
            Err(_) => Got::End,
        }
    }

    /// Event lines (heartbeats skipped) until the one with seq `last`; panics past `wait`.
    pub fn lines_until(&mut self, last: u64, wait: Duration) -> Vec<Vec<u8>> {
        let deadline = std::time::Instant::now() + wait;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "seq {last} did not arrive; got {}",
                out.len()
            );
            match self.next(left) {
                Got::Line(l) => {
                    let seq = seq_of(&l);
                    out.push(l);
                    if seq >= last {
                        return out;
                    }
                }
                Got::Heartbeat | Got::Nothing => {}
                Got::End => panic!("the feed ended before seq {last}; got {}", out.len()),
            }
        }
    }
}

pub fn seq_of(line: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(line)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(line)));
    v["seq"].as_u64().unwrap()
}

/// A response body: the bytes themselves, or decoded from chunked transfer coding.
struct Body {
    inner: BufReader<TcpStream>,
    chunked: bool,
    /// Bytes left in the current chunk.
    left: usize,
    done: bool,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.chunked {
            return self.inner.read(buf);
        }
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut size = String::new();
            if self.inner.read_line(&mut size)? == 0 {
                return Ok(0); // cut: no last chunk
            }
            let size = size.trim();
            let size = if size.is_empty() {
                // The CRLF after the previous chunk's data.
                let mut next = String::new();
                if self.inner.read_line(&mut next)? == 0 {
                    return Ok(0);
                }
                next.trim().to_string()
            } else {
                size.to_string()
            };
            self.left = usize::from_str_radix(&size, 16)
                .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..n])?;
        if n == 0 {
            return Ok(0);
        }
        self.left -= n;
        Ok(n)
    }
}
