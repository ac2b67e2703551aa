//! The owner's page over HTTP: sign-in with the music server's password (supysonic's users) or
//! a Navidrome session, the session cookie, CSRF and cross-site refusals, the sign-in
//! throttle, sign-out, and the session surviving a restart (it lives in no process's memory).

use crate::support;
use serde_json::{json, Value};
use support::owner_page::{cookie_pair, csrf_of, post_sign_in, sign_in, Session};
use support::*;

fn creds() -> (&'static upstream::Creds, &'static upstream::Creds) {
    let up = upstream::shared();
    (&up.user, &up.admin)
}

fn alpha() -> String {
    upstream::shared().album("Alpha").id.clone()
}

/// The ids of the shares a list answer holds.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_music_servers_password_signs_in_with_a_strict_http_only_cookie() {
    // Given sharelog before supysonic, and alice's password there
    let app = spawn_app(|_| {});
    let (alice, _) = creds();

    // When she signs in with the form
    let r = post_sign_in(&app, &alice.username, &alice.password, &[]);

    // Then she is sent to the page with a session cookie for 12 hours, HttpOnly and
    // SameSite=Strict (not Secure: publicUrl is http)
    assert_eq!(r.status(), 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/share/_manage"));
    let set = r.header("set-cookie").unwrap();
    assert!(set.starts_with("sharelog_session="), "{set}");
    for part in [
        "; Path=/",
        "; Max-Age=43200",
        "; HttpOnly",
        "; SameSite=Strict",
    ] {
        assert!(set.contains(part), "{part} missing: {set}");
    }
    assert!(!set.contains("Secure"), "{set}");

    // And the page greets her, with a CSRF token, and the owner API answers the cookie
    let cookie = cookie_pair(set);
    let page = app.raw("GET", "/share/_manage", &[("Cookie", &cookie)], None);
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .contains("Signed in as <strong id=\"who\">alice</strong>"));
    assert!(csrf_of(&page.text()).is_some_and(|t| t.len() >= 16));
    let list = app.raw("GET", "/api/share", &[("Cookie", &cookie)], None);
    assert_eq!(list.status(), 200, "{}", list.text());
}

#[test]
fn a_wrong_password_is_refused_and_the_sign_in_form_shows_again() {
    let app = spawn_app(|_| {});
    let (alice, _) = creds();
    let r = post_sign_in(&app, &alice.username, "not-her-password", &[]);
    assert_eq!(r.status(), 401);
    assert!(r.header("set-cookie").is_none());
    let page = r.text();
    assert!(page.contains("Wrong user name or password."), "{page}");
    // The name tried is kept, the password is not
    assert!(page.contains("value=\"alice\""), "{page}");
    assert!(!page.contains("not-her-password"));
    // And without a cookie the page is the sign-in form
    let form = app.raw("GET", "/share/_manage", &[], None);
    assert_eq!(form.status(), 200);
    assert!(form.text().contains("<form id=\"sign-in\" method=\"post\""));
    assert_eq!(app.raw("GET", "/api/share", &[], None).status(), 401);
}

#[test]
fn on_https_the_cookie_is_secure() {
    let app = spawn_app(|s| s.public_url = "https://music.example.org/tunes".into());
    let (alice, _) = creds();
    let r = post_sign_in(&app, &alice.username, &alice.password, &[]);
    assert_eq!(r.status(), 303);
    assert_eq!(r.header("location"), Some("/tunes/share/_manage"));
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("; Path=/tunes;") && set.ends_with("; Secure"),
        "{set}"
    );
}

#[test]
fn a_change_with_the_cookie_but_without_the_csrf_token_is_refused() {
    // Given alice signed in, and a share of hers
    let app = spawn_app(|_| {});
    let (alice, _) = creds();
    let s = sign_in(&app, &alice.username, &alice.password);
    let body = json!({"albums": [alpha()], "description": "mine"});
    let made = s.call(&app, "POST", "/api/share", Some(&body));
    assert_eq!(made.status(), 201, "{}", made.text());
    let id = made.json()["id"].as_str().unwrap().to_string();

    // When changes are sent with the cookie but no token, or another session's token
    let other = sign_in(&app, &alice.username, &alice.password);
    assert_ne!(other.csrf, s.csrf);
    for token in [None, Some(other.csrf.as_str()), Some("")] {
        let headers: Vec<(&str, &str)> = token.map(|t| ("X-CSRF-Token", t)).into_iter().collect();
        let create = s.call_with(&app, "POST", "/api/share", Some(&body), &headers);
        let update = s.call_with(
            &app,
            "PUT",
            &format!("/api/share/{id}"),
            Some(&json!({"description": "changed"})),
            &headers,
        );
        let link = s.call_with(
            &app,
            "POST",
            &format!("/api/share/{id}/links"),
            Some(&json!({"label": "Eve"})),
            &headers,
        );
        let delete = s.call_with(&app, "DELETE", &format!("/api/share/{id}"), None, &headers);

        // Then each is refused with 403 csrf-refused
        for r in [&create, &update, &link, &delete] {
            assert_eq!(r.status(), 403, "{token:?}: {}", r.text());
            assert_eq!(r.code(), "csrf-refused");
        }
    }
    // And nothing changed
    let list = s.call(&app, "GET", "/api/share", None).json();
    assert_eq!(ids(&list), vec![id.clone()]);
    assert_eq!(list[0]["description"], "mine");
    let links = s
        .call(&app, "GET", &format!("/api/share/{id}/links"), None)
        .json();
    assert_eq!(links, json!([]));

    // While reads need no token, and the token makes the change
    assert_eq!(
        s.call_with(&app, "GET", "/api/share", None, &[]).status(),
        200
    );
    let update = s.call(
        &app,
        "PUT",
        &format!("/api/share/{id}"),
        Some(&json!({"description": "changed"})),
    );
    assert_eq!(update.status(), 200, "{}", update.text());
    assert_eq!(update.json()["description"], "changed");
}

