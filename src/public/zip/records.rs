//! The ZIP records the download writes (APPNOTE 6.3: local header, data descriptor,
//! central directory header, end of central directory), stored entries, no ZIP64.

use actix_web::web::Bytes;
use time::OffsetDateTime;

/// Bit 3: sizes in a data descriptor; bit 11: names are UTF-8.
const FLAGS: u16 = 0x0808;

/// A file already written, for the central directory.
pub(super) struct Entry {
    pub name: String,
    pub crc: u32,
    pub size: u32,
    pub offset: u32,
}

pub(super) fn local_header(name: &str, time: u16, date: u16) -> Bytes {
    let mut h = Vec::with_capacity(30 + name.len());
    put32(&mut h, 0x0403_4b50);
    put16(&mut h, 20);
    put16(&mut h, FLAGS);
    put16(&mut h, 0); // stored
    put16(&mut h, time);
    put16(&mut h, date);
    put32(&mut h, 0); // crc, sizes: in the data descriptor
    put32(&mut h, 0);
    put32(&mut h, 0);
    put16(&mut h, name.len() as u16);
    put16(&mut h, 0);
    h.extend_from_slice(name.as_bytes());
    h.into()
}

pub(super) fn central_header(e: &Entry, time: u16, date: u16) -> Bytes {
    let mut h = Vec::with_capacity(46 + e.name.len());
    put32(&mut h, 0x0201_4b50);
    put16(&mut h, 20);
    put16(&mut h, 20);
    put16(&mut h, FLAGS);
    put16(&mut h, 0);
    put16(&mut h, time);
    put16(&mut h, date);
    put32(&mut h, e.crc);
    put32(&mut h, e.size);
    put32(&mut h, e.size);
    put16(&mut h, e.name.len() as u16);
    put16(&mut h, 0); // extra
    put16(&mut h, 0); // comment
    put16(&mut h, 0); // disk
    put16(&mut h, 0); // internal attributes
    put32(&mut h, 0); // external attributes
    put32(&mut h, e.offset);
    h.extend_from_slice(e.name.as_bytes());
    h.into()
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

pub(super) fn dos_time(t: OffsetDateTime) -> (u16, u16) {
    let time =
        (u16::from(t.hour()) << 11) | (u16::from(t.minute()) << 5) | u16::from(t.second() / 2);
    let year = u16::try_from(t.year() - 1980).unwrap_or(0).min(127);
    let date = (year << 9) | (u16::from(u8::from(t.month())) << 5) | u16::from(t.day());
    (time, date)
}

/// After each file: its CRC and sizes, which the local header could not know yet.
pub(super) fn data_descriptor(crc: u32, size: u32) -> Bytes {
    let mut d = Vec::with_capacity(16);
    put32(&mut d, 0x0807_4b50);
    put32(&mut d, crc);
    put32(&mut d, size);
    put32(&mut d, size);
    d.into()
}

/// The archive's last record: how many entries, and where the central directory lies.
pub(super) fn end_record(count: u16, cd_size: u32, cd_start: u32) -> Bytes {
    let mut end = Vec::with_capacity(22);
    put32(&mut end, 0x0605_4b50);
    put16(&mut end, 0);
    put16(&mut end, 0);
    put16(&mut end, count);
    put16(&mut end, count);
    put32(&mut end, cd_size);
    put32(&mut end, cd_start);
    put16(&mut end, 0);
    end.into()
}
