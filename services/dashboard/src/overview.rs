//! `GET /`: every integration with its latest commit, branch, age of the last report,
//! open alerts by severity (acknowledged ones count) and a health badge.

use super::components::{branch, health, severity, short, table};
use super::failure::Failure;
use super::layout::layout;
use super::time::ago;
use super::visitor::Visitor;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use clef_pro_api::error::ApiError;
use clef_pro_api::state::AppState;
use clef_pro_app::App;
use clef_pro_app::queries::history::MatrixQuery;
use clef_pro_app::views::{CellView, IntegrationView};
use clef_pro_schema::domain::{HealthStatus, Severity};
use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};

/// The worst health of a report's cells; `Unknown` without a report.
fn worst(cells: &[CellView]) -> HealthStatus {
    let rank = |h: HealthStatus| match h {
        HealthStatus::Healthy => 0,
        HealthStatus::Unknown => 1,
        HealthStatus::Warning => 2,
        HealthStatus::Critical => 3,
    };
    cells
        .iter()
        .map(|c| c.health_status)
        .max_by_key(|h| rank(*h))
        .unwrap_or(HealthStatus::Unknown)
}

/// Open alerts by severity, or `none`.
fn open_counts(i: &IntegrationView) -> Markup {
    let counts: Vec<(Severity, u64)> = Severity::ALL
        .into_iter()
        .map(|s| (s, i.open_alerts.get(s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    html! {
        @for (s, n) in &counts { (severity(*s)) " " (n) " " }
        @if counts.is_empty() { "none" }
    }
}

fn row(app: &App, i: &IntegrationView, now: u64) -> Result<Markup, Failure> {
    let id = IntegrationId::parse(&i.id).map_err(|_| ApiError::NotFound("integration"))?;
    let latest = app.matrix_view(&id, &MatrixQuery::default())?;
    Ok(html! {
        tr {
            th scope="row" { a href={ "/integrations/" (i.id) } { (i.name) } }
            @match &latest {
                Some(m) => {
                    td { (health(worst(&m.cells))) }
                    td { code { (short(&m.commit)) } " on " (branch(m.report.branch.as_deref())) }
                    td { (ago(m.report.received_at, now)) }
                }
                None => {
                    td { (health(HealthStatus::Unknown)) }
                    td { "no reports yet" }
                    td { "—" }
                }
            }
            td class="counts" { (open_counts(i)) }
        }
    })
}

#[utoipa::path(get, path = "/", operation_id = "overview", tag = "dashboard", security(("session" = [])),
    responses((status = 200, description = "Every integration with its latest report and open alerts.", content_type = "text/html"),
        (status = 303, description = "Signed out: sent to `/sign-in`.")))]
pub async fn show(State(state): State<AppState>, visitor: Visitor) -> Result<Response, Failure> {
    crate::off_runtime(state.app(), move |app| render(app, visitor)).await
}

/// The overview (store reads and HTML: run off the async runtime).
fn render(app: &App, visitor: Visitor) -> Result<Response, Failure> {
    let integrations = app.integration_views()?;
    let now = clef_pro_schema::now_ms();
    let rows = integrations
        .iter()
        .map(|i| row(app, i, now))
        .collect::<Result<Vec<_>, _>>()?;
    let main = html! {
        h1 { "Integrations" }
        @if integrations.is_empty() {
            p {
                "No integrations yet. An admin creates one with "
                code { "POST /api/v1/admin/integrations" } "."
            }
        } @else {
            (table(
                Some("overview"),
                &["Integration", "Health", "Latest commit", "Last report", "Open alerts"],
                html! { @for r in &rows { (r) } },
            ))
        }
    };
    Ok(layout("Integrations", Some(&visitor), None, main).into_response())
}
