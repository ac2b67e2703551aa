//! The words and numbers a share page shows, also used by its link previews: the
//! title, durations, and the path prefix every link on it starts with.

use crate::domain::Share;

/// Longest title a page, a preview or an embed shows as its heading, in characters. A
/// description may be ten times longer; the page shows it whole below the heading.
pub const HEADING_CHARS: usize = 100;

/// The owner's description, unless it is blank.
pub fn description(share: &Share) -> Option<&str> {
    share
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
}

/// The description, else what the share holds ("Alpha, Beta", "Ann Artist", "Road Trip"),
/// else its id.
pub fn title(share: &Share) -> String {
    if let Some(d) = description(share) {
        return d.to_string();
    }
    let items = &share.items;
    let names: Vec<&str> = items
        .albums
        .iter()
        .map(|a| a.name.as_str())
        .chain(items.artists.iter().map(|a| a.name.as_str()))
        .chain(items.songs.iter().map(|s| s.title.as_str()))
        .chain(items.playlists.iter().map(|p| p.name.as_str()))
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        share.id.to_string()
    } else {
        names.join(", ")
    }
}

/// The title as a heading: whole when it fits `HEADING_CHARS`, else cut at the end of a word
/// (or mid-word when no word ends in its second half) and marked with "…".
pub fn heading(share: &Share) -> String {
    let title = title(share);
    if title.chars().count() <= HEADING_CHARS {
        return title;
    }
    let cut: String = title.chars().take(HEADING_CHARS - 1).collect();
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(i) if cut[..i].chars().count() >= HEADING_CHARS / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end())
}

/// `publicUrl`'s path ("" or "/music"), which every link on the page starts with, so the
/// page works behind a proxy that serves us under a prefix.
pub fn path_prefix(public_url: &str) -> &str {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    rest.find('/').map_or("", |i| &rest[i..])
}

/// What link previews, oEmbed and the password form call a password share: nothing of it.
pub const HIDDEN_TITLE: &str = "Shared music";

/// `url` with `key=KEY` added to its query when there is a key: how an answer's stream,
/// download, zip, M3U and cover links carry the access key a visit handed out.
pub fn keyed(url: String, key: Option<&str>) -> String {
    match key {
        None => url,
        Some(k) if url.contains('?') => format!("{url}&key={k}"),
        Some(k) => format!("{url}?key={k}"),
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
pub fn clock(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}
