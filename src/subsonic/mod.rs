//! The Subsonic share endpoints (`/rest/getShares`, `createShare`, `updateShare`,
//! `deleteShare`, each also as `.view`, GET or POST form), for Subsonic clients.
//!
//! - `handlers`: the four calls, issuing the owner API's commands through the same store
//! - `login`: credentials verified by the music server, verdicts cached briefly
//! - `params`: query string and form parameters
//! - `response`: XML (default) or JSON (`f=json`) answers and Subsonic error codes
//! - `view`: the OpenSubsonic `share` element

mod handlers;
mod login;
mod params;
mod response;
mod view;

pub(crate) use handlers::actor;
pub use login::{Logins, SubsonicUser};

use actix_web::{web, HttpRequest, HttpResponse};
use handlers::{serve, Op};

type Data<T> = web::Data<T>;

macro_rules! endpoint {
    ($name:ident, $op:expr) => {
        pub(crate) async fn $name(
            req: HttpRequest,
            body: web::Bytes,
            state: Data<crate::state::AppState>,
            upstream: Data<crate::upstream::Upstream>,
            logins: Data<Logins>,
        ) -> HttpResponse {
            serve($op, req, body, state, upstream, logins).await
        }
    };
}

endpoint!(get_shares, Op::List);
endpoint!(create_share, Op::Create);
endpoint!(update_share, Op::Update);
endpoint!(delete_share, Op::Delete);
