//! `GET /integrations/{id}/settings` (admins only) and its forms: API keys (a new key is
//! shown once, never stored in plaintext), policies, notification channels and the
//! collection config. Each form calls the same function as its admin API endpoint.

use super::admission::Posted;
use super::failure::Failure;
use super::html::{self, Esc, csrf_field, page};
use super::time::time;
use super::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::{Path, Query};
use clef_pro_api::state::AppState;
use clef_pro_projections::registry::Integration;
use clef_pro_schema::domain::{ChannelKind, Severity};
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::wire::{ConfigIn, NewKeyIn};
use serde::Deserialize;
use std::collections::HashMap;

mod forms;
use forms::{notifications_in, policies_in};

/// What the page says above the forms.
enum Notice {
    None,
    Saved(&'static str),
    NewKey { label: String, key: String },
    Invalid(String),
}

impl Notice {
    fn html(&self) -> String {
        match self {
            Self::None => String::new(),
            Self::Saved(what) => {
                format!(r#"<p class="notice ok" role="status" id="saved">{what} saved.</p>"#)
            }
            Self::NewKey { label, key } => format!(
                r#"<div class="notice ok new-key" role="status">
<p>New API key <strong>{}</strong>. Copy it now: it is shown only once.</p>
<p><code id="new-key">{}</code> <button type="button" data-copy="new-key">Copy</button></p>
</div>"#,
                Esc(label),
                Esc(key)
            ),
            Self::Invalid(message) => format!(
                r#"<p class="notice error" role="alert" id="settings-error">Not saved: {}</p>"#,
                Esc(message)
            ),
        }
    }
}

fn keys(state: &AppState, id: &IntegrationId, v: &Visitor) -> Result<String, ApiError> {
    let keys = state.app().keys(id)?;
    let rows: String = keys
        .iter()
        .map(|k| {
            let action = if k.revoked {
                "revoked".to_owned()
            } else {
                format!(
                    r#"<form method="post" action="/integrations/{}/settings/keys/{}/revoke">{}<button type="submit" class="danger">Revoke</button></form>"#,
                    Esc(id.as_str()),
                    Esc(k.key_id.as_str()),
                    csrf_field(v)
                )
            };
            format!(
                r#"<tr><th scope="row">{}</th><td><code>{}</code></td><td>{}</td><td>{action}</td></tr>"#,
                Esc(&k.label),
                Esc(k.key_id.as_str()),
                time(k.created_at)
            )
        })
        .collect();
    Ok(format!(
        r#"<section id="keys" aria-labelledby="keys-h"><h2 id="keys-h">API keys</h2>
<div class="scroll"><table><thead><tr><th scope="col">Label</th><th scope="col">Key id</th><th scope="col">Created</th><th scope="col">Status</th></tr></thead>
<tbody>{rows}</tbody></table></div>
<form class="inline" method="post" action="/integrations/{}/settings/keys">{}
<label for="key-label">Label</label> <input id="key-label" name="label" maxlength="200" placeholder="ci">
<button type="submit">Create key</button></form></section>"#,
        Esc(id.as_str()),
        csrf_field(v)
    ))
}

fn severity_select(name: &str, label: &str, selected: Severity) -> String {
    format!(
        r#"<select name="{name}" aria-label="{label}">{}</select>"#,
        html::severity_options(Some(selected))
    )
}

fn policies(i: &Integration, v: &Visitor) -> String {
    let rows: String = i
        .policies
        .iter()
        .map(|p| (p.rule_id.as_str(), p.rule_name.as_str(), p.severity, p.params.as_str()))
        .chain([("", "", Severity::Error, "")])
        .enumerate()
        .map(|(n, (rule, name, sev, params))| {
            format!(
                r#"<tr><td><input name="ruleId.{n}" value="{}" aria-label="Rule id {n}"></td><td><input name="ruleName.{n}" value="{}" aria-label="Rule name {n}"></td><td>{}</td><td><input name="params.{n}" value="{}" aria-label="Parameters (JSON) {n}"></td></tr>"#,
                Esc(rule),
                Esc(name),
                severity_select(&format!("severity.{n}"), &format!("Severity {n}"), sev),
                Esc(params)
            )
        })
        .collect();
    format!(
        r#"<section id="policies" aria-labelledby="policies-h"><h2 id="policies-h">Policies</h2>
<p>The rules the CLI evaluates. Clear a rule id to remove its row; fill the last row to add one.</p>
<form method="post" action="/integrations/{}/settings/policies">{}
<div class="scroll"><table><thead><tr><th scope="col">Rule id</th><th scope="col">Name</th><th scope="col">Severity</th><th scope="col">Parameters (JSON)</th></tr></thead>
<tbody>{rows}</tbody></table></div>
<button type="submit">Save policies</button></form></section>"#,
        Esc(i.id.as_str()),
        csrf_field(v)
    )
}

fn kind_select(n: usize, selected: ChannelKind) -> String {
    let options: String = ChannelKind::ALL
        .iter()
        .map(|k| {
            let sel = if *k == selected { " selected" } else { "" };
            format!(r#"<option value="{k}"{sel}>{k}</option>"#)
        })
        .collect();
    format!(r#"<select name="channel.{n}" aria-label="Channel {n}">{options}</select>"#)
}

fn channels(i: &Integration, v: &Visitor) -> String {
    let rows: String = i
        .channels
        .iter()
        .map(|c| (c.target.kind(), c.target.name(), c.min_severity, c.send_resolved))
        .chain([(ChannelKind::Email, "", Severity::Warning, false)])
        .enumerate()
        .map(|(n, (kind, target, sev, resolved))| {
            let checked = if resolved { " checked" } else { "" };
            format!(
                r#"<tr><td>{}</td><td><input name="target.{n}" value="{}" aria-label="Address or destination {n}"></td><td>{}</td><td><input type="checkbox" name="sendResolved.{n}" value="on" aria-label="Send resolved notices {n}"{checked}></td></tr>"#,
                kind_select(n, kind),
                Esc(target),
                severity_select(&format!("minSeverity.{n}"), &format!("Minimum severity {n}"), sev)
            )
        })
        .collect();
    format!(
        r#"<section id="notifications" aria-labelledby="notifications-h"><h2 id="notifications-h">Notification channels</h2>
<p>Each channel gets one message per report listing the open, unacknowledged alerts at or above its minimum severity. An email channel's target is an address; the others name a destination of the operator's destinations file. Clear a target to remove its channel.</p>
<form method="post" action="/integrations/{}/settings/notifications">{}
<div class="scroll"><table><thead><tr><th scope="col">Channel</th><th scope="col">Target</th><th scope="col">Minimum severity</th><th scope="col">Resolved notices</th></tr></thead>
<tbody>{rows}</tbody></table></div>
<button type="submit">Save channels</button></form></section>"#,
        Esc(i.id.as_str()),
        csrf_field(v)
    )
}

fn collection(i: &Integration, v: &Visitor) -> String {
    let checked = if i.collect_ci_context { " checked" } else { "" };
    let branches: Vec<&str> = i.tracked_branches.iter().map(|b| b.as_str()).collect();
    format!(
        r#"<section id="collection" aria-labelledby="collection-h"><h2 id="collection-h">Collection</h2>
<form method="post" action="/integrations/{}/settings/config">{}
<p><input type="checkbox" id="collect" name="collectCIContext" value="on"{checked}> <label for="collect">Collect CI context (provider, pipeline URL, trigger)</label></p>
<p><label for="tracked">Tracked branches</label> <input id="tracked" name="trackedBranches" value="{}" aria-describedby="tracked-help">
<span id="tracked-help" class="hint">Comma-separated. Only reports on these branches open, resolve or notify alerts.</span></p>
<button type="submit">Save collection</button></form></section>"#,
        Esc(i.id.as_str()),
        csrf_field(v),
        Esc(&branches.join(", "))
    )
}

fn render(
    state: &AppState,
    id: &IntegrationId,
    v: &Visitor,
    status: StatusCode,
    notice: &Notice,
) -> Result<Response, Failure> {
    let i = state.app().integration(id)?;
    let main = format!(
        r#"<div class="title"><h1>{} <span class="sub">settings</span></h1> <a class="button" href="/integrations/{}">Back to the integration</a></div>
{}
{}
{}
{}
{}"#,
        Esc(&i.name),
        Esc(id.as_str()),
        notice.html(),
        keys(state, id, v)?,
        policies(&i, v),
        channels(&i, v),
        collection(&i, v)
    );
    Ok(page(
        status,
        &format!("{} settings", i.name),
        Some(v),
        "",
        &main,
    ))
}

/// The admin's integration, or the 403/404 page.
fn admin_integration(state: &AppState, v: &Visitor, id: &str) -> Result<IntegrationId, Failure> {
    v.require_admin()?;
    let id = IntegrationId::parse(id).map_err(|_| ApiError::NotFound("integration"))?;
    state.app().integration(&id)?;
    Ok(id)
}

#[derive(Deserialize)]
pub struct Shown {
    saved: Option<String>,
}

#[utoipa::path(get, path = "/integrations/{id}/settings", operation_id = "settings", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "Keys, policies, notifications and collection settings (admins only).", content_type = "text/html"),
        (status = 403, description = "Not an admin.", content_type = "text/html")))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Shown>,
    visitor: Visitor,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &visitor, &id)?;
    let notice = match q.saved.as_deref() {
        Some("policies") => Notice::Saved("Policies"),
        Some("notifications") => Notice::Saved("Notification channels"),
        Some("config") => Notice::Saved("Collection config"),
        Some("revoked") => Notice::Saved("Key revocation"),
        _ => Notice::None,
    };
    render(&state, &id, &visitor, StatusCode::OK, &notice)
}

