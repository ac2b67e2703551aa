//! `GET /openapi.json`: `docs/openapi.yaml`, embedded at build time and served as JSON.
//!
//! The YAML is parsed once, on first use; a unit test keeps it parseable, so the 500
//! branch is only there to answer a broken build with the usual error shape.

use crate::error::ApiError;
use actix_web::HttpResponse;
use serde_json::Value;
use std::sync::LazyLock;

const SOURCE: &str = include_str!("../../docs/openapi.yaml");

/// The document as JSON text, or the parse error.
static DOCUMENT: LazyLock<Result<String, String>> = LazyLock::new(|| parse(SOURCE));

fn parse(yaml: &str) -> Result<String, String> {
    let value: Value = serde_norway::from_str(yaml).map_err(|e| e.to_string())?;
    serde_json::to_string(&value).map_err(|e| e.to_string())
}

pub(crate) async fn openapi() -> Result<HttpResponse, ApiError> {
    match &*DOCUMENT {
        Ok(json) => Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(json.clone())),
        Err(e) => {
            log::error!("docs/openapi.yaml embedded in this build does not parse: {e}");
            Err(ApiError::internal())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_document_parses_as_openapi_3_1() {
        let json = parse(SOURCE).expect("docs/openapi.yaml parses");
        let doc: Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        for path in [
            "/api/share",
            "/api/share/{id}",
            "/share/{id}",
            "/openapi.json",
            "/rest/getShares.view",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
    }

    #[test]
    fn the_document_lists_exactly_the_error_codes_there_are() {
        let doc: Value = serde_json::from_str(&parse(SOURCE).expect("parses")).expect("JSON");
        let listed: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
            .as_array()
            .expect("an enum of codes")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let codes: Vec<&str> = crate::error::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(listed, codes);
    }
}
