//! Reading Subsonic JSON answers into domain values. Servers differ in which
//! fields they send, so every field but `id` has a fallback.

use super::UpstreamError;
use crate::domain::Track;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub artist: String,
    pub tracks: Vec<Track>,
}

/// An artist with the albums it has now (`getArtist`); the albums without their tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artist {
    pub id: String,
    pub name: String,
    pub albums: Vec<ArtistAlbum>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtistAlbum {
    pub id: String,
    pub name: String,
    pub artist: String,
    pub song_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    pub id: String,
    pub name: String,
    pub tracks: Vec<Track>,
}

/// The `subsonic-response` object of an answer, whatever its status.
pub fn subsonic_response(body: &[u8]) -> Result<Value, UpstreamError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| UpstreamError::Failed("answer is not JSON".into()))?;
    match v {
        Value::Object(mut m) => m
            .remove("subsonic-response")
            .filter(Value::is_object)
            .ok_or_else(|| UpstreamError::Failed("no subsonic-response".into())),
        _ => Err(UpstreamError::Failed("answer is not an object".into())),
    }
}

/// A `subsonic-response` that reports success, or the error it reports; `sent_token` says
/// how our login was sent (a token, or the password), which tells what some codes mean.
pub fn check_response(r: Value, sent_token: bool) -> Result<Value, UpstreamError> {
    let Some(code) = super::protocol::error_code(&r) else {
        return Ok(r);
    };
    if let Some(refusal) = super::protocol::refusal(code, sent_token) {
        return Err(UpstreamError::Refused(refusal));
    }
    match code {
        // 70: not found. 0: generic; supysonic answers it for a malformed id.
        70 | 0 => Err(UpstreamError::NotFound),
        _ => Err(UpstreamError::Failed(format!("Subsonic error code {code}"))),
    }
}

fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn number(v: &Value, k: &str) -> u32 {
    v.get(k)
        .and_then(|x| {
            x.as_u64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

pub fn track(v: &Value) -> Result<Track, UpstreamError> {
    let id = text(v, "id");
    if id.is_empty() {
        return Err(UpstreamError::Failed("song without id".into()));
    }
    Ok(Track {
        id,
        title: text(v, "title"),
        artist: text(v, "artist"),
        album: text(v, "album"),
        track: number(v, "track"),
        duration: number(v, "duration"),
        content_type: text(v, "contentType"),
        suffix: text(v, "suffix"),
    })
}

fn tracks(list: Option<&Value>) -> Result<Vec<Track>, UpstreamError> {
    match list {
        Some(Value::Array(items)) => items.iter().map(track).collect(),
        // Some servers send a single entry as an object.
        Some(v @ Value::Object(_)) => Ok(vec![track(v)?]),
        _ => Ok(vec![]),
    }
}

pub fn song(r: &Value) -> Result<Track, UpstreamError> {
    track(
        r.get("song")
            .ok_or_else(|| UpstreamError::Failed("no song in answer".into()))?,
    )
}

pub fn album(r: &Value) -> Result<Album, UpstreamError> {
    let a = r
        .get("album")
        .ok_or_else(|| UpstreamError::Failed("no album in answer".into()))?;
    Ok(Album {
        id: text(a, "id"),
        name: text(a, "name"),
        artist: text(a, "artist"),
        tracks: tracks(a.get("song"))?,
    })
}

pub fn artist(r: &Value) -> Result<Artist, UpstreamError> {
    let a = r
        .get("artist")
        .ok_or_else(|| UpstreamError::Failed("no artist in answer".into()))?;
    let albums = match a.get("album") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => vec![],
    };
    let albums = albums
        .into_iter()
        .map(|al| {
            let id = text(al, "id");
            if id.is_empty() {
                return Err(UpstreamError::Failed("album without id".into()));
            }
            Ok(ArtistAlbum {
                id,
                name: text(al, "name"),
                artist: text(al, "artist"),
                song_count: number(al, "songCount"),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Artist {
        id: text(a, "id"),
        name: text(a, "name"),
        albums,
    })
}

pub fn playlist(r: &Value) -> Result<Playlist, UpstreamError> {
    let p = r
        .get("playlist")
        .ok_or_else(|| UpstreamError::Failed("no playlist in answer".into()))?;
    Ok(Playlist {
        id: text(p, "id"),
        name: text(p, "name"),
        tracks: tracks(p.get("entry"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::protocol::Refusal;
    use super::*;

    #[test]
    fn a_not_found_error_is_told_apart_from_bad_credentials() {
        let check =
            |body: &[u8], token| subsonic_response(body).and_then(|r| check_response(r, token));
        let nf = br#"{"subsonic-response":{"status":"failed","error":{"code":70,"message":"x"}}}"#;
        assert_eq!(check(nf, false), Err(UpstreamError::NotFound));
        let auth = br#"{"subsonic-response":{"status":"failed","error":{"code":40}}}"#;
        assert_eq!(
            check(auth, false),
            Err(UpstreamError::Refused(Refusal::WrongCredentials))
        );
        let missing = br#"{"subsonic-response":{"status":"failed","error":{"code":10}}}"#;
        assert_eq!(
            check(missing, true),
            Err(UpstreamError::Refused(Refusal::TokenUnsupported {
                code: 10
            }))
        );
        assert_eq!(
            check(missing, false),
            Err(UpstreamError::Failed("Subsonic error code 10".into()))
        );
    }

    #[test]
    fn an_empty_playlist_without_entry_has_no_tracks() {
        let r = serde_json::json!({"playlist": {"id": "p", "name": "Empty"}});
        assert_eq!(playlist(&r).map(|p| p.tracks.len()), Ok(0));
    }
}
