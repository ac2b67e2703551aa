//! The share page for people: the view a template renders, built from the share and its
//! tracks. Every value from the owner or the music server goes through askama's HTML
//! escaping; nothing here writes markup by hand.

use super::assets::ASSETS;
use super::deep_link::Start;
pub use super::page_text::heading;
use super::page_text::{clock, description, keyed, path_prefix, HIDDEN_TITLE};
use crate::config::Settings;
use crate::domain::{Share, Track};
use askama::Template;
use time::macros::format_description;
use time::OffsetDateTime;

/// How one page is rendered, beyond the share and its tracks.
#[derive(Default)]
pub struct Options<'a> {
    /// The compact player for iframes.
    pub embed: bool,
    /// The single-use token of a page served to a prefetch (`shown`).
    pub shown_token: Option<&'a str>,
    /// The access key a visit handed out: on every stream, download, zip, M3U and cover link.
    pub media_key: Option<&'a str>,
    /// A preview's key, for the cover only (a share with a limit or a recipient link).
    pub cover_key: Option<&'a str>,
    /// A password share: its link previews (Open Graph, Twitter, oEmbed) show nothing of it.
    pub password: bool,
    /// Where the player starts (`?track=&t=`).
    pub start: Option<Start>,
}

/// What a page shows; `embed` is the compact player for iframes.
#[derive(Template)]
#[template(path = "share.html")]
struct SharePage<'a> {
    /// The heading (`heading`), in a smaller type when it is long.
    title: String,
    /// What link previews read (`og:*`, `twitter:*`): the title and summary, or for a
    /// password share "Shared music" and nothing else (`HIDDEN_TITLE`).
    preview_title: String,
    preview_description: String,
    /// The absolute cover URL previews show; none for a password share.
    preview_image: Option<String>,
    long_title: bool,
    /// The whole description, when the heading had to cut it.
    whole_description: Option<&'a str>,
    owner: &'a str,
    total: String,
    expires: Option<Expiry>,
    tracks: Vec<TrackRow>,
    embed: bool,
    /// Absolute (`publicUrl`) URLs, for previews made elsewhere; no oEmbed for a password share.
    page_url: String,
    oembed_url: Option<String>,
    /// Paths on our own origin (with `publicUrl`'s path prefix), for the browser.
    page_path: String,
    cover_path: String,
    m3u_path: String,
    zip_path: Option<String>,
    /// The single-use token of a page served to a prefetch, and where to post it once the
    /// page is shown (`shown`).
    shown_token: Option<&'a str>,
    shown_path: String,
    /// The track the player starts with (0-based) and its first source (with `#t=` for a
    /// start past 0 s, which the browser's own player honours without the script).
    start: usize,
    start_seconds: u32,
    first_source: Option<String>,
    first_title: String,
    first_seconds: u32,
    assets: String,
    css: &'static str,
    js: &'static str,
    icon: &'static str,
}

struct Expiry {
    iso: String,
    text: String,
}

struct TrackRow {
    id: String,
    title: String,
    artist: String,
    album: String,
    duration: String,
    seconds: u32,
    stream: String,
    download: Option<String>,
}

/// Past this many characters a heading is set smaller, so that on a phone it takes a few
/// lines and the player stays on the first screen.
const LONG_TITLE_CHARS: usize = 48;

