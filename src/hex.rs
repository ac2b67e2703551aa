//! Lower-case hex, the one way bytes are written as text here (hashes in the log,
//! idempotency fingerprints, asset names, Subsonic salts).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The bytes of lower-case hex text (`encode`'s output); `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_back_what_it_wrote_and_nothing_else() {
        let bytes = [0x00, 0x0f, 0xab, 0xff];
        assert_eq!(super::decode(&super::encode(&bytes)).unwrap(), bytes);
        for bad in ["0", "0g", "AB", "0x00", " 00"] {
            assert_eq!(super::decode(bad), None, "{bad}");
        }
        assert_eq!(super::decode("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn writes_two_lower_case_digits_per_byte() {
        assert_eq!(super::encode(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(super::encode(&[]), "");
    }
}
