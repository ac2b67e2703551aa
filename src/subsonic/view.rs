//! The OpenSubsonic `share` element.

use super::response::Element;
use crate::domain::Share;
use time::OffsetDateTime;

fn time(t: OffsetDateTime) -> Option<String> {
    crate::timestamps::rfc3339(t)
}

/// `id, url, description, username, created, expires?, lastVisited?, visitCount, entry[]`.
/// Albums are listed as directory entries (`isDir`), songs and playlist tracks as songs,
/// so listing shares never has to ask the music server.
pub fn share(s: &Share, public_url: &str) -> Element {
    let mut entries = Vec::new();
    // An artist's albums as they were snapshotted, after the share's own albums.
    for a in s.items.all_albums() {
        entries.push(
            Element::default()
                .attr("id", a.id.clone())
                .attr("isDir", true)
                .attr("title", a.name.clone())
                .attr("album", a.name.clone())
                .attr("artist", a.artist.clone())
                .attr("songCount", a.song_count),
        );
    }
    for t in &s.items.songs {
        entries.push(
            Element::default()
                .attr("id", t.id.clone())
                .attr("isDir", false)
                .attr("title", t.title.clone())
                .attr("artist", t.artist.clone())
                .attr("album", t.album.clone()),
        );
    }
    for t in s.items.playlists.iter().flat_map(|p| &p.tracks) {
        entries.push(
            Element::default()
                .attr("id", t.id.clone())
                .attr("isDir", false)
                .attr("title", t.title.clone())
                .attr("artist", t.artist.clone())
                .attr("album", t.album.clone())
                .attr("track", t.track)
                .attr("duration", t.duration)
                .attr("contentType", t.content_type.clone())
                .attr("suffix", t.suffix.clone()),
        );
    }
    Element::default()
        .attr("id", s.id.as_str())
        .attr("url", format!("{public_url}/share/{}", s.id))
        .attr("description", s.description.clone().unwrap_or_default())
        .attr("username", s.owner_name.clone())
        .attr_opt("created", time(s.created_at))
        .attr_opt("expires", s.expires_at.and_then(time))
        .attr_opt("lastVisited", s.last_visited_at.and_then(time))
        .attr("visitCount", s.visit_count)
        .list("entry", entries)
}

/// `<shares>` holding `shares`.
pub fn shares<'a>(shares: impl Iterator<Item = &'a Share>, public_url: &str) -> Element {
    let list = shares.map(|s| share(s, public_url)).collect();
    Element::default().child("shares", Element::default().list("share", list))
}
