//! What the given / when / then tests of the application layer share: an application on
//! a fresh embedded log with its projectors running, an admin, and wire bodies.

use clef_pro_app::principal::{KeyCaller, Person};
use clef_pro_app::{App, Config};
use clef_pro_log::Log;
use clef_pro_projections::Projections;
use clef_pro_schema::event::{Actor, Role};
use clef_pro_schema::ids::{IntegrationId, KeyId};
use serde_json::{Value, json};
use std::sync::Arc;

/// An application on a fresh embedded log; the directory and the projectors live as
/// long as it.
pub struct Given {
    pub app: App,
    _stop: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

pub fn given() -> Given {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = clef_pro_schema::keys::DeploymentKey::random();
    let log = Log::open_embedded(&dir.path().join("log"), true, key.events()).expect("log");
    let projections = Arc::new(Projections::open(&dir.path().join("stores")).expect("stores"));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    drop(projections.spawn(&log, &shutdown));
    Given {
        app: App::new(log, projections, Config::default()),
        _stop: stop,
        _dir: dir,
    }
}

pub fn admin() -> Person {
    Person::new(
        Role::Admin,
        Actor {
            token: None,
            label: "operator".into(),
        },
    )
}

/// A request body's size as the edge passes it: a usual report, processed inline.
pub const SMALL: usize = 4 << 10;

/// A request body, parsed as the edges parse it.
pub fn wire<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a valid wire body")
}

impl Given {
    /// An integration named `name` and a CI key for it, as the key authenticates.
    pub async fn integration(&self, name: &str) -> (IntegrationId, KeyCaller) {
        let (id, _, secret) = self.integration_with_secret(name).await;
        let key = self.app.key_caller(&secret).expect("read").expect("works");
        (id, key)
    }

    /// A new integration, its key's id and the key's secret.
    pub async fn integration_with_secret(&self, name: &str) -> (IntegrationId, KeyId, String) {
        let id = self
            .app
            .create_integration(&admin(), wire(json!({"name": name})))
            .await
            .expect("created");
        let (key_id, secret) = self
            .app
            .issue_key(&admin(), &id, wire(json!({"label": "ci"})))
            .await
            .expect("issued");
        (id, key_id, secret)
    }
}
