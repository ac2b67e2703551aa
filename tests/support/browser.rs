//! A real headless Chromium driven over WebDriver: Debian's `/usr/bin/chromedriver` on a free
//! loopback port, `/usr/bin/chromium` with a fresh profile under `target/`, and thirtyfour as
//! the client. The API is synchronous (each call blocks on a private runtime) so browser tests
//! read like the other black-box tests. Console errors and CSP violations are read from
//! chromedriver's browser log (`goog:loggingPrefs`), so a test can assert there are none.
//!
//! Chromium and chromedriver are installed by the preflight check when missing; never skipped.

use crate::support::free_port;
use crate::support::preflight::{self, Need};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The flags every session runs with; `scripts/lighthouse.sh` passes the same ones.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
];

/// How long a page may take to reach a state a test waits for. Generous: the machine is
/// shared, and a wait ends as soon as the state is reached.
pub const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Viewport {
    /// 1280 x 900 CSS pixels.
    Desktop,
    /// 360 x 640 CSS pixels (the smallest common phone screen), touch, device pixel ratio 2
    /// (Chromium's mobile emulation).
    Phone,
    /// Exactly this many CSS pixels of viewport, not a phone: what an iframe of that size
    /// gives the page inside it.
    Frame { width: u32, height: u32 },
}

/// One line of the browser's console log.
#[derive(Debug, Clone)]
pub struct ConsoleEntry {
    pub level: String,
    /// Where it comes from: `network`, `javascript`, `security`, ...
    pub source: String,
    pub message: String,
}

impl ConsoleEntry {
    /// Errors, and any message about the Content Security Policy whatever its level.
    pub fn is_problem(&self) -> bool {
        self.level == "SEVERE" || self.message.contains("Content Security Policy")
    }
}

/// Chromium and chromedriver, installed by the preflight check when missing; never skipped.
pub fn ensure_installed() {
    preflight::require(&[Need::Chromium, Need::Chromedriver]);
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// Where screenshots go: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("screenshots")
}

