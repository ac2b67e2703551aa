use super::controls::{PasswordHash, ShareLink};
use super::ids::{LinkId, ShareId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest description accepted, counted in characters (not bytes, so CJK text is not cut short).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// Most albums, songs and playlists one create may name: each is looked up on the
/// music server, so this bounds a create's fan-out.
pub const MAX_REQUESTED_ITEMS: usize = 500;

/// The rule for how many items a create names, checked by every front door before
/// any is looked up (`field` is the name that door's clients use).
pub fn check_requested_items(count: usize, field: &'static str) -> Result<(), super::DomainError> {
    let refuse = |message: String| Err(super::DomainError::Invalid { field, message });
    match count {
        0 => refuse("a share needs at least one album, song or playlist".into()),
        n if n > MAX_REQUESTED_ITEMS => {
            refuse(format!("at most {MAX_REQUESTED_ITEMS} items in one share"))
        }
        _ => Ok(()),
    }
}

/// How a public link answers by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Raw,
    M3u,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "raw" => Some(Format::Raw),
            "m3u" => Some(Format::M3u),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::M3u => "m3u",
        }
    }
}

/// A track as a public page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Track {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub track: u32,
    pub duration: u32,
    pub content_type: String,
    pub suffix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumItem {
    pub id: String,
    pub name: String,
    pub artist: String,
    pub song_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SongItem {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
}

/// A shared playlist, with its tracks frozen at creation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistItem {
    pub id: String,
    pub name: String,
    pub song_count: u32,
    pub tracks: Vec<Track>,
}

/// A shared artist, with the albums it had when the share was created (a snapshot, like
/// a playlist's tracks: albums the artist gains later are not shared). The albums'
/// tracks are resolved live, as a shared album's are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtistItem {
    pub id: String,
    pub name: String,
    pub album_count: u32,
    pub albums: Vec<AlbumItem>,
}

/// What a share holds. Albums and songs are resolved live; playlists and artists are snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareItems {
    pub albums: Vec<AlbumItem>,
    pub songs: Vec<SongItem>,
    pub playlists: Vec<PlaylistItem>,
    /// Absent from events and rows written before artist shares existed (and from
    /// those without artists, so that they are written exactly as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artists: Vec<ArtistItem>,
}

impl ShareItems {
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// How many albums, songs, playlists and artists it names.
    pub fn count(&self) -> usize {
        self.albums.len() + self.songs.len() + self.playlists.len() + self.artists.len()
    }

    /// Every album whose tracks the share plays: its own, then its artists' snapshotted ones.
    pub fn all_albums(&self) -> impl Iterator<Item = &AlbumItem> {
        self.albums
            .iter()
            .chain(self.artists.iter().flat_map(|a| &a.albums))
    }

    /// The `contents` string of the owner API: a JSON description of the items
    /// (playlists without their track lists, which can be long).
    pub fn contents(&self) -> String {
        let playlists: Vec<_> = self
            .playlists
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "name": p.name, "songCount": p.song_count}))
            .collect();
        let mut contents =
            serde_json::json!({"albums": self.albums, "songs": self.songs, "playlists": playlists});
        if !self.artists.is_empty() {
            contents["artists"] = self
                .artists
                .iter()
                .map(|a| serde_json::json!({"id": a.id, "name": a.name, "albumCount": a.album_count}))
                .collect();
        }
        contents.to_string()
    }
}

/// A share's state: folded from its events, and the row the projection keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub id: ShareId,
    pub owner_id: UserId,
    pub owner_name: String,
    pub description: Option<String>,
    pub format: Format,
    pub max_bit_rate: u32,
    pub downloadable: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub items: ShareItems,
    pub visit_count: u64,
    /// Opens by link-preview bots and prefetches. Absent from rows written before
    /// previews existed, which therefore read as 0.
    #[serde(default)]
    pub preview_count: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_visited_at: Option<OffsetDateTime>,
    /// The stream version: the number of events applied so far (1 after creation).
    pub version: u64,
    /// Deleted shares stay as tombstones so their ids are never reused.
    pub deleted: bool,
    /// The owner's controls. Absent from rows written before they existed, and from
    /// rows of shares without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordHash>,
    /// The stream version of the event that last set, changed or removed the password
    /// (0: never had one). Proofs of the password (cookies, access keys) carry it, so a
    /// change refuses every proof made before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub password_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_visits: Option<u32>,
    /// Recipient links, oldest first, revoked ones included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<ShareLink>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Share {
    /// A live share `id` of `owner_name` (user id `u-{owner_name}`) with nothing in it and no
    /// controls, created at `at`: the start of the unit tests' shares, which change the
    /// fields they are about.
    #[cfg(test)]
    pub fn sample(id: ShareId, owner_name: &str, at: OffsetDateTime) -> Share {
        Share {
            id,
            owner_id: UserId(format!("u-{owner_name}")),
            owner_name: owner_name.into(),
            description: None,
            format: Format::Raw,
            max_bit_rate: 0,
            downloadable: false,
            expires_at: None,
            created_at: at,
            updated_at: at,
            items: ShareItems::default(),
            visit_count: 0,
            preview_count: 0,
            last_visited_at: None,
            version: 1,
            deleted: false,
            password: None,
            password_version: 0,
            max_visits: None,
            links: Vec::new(),
        }
    }

    /// The number of events that changed what the share holds or how it answers:
    /// every event but visits and previews (each event adds one to `version`).
    /// Caches of a rendered share key on it, so opening a link does not invalidate them.
    pub fn content_version(&self) -> u64 {
        self.version
            .saturating_sub(self.visit_count)
            .saturating_sub(self.preview_count)
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Whether its visit limit is used up.
    pub fn is_spent(&self) -> bool {
        self.max_visits
            .is_some_and(|max| self.visit_count >= u64::from(max))
    }

    /// Whether answers need proof of access beyond the link itself: a password, a
    /// visit limit (streams and covers without the key a visit handed out would be
    /// visits no one counted), or reached through a recipient link (`via_link`).
    pub fn is_protected(&self, via_link: bool) -> bool {
        self.password.is_some() || self.max_visits.is_some() || via_link
    }

    pub fn link(&self, id: &LinkId) -> Option<&ShareLink> {
        self.links.iter().find(|l| l.id == *id)
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// Whether visitors may download this share: the share allows it and so does the
    /// server (`sharing.allowDownloads`, which may have been turned off since). One
    /// rule for the page, the JSON's download links and the downloads themselves.
    pub fn downloads_allowed(&self, policy: &super::Policy) -> bool {
        self.downloadable && policy.allow_downloads
    }

    /// Whether `actor` may see and change this share.
    pub fn is_visible_to(&self, actor: &super::Actor) -> bool {
        !self.deleted && self.history_visible_to(actor)
    }

    /// Whether `actor` may read this share's history: its owner or an admin, also
    /// after it was deleted (the audit trail outlives the share).
    pub fn history_visible_to(&self, actor: &super::Actor) -> bool {
        actor.is_admin || actor.user_id == self.owner_id
    }

    /// `is_visible_to` for a door that proves only a username, not a user id (a
    /// Subsonic login): ownership is matched by the owner's name.
    pub fn is_visible_to_username(&self, username: &str, is_admin: bool) -> bool {
        !self.deleted && (is_admin || self.owner_name == username)
    }
}
