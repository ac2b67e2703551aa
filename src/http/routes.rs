//! Every path the service answers, in one table. The handlers live with their
//! front door (`api/`, `public/`, `manage/`, `subsonic/`, `health`, `openapi`); only this
//! file says which path reaches which. Paths are resources, not bare routes, so
//! another method gets 405 with `Allow`, not 404.

use super::{health, openapi};
use crate::error::ApiError;
use crate::{api, manage, public, subsonic};
use actix_web::web::{self, get, head, post, put, resource, scope};

/// Registers every route; the share routes only while sharing is enabled.
pub fn configure(cfg: &mut web::ServiceConfig, sharing_enabled: bool) {
    cfg.service(resource("/livez").route(get().to(health::livez)))
        .service(resource("/readyz").route(get().to(health::readyz)))
        .service(resource("/metrics").route(get().to(health::metrics)))
        .service(resource("/openapi.json").route(get().to(openapi::openapi)))
        // Answered (200) even while sharing is disabled: the audit trail stays readable.
        .service(resource("/api/audit").route(get().to(api::audit::audit)));
    if sharing_enabled {
        // Public links first: the busiest paths, and no other route starts with `/share`.
        public_links(cfg);
        owner_api(cfg);
        subsonic_api(cfg);
    }
    cfg.default_service(web::to(|| async {
        Err::<actix_web::HttpResponse, _>(ApiError::not_found())
    }));
}

/// `/share/...`: the links anyone with one may open, and the owner's page.
fn public_links(cfg: &mut web::ServiceConfig) {
    use public::handlers::{assets, cover, oembed, page, proxy, shown, unlock};
    cfg.service(
        scope("/share")
            // Before `/{id}`: `_` cannot start a share id, but the patterns would still match.
            .configure(owner_page)
            .service(
                resource("/_assets/{name}")
                    .route(get().to(assets::get))
                    .route(head().to(assets::get)),
            )
            .service(
                resource("/oembed")
                    .route(get().to(oembed::get))
                    .route(head().to(oembed::get)),
            )
            .service(
                resource("/{id}")
                    .route(get().to(page::get))
                    .route(head().to(page::head)),
            )
            .service(resource("/{id}/shown").route(post().to(shown::post)))
            .service(resource("/{id}/unlock").route(post().to(unlock::post)))
            .service(
                resource("/{id}/cover")
                    .route(get().to(cover::first))
                    .route(head().to(cover::first)),
            )
            .service(
                resource("/{id}/cover/{cover}")
                    .route(get().to(cover::by_id))
                    .route(head().to(cover::by_id)),
            )
            .service(
                resource("/{id}/stream/{track}")
                    .route(get().to(proxy::stream))
                    .route(head().to(proxy::stream)),
            )
            .service(
                resource("/{id}/download/{track}")
                    .route(get().to(proxy::download))
                    .route(head().to(proxy::download)),
            ),
    );
}

/// `/share/_manage...`: the owner's page, its sign-in and sign-out, and its CSS and JS.
fn owner_page(cfg: &mut web::ServiceConfig) {
    use manage::handlers::{assets, page, sign_in};
    cfg.service(
        resource("/_manage")
            .route(get().to(page::get))
            .route(head().to(page::get)),
    )
    .service(resource("/_manage/sign-in").route(post().to(sign_in::post)))
    .service(resource("/_manage/sign-in/token").route(post().to(sign_in::with_token)))
    .service(resource("/_manage/sign-out").route(post().to(sign_in::sign_out)))
    .service(
        resource("/_manage/assets/{name}")
            .route(get().to(assets::get))
            .route(head().to(assets::get)),
    );
}

/// `/api/share...` and `/api/notifications`: the owner API.
fn owner_api(cfg: &mut web::ServiceConfig) {
    use api::{audit, links, notifications, search, settings, share, visits};
    cfg.service(
        resource("/api/notifications")
            .route(get().to(notifications::get))
            .route(put().to(notifications::put)),
    )
    .service(
        resource("/api/share")
            .route(get().to(share::list))
            .route(post().to(share::create)),
    )
    // Before `/{id}`, which the words would match too.
    .service(resource("/api/share/settings").route(get().to(settings::get)))
    .service(resource("/api/share/search").route(get().to(search::get)))
    .service(resource("/api/share/{id}/history").route(get().to(audit::history)))
    .service(resource("/api/share/{id}/visits").route(get().to(visits::get)))
    .service(
        resource("/api/share/{id}/links")
            .route(get().to(links::list))
            .route(post().to(links::add)),
    )
    .service(resource("/api/share/{id}/links/{link}").route(web::delete().to(links::revoke)))
    .service(
        resource("/api/share/{id}")
            .route(get().to(share::get))
            .route(put().to(share::update))
            .route(web::delete().to(share::delete)),
    );
}

/// `/rest/...Share(s)`: the Subsonic share calls, each also as `.view`, GET or POST form.
fn subsonic_api(cfg: &mut web::ServiceConfig) {
    use subsonic::{create_share, delete_share, get_shares, update_share};
    cfg.service(
        resource(["/rest/getShares", "/rest/getShares.view"])
            .route(get().to(get_shares))
            .route(post().to(get_shares)),
    )
    .service(
        resource(["/rest/createShare", "/rest/createShare.view"])
            .route(get().to(create_share))
            .route(post().to(create_share)),
    )
    .service(
        resource(["/rest/updateShare", "/rest/updateShare.view"])
            .route(get().to(update_share))
            .route(post().to(update_share)),
    )
    .service(
        resource(["/rest/deleteShare", "/rest/deleteShare.view"])
            .route(get().to(delete_share))
            .route(post().to(delete_share)),
    );
}
