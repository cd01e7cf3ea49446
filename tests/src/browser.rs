//! A real headless Chromium, driven through WebDriver by a `chromedriver` on a dynamic
//! port (Debian's `chromium` and `chromium-driver`; `just deps` installs them). Each
//! browser has a fresh profile directory. `close` ends the session; dropping the
//! browser kills chromedriver's process group, so a failed test leaves nothing behind.

use crate::process::Proc;
use base64::Engine;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

/// How long a page may take to show what a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    driver: Proc,
    _profile: TempDir,
}

/// The Chromium binary: `$CLEF_PRO_TEST_CHROMIUM`, else `chromium` on `$PATH` (an
/// absolute path: chromedriver does not search `$PATH`).
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CLEF_PRO_TEST_CHROMIUM") {
        return p.into();
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("chromium"))
        .find(|p| p.exists())
        .unwrap_or_else(|| "/usr/bin/chromium".into())
}

/// Where screenshots go: `target/screenshots/` of the workspace.
pub fn screenshots() -> PathBuf {
    crate::root().join("target/screenshots")
}

impl Browser {
    pub async fn start() -> Browser {
        let profile = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(crate::tool("chromedriver"));
        // Its own process group, so that Drop can end chromedriver and its browser.
        cmd.arg("--port=0").process_group(0);
        let mut driver = Proc::spawn(cmd, &profile.path().join("chromedriver.log"));
        let port: u16 = driver
            .wait_line(Duration::from_secs(30), |l| {
                l.split("started successfully on port ")
                    .nth(1)?
                    .trim_end_matches('.')
                    .trim()
                    .parse()
                    .ok()
            })
            .await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!(
                "--user-data-dir={}",
                profile.path().join("profile").display()
            ),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium(), "args": args},
        }}});
        let r: Value = http
            .post(format!("http://127.0.0.1:{port}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused a session: {r}"));
        Browser {
            http,
            session: format!("http://127.0.0.1:{port}/session/{id}"),
            driver,
            _profile: profile,
        }
    }

    /// One WebDriver command; its `value`. Panics on a WebDriver error.
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        if r["value"]["error"].is_string() {
            panic!("webdriver {method} {path}: {}", r["value"]);
        }
        r["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// The WebDriver element id of the first element matching `css`.
    async fn element(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element id")
            .to_owned()
    }

    /// Clicks the element, as a user would (scrolled into view, real input events).
    pub async fn click(&self, css: &str) {
        let e = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Types `text` into the element.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The text of the first element matching `css`, or `None` if there is none.
    pub async fn text(&self, css: &str) -> Option<String> {
        let v = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                json!([css]),
            )
            .await;
        v.as_str().map(str::to_owned)
    }

    /// Polls `script` until it returns something other than null or false, within
    /// [`DEADLINE`]; returns that value. `what` names the wait in the failure message.
    pub async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let v = self.js(script, args.clone()).await;
            if !v.is_null() && v != Value::Bool(false) {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let url = self.url().await;
                panic!("timed out waiting for {what} on {url}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an element matching `css` exists.
    pub async fn wait_for_element(&self, css: &str) {
        self.wait_for(
            css,
            "return document.querySelector(arguments[0]) !== null;",
            json!([css]),
        )
        .await;
    }

    /// Saves a PNG of the whole page at 1280 px as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.screenshot_at(name, 1280).await
    }

    /// Saves a PNG of the whole page, `width` px wide, and returns its path: the window
    /// takes that width and the page's height for the shot, then returns to 1280 × 900.
    pub async fn screenshot_at(&self, name: &str, width: u64) -> PathBuf {
        let rect = |w: u64, h: u64| json!({"width": w, "height": h});
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(rect(width, 900)),
        )
        .await;
        let height = self
            .js("return document.documentElement.scrollHeight;", json!([]))
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(900, 6000);
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(rect(width, height + 100)),
        )
        .await;
        let png = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        self.cmd(reqwest::Method::POST, "/window/rect", Some(rect(1280, 900)))
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("screenshot data"))
            .expect("screenshot base64");
        let dir = screenshots();
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }

    /// Ends the session (chromedriver closes the browser) and stops chromedriver.
    pub async fn close(mut self) {
        self.cmd(reqwest::Method::DELETE, "", None).await;
        self.driver.kill9().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.child.id() {
            // `--` is required: procps-ng 4.0.x reads `kill -KILL -<pgid>` as `kill(-1)`,
            // which would signal every process of the user.
            let _ = std::process::Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}
