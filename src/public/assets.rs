//! The share page's CSS, JS and icon: plain files under `assets/share/`, compiled into the
//! binary and served from `/share/_assets/` under names that carry a hash of their content
//! (`share.3f2a9c01d4.css`). A new build with changed assets gets new names, so browsers and
//! proxies may keep each file forever (`immutable`), and a page never meets stale assets.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
pub struct Asset {
    /// The content-hashed file name, as it appears in URLs.
    pub name: String,
    content_type: &'static str,
    body: &'static [u8],
}

/// The page's assets, hashed once at first use.
pub struct Assets {
    pub css: Asset,
    pub js: Asset,
    pub icon: Asset,
}

pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: Asset::new(
        "share",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/share/share.css"),
    ),
    js: Asset::new(
        "share",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/share/share.js"),
    ),
    icon: Asset::new(
        "icon",
        "svg",
        "image/svg+xml",
        include_bytes!("../../assets/share/icon.svg"),
    ),
});

/// A year: the longest lifetime caches honour; the name changes with the content anyway.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

impl Asset {
    /// An embedded file named `{stem}.{hash}.{ext}` (also the owner page's, `manage::assets`).
    pub(crate) fn new(
        stem: &str,
        ext: &str,
        content_type: &'static str,
        body: &'static [u8],
    ) -> Self {
        let digest = Sha256::digest(body);
        let hash = crate::hex::encode(&digest[..5]);
        Asset {
            name: format!("{stem}.{hash}.{ext}"),
            content_type,
            body,
        }
    }
}

impl Assets {
    fn find(&self, name: &str) -> Option<&Asset> {
        [&self.css, &self.js, &self.icon]
            .into_iter()
            .find(|a| a.name == name)
    }
}

/// `GET|HEAD /share/_assets/{name}`: only the current names exist (404 otherwise).
pub async fn get(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let asset = ASSETS.find(&name).ok_or_else(ApiError::not_found)?;
    Ok(asset.response())
}

impl Asset {
    /// The file, cached for good: its name changes with its content.
    pub(crate) fn response(&self) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, self.content_type))
            .insert_header((header::CACHE_CONTROL, CACHE_FOREVER))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_hash_of_the_content() {
        let a = Asset::new("share", "css", "text/css", b"body{}");
        let b = Asset::new("share", "css", "text/css", b"body{ }");
        assert!(a.name.starts_with("share.") && a.name.ends_with(".css"));
        assert_eq!(a.name.len(), "share.".len() + 10 + ".css".len());
        assert_ne!(a.name, b.name);
        assert_eq!(
            a.name,
            Asset::new("share", "css", "text/css", b"body{}").name
        );
    }

    #[test]
    fn only_current_names_are_found() {
        assert!(ASSETS.find(&ASSETS.js.name).is_some());
        assert!(ASSETS.find("share.js").is_none());
        assert!(ASSETS.find("share.0000000000.js").is_none());
    }
}
