//! The service speaks HTTP/1.1 only (behind the reverse proxy nothing needs more), so the
//! `h2` crate that awc links in is never reached from the network: a client that opens with
//! the HTTP/2 preface (h2c, prior knowledge) gets no HTTP/2 frame back. See the README's
//! "Advisories" paragraph.

use crate::support::binary;

use binary::Binary;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn an_http2_prior_knowledge_client_gets_no_http2_answer() {
    let work = tempfile::tempdir().unwrap();
    let app = Binary::start(work.path(), &work.path().join("data"), &[]);
    let mut s = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The connection preface, then an empty SETTINGS frame (length 0, type 4, flags 0, stream 0).
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    // An HTTP/2 server's first bytes are its SETTINGS frame: byte 3 is frame type 4.
    let is_h2 = answer.len() >= 9 && answer[3] == 4 && !answer.starts_with(b"HTTP/");
    assert!(
        !is_h2,
        "answered with HTTP/2 frames: {:?}",
        &answer[..answer.len().min(32)]
    );
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1."),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // The same server still answers HTTP/1.1.
    assert_eq!(app.send("GET", "/livez", None).unwrap().0, 200);
}