#[test]
fn a_cross_site_form_post_is_refused() {
    // Given alice signed in, with a share
    let app = spawn_app(|_| {});
    let (alice, _) = creds();
    let s = sign_in(&app, &alice.username, &alice.password);
    let made = s.call(
        &app,
        "POST",
        "/api/share",
        Some(&json!({"albums": [alpha()]})),
    );
    let id = made.json()["id"].as_str().unwrap().to_string();

    // When another site's page posts forms to sharelog with her cookie, as a browser would
    // send them (its Origin, Sec-Fetch-Site: cross-site), even knowing her CSRF token
    let evil = [
        ("Cookie", s.cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("X-CSRF-Token", s.csrf.as_str()),
    ];
    let form = format!("albums={}&csrf={}", alpha(), s.csrf);
    let create = app.raw("POST", "/api/share", &evil, Some(form.as_bytes()));
    let delete = app.raw("DELETE", &format!("/api/share/{id}"), &evil, None);
    let sign_out = app.raw(
        "POST",
        "/share/_manage/sign-out",
        &evil,
        Some(form.as_bytes()),
    );
    // (an older browser sends no Sec-Fetch-Site: the Origin alone refuses it)
    let origin_only = [evil[0], evil[1], evil[2], evil[4]];
    let create_again = app.raw("POST", "/api/share", &origin_only, Some(form.as_bytes()));

    // Then every one is refused
    for r in [&create, &delete, &create_again] {
        assert_eq!(r.status(), 403, "{}", r.text());
        assert_eq!(r.code(), "csrf-refused");
    }
    assert_eq!(sign_out.status(), 403, "{}", sign_out.text());
    assert!(sign_out.header("set-cookie").is_none());

    // And a sign-in posted from another site is refused too (it would sign her browser in
    // to someone else's account), with no cookie
    let (_, admin) = creds();
    let login = post_sign_in(
        &app,
        &admin.username,
        &admin.password,
        &[
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    );
    assert_eq!(login.status(), 403, "{}", login.text());
    assert!(login.header("set-cookie").is_none());
    let token = format!("Bearer {}", support::alice());
    let login = app.raw(
        "POST",
        "/share/_manage/sign-in/token",
        &[
            ("X-ND-Authorization", &token),
            ("Origin", "https://evil.example"),
        ],
        Some(b""),
    );
    assert_eq!(login.status(), 403, "{}", login.text());
    assert_eq!(login.code(), "csrf-refused");
    assert!(login.header("set-cookie").is_none());

    // While her session still works and the share is still there
    let list = s.call(&app, "GET", "/api/share", None);
    assert_eq!(ids(&list.json()), vec![id]);
    // And the same posts from the page itself pass
    let own = [
        ("Cookie", s.cookie.as_str()),
        ("Content-Type", "application/json"),
        ("Origin", app.url.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
        ("X-CSRF-Token", s.csrf.as_str()),
    ];
    let body = serde_json::to_vec(&json!({"albums": [alpha()]})).unwrap();
    assert_eq!(
        app.raw("POST", "/api/share", &own, Some(&body)).status(),
        201
    );
}

#[test]
fn ten_failed_sign_ins_stop_that_name_from_that_client_for_fifteen_minutes() {
    // Given ten wrong passwords for alice from one client
    let app = spawn_app(|_| {});
    let (alice, admin) = creds();
    for i in 0..10 {
        let r = post_sign_in(&app, &alice.username, &format!("guess-{i}"), &[]);
        assert_eq!(r.status(), 401, "attempt {i}: {}", r.text());
    }

    // When the eleventh comes, even with the right password
    let r = post_sign_in(&app, &alice.username, &alice.password, &[]);

    // Then it is refused with a time to wait, and no session
    assert_eq!(r.status(), 429, "{}", r.text());
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15 * 60 + 1).contains(&wait), "Retry-After: {wait}");
    assert!(r.header("set-cookie").is_none());
    assert!(
        r.text().contains("Too many failed sign-ins"),
        "{}",
        r.text()
    );

    // While another user signs in from the same client
    let ok = post_sign_in(&app, &admin.username, &admin.password, &[]);
    assert_eq!(ok.status(), 303, "{}", ok.text());
}

#[test]
fn a_sign_in_the_music_server_cannot_check_says_so_and_is_not_counted_as_a_failure() {
    // Given a sharelog whose music server is down
    let app = spawn_app(|s| s.upstream.url = format!("http://127.0.0.1:{}", free_port()));
    let (alice, _) = creds();

    // When alice tries to sign in eleven times (one more than the throttle allows failures)
    for i in 0..11 {
        let r = post_sign_in(&app, &alice.username, &alice.password, &[]);

        // Then every time the form says the password cannot be checked, with no session,
        // and none of them counts as a failed guess (the eleventh is not throttled)
        assert_eq!(r.status(), 503, "attempt {i}: {}", r.text());
        assert!(
            r.text().contains("music server is unreachable"),
            "attempt {i}: {}",
            r.text()
        );
        assert!(r.header("set-cookie").is_none());
        assert_eq!(r.header("retry-after"), Some("5"));
    }
}

#[test]
fn a_navidrome_session_signs_in_and_the_cookie_then_sees_her_shares() {
    // Given a share alice made with her Navidrome token, and bob's
    let app = spawn_app(|_| {});
    let hers = app.create_id(&alice(), json!({"albums": [alpha()]}));
    app.create_id(&bob(), json!({"albums": [alpha()]}));

    // When the page posts her Navidrome token to the sign-in
    let r = app.raw(
        "POST",
        "/share/_manage/sign-in/token",
        &[("X-ND-Authorization", &format!("Bearer {}", alice()))],
        Some(b""),
    );

    // Then a session is set, and through it she sees her share only
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.json(), json!({"username": "alice", "isAdmin": false}));
    let cookie = cookie_pair(r.header("set-cookie").unwrap());
    let list = app.raw("GET", "/api/share", &[("Cookie", &cookie)], None);
    assert_eq!(ids(&list.json()), vec![hers]);

    // And a bad token signs nobody in
    let bad = app.raw(
        "POST",
        "/share/_manage/sign-in/token",
        &[("X-ND-Authorization", "Bearer not.a.token")],
        Some(b""),
    );
    assert_eq!(bad.status(), 401, "{}", bad.text());
    assert!(bad.header("set-cookie").is_none());
}

