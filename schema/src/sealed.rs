//! The redaction chokepoint. [`seal`] passes every free-text field of an event through
//! the [`Redactor`] and returns a [`Sealed`] event; the log appends only `Sealed`
//! values, and `seal` is the only constructor, so "the redactor ran" is checked by the
//! compiler. Structured fields (ids, shas, names, enums, numbers) are validated by
//! format when they are parsed and are not redacted.

use crate::domain::{Identifier, RuleId, Scope, Severity};
use crate::event::{Event, encode_authenticated, encode_keyed};
use crate::keys::PurposeKey;
use crate::redact::{Finding, Fingerprint, Redactor};
use crate::report::{PolicyResult, Report};

/// An event whose free text has passed the redactor. Constructed only by [`seal`].
#[derive(Debug, Clone)]
pub struct Sealed {
    event: Event,
    redactions: Vec<Redaction>,
}

/// One replaced match: the field it was in and its fingerprint. Never the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub field: &'static str,
    pub class: &'static str,
    pub fingerprint: Fingerprint,
}

impl Sealed {
    pub fn event(&self) -> &Event {
        &self.event
    }

    pub fn redactions(&self) -> &[Redaction] {
        &self.redactions
    }

    /// The reports the event carries, as redacted: one for a single report, each of a
    /// batch, none for any other event.
    pub fn reports(&self) -> &[Report] {
        match &self.event {
            Event::ReportSubmitted { report, .. } => std::slice::from_ref(report),
            Event::BatchSubmitted { reports, .. } => reports,
            _ => &[],
        }
    }

    /// The authenticated encoding that the log stores, tagged under the deployment's
    /// event key.
    pub fn encode(&self, key: &PurposeKey) -> Vec<u8> {
        encode_authenticated(&self.event, key)
    }

    /// [`Sealed::encode`] and the key the log deduplicates the event by, from one
    /// encoding ([`crate::event::encode_keyed`]).
    pub fn encode_keyed(&self, key: &PurposeKey) -> (Vec<u8>, [u8; 32]) {
        encode_keyed(&self.event, key)
    }
}

/// Redacts every free-text field of `event`, with `redactor`'s fingerprint key. Each
/// report that had matches gets its `secrets_redacted` count and a failing critical
/// result of the built-in rule [`RuleId::secret_redacted`], naming the fields and
/// fingerprints, never the values.
pub fn seal(mut event: Event, redactor: &Redactor) -> Sealed {
    let mut redactions = Vec::new();
    match &mut event {
        Event::ReportSubmitted { report, .. } => seal_report(redactor, report, &mut redactions),
        Event::BatchSubmitted { reports, .. } => {
            for report in reports {
                seal_report(redactor, report, &mut redactions);
            }
        }
        other => visit_text(other, &mut |field, s| {
            redact_into(redactor, field, s, &mut redactions)
        }),
    }
    Sealed { event, redactions }
}

/// Seals an event that has no free text and no name at all (such as the log's own
/// [`Event::LegacyTrusted`]), for parts of the service that hold no redactor. `None`
/// for any event with a field the redactor would look at.
pub fn seal_without_text(mut event: Event) -> Option<Sealed> {
    let mut fields = 0;
    if let Event::ReportSubmitted { .. } | Event::BatchSubmitted { .. } = event {
        return None;
    }
    visit_text(&mut event, &mut |_, _| fields += 1);
    (fields == 0).then_some(Sealed {
        event,
        redactions: Vec::new(),
    })
}

