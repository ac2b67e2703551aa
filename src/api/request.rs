//! The owner API's create and update bodies, parsed into domain values.
//! Types only: every rule (item count, description length, expiry in the future,
//! downloads allowed) is the domain's, run by the share service.

use super::body::Fields;
use crate::domain::{Format, ShareChanges};
use crate::error::ApiError;
use crate::shares::{ClearPassword, NewShare};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// A create body: the spec's fields, or Navidrome UI's `resourceIds`/`resourceType`/`expiresAt`.
pub fn new_share(m: &Map<String, Value>, now: OffsetDateTime) -> Result<NewShare, ApiError> {
    let f = Fields(m);
    let mut albums = f.ids("albums")?;
    let mut songs = f.ids("songs")?;
    let mut playlists = f.ids("playlists")?;
    let mut artists = f.ids("artists")?;
    if let Some(ids) = f.string("resourceIds")? {
        let ids: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let kind = f
            .string("resourceType")?
            .ok_or_else(|| ApiError::invalid("resourceType", "is required with resourceIds"))?;
        match kind.as_str() {
            "album" => albums.extend(ids),
            "song" | "media_file" => songs.extend(ids),
            "playlist" => playlists.extend(ids),
            "artist" => artists.extend(ids),
            _ => {
                return Err(ApiError::invalid(
                    "resourceType",
                    "must be album, song, media_file, playlist or artist",
                ))
            }
        }
    }
    for list in [&mut albums, &mut songs, &mut playlists, &mut artists] {
        dedup(list);
    }
    Ok(NewShare {
        description: f.string("description")?,
        downloadable: f.bool("downloadable")?,
        expires_at: expiry(&f, now)?.flatten(),
        max_bit_rate: f.bit_rate("maxBitRate")?.unwrap_or(0),
        format: f.format("format")?.unwrap_or(Format::Raw),
        password: f.string("password")?.map(ClearPassword::new),
        max_visits: max_visits(&f)?.flatten(),
        albums,
        songs,
        playlists,
        artists,
        unsorted: vec![],
    })
}

/// An update body: the fields present change; the password apart, in clear (the share
/// service hashes it), `Some(None)` when `null` removes it.
pub struct Update {
    pub changes: ShareChanges,
    pub password: Option<Option<ClearPassword>>,
}

/// An update body: only the fields present change.
pub fn changes(m: &Map<String, Value>, now: OffsetDateTime) -> Result<Update, ApiError> {
    let f = Fields(m);
    let description = if f.is_null("description") {
        Some(None)
    } else {
        f.string("description")?.map(Some)
    };
    let password = if f.is_null("password") {
        Some(None)
    } else {
        f.string("password")?.map(|p| Some(ClearPassword::new(p)))
    };
    let changes = ShareChanges {
        description,
        format: f.format("format")?,
        max_bit_rate: f.bit_rate("maxBitRate")?,
        downloadable: f.bool("downloadable")?,
        expires_at: expiry(&f, now)?,
        password: None,
        max_visits: max_visits(&f)?,
    };
    Ok(Update { changes, password })
}

/// `maxVisits`: a whole number (its range is the domain's rule), `null` = none.
/// `None`: not given.
pub fn max_visits(f: &Fields) -> Result<Option<Option<u32>>, ApiError> {
    if f.is_null("maxVisits") {
        return Ok(Some(None));
    }
    // Past u32 is past the domain's maximum too, which refuses it with its message.
    Ok(f.whole("maxVisits")?
        .map(|n| Some(u32::try_from(n).unwrap_or(u32::MAX))))
}