#[test]
fn the_music_servers_admin_sees_every_owners_shares() {
    let app = spawn_app(|_| {});
    let hers = app.create_id(&alice(), json!({"albums": [alpha()]}));
    let his = app.create_id(&bob(), json!({"albums": [alpha()]}));
    let (alice_creds, admin) = creds();
    let s = sign_in(&app, &admin.username, &admin.password);
    let page = app.raw("GET", "/share/_manage", &[("Cookie", &s.cookie)], None);
    assert!(page.text().contains("All shares"), "{}", page.text());
    let mut seen = ids(&s.call(&app, "GET", "/api/share", None).json());
    seen.sort();
    let mut both = vec![hers.clone(), his];
    both.sort();
    assert_eq!(seen, both);

    // While alice, signed in with her password, sees hers (the user id her token carries,
    // found from her shares as the Subsonic door finds it)
    let a = sign_in(&app, &alice_creds.username, &alice_creds.password);
    assert_eq!(
        ids(&a.call(&app, "GET", "/api/share", None).json()),
        vec![hers]
    );
}

#[test]
fn a_session_outlives_a_restart_and_ends_in_the_browser_at_sign_out() {
    // Given alice signed in
    let app = spawn_app(|_| {});
    let (alice, _) = creds();
    let s = sign_in(&app, &alice.username, &alice.password);

    // When sharelog restarts (another process, as another replica would be), then her
    // cookie still works: it is signed with the store's secret, not kept in memory
    let app = app.restart(|_| {});
    assert_eq!(s.call(&app, "GET", "/api/share", None).status(), 200);

    // When she signs out with the page's form, then the cookie is cleared and the page
    // says so
    let form = format!("csrf={}", s.csrf);
    let r = app.raw(
        "POST",
        "/share/_manage/sign-out",
        &[
            ("Cookie", &s.cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(form.as_bytes()),
    );
    assert_eq!(r.status(), 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/share/_manage?signed-out=1"));
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.starts_with("sharelog_session=;") && set.contains("Max-Age=0"),
        "{set}"
    );
    let page = app
        .raw("GET", "/share/_manage?signed-out=1", &[], None)
        .text();
    assert!(page.contains("You are signed out."), "{page}");
    assert!(
        !page.contains("data-auto"),
        "no automatic sign-in right after a sign-out"
    );

    // And a sign-out without the token is refused
    let r = app.raw(
        "POST",
        "/share/_manage/sign-out",
        &[
            ("Cookie", &s.cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(b"csrf=wrong"),
    );
    assert_eq!(r.status(), 403);
}

#[test]
fn a_forged_or_foreign_cookie_is_no_session() {
    let app = spawn_app(|_| {});
    let other = spawn_app(|_| {});
    let (alice, _) = creds();
    // A session of another sharelog (another secret), and a made-up one
    let foreign: Session = sign_in(&other, &alice.username, &alice.password);
    for cookie in [
        foreign.cookie.as_str(),
        "sharelog_session=eyJhbGciOiJub25lIn0.e30.",
    ] {
        let r = app.raw("GET", "/api/share", &[("Cookie", cookie)], None);
        assert_eq!(r.status(), 401, "{cookie}");
        // The page shows the sign-in form and drops the cookie
        let page = app.raw("GET", "/share/_manage", &[("Cookie", cookie)], None);
        assert!(
            page.text().contains("Your session has ended"),
            "{}",
            page.text()
        );
        assert!(page.header("set-cookie").unwrap().contains("Max-Age=0"));
    }
}

#[test]
fn the_pages_carry_a_strict_csp_and_stay_small() {
    let app = spawn_app(|_| {});
    let (alice, _) = creds();
    let s = sign_in(&app, &alice.username, &alice.password);
    for cookie in ["", s.cookie.as_str()] {
        let page = app.raw("GET", "/share/_manage", &[("Cookie", cookie)], None);
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.starts_with("default-src 'none'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.header("cache-control"), Some("no-store"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        // The page and every file it loads, uncompressed: under 100 KB on the wire
        let html = page.text();
        let mut bytes = html.len();
        let files: Vec<&str> = html
            .split(['"'])
            .filter(|p| p.starts_with("/share/_") && p.contains("assets/"))
            .collect();
        assert!(files.len() >= 3, "{files:?}");
        for path in files {
            let r = app.raw("GET", path, &[], None);
            assert_eq!(r.status(), 200, "{path}");
            assert!(r.header("cache-control").unwrap().contains("immutable"));
            bytes += r.0.body.len();
        }
        assert!(bytes < 100_000, "{bytes} bytes");
    }
}

#[test]
fn no_password_session_or_csrf_token_reaches_the_log() {
    // Given the real binary logging at debug
    let up = upstream::shared();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = tmp.path().join("sharelog.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\ndataDir: {}\npublicUrl: http://127.0.0.1:{port}\n\
             auth:\n  jwtSecret: {SECRET}\nupstream:\n  url: {}\n  username: {}\n  password: {}\n  auth: password\n",
            tmp.path().join("data").display(),
            up.url,
            up.admin.username,
            up.admin.password
        ),
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 20, "server never listened");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let post = |body: &str| {
        http_send(
            "POST",
            &format!("{url}/share/_manage/sign-in"),
            &form,
            Some(body.as_bytes()),
        )
    };

    // When alice signs in with a wrong password, then the right one, and signs out
    let wrong = "wrong-Pa55word";
    assert_eq!(post(&support::owner_page::form("alice", wrong)).status, 401);
    let ok = post(&support::owner_page::form("alice", &up.user.password));
    assert_eq!(ok.status, 303);
    let cookie = cookie_pair(ok.header("set-cookie").unwrap());
    let page = http_send(
        "GET",
        &format!("{url}/share/_manage"),
        &[("Cookie", &cookie)],
        None,
    );
    let csrf = csrf_of(&String::from_utf8_lossy(&page.body)).unwrap();
    let out = http_send(
        "POST",
        &format!("{url}/share/_manage/sign-out"),
        &[("Cookie", &cookie), form[0]],
        Some(format!("csrf={csrf}").as_bytes()),
    );
    assert_eq!(out.status, 303);

    // Then the log tells the sign-ins apart and holds none of the secrets
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr).into_owned()
        + String::from_utf8_lossy(&out.stdout).as_ref();
    assert!(logs.contains("POST /share/_manage/sign-in 401"), "{logs}");
    assert!(logs.contains("POST /share/_manage/sign-in 303"), "{logs}");
    assert!(logs.contains("wrong user name or password"), "{logs}");
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let session = cookie.trim_start_matches("sharelog_session=");
    for secret in [
        wrong,
        &hex(wrong),
        &up.user.password,
        &hex(&up.user.password),
        session,
        &csrf,
    ] {
        assert!(
            !logs.contains(secret),
            "the log contains {secret:?}:\n{logs}"
        );
    }
}
