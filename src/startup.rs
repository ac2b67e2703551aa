//! All the wiring: open the store, bind the listener, build the HTTP server.
//! `Application::build` binds first, so tests can ask for port 0 and read `port()`.

use crate::auth::{Delegated, Directory, Verifier};
use crate::config::Settings;
use crate::http::{errors as http_errors, log as http_log, request_body, routes};
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::upstream::Upstream;
use crate::{api, manage, public, subsonic};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// Stopped before the log closes.
    notify: Option<crate::notify::Worker>,
}

/// In-flight requests get this long after SIGTERM (docs/operations.md).
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Why the service could not start; each names the object at fault.
#[derive(Debug)]
pub enum StartupError {
    /// Where the log is (the data directory, or the database), and what went wrong opening it.
    Store(String, StoreError),
    /// The listen address, and why it cannot be bound.
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartupError::Store(dir, StoreError::Locked(_)) => write!(
                f,
                "the data directory {dir} is in use by another sharelog process \
                 (is a server already running on it?); stop that process or set another dataDir"
            ),
            StartupError::Store(place, e) => {
                write!(f, "cannot open the event log in {place}: {e}")
            }
            StartupError::Bind(addr, e) if e.kind() == std::io::ErrorKind::AddrInUse => write!(
                f,
                "cannot listen on {addr}: the address is already in use (another sharelog or \
                 program holds the port); stop it or set another listen address"
            ),
            StartupError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
        }
    }
}

impl std::error::Error for StartupError {}

fn open_store(settings: &Settings) -> Result<Store, StartupError> {
    let policy = settings.policy();
    let place = settings.store_location().describe();
    let store = Store::open_at(&settings.store_location(), policy)
        .map_err(|e| StartupError::Store(place.clone(), e))?;
    log::info!(
        "event log open at {place} ({} live shares)",
        store.projection().live_count()
    );
    Ok(store)
}

/// The local verifier and, with `auth.navidromeUrl`, the delegation to Navidrome.
fn token_checks(settings: &Settings) -> (Verifier, Option<Delegated>) {
    let verifier = Verifier::new(&settings.auth.jwt_secret);
    let delegated = (!settings.auth.navidrome_url.is_empty())
        .then(|| Delegated::new(&settings.auth.navidrome_url));
    if !verifier.is_configured() && delegated.is_none() {
        log::warn!("no token verification configured (auth.jwtSecret and auth.navidromeUrl are empty): the owner API refuses every request with 401");
    }
    (verifier, delegated)
}

/// Says which music server is used, and warns when sharelog cannot log in to it.
fn log_upstream(settings: &Settings) {
    let up = &settings.upstream;
    log::info!("music server (upstream): {}", up.url);
    if up.username.is_empty() || up.password.is_empty() {
        log::warn!(
            "upstream.username or upstream.password is empty: the music server will refuse \
             sharelog, so creating shares and playing them fail until both are set \
             (SHARELOG_UPSTREAM_USERNAME, SHARELOG_UPSTREAM_PASSWORD)"
        );
    }
}

/// What every worker shares, built once: the front doors' app data.
#[derive(Clone)]
pub struct Shared {
    state: web::Data<AppState>,
    public: web::Data<public::Public>,
    logins: web::Data<subsonic::Logins>,
    sessions: web::Data<api::session::Sessions>,
    manage: web::Data<manage::Manage>,
}

impl Shared {
    /// The app data over an opened store (the server's, or a memory store in tests).
    pub fn new(settings: Settings, store: &Store) -> Result<Shared, StoreError> {
        let (verifier, delegated) = token_checks(&settings);
        let public = public::Public::new(&settings, store)?;
        Ok(Shared {
            state: web::Data::new(AppState {
                settings: Arc::new(settings),
                store: store.clone(),
                verifier,
                delegated,
                directory: Directory::default(),
            }),
            public: web::Data::new(public),
            logins: web::Data::new(subsonic::Logins::default()),
            // The store's secret: a session signed by one replica is good on every other.
            sessions: web::Data::new(api::session::Sessions::new(
                store.secret(api::session::SECRET_NAME)?,
            )),
            manage: web::Data::new(manage::Manage::default()),
        })
    }

    /// A worker's app data and every route (the middleware is the server's own).
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let settings = self.state.settings.clone();
        // One upstream client per worker: awc clients are not Send.
        let upstream = web::Data::new(Upstream::new(settings.upstream.clone(), settings.limits));
        cfg.app_data(self.state.clone())
            .app_data(self.public.clone())
            .app_data(self.logins.clone())
            .app_data(self.sessions.clone())
            .app_data(self.manage.clone())
            .app_data(upstream)
            .app_data(web::PayloadConfig::new(api::MAX_BODY));
        routes::configure(cfg, settings.sharing.enabled);
    }
}

impl Application {
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        let dir = settings.store_location().describe();
        let store = open_store(&settings)?;
        log_upstream(&settings);
        let addr = settings.listen;
        let bind_error = |e| StartupError::Bind(addr, e);
        let listener = TcpListener::bind(addr).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let header_timeout = settings.limits.header_timeout();
        let login_check = Upstream::new(settings.upstream.clone(), settings.limits);
        let settings = Arc::new(settings);
        let notify = crate::notify::start(store.clone(), settings.clone());
        let shared = Shared::new(Arc::unwrap_or_clone(settings), &store)
            .map_err(|e| StartupError::Store(dir.clone(), e))?;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(http_errors::handlers())
                .wrap(from_fn(request_body::bound))
                .wrap(from_fn(http_log::record))
                .configure(|cfg| shared.configure(cfg))
        })
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .client_request_timeout(header_timeout)
        .listen(listener)
        .map_err(bind_error)?
        .run();
        // A follow response never finishes by itself: end them when a stop is asked for.
        actix_web::rt::spawn(api::end_follows_on_shutdown(store.clone()));
        // After the bind, in the background: a slow music server never delays the listener.
        actix_web::rt::spawn(crate::upstream::check_at_start(login_check));
        log::info!("listening on port {port}");
        Ok(Application {
            port,
            server,
            store,
            notify,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (graceful with `stop(true)`), as SIGTERM does.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM/SIGINT or the handle), then commits and closes the log.
    /// An error when a write, flush or fsync failed at any time: the exit status must say so.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        log::info!("server stopped; closing the event log");
        if let Some(worker) = self.notify {
            worker.stop();
        }
        self.store.close();
        if !self.store.is_healthy() {
            return Err(std::io::Error::other(
                "the event log was not closed cleanly: a write, flush or fsync failed (see above); \
                 every acknowledged write is on disk, a refused one may or may not be; \
                 fix the disk (free space? dmesg?) and start again",
            ));
        }
        log::info!("event log closed");
        result
    }
}
