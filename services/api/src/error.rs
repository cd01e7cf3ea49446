//! The one place where failures become HTTP responses:
//! `{"error": {"code", "message", "field"?}}` with the status of CONTRACT section 3.
//! Messages never echo a request value; internal details are logged, not returned.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clef_pro_log::LogError;
use clef_pro_projections::store::StoreError;
use clef_pro_schema::report::FieldError;
use serde_json::json;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER: &str = "5";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    BadJson(String),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
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
        Self::Internal(e.to_string())
    }
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, message))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Timeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Self::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            Self::Unavailable(e) => tracing::warn!(error = %e, "log unavailable"),
            _ => tracing::debug!(code, "request rejected"),
        }
        let mut error = json!({"code": code, "message": self.to_string()});
        if let Self::Invalid(f) = &self {
            error["field"] = f.field.clone().into();
            error["message"] = format!("{}: {}", f.field, f.message).into();
        }
        let mut resp = (status, axum::Json(json!({ "error": error }))).into_response();
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
