//! Sessions live in Postgres so any instance can serve any request. The
//! cookie carries a random token; the table stores only its SHA-256.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use app::auth::{CurrentUser, Role};

use crate::config::Config;
use crate::cookies::{self, ScriptAccess};
use crate::pages;
use crate::secret::SecretString;
use crate::AppState;

pub const COOKIE: &str = "salesops_session";

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Set-Cookie` value carrying a new session's token, for as long as the session may live.
pub fn cookie(config: &Config, token: &SecretString) -> String {
    let max_age = i64::try_from(config.session_absolute.as_secs()).unwrap_or(i64::MAX);
    cookies::set_cookie(config, COOKIE, token.expose(), max_age, ScriptAccess::None)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn removal_cookie(config: &Config) -> String {
    cookies::set_cookie(config, COOKIE, "", 0, ScriptAccess::None)
}

/// Creates a session for `user_id` and returns the cookie token. The token
/// is a plain `String` because tests make sessions with it; callers that
/// keep it in a struct wrap it in `SecretString`.
pub async fn create(
    state: &AppState,
    user_id: Uuid,
    id_token: &str,
    keycloak_sid: Option<&str>,
    refresh_token: Option<&str>,
) -> Result<String, sqlx::Error> {
    let token = new_token();
    sqlx::query(
        "insert into sessions (token_hash, user_id, id_token, keycloak_sid, expires_at, refresh_token)
         values ($1, $2, $3, $4, now() + make_interval(secs => $5), $6)",
    )
    .bind(hash(&token))
    .bind(user_id)
    .bind(id_token)
    .bind(keycloak_sid)
    .bind(state.config.session_absolute.as_secs_f64())
    .bind(refresh_token)
    .execute(&state.pool)
    .await?;
    Ok(token)
}

/// How stale `last_seen_at` may get before a request refreshes it. Writing
/// it on every request cost an UPDATE and a synchronous commit per page,
/// script and server-function call; the idle timeout (two hours by default)
/// does not need it more precise than this.
const LAST_SEEN_PRECISION_SECS: f64 = 60.0;

/// A session due to ask Keycloak again (see `oidc::revalidate`): put in the
/// request's extensions by the session middleware, beside its `CurrentUser`.
#[derive(Clone, Debug)]
pub struct RevalidationDue {
    pub token_hash: String,
}

/// The live session's user, refreshing its idle timer at most once a
/// `LAST_SEEN_PRECISION_SECS`, and whether it is due to ask Keycloak again.
/// One statement: the read, and an update that matches no row (and so
/// writes nothing) while `last_seen_at` is recent.
pub async fn lookup(
    pool: &PgPool,
    token: &str,
    idle_secs: f64,
    revalidate_secs: f64,
) -> Result<Option<(CurrentUser, bool)>, sqlx::Error> {
    let row: Option<(Uuid, String, String, Vec<String>, bool)> = sqlx::query_as(
        "with live as (
             select s.token_hash, u.id, u.username, u.display_name, u.roles,
                    s.refresh_token is not null and s.validated_at < now() - make_interval(secs => $4) as due
             from sessions s join users u on u.id = s.user_id
             where s.token_hash = $1
               and s.expires_at > now() and s.last_seen_at > now() - make_interval(secs => $2)
         ), touched as (
             update sessions set last_seen_at = now()
             where token_hash = (select token_hash from live)
               and last_seen_at < now() - make_interval(secs => $3)
         )
         select id, username, display_name, roles, due from live",
    )
    .bind(hash(token))
    .bind(idle_secs)
    .bind(LAST_SEEN_PRECISION_SECS)
    .bind(revalidate_secs)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, username, display_name, roles, due)| (user_of(id, username, display_name, &roles), due)))
}

pub fn user_of(id: Uuid, username: String, display_name: String, roles: &[String]) -> CurrentUser {
    CurrentUser { id, username, display_name, roles: roles.iter().filter_map(|r| Role::from_realm_name(r)).collect() }
}

/// Ends sessions past their absolute or idle limit. Run by a timer
/// (`server::spawn_housekeeping`), not by requests: `lookup` already refuses
/// them, this only keeps the table small.
pub async fn purge_expired(pool: &PgPool, idle_secs: f64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "delete from sessions where expires_at <= now() or last_seen_at <= now() - make_interval(secs => $1)",
    )
    .bind(idle_secs)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// What the file handler serves: the package folder (`/pkg/…`), the
/// favicon, and whatever else sits at the top of the site root, read once
/// at start. Such requests never read or write the session table, and
/// their answers may be cached.
#[derive(Clone, Debug, Default)]
pub struct StaticFiles {
    folders: Vec<String>,
    files: Vec<String>,
}

impl StaticFiles {
    pub fn of_site(site_root: &str, pkg_dir: &str) -> StaticFiles {
        let mut folders = vec![format!("/{}/", pkg_dir.trim_matches('/'))];
        let mut files = vec!["/favicon.ico".to_string()];
        // A site not built yet (tests, a first start) has no folder: the defaults stand.
        for entry in std::fs::read_dir(site_root).into_iter().flatten().flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            match entry.file_type() {
                Ok(t) if t.is_dir() => folders.push(format!("/{name}/")),
                Ok(_) => files.push(format!("/{name}")),
                Err(_) => {}
            }
        }
        StaticFiles { folders, files }
    }

    pub fn serves(&self, path: &str) -> bool {
        self.folders.iter().any(|f| path.starts_with(f.as_str())) || self.files.iter().any(|f| f == path)
    }
}

/// Paths served to anyone: sign-in itself, static files, health, language.
fn is_public(path: &str) -> bool {
    path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path.starts_with("/lang/")
        || matches!(path, "/healthz" | "/readyz" | "/favicon.ico" | "/metrics")
}

/// A mutation must come from our own pages: Origin (or, failing that,
/// Referer) must be the public URL's origin. SameSite=Lax is the second wall.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(o) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return o == origin;
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|r| r == origin || r.starts_with(&format!("{origin}/")))
}

/// Resolves the session, refuses cross-site mutations, and sends pages to
/// sign-in (or to the "no access" page) before anything renders. Static
/// files skip the session; every other answer is `Cache-Control: no-store`
/// (unless its handler chose otherwise): pages and `/api` answers carry the
/// user's data, which no shared or browser cache may keep.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let lang = pages::lang_of(req.headers());
    let mutation = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Keycloak's back-channel call is server to server and proves itself with a signed token.
    if mutation && path != "/auth/backchannel-logout" && !same_origin(req.headers(), &state.config.public_origin()) {
        tracing::warn!(%path, "refused cross-site request");
        return no_store(pages::message(StatusCode::FORBIDDEN, lang, app::i18n::T::ErrForbidden, None).into_response());
    }
    if state.static_files.serves(path) {
        return next.run(req).await;
    }
    no_store(gate(state, req, next).await)
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().entry(header::CACHE_CONTROL).or_insert(header::HeaderValue::from_static("no-store"));
    res
}

async fn gate(state: AppState, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let lang = pages::lang_of(req.headers());

    let idle = state.config.session_idle.as_secs_f64();
    let revalidate = state.config.session_revalidate.as_secs_f64();
    let token = cookies::value(req.headers(), COOKIE);
    let user = match &token {
        Some(token) => match lookup(&state.pool, token, idle, revalidate).await {
            Ok(Some((user, due))) => {
                if due {
                    req.extensions_mut().insert(RevalidationDue { token_hash: hash(token) });
                }
                Some(user)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return pages::message(StatusCode::SERVICE_UNAVAILABLE, lang, app::i18n::T::ErrInternal, None)
                    .into_response();
            }
        },
        None => None,
    };

    let is_page = !is_public(&path) && !path.starts_with("/api/") && req.method() == Method::GET;
    // A session due to ask Keycloak again is decided after it has asked
    // (`oidc::revalidate`, the next layer): its roles may be about to change.
    let due = req.extensions().get::<RevalidationDue>().is_some();
    if is_page && !due {
        match &user {
            None => {
                let return_to = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let login = format!("/auth/login?return_to={}", app::ui::encode(return_to));
                return Redirect::to(&state.config.public(&login)).into_response();
            }
            Some(u) if !u.has_access() => {
                return pages::no_access(lang, &u.display_name).into_response();
            }
            _ => {}
        }
    }
    if let Some(user) = user {
        // Every later line of this request's log names its user.
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        req.extensions_mut().insert(user);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        assert!(!same_origin(&h, "http://127.0.0.1:3000"));
        h.insert(header::REFERER, "http://127.0.0.1:3000/accounts".parse().expect("header"));
        assert!(same_origin(&h, "http://127.0.0.1:3000"));
        h.insert(header::REFERER, "http://127.0.0.1:30001/x".parse().expect("header"));
        assert!(!same_origin(&h, "http://127.0.0.1:3000"));
        h.insert(header::ORIGIN, "http://evil.example".parse().expect("header"));
        assert!(!same_origin(&h, "http://127.0.0.1:3000"));
    }
}
