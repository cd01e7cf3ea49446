//! `GET /audit`: the audit log for admins, newest first, a page at a time; the same
//! entries `GET /api/v1/admin/audit` returns.

use super::failure::Failure;
use super::html::{Esc, page, url_part};
use super::time::time;
use super::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clef_pro_api::extract::Query;
use clef_pro_api::state::AppState;
use clef_pro_app::queries::access::AuditQuery;

#[utoipa::path(get, path = "/audit", tag = "dashboard", security(("session" = [])),
    params(("before" = Option<String>, Query, description = "The page cursor.")),
    responses((status = 200, description = "Who did what, newest first (admins only).", content_type = "text/html"),
        (status = 403, description = "Not an admin.", content_type = "text/html")))]
pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
    visitor: Visitor,
) -> Result<Response, Failure> {
    visitor.require_admin()?;
    let q = AuditQuery {
        limit: Some(PAGE),
        before: q.before,
    };
    let entries = state.app().blocking(move |app| app.audit_page(&q)).await?;
    let rows: String = entries
        .entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                time(e.at),
                Esc(&e.actor),
                Esc(&e.action),
                Esc(&e.target)
            )
        })
        .collect();
    let older = entries
        .next
        .map(|n| {
            format!(
                r#"<p><a id="older-entries" href="/audit?before={}">Older entries</a></p>"#,
                url_part(&n)
            )
        })
        .unwrap_or_default();
    let main = format!(
        r#"<h1>Audit log</h1>
<p>Every human and admin action: tokens, keys, integrations, settings, acknowledgements, sign-ins. Never a token, key or secret.</p>
<div class="scroll"><table class="audit">
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th></tr></thead>
<tbody>{rows}</tbody></table></div>
{older}"#
    );
    Ok(page(StatusCode::OK, "Audit log", Some(&visitor), "", &main))
}

/// Entries per page.
const PAGE: usize = 100;
