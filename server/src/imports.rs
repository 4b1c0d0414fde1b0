//! The upload route and the per-instance import worker (issue 10).
//!
//! The upload is a plain multipart POST (no JavaScript needed) with its own
//! body limit, just above the largest file the reader accepts. A file that is
//! not a readable spreadsheet is refused right here, before anything is
//! stored; a readable one is kept in Postgres and the admin is sent to its
//! preview. Every instance runs one worker that claims queued imports.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

use app::auth::{CurrentUser, Role};
use app::i18n::T;
use app::import::read::{read_upload, Limits};
use app::import::ReadChoice;

use crate::{pages, AppState};

/// The reader's own limit is 20 MB; the multipart framing adds a little.
pub const UPLOAD_BODY_LIMIT: usize = 21 * 1024 * 1024;

pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)
}

fn refused(refusal: app::import::Refusal) -> Response {
    Redirect::to(&format!("/import?refused={}", refusal.code())).into_response()
}

/// The signed-in admin, or the page that refuses the request.
fn admin(user: Option<Extension<CurrentUser>>, lang: app::i18n::Lang) -> Result<CurrentUser, Box<Response>> {
    match user {
        None => {
            Err(Box::new(pages::message(StatusCode::UNAUTHORIZED, lang, T::ErrUnauthenticated, None).into_response()))
        }
        Some(Extension(user)) if !user.has(Role::Admin) => {
            Err(Box::new(pages::message(StatusCode::FORBIDDEN, lang, T::ErrForbidden, None).into_response()))
        }
        Some(Extension(user)) => Ok(user),
    }
}

pub async fn upload(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    headers: axum::http::HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let lang = pages::lang_of(&headers);
    let user = match admin(user, lang) {
        Ok(user) => user,
        Err(refused) => return *refused,
    };
    let Ok(mut multipart) = multipart else {
        return pages::message(StatusCode::BAD_REQUEST, lang, T::ImportNoFile, None).into_response();
    };
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    // Over the body limit, or a broken body.
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return refused(app::import::Refusal::FileTooLarge)
                    }
                    Err(_) => {
                        return pages::message(StatusCode::BAD_REQUEST, lang, T::ImportNoFile, None).into_response()
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return refused(app::import::Refusal::FileTooLarge)
            }
            Err(_) => return pages::message(StatusCode::BAD_REQUEST, lang, T::ImportNoFile, None).into_response(),
        }
    }
    let Some((name, bytes)) = file else {
        return pages::message(StatusCode::BAD_REQUEST, lang, T::ImportNoFile, None).into_response();
    };
    // Read it once now: a file that cannot be read is never stored.
    let checked = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || read_upload(&bytes, &ReadChoice::default(), &Limits::default()).map(|_| ()))
            .await
    };
    match checked {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => return refused(refusal),
        Err(e) => {
            tracing::error!(error = %e, "upload check failed");
            return pages::message(StatusCode::INTERNAL_SERVER_ERROR, lang, T::ErrInternal, None).into_response();
        }
    }
    match app::import::server::store_upload(&state.pool, &user, &name, &bytes).await {
        Ok(id) => Redirect::to(&format!("/import/{id}")).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "upload not stored");
            pages::message(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                lang,
                T::ErrInternal,
                None,
            )
            .into_response()
        }
    }
}

/// How often an idle worker looks for queued imports.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// This instance's import worker: claims queued imports one at a time.
pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let pool = state.pool.clone();
    let instance = format!(
        "{}-{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "instance".into()),
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            loop {
                match app::import::server::run_next(&pool, &instance).await {
                    Ok(Some(id)) => tracing::info!(import = %id, "import finished"),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "import worker could not claim a job");
                        break;
                    }
                }
            }
        }
    })
}

/// `GET /import/{id}/report.xlsx`: the rows an import left out, with the reasons.
pub async fn report(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    headers: axum::http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let lang = pages::lang_of(&headers);
    if let Err(refused) = admin(user, lang) {
        return *refused;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return pages::message(StatusCode::NOT_FOUND, lang, T::ErrNotFound, None).into_response();
    };
    match app::import::server::error_report(&state.pool, id, lang).await {
        Ok(bytes) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"import-{}-errors.xlsx\"", id.simple()),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            pages::message(status, lang, T::ErrNotFound, None).into_response()
        }
    }
}
