//! `?download=true`: a zip of the original files, written while they arrive from the music
//! server. Entries are stored (audio does not compress), with the CRC and sizes in a data
//! descriptor after each file, so nothing is held but the chunk in flight. No ZIP64: a
//! download past 4 GiB is cut off with an error rather than written wrong.

use super::pipe::{self, Outlet};
use super::proxy::attachment;
use super::transfers::Transfer;
use super::{proxied, upstream_error};
use crate::domain::{Share, Track};
use crate::error::ApiError;
use crate::upstream::{Pool, Upstream, UpstreamError};
use actix_web::http::{header, Method};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use std::collections::HashSet;
use std::io;
use std::sync::Arc;
use time::OffsetDateTime;

mod records;
use records::{central_header, data_descriptor, dos_time, end_record, local_header, Entry};

pub fn disposition(share: &Share) -> String {
    let name = share
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(share.id.as_str());
    attachment(&format!("{}.zip", clean(name)))
}

/// The first file's download, opened before a 200 is promised: a music server that fails
/// or hangs on it is a 502 (and no visit), not a 200 followed by a zip that never comes.
/// `None` for a share without tracks.
pub async fn open_first(
    up: &Upstream,
    tracks: &[Track],
) -> Result<Option<awc::ClientResponse>, ApiError> {
    match tracks.first() {
        None => Ok(None),
        Some(t) => open(up, t).await.map(Some).map_err(upstream_error),
    }
}

/// A track's original file, refused unless the music server answers with the file itself.
async fn open(up: &Upstream, t: &Track) -> Result<awc::ClientResponse, UpstreamError> {
    let resp = up
        .open(
            Pool::Bulk,
            Method::GET,
            "download",
            &[("id", t.id.as_str())],
            [],
        )
        .await?;
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if resp.status().as_u16() != 200
        || ct.contains("json")
        || ct.contains("xml")
        || ct.starts_with("text/html")
    {
        return Err(UpstreamError::Failed(format!(
            "download refused (HTTP {})",
            resp.status().as_u16()
        )));
    }
    Ok(resp)
}

/// The zip, its first file already open (`open_first`). Later files are opened as the zip
/// gets to them; one that fails or stalls cuts the zip off with an error (the visitor's
/// connection closes before the zip's end record, so no tool takes it for whole), and so does
/// the transfer having to end (`transfer_end`: `limits.transferTimeout`, or access ending).
pub fn response(
    share: &Share,
    tracks: Vec<Track>,
    up: Arc<Upstream>,
    first: Option<awc::ClientResponse>,
    transfer: Transfer,
) -> HttpResponse {
    let stall = up.stall_timeout();
    let body = pipe::spawn("zip", stall, transfer, |outlet| async move {
        write(tracks, first, &up, &outlet).await?;
        outlet.finish();
        Ok(())
    });
    headers(share).streaming(body)
}

/// The answer to `HEAD` of the zip: the `GET`'s headers. Its length is not known before it
/// is written, so `HEAD` gives none either (a `Content-Length: 0` would be wrong).
pub fn head(share: &Share) -> HttpResponse {
    let nothing = futures_util::stream::empty::<Result<Bytes, io::Error>>();
    headers(share).streaming(nothing)
}

fn headers(share: &Share) -> actix_web::HttpResponseBuilder {
    let mut resp = HttpResponse::Ok();
    resp.content_type("application/zip")
        .insert_header((header::CONTENT_DISPOSITION, disposition(share)))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    // Ours, but made of the music server's bytes: never sniffed, never run.
    proxied::harden(&mut resp);
    resp
}

struct Writer<'a> {
    out: &'a Outlet,
    offset: u64,
}

impl Writer<'_> {
    async fn send(&mut self, b: Bytes) -> io::Result<()> {
        self.grow(b.len())?;
        self.out.send(b).await
    }

    fn grow(&mut self, by: usize) -> io::Result<()> {
        self.offset += by as u64;
        if self.offset > u64::from(u32::MAX) {
            return Err(io::Error::other("zip would exceed 4 GiB (no ZIP64)"));
        }
        Ok(())
    }

    fn at(&self) -> u32 {
        // `grow` keeps the offset within u32.
        u32::try_from(self.offset).unwrap_or(u32::MAX)
    }
}

async fn write(
    tracks: Vec<Track>,
    mut first: Option<awc::ClientResponse>,
    up: &Upstream,
    out: &Outlet,
) -> io::Result<()> {
    let (time, date) = dos_time(OffsetDateTime::now_utc());
    let mut w = Writer { out, offset: 0 };
    let mut names = HashSet::new();
    let mut entries = Vec::with_capacity(tracks.len());
    let width = tracks.len().to_string().len().max(2);
    for (i, t) in tracks.iter().enumerate() {
        let name = unique(file_name(i + 1, width, t), &mut names);
        let offset = w.at();
        w.send(local_header(&name, time, date)).await?;
        let mut resp = match first.take() {
            Some(resp) => resp,
            None => open(up, t)
                .await
                .map_err(|e| io::Error::other(e.to_string()))?,
        };
        let mut crc = crc32fast::Hasher::new();
        let size = out.copy(&mut resp, |chunk| crc.update(chunk)).await?;
        w.grow(usize::try_from(size).map_err(io::Error::other)?)?;
        let size = u32::try_from(size).map_err(io::Error::other)?;
        let crc = crc.finalize();
        w.send(data_descriptor(crc, size)).await?;
        entries.push(Entry {
            name,
            crc,
            size,
            offset,
        });
    }
    let cd_start = w.at();
    for e in &entries {
        w.send(central_header(e, time, date)).await?;
    }
    let cd_size = w.at() - cd_start;
    let count = u16::try_from(entries.len()).map_err(io::Error::other)?;
    w.send(end_record(count, cd_size, cd_start)).await
}

/// `01 - Artist - Title.mp3`, without path separators or control characters, ≤ 200 chars.
/// The number is the track's place in the share, not its number on its album: a share of
/// two albums or of a playlist would otherwise list `01, 01, 03`, and sort out of order.
fn file_name(position: usize, width: usize, t: &Track) -> String {
    let stem = format!("{position:0width$} - {} - {}", t.artist, t.title);
    let stem: String = clean(&stem).chars().take(200).collect();
    if t.suffix.is_empty() {
        stem
    } else {
        format!("{stem}.{}", clean(&t.suffix))
    }
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn unique(name: String, seen: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !seen.insert(candidate.clone()) {
        candidate = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem} ({n}).{ext}"),
            None => format!("{name} ({n})"),
        };
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashing_names_get_a_number() {
        let mut seen = HashSet::new();
        assert_eq!(unique("a.mp3".into(), &mut seen), "a.mp3");
        assert_eq!(unique("a.mp3".into(), &mut seen), "a (2).mp3");
        assert_eq!(unique("a.mp3".into(), &mut seen), "a (3).mp3");
    }

    #[test]
    fn names_cannot_escape_the_archive() {
        assert_eq!(clean("../x/y"), ".._x_y");
    }

    #[test]
    fn dos_dates_pack_as_the_format_says() {
        let (t, d) = dos_time(time::macros::datetime!(2026-11-26 19:54:56 UTC));
        assert_eq!(t, (19 << 11) | (54 << 5) | 28);
        assert_eq!(d, (46 << 9) | (11 << 5) | 26);
    }
}
