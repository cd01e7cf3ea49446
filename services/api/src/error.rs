//! The one place where failures become HTTP responses:
//! `{"error": {"code", "message", "field"}}` (`field` null when no field is at fault) with the status of docs/api.md.
//! Messages never echo a request value; internal details are logged, not returned.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{
    BytesRejection, FailedToBufferBody, FormRejection, PathRejection, QueryRejection,
};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clef_pro_log::LogError;
use clef_pro_projections::store::StoreError;
use clef_pro_schema::report::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER: &str = "5";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    BadJson(String),
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    #[error("the request body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    /// A write refused before it reached its handler (CSRF, origin); says why.
    #[error("{0}")]
    Refused(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request body arrived too slowly")]
    Timeout,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("too many failed attempts; retry later")]
    RateLimited,
    #[error("the log is unavailable")]
    Unavailable(#[source] LogError),
    #[error("internal error")]
    Internal(String),
    /// A command or query failed inside (the log, a store); logged with its sources.
    #[error("internal error")]
    Failed(#[source] clef_pro_app::Error),
}

impl From<clef_pro_app::Error> for ApiError {
    fn from(e: clef_pro_app::Error) -> Self {
        use clef_pro_app::Error as E;
        match e {
            E::Invalid(f) => Self::Invalid(f),
            E::Unauthorized => Self::Unauthorized,
            E::Forbidden => Self::Forbidden,
            E::NotFound(what) => Self::NotFound(what),
            E::Conflict(why) => Self::Conflict(why),
            E::Unavailable(e) => Self::Unavailable(e),
            other => Self::Failed(other),
        }
    }
}

/// An error and its sources, `: `-separated, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Unavailable(_) => Self::Unavailable(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Failed(e.into())
    }
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, message))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden | Self::Refused(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Timeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Self::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) | Self::Failed(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            Self::Failed(e) => tracing::error!(error = %chain(e), "request failed"),
            Self::Unavailable(e) => tracing::warn!(error = %e, "log unavailable"),
            _ => tracing::debug!(code, "request rejected"),
        }
        let error = match &self {
            Self::Invalid(f) => ErrorDetail {
                code,
                message: format!("{}: {}", f.field, f.message),
                field: Some(f.field.clone()),
            },
            _ => ErrorDetail {
                code,
                message: self.to_string(),
                field: None,
            },
        };
        let mut resp = (status, axum::Json(ErrorBody { error })).into_response();
        // The rest of the body was not read: the connection cannot carry another request,
        // and saying so keeps clients from reusing it.
        if matches!(self, Self::TooLarge(_) | Self::Timeout) {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if matches!(self, Self::Unavailable(_) | Self::RateLimited) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
        }
        resp
    }
}

/// The request timeout layer answers 408 with no body; this gives it the contract's.
pub async fn timeout_as_json(resp: Response) -> Response {
    if resp.status() == StatusCode::REQUEST_TIMEOUT
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        return ApiError::Timeout.into_response();
    }
    resp
}

/// Every error answer: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid", "message": "reports[0].commitSha: must be 40 or 64 hexadecimal characters", "field": "reports[0].commitSha"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid_json`, `unauthorized`, `forbidden`, `not_found`,
    /// `method_not_allowed`, `conflict`, `request_timeout`, `payload_too_large`,
    /// `unsupported_media_type`, `invalid`, `rate_limited`, `unavailable`, `internal`.
    pub code: &'static str,
    /// For people. Never quotes a value from the request.
    pub message: String,
    /// The JSON path (or query, path or form parameter) that was rejected; `null` when
    /// the error is not about one (the contract's shape always has the key).
    pub field: Option<String>,
}

/// The part of an extractor's message that names a field: `limit: invalid digit…`
/// gives `limit`. Anything that does not look like a parameter name gives nothing, so
/// a value from the request is never echoed.
fn named_field(message: &str) -> Option<String> {
    // serde names a missing field itself; that name comes from our types, not the request.
    let name = match message.split_once("missing field `") {
        Some((_, rest)) => rest.split('`').next()?,
        None => message.split_once(": ")?.0,
    };
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.[]-".contains(&b));
    ok.then(|| name.to_owned())
}

/// Query strings: an unparseable parameter is 422 naming it.
impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        let detail = e.body_text();
        let detail = detail
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or("");
        Self::invalid(
            named_field(detail).unwrap_or_else(|| "query".into()),
            "invalid query parameter",
        )
    }
}

/// Path parameters: every one is an opaque id, so a malformed one names nothing.
impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        match e {
            PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
                ErrorKind::ParseErrorAtKey { key, .. }
                | ErrorKind::InvalidUtf8InPathParam { key }
                | ErrorKind::DeserializeError { key, .. } => {
                    Self::invalid(key, "invalid path parameter")
                }
                _ => Self::invalid("path", "invalid path parameter"),
            },
            other => Self::Internal(other.body_text()),
        }
    }
}

/// Forms (the sign-in form and the dashboard's): the size limit is 413, a wrong
/// Content-Type 415, a missing or malformed field 422 naming it.
impl From<FormRejection> for ApiError {
    fn from(e: FormRejection) -> Self {
        match &e {
            FormRejection::InvalidFormContentType(_) => {
                Self::UnsupportedMediaType("application/x-www-form-urlencoded")
            }
            FormRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::LengthLimitError(_),
            )) => Self::TooLarge(crate::FORM_LIMIT),
            FormRejection::BytesRejection(_) => Self::Timeout,
            FormRejection::FailedToDeserializeForm(_)
            | FormRejection::FailedToDeserializeFormBody(_) => {
                let detail = e.body_text();
                let detail = detail.split_once(": ").map_or("", |(_, d)| d);
                Self::invalid(
                    named_field(detail).unwrap_or_else(|| "form".into()),
                    "invalid or missing form field",
                )
            }
            other => Self::Internal(other.body_text()),
        }
    }
}
