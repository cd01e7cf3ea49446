use super::*;
use crate::domain::{CommitSha, Scope};
use crate::report::{PolicyResult, Summary};

fn int() -> IntegrationId {
    IntegrationId::parse("int_0123456789abcdef").unwrap()
}

fn report() -> Report {
    Report {
        commit: CommitSha::parse(&"ab".repeat(20)).unwrap(),
        branch: Some(Branch::parse("main").unwrap()),
        commit_timestamp: Some(1_700_000_000_000),
        cli_version: "0.1.30".into(),
        summary: Summary {
            files_scanned: 1,
            namespaces: vec![],
            environments: vec![],
            cells: vec![],
            violations: 1,
            passed: false,
        },
        drift: vec![],
        policy_results: vec![PolicyResult {
            rule_id: RuleId::parse("missing_keys").unwrap(),
            rule_name: "Missing keys".into(),
            passed: false,
            severity: Severity::Critical,
            message: "m".into(),
            scope: Scope::parse("oauth/production").unwrap(),
        }],
        ci_context: None,
        secrets_redacted: 0,
    }
}

/// One event of every variant, in variant order.
fn one_of_each() -> Vec<Event> {
    let at = 1_700_000_000_000;
    vec![
        Event::IntegrationCreated {
            id: int(),
            name: "payments".into(),
            collect_ci_context: true,
            tracked_branches: vec![Branch::parse("main").unwrap()],
            at,
        },
        Event::IntegrationConfigured {
            id: int(),
            collect_ci_context: Some(false),
            tracked_branches: None,
            at,
        },
        Event::KeyIssued {
            integration: int(),
            key_id: KeyId::parse("key_0123456789abcdef").unwrap(),
            label: "ci".into(),
            hash: [7; 32],
            at,
        },
        Event::KeyRevoked {
            integration: int(),
            key_id: KeyId::parse("key_0123456789abcdef").unwrap(),
            at,
        },
        Event::PoliciesSet {
            integration: int(),
            policies: vec![Policy {
                rule_id: RuleId::parse("min_recipients").unwrap(),
                rule_name: "Minimum recipients".into(),
                severity: Severity::Warning,
                params: "{\"min\":2}".into(),
            }],
            at,
        },
        Event::NotificationsSet {
            integration: int(),
            channels: vec![EmailChannel {
                target: EmailAddress::parse("security@acme.com").unwrap(),
                min_severity: Severity::Critical,
            }],
            at,
        },
        Event::TokenIssued {
            token_id: TokenId::parse("tok_0123456789abcdef").unwrap(),
            role: Role::Viewer,
            label: "alice".into(),
            hash: [9; 32],
            at,
        },
        Event::ReportSubmitted {
            integration: int(),
            report: report(),
            at,
        },
        Event::BatchSubmitted {
            integration: int(),
            reports: vec![report()],
            at,
        },
        Event::AlertAcknowledged {
            integration: int(),
            alert: AlertId::parse("alr_0123456789abcdef").unwrap(),
            by: "alice".into(),
            at,
        },
        Event::NotificationDelivered {
            intent: IntentId::parse("ntf_0123456789abcdef").unwrap(),
            message_id: "<ntf_0123456789abcdef@clef-pro>".into(),
            at,
        },
        Event::NotificationFailed {
            intent: IntentId::parse("ntf_0123456789abcdef").unwrap(),
            reason: "550 mailbox unavailable".into(),
            at,
        },
        Event::IntegrationConfiguredV2 {
            id: int(),
            collect_ci_context: None,
            tracked_branches: Some(vec![Branch::parse("trunk").unwrap()]),
            file_pattern: Some("{namespace}/{environment}.enc.yaml".into()),
            at,
        },
        Event::LegacyTrusted { through: 42, at },
        Event::TokenRevoked {
            token_id: TokenId::parse("tok_0123456789abcdef").unwrap(),
            at,
        },
        Event::SessionStarted {
            session: [1; 32],
            token: Some(TokenId::parse("tok_0123456789abcdef").unwrap()),
            credential: [2; 32],
            role: Role::Admin,
            label: "alice".into(),
            expires_at: at + 1,
            at,
        },
        Event::SessionEnded {
            session: [1; 32],
            at,
        },
        Event::SignInFailed { at },
        Event::Audited {
            actor: Actor {
                token: None,
                label: "operator".into(),
            },
            event: Box::new(Event::TokenRevoked {
                token_id: TokenId::parse("tok_0123456789abcdef").unwrap(),
                at,
            }),
        },
        Event::NotificationsSetV2 {
            integration: int(),
            channels: vec![
                Channel {
                    target: Target::Email(EmailAddress::parse("security@acme.com").unwrap()),
                    min_severity: Severity::Warning,
                    send_resolved: false,
                },
                Channel {
                    target: Target::Destination {
                        kind: ChannelKind::Pagerduty,
                        name: DestinationName::parse("oncall").unwrap(),
                    },
                    min_severity: Severity::Critical,
                    send_resolved: true,
                },
            ],
            at,
        },
        Event::IntegrationRenamed {
            id: int(),
            name: "payments-api".into(),
            at,
        },
    ]
}

