//! The domain report: what a CI run says about one commit, validated. Free-text fields
//! are plain strings here; they are redacted when the event carrying them is sealed.

use crate::domain::{Branch, CommitSha, HealthStatus, Invalid, Name, RuleId, Scope, Severity};
use crate::wire::{CiContextIn, ReportIn, ScopeIn};
use serde::{Deserialize, Serialize};

/// A request value that failed validation: the JSON path of the field and why.
/// Never carries the rejected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Attaches the field path to a domain validation error.
pub(crate) fn at<T>(
    field: impl FnOnce() -> String,
    r: Result<T, Invalid>,
) -> Result<T, FieldError> {
    r.map_err(|Invalid(m)| FieldError::new(field(), m))
}

/// Upper bounds that keep one report within what a person can read and a store can
/// hold, and its cost bounded: each failing (rule, scope) is an alert to open, index,
/// count and list in a notification.
pub const MAX_CELLS: usize = 5_000;
pub const MAX_RESULTS: usize = 5_000;
pub const MAX_FAILURES: usize = 1_000;
pub const MAX_TEXT: usize = 4_096;
/// Most reports in one batch.
pub const MAX_BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub commit: CommitSha,
    /// None for a report sent without a branch (see [`Report::batch_from_wire`]).
    #[serde(with = "crate::domain::optional_branch")]
    pub branch: Option<Branch>,
    pub commit_timestamp: Option<u64>,
    pub cli_version: String,
    pub summary: Summary,
    pub drift: Vec<Drift>,
    pub policy_results: Vec<PolicyResult>,
    pub ci_context: Option<CiContext>,
    /// How many matches the redaction chokepoint replaced in this report.
    pub secrets_redacted: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files_scanned: u32,
    pub namespaces: Vec<Name>,
    pub environments: Vec<Name>,
    pub cells: Vec<Cell>,
    pub violations: u32,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub namespace: Name,
    pub environment: Name,
    pub health: HealthStatus,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub namespace: Name,
    pub is_drifted: bool,
    pub drift_count: Option<u32>,
    pub severity: Option<Severity>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub rule_id: RuleId,
    pub rule_name: String,
    pub passed: bool,
    pub severity: Severity,
    pub message: String,
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiContext {
    pub provider: String,
    pub pipeline_url: Option<String>,
    pub trigger: Option<String>,
}

/// At most [`MAX_FAILURES`] failing results (distinct rule and scope), each of which
/// opens an alert; `field` names where the results came from.
pub(crate) fn few_failures(results: &[PolicyResult], field: &str) -> Result<(), FieldError> {
    let failing: std::collections::BTreeSet<(&RuleId, &Scope)> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| (&r.rule_id, &r.scope))
        .collect();
    if failing.len() > MAX_FAILURES {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_FAILURES} failing results (distinct rule and scope) per report"),
        ));
    }
    Ok(())
}

