//! Every request body, on every route, is bounded before any handler sees it: an announced
//! `Content-Length` over `MAX_BODY` is refused at once (413), and a body must arrive within
//! `limits.bodyTimeout` of the request's start and stay within `MAX_BODY` (408, 413).
//! Handlers that answer without reading the body (a 401, say) still answer at once; the
//! connection is then closed rather than drained, for a chunked body too (see `HoldingRest`).

use crate::api::MAX_BODY;
use crate::config::Limits;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, ConnectionType};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use futures_util::Stream;
use std::cell::RefCell;
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
            .into_response(refusal(Refusal::TooLarge))
            .map_into_right_body());
    }
    let timeout = req.app_data::<web::Data<AppState>>().map_or_else(
        || Limits::default().body_timeout(),
        |s| s.settings.limits.body_timeout(),
    );
    let shared = Rc::new(RefCell::new(Unread::default()));
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(Bounded {
            inner,
            deadline: Box::pin(actix_web::rt::time::sleep(timeout)),
            read: 0,
            done: false,
            shared: shared.clone(),
        }),
    });
    let res = next.call(req).await?;
    let Unread { refused, rest } = std::mem::take(&mut *shared.borrow_mut());
    if refused.is_none() && rest.is_none() {
        return Ok(res.map_into_left_body());
    }
    let (req, res) = res.into_parts();
    // Whatever the reader made of a cut-off body, the answer says why it was cut off.
    let res = match refused {
        Some(why) => refusal(why),
        None => res.map_into_boxed_body(),
    };
    let res = match rest {
        Some(rest) => res
            .map_body(|_, body| HoldingRest { body, _rest: rest })
            .map_into_boxed_body(),
        None => res,
    };
    Ok(ServiceResponse::new(req, res).map_into_right_body())
}

/// What became of a request's body: why it was refused, if it was, and the part no one read.
#[derive(Default)]
struct Unread {
    refused: Option<Refusal>,
    rest: Option<Payload>,
}

/// The answer's body, holding the unread rest of the request's body until it is sent. Were
/// the rest dropped, actix would keep reading (draining) a chunked body to reuse the
/// connection, with no time limit, so a client trickling chunks could hold the connection
/// after its answer (a 408, or a 401 that never read the body); held, actix closes the
/// connection once the answer is out, as it does for a body of announced length.
struct HoldingRest {
    body: BoxBody,
    _rest: Payload,
}

impl MessageBody for HoldingRest {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<web::Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// The refusal's answer, with `Connection: close`: the rest of a refused body is never read.
fn refusal(why: Refusal) -> HttpResponse {
    let mut resp = answer(why).error_response();
    resp.head_mut().set_connection_type(ConnectionType::Close);
    resp
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
struct Bounded {
    inner: Payload,
    deadline: Pin<Box<actix_web::rt::time::Sleep>>,
    read: usize,
    /// The body has ended: nothing is left to hold.
    done: bool,
    shared: Rc<RefCell<Unread>>,
}

impl Bounded {
    fn refuse(&mut self, why: Refusal) -> Poll<Option<Result<web::Bytes, PayloadError>>> {
        self.shared.borrow_mut().refused = Some(why);
        Poll::Ready(Some(Err(error(why))))
    }
}

impl Drop for Bounded {
    /// Whoever read (or ignored) the body is done with it: the unread rest goes to the answer.
    fn drop(&mut self) {
        if !self.done && !matches!(self.inner, Payload::None) {
            let rest = std::mem::replace(&mut self.inner, Payload::None);
            self.shared.borrow_mut().rest = Some(rest);
        }
    }
}

impl Stream for Bounded {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let refused = this.shared.borrow().refused;
        if let Some(why) = refused {
            return Poll::Ready(Some(Err(error(why))));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return this.refuse(Refusal::TooSlow);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.read += chunk.len();
                if this.read > MAX_BODY {
                    return this.refuse(Refusal::TooLarge);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
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
