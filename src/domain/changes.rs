//! `ShareUpdated`'s data: only the keys that changed, `null` where a value was removed.

use super::controls::PasswordHash;
use super::event::{ShareChanges, UnwritableEvent};
use super::share::Format;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn fmt_time(t: OffsetDateTime) -> Result<Value, UnwritableEvent> {
    t.format(&Rfc3339)
        .map(Value::String)
        .map_err(|e| UnwritableEvent(format!("time {t}: {e}")))
}

pub(super) fn changes_to_json(c: &ShareChanges) -> Result<Value, UnwritableEvent> {
    let mut m = Map::new();
    if let Some(d) = &c.description {
        m.insert(
            "description".into(),
            d.clone().map(Value::String).unwrap_or(Value::Null),
        );
    }
    if let Some(f) = c.format {
        m.insert("format".into(), Value::String(f.as_str().into()));
    }
    if let Some(b) = c.max_bit_rate {
        m.insert("maxBitRate".into(), Value::from(b));
    }
    if let Some(d) = c.downloadable {
        m.insert("downloadable".into(), Value::Bool(d));
    }
    if let Some(e) = c.expires_at {
        // `null` here is data: the expiry was cleared.
        m.insert(
            "expiresAt".into(),
            e.map(fmt_time).transpose()?.unwrap_or(Value::Null),
        );
    }
    if let Some(p) = &c.password {
        // `null`: the password was removed.
        m.insert(
            "password".into(),
            p.as_ref()
                .map_or(Value::Null, |h| Value::String(h.as_str().into())),
        );
    }
    if let Some(v) = c.max_visits {
        m.insert("maxVisits".into(), v.map_or(Value::Null, Value::from));
    }
    Ok(Value::Object(m))
}

pub(super) fn changes_from_json(v: &Value) -> Result<ShareChanges, String> {
    let m = v.as_object().ok_or("data is not an object")?;
    let mut c = ShareChanges::default();
    if let Some(d) = m.get("description") {
        c.description = Some(d.as_str().map(str::to_string));
    }
    if let Some(f) = m.get("format") {
        c.format = Some(f.as_str().and_then(Format::parse).ok_or("bad format")?);
    }
    if let Some(b) = m.get("maxBitRate") {
        let b = b.as_u64().and_then(|b| u32::try_from(b).ok());
        c.max_bit_rate = Some(b.ok_or("bad maxBitRate")?);
    }
    if let Some(d) = m.get("downloadable") {
        c.downloadable = Some(d.as_bool().ok_or("bad downloadable")?);
    }
    if let Some(e) = m.get("expiresAt") {
        c.expires_at = Some(match e.as_str() {
            None => None,
            Some(s) => Some(OffsetDateTime::parse(s, &Rfc3339).map_err(|e| e.to_string())?),
        });
    }
    if let Some(p) = m.get("password") {
        c.password = Some(match p {
            Value::Null => None,
            Value::String(s) => Some(PasswordHash::parse(s).ok_or("bad password hash")?),
            _ => return Err("bad password".into()),
        });
    }
    if let Some(v) = m.get("maxVisits") {
        c.max_visits = Some(match v {
            Value::Null => None,
            v => Some(
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or("bad maxVisits")?,
            ),
        });
    }
    Ok(c)
}
