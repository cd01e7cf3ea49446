//! The shown report: the not-latest marker, its summary, the namespace × environment
//! matrix with a drift indicator per namespace row, and its policy results. It renders
//! the same view model the matrix API returns (`MatrixView`).

use super::components::{branch, fail_badge, health, pass_badge, severity, short, table, verdict};
use super::page_query::PageQuery;
use super::time::time;
use clef_pro_app::views::{CellView, DriftView, MatrixView, ResultView};
use clef_pro_schema::domain::HealthStatus;
use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};
use std::collections::HashMap;

/// Says plainly when the shown report is not the newest one, with a way back to it.
pub fn marker(id: &IntegrationId, q: &PageQuery, m: &MatrixView) -> Markup {
    let back = PageQuery {
        commit: None,
        ..q.clone()
    };
    html! {
        @if !m.latest {
            p class="notice old" id="not-latest" role="status" {
                strong { "Not the latest report." }
                " You are viewing commit " code { (short(&m.commit)) }
                " on " (branch(m.report.branch.as_deref()))
                ", received " (time(m.report.received_at)) ". "
                a href=(back.href(id)) { "Show the latest report" }
            }
        }
    }
}

pub fn summary(m: &MatrixView) -> Markup {
    // Only an https pipeline URL becomes a link.
    let ci = m.ci_context.as_ref().map(|c| {
        let url = c
            .pipeline_url
            .as_deref()
            .filter(|u| u.starts_with("https://"));
        (&c.provider, url)
    });
    html! {
        dl class="facts" id="shown-report" data-commit=(m.commit) {
            div { dt { "Commit" } dd { code title=(m.commit) { (short(&m.commit)) } } }
            div { dt { "Branch" } dd { (branch(m.report.branch.as_deref())) } }
            div { dt { "Received" } dd { (time(m.report.received_at)) } }
            div { dt { "Result" } dd { (verdict("Passed", m.summary.passed, m.summary.violations)) } }
            div { dt { "Files scanned" } dd { (m.summary.files_scanned) } }
            div { dt { "CLI" } dd { (m.report.cli_version) } }
            @if let Some((provider, url)) = ci {
                div {
                    dt { "CI" }
                    dd {
                        @match url {
                            Some(u) => a href=(u) rel="noreferrer" { (provider) },
                            None => (provider),
                        }
                    }
                }
            }
        }
    }
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

fn drift_cell(d: Option<&DriftView>) -> Markup {
    html! {
        @match d {
            None => td class="drift none" { "—" span class="sr-only" { " no drift data" } },
            Some(d) if !d.is_drifted => td class="drift ok" {
                span aria-hidden="true" { "✓" } " In sync"
            },
            Some(d) => td class="drift drifted" {
                span aria-hidden="true" { "⇄" } " Drifted"
                @if let Some(n) = d.drift_count { ": " (n) " key(s)" }
                " "
                @if let Some(s) = d.severity { (severity(s)) }
                @if let Some(s) = &d.summary { span class="desc" { (s) } }
            },
        }
    }
}

fn health_cell(c: Option<&CellView>) -> Markup {
    html! {
        @match c {
            Some(c) => td class={ "cell health-" (c.health_status.as_str()) } {
                (health(c.health_status)) span class="desc" { (c.description) }
            },
            None => td class="cell health-unknown" {
                (health(HealthStatus::Unknown)) span class="desc" { "not reported" }
            },
        }
    }
}

pub fn matrix(m: &MatrixView) -> Markup {
    let namespaces = ordered(
        m.summary.namespaces.iter().map(String::as_str),
        m.cells
            .iter()
            .map(|c| c.namespace.as_str())
            .chain(m.drift.iter().map(|d| d.namespace.as_str())),
    );
    let environments = ordered(
        m.summary.environments.iter().map(String::as_str),
        m.cells.iter().map(|c| c.environment.as_str()),
    );
    let by_cell: HashMap<(&str, &str), &CellView> = m
        .cells
        .iter()
        .map(|c| ((c.namespace.as_str(), c.environment.as_str()), c))
        .collect();
    let by_ns: HashMap<&str, &DriftView> =
        m.drift.iter().map(|d| (d.namespace.as_str(), d)).collect();
    html! {
        div class="scroll" {
            table class="matrix" id="matrix-table" {
                caption {
                    "Health of each namespace in each environment at commit "
                    code { (short(&m.commit)) }
                }
                thead {
                    tr {
                        th scope="col" { "Namespace" }
                        th scope="col" { "Drift" }
                        @for e in &environments { th scope="col" { (e) } }
                    }
                }
                tbody {
                    @for ns in &namespaces {
                        tr {
                            th scope="row" { (ns) }
                            (drift_cell(by_ns.get(ns).copied()))
                            @for env in &environments {
                                (health_cell(by_cell.get(&(*ns, *env)).copied()))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn result_row(p: &ResultView) -> Markup {
    let scope = if p.scope.is_empty() {
        "repository"
    } else {
        &p.scope
    };
    html! {
        tr {
            th scope="row" { (p.rule_name) " " code { (p.rule_id) } }
            td { (scope) }
            td { (severity(p.severity)) }
            td { @if p.passed { (pass_badge("Passed")) } @else { (fail_badge("Failed")) } }
            td { (p.message) }
        }
    }
}

/// Failures first, the most severe first; passes after.
pub fn results(m: &MatrixView) -> Markup {
    if m.policy_results.is_empty() {
        return html! { p { "This report carries no policy results." } };
    }
    let mut sorted: Vec<&ResultView> = m.policy_results.iter().collect();
    sorted.sort_by_key(|p| (p.passed, std::cmp::Reverse(p.severity)));
    let more = sorted.len().saturating_sub(RESULTS_SHOWN);
    html! {
        (table(
            Some("results"),
            &["Rule", "Scope", "Severity", "Result", "Message"],
            html! { @for p in sorted.into_iter().take(RESULTS_SHOWN) { (result_row(p)) } },
        ))
        @if more > 0 {
            p class="hint" id="more-results" {
                (more) " more results (failing ones first above); the matrix API lists them all."
            }
        }
    }
}

/// Results a page shows: the most severe failures first. A report may hold 5,000; the
/// page stays readable and its cost bounded.
const RESULTS_SHOWN: usize = 200;
