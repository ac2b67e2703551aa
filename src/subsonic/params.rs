//! Subsonic request parameters: from the query string and, for POST, a form body.

use actix_web::http::header;
use actix_web::{web, HttpRequest};

/// All `name=value` pairs in order; names may repeat (`id` in `createShare`).
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(req: &HttpRequest, body: &[u8]) -> Self {
        let mut pairs = pairs(req.query_string());
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            pairs.extend(pairs_of(body));
        }
        Params(pairs)
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

fn pairs(qs: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(qs)
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

fn pairs_of(body: &[u8]) -> Vec<(String, String)> {
    std::str::from_utf8(body).map(pairs).unwrap_or_default()
}
