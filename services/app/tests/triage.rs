//! The inbox, times to resolve and trends, given / when / then, on an embedded log
//! with the projectors running. Expected figures are computed here from the alerts'
//! own timestamps, never copied from the code under test.

mod support;

use clef_pro_app::Error;
use clef_pro_app::principal::KeyCaller;
use clef_pro_app::queries::triage::InboxQuery;
use clef_pro_schema::ids::IntegrationId;
use serde_json::{Value, json};
use support::{Given, SMALL, admin, given};

/// A report on `main` whose failing results are `(rule, scope, severity)`.
fn report(commit: u32, failing: &[(&str, &str, &str)]) -> Value {
    let results: Vec<Value> = failing
        .iter()
        .map(|(rule, scope, severity)| {
            json!({"ruleId": rule, "ruleName": rule, "passed": false, "severity": severity,
                   "message": "failing", "scope": scope})
        })
        .collect();
    json!({
        "commitSha": format!("{commit:040x}"), "branch": "main", "cliVersion": "0.1.30",
        "summary": {"filesScanned": 1, "namespaces": ["app"], "environments": ["prod"],
            "cells": [{"namespace": "app", "environment": "prod", "healthStatus": "healthy", "description": ""}],
            "violations": failing.len(), "passed": failing.is_empty()},
        "drift": [],
        "policyResults": results
    })
}

impl Given {
    async fn send(&self, key: &KeyCaller, commit: u32, failing: &[(&str, &str, &str)]) {
        self.app
            .submit_report(
                key,
                serde_json::from_value(report(commit, failing)).unwrap(),
                SMALL,
            )
            .await
            .expect("accepted");
    }

