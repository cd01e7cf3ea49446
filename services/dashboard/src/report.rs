//! The shown report: the not-latest marker, its summary, the namespace × environment
//! matrix with a drift indicator per namespace row, and its policy results.

use super::html::{self, Esc, short};
use super::page_query::PageQuery;
use super::time::time;
use clef_pro_projections::matrix::StoredReport;
use clef_pro_schema::domain::HealthStatus;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::{Cell, Drift, PolicyResult, Report};
use std::collections::HashMap;

/// Says plainly when the shown report is not the newest one, with a way back to it.
pub fn marker(id: &IntegrationId, q: &PageQuery, s: &StoredReport, latest: bool) -> String {
    if latest {
        return String::new();
    }
    let back = PageQuery {
        commit: None,
        ..q.clone()
    };
    format!(
        r#"<p class="notice old" id="not-latest" role="status"><strong>Not the latest report.</strong> You are viewing commit <code>{}</code> on {}, received {}. <a href="{}">Show the latest report</a></p>"#,
        short(s.report.commit.as_str()),
        Esc(html::branch(s.report.branch.as_ref())),
        time(s.received_at),
        Esc(&back.href(id))
    )
}

pub fn summary(s: &StoredReport) -> String {
    let r = &s.report;
    let verdict = if r.summary.passed {
        r#"<span class="badge pass"><span aria-hidden="true">✓</span> Passed</span>"#.to_owned()
    } else {
        format!(
            r#"<span class="badge fail"><span aria-hidden="true">✖</span> {} violation(s)</span>"#,
            r.summary.violations
        )
    };
    let ci = r
        .ci_context
        .as_ref()
        .map(|c| {
            let provider = Esc(&c.provider);
            match c.pipeline_url.as_deref().filter(|u| u.starts_with("https://")) {
                Some(u) => format!(r#"<div><dt>CI</dt><dd><a href="{}" rel="noreferrer">{provider}</a></dd></div>"#, Esc(u)),
                None => format!("<div><dt>CI</dt><dd>{provider}</dd></div>"),
            }
        })
        .unwrap_or_default();
    format!(
        r#"<dl class="facts" id="shown-report" data-commit="{commit}">
<div><dt>Commit</dt><dd><code title="{commit}">{}</code></dd></div>
<div><dt>Branch</dt><dd>{}</dd></div>
<div><dt>Received</dt><dd>{}</dd></div>
<div><dt>Result</dt><dd>{verdict}</dd></div>
<div><dt>Files scanned</dt><dd>{}</dd></div>
<div><dt>CLI</dt><dd>{}</dd></div>{ci}
</dl>"#,
        short(r.commit.as_str()),
        Esc(html::branch(r.branch.as_ref())),
        time(s.received_at),
        r.summary.files_scanned,
        Esc(&r.cli_version),
        commit = Esc(r.commit.as_str()),
    )
}

/// Names in first-seen order: the summary's list, then any only the cells or drift name.
fn ordered<'a>(
    listed: impl Iterator<Item = &'a str>,
    seen: impl Iterator<Item = &'a str>,
) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in listed.chain(seen) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn drift_cell(d: Option<&Drift>) -> String {
    let Some(d) = d else {
        return r#"<td class="drift none">—<span class="sr-only"> no drift data</span></td>"#
            .to_owned();
    };
    if !d.is_drifted {
        return r#"<td class="drift ok"><span aria-hidden="true">✓</span> In sync</td>"#.to_owned();
    }
    let count = d
        .drift_count
        .map(|n| format!(": {n} key(s)"))
        .unwrap_or_default();
    let severity = d.severity.map(html::severity).unwrap_or_default();
    let summary = d
        .summary
        .as_deref()
        .map(|s| format!(r#"<span class="desc">{}</span>"#, Esc(s)))
        .unwrap_or_default();
    format!(
        r#"<td class="drift drifted"><span aria-hidden="true">⇄</span> Drifted{count} {severity}{summary}</td>"#
    )
}

fn health_cell(c: Option<&&Cell>) -> String {
    match c {
        Some(c) => format!(
            r#"<td class="cell health-{}">{}<span class="desc">{}</span></td>"#,
            c.health.as_str(),
            html::health(c.health),
            Esc(&c.description)
        ),
        None => format!(
            r#"<td class="cell health-unknown">{}<span class="desc">not reported</span></td>"#,
            html::health(HealthStatus::Unknown)
        ),
    }
}

pub fn matrix(r: &Report) -> String {
    let cells = &r.summary.cells;
    let namespaces = ordered(
        r.summary.namespaces.iter().map(|n| n.as_str()),
        cells
            .iter()
            .map(|c| c.namespace.as_str())
            .chain(r.drift.iter().map(|d| d.namespace.as_str())),
    );
    let environments = ordered(
        r.summary.environments.iter().map(|n| n.as_str()),
        cells.iter().map(|c| c.environment.as_str()),
    );
    let by_cell: HashMap<(&str, &str), &Cell> = cells
        .iter()
        .map(|c| ((c.namespace.as_str(), c.environment.as_str()), c))
        .collect();
    let by_ns: HashMap<&str, &Drift> = r.drift.iter().map(|d| (d.namespace.as_str(), d)).collect();
    let head: String = environments
        .iter()
        .map(|e| format!(r#"<th scope="col">{}</th>"#, Esc(e)))
        .collect();
    let rows: String = namespaces
        .iter()
        .map(|ns| {
            let row: String = environments
                .iter()
                .map(|env| health_cell(by_cell.get(&(*ns, *env))))
                .collect();
            format!(
                r#"<tr><th scope="row">{}</th>{}{row}</tr>"#,
                Esc(ns),
                drift_cell(by_ns.get(ns).copied())
            )
        })
        .collect();
    format!(
        r#"<div class="scroll"><table class="matrix" id="matrix-table">
<caption>Health of each namespace in each environment at commit <code>{}</code></caption>
<thead><tr><th scope="col">Namespace</th><th scope="col">Drift</th>{head}</tr></thead>
<tbody>{rows}</tbody></table></div>"#,
        short(r.commit.as_str())
    )
}

fn result_row(p: &PolicyResult) -> String {
    let verdict = if p.passed {
        r#"<span class="badge pass"><span aria-hidden="true">✓</span> Passed</span>"#
    } else {
        r#"<span class="badge fail"><span aria-hidden="true">✖</span> Failed</span>"#
    };
    let scope = p.scope.to_string();
    format!(
        r#"<tr><th scope="row">{} <code>{}</code></th><td>{}</td><td>{}</td><td>{verdict}</td><td>{}</td></tr>"#,
        Esc(&p.rule_name),
        Esc(p.rule_id.as_str()),
        if scope.is_empty() {
            "repository".to_owned()
        } else {
            Esc(&scope).to_string()
        },
        html::severity(p.severity),
        Esc(&p.message)
    )
}

/// Failures first, the most severe first; passes after.
pub fn results(r: &Report) -> String {
    if r.policy_results.is_empty() {
        return "<p>This report carries no policy results.</p>".to_owned();
    }
    let mut sorted: Vec<&PolicyResult> = r.policy_results.iter().collect();
    sorted.sort_by_key(|p| (p.passed, std::cmp::Reverse(p.severity)));
    let more = sorted.len().saturating_sub(RESULTS_SHOWN);
    let rows: String = sorted
        .into_iter()
        .take(RESULTS_SHOWN)
        .map(result_row)
        .collect();
    let more = if more > 0 {
        format!(
            r#"<p class="hint" id="more-results">{more} more results (failing ones first above); the matrix API lists them all.</p>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<div class="scroll"><table class="results">
<thead><tr><th scope="col">Rule</th><th scope="col">Scope</th><th scope="col">Severity</th><th scope="col">Result</th><th scope="col">Message</th></tr></thead>
<tbody>{rows}</tbody></table></div>{more}"#
    )
}

/// Results a page shows: the most severe failures first. A report may hold 5,000; the
/// page stays readable and its cost bounded.
const RESULTS_SHOWN: usize = 200;