impl Report {
    /// Validates a wire report. `prefix` is the JSON path of the report in its request
    /// (`""` or `"reports[3]."`); `collect_ci` drops the CI context when false.
    pub fn from_wire(w: ReportIn, prefix: &str, collect_ci: bool) -> Result<Self, FieldError> {
        let p = |f: &str| format!("{prefix}{f}");
        let s = w.summary;
        if s.cells.len() > MAX_CELLS {
            return Err(FieldError::new(
                p("summary.cells"),
                format!("at most {MAX_CELLS} cells"),
            ));
        }
        if w.policy_results.len() > MAX_RESULTS {
            return Err(FieldError::new(
                p("policyResults"),
                format!("at most {MAX_RESULTS} results"),
            ));
        }
        let names = |field: &str, v: Vec<String>| -> Result<Vec<Name>, FieldError> {
            v.iter()
                .enumerate()
                .map(|(i, n)| at(|| p(&format!("{field}[{i}]")), Name::parse(n)))
                .collect()
        };
        let summary = Summary {
            files_scanned: s.files_scanned,
            namespaces: names("summary.namespaces", s.namespaces)?,
            environments: names("summary.environments", s.environments)?,
            cells: s
                .cells
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let f = |n: &str| p(&format!("summary.cells[{i}].{n}"));
                    Ok(Cell {
                        namespace: at(|| f("namespace"), Name::parse(&c.namespace))?,
                        environment: at(|| f("environment"), Name::parse(&c.environment))?,
                        health: c.health_status,
                        description: text(|| f("description"), c.description)?,
                    })
                })
                .collect::<Result<_, FieldError>>()?,
            violations: s.violations,
            passed: s.passed,
        };
        let drift = w
            .drift
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let f = |n: &str| p(&format!("drift[{i}].{n}"));
                Ok(Drift {
                    namespace: at(|| f("namespace"), Name::parse(&d.namespace))?,
                    is_drifted: d.is_drifted,
                    drift_count: d.drift_count,
                    severity: d.severity,
                    summary: d.summary.map(|s| text(|| f("summary"), s)).transpose()?,
                })
            })
            .collect::<Result<_, FieldError>>()?;
        let policy_results: Vec<PolicyResult> = w
            .policy_results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let f = |n: &str| p(&format!("policyResults[{i}].{n}"));
                let scope = match r.scope {
                    None => Ok(Scope::Global),
                    Some(ScopeIn::Text(s)) => Scope::parse(&s),
                    Some(ScopeIn::Parts(s)) => {
                        Scope::from_parts(s.namespace.as_deref(), s.environment.as_deref())
                    }
                };
                let rule_id = at(|| f("ruleId"), RuleId::parse(&r.rule_id))?;
                Ok(PolicyResult {
                    rule_name: text(
                        || f("ruleName"),
                        r.rule_name.unwrap_or_else(|| rule_id.to_string()),
                    )?,
                    rule_id,
                    passed: r.passed,
                    severity: r.severity,
                    message: text(|| f("message"), r.message)?,
                    scope: at(|| f("scope"), scope)?,
                })
            })
            .collect::<Result<_, FieldError>>()?;
        few_failures(&policy_results, &p("policyResults"))?;
        let ci_context = match w.ci_context {
            Some(ci) if collect_ci => Some(ci_context(ci, &p("ciContext"))?),
            _ => None,
        };
        Ok(Report {
            commit: at(|| p("commitSha"), CommitSha::parse(&w.commit_sha))?,
            branch: at(|| p("branch"), Branch::parse_optional(&w.branch))?,
            commit_timestamp: w.commit_timestamp,
            cli_version: text(|| p("cliVersion"), w.cli_version.unwrap_or_default())?,
            summary,
            drift,
            policy_results,
            ci_context,
            secrets_redacted: 0,
        })
    }

    /// Validates a batch, oldest to newest. A report with an empty branch is an
    /// ancestor of HEAD (the Clef CLI backfills without knowing branches), so it takes
    /// the branch of the batch's HEAD.
    pub fn batch_from_wire(
        reports: Vec<ReportIn>,
        collect_ci: bool,
    ) -> Result<Vec<Self>, FieldError> {
        if reports.is_empty() || reports.len() > MAX_BATCH {
            return Err(FieldError::new(
                "reports",
                format!("must hold 1 to {MAX_BATCH} reports"),
            ));
        }
        let mut out = reports
            .into_iter()
            .enumerate()
            .map(|(i, r)| Self::from_wire(r, &format!("reports[{i}]."), collect_ci))
            .collect::<Result<Vec<_>, _>>()?;
        let head_branch = out.last().and_then(|h| h.branch.clone());
        for r in &mut out {
            if r.branch.is_none() {
                r.branch.clone_from(&head_branch);
            }
        }
        Ok(out)
    }

    /// The failing results, one per alert identity (rule, scope): duplicates in one
    /// report count once, at their highest severity, with that result's message.
    pub fn failures(&self) -> std::collections::BTreeMap<(RuleId, Scope), &PolicyResult> {
        let mut out = std::collections::BTreeMap::new();
        for r in self.policy_results.iter().filter(|r| !r.passed) {
            out.entry((r.rule_id.clone(), r.scope.clone()))
                .and_modify(|cur: &mut &PolicyResult| {
                    if r.severity > cur.severity {
                        *cur = r;
                    }
                })
                .or_insert(r);
        }
        out
    }
}

fn ci_context(ci: CiContextIn, p: &str) -> Result<CiContext, FieldError> {
    Ok(CiContext {
        provider: text(|| format!("{p}.provider"), ci.provider)?,
        pipeline_url: ci
            .pipeline_url
            .map(|u| text(|| format!("{p}.pipelineUrl"), u))
            .transpose()?,
        trigger: ci
            .trigger
            .map(|t| text(|| format!("{p}.trigger"), t))
            .transpose()?,
    })
}