fn seal_report(redactor: &Redactor, report: &mut Report, all: &mut Vec<Redaction>) {
    let mut found = Vec::new();
    visit_report_text(report, &mut |field, s| {
        redact_into(redactor, field, s, &mut found)
    });
    if found.is_empty() {
        return;
    }
    report.secrets_redacted = u32::try_from(found.len()).unwrap_or(u32::MAX);
    let mut fields: Vec<&str> = found.iter().map(|r| r.field).collect();
    fields.dedup();
    let fps: Vec<&str> = found.iter().map(|r| r.fingerprint.as_str()).collect();
    report.policy_results.push(PolicyResult {
        rule_id: RuleId::secret_redacted(),
        rule_name: "No secret-shaped text in reports".into(),
        passed: false,
        severity: Severity::Critical,
        message: format!(
            "{} secret-shaped string(s) redacted from {} (fingerprints {})",
            found.len(),
            fields.join(", "),
            fps.join(", ")
        ),
        scope: Scope::Global,
    });
    all.extend(found);
}

/// A field the chokepoint checks: free text (matches replaced inline) or a structured
/// name (replaced whole when it holds a match).
enum Slot<'a> {
    Text(&'a mut String),
    Id(&'a mut dyn Identifier),
    /// JSON text (a policy's params): each string in it, keys included, is redacted as
    /// the text it decodes to, so escaping (`\"`, `\n`) hides nothing from the
    /// detector. Text that is not JSON is redacted as plain text.
    Json(&'a mut String),
}

fn redact_into(redactor: &Redactor, field: &'static str, slot: Slot<'_>, out: &mut Vec<Redaction>) {
    let mut findings: Vec<Finding> = Vec::new();
    match slot {
        Slot::Text(s) => {
            let redacted = redactor.redact(s, &mut findings);
            if !findings.is_empty() {
                *s = redacted.into_owned();
            }
        }
        Slot::Id(id) => {
            redactor.redact(id.as_str(), &mut findings);
            if let Some(first) = findings.first() {
                let fp = first.fingerprint.as_str().to_owned();
                id.replace_with_redacted(&fp);
            }
        }
        Slot::Json(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(mut v) => {
                redact_json(redactor, &mut v, &mut findings);
                if !findings.is_empty() {
                    *s = v.to_string();
                }
            }
            Err(_) => return redact_into(redactor, field, Slot::Text(s), out),
        },
    }
    out.extend(findings.into_iter().map(|f| Redaction {
        field,
        class: f.class,
        fingerprint: f.fingerprint,
    }));
}

/// Redacts every string of a JSON value in place, object keys included.
fn redact_json(redactor: &Redactor, v: &mut serde_json::Value, findings: &mut Vec<Finding>) {
    use serde_json::Value;
    let text = |s: &str, findings: &mut Vec<Finding>| redactor.redact(s, findings).into_owned();
    match v {
        Value::String(s) => *s = text(s, findings),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| redact_json(redactor, i, findings)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut item) in entries {
                redact_json(redactor, &mut item, findings);
                map.insert(text(&k, findings), item);
            }
        }
        _ => {}
    }
}

/// Calls `f` with every free-text field and structured name of an event.
fn visit_text(event: &mut Event, f: &mut dyn FnMut(&'static str, Slot<'_>)) {
    use Slot::{Id, Text};
    match event {
        Event::IntegrationCreated {
            name,
            tracked_branches,
            ..
        } => {
            f("name", Text(name));
            tracked_branches
                .iter_mut()
                .for_each(|b| f("trackedBranches", Id(b)));
        }
        Event::IntegrationConfigured {
            tracked_branches, ..
        } => {
            tracked_branches
                .iter_mut()
                .flatten()
                .for_each(|b| f("trackedBranches", Id(b)));
        }
        Event::IntegrationConfiguredV2 {
            tracked_branches,
            file_pattern,
            ..
        } => {
            tracked_branches
                .iter_mut()
                .flatten()
                .for_each(|b| f("trackedBranches", Id(b)));
            if let Some(p) = file_pattern {
                f("filePattern", Text(p));
            }
        }
        Event::IntegrationRenamed { name, .. } => f("name", Text(name)),
        Event::KeyIssued { label, .. }
        | Event::TokenIssued { label, .. }
        | Event::SessionStarted { label, .. } => f("label", Text(label)),
        Event::Audited { actor, event } => {
            f("actor", Text(&mut actor.label));
            visit_text(event, f);
        }
        Event::PoliciesSet { policies, .. } => {
            for p in policies {
                f("policies.ruleId", Id(&mut p.rule_id));
                f("policies.ruleName", Text(&mut p.rule_name));
                f("policies.params", Slot::Json(&mut p.params));
            }
        }
        Event::AlertAcknowledged { by, .. } => f("acknowledgedBy", Text(by)),
        Event::NotificationDelivered { message_id, .. } => f("messageId", Text(message_id)),
        Event::NotificationFailed { reason, .. } => f("reason", Text(reason)),
        Event::ReportSubmitted { report, .. } => visit_report_text(report, f),
        Event::BatchSubmitted { reports, .. } => {
            reports.iter_mut().for_each(|r| visit_report_text(r, f))
        }
        Event::KeyRevoked { .. }
        | Event::NotificationsSet { .. }
        | Event::NotificationsSetV2 { .. }
        | Event::LegacyTrusted { .. }
        | Event::TokenRevoked { .. }
        | Event::SessionEnded { .. }
        | Event::SignInFailed { .. } => {}
    }
}