/// The exact bytes of every variant. If this fails, a change would make stored
/// logs unreadable: append a new variant or envelope version instead.
#[test]
fn pinned_bytes() {
    let got: Vec<String> = one_of_each()
        .iter()
        .map(|e| hex::encode(encode(e)))
        .collect();
    let want = include_str!("../../tests/pinned_events.txt");
    let want: Vec<&str> = want.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        got,
        want,
        "encoded events changed; got:\n{}",
        got.join("\n")
    );
}

#[test]
fn round_trip_and_unknown_version() {
    for e in one_of_each() {
        assert_eq!(decode(&encode(&e)).unwrap(), upcast(e));
    }
    let v1 = Event::IntegrationConfigured {
        id: int(),
        collect_ci_context: Some(true),
        tracked_branches: None,
        at: 5,
    };
    assert_eq!(
        decode(&encode(&v1)).unwrap(),
        Event::IntegrationConfiguredV2 {
            id: int(),
            collect_ci_context: Some(true),
            tracked_branches: None,
            file_pattern: None,
            at: 5
        }
    );
    assert!(matches!(decode(&[2, 0]), Err(DecodeError::Version(2))));
    assert!(matches!(decode(&[]), Err(DecodeError::Empty)));
}

#[test]
fn resubmission_has_the_same_dedupe_key_at_another_time() {
    let a = Event::ReportSubmitted {
        integration: int(),
        report: report(),
        at: 1,
    };
    let b = Event::ReportSubmitted {
        integration: int(),
        report: report(),
        at: 2,
    };
    assert_eq!(a.dedupe_key(), b.dedupe_key());
    let mut other = report();
    other.summary.passed = true;
    let c = Event::ReportSubmitted {
        integration: int(),
        report: other,
        at: 1,
    };
    assert_ne!(a.dedupe_key(), c.dedupe_key());
}

#[test]
fn authenticated_events_open_only_under_their_key_and_unaltered() {
    let key = crate::keys::DeploymentKey::from_bytes([9; 32]).events();
    let e = Event::ReportSubmitted {
        integration: int(),
        report: report(),
        at: 1,
    };
    let bytes = encode_authenticated(&e, &key);
    assert_eq!(
        open(&bytes, &key).unwrap(),
        (e.clone(), Provenance::Authenticated)
    );
    for i in [0, 1, 20, 33, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[i] ^= 1;
        assert!(open(&flipped, &key).is_err(), "byte {i} flipped");
    }
    let other = crate::keys::DeploymentKey::from_bytes([8; 32]).events();
    assert!(matches!(open(&bytes, &other), Err(DecodeError::Forged)));
    assert!(matches!(open(&bytes[..20], &key), Err(DecodeError::Forged)));
    assert_eq!(open(&encode(&e), &key).unwrap(), (e, Provenance::Legacy));
}

/// The key taken from the event's own encoding is the one encoding the parts gives,
/// whatever the width of `at`'s varint and the number of reports; every other event
/// keeps its own key. (Both variants' indices are below 128, one byte; the scan in
/// `encode_keyed` reads a varint of any width.)
#[test]
fn one_encoding_gives_the_same_key() {
    let key = crate::keys::DeploymentKey::from_bytes([7; 32]).events();
    let mut events = Vec::new();
    for at in [0, 1, 127, 128, 1_780_000_000_000, u64::MAX] {
        events.push(Event::ReportSubmitted {
            integration: int(),
            report: report(),
            at,
        });
        for n in [0, 1, 3] {
            events.push(Event::BatchSubmitted {
                integration: int(),
                reports: vec![report(); n],
                at,
            });
        }
    }
    events.extend(one_of_each());
    for e in &events {
        assert_eq!(
            encode_keyed(e, &key),
            (encode_authenticated(e, &key), e.dedupe_key()),
            "{e:?}"
        );
    }
}
