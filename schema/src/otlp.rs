//! `clef report --push`: the shipped Clef CLI sends its report as OpenTelemetry logs
//! (OTLP/HTTP, JSON). This maps such a request to the same [`Report`] the REST API
//! builds, by an allow-list: only the attributes named below are read; everything else
//! (log bodies, `clef.file`, `clef.key`, `clef.fixCommand`, any unknown attribute) is
//! dropped here, before anything can be written. A file path may be matched against
//! the integration's file pattern to find a cell, in memory only.
//!
//! Read: resource `service.name` (= `clef-cli`), `service.version`, `clef.repo.commit`,
//! `clef.repo.branch`; records with `event.name` = `clef.report.summary`
//! (`clef.errorCount`, `clef.warningCount`, `clef.infoCount`, `clef.matrixCells`,
//! `clef.passed`) or `clef.report.issue` (`clef.severity`, `clef.category`,
//! `clef.message`, `clef.namespace`, `clef.environment`; `clef.file` and `clef.key` to
//! locate and scrub only).

use crate::domain::{Branch, CommitSha, HealthStatus, Name, RuleId, Scope, Severity};
use crate::report::{
    Cell, FieldError, MAX_RESULTS, PolicyResult, Report, Summary, at, few_failures, text,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An attribute value of the OTLP `AnyValue` shape: string, int (JSON string or
/// number), bool or double.
fn attr<'a>(attrs: &'a [Value], key: &str) -> Option<&'a Value> {
    attrs.iter().find(|a| a["key"] == key).map(|a| &a["value"])
}

fn attr_str<'a>(attrs: &'a [Value], key: &str) -> Option<&'a str> {
    attr(attrs, key)?.get("stringValue")?.as_str()
}

