//! Axum's extractors, answering with the contract's JSON errors: their rejections become
//! [`ApiError`]s in one place (the `From` impls in `error.rs`), so no handler can answer
//! with axum's plain-text messages. Handlers use these instead of `axum::extract`'s.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts};

/// `axum::extract::Query`; a bad parameter is 422 naming it.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`; a malformed parameter is 422 naming it.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Form`; 413 past [`crate::FORM_LIMIT`], 415 for another
/// Content-Type, 422 naming a missing or malformed field.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::extract::Form), rejection(ApiError))]
pub struct Form<T>(pub T);
