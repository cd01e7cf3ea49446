//! A real headless Chromium, driven through WebDriver (the `fantoccini` client, over
//! plain HTTP) by a `chromedriver` on a dynamic port (Debian's `chromium` and
//! `chromium-driver`; `just deps` installs them). Each browser has a fresh profile
//! directory. `close` ends the session; dropping the browser kills chromedriver's process
//! group, so a failed test leaves nothing behind.

use crate::process::Proc;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

/// How long a page may take to show what a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How long chromedriver may take to answer one command.
const COMMAND: Duration = Duration::from_secs(60);

pub struct Browser {
    client: Client,
    driver: Proc,
    _profile: TempDir,
}

/// Awaits one WebDriver command within [`COMMAND`]; panics, naming `what`, on a WebDriver
/// error or no answer.
async fn wd<T, E: Display>(what: &str, cmd: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(COMMAND, cmd).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("webdriver {what}: {e}"),
        Err(_) => panic!("webdriver {what}: no answer within {COMMAND:?}"),
    }
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
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium(), "args": args}),
        );
        // Plain HTTP to chromedriver on 127.0.0.1: no TLS stack.
        let client = wd(
            "new session",
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await;
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        wd("goto", self.client.goto(url)).await;
    }

    pub async fn url(&self) -> String {
        wd("url", self.client.current_url()).await.into()
    }

    /// Runs `script` (a function body; `arguments` holds `args`, a JSON array) and returns
    /// its result.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        let Value::Array(args) = args else {
            panic!("js arguments must be a JSON array, not {args}")
        };
        wd("execute", self.client.execute(script, args)).await
    }

    /// Signs in with `token` through the form of the service at `base` and waits for the
    /// overview.
    pub async fn sign_in(&self, base: &str, token: &str) {
        self.goto(&format!("{base}/sign-in")).await;
        self.type_into("#token", token).await;
        self.click("form[action='/sign-in'] button").await;
        self.wait_for(
            "the overview",
            "return location.pathname === '/' && document.querySelector('h1').innerText === 'Integrations';",
            json!([]),
        )
        .await;
    }

    /// The page's accessibility violations of serious or critical impact, as axe-core
    /// (installed by `just deps` from the npm registry) finds them inside this Chromium:
    /// each as `rule id: help (selectors)`. WebDriver's scripts run outside the page's
    /// Content-Security-Policy, so the page needs no change to be checked.
    pub async fn axe(&self) -> Vec<String> {
        let path = crate::root().join(".tools/npm/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `just deps`)", path.display()));
        self.js(&source, json!([])).await;
        let found = wd(
            "axe",
            self.client.execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ["violations"]}).then(r => done(r.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(" ")).join(", ")})`)),
                    e => done([`axe failed: ${e}`]));"#,
                vec![],
            ),
        )
        .await;
        serde_json::from_value(found).expect("a list of violations")
    }

    /// Clicks the first element matching `css`, as a user would (scrolled into view, real
    /// input events).
    pub async fn click(&self, css: &str) {
        let e = wd(css, self.client.find(Locator::Css(css))).await;
        wd("click", e.click()).await;
    }

    /// Sends `keys` to whatever has the focus, as a keyboard would (`\u{e004}` is Tab,
    /// `\u{e007}` Enter).
    pub async fn keys(&self, keys: &str) {
        let focused = wd("active element", self.client.active_element()).await;
        wd("send keys", focused.send_keys(keys)).await;
    }

    /// The `id` (or else the tag name) of the element that has the focus.
    pub async fn focused(&self) -> String {
        let v = self
            .js(
                "const e = document.activeElement; return e.id || e.tagName.toLowerCase();",
                json!([]),
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Types `text` into the first element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = wd(css, self.client.find(Locator::Css(css))).await;
        wd("send keys", e.send_keys(text)).await;
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
    pub async fn screenshot_at(&self, name: &str, width: u32) -> PathBuf {
        wd("window size", self.client.set_window_size(width, 900)).await;
        let height = self
            .js("return document.documentElement.scrollHeight;", json!([]))
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(900, 6000) as u32;
        wd(
            "window size",
            self.client.set_window_size(width, height + 100),
        )
        .await;
        let png = wd("screenshot", self.client.screenshot()).await;
        wd("window size", self.client.set_window_size(1280, 900)).await;
        let dir = screenshots();
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session (chromedriver closes the browser) and stops chromedriver.
    pub async fn close(mut self) {
        wd("close", self.client.clone().close()).await;
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
