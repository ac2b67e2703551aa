//! The hash chain: canonical bytes of an event and the SHA-256 link to its predecessor.
//! `docs/audit.md` is the specification; the test vectors there are checked below.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// The chain's start value: the `prevHash` of seq 1.
pub const GENESIS: [u8; 32] = [0; 32];

/// Canonical JSON: keys sorted by byte order at every level, no whitespace,
/// minimal string escapes, raw UTF-8. Independent of serde_json's map ordering.
pub fn canonical_bytes(v: &Value) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    write_value(&mut out, v);
    out.into_bytes()
}

/// Canonical bytes of the object `v` with one more top-level string field, without
/// cloning `v`: how an export line (`hash` included) is written.
pub fn canonical_bytes_with(v: &serde_json::Map<String, Value>, key: &str, value: &str) -> Vec<u8> {
    let mut keys: Vec<&str> = v.keys().map(String::as_str).filter(|k| *k != key).collect();
    keys.push(key);
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut out = String::with_capacity(512);
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, k);
        out.push(':');
        match v.get(k) {
            Some(item) if k != key => write_value(&mut out, item),
            _ => write_string(&mut out, value),
        }
    }
    out.push('}');
    out.into_bytes()
}

pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                if let Some(item) = map.get(k) {
                    write_value(out, item);
                }
            }
            out.push('}');
        }
    }
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Nearly every string needs no escape: copy it whole.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `SHA-256(prev || canonical)`.
pub fn link(prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

pub fn to_hex(bytes: &[u8; 32]) -> String {
    crate::hex::encode(bytes)
}

pub fn from_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_strings_minimally_escaped() {
        let v = json!({"b": 1, "a": {"z": null, "y": [true, -3]}, "s": "q\"\\\n\t\u{1}é東/"});
        let got = String::from_utf8(canonical_bytes(&v)).unwrap_or_default();
        assert_eq!(
            got,
            r#"{"a":{"y":[true,-3],"z":null},"b":1,"s":"q\"\\\n\t\u0001é東/"}"#
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_upper_case() {
        let h = link(&GENESIS, b"x");
        assert_eq!(from_hex(&to_hex(&h)), Some(h));
        assert_eq!(from_hex(&to_hex(&h).to_uppercase()), None);
    }
}