fn visit_scope(scope: &mut Scope, f: &mut dyn FnMut(&'static str, Slot<'_>)) {
    match scope {
        Scope::Global => {}
        Scope::Namespace(ns) => f("policyResults.scope", Slot::Id(ns)),
        Scope::Cell(ns, env) => {
            f("policyResults.scope", Slot::Id(ns));
            f("policyResults.scope", Slot::Id(env));
        }
    }
}

fn visit_report_text(r: &mut Report, f: &mut dyn FnMut(&'static str, Slot<'_>)) {
    use Slot::{Id, Text};
    if let Some(b) = &mut r.branch {
        f("branch", Id(b));
    }
    f("cliVersion", Text(&mut r.cli_version));
    r.summary
        .namespaces
        .iter_mut()
        .for_each(|n| f("summary.namespaces", Id(n)));
    r.summary
        .environments
        .iter_mut()
        .for_each(|n| f("summary.environments", Id(n)));
    for c in &mut r.summary.cells {
        f("summary.cells.namespace", Id(&mut c.namespace));
        f("summary.cells.environment", Id(&mut c.environment));
        f("summary.cells.description", Text(&mut c.description));
    }
    for d in &mut r.drift {
        f("drift.namespace", Id(&mut d.namespace));
        if let Some(s) = &mut d.summary {
            f("drift.summary", Text(s));
        }
    }
    for p in &mut r.policy_results {
        f("policyResults.ruleId", Id(&mut p.rule_id));
        f("policyResults.ruleName", Text(&mut p.rule_name));
        f("policyResults.message", Text(&mut p.message));
        visit_scope(&mut p.scope, f);
    }
    if let Some(ci) = &mut r.ci_context {
        f("ciContext.provider", Text(&mut ci.provider));
        if let Some(u) = &mut ci.pipeline_url {
            f("ciContext.pipelineUrl", Text(u));
        }
        if let Some(t) = &mut ci.trigger {
            f("ciContext.trigger", Text(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Branch, CommitSha};
    use crate::ids::IntegrationId;
    use crate::report::Summary;

    const AWS: &str = "AKIAZ2Q7V4X9LM3PW8RT";

    fn key() -> crate::keys::PurposeKey {
        crate::keys::DeploymentKey::from_bytes([3; 32]).fingerprints()
    }

    fn seal(e: Event) -> Sealed {
        super::seal(e, &Redactor::new(key()))
    }

    fn report(msg: &str) -> Report {
        Report {
            commit: CommitSha::parse(&"1".repeat(40)).unwrap(),
            branch: Some(Branch::parse("main").unwrap()),
            commit_timestamp: None,
            cli_version: "0.1.30".into(),
            summary: Summary {
                files_scanned: 0,
                namespaces: vec![],
                environments: vec![],
                cells: vec![],
                violations: 0,
                passed: true,
            },
            drift: vec![],
            policy_results: vec![PolicyResult {
                rule_id: RuleId::parse("r").unwrap(),
                rule_name: "r".into(),
                passed: true,
                severity: Severity::Info,
                message: msg.into(),
                scope: Scope::Global,
            }],
            ci_context: None,
            secrets_redacted: 0,
        }
    }

    #[test]
    fn a_planted_key_is_replaced_counted_and_raises_the_builtin_rule() {
        let ev = Event::ReportSubmitted {
            integration: IntegrationId::random(),
            report: report(&format!("leaked {AWS} here")),
            at: 0,
        };
        let sealed = seal(ev);
        let bytes = sealed.encode(&crate::keys::DeploymentKey::random().events());
        assert!(!bytes.windows(AWS.len()).any(|w| w == AWS.as_bytes()));
        let Event::ReportSubmitted { report, .. } = sealed.event() else {
            unreachable!()
        };
        assert_eq!(report.secrets_redacted, 1);
        let fp = Fingerprint::keyed(&key(), AWS);
        assert_eq!(
            report.policy_results[0].message,
            format!("leaked <REDACTED:fingerprint={}> here", fp.as_str())
        );
        let builtin = &report.policy_results[1];
        assert_eq!(builtin.rule_id, RuleId::secret_redacted());
        assert!(!builtin.passed);
        assert!(
            builtin.message.contains(fp.as_str())
                && builtin.message.contains("policyResults.message")
        );
        assert_eq!(sealed.redactions().len(), 1);
    }

    /// Params are JSON: escaping hides nothing, keys are checked, and the result is
    /// still the same JSON shape.
    #[test]
    fn policy_params_are_redacted_string_by_string() {
        let k8s = "kind: Secret\ndata:\n  password: aHVudGVyMmh1bnRlcjI=\n";
        let params = serde_json::json!({
            "hint": format!("var apiToken string = \"{AWS}\""),
            "nested": [k8s, {AWS: 1}],
            "min": 2,
        });
        let ev = Event::PoliciesSet {
            integration: IntegrationId::random(),
            policies: vec![crate::event::Policy {
                rule_id: RuleId::parse("r").unwrap(),
                rule_name: "r".into(),
                severity: Severity::Info,
                params: params.to_string(),
            }],
            at: 0,
        };
        let sealed = seal(ev);
        let Event::PoliciesSet { policies, .. } = sealed.event() else {
            unreachable!()
        };
        let out = &policies[0].params;
        for secret in [AWS, "aHVudGVyMmh1bnRlcjI="] {
            assert!(!out.contains(secret), "{out}");
        }
        let back: serde_json::Value = serde_json::from_str(out).unwrap();
        assert_eq!(back["min"], 2);
        assert_eq!(sealed.redactions().len(), 3, "{out}");
    }

    #[test]
    fn a_secret_in_a_structured_name_replaces_the_name_whole() {
        let mut r = report("fine");
        r.branch = Some(Branch::parse(AWS).unwrap());
        let ev = Event::ReportSubmitted {
            integration: IntegrationId::random(),
            report: r,
            at: 0,
        };
        let sealed = seal(ev);
        let Event::ReportSubmitted { report, .. } = sealed.event() else {
            unreachable!()
        };
        assert_eq!(
            report.branch.as_ref().unwrap().as_str(),
            format!("redacted-{}", Fingerprint::keyed(&key(), AWS).as_str())
        );
        assert_eq!(report.secrets_redacted, 1);
        assert_eq!(sealed.redactions()[0].field, "branch");
    }

    #[test]
    fn clean_reports_are_untouched() {
        let ev = Event::ReportSubmitted {
            integration: IntegrationId::random(),
            report: report("fine"),
            at: 0,
        };
        let sealed = seal(ev.clone());
        assert_eq!(sealed.event(), &ev);
        assert!(sealed.redactions().is_empty());
    }
}
