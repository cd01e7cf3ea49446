//! The dashboard for a security team (issue 18), in a real headless Chromium: the
//! inbox across two integrations and its filters, acknowledging in place; the trend
//! chart with its text alternative and one point per tracked report; time to resolve
//! equal to the figure computed here from the alerts' own timestamps; creating and
//! renaming an integration and issuing and revoking a token from the pages. Screenshots
//! go to `target/screenshots/` (the README's are copied from there).

use clef_pro_tests::browser::Browser;
use clef_pro_tests::client::Client;
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};
use std::time::Duration;

/// The inbox rows on the page: (integration, rule id, severity), top to bottom.
async fn inbox_rows(b: &Browser) -> Vec<(String, String, String)> {
    let v = b
        .js(
            r#"return [...document.querySelectorAll('table.inbox tbody tr')].map(r =>
                [r.children[1].innerText.trim(), r.querySelector('code').innerText, r.dataset.severity]);"#,
            json!([]),
        )
        .await;
    serde_json::from_value(v).expect("rows")
}

fn row(i: &str, rule: &str, sev: &str) -> (String, String, String) {
    (i.into(), rule.into(), sev.into())
}

#[tokio::test]
async fn the_inbox_lists_two_integrations_filters_them_and_acknowledges_in_place() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (_, payments) = c.integration("payments", json!({})).await;
    let (search_id, search) = c.integration("search", json!({})).await;
    c.submit(&payments, "p1", &[("stale_keys", "app", false, "warning")])
        .await;
    c.submit(
        &search,
        "s1",
        &[("missing_keys", "app/prod", false, "critical")],
    )
    .await;
    c.submit(
        &payments,
        "p2",
        &[
            ("stale_keys", "app", false, "warning"),
            ("missing_keys", "app/prod", false, "critical"),
        ],
    )
    .await;
    let b = Browser::start().await;
    b.sign_in(&s.url, &s.admin).await;

    b.goto(&format!("{}/alerts", s.url)).await;
    b.wait_for_element("table.inbox").await;
    assert_eq!(
        inbox_rows(&b).await,
        [
            row("search", "missing_keys", "critical"),
            row("payments", "missing_keys", "critical"),
            row("payments", "stale_keys", "warning"),
        ]
    );
    b.screenshot("inbox").await;

    b.goto(&format!("{}/alerts?severity=critical", s.url)).await;
    b.wait_for_element("table.inbox").await;
    assert_eq!(
        inbox_rows(&b).await,
        [
            row("search", "missing_keys", "critical"),
            row("payments", "missing_keys", "critical")
        ]
    );

    // The filter form: one integration.
    b.goto(&format!("{}/alerts", s.url)).await;
    b.js(
        "document.querySelector('#integration').value = arguments[0];",
        json!([search_id]),
    )
    .await;
    b.click("form.inbox-filter button").await;
    b.wait_for(
        "the filtered inbox",
        "return location.search.includes('integration=') && document.querySelectorAll('table.inbox tbody tr').length === 1;",
        json!([]),
    )
    .await;
    assert_eq!(
        inbox_rows(&b).await,
        [row("search", "missing_keys", "critical")]
    );

    // Acknowledge in place: back on the same filtered inbox, the alert acknowledged and
    // still open.
    b.click("table.inbox button.ack").await;
    b.wait_for(
        "the acknowledged alert",
        "const r = document.querySelector('table.inbox tbody tr'); return r && r.dataset.acknowledged === 'true' && location.pathname === '/alerts';",
        json!([]),
    )
    .await;
    assert!(b.url().await.contains("integration="), "the filters stay");
    let search_alerts = c.alerts(&search_id, "open").await;
    assert_eq!(search_alerts.len(), 1);
    assert_eq!(search_alerts[0]["acknowledged"], true);
    b.goto(&format!("{}/alerts?acknowledged=false", s.url))
        .await;
    b.wait_for_element("table.inbox").await;
    assert_eq!(
        inbox_rows(&b).await,
        [
            row("payments", "missing_keys", "critical"),
            row("payments", "stale_keys", "warning")
        ]
    );
    b.close().await;
}

