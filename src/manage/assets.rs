//! The owner's pages' CSS and JS: plain files under `assets/manage/`, compiled into the binary
//! and served from `/share/_manage/assets/` under content-hashed names, cached for good (the
//! share page's scheme, `public::assets`).

use crate::error::ApiError;
use crate::public::assets::Asset;
use actix_web::{web, HttpResponse};
use std::sync::LazyLock;

pub struct Assets {
    pub css: Asset,
    /// The page's script: the share list, dialogs and calls to the owner API.
    pub js: Asset,
    /// The visits chart, drawn as SVG.
    pub chart: Asset,
    /// The sign-in page's script (a Navidrome session already held in this browser).
    pub sign_in: Asset,
}

pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: Asset::new(
        "manage",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/manage/manage.css"),
    ),
    js: Asset::new(
        "manage",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/manage/manage.js"),
    ),
    chart: Asset::new(
        "chart",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/manage/chart.js"),
    ),
    sign_in: Asset::new(
        "sign-in",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/manage/sign-in.js"),
    ),
});

impl Assets {
    fn find(&self, name: &str) -> Option<&Asset> {
        [&self.css, &self.js, &self.chart, &self.sign_in]
            .into_iter()
            .find(|a| a.name == name)
    }
}

/// `GET|HEAD /share/_manage/assets/{name}`: only the current names exist (404 otherwise).
pub async fn get(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let asset = ASSETS.find(&name).ok_or_else(ApiError::not_found)?;
    Ok(asset.response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_current_names_are_found() {
        assert!(ASSETS.find(&ASSETS.chart.name).is_some());
        assert!(ASSETS.find(&ASSETS.sign_in.name).is_some());
        assert!(ASSETS.find("manage.js").is_none());
        assert!(ASSETS
            .find(&crate::public::assets::ASSETS.js.name)
            .is_none());
    }
}
