//! Server-only plumbing below everything else in `app`: the pool from the
//! request context, the error-to-status mapping of server functions, id and
//! version parsing, keyset cursors. It uses nothing of `app` but the leaf types.

use std::future::Future;

use leptos::prelude::use_context;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;

pub fn pool() -> Result<PgPool, AppError> {
    use_context::<PgPool>().ok_or_else(|| {
        tracing::error!("database pool missing from the request context");
        AppError::Internal
    })
}

/// Runs a server function body and maps its error to an HTTP status, once.
/// A plain HTML form post (no JavaScript) is answered with a redirect that
/// carries the error instead, so its status is left alone.
pub async fn run<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    if let Err(err) = &result {
        let parts = use_context::<http::request::Parts>();
        let from_plain_form = parts
            .as_ref()
            .and_then(|p| p.headers.get(http::header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        if !from_plain_form {
            if let (Some(options), Ok(status)) =
                (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(err.status()))
            {
                options.set_status(status);
            }
        }
        if matches!(err, AppError::Unauthenticated | AppError::Forbidden) {
            let path = parts.as_ref().map(|p| p.uri.path().to_string()).unwrap_or_default();
            tracing::warn!(%path, error = %err, "refused server function call");
        }
    }
    result
}

/// Parses an id sent by the browser (hidden field or URL).
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

/// Parses the hidden optimistic-locking version field.
pub fn parse_version(raw: &str) -> Result<i32, AppError> {
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::field("", crate::i18n::T::ErrStaleVersion))
}

/// `%text%` for ILIKE, with the user's own wildcards taken literally.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A keyset-pagination cursor: the sort value and id of the row a page starts
/// after (or ends before), sent as `value|id`.
pub struct Cursor {
    pub value: String,
    pub id: Uuid,
    /// True when walking back (`before`): the query runs in reverse order.
    pub backwards: bool,
}

impl Cursor {
    pub fn from_query(after: &str, before: &str) -> Option<Cursor> {
        let parse = |raw: &str, backwards| {
            let (value, id) = raw.rsplit_once('|')?;
            Some(Cursor { value: value.to_string(), id: Uuid::parse_str(id).ok()?, backwards })
        };
        parse(after, false).or_else(|| parse(before, true))
    }

    pub fn encode(value: &str, id: Uuid) -> String {
        format!("{value}|{id}")
    }
}

/// Cuts a fetched page (PAGE + 1 rows) to size, restores display order and
/// says whether there are pages after and before it.
pub fn finish_page<R>(mut rows: Vec<R>, page_size: i64, cursor: Option<&Cursor>) -> (Vec<R>, bool, bool) {
    let has_more = rows.len() as i64 > page_size;
    rows.truncate(page_size as usize);
    let backwards = cursor.is_some_and(|c| c.backwards);
    if backwards {
        rows.reverse();
    }
    let (more_after, more_before) = if backwards { (cursor.is_some(), has_more) } else { (has_more, cursor.is_some()) };
    (rows, more_after, more_before)
}
