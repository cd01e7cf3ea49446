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

/// A count: absent is `None`; present, it must be an `intValue` of a whole number of
/// at least 0 (a JSON number, or a string as OTLP/JSON writes 64-bit ints).
fn attr_int(attrs: &[Value], key: &str, field: &str) -> Result<Option<u64>, FieldError> {
    let Some(v) = attr(attrs, key) else {
        return Ok(None);
    };
    let n = v.get("intValue");
    n.and_then(|n| n.as_u64().or_else(|| n.as_str()?.parse().ok()))
        .map(Some)
        .ok_or_else(|| FieldError::new(field, "must be an intValue of 0 or more"))
}

/// A flag: absent is `None`; present, it must be a `boolValue`.
fn attr_bool(attrs: &[Value], key: &str, field: &str) -> Result<Option<bool>, FieldError> {
    match attr(attrs, key) {
        None => Ok(None),
        Some(v) => v
            .get("boolValue")
            .and_then(Value::as_bool)
            .map(Some)
            .ok_or_else(|| FieldError::new(field, "must be a boolValue")),
    }
}

/// The array under `key`: absent is empty; anything else but an array is refused.
fn list<'a>(
    v: &'a Value,
    key: &str,
    field: impl Fn() -> String,
) -> Result<&'a [Value], FieldError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(FieldError::new(field(), "must be an array")),
    }
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

/// The CLI's severities (`error`, `warning`, `info`), and clef-pro's own `critical`.
fn severity(s: &str, field: String) -> Result<Severity, FieldError> {
    match s.to_ascii_lowercase().as_str() {
        "critical" => Ok(Severity::Critical),
        "error" => Ok(Severity::Error),
        "warning" | "warn" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        _ => Err(FieldError::new(field, "must be error, warning or info")),
    }
}

/// The CLI's lint names the schema file it could not load (`Could not load schema
/// 'schemas/payments.yaml' for validation.`): a path, which is never stored.
fn scrub_schema_path(text: &mut String) {
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bschema '[^'\r\n]*'").expect("the pattern compiles")
    });
    *text = QUOTED.replace_all(text, "schema '<file>'").into_owned();
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
    // One push is one commit's report: a second resource would be another commit.
    let [first] = list(req, "resourceLogs", || "resourceLogs".into())? else {
        return Err(FieldError::new("resourceLogs", "must hold one resource"));
    };
    let rattrs = list(&first["resource"], "attributes", || {
        "resourceLogs[0].resource.attributes".into()
    })?;
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
    let mut summarised = false;
    let mut cells: BTreeMap<(Name, Name), (Severity, u32)> = BTreeMap::new();
    let mut records = Vec::new();
    for (j, scope) in list(first, "scopeLogs", || "resourceLogs[0].scopeLogs".into())?
        .iter()
        .enumerate()
    {
        records.extend(list(scope, "logRecords", || {
            format!("resourceLogs[0].scopeLogs[{j}].logRecords")
        })?);
    }
    for (i, rec) in records.into_iter().enumerate() {
        let f = |k: &str| format!("logRecords[{i}].attributes.{k}");
        let a = list(rec, "attributes", || format!("logRecords[{i}].attributes"))?;
        match attr_str(a, "event.name") {
            Some("clef.report.summary") => {
                summarised = true;
                let count = |k: &str| attr_int(a, k, &f(k)).map(Option::unwrap_or_default);
                summary.violations =
                    u32::try_from(count("clef.errorCount")? + count("clef.warningCount")?)
                        .unwrap_or(u32::MAX);
                summary.files_scanned =
                    u32::try_from(count("clef.matrixCells")?).unwrap_or(u32::MAX);
                count("clef.infoCount")?;
                summary.passed = attr_bool(a, "clef.passed", &f("clef.passed"))?
                    .unwrap_or(summary.violations == 0);
            }
            Some("clef.report.issue") => {
                if results.len() == MAX_RESULTS {
                    return Err(FieldError::new(
                        "logRecords",
                        format!("at most {MAX_RESULTS} issues per report"),
                    ));
                }
                let sev = severity(
                    attr_str(a, "clef.severity").unwrap_or("info"),
                    f("clef.severity"),
                )?;
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
                scrub_schema_path(&mut message);
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
    // Without a summary record, the issues say it: errors fail the report.
    if !summarised {
        let at_least = |s| {
            results
                .iter()
                .filter(|r: &&PolicyResult| r.severity >= s)
                .count()
        };
        summary.violations = u32::try_from(at_least(Severity::Warning)).unwrap_or(u32::MAX);
        summary.passed = at_least(Severity::Error) == 0;
    }
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

    /// A value of the wrong type or shape is a 422 naming its field, not a default; a
    /// push is one commit, so a second resource is refused, not merged into the first.
    #[test]
    fn malformed_pushes_are_refused_by_field() {
        let summary = |attr: Value| {
            let mut r = request("main", vec![]);
            r["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"][1] = attr;
            report(&r, None).map(|_| ()).unwrap_err().field
        };
        let count = |v: Value| json!({"key": "clef.errorCount", "value": {"intValue": v}});
        for bad in [json!("abc"), json!(-1), json!("-1"), json!(1.5)] {
            assert_eq!(
                summary(count(bad)),
                "logRecords[0].attributes.clef.errorCount"
            );
        }
        assert_eq!(
            summary(json!({"key": "clef.passed", "value": {"stringValue": "yes"}})),
            "logRecords[0].attributes.clef.passed"
        );
        let mut two = request("main", vec![]);
        let other = two["resourceLogs"][0].clone();
        two["resourceLogs"].as_array_mut().unwrap().push(other);
        assert_eq!(report(&two, None).unwrap_err().field, "resourceLogs");
        let mut not_a_list = request("main", vec![]);
        not_a_list["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = json!("x");
        assert_eq!(
            report(&not_a_list, None).unwrap_err().field,
            "resourceLogs[0].scopeLogs[0].logRecords"
        );
    }

    #[test]
    fn severities_are_the_clis_and_a_schema_path_is_scrubbed() {
        let issue = |sev: &str, message: &str| {
            request(
                "main",
                vec![vec![
                    s("clef.severity", sev),
                    s("clef.category", "schema"),
                    s("clef.message", message),
                ]],
            )
        };
        let r = report(
            &issue(
                "WARNING",
                "Could not load schema 'schemas/payments.yaml' for validation.",
            ),
            None,
        )
        .unwrap();
        assert_eq!(r.policy_results[0].severity, Severity::Warning);
        assert_eq!(
            r.policy_results[0].message,
            "Could not load schema '<file>' for validation."
        );
        let e = report(&issue("fatal", "m"), None).unwrap_err();
        assert_eq!(e.field, "logRecords[1].attributes.clef.severity");
    }

    /// Without a summary record, an error-level issue fails the report.
    #[test]
    fn issues_without_a_summary_decide_whether_it_passed() {
        let mut r = request(
            "main",
            vec![vec![
                s("clef.severity", "error"),
                s("clef.category", "schema"),
            ]],
        );
        r["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
            .as_array_mut()
            .unwrap()
            .remove(0);
        let r = report(&r, None).unwrap();
        assert!(!r.summary.passed);
        assert_eq!(r.summary.violations, 1);
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