/// After a write: back to the page with a note, or the page again with what was invalid.
fn answer(
    state: &AppState,
    id: &IntegrationId,
    v: &Visitor,
    result: Result<(), ApiError>,
    saved: &str,
) -> Result<Response, Failure> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/integrations/{id}/settings?saved={saved}")).into_response())
        }
        Err(e @ ApiError::Invalid(_)) => render(
            state,
            id,
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            &Notice::Invalid(e.to_string()),
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct NewKey {
    label: String,
}

#[utoipa::path(post, path = "/integrations/{id}/settings/keys", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Issues an API key, shown once."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn create_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NewKey>,
) -> Result<Response, Failure> {
    let v = &posted.visitor;
    let id = admin_integration(&state, v, &id)?;
    let label = posted.form.label;
    let req = NewKeyIn {
        label: label.clone(),
    };
    match state.app().issue_key(&v.person, &id, req).await {
        Ok((_, key)) => render(
            &state,
            &id,
            v,
            StatusCode::CREATED,
            &Notice::NewKey { label, key },
        ),
        Err(e) => answer(&state, &id, v, Err(e.into()), "keys"),
    }
}

#[utoipa::path(post, path = "/integrations/{id}/settings/keys/{key}/revoke", tag = "dashboard", security(("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("key" = String, Path, description = "The key id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Revoked at once."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html")))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    posted: Posted<()>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let result = state
        .app()
        .revoke_key(&posted.visitor.person, &id, &key)
        .await
        .map(drop)
        .map_err(ApiError::from);
    answer(&state, &id, &posted.visitor, result, "revoked")
}

