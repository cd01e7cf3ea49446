//! `GET /`: every integration with its latest commit, branch, age of the last report,
//! open alerts by severity (acknowledged ones count) and a health badge; the trend and
//! time to resolve over every integration; and, for admins, creating and renaming
//! integrations (`POST /integrations`, `POST /integrations/{id}/rename`).

use super::admission::Posted;
use super::components::{branch, csrf_field, health, severity, short, table};
use super::failure::Failure;
use super::insights;
use super::layout::layout;
use super::time::ago;
use super::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::Path;
use clef_pro_api::state::AppState;
use clef_pro_app::App;
use clef_pro_app::queries::history::MatrixQuery;
use clef_pro_app::views::{CellView, IntegrationView};
use clef_pro_schema::domain::{HealthStatus, Severity};
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::wire::{NewIntegrationIn, RenameIn};
use maud::{Markup, html};
use serde::Deserialize;

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

/// The admin's rename form of one integration, folded away until opened.
fn rename(i: &IntegrationView, v: &Visitor) -> Markup {
    html! {
        details class="rename" {
            summary { "Rename" span class="visually-hidden" { " " (i.name) } }
            form method="post" action={ "/integrations/" (i.id) "/rename" } {
                (csrf_field(v))
                label for={ "name-" (i.id) } { "New name" }
                " "
                input id={ "name-" (i.id) } name="name" value=(i.name) required maxlength="200";
                " "
                button type="submit" { "Save" }
            }
        }
    }
}

/// The admin's form for a new integration.
fn create(v: &Visitor) -> Markup {
    html! {
        form class="inline" id="create-integration" method="post" action="/integrations" {
            (csrf_field(v))
            h2 { "New integration" }
            label for="new-name" { "Name" }
            " "
            input id="new-name" name="name" required maxlength="200";
            " "
            label for="new-branches" { "Tracked branches" }
            " "
            input id="new-branches" name="trackedBranches" placeholder="main, master";
            " "
            button type="submit" { "Create" }
        }
    }
}

fn row(app: &App, i: &IntegrationView, v: &Visitor, now: u64) -> Result<Markup, Failure> {
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
            @if v.is_admin() { td { (rename(i, v)) } }
        }
    })
}

#[utoipa::path(get, path = "/", operation_id = "overview", tag = "dashboard", security(("session" = [])),
    responses((status = 200, description = "Every integration with its latest report and open alerts.", content_type = "text/html"),
        (status = 303, description = "Signed out: sent to `/sign-in`.")))]
pub async fn show(State(state): State<AppState>, visitor: Visitor) -> Result<Response, Failure> {
    let page = state
        .app()
        .blocking(move |app| render(app, &visitor, None))
        .await?;
    Ok(page.into_response())
}

/// The overview (store reads and HTML: run off the async runtime), with `notice`
/// (a refused form) above the list.
fn render(app: &App, visitor: &Visitor, notice: Option<&str>) -> Result<Markup, Failure> {
    let integrations = app.integration_views()?;
    let insights = app.insights(None)?;
    let now = clef_pro_schema::now_ms();
    let rows = integrations
        .iter()
        .map(|i| row(app, i, visitor, now))
        .collect::<Result<Vec<_>, _>>()?;
    let mut columns = vec![
        "Integration",
        "Health",
        "Latest commit",
        "Last report",
        "Open alerts",
    ];
    if visitor.is_admin() {
        columns.push("Manage");
    }
    let main = html! {
        h1 { "Integrations" }
        @if let Some(n) = notice {
            p class="notice error" role="alert" id="overview-error" { "Not saved: " (n) }
        }
        @if integrations.is_empty() {
            p id="no-integrations" {
                "No integrations yet."
                @if !visitor.is_admin() { " An admin creates them." }
            }
        } @else {
            (table(Some("overview"), &columns, html! { @for r in &rows { (r) } }))
        }
        @if visitor.is_admin() { (create(visitor)) }
        (insights::section("every integration", &insights))
    };
    Ok(layout("Integrations", Some(visitor), None, main))
}

#[derive(Deserialize)]
pub struct NewIntegration {
    name: String,
    #[serde(default, rename = "trackedBranches")]
    tracked: String,
}

#[derive(Deserialize)]
pub struct Rename {
    name: String,
}

/// After a refused form: the overview again, saying why, with 422.
async fn refused(
    state: &AppState,
    v: Visitor,
    e: clef_pro_app::Error,
) -> Result<Response, Failure> {
    match ApiError::from(e) {
        ApiError::Invalid(f) => {
            let message = format!("{}: {}", f.field, f.message);
            let page = state
                .app()
                .blocking(move |app| render(app, &v, Some(&message)))
                .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        other => Err(other.into()),
    }
}

#[utoipa::path(post, path = "/integrations", operation_id = "create_integration_page", tag = "dashboard", security(("session" = [])),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`name`, `trackedBranches` (comma-separated, optional) and `csrf`."),
    responses((status = 303, description = "Created; to its settings, for its first API key."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn create_integration(
    State(state): State<AppState>,
    posted: Posted<NewIntegration>,
) -> Result<Response, Failure> {
    let v = posted.visitor;
    v.require_admin()?;
    let branches: Vec<String> = posted
        .form
        .tracked
        .split([',', ' '])
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    let req = NewIntegrationIn {
        name: posted.form.name,
        collect_ci_context: None,
        tracked_branches: (!branches.is_empty()).then_some(branches),
    };
    match state.app().create_integration(&v.person, req).await {
        Ok(id) => Ok(Redirect::to(&format!("/integrations/{id}/settings")).into_response()),
        Err(e) => refused(&state, v, e).await,
    }
}

#[utoipa::path(post, path = "/integrations/{id}/rename", tag = "dashboard", security(("session" = [])),
    params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`name` and `csrf`."),
    responses((status = 303, description = "Renamed; back to the overview."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "The name is invalid.", content_type = "text/html")))]
pub async fn rename_integration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Rename>,
) -> Result<Response, Failure> {
    let v = posted.visitor;
    v.require_admin()?;
    let id = state.app().existing_integration(&id)?;
    let req = RenameIn {
        name: posted.form.name,
    };
    match state.app().rename_integration(&v.person, &id, req).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(e) => refused(&state, v, e).await,
    }
}
