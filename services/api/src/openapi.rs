//! The OpenAPI 3.1 description of the whole HTTP API. Every route is registered through
//! `utoipa_axum::routes!` (see [`crate::router`]), which requires a `#[utoipa::path]`
//! on its handler, so the document is generated from the routes themselves; this module
//! holds what the routes do not say: the title, the security schemes, and the error
//! answers shared by many routes.

use crate::credential::COOKIE;
use crate::error::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clef-pro",
        description = "Secrets-governance reporting and alerting for the Clef CLI. It stores opaque, \
commit-keyed reports and never a secret, key name, file path or recipient identity. \
Errors are always `{\"error\": {\"code\", \"message\", \"field\"}}`, `field` null when no field is at fault; see docs/api.md.",
        license(name = "See the repository")
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "ingest", description = "What the Clef CLI calls (CloudClient, REST)."),
        (name = "otlp", description = "`clef report --push` (OTLP/HTTP JSON), under `/` and `/otlp`."),
        (name = "read", description = "Viewers and admins: integrations, matrices, history, alerts."),
        (name = "admin", description = "Admins: integrations, keys, policies, notifications, tokens."),
        (name = "ops", description = "Liveness, metrics and this document."),
        (name = "dashboard", description = "Server-rendered HTML pages and forms for people."),
    )
)]
pub struct Base;

/// The three ways in: an integration's API key (CI), a person's token, and the
/// dashboard's session cookie (its writes also need the CSRF token).
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "An integration's API key (`clef_…`); `Authorization: Bearer <key>` works too.",
            ))),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A viewer or admin token for the read and admin API, or an API key for ingest.",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE,
                "The dashboard's session, set by `POST /sign-in`.",
            ))),
        );
    }
}

/// The error answers of routes that read a JSON body and append to the log.
#[derive(IntoResponses)]
pub enum WriteErrors {
    /// The body is not JSON.
    #[response(status = 400)]
    BadJson(ErrorBody),
    /// No credential, or an unknown or revoked one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The credential may not do this (a viewer on an admin route).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such integration (or one the key does not belong to).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The body is larger than the route's limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// A field is invalid or unknown; `field` names it.
    #[response(status = 422)]
    Invalid(ErrorBody),
    /// Too many failed credentials from this address.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// The log is unavailable; retry after `Retry-After` seconds. Nothing was written.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The error answers of read routes.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// No credential, or an unknown or revoked one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No such integration, report or alert.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A query or path parameter is invalid; `field` names it.
    #[response(status = 422)]
    Invalid(ErrorBody),
    /// Too many failed credentials from this address.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document of every route.", content_type = "application/json")))]
pub async fn document(
    axum::Extension(doc): axum::Extension<Document>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_ref().clone(),
    )
}

/// The document as JSON, rendered once when the router is built.
#[derive(Clone)]
pub struct Document(pub std::sync::Arc<String>);

/// Names every operation `<tag>.<handler>`, so the dashboard's `show` and the read
/// API's differ; the OTLP routes, served at `/` and again under `/otlp`, get
/// `otlp.<handler>` and `otlp.<handler>.prefixed`.
pub fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned();
            if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
                let suffix = if path.starts_with("/otlp/") {
                    ".prefixed"
                } else {
                    ""
                };
                *id = format!("{tag}.{id}{suffix}");
            }
        }
    }
}
