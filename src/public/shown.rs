//! `POST /share/{id}/shown`: a page that was prefetched or prerendered (and so recorded as
//! a preview) is now in front of a person; its script sends the page's single-use token
//! (`shown_token`), and the token becomes one visit (ShareVisited, format `html`).
//! The same checks as every public path come first (access rules, rate limit, the access
//! decision: a password share needs its proof here too, a used-up link is 410). A visit to a
//! protected share hands out an access key, as a page load does; the page served to the
//! prefetch had none (a preview gets none), so this answer carries it (200 `{"key"}`) and the
//! page's script adds it to its links. Any other share: 204.
//!
//! Each token counts once across restarts and every replica on one log: its nonce is the
//! visit's idempotency key, so the committer (which decides against the whole log) turns a
//! second post of it, here or on another replica, into a repeat that appends nothing.

use super::door::Door;
use super::gate::{self, Purpose};
use super::shown_token::{self, Refused};
use super::{admit, answer, visit};
use crate::domain::{Command, VisitFormat, VisitKind};
use crate::error::{ApiError, ErrorCode};
use crate::store::Idempotency;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

pub async fn post(
    req: HttpRequest,
    path: web::Path<String>,
    state: Door,
    body: Bytes,
) -> HttpResponse {
    let mut protected = false;
    let result = async {
        let ip = admit(&req, &state)?;
        let entry = gate::enter(&req, &state, &path, Purpose::Visit, ip).await?;
        protected = entry.protected();
        count(&req, &state, &entry, ip, &body).await?;
        Ok(match entry.visit_key(&state) {
            Some(key) => HttpResponse::Ok().json(serde_json::json!({ "key": key })),
            None => HttpResponse::NoContent().finish(),
        })
    }
    .await;
    answer(result, protected)
}

/// The token of `body` turned into one visit, or why not.
async fn count(
    req: &HttpRequest,
    state: &Door,
    entry: &gate::Entry,
    ip: std::net::IpAddr,
    body: &[u8],
) -> Result<(), ApiError> {
    let token = token(body)?;
    let nonce = state
        .parts
        .shown
        .verify(&token, &entry.public_id, shown_token::now_secs())
        .map_err(refusal)?;
    let visit = visit::visit_of(
        state,
        req,
        entry,
        ip,
        VisitFormat::Html,
        false,
        None,
        VisitKind::Visit,
    );
    let once = Idempotency {
        user_id: shown_token::SECRET_NAME.into(),
        key: nonce,
        fingerprint: entry.public_id.clone(),
    };
    // A failed append is not counted: the page may send its token again.
    let outcome = state
        .store
        .execute(Command::Visit(visit), Some(once))
        .await??;
    if outcome.replayed {
        return Err(refusal(Refused::Used));
    }
    Ok(())
}

/// The `token` of a JSON body `{"token": "..."}`.
fn token(body: &[u8]) -> Result<String, ApiError> {
    let malformed = || {
        ApiError::new(
            ErrorCode::MalformedJson,
            "body: expected JSON {\"token\": \"...\"}",
        )
    };
    match serde_json::from_slice::<Value>(body).map_err(|_| malformed())? {
        Value::Object(mut fields) => match fields.remove("token") {
            Some(Value::String(token)) => Ok(token),
            _ => Err(ApiError::invalid(
                "token",
                "must be the token of the shown page, a string",
            )),
        },
        _ => Err(malformed()),
    }
}

/// Why a token is not a visit, as its stable code says.
fn refusal(r: Refused) -> ApiError {
    match r {
        Refused::Invalid => ApiError::new(
            ErrorCode::ShownTokenInvalid,
            "this token was not issued for a page of this share",
        ),
        Refused::Expired => ApiError::new(
            ErrorCode::ShownTokenExpired,
            format!(
                "this token has expired (a token lives {} minutes)",
                shown_token::LIFETIME_SECS / 60
            ),
        ),
        Refused::Used => ApiError::new(
            ErrorCode::ShownTokenUsed,
            "this token has already been counted as a visit",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_a_json_object_with_a_string_token() {
        assert_eq!(
            token(br#"{"token":"a.b.c"}"#).ok().as_deref(),
            Some("a.b.c")
        );
        for (body, code) in [
            (&b"a.b.c"[..], ErrorCode::MalformedJson),
            (b"[\"a\"]", ErrorCode::MalformedJson),
            (b"", ErrorCode::MalformedJson),
            (b"{}", ErrorCode::InvalidField),
            (br#"{"token":7}"#, ErrorCode::InvalidField),
        ] {
            assert_eq!(token(body).err().map(|e| e.code), Some(code));
        }
    }
}