/// `expiresIn` (seconds; 0 = none) or `expiresAt` (RFC 3339; null = none).
/// `None`: not given. `Some(None)`: no expiry.
fn expiry(f: &Fields, now: OffsetDateTime) -> Result<Option<Option<OffsetDateTime>>, ApiError> {
    // Checked even when `expiresIn` wins, so a wrong type is a 400 wherever it appears.
    let at = f.time("expiresAt")?;
    if f.has("expiresIn") && !f.is_null("expiresIn") {
        let secs = f.whole("expiresIn")?.unwrap_or(0);
        if secs == 0 {
            return Ok(Some(None));
        }
        // Ten years is far beyond any sensible link and keeps the arithmetic in range.
        let secs = i64::try_from(secs)
            .ok()
            .filter(|s| *s <= 10 * 366 * 86_400)
            .ok_or_else(|| ApiError::invalid("expiresIn", "at most ten years"))?;
        return Ok(Some(Some(now + Duration::seconds(secs))));
    }
    if f.has("expiresAt") {
        return Ok(Some(at));
    }
    Ok(None)
}

fn dedup(list: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|id| seen.insert(id.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn field_of(r: Result<impl std::fmt::Debug, ApiError>) -> Option<String> {
        r.err().and_then(|e| e.field)
    }

    #[test]
    fn the_navidrome_ui_body_is_understood() {
        let r = new_share(&obj(json!({"resourceType": "media_file", "resourceIds": "a, b,a", "expiresAt": "2026-02-01T00:00:00Z"})), NOW).expect("ok");
        assert_eq!(r.songs, vec!["a", "b"]);
        assert_eq!(r.expires_at, Some(datetime!(2026-02-01 00:00 UTC)));
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            field_of(new_share(
                &obj(json!({"songs": ["a"], "expiresIn": -1})),
                NOW
            )),
            Some("expiresIn".into())
        );
        assert_eq!(
            field_of(new_share(
                &obj(json!({"songs": ["a"], "maxBitRate": "x"})),
                NOW
            )),
            Some("maxBitRate".into())
        );
        assert_eq!(
            field_of(new_share(
                &obj(json!({"songs": ["a"], "format": "flac"})),
                NOW
            )),
            Some("format".into())
        );
        assert_eq!(
            field_of(new_share(&obj(json!({"songs": [1]})), NOW)),
            Some("songs".into())
        );
        assert_eq!(
            field_of(new_share(
                &obj(json!({"songs": ["a"], "maxBitRate": 1.5})),
                NOW
            )),
            Some("maxBitRate".into())
        );
    }

    #[test]
    fn expires_in_zero_clears_and_absent_leaves_alone() {
        assert_eq!(
            changes(&obj(json!({"expiresIn": 0})), NOW)
                .map(|c| c.changes.expires_at)
                .ok(),
            Some(Some(None))
        );
        assert_eq!(
            changes(&obj(json!({"description": "x"})), NOW)
                .map(|c| c.changes.expires_at)
                .ok(),
            Some(None)
        );
    }

    #[test]
    fn null_removes_a_password_or_a_limit_and_absent_leaves_them() {
        let removed = changes(&obj(json!({"password": null, "maxVisits": null})), NOW).unwrap();
        assert_eq!(removed.password, Some(None));
        assert_eq!(removed.changes.max_visits, Some(None));
        let set = changes(&obj(json!({"password": "abcd", "maxVisits": 3})), NOW).unwrap();
        assert_eq!(set.password, Some(Some(ClearPassword::new("abcd".into()))));
        assert_eq!(set.changes.max_visits, Some(Some(3)));
        let none = changes(&obj(json!({"description": "x"})), NOW).unwrap();
        assert_eq!((none.password, none.changes.max_visits), (None, None));
        assert_eq!(
            field_of(changes(&obj(json!({"password": 1234})), NOW).map(|_| ())),
            Some("password".into())
        );
    }

    #[test]
    fn an_artist_is_shared_by_its_array_or_navidromes_resource_type() {
        let r = new_share(&obj(json!({"artists": ["ar-1"]})), NOW).unwrap();
        assert_eq!(r.artists, vec!["ar-1"]);
        let r = new_share(
            &obj(json!({"resourceType": "artist", "resourceIds": "ar-2,ar-2"})),
            NOW,
        )
        .unwrap();
        assert_eq!(r.artists, vec!["ar-2"]);
    }
}
