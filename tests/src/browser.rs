//! Real headless Chromium for the dashboard tests, driven through `chromedriver`.
//!
//! Uses Debian's `/usr/bin/chromium` and `/usr/bin/chromedriver` (`apt-get install chromium
//! chromium-driver`; `.ci/run` installs them). A missing browser is a test failure, never
//! a skip. Screenshots go to `target/screenshots/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// Where Debian puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian puts its WebDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A script payload for escaping tests: if it ever runs, it sets `window.__xss`, which
/// [`Browser::assert_inert`] checks.
pub const XSS_SCRIPT: &str = "<script>window.__xss=1</script>";
/// An attribute-breaking payload for escaping tests: an `onerror` that sets `window.__xss`.
pub const XSS_ATTR: &str = "\"><img src=x onerror=\"window.__xss=2\">";

/// A headless browser session; dropping it stops chromedriver.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// `target/screenshots/`, created.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// How the browser presents itself, for [`Browser::start_with`].
#[derive(Debug, Clone, Default)]
pub struct Look {
    /// Prefer a dark colour scheme (`prefers-color-scheme: dark`).
    pub dark: bool,
    /// The browser's time zone (an IANA name, given to Chromium as `TZ`); `None`: UTC.
    pub timezone: Option<&'static str>,
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium profile (light, UTC).
    ///
    /// Panics (fails the test) if Chromium or chromedriver is not installed.
    pub async fn start() -> Browser {
        Browser::start_with(Look::default()).await
    }

    /// Like [`Browser::start`], with a colour scheme and time zone.
    pub async fn start_with(look: Look) -> Browser {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: install it with `apt-get install -y chromium chromium-driver`"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // Chromium inherits chromedriver's environment, and takes its zone from TZ.
            .env("TZ", look.timezone.unwrap_or("UTC"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1400,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if look.dark {
            // Blink's preferred colour scheme: 0 is dark.
            args.push("--blink-settings=preferredColorScheme=0".to_owned());
        }
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let caps = caps.as_object().cloned().expect("capabilities object");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => {
                    panic!("cannot start a Chromium session: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Saves a PNG of the viewport as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Fills the login form at the current page with `user` / `password`, submits it and
    /// waits for the overview.
    pub async fn submit_login(&self, user: &str, password: &str) {
        let c = &self.client;
        for (field, value) in [("username", user), ("password", password)] {
            c.find(Locator::Css(&format!("input[name={field}]")))
                .await
                .expect("login field")
                .send_keys(value)
                .await
                .expect("typed");
        }
        c.find(Locator::Css("button[type=submit]"))
            .await
            .expect("submit button")
            .click()
            .await
            .expect("submitted");
        c.wait()
            .for_element(Locator::Css("table.overview"))
            .await
            .expect("the overview after logging in");
    }

    /// Asserts that the current page (`path`, for messages) ran no injected script (none
    /// set `window.__xss`), holds no injected `img` or `script` in `main`, and that its
    /// source never contains `raw` (a script tag planted in the data) unescaped.
    pub async fn assert_inert(&self, path: &str, raw: &str) {
        let c = &self.client;
        let ran = c
            .execute(
                "return window.__xss === undefined ? null : window.__xss",
                vec![],
            )
            .await
            .expect("run a check script");
        assert!(ran.is_null(), "a script ran on {path}: {ran}");
        for tag in ["img", "script"] {
            assert!(
                c.find(Locator::Css(&format!("main {tag}"))).await.is_err(),
                "an injected {tag} on {path}"
            );
        }
        let source = c.source().await.expect("page source");
        assert!(!source.contains(raw), "raw script tag in {path}");
    }

    /// Clicks the first element matching `css` and waits for one matching `then`.
    pub async fn click_and_wait(&self, css: &str, then: &str) {
        let c = &self.client;
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        c.wait()
            .for_element(Locator::Css(then))
            .await
            .unwrap_or_else(|e| panic!("no {then} after clicking {css}: {e}"));
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let c = &self.client;
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Ends the browser session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
