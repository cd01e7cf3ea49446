//! The report timeline: newest first, one page at a time, optionally for one branch.

use super::html::{self, Esc, short};
use super::page_query::PageQuery;
use super::time::time;
use clef_pro_projections::matrix::ReportSummary;
use clef_pro_schema::domain::Branch;
use clef_pro_schema::ids::IntegrationId;

/// `page` is one page of history and `next` the cursor of the following one;
/// `shown` is the commit whose matrix is on the page.
pub fn section(
    id: &IntegrationId,
    q: &PageQuery,
    page: &[ReportSummary],
    next: Option<&str>,
    shown: Option<&str>,
    tracked: &[Branch],
) -> String {
    let items: String = page
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let commit = s.commit.as_str();
            let open = PageQuery {
                commit: Some(commit.to_owned()),
                ..q.clone()
            };
            let current = if shown == Some(commit) {
                r#" aria-current="true" class="current""#
            } else {
                ""
            };
            let verdict = if s.passed {
                r#"<span class="badge pass"><span aria-hidden="true">✓</span> passed</span>"#.to_owned()
            } else {
                format!(
                    r#"<span class="badge fail"><span aria-hidden="true">✖</span> {} violation(s)</span>"#,
                    s.violations
                )
            };
            // The first entry of the first page is the newest report for this filter.
            let newest = if n == 0 && q.before.is_none() {
                r#" <span class="badge latest">latest</span>"#
            } else {
                ""
            };
            format!(
                r#"<li{current}><a href="{}" data-commit="{}"><code>{}</code></a>{newest} <span class="branch">{}</span> {} {verdict}</li>"#,
                Esc(&open.href(id)),
                Esc(commit),
                short(commit),
                Esc(html::branch(s.branch.as_ref())),
                time(s.received_at),
            )
        })
        .collect();
    let list = if items.is_empty() {
        "<p>No reports yet.</p>".to_owned()
    } else {
        format!(r#"<ol class="timeline" id="history-list">{items}</ol>"#)
    };
    let newest = q.before.is_some().then(|| {
        let first = PageQuery {
            before: None,
            ..q.clone()
        };
        format!(r#"<a href="{}">Newest</a>"#, Esc(&first.href(id)))
    });
    let older = next.map(|n| {
        let more = PageQuery {
            before: Some(n.to_owned()),
            ..q.clone()
        };
        format!(
            r#"<a href="{}" rel="next">Older reports</a>"#,
            Esc(&more.href(id))
        )
    });
    let pager: String = newest
        .into_iter()
        .chain(older)
        .collect::<Vec<_>>()
        .join(" ");
    let options: String = tracked
        .iter()
        .map(|b| format!(r#"<option value="{}">"#, Esc(b.as_str())))
        .collect();
    format!(
        r#"<section id="history" data-region aria-labelledby="history-h">
<h2 id="history-h">History</h2>
<form class="filter" method="get" action="/integrations/{}">{}
<label for="branch">Branch</label>
<input id="branch" name="branch" list="tracked-branches" placeholder="all branches" value="{}">
<datalist id="tracked-branches">{options}</datalist>
<button type="submit">Filter</button>
</form>
{list}
<nav class="pager" aria-label="History pages">{pager}</nav>
</section>"#,
        Esc(id.as_str()),
        q.hidden(&["status", "severity"]),
        Esc(q.branch.as_deref().unwrap_or(""))
    )
}
