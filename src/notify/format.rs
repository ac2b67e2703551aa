//! The two forms of a delivery: `json` (a signed JSON body, for any webhook) and
//! `ntfy` (a line of text with ntfy's `Title`, `Tags` and `Click` headers). Pure: what
//! is sent is built here, how is `send`'s.

use super::news::News;
use crate::domain::{NotifyFormat, NotifyOn, Share};
use crate::timestamps;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// What a password share is called in a notification: an ntfy topic is often public,
/// and a notification may show on a locked phone, so it tells no more than the share's
/// public preview does.
pub const PROTECTED_TITLE: &str = "Shared music";

/// The share and link as a delivery names them, looked up when it is sent.
pub struct Named {
    pub share_title: String,
    pub share_url: String,
    pub link_label: Option<String>,
    /// The owner's page, where an ntfy notification leads.
    pub manage_url: String,
}

impl Named {
    /// `share` as its projection holds it now (`None` if it is unknown), `public_url` the base.
    pub fn of(news: &News, share: Option<&Share>, public_url: &str) -> Named {
        let share_title = match share {
            Some(s) if s.has_password() => PROTECTED_TITLE.to_string(),
            Some(s) => crate::public::share_heading(s),
            None => news.share.to_string(),
        };
        let link_label = news.link.as_ref().map(|id| {
            share
                .and_then(|s| s.link(id))
                .map_or_else(|| id.to_string(), |l| l.label.clone())
        });
        Named {
            share_title,
            share_url: format!("{public_url}/share/{}", news.share),
            link_label,
            manage_url: format!("{public_url}/share/_manage"),
        }
    }
}

/// One request to a target, ready to send.
#[derive(Debug)]
pub struct Outgoing {
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub fn outgoing(
    format: NotifyFormat,
    kind: NotifyOn,
    news: &News,
    named: &Named,
    secret: &str,
) -> Outgoing {
    match format {
        NotifyFormat::Json => json_body(kind, news, named, secret),
        NotifyFormat::Ntfy => ntfy(kind, news, named),
    }
}

/// `{"event","seq","share":{"id","title","url"},"link":{"id","label"}|null,
/// "visit":{"at","format","player"}|null}`, signed: `X-Sharelog-Signature: sha256=HEX`,
/// the HMAC-SHA256 of exactly these bytes with `notify.secret`.
fn json_body(kind: NotifyOn, news: &News, named: &Named, secret: &str) -> Outgoing {
    let link = match (&news.link, &named.link_label) {
        (Some(id), Some(label)) => json!({"id": id.as_str(), "label": label}),
        _ => serde_json::Value::Null,
    };
    let visit = news.visit.as_ref().map(|v| {
        json!({
            "at": timestamps::json(Some(news.at)),
            "format": v.format.as_str(),
            "player": v.player.as_deref(),
        })
    });
    let body = json!({
        "event": kind.as_str(),
        "seq": news.seq,
        "share": {"id": news.share.as_str(), "title": named.share_title, "url": named.share_url},
        "link": link,
        "visit": visit,
    })
    .to_string()
    .into_bytes();
    let signature = format!("sha256={}", crate::hex::encode(&sign(secret, &body)));
    Outgoing {
        content_type: "application/json",
        headers: vec![
            ("X-Sharelog-Event", news.event_id.to_string()),
            ("X-Sharelog-Signature", signature),
        ],
        body,
    }
}

/// HMAC-SHA256 of `body` keyed with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// A line of text such as `Bob opened "Road songs"`, with ntfy's headers: `Title` (what
/// happened), `Tags` (an emoji ntfy shows), `Click` (the owner's page).
fn ntfy(kind: NotifyOn, news: &News, named: &Named) -> Outgoing {
    let who = named.link_label.as_deref().unwrap_or("Someone");
    let title = &named.share_title;
    let (heading, tag, text) = match kind {
        NotifyOn::FirstVisit => (
            "First visit",
            "tada",
            format!("{who} opened \"{title}\" for the first time"),
        ),
        NotifyOn::Visit => ("Visit", "headphones", format!("{who} opened \"{title}\"")),
        NotifyOn::Download => (
            "Download",
            "inbox_tray",
            format!("{who} downloaded \"{title}\""),
        ),
        NotifyOn::LimitReached => {
            let what = match (news.spent.link, &named.link_label) {
                (true, Some(label)) => format!("the link for {label} is used up"),
                _ => "its visit limit is reached".to_string(),
            };
            (
                "Visit limit reached",
                "no_entry",
                format!("{who} opened \"{title}\": {what}"),
            )
        }
        NotifyOn::LinkRevoked => (
            "Link revoked",
            "scissors",
            format!("The link for {who} to \"{title}\" was revoked"),
        ),
    };
    Outgoing {
        content_type: "text/plain; charset=utf-8",
        headers: vec![
            ("Title", heading.to_string()),
            ("Tags", tag.to_string()),
            ("Click", named.manage_url.clone()),
            ("X-Sharelog-Event", news.event_id.to_string()),
        ],
        body: text.into_bytes(),
    }
}

#[cfg(test)]
mod tests;
