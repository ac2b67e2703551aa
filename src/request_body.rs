//! Every request body, on every route, is bounded before any handler sees it: an announced
//! `Content-Length` over `MAX_BODY` is refused at once (413), and a body must arrive within
//! `limits.bodyTimeout` of the request's start and stay within `MAX_BODY` (408, 413).
//! Handlers that answer without reading the body (a 401, say) still answer at once; the
//! connection is then closed rather than drained.

use crate::api::MAX_BODY;
use crate::config::Limits;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::Stream;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Why a body was cut off, noted by the stream for the answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refusal {
    TooLarge,
    TooSlow,
}

pub async fn bound(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return Ok(req
            .into_response(answer(Refusal::TooLarge).error_response())
            .map_into_right_body());
    }
    let timeout = req.app_data::<web::Data<AppState>>().map_or_else(
        || Limits::default().body_timeout(),
        |s| s.settings.limits.body_timeout(),
    );
    let refused = Rc::new(Cell::new(None));
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(Bounded {
            inner,
            deadline: Box::pin(actix_web::rt::time::sleep(timeout)),
            read: 0,
            refused: refused.clone(),
        }),
    });
    let res = next.call(req).await?;
    // Whatever the reader made of the cut-off body, the answer says why it was cut off.
    Ok(match refused.get() {
        Some(why) => {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, answer(why).error_response()).map_into_right_body()
        }
        None => res.map_into_left_body(),
    })
}

fn answer(why: Refusal) -> ApiError {
    match why {
        Refusal::TooLarge => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("body: at most {} KiB", MAX_BODY / 1024),
        ),
        Refusal::TooSlow => ApiError::new(ErrorCode::BodyTimeout, "body: not received in time"),
    }
}

/// The request's payload, failing once it is too large or its time is up.
struct Bounded<S> {
    inner: S,
    deadline: Pin<Box<actix_web::rt::time::Sleep>>,
    read: usize,
    refused: Rc<Cell<Option<Refusal>>>,
}

impl<S> Stream for Bounded<S>
where
    S: Stream<Item = Result<web::Bytes, PayloadError>> + Unpin,
{
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(why) = this.refused.get() {
            return Poll::Ready(Some(Err(error(why))));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.refused.set(Some(Refusal::TooSlow));
            return Poll::Ready(Some(Err(error(Refusal::TooSlow))));
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.read += chunk.len();
                if this.read > MAX_BODY {
                    this.refused.set(Some(Refusal::TooLarge));
                    return Poll::Ready(Some(Err(error(Refusal::TooLarge))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            other => other,
        }
    }
}

fn error(why: Refusal) -> PayloadError {
    match why {
        Refusal::TooLarge => PayloadError::Overflow,
        Refusal::TooSlow => PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "body not received in time",
        )),
    }
}
