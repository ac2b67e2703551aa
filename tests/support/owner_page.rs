//! The owner's page over plain HTTP: signing in with a form as a browser does, and calling the
//! owner API with the session cookie (and, for changes, its CSRF token) as the page's script
//! does.

use super::{Resp, TestApp};
use serde_json::Value;

/// A signed-in owner: the cookie to send back and the CSRF token the page was given.
pub struct Session {
    /// `sharelog_session=...`, as a `Cookie` header carries it.
    pub cookie: String,
    pub csrf: String,
}

/// The form's body for `username` and `password`.
pub fn form(username: &str, password: &str) -> String {
    format!(
        "username={}&password={}",
        super::upstream::percent_encode(username),
        super::upstream::percent_encode(password)
    )
}

/// `POST /share/_manage/sign-in` with the form, plus `headers`.
pub fn post_sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let body = form(username, password);
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    app.raw(
        "POST",
        "/share/_manage/sign-in",
        &all,
        Some(body.as_bytes()),
    )
}

/// The `name=value` of a `Set-Cookie` header value.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The CSRF token a page carries (`<meta name="sharelog-csrf" content="...">`).
pub fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"sharelog-csrf\" content=\"")?;
    let rest = &page[at + "name=\"sharelog-csrf\" content=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Signs in with the form (panics unless it works) and reads the CSRF token off the page.
pub fn sign_in(app: &TestApp, username: &str, password: &str) -> Session {
    let r = post_sign_in(app, username, password, &[]);
    assert_eq!(r.status(), 303, "sign-in of {username}: {}", r.text());
    let cookie = cookie_pair(r.header("set-cookie").expect("a session cookie"));
    let page = app.raw("GET", "/share/_manage", &[("Cookie", &cookie)], None);
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text()).unwrap_or_else(|| panic!("no CSRF token: {}", page.text()));
    Session { cookie, csrf }
}

impl Session {
    /// A call with the cookie and the CSRF token, as the page makes it.
    pub fn call(&self, app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.call_with(app, method, path, body, &[("X-CSRF-Token", &self.csrf)])
    }

    /// A call with the cookie and `headers` only (no CSRF token unless given).
    pub fn call_with(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut all = vec![
            ("Cookie", self.cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        all.extend_from_slice(headers);
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        app.raw(method, path, &all, body.as_deref())
    }
}
