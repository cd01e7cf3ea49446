use super::*;
use crate::destinations::Destinations;
use clef_pro_projections::outbox::{IntentAlert, IntentKind, IntentStatus};
use clef_pro_schema::domain::{
    Branch, ChannelKind, CommitSha, EmailAddress, RuleId, Scope, Severity,
};
use clef_pro_schema::event::Target;
use clef_pro_schema::ids::{AlertId, IntegrationId, IntentId};
use serde_json::Value;

fn intent(kind: IntentKind, alerts: usize, omitted: u32) -> Intent {
    Intent {
        id: IntentId::parse("ntf_0123456789abcdef").unwrap(),
        kind,
        integration: IntegrationId::parse("int_0123456789abcdef").unwrap(),
        integration_name: "payments".into(),
        commit: CommitSha::parse(&"ab".repeat(20)).unwrap(),
        branch: Branch::parse("main").unwrap(),
        target: Target::Email(EmailAddress::parse("a@b.example").unwrap()),
        min_severity: Severity::Warning,
        alerts: (0..alerts)
            .map(|n| IntentAlert {
                id: AlertId::derive(&[&n.to_le_bytes()]),
                rule_id: RuleId::parse("missing_keys").unwrap(),
                rule_name: "Missing <keys> & more".into(),
                scope: Scope::parse("oauth/production").unwrap(),
                severity: Severity::Critical,
                message: "oauth/production is missing a key".into(),
                opened_by: CommitSha::parse(&"cd".repeat(20)).unwrap(),
                new: n == 0,
            })
            .collect(),
        created_at: 1_700_000_000_000,
        status: IntentStatus::Pending,
        omitted,
    }
}

fn dest(kind: &str) -> Destination {
    let extra = match kind {
        "webhook" => "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        "pagerduty" => "routing_key = \"abc\"\n",
        _ => "",
    };
    let d = Destinations::parse(&format!(
        "[destinations.d]\nkind = \"{kind}\"\nurl = \"https://x.example/h\"\n{extra}"
    ))
    .unwrap();
    d.get(&clef_pro_schema::domain::DestinationName::parse("d").unwrap())
        .unwrap()
        .clone()
}

fn outcome(kind: &str, status: u16, body: &str, refusal: Refusal) -> Outcome {
    classify(
        &dest(kind),
        StatusCode::from_u16(status).unwrap(),
        Some(Duration::from_secs(7)),
        body,
        refusal,
    )
}

#[test]
fn answers_are_classified() {
    assert!(matches!(
        outcome("teams", 202, "", Refusal::None),
        Outcome::Sent
    ));
    assert!(matches!(
        outcome("slack", 200, "ok", Refusal::UnlessOk),
        Outcome::Sent
    ));
    assert!(matches!(
        outcome("slack", 200, "invalid_blocks", Refusal::UnlessOk),
        Outcome::Permanent(r) if r.contains("invalid_blocks") && r.contains("refused")
    ));
    assert!(matches!(
        outcome("slack", 429, "", Refusal::UnlessOk),
        Outcome::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(7)
    ));
    for s in [500, 502, 503, 408] {
        assert!(
            matches!(
                outcome("pagerduty", s, "", Refusal::None),
                Outcome::Transient { .. }
            ),
            "{s}"
        );
    }
    assert!(matches!(
        outcome("pagerduty", 400, "bad", Refusal::None),
        Outcome::Permanent(_)
    ));
    assert!(matches!(
        outcome("webhook", 410, "", Refusal::None),
        Outcome::Gone(_)
    ));
    assert!(matches!(
        outcome("slack", 410, "", Refusal::None),
        Outcome::Permanent(_)
    ));
    assert!(matches!(
        outcome("webhook", 404, "", Refusal::None),
        Outcome::Permanent(_)
    ));
}

#[test]
fn reasons_are_one_short_line() {
    let Outcome::Permanent(r) = outcome(
        "webhook",
        400,
        &format!("line\r\n{}", "x".repeat(500)),
        Refusal::None,
    ) else {
        panic!("not permanent");
    };
    assert!(!r.contains('\n') && r.len() < 200, "{r}");
}

