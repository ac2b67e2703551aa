//! Reading owner-API request bodies field by field, so every 400 names its field.
//! Unknown fields are ignored: react-admin sends whole records back on PUT.

use crate::domain::Format;
use crate::error::{ApiError, ErrorCode};
use actix_web::web;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Bodies over this are 413.
pub const MAX_BODY: usize = 64 * 1024;

/// Reads the payload, refusing it as soon as it passes `MAX_BODY`.
pub async fn read(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, "body: at most 64 KiB");
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => too_large(),
            _ => ApiError::invalid("body", "could not be read"),
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The body as a JSON object.
pub fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::invalid("body", "must be a JSON object")),
        Err(e) => Err(ApiError {
            field: Some("body".into()),
            ..ApiError::new(
                ErrorCode::MalformedJson,
                format!("body: malformed JSON ({e})"),
            )
        }),
    }
}

/// Typed access to optional fields; `null` counts as absent unless said otherwise.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    pub fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }

    pub fn is_null(&self, k: &str) -> bool {
        matches!(self.0.get(k), Some(Value::Null))
    }

    pub fn string(&self, k: &str) -> Result<Option<String>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(k, "must be a string")),
        }
    }

    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(k, "must be true or false")),
        }
    }

    /// A whole number of at least 0 (`5.0` is accepted, `5.5` and `-1` are not).
    pub fn whole(&self, k: &str) -> Result<Option<u64>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(u) = n.as_u64() {
                    return Ok(Some(u));
                }
                if n.as_i64().is_some_and(|i| i < 0) || n.as_f64().is_some_and(|f| f < 0.0) {
                    return Err(ApiError::invalid(k, "must not be negative"));
                }
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f <= u32::MAX as f64 => Ok(Some(f as u64)),
                    _ => Err(ApiError::invalid(k, "must be a whole number")),
                }
            }
            Some(_) => Err(ApiError::invalid(k, "must be a number")),
        }
    }

    pub fn bit_rate(&self, k: &str) -> Result<Option<u32>, ApiError> {
        self.whole(k)?
            .map(|b| u32::try_from(b).map_err(|_| ApiError::invalid(k, "too large")))
            .transpose()
    }

    pub fn format(&self, k: &str) -> Result<Option<Format>, ApiError> {
        self.string(k)?
            .map(|s| {
                Format::parse(&s).ok_or_else(|| ApiError::invalid(k, "must be \"raw\" or \"m3u\""))
            })
            .transpose()
    }

    pub fn time(&self, k: &str) -> Result<Option<OffsetDateTime>, ApiError> {
        self.string(k)?
            .map(|s| {
                OffsetDateTime::parse(&s, &Rfc3339)
                    .map_err(|_| ApiError::invalid(k, "must be an RFC 3339 time"))
            })
            .transpose()
    }

    /// A list of non-empty id strings.
    pub fn ids(&self, k: &str) -> Result<Vec<String>, ApiError> {
        match self.get(k) {
            None => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) if !s.trim().is_empty() && s.len() <= 256 => {
                        Ok(s.trim().to_string())
                    }
                    _ => Err(ApiError::invalid(
                        k,
                        "must be a list of ids (non-empty strings)",
                    )),
                })
                .collect(),
            Some(_) => Err(ApiError::invalid(k, "must be a list of ids")),
        }
    }
}