#[utoipa::path(post, path = "/integrations/{id}/settings/policies", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Replaces the policies."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn set_policies(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let result = match policies_in(&posted.form) {
        Ok(req) => (state
            .app()
            .set_policies(&posted.visitor.person, &id, req)
            .await)
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    answer(&state, &id, &posted.visitor, result, "policies")
}

#[utoipa::path(post, path = "/integrations/{id}/settings/notifications", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Replaces the email channels."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn set_notifications(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let result = match notifications_in(&posted.form) {
        Ok(req) => (state
            .app()
            .set_notifications(&posted.visitor.person, &id, req)
            .await)
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    answer(&state, &id, &posted.visitor, result, "notifications")
}

#[derive(Deserialize)]
pub struct ConfigForm {
    #[serde(rename = "collectCIContext")]
    collect: Option<String>,
    #[serde(rename = "trackedBranches")]
    tracked: String,
}

#[utoipa::path(post, path = "/integrations/{id}/settings/config", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Changes collection and tracked branches."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn set_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ConfigForm>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let f = &posted.form;
    let req = ConfigIn {
        // An unchecked checkbox is absent from the form.
        collect_ci_context: Some(f.collect.is_some()),
        tracked_branches: Some(
            f.tracked
                .split([',', ' '])
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        file_pattern: None,
    };
    let result = (state
        .app()
        .set_config(&posted.visitor.person, &id, req)
        .await)
        .map_err(ApiError::from);
    answer(&state, &id, &posted.visitor, result, "config")
}
