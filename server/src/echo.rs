//! The no-JavaScript refusal echo, kept on the server.
//!
//! Without JavaScript a form posts straight to its server function; a refusal
//! redirects back to the form with the error (and the typed input) encoded in
//! the URL (`__path`, `__err`), and the page shows it from there. A link can
//! therefore forge a conflict message over a pre-filled form, and typed
//! e-mails, phones and notes end up in browser history and proxy logs.
//!
//! Here, the redirect's error is stored for the submitting session and the
//! URL carries only a random one-time id (`__echo`). A page request with that
//! id, from the same session, within `ECHO_TTL`, gets the error back (put
//! into the request the page renders from, never into the browser's URL) and
//! the row is deleted. A URL's own `__err`/`__path` are always removed before
//! the page renders, so a link can no longer show a refusal.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::Response;

use crate::{cookies, session, AppState};

/// How long an echo waits for its page (the redirect follows at once).
pub const ECHO_TTL_SECS: i32 = 300;

const ERR: &str = "__err";
const PATH: &str = "__path";
const ECHO: &str = "__echo";

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let session_hash = cookies::value(req.headers(), session::COOKIE).map(|t| session::hash(&t));
    let is_api = req.uri().path().starts_with("/api/");
    if !is_api && req.method() == Method::GET {
        if let Some(uri) = restore(&state, req.uri(), session_hash.as_deref()).await {
            *req.uri_mut() = uri;
        }
    }
    let mut res = next.run(req).await;
    if is_api && res.status().is_redirection() {
        keep(&state, &mut res, session_hash.as_deref()).await;
    }
    res
}

/// The request's URI without any echo parameters, plus the stored error when
/// `__echo` names one of this session's; `None` when there is nothing to change.
async fn restore(state: &AppState, uri: &Uri, session_hash: Option<&str>) -> Option<Uri> {
    let query = uri.query()?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    if !pairs.iter().any(|(k, _)| k == ERR || k == PATH || k == ECHO) {
        return None;
    }
    let echo_id = pairs.iter().find(|(k, _)| k == ECHO).map(|(_, v)| v.clone());
    let mut kept: Vec<(String, String)> =
        pairs.into_iter().filter(|(k, _)| k != ERR && k != PATH && k != ECHO).collect();
    if let (Some(id), Some(session_hash)) = (echo_id, session_hash) {
        let found: Result<Option<(String, String)>, sqlx::Error> = sqlx::query_as(
            "delete from form_echoes
             where id = $1 and session_hash = $2 and created_at > now() - make_interval(secs => $3)
             returning path, error",
        )
        .bind(&id)
        .bind(session_hash)
        .bind(ECHO_TTL_SECS)
        .fetch_optional(&state.pool)
        .await;
        match found {
            Ok(Some((path, error))) => {
                kept.push((PATH.to_string(), path));
                kept.push((ERR.to_string(), error));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read a form echo"),
        }
    }
    let mut rebuilt = uri.path().to_string();
    if !kept.is_empty() {
        rebuilt.push('?');
        rebuilt.push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish());
    }
    rebuilt.parse().ok()
}

/// Moves a server function's redirect error out of its `Location` into
/// `form_echoes`, leaving a one-time id. Without a session (or when storing
/// fails) the echo is dropped: the form then shows its record's own values.
async fn keep(state: &AppState, res: &mut Response, session_hash: Option<&str>) {
    let Some(location) = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
        return;
    };
    // Absolute (the referer) or a path; parsed against a placeholder base.
    let base = url::Url::parse("http://placeholder.invalid/").ok();
    let absolute = location.starts_with("http://") || location.starts_with("https://");
    let Some(mut url) = base.and_then(|b| b.join(location).ok()) else {
        return;
    };
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let err = pairs.iter().find(|(k, _)| k == ERR).map(|(_, v)| v.clone());
    let Some(err) = err else {
        return;
    };
    let path = pairs.iter().find(|(k, _)| k == PATH).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut kept: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != ERR && k != PATH).collect();
    if let Some(session_hash) = session_hash {
        let id = session::new_token();
        let stored = sqlx::query("insert into form_echoes (id, session_hash, path, error) values ($1, $2, $3, $4)")
            .bind(&id)
            .bind(session_hash)
            .bind(&path)
            .bind(&err)
            .execute(&state.pool)
            .await;
        match stored {
            Ok(_) => kept.push((ECHO.to_string(), id)),
            Err(e) => tracing::warn!(error = %e, "could not keep a form echo"),
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let rewritten = if absolute {
        url.to_string()
    } else {
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    };
    if let Ok(value) = HeaderValue::from_str(&rewritten) {
        res.headers_mut().insert(header::LOCATION, value);
    }
}

/// Echoes nobody came back for; called by the housekeeping timer.
pub async fn purge_expired(pool: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from form_echoes where created_at < now() - make_interval(secs => $1)")
        .bind(ECHO_TTL_SECS)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