#[test]
fn slack_keeps_to_fifty_blocks_and_escapes() {
    let m = slack::message(&intent(IntentKind::Failing, 50, 30), "https://clef.example");
    let blocks = m["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 50);
    assert!(m["text"].as_str().unwrap().contains("payments"));
    let all = m.to_string();
    assert!(all.contains("34 more alert(s)"), "{all}");
    assert!(all.contains("Missing &lt;keys&gt; &amp; more"));
    assert!(all.contains("https://clef.example/integrations/int_0123456789abcdef#alert-"));
}

#[test]
fn teams_sends_an_adaptive_card() {
    let m = teams::message(&intent(IntentKind::Resolved, 2, 0), "https://clef.example");
    assert_eq!(m["type"], "message");
    let a = &m["attachments"][0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(a["content"]["type"], "AdaptiveCard");
    let body = a["content"]["body"].as_array().unwrap();
    assert!(a["content"].to_string().contains("RESOLVED"));
    // Only rich text of plain runs, which Teams never reads as Markdown.
    let runs: Vec<&Value> = body
        .iter()
        .inspect(|b| assert_eq!(b["type"], "RichTextBlock", "{b}"))
        .flat_map(|b| b["inlines"].as_array().unwrap())
        .collect();
    assert!(
        runs.iter()
            .all(|r| r["type"] == "TextRun" && r["text"].is_string())
    );
}

/// A rule name and message from a report that are Markdown links stay the characters
/// they are: Adaptive Cards read Markdown in a `TextBlock`, never in a `TextRun`.
#[test]
fn teams_shows_markdown_from_a_report_as_text() {
    let mut i = intent(IntentKind::Failing, 1, 0);
    i.alerts[0].rule_name = "x](https://evil.example) [y".into();
    i.alerts[0].message = "[Sign in again](https://evil.example)".into();
    let m = teams::message(&i, "https://clef.example");
    let body = m["attachments"][0]["content"]["body"].as_array().unwrap();
    let runs: Vec<&Value> = body
        .iter()
        .flat_map(|b| b["inlines"].as_array().unwrap())
        .collect();
    let name = runs
        .iter()
        .find(|r| r["text"] == "x](https://evil.example) [y")
        .expect("the rule name, as one run");
    let url = name["selectAction"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://clef.example/integrations/"),
        "{url}"
    );
    assert!(runs.iter().any(|r| {
        r["text"]
            .as_str()
            .unwrap()
            .ends_with(": [Sign in again](https://evil.example)")
    }));
    assert!(body.iter().all(|b| b["type"] == "RichTextBlock"));
}

#[test]
fn pagerduty_triggers_and_resolves_by_alert_id() {
    let i = intent(IntentKind::Failing, 3, 0);
    let events = pagerduty::events(&i, "rk", "https://clef.example");
    assert_eq!(events.len(), 3);
    for (e, a) in events.iter().zip(&i.alerts) {
        assert_eq!(e["event_action"], "trigger");
        assert_eq!(e["dedup_key"], a.id.as_str());
        assert_eq!(e["payload"]["severity"], "critical");
        assert!(e["payload"]["summary"].as_str().unwrap().len() <= 1024);
    }
    let r = pagerduty::events(&intent(IntentKind::Resolved, 1, 0), "rk", "u");
    assert_eq!(r[0]["event_action"], "resolve");
    assert!(r[0].get("payload").is_none());
    assert_eq!(ChannelKind::Pagerduty.as_str(), "pagerduty");
}

#[test]
fn the_email_html_escapes_what_it_lists_and_links_each_alert() {
    let i = intent(IntentKind::Failing, 2, 3);
    let html = crate::email::html(&i, "https://clef.example");
    assert!(html.contains("Missing &lt;keys&gt; &amp; more"), "{html}");
    assert!(!html.contains("<keys>"), "{html}");
    assert_eq!(
        html.matches("<tr>").count(),
        3,
        "a header row and one per alert"
    );
    assert!(
        html.contains(r#"href="https://clef.example/integrations/int_0123456789abcdef#alert-"#)
    );
    assert!(html.contains("<strong>NEW</strong> critical"), "{html}");
    assert!(
        html.contains("3 more open alert(s) are not listed here"),
        "{html}"
    );
}

/// A resolved notice says what was resolved, never that alerts are open or how to stop
/// reminders.
#[test]
fn a_resolved_email_speaks_of_what_was_resolved() {
    let i = intent(IntentKind::Resolved, 1, 3);
    let plain = crate::email::plain(&i, "https://clef.example");
    assert!(
        plain.starts_with(&format!(
            "Commit {} on main resolved 4 alert(s) of payments.",
            "ab".repeat(20)
        )),
        "{plain}"
    );
    assert!(
        plain.contains("3 more resolved alert(s) are not listed"),
        "{plain}"
    );
    let html = crate::email::html(&i, "https://clef.example");
    for text in [&plain, &html] {
        assert!(!text.contains("open alert"), "{text}");
        assert!(!text.contains("Acknowledge"), "{text}");
        assert!(text.contains("a new alert opens"), "{text}");
    }
    assert!(crate::email::subject(&i).ends_with("(resolved)"));
}
