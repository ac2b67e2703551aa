//! Helpers of the tests of protected shares (a password, a visit limit, a recipient link):
//! every public path of a share, the proofs a request can carry (HTTP Basic, the unlock
//! cookie, an access key), and the ids and keys answers hand out.

use super::{alice, upstream, Resp, TestApp, PUBLIC_URL};
use serde_json::{json, Value};

pub const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
pub const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
pub const SLACKBOT: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
pub const PASSWORD: &str = "open sesame 東京";

/// `Authorization: Basic` for `password`, with a user name as a player would send one.
pub fn basic(password: &str) -> String {
    format!("Basic {}", base64(format!("friend:{password}").as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Alpha album (3 tracks, with a cover), downloadable, plus `extra`; its id.
pub fn share_with(app: &TestApp, extra: Value) -> String {
    let mut body = json!({"albums": [upstream::shared().album("Alpha").id], "downloadable": true,
        "description": "Secret songs for Bob"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create_id(&alice(), body)
}

/// A new recipient link of `share` (`maxVisits` when given); its id.
pub fn add_link(app: &TestApp, share: &str, label: &str, max_visits: Option<u32>) -> String {
    let mut body = json!({ "label": label });
    if let Some(m) = max_visits {
        body["maxVisits"] = json!(m);
    }
    let r = app.req(
        "POST",
        &format!("/api/share/{share}/links"),
        Some(&alice()),
        Some(&body),
    );
    assert_eq!(r.status(), 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// The share as its owner sees it (`GET /api/share/{id}`).
pub fn owner_view(app: &TestApp, share: &str) -> Value {
    app.req("GET", &format!("/api/share/{share}"), Some(&alice()), None)
        .json()
}

/// The link as its owner sees it.
pub fn link_view(app: &TestApp, share: &str, link: &str) -> Value {
    let links = app
        .req(
            "GET",
            &format!("/api/share/{share}/links"),
            Some(&alice()),
            None,
        )
        .json();
    links
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == link)
        .unwrap_or_else(|| panic!("no link {link} in {links}"))
        .clone()
}

/// The first track and the cover id of the Alpha album.
pub fn alpha_track_and_cover() -> (String, String) {
    let up = upstream::shared();
    let album = up.album("Alpha");
    let a = up.api("getAlbum", &[("id", &album.id)]);
    (
        album.songs[0].id.clone(),
        a["album"]["coverArt"].as_str().unwrap().to_string(),
    )
}

/// The `key` a URL carries, if any.
pub fn key_in(url: &str) -> Option<String> {
    url.split(['?', '&'])
        .find_map(|p| p.strip_prefix("key="))
        .map(str::to_string)
}

/// A URL of ours as a path (what `TestApp::raw` takes).
pub fn path_of(url: &str) -> &str {
    url.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url} is not under {PUBLIC_URL}"))
}

/// `POST /share/{id}/unlock` with `password`, as a browser's form sends it.
pub fn unlock(app: &TestApp, public_id: &str, password: &str, headers: &[(&str, &str)]) -> Resp {
    let body = format!("password={}", upstream::percent_encode(password));
    let mut all = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", BROWSER),
        ("User-Agent", CHROME_UA),
    ];
    all.extend_from_slice(headers);
    app.raw(
        "POST",
        &format!("/share/{public_id}/unlock"),
        &all,
        Some(body.as_bytes()),
    )
}

/// `name=value` of the unlock cookie an answer sets (for a `Cookie` header).
pub fn cookie_of(resp: &Resp) -> String {
    let set = resp
        .header("Set-Cookie")
        .unwrap_or_else(|| panic!("no cookie set: {}", resp.status()));
    set.split(';').next().unwrap().trim().to_string()
}

/// One public path of a share, as a test asks for it.
pub struct Path {
    pub what: &'static str,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Every public path of the share (or link) `public_id`, each as a client would ask.
pub fn every_path(public_id: &str) -> Vec<Path> {
    let (track, cover) = alpha_track_and_cover();
    let url = upstream::percent_encode(&format!("{PUBLIC_URL}/share/{public_id}"));
    let p = |what, method, path: String, headers: Vec<(&'static str, &str)>| Path {
        what,
        method,
        path,
        headers: headers
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect(),
    };
    let browser = vec![("Accept", BROWSER), ("User-Agent", CHROME_UA)];
    vec![
        p(
            "page",
            "GET",
            format!("/share/{public_id}"),
            browser.clone(),
        ),
        p(
            "embed",
            "GET",
            format!("/share/{public_id}?embed=true"),
            browser,
        ),
        p(
            "raw",
            "GET",
            format!("/share/{public_id}?format=raw"),
            vec![],
        ),
        p(
            "m3u",
            "GET",
            format!("/share/{public_id}?format=m3u"),
            vec![],
        ),
        p(
            "zip",
            "GET",
            format!("/share/{public_id}?download=true"),
            vec![],
        ),
        p("head", "HEAD", format!("/share/{public_id}"), vec![]),
        p(
            "stream",
            "GET",
            format!("/share/{public_id}/stream/{track}"),
            vec![],
        ),
        p(
            "download",
            "GET",
            format!("/share/{public_id}/download/{track}"),
            vec![],
        ),
        p("cover", "GET", format!("/share/{public_id}/cover"), vec![]),
        p(
            "cover by id",
            "GET",
            format!("/share/{public_id}/cover/{cover}"),
            vec![],
        ),
        p("oembed", "GET", format!("/share/oembed?url={url}"), vec![]),
        p(
            "preview",
            "GET",
            format!("/share/{public_id}"),
            vec![("User-Agent", SLACKBOT)],
        ),
    ]
}

impl Path {
    /// The request with `extra` headers and `key` added to its query (when given).
    pub fn send(&self, app: &TestApp, key: Option<&str>, extra: &[(&str, &str)]) -> Resp {
        let path = match key {
            None => self.path.clone(),
            Some(k) if self.path.contains('?') => format!("{}&key={k}", self.path),
            Some(k) => format!("{}?key={k}", self.path),
        };
        let mut headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        headers.extend_from_slice(extra);
        app.raw(self.method, &path, &headers, None)
    }
}

/// The access key of a visit's raw JSON answer (its first stream URL's).
pub fn visit_key(app: &TestApp, public_id: &str, extra: &[(&str, &str)]) -> String {
    let r = app.raw(
        "GET",
        &format!("/share/{public_id}?format=raw"),
        extra,
        None,
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    let url = r.json()["tracks"][0]["streamUrl"]
        .as_str()
        .unwrap()
        .to_string();
    key_in(&url).unwrap_or_else(|| panic!("no key in {url}"))
}
