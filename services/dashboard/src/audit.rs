//! `GET /audit`: the audit log for admins, newest first, a page at a time; the same
//! entries `GET /api/v1/admin/audit` returns.

use super::components::table;
use super::failure::Failure;
use super::layout::layout;
use super::page_query::query_string;
use super::time::time;
use super::visitor::Visitor;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use clef_pro_api::extract::Query;
use clef_pro_api::state::AppState;
use clef_pro_app::queries::access::AuditQuery;
use maud::html;

#[utoipa::path(get, path = "/audit", tag = "dashboard", security(("session" = [])),
    params(("before" = Option<String>, Query, description = "The page cursor.")),
    responses((status = 200, description = "Who did what, newest first (admins only).", content_type = "text/html"),
        (status = 403, description = "Not an admin.", content_type = "text/html")))]
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Failure> {
    visitor.require_admin()?;
    let q = AuditQuery {
        limit: Some(PAGE),
        before: q.before,
    };
    let entries = state.app().blocking(move |app| app.audit_page(&q)).await?;
    let rows = html! {
        @for e in &entries.entries {
            tr {
                td { (time(e.at)) }
                td { (e.actor) }
                td { code { (e.action) } }
                td { code { (e.target) } }
            }
        }
    };
    let main = html! {
        h1 { "Audit log" }
        p {
            "Every human and admin action: tokens, keys, integrations, settings, "
            "acknowledgements, sign-ins. Never a token, key or secret."
        }
        (table(Some("audit"), &["When", "Who", "Action", "Target"], rows))
        @if let Some(n) = &entries.next {
            p { a id="older-entries" href={ "/audit?" (query_string([("before", n.as_str())])) } { "Older entries" } }
        }
    };
    Ok(layout("Audit log", Some(&visitor), None, main).into_response())
}

/// Entries per page.
const PAGE: usize = 100;