    fn inbox(&self, q: Value) -> Vec<(String, String, String)> {
        let q: InboxQuery = serde_json::from_value(q).unwrap();
        self.app
            .inbox(&q)
            .expect("inbox")
            .alerts
            .into_iter()
            .map(|a| {
                (
                    a.integration_name,
                    a.alert.rule_id,
                    serde_json::to_value(a.alert.severity)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect()
    }
}

fn row(i: &str, rule: &str, sev: &str) -> (String, String, String) {
    (i.into(), rule.into(), sev.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_lists_every_integration_by_severity_then_age_and_filters() {
    let g = given();
    let (_, payments) = g.integration("payments").await;
    let (search_id, search) = g.integration("search").await;
    g.send(&payments, 1, &[("stale", "app", "warning")]).await;
    g.send(&search, 2, &[("missing_keys", "app/prod", "critical")])
        .await;
    g.send(
        &payments,
        3,
        &[
            ("stale", "app", "warning"),
            ("missing_keys", "app/prod", "critical"),
        ],
    )
    .await;

    let all = g.inbox(json!({}));

    assert_eq!(
        all,
        [
            row("search", "missing_keys", "critical"),
            row("payments", "missing_keys", "critical"),
            row("payments", "stale", "warning"),
        ]
    );
    assert_eq!(
        g.inbox(json!({"severity": "warning"})),
        [row("payments", "stale", "warning")]
    );
    assert_eq!(
        g.inbox(json!({"integration": search_id.as_str()})),
        [row("search", "missing_keys", "critical")]
    );
    assert_eq!(g.inbox(json!({"rule": "stale"})).len(), 1);
    assert_eq!(g.inbox(json!({"age": "1h"})).len(), 3);

    // Paging: one at a time gives the same order.
    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let q: InboxQuery = serde_json::from_value(json!({"limit": 1, "before": before})).unwrap();
        let page = g.app.inbox(&q).unwrap();
        paged.extend(page.alerts.into_iter().map(|a| a.alert.id));
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    assert_eq!(paged.len(), 3);

    // Acknowledged or not.
    let first = g
        .app
        .inbox(&InboxQuery::default())
        .unwrap()
        .alerts
        .remove(0)
        .alert;
    let id = IntegrationId::parse(&first.integration_id).unwrap();
    g.app.acknowledge(&id, &first.id, &admin()).await.unwrap();
    assert_eq!(g.inbox(json!({"acknowledged": "false"})).len(), 2);
    assert_eq!(
        g.inbox(json!({"acknowledged": "true"})),
        [row("search", "missing_keys", "critical")]
    );

    // Resolved alerts leave the default (open) view.
    g.send(&search, 4, &[]).await;
    assert_eq!(g.inbox(json!({})).len(), 2);
    assert_eq!(
        g.inbox(json!({"status": "resolved"})),
        [row("search", "missing_keys", "critical")]
    );
    assert_eq!(g.inbox(json!({"status": "all"})).len(), 3);

    for (field, q) in [
        ("status", json!({"status": "closed"})),
        ("severity", json!({"severity": "urgent"})),
        ("age", json!({"age": "soon"})),
        ("acknowledged", json!({"acknowledged": "maybe"})),
        ("before", json!({"before": "not hex"})),
    ] {
        match g.app.inbox(&serde_json::from_value(q).unwrap()) {
            Err(Error::Invalid(f)) => assert_eq!(f.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn time_to_resolve_is_the_mean_and_median_of_the_alerts_own_durations() {
    let g = given();
    let (id, key) = g.integration("payments").await;
    // Three critical alerts resolved at different times, and one error that stays open.
    g.send(&key, 1, &[("a", "app", "critical"), ("e", "app", "error")])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    g.send(
        &key,
        2,
        &[
            ("a", "app", "critical"),
            ("b", "app", "critical"),
            ("e", "app", "error"),
        ],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    g.send(
        &key,
        3,
        &[
            ("b", "app", "critical"),
            ("c", "app", "critical"),
            ("e", "app", "error"),
        ],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    g.send(&key, 4, &[("e", "app", "error")]).await;

    let q: InboxQuery = serde_json::from_value(json!({"status": "resolved"})).unwrap();
    let mut durations: Vec<u64> = g
        .app
        .inbox(&q)
        .unwrap()
        .alerts
        .iter()
        .map(|a| a.alert.resolved_at.unwrap() - a.alert.opened_at)
        .collect();
    durations.sort_unstable();
    assert_eq!(durations.len(), 3);
    let mean = durations.iter().sum::<u64>() / 3;
    let median = durations[1];

    for scope in [Some(&id), None] {
        let ttr = g.app.insights(scope).unwrap().time_to_resolve;
        let critical = &ttr[0];
        assert_eq!(serde_json::to_value(critical.severity).unwrap(), "critical");
        assert_eq!(critical.resolved, 3);
        assert_eq!(critical.mean_ms, Some(mean));
        assert_eq!(critical.median_ms, Some(median));
        let error = &ttr[1];
        assert_eq!(
            (error.resolved, error.mean_ms, error.median_ms),
            (0, None, None)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trend_has_a_point_per_tracked_report_with_open_alerts_and_failures() {
    let g = given();
    let (p_id, payments) = g.integration("payments").await;
    let (_, search) = g.integration("search").await;
    g.send(
        &payments,
        1,
        &[("a", "app", "critical"), ("b", "app", "warning")],
    )
    .await;
    g.send(&search, 2, &[("a", "app", "error")]).await;
    g.send(&payments, 3, &[("b", "app", "warning")]).await;

    let trend = g.app.insights(Some(&p_id)).unwrap().trend;
    let points: Vec<(u64, u64, u64)> = trend
        .iter()
        .map(|p| (p.open.critical, p.open.warning, p.failing))
        .collect();
    assert_eq!(points, [(1, 1, 2), (0, 1, 1)]);

    let overall = g.app.insights(None).unwrap().trend;
    let points: Vec<(u64, u64, u64, u64)> = overall
        .iter()
        .map(|p| (p.open.critical, p.open.error, p.open.warning, p.failing))
        .collect();
    // Each report adds a point; failing results are every integration's latest, summed.
    assert_eq!(points, [(1, 0, 1, 2), (1, 1, 1, 3), (0, 1, 1, 2)]);
}
