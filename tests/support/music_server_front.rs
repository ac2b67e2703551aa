//! A hostile or slow music server, made of the real one: a real TCP server in front of the
//! test supysonic that passes every call through (so shares are made of real albums and real
//! metadata), except the Subsonic methods it was given a scripted answer for. Those it answers
//! itself: a file that trickles in (a slow music server, or one behind a slow link), or any
//! answer at all (an HTML page with no `Content-Type`, an SVG with a script).
//!
//! It counts the scripted answers still being written, so a test can see sharelog hang up on
//! the music server: a trickle stops as soon as a write fails.

use super::TestUpstream;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the front answers for one Subsonic method instead of the real music server.
#[derive(Clone, Debug)]
pub enum Scripted {
    /// 200 with `Content-Length: total`, sending `chunk` bytes every `every` until `total`
    /// bytes are sent or the reader hangs up.
    Trickle {
        content_type: &'static str,
        chunk: usize,
        every: Duration,
        total: usize,
    },
    /// A 200 with exactly these headers (no `Content-Type` unless given) and this body.
    Answer {
        headers: Vec<(&'static str, &'static str)>,
        body: Vec<u8>,
    },
}

impl Scripted {
    /// The slow music server: 16 KiB every 0.1 s, for `seconds` if nobody hangs up.
    pub fn trickle_for(seconds: usize) -> Scripted {
        Scripted::Trickle {
            content_type: "audio/mpeg",
            chunk: 16 * 1024,
            every: Duration::from_millis(100),
            total: 16 * 1024 * 10 * seconds,
        }
    }
}

pub struct MusicServerFront {
    /// `http://127.0.0.1:PORT`, for `upstream.url`.
    pub url: String,
    writing: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
}

impl MusicServerFront {
    /// Starts in front of `real`, answering each method of `scripted` itself.
    pub fn start(real: &TestUpstream, scripted: Vec<(&'static str, Scripted)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let real = real.addr().to_string();
        let writing = Arc::new(AtomicUsize::new(0));
        let answered = Arc::new(AtomicUsize::new(0));
        let (w, a) = (writing.clone(), answered.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (real, scripted, w, a) = (real.clone(), scripted.clone(), w.clone(), a.clone());
                std::thread::spawn(move || serve(conn, &real, &scripted, &w, &a));
            }
        });
        MusicServerFront {
            url,
            writing,
            answered,
        }
    }

    /// Scripted answers being written right now.
    pub fn writing(&self) -> usize {
        self.writing.load(Ordering::SeqCst)
    }

    /// Scripted answers started so far.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// Waits up to `patience` until no scripted answer is being written; true if so.
    pub fn wait_until_idle(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        while self.writing() > 0 {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }
}

/// The Subsonic method of a request target: `/rest/stream?…` or `/rest/stream.view?…`.
fn method_of(target: &str) -> &str {
    let rest = target.strip_prefix("/rest/").unwrap_or("");
    let name = rest.split('?').next().unwrap_or("");
    name.strip_suffix(".view").unwrap_or(name)
}

fn serve(
    mut conn: TcpStream,
    real: &str,
    scripted: &[(&str, Scripted)],
    writing: &AtomicUsize,
    answered: &AtomicUsize,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut line = head.split_whitespace();
    let verb = line.next().unwrap_or("GET").to_string();
    let target = line.next().unwrap_or("/").to_string();
    let Some((_, answer)) = scripted.iter().find(|(m, _)| *m == method_of(&target)) else {
        // One request per connection, so the answer ends when the music server closes.
        let mut up = TcpStream::connect(real).unwrap();
        write!(up, "{verb} {target} HTTP/1.0\r\nHost: {real}\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        up.read_to_end(&mut answer).unwrap();
        let _ = conn.write_all(&answer);
        return;
    };
    answered.fetch_add(1, Ordering::SeqCst);
    writing.fetch_add(1, Ordering::SeqCst);
    let _ = answer_with(&mut conn, answer, verb == "HEAD");
    writing.fetch_sub(1, Ordering::SeqCst);
}

fn answer_with(conn: &mut TcpStream, answer: &Scripted, head_only: bool) -> std::io::Result<()> {
    match answer {
        Scripted::Trickle {
            content_type,
            chunk,
            every,
            total,
        } => {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
            )?;
            let mut sent = 0;
            while !head_only && sent < *total {
                let n = (*chunk).min(total - sent);
                conn.write_all(&vec![0x55u8; n])?;
                sent += n;
                std::thread::sleep(*every);
            }
            Ok(())
        }
        Scripted::Answer { headers, body } => {
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            conn.write_all(out.as_bytes())?;
            if !head_only {
                conn.write_all(body)?;
            }
            Ok(())
        }
    }
}
