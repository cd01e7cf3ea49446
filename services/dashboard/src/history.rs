//! The report timeline: newest first, one page at a time, optionally for one branch. It
//! renders the same page of history the reports API returns (`ReportPage`).

use super::components::{branch, short, verdict};
use super::page_query::PageQuery;
use super::time::time;
use clef_pro_app::views::{ReportPage, ReportSummaryView};
use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};

/// One entry; `newest` marks the newest report for the filter, `current` the one shown.
fn item(
    id: &IntegrationId,
    q: &PageQuery,
    s: &ReportSummaryView,
    newest: bool,
    current: bool,
) -> Markup {
    let open = PageQuery {
        commit: Some(s.commit_sha.clone()),
        ..q.clone()
    };
    html! {
        li aria-current=[current.then_some("true")] class=[current.then_some("current")] {
            a href=(open.href(id)) data-commit=(s.commit_sha) { code { (short(&s.commit_sha)) } }
            @if newest { " " span class="badge latest" { "latest" } }
            " " span class="branch" { (branch(s.branch.as_deref())) }
            " " (time(s.received_at))
            " " (verdict("passed", s.passed, s.violations))
        }
    }
}

/// `page` is one page of history; `shown` is the commit whose matrix is on the page.
pub fn section(
    id: &IntegrationId,
    q: &PageQuery,
    page: &ReportPage,
    shown: Option<&str>,
    tracked: &[String],
) -> Markup {
    let newest = q.before.is_some().then(|| PageQuery {
        before: None,
        ..q.clone()
    });
    let older = page.next.as_ref().map(|n| PageQuery {
        before: Some(n.clone()),
        ..q.clone()
    });
    html! {
        section id="history" data-region aria-labelledby="history-h" {
            h2 id="history-h" { "History" }
            form class="filter" method="get" action={ "/integrations/" (id) } {
                (q.hidden(&["status", "severity"]))
                label for="branch" { "Branch" }
                input id="branch" name="branch" list="tracked-branches" placeholder="all branches"
                    value=(q.branch.as_deref().unwrap_or(""));
                datalist id="tracked-branches" { @for b in tracked { option value=(b); } }
                button type="submit" { "Filter" }
            }
            @if page.reports.is_empty() {
                p { "No reports yet." }
            } @else {
                ol class="timeline" id="history-list" {
                    @for (n, s) in page.reports.iter().enumerate() {
                        // The first entry of the first page is the newest for this filter.
                        (item(id, q, s, n == 0 && q.before.is_none(), shown == Some(&*s.commit_sha)))
                    }
                }
            }
            nav class="pager" aria-label="History pages" {
                @if let Some(first) = &newest { a href=(first.href(id)) { "Newest" } }
                @if newest.is_some() && older.is_some() { " " }
                @if let Some(more) = &older { a href=(more.href(id)) rel="next" { "Older reports" } }
            }
        }
    }
}