/// The page (or, with `embed`, the compact player) of `share` (as the visitor opened it:
/// `Entry::visible`), rendered as `options` say.
pub fn render(share: &Share, tracks: &[Track], settings: &Settings, options: &Options) -> String {
    let prefix = path_prefix(&settings.public_url);
    let page_path = format!("{prefix}/share/{}", share.id);
    let page_url = format!("{}/share/{}", settings.public_url, share.id);
    let downloads = share.downloads_allowed(&settings.policy());
    let seconds: u64 = tracks.iter().map(|t| u64::from(t.duration)).sum();
    let title = heading(share);
    let summary = summary(share, tracks.len(), seconds);
    let key = options.media_key;
    let cover_key = key.or(options.cover_key);
    let rows = track_rows(tracks, &page_path, downloads, key);
    let start = options.start.unwrap_or_default().within(rows.len());
    let first_source = rows.get(start.track).map(|t| match start.seconds {
        0 => t.stream.clone(),
        s => format!("{}#t={s}", t.stream),
    });
    let (preview_title, preview_description) = match options.password {
        true => (
            HIDDEN_TITLE.to_string(),
            "A password protects this share.".to_string(),
        ),
        false => (title.clone(), summary),
    };
    let page = SharePage {
        long_title: title.chars().count() > LONG_TITLE_CHARS,
        whole_description: description(share).filter(|d| *d != title),
        preview_title,
        preview_description,
        preview_image: (!options.password).then(|| keyed(format!("{page_url}/cover"), cover_key)),
        title,
        owner: &share.owner_name,
        total: clock(seconds),
        expires: share.expires_at.map(expiry),
        start: start.track,
        start_seconds: start.seconds,
        first_source,
        first_title: rows
            .get(start.track)
            .map(|t| t.title.clone())
            .unwrap_or_default(),
        first_seconds: rows.get(start.track).map_or(0, |t| t.seconds),
        tracks: rows,
        embed: options.embed,
        oembed_url: (!options.password).then(|| {
            format!(
                "{}/share/oembed?url={}&format=json",
                settings.public_url,
                crate::upstream::percent_encode(&page_url)
            )
        }),
        cover_path: keyed(format!("{page_path}/cover"), cover_key),
        m3u_path: keyed(format!("{page_path}?format=m3u"), key),
        zip_path: downloads.then(|| keyed(format!("{page_path}?download=true"), key)),
        shown_token: options.shown_token,
        shown_path: format!("{page_path}/shown"),
        page_url,
        page_path,
        assets: format!("{prefix}/share/_assets"),
        css: &ASSETS.css.name,
        js: &ASSETS.js.name,
        icon: &ASSETS.icon.name,
    };
    // Rendering into a String fails only if a Display impl does; ours are all strings and numbers.
    page.render().unwrap_or_default()
}

/// "3 tracks · 12:04 · shared by alice"
fn summary(share: &Share, tracks: usize, seconds: u64) -> String {
    let count = match tracks {
        1 => "1 track".to_string(),
        n => format!("{n} tracks"),
    };
    format!(
        "{count} · {} · shared by {}",
        clock(seconds),
        share.owner_name
    )
}

fn expiry(t: OffsetDateTime) -> Expiry {
    let t = crate::timestamps::utc(t);
    Expiry {
        iso: crate::timestamps::rfc3339(t).unwrap_or_default(),
        text: t
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_default(),
    }
}

