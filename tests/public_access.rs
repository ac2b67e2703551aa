//! Password shares over real HTTP against the real supysonic: every public path (page, embed,
//! raw, M3U, zip, HEAD, stream, download, covers, oEmbed, a link preview) without proof, with a
//! wrong password, and with each proof (HTTP Basic, an access key from a visit, the unlock
//! cookie); what previews and oEmbed reveal (nothing); the unlock form; and proofs refused
//! once the password changes.
use crate::support;

use serde_json::json;
use sharelog::config::Cidr;
use support::protected::*;
use support::*;

/// A sharelog that believes `X-Forwarded-For` from the test itself, so each test can play
/// several clients (the brute-force throttle counts per client).
fn app() -> TestApp {
    spawn_app(|s| s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()])
}

fn is_html(r: &Resp) -> bool {
    r.header("Content-Type")
        .is_some_and(|t| t.starts_with("text/html"))
}

/// What every answer of a password share must not show: the share's words, owner, contents.
fn reveals_nothing(r: &Resp) {
    let body = r.text();
    for secret in [
        "Secret songs",
        "alice",
        "Alpha",
        "Ann Artist",
        PASSWORD,
        "og:image",
    ] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

/// The statuses a path answers when it is allowed.
fn allowed(what: &str, status: u16) -> bool {
    match what {
        "stream" | "download" => matches!(status, 200 | 206),
        _ => status == 200,
    }
}

#[test]
fn every_public_path_of_a_password_share_needs_proof_and_each_proof_opens_it() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let paths = every_path(&id);

    // No proof: 401 everywhere; the JSON answers challenge for Basic, the pages are the form.
    for p in &paths {
        let r = p.send(&app, None, &[]);
        assert_eq!(r.status(), 401, "{}: {}", p.what, r.text());
        assert_eq!(
            r.header("Cache-Control"),
            Some("no-store, private"),
            "{}",
            p.what
        );
        if matches!(p.what, "page" | "embed" | "preview") {
            assert!(is_html(&r), "{}", p.what);
            assert!(r.text().contains("<form id=\"unlock\""), "{}", p.what);
            assert!(
                r.header("WWW-Authenticate").is_none(),
                "{}: a browser would prompt",
                p.what
            );
            reveals_nothing(&r);
        } else if p.method == "HEAD" {
            assert!(r.text().is_empty());
        } else {
            assert_eq!(r.code(), "password-required", "{}", p.what);
            assert_eq!(
                r.header("WWW-Authenticate"),
                Some("Basic realm=\"share\""),
                "{}",
                p.what
            );
            reveals_nothing(&r);
        }
    }

    // A wrong password: 401 as well (each from a client of its own: the throttle is not tested here).
    for (i, p) in paths.iter().enumerate() {
        let client = format!("198.51.100.{i}");
        let wrong = basic("not the password");
        let r = p.send(
            &app,
            None,
            &[("Authorization", &wrong), ("X-Forwarded-For", &client)],
        );
        assert_eq!(r.status(), 401, "{}: {}", p.what, r.text());
    }

    // Each proof opens every path.
    let right = basic(PASSWORD);
    let key = visit_key(&app, &id, &[("Authorization", &right)]);
    let unlocked = unlock(&app, &id, PASSWORD, &[]);
    assert_eq!(unlocked.status(), 303, "{}", unlocked.text());
    let cookie = cookie_of(&unlocked);
    for (proof, key, headers) in [
        ("basic", None, vec![("Authorization", right.as_str())]),
        ("key", Some(key.as_str()), vec![]),
        ("cookie", None, vec![("Cookie", cookie.as_str())]),
    ] {
        for p in &paths {
            let r = p.send(&app, key, &headers);
            assert!(
                allowed(p.what, r.status()),
                "{proof} on {}: {} {}",
                p.what,
                r.status(),
                r.text()
            );
            assert_eq!(
                r.header("Cache-Control"),
                Some("no-store, private"),
                "{proof} on {}",
                p.what
            );
            assert!(!r.text().contains(PASSWORD), "{proof} on {}", p.what);
        }
    }
}