/// A chromedriver process on a free loopback port; killed on drop.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start(log: &Path) -> Chromedriver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_until_ready();
        driver
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        while !self.ready() {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited with {exit}");
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /status` says ready (while starting, chromedriver may close a connection unanswered).
    fn ready(&self) -> bool {
        self.call("GET", "/status", None)
            .is_some_and(|v| v["value"]["ready"] == true)
    }

    /// One request to chromedriver, answered with JSON. By hand rather than with the shared
    /// test client because chromedriver refuses HTTP/1.0.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Option<Value> {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).ok()?;
        stream.set_read_timeout(Some(PATIENCE)).ok()?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        // chromedriver keeps the connection open despite `Connection: close`: read the
        // head, then exactly Content-Length bytes.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            answer.extend_from_slice(&chunk[..n]);
            let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))?
                .trim()
                .parse()
                .ok()?;
            if answer.len() >= end + 4 + length {
                return serde_json::from_slice(&answer[end + 4..end + 4 + length]).ok();
            }
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session. Closed (and its chromedriver stopped) on drop.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    driver: Option<thirtyfour::WebDriver>,
    session: String,
    chromedriver: Chromedriver,
    /// The Chromium profile; removed on drop.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A session with JavaScript on.
    pub fn start(viewport: Viewport) -> Browser {
        Browser::launch(viewport, true)
    }

    /// A session with JavaScript disabled by the profile's content settings.
    pub fn start_without_javascript(viewport: Viewport) -> Browser {
        Browser::launch(viewport, false)
    }

    fn launch(viewport: Viewport, javascript: bool) -> Browser {
        ensure_installed();
        let dir = target_dir().join("browser");
        std::fs::create_dir_all(&dir).unwrap();
        let profile = tempfile::Builder::new()
            .prefix("profile-")
            .tempdir_in(&dir)
            .unwrap();
        let chromedriver = Chromedriver::start(&profile.path().join("chromedriver.log"));

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut options = json!({ "binary": CHROMIUM });
        match viewport {
            Viewport::Desktop => args.push("--window-size=1280,900".into()),
            Viewport::Phone => {
                args.push("--window-size=360,640".into());
                options["mobileEmulation"] = json!({
                    "deviceMetrics": {"width": 360, "height": 640, "pixelRatio": 2.0, "touch": true, "mobile": true}
                });
            }
            Viewport::Frame { width, height } => {
                args.push(format!("--window-size={width},{height}"));
                options["mobileEmulation"] = json!({
                    "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "touch": false, "mobile": false}
                });
            }
        }
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        options["args"] = json!(args);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
            // Leave dialogs open so a test can see that one was opened.
            "unhandledPromptBehavior": "ignore",
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let driver = rt
            .block_on(thirtyfour::WebDriver::new(
                chromedriver.url.clone(),
                thirtyfour::Capabilities::from(capabilities),
            ))
            .unwrap_or_else(|e| panic!("new WebDriver session: {e}"));
        let session = driver.session_id().to_string();
        Browser {
            rt,
            driver: Some(driver),
            session,
            chromedriver,
            _profile: profile,
        }
    }

    fn driver(&self) -> &thirtyfour::WebDriver {
        self.driver.as_ref().expect("session open")
    }

    /// Navigates and waits until the document has loaded.
    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.driver().goto(url))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    pub fn js_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.rt
            .block_on(self.driver().execute(script, args))
            .map(|r| r.json().clone())
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs `script` (a function body) and returns what it returns.
    pub fn js(&self, script: &str) -> Value {
        self.js_with(script, vec![])
    }

    /// Polls the JS expression `condition` until it is truthy and returns its value; panics
    /// naming `what` (and the last value) after `PATIENCE`.
    pub fn wait_for(&self, what: &str, condition: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let script = format!("return ({condition});");
        loop {
            let v = self.js(&script);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: `{condition}` is {v}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the first element matching `css` the way a person would (a real pointer click).
    pub fn click(&self, css: &str) {
        self.rt.block_on(async {
            let el = self
                .driver()
                .find(thirtyfour::By::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            el.click()
                .await
                .unwrap_or_else(|e| panic!("click {css}: {e}"));
        })
    }

    /// Sends keys to the focused element (WebDriver key codes, e.g. "\u{E00D}" for space).
    pub fn press(&self, css: &str, keys: &str) {
        self.rt.block_on(async {
            let el = self
                .driver()
                .find(thirtyfour::By::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            el.send_keys(keys)
                .await
                .unwrap_or_else(|e| panic!("keys to {css}: {e}"));
        })
    }

    /// Makes the page see `prefers-color-scheme: dark` (or light), as a phone or a desktop set
    /// to a dark theme does: Chrome DevTools' `Emulation.setEmulatedMedia`, through
    /// chromedriver's own endpoint for DevTools commands (thirtyfour's needs a feature).
    pub fn prefer_color_scheme(&self, dark: bool) {
        let value = if dark { "dark" } else { "light" };
        let path = format!("/session/{}/goog/cdp/execute", self.session);
        let body = json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": value}]},
        });
        let answer = self.chromedriver.call("POST", &path, Some(&body));
        assert!(
            answer.as_ref().is_some_and(|v| v["value"].is_object()),
            "prefers-color-scheme {value}: {answer:?}"
        );
    }

    /// The text of an open `alert`/`confirm`/`prompt`, if one is open.
    pub fn open_dialog(&self) -> Option<String> {
        self.rt.block_on(self.driver().get_alert_text()).ok()
    }

    /// Saves a PNG of the viewport as `target/screenshots/{name}.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.driver().screenshot_as_png())
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Makes the page see `prefers-color-scheme: dark`: `prefer_color_scheme(true)`.
    pub fn prefer_dark(&self) {
        self.prefer_color_scheme(true);
    }

    /// Drains the browser's console log (entries since the last call).
    pub fn console(&self) -> Vec<ConsoleEntry> {
        // chromedriver's log endpoint; thirtyfour has no call for it.
        let path = format!("/session/{}/se/log", self.session);
        let v = self
            .chromedriver
            .call("POST", &path, Some(&json!({"type": "browser"})))
            .expect("chromedriver answers the browser log");
        let entries = v["value"]
            .as_array()
            .unwrap_or_else(|| panic!("browser log: {v}"));
        entries
            .iter()
            .map(|e| ConsoleEntry {
                level: e["level"].as_str().unwrap_or_default().to_string(),
                source: e["source"].as_str().unwrap_or_default().to_string(),
                message: e["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// Panics listing every console error and CSP violation logged so far.
    pub fn assert_no_console_problems(&self) {
        let problems: Vec<ConsoleEntry> = self
            .console()
            .into_iter()
            .filter(|e| e.is_problem())
            .collect();
        assert!(
            problems.is_empty(),
            "console errors / CSP violations: {problems:#?}"
        );
    }

    /// URLs of every resource the page loaded (the Performance API), the document included.
    pub fn loaded_urls(&self) -> Vec<String> {
        let v = self.js(
            "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));",
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            let _ = self.rt.block_on(driver.quit());
        }
    }
}
