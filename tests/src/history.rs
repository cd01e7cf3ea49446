//! A small deployment history with some of everything (two integrations, keys, a viewer
//! token, alerts open, acknowledged and resolved, notifications sent), and what the API
//! answers about it: to compare a deployment with a copy of it (an import, a data dir
//! written by an earlier release).

use crate::client::Client;
use crate::fixtures::{report, sha};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What a client needs to read and write a deployment made by [`History::make`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct History {
    pub integrations: Vec<String>,
    /// The CI key of the first integration.
    pub api_key: String,
    /// A viewer token.
    pub viewer: String,
}

impl History {
    /// Builds the history through the API (`c` holds the admin token) and waits until
    /// every notification it causes is sent.
    pub async fn make(c: &Client) -> History {
        let (a, key) = c
            .integration("acme", json!({"collectCIContext": true}))
            .await;
        let (b, key_b) = c
            .integration("beta", json!({"trackedBranches": ["trunk"]}))
            .await;
        assert_eq!(
            c.channels(&a, &[("sec@acme.com", "warning")]).await.status,
            200
        );
        let fail = ("missing_keys", "oauth/production", false, "critical");
        let warn = ("rotation", "database", false, "warning");
        for (i, results) in [vec![fail], vec![fail, warn], vec![warn], vec![]]
            .iter()
            .enumerate()
        {
            let r = c
                .report(&key, &report(&sha(&format!("h{i}")), "main", results))
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
        let batch: Vec<_> = (0..5)
            .map(|i| report(&sha(&format!("t{i}")), "trunk", &[fail, warn]))
            .collect();
        assert_eq!(c.batch(&key_b, &batch).await.status, 201);
        let open = c.alerts(&b, "open").await;
        let alert = open[0]["id"].as_str().expect("an open alert");
        assert_eq!(c.acknowledge(&b, alert).await.status, 200);
        let (_, viewer) = c.issue_token("viewer", "auditor").await;
        c.settle().await;
        History {
            integrations: vec![a, b],
            api_key: key,
            viewer,
        }
    }

    /// Adds `batches` batches of `per_batch` reports to the first integration, every
    /// other one failing a critical rule (so alerts open and resolve), and waits until
    /// the projections have them: a longer log to rebuild.
    pub async fn add_reports(&self, c: &Client, batches: usize, per_batch: usize) {
        let fail = ("missing_keys", "oauth/production", false, "critical");
        let pass = ("missing_keys", "oauth/production", true, "critical");
        for b in 0..batches {
            let reports: Vec<Value> = (0..per_batch)
                .map(|i| {
                    let results = if i % 2 == 0 { [fail] } else { [pass] };
                    report(&sha(&format!("more-{b}-{i}")), "main", &results)
                })
                .collect();
            let r = c.batch(&self.api_key, &reports).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
        c.settle().await;
    }

    /// What the API answers a viewer about every integration: the list, and each
    /// one's details, matrix, report history and alerts.
    pub async fn answers(&self, base: &str) -> BTreeMap<String, Value> {
        let viewer = Client::new(base, &self.viewer);
        let mut paths = vec!["/api/v1/integrations".to_owned()];
        for id in &self.integrations {
            let at = format!("/api/v1/integrations/{id}");
            paths.extend([
                at.clone(),
                format!("{at}/matrix"),
                format!("{at}/reports"),
                format!("{at}/alerts?status=all"),
            ]);
        }
        let mut out = BTreeMap::new();
        for path in paths {
            let body = viewer.get(&path).await;
            out.insert(path, body);
        }
        out
    }

    /// The deployment's key still takes reports and its viewer token still reads.
    pub async fn still_works(&self, base: &str) {
        let c = Client::new(base, &self.viewer);
        let r = c
            .report(&self.api_key, &report(&sha("after the move"), "main", &[]))
            .await;
        assert_eq!(r.status, 201, "the CI key works: {:?}", r.body);
        let r = c
            .admin(
                "GET",
                &format!("/api/v1/integrations/{}", self.integrations[0]),
                Value::Null,
            )
            .await;
        assert_eq!(r.status, 200, "the viewer token works: {:?}", r.body);
    }
}
