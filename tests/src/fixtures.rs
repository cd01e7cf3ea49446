//! Report bodies as the Clef CLI sends them, and logs filled with them.

use clef_pro_log::Log;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::redact::Redactor;
use clef_pro_schema::report::Report;
use clef_pro_schema::sealed::Sealed;
use clef_pro_schema::wire::ReportIn;
use futures::future::join_all;
use serde_json::{Value, json};

/// A redactor of a deployment of its own, for tests that seal events themselves.
pub fn redactor() -> Redactor {
    Redactor::new(DeploymentKey::from_bytes([7; 32]).fingerprints())
}

/// `event` through the redaction chokepoint, as the service would seal it.
pub fn seal(event: Event) -> Sealed {
    clef_pro_schema::sealed::seal(event, &redactor())
}

/// A 40-hex commit sha derived from a label, so tests can say `sha("abc")`.
pub fn sha(label: &str) -> String {
    blake3::hash(label.as_bytes()).to_hex()[..40].to_owned()
}

/// One policy result: (ruleId, scope, passed, severity).
pub type Result_ = (&'static str, &'static str, bool, &'static str);

/// The example report of docs/api.md at `commit` on `branch`, with `results`.
pub fn report(commit: &str, branch: &str, results: &[Result_]) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|(rule, scope, passed, severity)| {
            json!({"ruleId": rule, "ruleName": format!("Rule {rule}"), "passed": passed, "severity": severity,
                   "message": format!("{rule} at {scope}"), "scope": scope})
        })
        .collect();
    let failing = results.iter().filter(|r| r["passed"] == false).count();
    json!({
        "commitSha": commit,
        "branch": branch,
        "commitTimestamp": 1_700_000_000_000u64,
        "cliVersion": "0.1.30",
        "summary": {
            "filesScanned": 9,
            "namespaces": ["database", "oauth"],
            "environments": ["development", "production"],
            "cells": [
                {"namespace": "oauth", "environment": "production", "healthStatus": if failing > 0 {"critical"} else {"healthy"},
                 "description": "4 keys, 3 recipients, rotated 12d ago"},
                {"namespace": "database", "environment": "development", "healthStatus": "healthy",
                 "description": "2 keys, 2 recipients, rotated 3d ago"}
            ],
            "violations": failing,
            "passed": failing == 0
        },
        "drift": [{"namespace": "database", "isDrifted": true, "driftCount": 2}],
        "policyResults": results,
        "ciContext": {"provider": "github-actions", "pipelineUrl": "https://github.com/acme/repo/actions/runs/1", "trigger": "push"}
    })
}

/// A report with an `n_ns` × `n_env` matrix, about 200 bytes per cell.
pub fn big_report(commit: &str, n_ns: usize, n_env: usize) -> Value {
    let mut r = report(
        commit,
        "main",
        &[("missing_keys", "ns0/env0", false, "critical")],
    );
    let ns: Vec<String> = (0..n_ns).map(|i| format!("ns{i}")).collect();
    let env: Vec<String> = (0..n_env).map(|i| format!("env{i}")).collect();
    let cells: Vec<Value> = ns
        .iter()
        .flat_map(|n| env.iter().map(move |e| (n, e)))
        .map(|(n, e)| {
            json!({"namespace": n, "environment": e, "healthStatus": "warning",
                   "description": "12 keys, 4 recipients, rotated 97d ago; 1 key in [development, staging] missing from production; rotation overdue"})
        })
        .collect();
    r["summary"]["namespaces"] = json!(ns);
    r["summary"]["environments"] = json!(env);
    r["summary"]["cells"] = json!(cells);
    r
}

/// Writes `n` report events for 10 integrations straight into the log.
pub async fn fill(log: &Log, n: usize) -> Vec<IntegrationId> {
    let ints: Vec<IntegrationId> = (0..10).map(|_| IntegrationId::random()).collect();
    for id in &ints {
        let e = seal(Event::IntegrationCreated {
            id: id.clone(),
            name: "x".into(),
            collect_ci_context: false,
            tracked_branches: vec![],
            at: 1,
        });
        log.append(&e).await.expect("append");
    }
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        join_all(chunk.iter().map(|i| {
            let wire: ReportIn =
                serde_json::from_value(report(&sha(&format!("p{i}")), "main", &[])).expect("wire");
            let ev = seal(Event::ReportSubmitted {
                integration: ints[i % 10].clone(),
                report: Report::from_wire(wire, "", false).expect("report"),
                at: 2,
            });
            async move { log.append(&ev).await.expect("append") }
        }))
        .await;
    }
    ints
}
