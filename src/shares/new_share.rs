//! What a create asks for, as either front door parsed it: the share's settings and
//! the ids it names, not yet looked up on the music server.

use super::ClearPassword;
use crate::domain::{Format, SongItem};
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct NewShare {
    pub description: Option<String>,
    /// `None`: the policy's default.
    pub downloadable: Option<bool>,
    /// `None`: the policy's default.
    pub expires_at: Option<OffsetDateTime>,
    pub max_bit_rate: u32,
    pub format: Format,
    pub password: Option<ClearPassword>,
    pub max_visits: Option<u32>,
    pub albums: Vec<String>,
    pub songs: Vec<String>,
    pub playlists: Vec<String>,
    pub artists: Vec<String>,
    /// Ids whose kind the client did not say (Subsonic's `createShare`): each is tried
    /// as an album, a song, then a playlist.
    pub unsorted: Vec<String>,
}

impl NewShare {
    /// Every id named, of any kind.
    pub fn ids(&self) -> impl Iterator<Item = &String> {
        self.albums
            .iter()
            .chain(&self.songs)
            .chain(&self.playlists)
            .chain(&self.artists)
            .chain(&self.unsorted)
    }

    /// A song item for each id, standing in for what it names, so the domain's rules
    /// can run before the music server is asked.
    pub fn stand_in_items(&self) -> Vec<SongItem> {
        self.ids()
            .map(|id| SongItem {
                id: id.clone(),
                title: String::new(),
                artist: String::new(),
                album: String::new(),
            })
            .collect()
    }
}