/// One row per track, with its stream link and, when downloads are allowed, its download
/// link, both with `key` when there is one.
fn track_rows(
    tracks: &[Track],
    page_path: &str,
    downloads: bool,
    key: Option<&str>,
) -> Vec<TrackRow> {
    tracks
        .iter()
        .map(|t| {
            let id = crate::upstream::percent_encode(&t.id);
            TrackRow {
                id: t.id.clone(),
                title: t.title.clone(),
                artist: t.artist.clone(),
                album: t.album.clone(),
                duration: clock(u64::from(t.duration)),
                seconds: t.duration,
                stream: keyed(format!("{page_path}/stream/{id}"), key),
                download: downloads.then(|| keyed(format!("{page_path}/download/{id}"), key)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::page_text::{title, HEADING_CHARS};
    use super::*;
    use crate::domain::{AlbumItem, ShareId};
    use time::OffsetDateTime;

    fn share(description: Option<&str>) -> Share {
        Share {
            description: description.map(String::from),
            ..Share::sample(
                ShareId::parse("abc").unwrap(),
                "alice",
                OffsetDateTime::now_utc(),
            )
        }
    }

    fn track(id: &str, title: &str, duration: u32) -> Track {
        Track {
            id: id.into(),
            title: title.into(),
            artist: "Ann".into(),
            album: "Alpha".into(),
            track: 1,
            duration,
            content_type: "audio/mpeg".into(),
            suffix: "mp3".into(),
        }
    }

    #[test]
    fn clocks_read_like_a_player() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(3600 + 62), "1:01:02");
    }

    #[test]
    fn the_prefix_is_the_path_of_the_public_url() {
        assert_eq!(path_prefix("http://127.0.0.1:4534"), "");
        assert_eq!(path_prefix("https://x.org/music"), "/music");
        assert_eq!(path_prefix("https://x.org/a/b"), "/a/b");
    }

    #[test]
    fn without_a_description_the_title_names_the_contents() {
        let mut s = share(Some("  "));
        s.items.albums.push(AlbumItem {
            id: "al".into(),
            name: "Alpha".into(),
            artist: "Ann".into(),
            song_count: 3,
        });
        assert_eq!(title(&s), "Alpha");
        assert_eq!(title(&share(None)), "abc");
        assert_eq!(title(&share(Some("for you"))), "for you");
    }

    #[test]
    fn a_long_description_is_cut_to_a_heading_and_shown_whole_below_it() {
        let long = format!("{} {}", "word ".repeat(30).trim_end(), "x".repeat(900));
        let s = share(Some(&long));
        let cut = heading(&s);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= HEADING_CHARS, "{cut}");
        assert!(long.starts_with(cut.trim_end_matches('…')));
        let html = render(
            &s,
            &[track("t1", "One", 61)],
            &Settings::default(),
            &Options::default(),
        );
        assert!(html.contains(&format!("<h1 id=\"title\" class=\"long\">{cut}</h1>")));
        assert!(html.contains(&format!("<p id=\"description\">{long}</p>")));
        assert!(html.contains(&format!("<title>{cut}</title>")));

        // No word ends in the second half: cut mid-word; a title that fits stays whole
        let unbroken = share(Some(&"y".repeat(300)));
        assert_eq!(
            heading(&unbroken),
            format!("{}…", "y".repeat(HEADING_CHARS - 1))
        );
        let fits = "é".repeat(HEADING_CHARS);
        assert_eq!(heading(&share(Some(&fits))), fits);
        let html = render(
            &share(Some(&fits)),
            &[],
            &Settings::default(),
            &Options::default(),
        );
        assert!(!html.contains("id=\"description\""));
        let short = render(
            &share(Some("for you")),
            &[],
            &Settings::default(),
            &Options::default(),
        );
        assert!(short.contains("<h1 id=\"title\">for you</h1>"));
    }

    #[test]
    fn owner_and_music_server_text_is_escaped() {
        let evil = "</script><script>alert(1)</script>";
        let html = render(
            &share(Some(evil)),
            &[track("t\"1", evil, 61)],
            &Settings::default(),
            &Options::default(),
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(html.contains("data-track-id=\"t&#34;1\""), "{html}");
        assert!(html.contains("/share/abc/stream/t%221"));
    }

    #[test]
    fn downloads_show_only_when_both_share_and_server_allow_them() {
        let mut s = share(None);
        let tracks = [track("t1", "One", 1)];
        let mut settings = Settings::default();
        assert!(!render(&s, &tracks, &settings, &Options::default()).contains("id=\"zip\""));
        s.downloadable = true;
        let html = render(&s, &tracks, &settings, &Options::default());
        assert!(html.contains("id=\"zip\"") && html.contains("class=\"download\""));
        settings.sharing.allow_downloads = false;
        let html = render(&s, &tracks, &settings, &Options::default());
        assert!(!html.contains("id=\"zip\"") && !html.contains("class=\"download\""));
    }

    #[test]
    fn only_a_page_with_a_token_carries_it_and_where_to_send_it() {
        let settings = Settings {
            public_url: "https://music.example.org/tunes".into(),
            ..Settings::default()
        };
        let tracks = [track("t1", "One", 1)];
        let plain = render(&share(None), &tracks, &settings, &Options::default());
        assert!(!plain.contains("sharelog-shown"), "{plain}");
        let html = render(
            &share(None),
            &tracks,
            &settings,
            &Options {
                shown_token: Some("a.b\"c"),
                ..Options::default()
            },
        );
        assert!(
            html.contains(
                "<meta name=\"sharelog-shown\" content=\"a.b&#34;c\" data-post=\"/tunes/share/abc/shown\">"
            ),
            "{html}"
        );
    }

    #[test]
    fn links_carry_the_public_url_prefix_and_previews_are_absolute() {
        let settings = Settings {
            public_url: "https://music.example.org/tunes".into(),
            ..Settings::default()
        };
        let html = render(
            &share(None),
            &[track("t1", "One", 1)],
            &settings,
            &Options::default(),
        );
        assert!(
            html.contains("href=\"/tunes/share/abc/stream/t1\""),
            "{html}"
        );
        assert!(html.contains("src=\"/tunes/share/_assets/share."), "{html}");
        assert!(html.contains(
            "property=\"og:image\" content=\"https://music.example.org/tunes/share/abc/cover\""
        ));
    }
}
