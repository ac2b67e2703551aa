//! `GET /api/share/search?query=&count=`: what an owner can share, found on the music server
//! (its `search3` for artists, albums and songs; its playlists by name), so a client (the
//! owner's page) can create a share without knowing ids. Asked with sharelog's own login, as
//! a create's lookup is; a playlist is offered only to its owner, or when it is public.

use super::principal::Principal;
use crate::domain::Actor;
use crate::error::ApiError;
use crate::shares::ShareError;
use crate::upstream::{Upstream, UpstreamError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashSet;

type Result<T> = std::result::Result<T, ApiError>;

/// The longest query passed on, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Results per kind when `count` is absent, and the most a `count` may ask for.
const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 50;

pub async fn get(
    req: HttpRequest,
    upstream: web::Data<Upstream>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let (query, count) = parse(req.query_string())?;
    let n = count.to_string();
    let found = upstream
        .call(
            "search3",
            &[
                ("query", query.as_str()),
                ("artistCount", &n),
                ("albumCount", &n),
                ("songCount", &n),
            ],
        )
        .await
        .map_err(upstream_error)?;
    let found = &found["searchResult3"];
    let artists: Vec<Value> = list(&found["artist"])
        .map(|a| json!({"id": id(a), "name": text(a, "name"), "albumCount": number(a, "albumCount")}))
        .collect();
    let albums: Vec<Value> = list(&found["album"])
        .map(|a| {
            json!({"id": id(a), "name": text(a, "name"), "artist": text(a, "artist"),
                   "songCount": number(a, "songCount"), "year": a.get("year").and_then(Value::as_u64)})
        })
        .collect();
    let songs: Vec<Value> = list(&found["song"])
        .map(|s| {
            json!({"id": id(s), "title": text(s, "title"), "artist": text(s, "artist"),
                   "album": text(s, "album"), "duration": number(s, "duration")})
        })
        .collect();
    let playlists = playlists(&upstream, &actor, &query, count).await?;
    Ok(HttpResponse::Ok().json(json!({
        "artists": artists,
        "albums": albums,
        "songs": songs,
        "playlists": playlists,
    })))
}

/// `query` (required: 1 to `MAX_QUERY_CHARS` characters as sent, none a control character,
/// not all spaces; looked for trimmed) and `count` (1 to 50). Checked as sent, so the rule is
/// the one the OpenAPI document states (a length and a pattern) and nothing it calls invalid
/// is accepted.
fn parse(raw: &str) -> Result<(String, usize)> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(raw)
        .map_err(|_| ApiError::invalid("query", "malformed query string"))?
        .into_inner();
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let query = value("query").unwrap_or_default();
    // Control characters name nothing; some servers fail on them rather than find nothing.
    if query.trim().is_empty()
        || query.chars().count() > MAX_QUERY_CHARS
        || query.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "query",
            format!("is required: 1 to {MAX_QUERY_CHARS} characters to look for, none a control character"),
        ));
    }
    let query = query.trim();
    let count = match value("count") {
        None => DEFAULT_COUNT,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|c| (1..=MAX_COUNT).contains(c))
            .ok_or_else(|| {
                ApiError::invalid(
                    "count",
                    format!("must be a whole number from 1 to {MAX_COUNT}"),
                )
            })?,
    };
    Ok((query.to_string(), count))
}

/// Playlists whose name holds `query`: the caller's own (asked for by their name, which a
/// music server allows an admin login) first, then public ones (what our own login lists).
async fn playlists(
    upstream: &Upstream,
    actor: &Actor,
    query: &str,
    count: usize,
) -> Result<Vec<Value>> {
    let listed = upstream
        .call("getPlaylists", &[])
        .await
        .map_err(upstream_error)?;
    // Not every server or login may ask for another user's list: then only what we see.
    let owned = upstream
        .call("getPlaylists", &[("username", actor.username.as_str())])
        .await
        .ok();
    let wanted = query.to_lowercase();
    let mut seen = HashSet::new();
    let found = owned
        .iter()
        .chain(std::iter::once(&listed))
        .flat_map(|r| list(&r["playlists"]["playlist"]))
        .filter(|p| {
            let mine = text(p, "owner") == actor.username;
            mine || p.get("public").and_then(Value::as_bool) == Some(true)
        })
        .filter(|p| text(p, "name").to_lowercase().contains(&wanted))
        .filter(|p| seen.insert(id(p).to_string()))
        .take(count)
        .map(|p| {
            json!({"id": id(p), "name": text(p, "name"), "owner": text(p, "owner"),
                   "songCount": number(p, "songCount")})
        })
        .collect();
    Ok(found)
}

/// A Subsonic list: an array, or (some servers, for one item) the item itself.
fn list(v: &Value) -> impl Iterator<Item = &Value> {
    let items: &[Value] = match v {
        Value::Array(a) => a,
        Value::Object(_) => std::slice::from_ref(v),
        _ => &[],
    };
    items.iter().filter(|i| !id(i).is_empty())
}

/// An id as a string (some servers send numbers).
fn id(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn number(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The music server failing: the same answers as during a create (503 when it is down, 502
/// naming the setting when it refuses our login).
fn upstream_error(e: UpstreamError) -> ApiError {
    ShareError::Upstream(e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_required_and_bounded_and_count_too() {
        assert_eq!(parse("query=%20alpha%20").unwrap(), ("alpha".into(), 20));
        assert_eq!(parse("query=a&count=50").unwrap().1, 50);
        for bad in [
            "",
            "query=",
            "query=%20%20",
            "count=3",
            "query=a%00b",
            "query=a%0Ab",
            // control characters count where they are sent, even where trimming would drop them
            "query=%09alpha",
            "query=alpha%0A",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().field.as_deref(),
                Some("query"),
                "{bad}"
            );
        }
        let long = "é".repeat(MAX_QUERY_CHARS + 1);
        assert!(parse(&format!("query={long}")).is_err());
        assert!(parse(&format!("query={}", "é".repeat(MAX_QUERY_CHARS))).is_ok());
        // the length is of the query as sent, spaces included
        let padded = format!("{}%20", "é".repeat(MAX_QUERY_CHARS));
        assert!(parse(&format!("query={padded}")).is_err());
        for bad in ["0", "51", "x", "-1", "%205"] {
            let e = parse(&format!("query=a&count={bad}")).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("count"), "{bad}");
        }
    }

    #[test]
    fn a_list_of_one_and_numeric_ids_are_read() {
        let one = json!({"id": 7, "name": "x"});
        assert_eq!(list(&one).map(id).collect::<Vec<_>>(), vec!["7"]);
        let many = json!([{"id": "a"}, {"name": "no id"}, {"id": "b"}]);
        assert_eq!(list(&many).map(id).collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(list(&Value::Null).count(), 0);
    }
}
