//! `GET /`: every integration with its latest commit, branch, age of the last report,
//! open alerts by severity (acknowledged ones count) and a health badge.

use super::failure::Failure;
use super::html::{self, Esc, page};
use super::time::ago;
use super::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clef_pro_api::error::ApiError;
use clef_pro_api::state::AppState;
use clef_pro_app::App;
use clef_pro_app::queries::history::MatrixQuery;
use clef_pro_app::views::IntegrationView;
use clef_pro_schema::domain::{HealthStatus, Severity};
use clef_pro_schema::ids::IntegrationId;

/// The worst health of a report's cells; `Unknown` without a report.
fn worst(cells: &[clef_pro_schema::report::Cell]) -> HealthStatus {
    let rank = |h: HealthStatus| match h {
        HealthStatus::Healthy => 0,
        HealthStatus::Unknown => 1,
        HealthStatus::Warning => 2,
        HealthStatus::Critical => 3,
    };
    cells
        .iter()
        .map(|c| c.health)
        .max_by_key(|h| rank(*h))
        .unwrap_or(HealthStatus::Unknown)
}

fn row(app: &App, i: &IntegrationView, now: u64) -> Result<String, Failure> {
    let id = IntegrationId::parse(&i.id).map_err(|_| ApiError::NotFound("integration"))?;
    let latest = app
        .matrix_report(&id, &MatrixQuery::default())?
        .map(|(r, _)| r);
    let counts = &i.open_alerts;
    let open: String = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = Some(counts.get(*s)).filter(|n| *n > 0)?;
            Some(format!("{} {n} ", html::severity(*s)))
        })
        .collect();
    let open = if open.is_empty() {
        "none".to_owned()
    } else {
        open
    };
    let (health, commit, when) = match &latest {
        Some(r) => (
            html::health(worst(&r.report.summary.cells)),
            format!(
                "<code>{}</code> on {}",
                html::short(r.report.commit.as_str()),
                Esc(html::branch(r.report.branch.as_ref()))
            ),
            ago(r.received_at, now),
        ),
        None => (
            html::health(HealthStatus::Unknown),
            "no reports yet".to_owned(),
            "—".to_owned(),
        ),
    };
    Ok(format!(
        r#"<tr><th scope="row"><a href="/integrations/{}">{}</a></th><td>{health}</td><td>{commit}</td><td>{when}</td><td class="counts">{open}</td></tr>"#,
        Esc(&i.id),
        Esc(&i.name)
    ))
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
        .collect::<Result<String, _>>()?;
    let body = if integrations.is_empty() {
        r#"<p>No integrations yet. An admin creates one with <code>POST /api/v1/admin/integrations</code>.</p>"#.to_owned()
    } else {
        format!(
            r#"<div class="scroll"><table class="overview">
<thead><tr><th scope="col">Integration</th><th scope="col">Health</th><th scope="col">Latest commit</th><th scope="col">Last report</th><th scope="col">Open alerts</th></tr></thead>
<tbody>{rows}</tbody></table></div>"#
        )
    };
    let main = format!(r#"<h1>Integrations</h1>{body}"#);
    Ok(page(
        StatusCode::OK,
        "Integrations",
        Some(&visitor),
        "",
        &main,
    ))
}