#[test]
fn a_visit_hands_out_a_key_on_every_link_of_its_answer_and_the_key_proves_the_password() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let auth = [("Authorization", basic(PASSWORD))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let raw = app.raw("GET", &format!("/share/{id}?format=raw"), &auth, None);
    let m3u = app.raw("GET", &format!("/share/{id}?format=m3u"), &auth, None);
    let mut page_headers = auth.clone();
    page_headers.extend([("Accept", BROWSER), ("User-Agent", CHROME_UA)]);
    let page = app.raw("GET", &format!("/share/{id}"), &page_headers, None);

    let tracks = raw.json()["tracks"].as_array().unwrap().clone();
    assert_eq!(tracks.len(), 3);
    for t in &tracks {
        for field in ["streamUrl", "downloadUrl"] {
            let url = t[field].as_str().unwrap();
            let key = key_in(url).unwrap_or_else(|| panic!("no key in {url}"));
            // The URL alone plays: no password, no cookie.
            let r = app.raw("GET", path_of(url), &[], None);
            assert_eq!(r.status(), 200, "{field} {url}: {}", r.text());
            assert_eq!(key.len(), 52);
        }
    }
    let m3u = m3u.text();
    let stream_lines: Vec<&str> = m3u.lines().filter(|l| l.starts_with("http")).collect();
    assert_eq!(stream_lines.len(), 3);
    for url in stream_lines {
        assert!(key_in(url).is_some(), "{url}");
        assert_eq!(app.raw("GET", path_of(url), &[], None).status(), 200);
    }
    let html = page.text();
    for marker in [
        "id=\"zip\"",
        "id=\"m3u\"",
        "id=\"cover\"",
        "class=\"play-link\"",
        "class=\"download\"",
    ] {
        let attr = if marker == "id=\"cover\"" {
            "src"
        } else {
            "href"
        };
        let link = support::html::attr(&html, marker, attr).replace("&#38;", "&");
        assert!(key_in(&link).is_some(), "{marker}: {link}");
        let r = app.raw("GET", &link, &[], None);
        assert_eq!(r.status(), 200, "{marker} {link}: {}", r.text());
    }
    // A later visit hands out a key too, and it plays on its own. (Keys are made from the
    // second they expire in, so two visits in one second may well get the same key: no
    // assertion that they differ.)
    let again = app.raw("GET", &format!("/share/{id}?format=raw"), &auth, None);
    let again_stream = again.json()["tracks"][0]["streamUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key_in(&again_stream).is_some(), "{again_stream}");
    let played = app.raw("GET", path_of(&again_stream), &[], None);
    assert_eq!(played.status(), 200, "{again_stream}: {}", played.text());
    // raw, m3u, page, the zip link and the M3U link (5 visits so far, the zip and M3U links
    // opened above), then `again`.
    assert_eq!(owner_view(&app, &id)["visitCount"], 6);
}

#[test]
fn a_key_opens_only_its_own_share_and_a_damaged_one_nothing() {
    let app = app();
    let a = share_with(&app, json!({ "password": PASSWORD }));
    let b = share_with(&app, json!({ "password": PASSWORD }));
    let auth = basic(PASSWORD);
    let key = visit_key(&app, &a, &[("Authorization", &auth)]);
    let (track, _) = alpha_track_and_cover();
    let stream = |id: &str, key: &str| {
        app.raw(
            "GET",
            &format!("/share/{id}/stream/{track}?key={key}"),
            &[],
            None,
        )
    };
    assert_eq!(stream(&a, &key).status(), 200);
    let other = stream(&b, &key);
    assert_eq!(
        (other.status(), other.code()),
        (401, "password-required".into())
    );
    let mut damaged = key.clone().into_bytes();
    damaged[20] = if damaged[20] == b'0' { b'1' } else { b'0' };
    let damaged = String::from_utf8(damaged).unwrap();
    assert_eq!(stream(&a, &damaged).status(), 401);
    assert_eq!(stream(&a, "junk").status(), 401);
}

#[test]
fn previews_og_tags_and_oembed_of_a_password_share_reveal_nothing_and_count_nothing() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let auth = basic(PASSWORD);

    // A chat app without the password gets the form, whose tags say only "Shared music".
    let bot = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("User-Agent", SLACKBOT)],
        None,
    );
    assert_eq!(bot.status(), 401);
    let form = bot.text();
    assert!(
        form.contains("<meta property=\"og:title\" content=\"Shared music\">"),
        "{form}"
    );
    assert!(form.contains("<title>Shared music</title>"));
    reveals_nothing(&bot);

    // With the password (a link shared with it): the page, whose tags still say nothing.
    let seen = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("User-Agent", SLACKBOT), ("Authorization", &auth)],
        None,
    );
    assert_eq!(seen.status(), 200);
    let html = seen.text();
    let head = &html[..html.find("</head>").unwrap()];
    assert!(
        head.contains("<meta property=\"og:title\" content=\"Shared music\">"),
        "{head}"
    );
    assert!(head.contains("<meta name=\"twitter:title\" content=\"Shared music\">"));
    for hidden in [
        "og:image",
        "twitter:image",
        "json+oembed",
        "alice",
        "Alpha",
        "Secret",
        "3 tracks",
    ] {
        assert!(!head.contains(hidden), "{hidden}: {head}");
    }
    assert!(
        html.contains("Secret songs for Bob"),
        "the person sees the page itself"
    );

    // oEmbed: nothing without proof, and nothing of the share with it.
    let url = upstream::percent_encode(&format!("{PUBLIC_URL}/share/{id}"));
    let oembed = |headers: &[(&str, &str)]| {
        app.raw("GET", &format!("/share/oembed?url={url}"), headers, None)
    };
    assert_eq!(oembed(&[]).status(), 401);
    let about = oembed(&[("Authorization", &auth)]).json();
    assert_eq!(about["title"], "Shared music");
    for absent in ["author_name", "thumbnail_url", "thumbnail_width"] {
        assert!(about.get(absent).is_none(), "{absent}: {about}");
    }
    assert!(!about.to_string().contains("Secret") && !about.to_string().contains("alice"));

    let view = owner_view(&app, &id);
    assert_eq!(
        (view["visitCount"].as_u64(), view["previewCount"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn the_unlock_form_sets_a_cookie_for_the_share_and_redirects_to_the_page_where_it_pointed() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));

    let page = app.raw(
        "GET",
        &format!("/share/{id}?track=2&t=0:05"),
        &[("Accept", BROWSER), ("User-Agent", CHROME_UA)],
        None,
    );
    assert_eq!(page.status(), 401);
    let form = page.text();
    assert_eq!(
        support::html::attr(&form, "id=\"unlock\"", "action"),
        format!("/share/{id}/unlock")
    );
    assert!(
        form.contains("<input type=\"hidden\" name=\"track\" value=\"2\">"),
        "{form}"
    );
    assert!(form.contains("<input type=\"hidden\" name=\"t\" value=\"5\">"));
    let csp = page.header("Content-Security-Policy").unwrap();
    assert!(
        csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    // Wrong: the form again, saying so; not a 303, no cookie.
    let wrong = unlock(&app, &id, "not it", &[]);
    assert_eq!(wrong.status(), 401);
    assert!(is_html(&wrong) && wrong.text().contains("That is not the password"));
    assert!(wrong.header("Set-Cookie").is_none());
    // A script gets JSON.
    let script = app.raw(
        "POST",
        &format!("/share/{id}/unlock"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(b"password=not+it"),
    );
    assert_eq!(
        (script.status(), script.code()),
        (401, "password-required".into())
    );

    // Right: 303 to the page where the link pointed, with the cookie for this share only.
    let body = format!(
        "password={}&track=2&t=5",
        upstream::percent_encode(PASSWORD)
    );
    let right = app.raw(
        "POST",
        &format!("/share/{id}/unlock"),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", BROWSER),
        ],
        Some(body.as_bytes()),
    );
    assert_eq!(right.status(), 303, "{}", right.text());
    assert_eq!(
        right.header("Location"),
        Some(format!("/share/{id}?track=2&t=5").as_str())
    );
    let set = right.header("Set-Cookie").unwrap();
    let attrs: Vec<&str> = set.split("; ").collect();
    assert!(
        attrs[0].starts_with("sharelog_unlock=") && attrs[0].len() == "sharelog_unlock=".len() + 52,
        "{set}"
    );
    for a in [
        format!("Path=/share/{id}"),
        "HttpOnly".into(),
        "SameSite=Lax".into(),
        "Max-Age=43200".into(),
    ] {
        assert!(attrs.contains(&a.as_str()), "{a} not in {set}");
    }
    assert!(!set.contains("Secure"), "publicUrl is http: {set}");
    // The unlock was no visit; the page it leads to is.
    assert_eq!(owner_view(&app, &id)["visitCount"], 0);
    let cookie = cookie_of(&right);
    let opened = app.raw(
        "GET",
        &format!("/share/{id}?track=2&t=5"),
        &[("Accept", BROWSER), ("Cookie", &cookie)],
        None,
    );
    assert_eq!(opened.status(), 200);
    assert!(opened
        .text()
        .contains("data-start=\"1\" data-start-time=\"5\""));
    assert_eq!(owner_view(&app, &id)["visitCount"], 1);

    // A share without a password has nothing to unlock: to its page, no cookie.
    let open = share_with(&app, json!({}));
    let r = unlock(&app, &open, "anything", &[]);
    assert_eq!(
        (r.status(), r.header("Location")),
        (303, Some(format!("/share/{open}").as_str()))
    );
    assert!(r.header("Set-Cookie").is_none());
    // An unknown share: 404, as everywhere.
    assert_eq!(unlock(&app, "nosuchshare", PASSWORD, &[]).status(), 404);
}

#[test]
fn the_cookie_is_secure_when_the_public_url_is_https() {
    let app = spawn_app(|s| s.public_url = "https://music.example.org/tunes".into());
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let r = unlock(&app, &id, PASSWORD, &[]);
    assert_eq!(r.status(), 303);
    let set = r.header("Set-Cookie").unwrap();
    assert!(
        set.contains("; Secure") && set.contains(&format!("Path=/tunes/share/{id};")),
        "{set}"
    );
    assert_eq!(
        r.header("Location"),
        Some(format!("/tunes/share/{id}").as_str())
    );
}

#[test]
fn a_changed_or_removed_password_refuses_every_cookie_and_key_made_before() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let (track, _) = alpha_track_and_cover();
    let key = visit_key(&app, &id, &[("Authorization", &basic(PASSWORD))]);
    let cookie = cookie_of(&unlock(&app, &id, PASSWORD, &[]));
    let with_key = || {
        app.raw(
            "GET",
            &format!("/share/{id}/stream/{track}?key={key}"),
            &[],
            None,
        )
    };
    let with_cookie = || {
        app.raw(
            "GET",
            &format!("/share/{id}?format=raw"),
            &[("Cookie", &cookie)],
            None,
        )
    };
    assert_eq!(with_key().status(), 200);
    assert_eq!(with_cookie().status(), 200);

    // The same password again is a new password version.
    assert_eq!(
        app.update(&alice(), &id, json!({ "password": PASSWORD }))
            .status(),
        200
    );
    for r in [with_key(), with_cookie()] {
        assert_eq!((r.status(), r.code()), (401, "password-required".into()));
    }
    // The new proofs work, Basic with the password too.
    let auth = basic(PASSWORD);
    let fresh = visit_key(&app, &id, &[("Authorization", &auth)]);
    assert_eq!(
        app.raw(
            "GET",
            &format!("/share/{id}/stream/{track}?key={fresh}"),
            &[],
            None
        )
        .status(),
        200
    );

    // Changed: the old password is wrong now.
    app.update(&alice(), &id, json!({ "password": "another password" }));
    let old = app.raw(
        "GET",
        &format!("/share/{id}?format=raw"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(old.status(), 401);
    assert_eq!(
        app.raw(
            "GET",
            &format!("/share/{id}/stream/{track}?key={fresh}"),
            &[],
            None
        )
        .status(),
        401
    );

    // Removed: the share is open to everyone, and old proofs are simply not needed.
    app.update(&alice(), &id, json!({ "password": null }));
    assert_eq!(
        app.raw("GET", &format!("/share/{id}?format=raw"), &[], None)
            .status(),
        200
    );
    let open = app
        .raw("GET", &format!("/share/{id}?format=raw"), &[], None)
        .json();
    assert!(
        key_in(open["tracks"][0]["streamUrl"].as_str().unwrap()).is_none(),
        "an open share hands out no key"
    );
}

#[test]
fn the_shown_post_of_a_password_share_needs_proof_and_answers_the_visits_key() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let cookie = cookie_of(&unlock(&app, &id, PASSWORD, &[]));
    // Chrome prerenders the page with the cookie it holds: a preview, carrying a token.
    let page = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[
            ("Accept", BROWSER),
            ("Sec-Purpose", "prefetch;prerender"),
            ("Cookie", &cookie),
        ],
        None,
    );
    assert_eq!(page.status(), 200, "{}", page.text());
    let token = support::html::attr(&page.text(), "name=\"sharelog-shown\"", "content").to_string();
    let body = json!({ "token": token }).to_string();
    let post = |headers: &[(&str, &str)]| {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        app.raw(
            "POST",
            &format!("/share/{id}/shown"),
            &all,
            Some(body.as_bytes()),
        )
    };
    let bare = post(&[]);
    assert_eq!(
        (bare.status(), bare.code()),
        (401, "password-required".into())
    );
    assert_eq!(owner_view(&app, &id)["visitCount"], 0);
    let shown = post(&[("Cookie", &cookie)]);
    assert_eq!(shown.status(), 200, "{}", shown.text());
    let key = shown.json()["key"].as_str().unwrap().to_string();
    let (track, _) = alpha_track_and_cover();
    let stream = app.raw(
        "GET",
        &format!("/share/{id}/stream/{track}?key={key}"),
        &[],
        None,
    );
    assert_eq!(stream.status(), 200);
    assert_eq!(owner_view(&app, &id)["visitCount"], 1);
}
