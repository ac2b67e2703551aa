//! A notification target for the tests: a small HTTP/1.1 server on a loopback port that
//! records every request (method, path, headers, body) and answers as it is told: 200,
//! an error status, 200 after a while, or never (a request left in flight).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ok,
    /// Answers with this status (e.g. 503).
    Fail(u16),
    /// Answers 200 after this long.
    Slow(Duration),
    /// Records the request and never answers (a request left in flight).
    Hang,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What it was answered (0 while it hangs).
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    received: Vec<Received>,
}

pub struct Receiver {
    /// `http://127.0.0.1:PORT/`: an allow-list entry for it.
    pub base: String,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl Receiver {
    pub fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!(
            "http://127.0.0.1:{}/",
            listener.local_addr().unwrap().port()
        );
        let state = Arc::new((
            Mutex::new(State {
                mode: Some(mode),
                received: Vec::new(),
            }),
            Condvar::new(),
        ));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(conn, &shared));
            }
        });
        Receiver { base, state }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.0.lock().unwrap().mode = Some(mode);
    }

    /// Every request so far.
    pub fn all(&self) -> Vec<Received> {
        self.state.0.lock().unwrap().received.clone()
    }

    /// The requests answered 2xx, in the order they arrived.
    pub fn delivered(&self) -> Vec<Received> {
        let all = self.all();
        all.into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits until `n` requests were answered 2xx; panics after `within`.
    pub fn wait_delivered(&self, n: usize, within: Duration) -> Vec<Received> {
        self.wait(within, |s| {
            s.received
                .iter()
                .filter(|r| (200..300).contains(&r.status))
                .count()
                >= n
        });
        self.delivered()
    }

    /// Waits until `n` requests arrived (answered or not); panics after `within`.
    pub fn wait_received(&self, n: usize, within: Duration) -> Vec<Received> {
        self.wait(within, |s| s.received.len() >= n);
        self.all()
    }

    fn wait(&self, within: Duration, done: impl Fn(&State) -> bool) {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + within;
        let mut s = lock.lock().unwrap();
        while !done(&s) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the receiver got {} requests ({} answered 2xx) in {within:?}",
                s.received.len(),
                s.received
                    .iter()
                    .filter(|r| (200..300).contains(&r.status))
                    .count()
            );
            s = cv.wait_timeout(s, left).unwrap().0;
        }
    }
}

fn serve(conn: TcpStream, state: &Arc<(Mutex<State>, Condvar)>) {
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    // Keep-alive: one request after the other on the same connection.
    while let Some(mut req) = read_request(&mut reader) {
        let (lock, cv) = &**state;
        let (index, mode) = {
            let mut s = lock.lock().unwrap();
            s.received.push(req.clone());
            (s.received.len() - 1, s.mode.unwrap_or(Mode::Ok))
        };
        cv.notify_all();
        let status = match mode {
            Mode::Ok => 200,
            Mode::Fail(status) => status,
            Mode::Slow(d) => {
                std::thread::sleep(d);
                200
            }
            Mode::Hang => {
                // Held until the client gives up or dies; never answered.
                let mut sink = [0u8; 1024];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
        };
        req.status = status;
        lock.lock().unwrap().received[index].status = status;
        cv.notify_all();
        let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
        if conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = Vec::new();
        reader.read_until(b'\n', &mut h).ok()?;
        let h = String::from_utf8_lossy(&h).trim_end().to_string();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body,
        status: 0,
    })
}
