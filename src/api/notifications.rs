//! `GET|PUT /api/notifications`: the caller's own notification settings (docs/api.md,
//! "Notifications"). Stored as a `NotifySettingsChanged` event on the owner's own stream;
//! the rules (a target the admin allows, at least one kind) are the domain's
//! (`decide_owner`). This door only reads the body's types.

use super::body::{self, Fields};
use super::principal::Principal;
use crate::domain::{Notify, NotifyFormat, NotifyOn, SetNotifications, UserId};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

/// `GET`: the stored settings, or `{"url": null, "format": null, "on": []}` when off.
pub async fn get(state: web::Data<AppState>, Principal(actor): Principal) -> HttpResponse {
    HttpResponse::Ok().json(stored(&state, &actor.user_id))
}

/// `PUT {"url", "format", "on"}` sets them; `{"url": null}` turns them off. Answers the
/// stored settings, also when nothing changed (no event is written then).
pub async fn put(
    payload: web::Payload,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read(payload).await?;
    let m = body::object(&bytes)?;
    let notify = settings(&Fields(&m))?;
    let user = actor.user_id.clone();
    state
        .store
        .set_notifications(SetNotifications { actor, notify })
        .await??;
    // Published before the acknowledgement: the projection already holds it.
    Ok(HttpResponse::Ok().json(stored(&state, &user)))
}

fn stored(state: &AppState, user: &UserId) -> Value {
    let shares = state.store.projection();
    match shares.owner(user).and_then(|o| o.notify.as_ref()) {
        Some(n) => json!({
            "url": n.url,
            "format": format_name(n.format),
            "on": n.on.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        }),
        None => json!({"url": null, "format": null, "on": []}),
    }
}

fn format_name(f: NotifyFormat) -> &'static str {
    match f {
        NotifyFormat::Json => "json",
        NotifyFormat::Ntfy => "ntfy",
    }
}

/// The settings a body asks for: `None` for `"url": null`. `url` is required (a client
/// that forgets it must not turn notifications off by accident), and with a URL so are
/// `format` and `on`: nothing is guessed. A `format` or `on` sent along with `null` must
/// still be well formed.
fn settings(f: &Fields<'_>) -> Result<Option<Notify>, ApiError> {
    if !f.has("url") {
        return Err(ApiError::invalid(
            "url",
            "is required: where to send notifications, or null to turn them off",
        ));
    }
    let url = f.string("url")?;
    let format = f
        .string("format")?
        .map(|name| {
            NotifyFormat::parse(&name)
                .ok_or_else(|| ApiError::invalid("format", "must be \"json\" or \"ntfy\""))
        })
        .transpose()?;
    let on = kinds(f)?;
    let Some(url) = url else {
        return Ok(None);
    };
    // A URL a request can be built from; the allow-list is the domain's.
    if url.parse::<awc::http::Uri>().is_err() {
        return Err(ApiError::invalid("url", "must be a URL"));
    }
    let format =
        format.ok_or_else(|| ApiError::invalid("format", "is required: \"json\" or \"ntfy\""))?;
    let all = "first-visit, visit, download, limit-reached, link-revoked";
    let on =
        on.ok_or_else(|| ApiError::invalid("on", format!("is required: an array of {all}")))?;
    Ok(Some(Notify { url, format, on }))
}

/// `on`, if sent: an array of kinds (`null` is not one; `format: null` is accepted with
/// `url: null`, so that what `GET` answers while off can be sent back as it is).
fn kinds(f: &Fields<'_>) -> Result<Option<Vec<NotifyOn>>, ApiError> {
    let all = "first-visit, visit, download, limit-reached, link-revoked";
    let items = match f.0.get("on") {
        None => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::invalid(
                "on",
                format!("must be an array of {all}"),
            ))
        }
    };
    items
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(NotifyOn::parse)
                .ok_or_else(|| ApiError::invalid("on", format!("each must be one of {all}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
