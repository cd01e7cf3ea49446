//! `clef-pro destinations check`: names each destination and its kind, never a URL or
//! credential, and names the entry and field at fault.

use clef_pro_tests::destinations::{ROUTING_KEY, SLACK_TOKEN, TEAMS_TOKEN, destinations};
use clef_pro_tests::receiver::{Answer, Receiver};
use std::path::PathBuf;

/// `clef-pro destinations check` validates a file without printing a credential.
#[tokio::test]
async fn destinations_check_names_entries_and_faults() {
    let rx = Receiver::start(Answer::status(200, "")).await;
    let dir = tempfile::tempdir().expect("dir");
    let good = destinations(&rx, &dir);
    let check = |file: PathBuf| async move {
        tokio::process::Command::new(clef_pro_tests::service::binary())
            .args(["destinations", "check"])
            .arg(file)
            .output()
            .await
            .expect("run clef-pro")
    };
    let out = check(good).await;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("oncall\tpagerduty") && text.contains("5 destination(s), valid"),
        "{text}"
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, format!("[destinations.siem]\nkind = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"{ROUTING_KEY}\"\n")).expect("write");
    let out = check(bad).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(text.contains("destinations.siem.secret"), "{text}");
    assert!(!text.contains(ROUTING_KEY), "{text}");
    for secret in [SLACK_TOKEN, TEAMS_TOKEN, ROUTING_KEY] {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    }
}
