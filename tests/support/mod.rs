//! Shared by the black-box tests: a real sharelog on port 0 with a temp data dir,
//! a real supysonic upstream, tokens, and a tiny HTTP client.
#![allow(clippy::field_reassign_with_default)]

pub mod binary;
pub mod browser;
pub mod caddy;
pub mod commands;
pub mod doc_blocks;
pub mod doc_expectations;
pub mod follow_client;
pub mod html;
pub mod music_server_front;
pub mod navidrome_standin;
pub mod nginx;
pub mod offline;
pub mod owner_page;
pub mod owner_page_browser;
pub mod postgres;
pub mod preflight;
pub mod promtool;
pub mod protected;
pub mod receiver;
pub mod running_transfer;
pub mod tls;
pub mod upstream;
pub mod visit_history;

pub use upstream::{http_send, HttpResponse, TestUpstream};

use serde_json::Value;
use sharelog::config::{Settings, UpstreamAuth};
use sharelog::domain::{Actor, UserId};
use sharelog::startup::Application;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

pub const SECRET: &str = "integration-test-secret";
pub const PUBLIC_URL: &str = "http://share.example";

pub struct TestApp {
    pub url: String,
    pub port: u16,
    pub data_dir: PathBuf,
    handle: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

/// Settings pointing at `up`, with a fresh data dir, port 0 and a JWT secret.
pub fn settings_for(up: &TestUpstream, data_dir: &Path) -> Settings {
    let mut s = Settings::default();
    s.listen = "127.0.0.1:0".parse().unwrap();
    s.data_dir = data_dir.to_path_buf();
    s.public_url = PUBLIC_URL.into();
    s.auth.jwt_secret = SECRET.into();
    s.upstream.url = up.url.clone();
    s.upstream.username = up.admin.username.clone();
    s.upstream.password = up.admin.password.clone();
    s.upstream.auth = UpstreamAuth::Password;
    s.public_access.rate_limit.per_minute = 0;
    if postgres::on_postgres() {
        s.store.engine = sharelog::config::Engine::Postgres;
        s.store.postgres_url = postgres::shared().database_for(data_dir);
    }
    s
}

/// The log of the sharelog whose data dir is `data_dir` (stopped), opened directly on the
/// engine under test: sled in that directory, or its PostgreSQL database.
pub fn open_store(data_dir: &Path, policy: sharelog::domain::Policy) -> sharelog::store::Store {
    let location = settings_for(upstream::shared(), data_dir).store_location();
    sharelog::store::Store::open_at(&location, policy).unwrap()
}

/// The offline log (`sharelog::store::Log`) of the sharelog whose data dir is `data_dir`,
/// on the engine under test, as the command line opens it.
pub fn open_log(data_dir: &Path) -> sharelog::store::Log {
    let location = settings_for(upstream::shared(), data_dir).store_location();
    sharelog::store::Log::open_at(&location).unwrap()
}

/// A sharelog in front of the shared upstream, configured by `tweak`.
pub fn spawn_app(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings_for(upstream::shared(), tmp.path());
    tweak(&mut s);
    let mut app = spawn_with(s);
    app._tmp = Some(tmp);
    app
}

pub fn spawn_with(settings: Settings) -> TestApp {
    let data_dir = settings.data_dir.clone();
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(settings) {
                Ok(app) => {
                    tx.send(Ok((app.port(), app.handle()))).unwrap();
                    app.run_until_stopped().await.unwrap();
                }
                Err(e) => tx.send(Err(e.to_string())).unwrap(),
            }
        })
    });
    let (port, handle) = rx
        .recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("sharelog did not start: {e}"));
    TestApp {
        url: format!("http://127.0.0.1:{port}"),
        port,
        data_dir,
        handle,
        thread: Some(thread),
        _tmp: None,
    }
}

impl TestApp {
    /// Stops gracefully and waits until the log is closed; keeps the data dir.
    pub fn stop(&mut self) -> Option<tempfile::TempDir> {
        if let Some(t) = self.thread.take() {
            actix_web::rt::System::new().block_on(self.handle.stop(true));
            t.join().unwrap();
        }
        self._tmp.take()
    }

    /// Stops and starts again on the same data dir (and the same settings otherwise).
    pub fn restart(mut self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let tmp = self.stop();
        let mut s = settings_for(upstream::shared(), &self.data_dir);
        tweak(&mut s);
        let mut app = spawn_with(s);
        app._tmp = tmp;
        app
    }

    pub fn req(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("X-ND-Authorization", a));
        }
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        Resp(http_send(
            method,
            &format!("{}{path}", self.url),
            &headers,
            body.as_deref(),
        ))
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        Resp(http_send(
            method,
            &format!("{}{path}", self.url),
            headers,
            body,
        ))
    }

    /// Creates a share as `token`'s user and returns its JSON; panics unless 201.
    pub fn create(&self, token: &str, body: Value) -> Value {
        let r = self.req("POST", "/api/share", Some(token), Some(&body));
        assert_eq!(r.status(), 201, "create failed: {}", r.text());
        r.json()
    }

    /// `PUT /api/share/{id}` with `body` as `token`'s user.
    pub fn update(&self, token: &str, id: &str, body: Value) -> Resp {
        self.req("PUT", &format!("/api/share/{id}"), Some(token), Some(&body))
    }

    /// Creates a share as `token`'s user and returns its id; panics unless 201.
    pub fn create_id(&self, token: &str, body: Value) -> String {
        let share = self.create(token, body);
        share["id"].as_str().unwrap().to_string()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct Resp(pub HttpResponse);

impl Resp {
    pub fn status(&self) -> u16 {
        self.0.status
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.0.header(name)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The stable error code of a JSON error answer.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_string()
    }
}

pub fn token_for(username: &str, user_id: &str, admin: bool) -> String {
    let actor = Actor {
        user_id: UserId(user_id.into()),
        username: username.into(),
        is_admin: admin,
    };
    sharelog::auth::issue(SECRET, &actor, jwt_simple::prelude::Duration::from_hours(1)).unwrap()
}

pub fn alice() -> String {
    token_for("alice", "u-alice", false)
}
pub fn bob() -> String {
    token_for("bob", "u-bob", false)
}
pub fn admin() -> String {
    token_for("root", "u-root", true)
}

/// A port nothing listens on right now, for servers the tests start themselves.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
