//! The admin endpoints of CONTRACT section 5. Each validates, seals one event, appends
//! it and waits until the registry shows it, so a new key or token works at once.

use crate::auth::{Person, hash, new_secret};
use crate::body;
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::views;
use crate::routes::views::IntegrationView;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clef_pro_projections::Kind;
use clef_pro_schema::domain::{Branch, ChannelKind, DestinationName, EmailAddress, RuleId};
use clef_pro_schema::event::{Channel, Event, Policy, Target};
use clef_pro_schema::ids::{IntegrationId, KeyId};
use clef_pro_schema::report::{FieldError, text};
use clef_pro_schema::wire::{ConfigIn, NewIntegrationIn, NewKeyIn, NotificationsIn, PoliciesIn};
use serde::Serialize;
use utoipa::ToSchema;

/// A new API key: the plaintext is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"keyId": "key_3c9d0e1f2a3b4c5d", "apiKey": "clef_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1", "integrationId": "int_4f7c2a19d03e5b86"}))]
pub struct KeyIssued {
    pub key_id: String,
    pub api_key: String,
    pub integration_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyRevoked {
    pub key_id: String,
    pub revoked: bool,
}

/// An API key as listed: never the key or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub key_id: String,
    pub label: String,
    pub revoked: bool,
    pub created_at: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Admin bodies are small.
pub(crate) const ADMIN_LIMIT: usize = 256 << 10;
/// Most policies or channels per integration.
const MAX_ITEMS: usize = 200;

const EVERYWHERE: &[Kind] = &[Kind::Registry, Kind::Matrix, Kind::Alerts, Kind::Outbox];

fn branches(field: &str, v: Option<Vec<String>>) -> Result<Option<Vec<Branch>>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    if v.is_empty() || v.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            field,
            format!("must list 1 to {MAX_ITEMS} branches"),
        ));
    }
    v.iter()
        .enumerate()
        .map(|(i, b)| Branch::parse(b).map_err(|e| ApiError::invalid(format!("{field}[{i}]"), e.0)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub(crate) fn name(field: &str, s: String, required: bool) -> Result<String, ApiError> {
    let s = text(|| field.to_owned(), s.trim().to_owned())?;
    if required && s.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if s.chars().count() > 200 {
        return Err(ApiError::invalid(field, "at most 200 characters"));
    }
    Ok(s)
}

/// A file pattern such as `{namespace}/{environment}.enc.yaml`: it must name the
/// namespace, may name the environment, and is at most 200 characters.
fn file_pattern(p: String) -> Result<String, ApiError> {
    let p = name("filePattern", p, true)?;
    if !p.contains("{namespace}") {
        return Err(ApiError::invalid("filePattern", "must contain {namespace}"));
    }
    Ok(p)
}

pub(crate) fn integration_id(state: &AppState, id: &str) -> Result<IntegrationId, ApiError> {
    let id = IntegrationId::parse(id).map_err(|_| ApiError::NotFound("integration"))?;
    views::integration(state, &id)?;
    Ok(id)
}

#[utoipa::path(post, path = "/api/v1/admin/integrations", tag = "admin", security(("bearer" = [])),
    request_body = clef_pro_schema::wire::NewIntegrationIn,
    responses((status = 201, body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn create_integration(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<IntegrationView>), ApiError> {
    let by = state.authenticate_admin(&headers)?;
    let req: NewIntegrationIn = body::json(body, ADMIN_LIMIT).await?;
    let id = IntegrationId::random();
    let sealed = state.seal(
        by.did(Event::IntegrationCreated {
            id: id.clone(),
            name: name("name", req.name, true)?,
            collect_ci_context: req.collect_ci_context.unwrap_or(false),
            tracked_branches: branches("trackedBranches", req.tracked_branches)?
                .unwrap_or_else(clef_pro_projections::lifecycle::default_tracked),
            at: clef_pro_schema::now_ms(),
        }),
    );
    state.append(&sealed, EVERYWHERE).await?;
    tracing::info!(integration = %id, "integration created");
    Ok((
        StatusCode::CREATED,
        Json(views::integration_view(&state, &id)?),
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/integrations/{id}/keys", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::NewKeyIn,
    responses((status = 201, description = "The key is shown once; only its hash is stored.", body = KeyIssued), crate::openapi::WriteErrors))]
pub async fn create_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<KeyIssued>), ApiError> {
    let (by, id, req) = change::<NewKeyIn>(&state, &id, &headers, body).await?;
    let (key_id, api_key) = issue_key(&state, &by, &id, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyIssued {
            key_id: key_id.to_string(),
            api_key,
            integration_id: id.to_string(),
        }),
    ))
}

/// Issues an API key: appends its hash and returns the id and the plaintext, shown once.
pub async fn issue_key(
    state: &AppState,
    by: &Person,
    id: &IntegrationId,
    req: NewKeyIn,
) -> Result<(KeyId, String), ApiError> {
    let key_id = KeyId::random();
    let api_key = new_secret("clef_");
    let sealed = state.seal(by.did(Event::KeyIssued {
        integration: id.clone(),
        key_id: key_id.clone(),
        label: name("label", req.label, false)?,
        hash: hash(&api_key),
        at: clef_pro_schema::now_ms(),
    }));
    state.append(&sealed, &[Kind::Registry]).await?;
    tracing::info!(integration = %id, key = %key_id, "api key issued");
    Ok((key_id, api_key))
}

#[utoipa::path(delete, path = "/api/v1/admin/integrations/{id}/keys/{key}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The integration id."), ("key" = String, Path, description = "The key id.")),
    responses((status = 200, description = "Revoked at once.", body = KeyRevoked), crate::openapi::WriteErrors))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<KeyRevoked>, ApiError> {
    let by = state.authenticate_admin(&headers)?;
    let id = integration_id(&state, &id)?;
    let key_id = revoke(&state, &by, &id, &key).await?;
    Ok(Json(KeyRevoked {
        key_id: key_id.to_string(),
        revoked: true,
    }))
}

/// Revokes one of the integration's keys; it stops working at once.
pub async fn revoke(
    state: &AppState,
    by: &Person,
    id: &IntegrationId,
    key: &str,
) -> Result<KeyId, ApiError> {
    let key_id = KeyId::parse(key).map_err(|_| ApiError::NotFound("key"))?;
    let keys = state.projections().registry(|r| r.keys(id))?;
    if !keys.iter().any(|k| k.key_id == key_id) {
        return Err(ApiError::NotFound("key"));
    }
    let sealed = state.seal(by.did(Event::KeyRevoked {
        integration: id.clone(),
        key_id: key_id.clone(),
        at: clef_pro_schema::now_ms(),
    }));
    state.append(&sealed, &[Kind::Registry]).await?;
    tracing::info!(integration = %id, key = %key_id, "api key revoked");
    Ok(key_id)
}

#[utoipa::path(get, path = "/api/v1/admin/integrations/{id}/keys", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration's keys, never a key or its hash.", body = KeyList), crate::openapi::ReadErrors))]
pub async fn list_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<KeyList>, ApiError> {
    state.authenticate_admin(&headers)?;
    let id = integration_id(&state, &id)?;
    let keys = state.projections().registry(|r| r.keys(&id))?;
    let keys = keys
        .iter()
        .map(|k| KeyView {
            key_id: k.key_id.to_string(),
            label: k.label.clone(),
            revoked: k.revoked,
            created_at: k.created_at,
        })
        .collect();
    Ok(Json(KeyList { keys }))
}

/// What every settings endpoint starts with: an admin, an existing integration, and
/// the body of the change.
async fn change<T: serde::de::DeserializeOwned + Send + 'static>(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Person, IntegrationId, T), ApiError> {
    let by = state.authenticate_admin(headers)?;
    let id = integration_id(state, id)?;
    Ok((by, id, body::json(body, ADMIN_LIMIT).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/integrations/{id}/policies", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::PoliciesIn,
    responses((status = 200, description = "The policies the CLI evaluates, replaced.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn set_policies(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (by, id, req) = change::<PoliciesIn>(&state, &id, &headers, body).await?;
    apply_policies(&state, &by, &id, req).await?;
    Ok(Json(views::integration_view(&state, &id)?))
}

/// Replaces the integration's policies.
pub async fn apply_policies(
    state: &AppState,
    by: &Person,
    id: &IntegrationId,
    req: PoliciesIn,
) -> Result<(), ApiError> {
    if req.policies.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            "policies",
            format!("at most {MAX_ITEMS} policies"),
        ));
    }
    let policies = req
        .policies
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let f = |n: &str| format!("policies[{i}].{n}");
            let params = p
                .params
                .map(|v| v.to_string())
                .unwrap_or_else(|| "{}".into());
            Ok(Policy {
                rule_id: RuleId::parse(&p.rule_id)
                    .map_err(|e| FieldError::new(f("ruleId"), e.0))?,
                rule_name: name(&f("ruleName"), p.rule_name, true)?,
                severity: p.severity,
                params: text(|| f("params"), params)?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let sealed = state.seal(by.did(Event::PoliciesSet {
        integration: id.clone(),
        policies,
        at: clef_pro_schema::now_ms(),
    }));
    state.append(&sealed, &[Kind::Registry]).await?;
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/admin/integrations/{id}/notifications", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::NotificationsIn,
    responses((status = 200, description = "The notification channels, replaced.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn set_notifications(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (by, id, req) = change::<NotificationsIn>(&state, &id, &headers, body).await?;
    apply_notifications(&state, &by, &id, req).await?;
    Ok(Json(views::integration_view(&state, &id)?))
}

/// Replaces the integration's notification channels.
pub async fn apply_notifications(
    state: &AppState,
    by: &Person,
    id: &IntegrationId,
    req: NotificationsIn,
) -> Result<(), ApiError> {
    if req.notifications.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            "notifications",
            format!("at most {MAX_ITEMS} channels"),
        ));
    }
    let destinations = state.destinations();
    let channels = req
        .notifications
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("notifications[{i}].target");
            let target = c.target.trim();
            let target = match c.channel {
                ChannelKind::Email => Target::Email(
                    EmailAddress::parse(target).map_err(|e| ApiError::invalid(&field, e.0))?,
                ),
                kind => {
                    let name =
                        DestinationName::parse(target).map_err(|e| ApiError::invalid(&field, e.0))?;
                    match destinations.kind_of(name.as_str()) {
                        Some(k) if k == kind => Target::Destination { kind, name },
                        Some(k) => {
                            return Err(ApiError::invalid(
                                &field,
                                format!("names a {k} destination, not a {kind} one"),
                            ));
                        }
                        None => {
                            return Err(ApiError::invalid(
                                &field,
                                format!(
                                    "names no {kind} destination of the operator's destinations file"
                                ),
                            ));
                        }
                    }
                }
            };
            Ok(Channel {
                target,
                min_severity: c.min_severity,
                send_resolved: c.send_resolved,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let sealed = state.seal(by.did(Event::NotificationsSetV2 {
        integration: id.clone(),
        channels,
        at: clef_pro_schema::now_ms(),
    }));
    state
        .append(&sealed, &[Kind::Registry, Kind::Outbox])
        .await?;
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/admin/integrations/{id}/config", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::ConfigIn,
    responses((status = 200, description = "Collection, tracked branches and the OTLP file pattern.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn set_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (by, id, req) = change::<ConfigIn>(&state, &id, &headers, body).await?;
    apply_config(&state, &by, &id, req).await?;
    Ok(Json(views::integration_view(&state, &id)?))
}

/// Changes the integration's collection config and tracked branches.
pub async fn apply_config(
    state: &AppState,
    by: &Person,
    id: &IntegrationId,
    req: ConfigIn,
) -> Result<(), ApiError> {
    let sealed = state.seal(by.did(Event::IntegrationConfiguredV2 {
        id: id.clone(),
        collect_ci_context: req.collect_ci_context,
        tracked_branches: branches("trackedBranches", req.tracked_branches)?,
        file_pattern: req.file_pattern.map(file_pattern).transpose()?,
        at: clef_pro_schema::now_ms(),
    }));
    state.append(&sealed, EVERYWHERE).await?;
    Ok(())
}