/// A free-text field: at most [`MAX_TEXT`] bytes, no control characters but newline and tab.
pub fn text(field: impl FnOnce() -> String, s: String) -> Result<String, FieldError> {
    if s.len() > MAX_TEXT {
        return Err(FieldError::new(
            field(),
            format!("at most {MAX_TEXT} bytes"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(
            field(),
            "must not contain control characters",
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(json: serde_json::Value) -> ReportIn {
        serde_json::from_value(json).unwrap()
    }

    fn example() -> serde_json::Value {
        serde_json::json!({
            "commitSha": "a".repeat(40), "branch": "main", "commitTimestamp": 1700000000000u64,
            "cliVersion": "0.1.30",
            "summary": {"filesScanned": 9, "namespaces": ["database", "oauth"],
                "environments": ["development", "production"],
                "cells": [{"namespace": "oauth", "environment": "production",
                    "healthStatus": "healthy", "description": "4 keys, 3 recipients, rotated 12d ago"}],
                "violations": 1, "passed": false},
            "drift": [{"namespace": "database", "isDrifted": true, "driftCount": 2}],
            "policyResults": [{"ruleId": "missing_keys", "ruleName": "Missing encryption keys",
                "passed": false, "severity": "critical", "message": "...",
                "scope": {"namespace": "oauth", "environment": "production"}}],
            "ciContext": {"provider": "github-actions", "pipelineUrl": "https://ci/1", "trigger": "push"}
        })
    }

    #[test]
    fn the_contract_example_parses() {
        let r = Report::from_wire(wire(example()), "", true).unwrap();
        assert_eq!(r.policy_results[0].scope.to_string(), "oauth/production");
        assert_eq!(r.ci_context.unwrap().provider, "github-actions");
    }

    #[test]
    fn ci_context_is_dropped_unless_collected() {
        let r = Report::from_wire(wire(example()), "", false).unwrap();
        assert!(r.ci_context.is_none());
    }

    #[test]
    fn accepted_variants() {
        let mut j = example();
        j["ci"] = j["ciContext"].take();
        j.as_object_mut().unwrap().remove("ciContext");
        j["drift"][0] = serde_json::json!({"namespace": "database", "isDrifted": true,
            "severity": "warning", "summary": "Development has an additional recipient"});
        j["policyResults"][0]["scope"] = "oauth".into();
        let r = Report::from_wire(wire(j), "", true).unwrap();
        assert_eq!(r.policy_results[0].scope, Scope::parse("oauth").unwrap());
        assert!(r.ci_context.is_some());
        assert_eq!(r.drift[0].severity, Some(Severity::Warning));
    }

    #[test]
    fn an_empty_branch_is_none_alone_and_heads_branch_in_a_batch() {
        let mut ancestor = example();
        ancestor["branch"] = "".into();
        let single = Report::from_wire(wire(ancestor.clone()), "", true).unwrap();
        assert_eq!(single.branch, None);

        let mut head = example();
        head["commitSha"] = "b".repeat(40).into();
        let batch = vec![wire(ancestor.clone()), wire(ancestor.clone()), wire(head)];
        let reports = Report::batch_from_wire(batch, true).unwrap();
        assert!(
            reports
                .iter()
                .all(|r| r.branch.as_ref().unwrap().as_str() == "main")
        );

        let headless = vec![wire(ancestor.clone()), wire(ancestor)];
        let reports = Report::batch_from_wire(headless, true).unwrap();
        assert!(reports.iter().all(|r| r.branch.is_none()));
        assert_eq!(
            Report::batch_from_wire(Vec::new(), true).unwrap_err().field,
            "reports"
        );
    }

    #[test]
    fn a_report_without_a_branch_encodes_as_the_empty_string_it_was_sent_as() {
        let mut j = example();
        j["branch"] = "".into();
        let r = Report::from_wire(wire(j), "", true).unwrap();
        let bytes = postcard::to_allocvec(&r).unwrap();
        let mut with = r.clone();
        with.branch = Some(Branch::parse("m").unwrap());
        let longer = postcard::to_allocvec(&with).unwrap();
        // The branch is a length-prefixed string either way: "" is one byte shorter than "m".
        assert_eq!(bytes.len() + 1, longer.len());
        assert_eq!(postcard::from_bytes::<Report>(&bytes).unwrap(), r);
    }

    #[test]
    fn a_report_may_fail_at_most_max_failures_rules_and_scopes() {
        let result = |i: usize, passed: bool| serde_json::json!({"ruleId": format!("r{i}"), "passed": passed, "severity": "error", "scope": "oauth"});
        let mut j = example();
        j["policyResults"] = (0..MAX_FAILURES).map(|i| result(i, false)).collect();
        assert!(Report::from_wire(wire(j.clone()), "", true).is_ok());
        j["policyResults"] = (0..=MAX_FAILURES).map(|i| result(i, false)).collect();
        let e = Report::from_wire(wire(j.clone()), "reports[1].", true).unwrap_err();
        assert_eq!(e.field, "reports[1].policyResults");
        assert!(
            e.message.contains(&MAX_FAILURES.to_string()),
            "{}",
            e.message
        );
        // Passing results and repeats of one identity do not count.
        j["policyResults"] = (0..MAX_RESULTS)
            .map(|i| result(i % 10, i % 2 == 0))
            .collect();
        assert!(Report::from_wire(wire(j), "", true).is_ok());
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut j = example();
        j["summary"]["cells"][0]["namespace"] = "bad name".into();
        let e = Report::from_wire(wire(j), "reports[2].", true).unwrap_err();
        assert_eq!(e.field, "reports[2].summary.cells[0].namespace");
    }

    #[test]
    fn duplicate_failures_count_once_at_highest_severity() {
        let mut j = example();
        let r0 = j["policyResults"][0].clone();
        let mut r1 = r0.clone();
        r1["severity"] = "warning".into();
        let mut passing = r0.clone();
        passing["passed"] = true.into();
        j["policyResults"] = serde_json::json!([r1, r0, passing]);
        let r = Report::from_wire(wire(j), "", true).unwrap();
        let f = r.failures();
        assert_eq!(f.len(), 1);
        assert_eq!(f.values().next().unwrap().severity, Severity::Critical);
    }
}