/// The figure a TTR cell shows, in ms.
async fn ttr_ms(b: &Browser, severity: &str, column: &str) -> Option<u64> {
    b.js(
        "const e = document.querySelector(`#insights tr[data-severity='${arguments[0]}'] td.ttr-${arguments[1]} [data-ms]`); return e ? Number(e.dataset.ms) : null;",
        json!([severity, column]),
    )
    .await
    .as_u64()
}

#[tokio::test]
async fn the_trend_has_a_point_per_report_and_time_to_resolve_matches_the_alerts() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    // Four reports on main: three critical alerts resolved after different times.
    c.submit(
        &key,
        "r1",
        &[
            ("a", "app", false, "critical"),
            ("e", "app", false, "error"),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(40)).await;
    c.submit(
        &key,
        "r2",
        &[
            ("a", "app", false, "critical"),
            ("b", "app", false, "critical"),
            ("e", "app", false, "error"),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(25)).await;
    c.submit(
        &key,
        "r3",
        &[
            ("b", "app", false, "critical"),
            ("c", "app", false, "critical"),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    c.submit(&key, "r4", &[]).await;

    let resolved: Vec<Value> = c.alerts(&id, "resolved").await;
    let mut critical: Vec<u64> = resolved
        .iter()
        .filter(|a| a["severity"] == "critical")
        .map(|a| a["resolvedAt"].as_u64().unwrap() - a["openedAt"].as_u64().unwrap())
        .collect();
    critical.sort_unstable();
    assert_eq!(critical.len(), 3);
    let mean = critical.iter().sum::<u64>() / 3;
    let median = critical[1];
    let error: Vec<u64> = resolved
        .iter()
        .filter(|a| a["severity"] == "error")
        .map(|a| a["resolvedAt"].as_u64().unwrap() - a["openedAt"].as_u64().unwrap())
        .collect();
    assert_eq!(error.len(), 1);

    let b = Browser::start().await;
    b.sign_in(&s.url, &s.admin).await;
    b.goto(&format!("{}/integrations/{id}", s.url)).await;
    b.wait_for_element("svg.trend-chart").await;
    let chart = b
        .js(
            r#"const svg = document.querySelector('#insights svg.trend-chart');
               const series = [...svg.querySelectorAll('g.series')];
               return {role: svg.getAttribute('role'),
                       title: svg.querySelector('title').textContent,
                       desc: svg.querySelector('desc').textContent,
                       labelledby: svg.getAttribute('aria-labelledby'),
                       points: series.map(g => g.querySelectorAll('circle.point').length),
                       legend: [...document.querySelectorAll('#insights ul.legend li')].map(l => l.innerText.trim())};"#,
            json!([]),
        )
        .await;
    assert_eq!(chart["role"], "img");
    assert!(
        chart["title"].as_str().unwrap().contains("payments"),
        "{chart}"
    );
    assert!(
        chart["desc"].as_str().unwrap().starts_with("4 reports."),
        "{chart}"
    );
    assert_eq!(chart["labelledby"], "trend-title trend-desc");
    assert_eq!(
        chart["points"],
        json!([4, 4, 4, 4, 4]),
        "five series of four points"
    );
    assert_eq!(
        chart["legend"],
        json!([
            "Critical open",
            "Error open",
            "Warning open",
            "Info open",
            "Failing results"
        ])
    );
    assert_eq!(ttr_ms(&b, "critical", "mean").await, Some(mean));
    assert_eq!(ttr_ms(&b, "critical", "median").await, Some(median));
    assert_eq!(ttr_ms(&b, "error", "median").await, Some(error[0]));
    assert_eq!(ttr_ms(&b, "warning", "mean").await, None);
    b.screenshot("integration-trends").await;

    // The overview: the same over every integration (here, one).
    b.goto(&format!("{}/", s.url)).await;
    b.wait_for_element("#insights svg.trend-chart").await;
    assert_eq!(ttr_ms(&b, "critical", "median").await, Some(median));
    let insights = c.get("/api/v1/insights").await;
    assert_eq!(insights["timeToResolve"][0]["medianMs"], median);
    assert_eq!(insights["trend"].as_array().unwrap().len(), 4);
    b.screenshot("overview").await;
    b.close().await;
}

#[tokio::test]
async fn admins_create_and_rename_integrations_and_issue_and_revoke_tokens_in_the_browser() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let b = Browser::start().await;
    b.sign_in(&s.url, &s.admin).await;

    b.type_into("#new-name", "billing").await;
    b.type_into("#new-branches", "main, release").await;
    b.click("#create-integration button").await;
    b.wait_for(
        "its settings",
        "return location.pathname.endsWith('/settings');",
        json!([]),
    )
    .await;
    let list = c.get("/api/v1/integrations").await;
    let created = &list["integrations"][0];
    assert_eq!(created["name"], "billing");
    assert_eq!(created["trackedBranches"], json!(["main", "release"]));
    let id = created["id"].as_str().unwrap().to_owned();

    b.goto(&format!("{}/", s.url)).await;
    b.click("details.rename summary").await;
    let field = format!("#name-{id}");
    b.js(
        "document.querySelector(arguments[0]).value = '';",
        json!([field]),
    )
    .await;
    b.type_into(&field, "billing-api").await;
    b.click("details.rename button").await;
    b.wait_for(
        "the renamed row",
        "return document.querySelector('table.overview tbody th').innerText.trim() === 'billing-api';",
        json!([]),
    )
    .await;
    assert_eq!(
        c.get(&format!("/api/v1/integrations/{id}")).await["name"],
        "billing-api"
    );

    // The OTLP file pattern on the integration's settings page.
    b.goto(&format!("{}/integrations/{id}/settings", s.url))
        .await;
    b.type_into("#pattern", "secrets/{namespace}/{environment}.enc.yaml")
        .await;
    b.click("#collection button[type='submit']").await;
    b.wait_for_element("#saved").await;
    let config = &c.get(&format!("/api/v1/integrations/{id}")).await["config"];
    assert_eq!(
        config["filePattern"],
        "secrets/{namespace}/{environment}.enc.yaml"
    );
    assert_eq!(
        config["trackedBranches"],
        json!(["main", "release"]),
        "kept"
    );

    b.goto(&format!("{}/settings", s.url)).await;
    b.type_into("#token-label", "auditor").await;
    b.js(
        "document.querySelector('#token-role').value = 'viewer';",
        json!([]),
    )
    .await;
    b.click("form[action='/settings/tokens'] button").await;
    b.wait_for_element("#new-token").await;
    let token = b.text("#new-token").await.expect("the token, once");
    b.screenshot("settings-tokens").await;
    let viewer = Client::new(&s.url, &token);
    assert_eq!(
        viewer
            .admin("GET", "/api/v1/integrations", Value::Null)
            .await
            .status,
        200
    );
    assert_eq!(
        viewer
            .admin("GET", "/api/v1/admin/tokens", Value::Null)
            .await
            .status,
        403,
        "a viewer token"
    );
    // Shown once: the page again does not hold it.
    b.goto(&format!("{}/settings", s.url)).await;
    b.wait_for_element("table.tokens").await;
    assert!(b.text("#new-token").await.is_none());

    let tokens = c.get("/api/v1/admin/tokens").await;
    let auditor = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "auditor")
        .expect("issued")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    b.click(&format!("#token-{auditor} button")).await;
    b.wait_for_element(&format!("#token-{auditor}[data-revoked='true']"))
        .await;
    assert_eq!(
        viewer
            .admin("GET", "/api/v1/integrations", Value::Null)
            .await
            .status,
        401
    );
    let audit = c.get("/api/v1/admin/audit").await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "integration.create",
        "integration.rename",
        "token.issue",
        "token.revoke",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    b.close().await;
}
