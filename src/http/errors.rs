//! Answers that actix makes itself, without a handler, turned into our JSON errors: a path
//! that exists but not for the method asked (405, `Allow` kept). Every route gets this from
//! one place instead of a default service on each resource.

use crate::error::{ApiError, ErrorCode};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::ResponseError;

pub fn handlers<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed)
}

fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut answer = ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this path does not take that method",
    )
    .error_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, answer).map_into_right_body(),
    ))
}
