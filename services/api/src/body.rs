//! Reading JSON request bodies: a size limit, syntax errors as 400, shape errors as 422
//! naming the field by its JSON path. serde's own messages can quote the rejected value,
//! so only the parts that name fields or expectations are passed on.

use crate::error::ApiError;
use axum::body::Body;
use clef_pro_app::App;
use clef_pro_schema::redact::Redactor;
use serde::de::DeserializeOwned;

/// Bytes of an oversized body read and thrown away before answering 413, so that a
/// client still sending it reads the answer instead of a broken pipe. Beyond this the
/// connection is simply closed.
const DRAIN_LIMIT: usize = 64 << 20;

/// Reads at most `limit` bytes of `body` and parses them as `T` (a large body on a
/// blocking thread, one per core at a time: [`App::computing`]).
pub async fn json<T: DeserializeOwned + Send + 'static>(
    app: &App,
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    Ok(json_sized(app, body, limit).await?.0)
}

/// [`json`], with the body's size in bytes.
pub async fn json_sized<T: DeserializeOwned + Send + 'static>(
    app: &App,
    body: Body,
    limit: usize,
) -> Result<(T, usize), ApiError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if stalled(&e) {
                ApiError::Timeout
            } else {
                ApiError::TooLarge(limit)
            }
        })?;
        seen += chunk.len();
        if seen <= limit {
            bytes.extend_from_slice(&chunk);
        } else if seen > DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::TooLarge(limit));
    }
    let size = bytes.len();
    let value = app.computing(size, move |_| parse(&bytes)).await?;
    Ok((value, size))
}

/// Whether reading a body failed because the client paused longer than
/// [`crate::BODY_IDLE_TIMEOUT`].
fn stalled(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Parses a body, or says which field is wrong. A body is parsed as it is first, and
/// only a refused one again, tracking the path, to name the field: tracking it costs
/// every body half as much again (a 2.5 KB report: 8.7 against 4.4-5.7 µs).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match parse_tracked::<T>(bytes) {
        Err(named) => named,
        // The same parser fails the same way; should it not, the first error stands.
        Ok(_) => bad_json(&e),
    })
}

fn parse_tracked<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { String::new() } else { path };
                let (field, message) = describe(&inner.to_string(), field);
                ApiError::invalid(field, message)
            }
            _ => bad_json(&inner),
        }
    })?;
    de.end().map_err(|e| bad_json(&e))?;
    Ok(value)
}

fn bad_json(e: &serde_json::Error) -> ApiError {
    ApiError::BadJson(format!("line {} column {}", e.line(), e.column()))
}

/// A safe message for a serde data error, and the field it is about.
fn describe(serde_msg: &str, field: String) -> (String, String) {
    let join = |f: &str, name: &str| {
        if f.is_empty() {
            name.to_owned()
        } else {
            format!("{f}.{name}")
        }
    };
    let quoted = serde_msg.split('`').nth(1).unwrap_or("");
    if serde_msg.starts_with("unknown field") {
        // The path ends with the name from the request: never echo one that holds
        // anything secret-shaped (not even as a fingerprint).
        let field = if Redactor::finds_any(&field) {
            "(a field name that looks like a secret)".to_owned()
        } else {
            field.chars().take(200).collect()
        };
        (
            field,
            "unknown field; this API accepts only the documented fields".into(),
        )
    } else if serde_msg.starts_with("missing field") {
        (join(&field, quoted), "is required".into())
    } else if serde_msg.starts_with("duplicate field") {
        (join(&field, quoted), "appears more than once".into())
    } else {
        let expected = serde_msg
            .split(", expected ")
            .nth(1)
            .map(|e| e.split(" at line").next().unwrap_or(e));
        let message = match expected {
            Some(e) => format!("invalid value, expected {e}"),
            None => "invalid value".into(),
        };
        (field, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clef_pro_schema::wire::ReportIn;

    fn err(body: &str) -> ApiError {
        parse::<ReportIn>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_name_the_field() {
        assert!(matches!(err("{not json"), ApiError::BadJson(_)));
        let ApiError::Invalid(f) =
            err(r#"{"commitSha":"a","branch":"m","summary":{"passed":true,"bogus":1}}"#)
        else {
            panic!()
        };
        assert_eq!(f.field, "summary.bogus");
        let ApiError::Invalid(f) =
            err(r#"{"commitSha":"a","branch":"m","summary":{"passed":"SECRETVALUE"}}"#)
        else {
            panic!()
        };
        assert_eq!(f.field, "summary.passed");
        assert!(!f.message.contains("SECRETVALUE"), "{}", f.message);
        let ApiError::Invalid(f) = err(r#"{"branch":"m","summary":{"passed":true}}"#) else {
            panic!()
        };
        assert_eq!(f.field, "commitSha");
    }

    #[test]
    fn an_unknown_field_named_like_a_secret_is_not_echoed() {
        let ApiError::Invalid(f) = err(r#"{"AKIAZ2Q7V4X9LM3PW8RT":1}"#) else {
            panic!()
        };
        assert!(!f.field.contains("AKIAZ2Q7V4X9LM3PW8RT"), "{}", f.field);
    }
}