fn attr_int(attrs: &[Value], key: &str) -> Option<u64> {
    let v = attr(attrs, key)?.get("intValue")?;
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

fn attr_bool(attrs: &[Value], key: &str) -> Option<bool> {
    attr(attrs, key)?.get("boolValue")?.as_bool()
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A compiled `{namespace}/{environment}` file pattern.
pub struct FilePattern(regex::Regex);

impl FilePattern {
    /// Literal text matches itself; `{namespace}` and `{environment}` match one path
    /// segment each; the pattern matches at the end of a path, after a `/`.
    pub fn compile(pattern: &str) -> Option<Self> {
        let mut re = String::from(r"(?:^|/)");
        let mut rest = pattern;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("{namespace}") {
                re.push_str(r"(?P<ns>[^/]+)");
                rest = r;
            } else if let Some(r) = rest.strip_prefix("{environment}") {
                re.push_str(r"(?P<env>[^/]+?)");
                rest = r;
            } else {
                let c = rest.chars().next()?;
                re.push_str(&regex::escape(&c.to_string()));
                rest = &rest[c.len_utf8()..];
            }
        }
        re.push('$');
        regex::Regex::new(&re).ok().map(Self)
    }

    /// The (namespace, environment) a path names, if it matches.
    fn cell(&self, path: &str) -> Option<(String, Option<String>)> {
        let c = self.0.captures(path)?;
        Some((
            c.name("ns")?.as_str().to_owned(),
            c.name("env").map(|e| e.as_str().to_owned()),
        ))
    }
}

fn severity(s: &str) -> Severity {
    match s {
        "critical" => Severity::Critical,
        "error" => Severity::Error,
        "warning" | "warn" => Severity::Warning,
        _ => Severity::Info,
    }
}

/// Replaces every occurrence of `needle` (a key name or a path the request gave) in
/// `text`, so that a message cannot carry what its attributes are not allowed to.
fn scrub(text: &mut String, needle: Option<&str>, with: &str) {
    if let Some(n) = needle.filter(|n| n.len() >= 2) {
        *text = text.replace(n, with);
    }
}

/// Maps an `ExportLogsServiceRequest` to a report. `pattern` places issues that carry
/// only a file path.
pub fn report(req: &Value, pattern: Option<&FilePattern>) -> Result<Report, FieldError> {
    let resource_logs = list(req, "resourceLogs");
    let first = resource_logs
        .first()
        .ok_or_else(|| FieldError::new("resourceLogs", "must hold one resource"))?;
    let rattrs = list(&first["resource"], "attributes");
    let field = |k: &str| format!("resourceLogs[0].resource.attributes.{k}");
    if attr_str(rattrs, "service.name") != Some("clef-cli") {
        return Err(FieldError::new(field("service.name"), "must be clef-cli"));
    }
    let commit = attr_str(rattrs, "clef.repo.commit").filter(|c| !c.is_empty()).ok_or_else(|| {
        FieldError::new(
            field("clef.repo.commit"),
            "only `clef report --push` is accepted: this request carries no commit (`clef lint --push` and `clef drift --push` are not stored)",
        )
    })?;
    // Gap-filled commits come without a branch: they are stored branchless, drive no
    // alerts, and join the history of the next tracked HEAD (the matrix projection).
    let branch = attr_str(rattrs, "clef.repo.branch").unwrap_or("");
    let mut summary = Summary {
        files_scanned: 0,
        namespaces: Vec::new(),
        environments: Vec::new(),
        cells: Vec::new(),
        violations: 0,
        passed: true,
    };
    let mut results = Vec::new();
    let mut cells: BTreeMap<(Name, Name), (Severity, u32)> = BTreeMap::new();
    let records = resource_logs
        .iter()
        .flat_map(|r| list(r, "scopeLogs"))
        .flat_map(|s| list(s, "logRecords"));
    for (i, rec) in records.enumerate() {
        let a = list(rec, "attributes");
        let f = |k: &str| format!("logRecords[{i}].attributes.{k}");
        match attr_str(a, "event.name") {
            Some("clef.report.summary") => {
                let count = |k| attr_int(a, k).unwrap_or(0);
                summary.violations =
                    u32::try_from(count("clef.errorCount") + count("clef.warningCount"))
                        .unwrap_or(u32::MAX);
                summary.files_scanned =
                    u32::try_from(count("clef.matrixCells")).unwrap_or(u32::MAX);
                summary.passed = attr_bool(a, "clef.passed").unwrap_or(summary.violations == 0);
            }
            Some("clef.report.issue") => {
                if results.len() == MAX_RESULTS {
                    return Err(FieldError::new(
                        "logRecords",
                        format!("at most {MAX_RESULTS} issues per report"),
                    ));
                }
                let sev = severity(attr_str(a, "clef.severity").unwrap_or("info"));
                let category = attr_str(a, "clef.category").unwrap_or("issue");
                let file = attr_str(a, "clef.file");
                let located = file.and_then(|p| pattern?.cell(p));
                let ns = attr_str(a, "clef.namespace")
                    .map(str::to_owned)
                    .or_else(|| located.as_ref().map(|l| l.0.clone()));
                let env = attr_str(a, "clef.environment")
                    .map(str::to_owned)
                    .or_else(|| located.as_ref().and_then(|l| l.1.clone()));
                let scope = at(
                    || f("clef.namespace"),
                    Scope::from_parts(ns.as_deref(), env.as_deref()),
                )?;
                let mut message = text(
                    || f("clef.message"),
                    attr_str(a, "clef.message").unwrap_or("").to_owned(),
                )?;
                scrub(&mut message, attr_str(a, "clef.key"), "<key>");
                scrub(&mut message, file, "<file>");
                let rule_id = at(
                    || f("clef.category"),
                    RuleId::parse(&format!("{category}/{}", sev.as_str())),
                )?;
                if let Scope::Cell(n, e) = &scope {
                    let entry = cells.entry((n.clone(), e.clone())).or_insert((sev, 0));
                    entry.0 = entry.0.max(sev);
                    entry.1 += 1;
                }
                results.push(PolicyResult {
                    rule_name: category.to_owned(),
                    rule_id,
                    passed: false,
                    severity: sev,
                    message,
                    scope,
                });
            }
            _ => {}
        }
    }
    few_failures(&results, "logRecords")?;
    let (mut namespaces, mut environments) = (BTreeSet::new(), BTreeSet::new());
    for ((ns, env), (sev, n)) in cells {
        if namespaces.insert(ns.clone()) {
            summary.namespaces.push(ns.clone());
        }
        if environments.insert(env.clone()) {
            summary.environments.push(env.clone());
        }
        let health = match sev {
            Severity::Critical | Severity::Error => HealthStatus::Critical,
            Severity::Warning => HealthStatus::Warning,
            Severity::Info => HealthStatus::Healthy,
        };
        summary.cells.push(Cell {
            namespace: ns,
            environment: env,
            health,
            description: format!("{n} issue(s)"),
        });
    }
    Ok(Report {
        commit: at(|| field("clef.repo.commit"), CommitSha::parse(commit))?,
        branch: at(|| field("clef.repo.branch"), Branch::parse_optional(branch))?,
        commit_timestamp: None,
        cli_version: text(
            || field("service.version"),
            attr_str(rattrs, "service.version").unwrap_or("").to_owned(),
        )?,
        summary,
        drift: Vec::new(),
        policy_results: results,
        ci_context: None,
        secrets_redacted: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::MAX_FAILURES;
    use serde_json::json;

    fn s(k: &str, v: &str) -> Value {
        json!({"key": k, "value": {"stringValue": v}})
    }

    fn request(branch: &str, issues: Vec<Vec<Value>>) -> Value {
        let mut records = vec![
            json!({"attributes": [s("event.name", "clef.report.summary"),
            json!({"key": "clef.errorCount", "value": {"intValue": "1"}}),
            json!({"key": "clef.warningCount", "value": {"intValue": 0}}),
            json!({"key": "clef.passed", "value": {"boolValue": false}})]}),
        ];
        for mut i in issues {
            i.push(s("event.name", "clef.report.issue"));
            records.push(json!({"attributes": i, "body": {"stringValue": "/home/ci/secrets/oauth/production.enc.yaml"}}));
        }
        json!({"resourceLogs": [{"resource": {"attributes": [
            s("service.name", "clef-cli"), s("service.version", "0.1.30"),
            s("clef.repo.origin", "git@github.com:acme/repo.git"),
            s("clef.repo.commit", &"a".repeat(40)), s("clef.repo.branch", branch)]},
            "scopeLogs": [{"logRecords": records}]}]})
    }

    #[test]
    fn an_issue_located_by_path_names_its_cell_and_drops_the_path_and_key() {
        let req = request(
            "main",
            vec![vec![
                s("clef.severity", "error"),
                s("clef.category", "schema"),
                s(
                    "clef.message",
                    "DB_PASSWORD missing in /home/ci/secrets/oauth/production.enc.yaml",
                ),
                s("clef.file", "/home/ci/secrets/oauth/production.enc.yaml"),
                s("clef.key", "DB_PASSWORD"),
            ]],
        );
        let pattern = FilePattern::compile("{namespace}/{environment}.enc.yaml").unwrap();
        let r = report(&req, Some(&pattern)).unwrap();
        assert_eq!(r.policy_results[0].rule_id.as_str(), "schema/error");
        assert_eq!(r.policy_results[0].scope.to_string(), "oauth/production");
        assert_eq!(r.policy_results[0].message, "<key> missing in <file>");
        assert_eq!(r.summary.cells[0].health, HealthStatus::Critical);
        let stored = format!("{r:?}");
        assert!(
            !stored.contains("DB_PASSWORD")
                && !stored.contains("/home/ci")
                && !stored.contains("git@github")
        );
    }

    #[test]
    fn gap_filled_commits_have_no_branch_and_lint_pushes_are_refused() {
        let r = report(&request("", vec![]), None).unwrap();
        assert_eq!(r.branch, None);
        let mut lint = request("main", vec![]);
        lint["resourceLogs"][0]["resource"]["attributes"] = json!([s("service.name", "clef-cli")]);
        let e = report(&lint, None).unwrap_err();
        assert!(e.field.ends_with("clef.repo.commit") && e.message.contains("clef report --push"));
    }

    /// A push holds the limits a REST report does: each issue is a failing result, and
    /// each distinct (category, cell) would open an alert.
    #[test]
    fn a_push_is_held_to_the_limits_of_a_report() {
        let issue = |category: String, ns: String| {
            vec![
                s("clef.severity", "error"),
                s("clef.category", &category),
                s("clef.namespace", &ns),
                s("clef.environment", "production"),
            ]
        };
        let distinct = |n: usize| {
            (0..n)
                .map(|i| issue(format!("c{}", i % 40), format!("ns{}", i / 40)))
                .collect()
        };
        let r = report(&request("main", distinct(MAX_FAILURES)), None).unwrap();
        assert_eq!(r.policy_results.len(), MAX_FAILURES);
        assert_eq!(r.summary.namespaces.len(), MAX_FAILURES / 40);
        let e = report(&request("main", distinct(MAX_FAILURES + 1)), None).unwrap_err();
        assert_eq!(e.field, "logRecords");
        assert!(
            e.message.contains(&MAX_FAILURES.to_string()),
            "{}",
            e.message
        );
        // Results beyond the cap, even all of one rule and scope, are refused too.
        let same: Vec<_> = (0..=MAX_RESULTS)
            .map(|_| issue("c".into(), "ns".into()))
            .collect();
        assert!(report(&request("main", same[..MAX_RESULTS].to_vec()), None).is_ok());
        let e = report(&request("main", same), None).unwrap_err();
        assert!(
            e.message.contains(&MAX_RESULTS.to_string()),
            "{}",
            e.message
        );
    }

    #[test]
    fn without_a_pattern_a_path_places_nothing() {
        let req = request(
            "main",
            vec![vec![
                s("clef.severity", "warning"),
                s("clef.category", "rotation"),
                s("clef.file", "/x/oauth/production.enc.yaml"),
            ]],
        );
        let r = report(&req, None).unwrap();
        assert_eq!(r.policy_results[0].scope, Scope::Global);
        assert!(r.summary.cells.is_empty());
    }
}
