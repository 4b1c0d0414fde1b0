//! Sign-in with Keycloak: authorization code flow with PKCE, state and nonce
//! (all kept server-side, single use, expiring), ID token verification,
//! session creation, and sign-out of both SalesOps and Keycloak.
//!
//! A sign-in is bound to the browser that started it: `/auth/login` sets a
//! random cookie (`SIGN_IN_COOKIE`) and stores its SHA-256 with the attempt;
//! the callback finishes only with that cookie. Without it, anyone holding a
//! callback URL (state and code) could finish the sign-in in their own
//! browser, or plant their account in a victim's (login CSRF).
//!
//! Each route has its own span (`#[tracing::instrument]`, inside the request's
//! span). Spans skip every argument: the query strings and forms here carry
//! authorization codes, tokens and cookies, which must never be logged.

use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreErrorResponseType};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use app::i18n::{Lang, T};

use crate::cookies::{self, ScriptAccess};
use crate::limits;
use crate::pages::{lang_of, message};
use crate::secret::SecretString;
use crate::session;
use crate::AppState;

/// How long a started sign-in may take before its state is refused.
const LOGIN_TTL_SECS: f64 = 600.0;
/// Discovery is cached; Keycloak's keys rotate rarely.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// Clock skew tolerated on the ID token's expiry.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// Keycloak's signing keys are fetched again only for a key id not seen
/// yet (a rotation), and at most this often: a flood of tokens with made-up
/// key ids must not turn into a flood of requests to Keycloak.
const KEYS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The cookie binding a sign-in attempt to the browser that started it.
pub const SIGN_IN_COOKIE: &str = "salesops_sign_in";

#[derive(Default)]
pub struct OidcCache {
    metadata: tokio::sync::RwLock<Option<(Instant, ProviderMetadataWithLogout)>>,
    /// For back-channel logout tokens. A mutex, not a lock for readers: a
    /// refetch is rare, and concurrent posts with a new key id should wait
    /// for one fetch rather than each start their own.
    keys: tokio::sync::Mutex<SigningKeys>,
}

#[derive(Default)]
struct SigningKeys {
    set: Option<jsonwebtoken::jwk::JwkSet>,
    fetched: Option<Instant>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("identity provider unreachable: {0}")]
    Unreachable(String),
    #[error("sign-in refused: {0}")]
    Refused(String),
    /// The bound on sign-ins in progress is reached (`login_attempts_max`).
    #[error("too many sign-ins in progress")]
    Busy,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl SignInError {
    fn respond(&self, lang: Lang) -> Response {
        match self {
            SignInError::Unreachable(detail) => {
                tracing::warn!(%detail, "keycloak unreachable");
                message(StatusCode::SERVICE_UNAVAILABLE, lang, T::IdpUnavailable, Some(("/auth/login", T::SignIn)))
                    .into_response()
            }
            SignInError::Refused(detail) => {
                tracing::warn!(%detail, "sign-in refused");
                message(StatusCode::BAD_REQUEST, lang, T::SignInFailed, Some(("/auth/login", T::SignIn)))
                    .into_response()
            }
            SignInError::Busy => {
                tracing::warn!("sign-in refused: too many attempts in progress");
                crate::pages::too_many(lang, T::SignInBusy, Duration::from_secs(60))
            }
            SignInError::Database(e) => {
                tracing::error!(error = %e, "sign-in database error");
                message(StatusCode::INTERNAL_SERVER_ERROR, lang, T::ErrInternal, Some(("/auth/login", T::SignIn)))
                    .into_response()
            }
        }
    }
}

async fn metadata(state: &AppState) -> Result<ProviderMetadataWithLogout, SignInError> {
    if let Some((at, m)) = state.oidc.metadata.read().await.as_ref() {
        if at.elapsed() < METADATA_TTL {
            return Ok(m.clone());
        }
    }
    let issuer =
        IssuerUrl::new(state.config.oidc.issuer_url.clone()).map_err(|e| SignInError::Unreachable(e.to_string()))?;
    let m = ProviderMetadataWithLogout::discover_async(issuer, &state.http)
        .await
        .map_err(|e| SignInError::Unreachable(e.to_string()))?;
    *state.oidc.metadata.write().await = Some((Instant::now(), m.clone()));
    Ok(m)
}

fn redirect_url(state: &AppState) -> Result<RedirectUrl, SignInError> {
    RedirectUrl::new(state.config.public("/auth/callback")).map_err(|e| SignInError::Refused(e.to_string()))
}

/// A client built from discovery: the authorization endpoint is known, the
/// token and userinfo endpoints are as the provider announced them.
type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The client as Keycloak knows it. The client secret leaves its `Secret`
/// only here, into openidconnect's own redacting `ClientSecret`.
fn client(state: &AppState, m: ProviderMetadataWithLogout) -> Result<DiscoveredClient, SignInError> {
    Ok(CoreClient::from_provider_metadata(
        m,
        ClientId::new(state.config.oidc.client_id.clone()),
        Some(ClientSecret::new(state.config.oidc.client_secret.expose().clone())),
    )
    .set_redirect_uri(redirect_url(state)?))
}

/// Only same-site paths (`app::domain::same_site_path`, the one check every
/// redirect target from a request goes through); anything else goes to the
/// account list.
pub fn safe_return_to(raw: Option<&str>) -> String {
    raw.and_then(app::domain::same_site_path).unwrap_or("/accounts").to_string()
}

/// SHA-256 of the binding cookie's value: what the attempt row keeps.
fn binding_hash(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// Compares two hashes without stopping at the first difference, so the
/// time taken says nothing about how much of a guess was right.
fn same_hash(stored: &[u8], presented: &[u8; 32]) -> bool {
    stored.len() == presented.len()
        && std::hint::black_box(stored.iter().zip(presented).fold(0u8, |diff, (a, b)| diff | (a ^ b))) == 0
}

/// Removes the binding cookie: an attempt is finished (or failed) either way.
fn clear_binding(state: &AppState, res: &mut Response) {
    if let Ok(v) = cookies::set_cookie(&state.config, SIGN_IN_COOKIE, "", 0, ScriptAccess::None).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// Starts a sign-in. Anyone may call this, and each call writes a row, so
/// it is rate-limited per client address before anything else happens, and
/// the number of attempts in progress is bounded (`start_login`).
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Query(q): Query<LoginQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let client = limits::client_address(&headers, &extensions, state.config.trusted_proxy);
    if let Err(retry_after) = state.sign_in_limiter.take(client) {
        tracing::warn!(%client, "sign-in rate limit reached");
        return crate::pages::too_many(lang, T::SignInTooManyFromHere, retry_after);
    }
    // Waited too long for a turn, or the attempts table is full: the same answer.
    let Some(_turn) = state.sign_in_gate.enter().await else {
        return SignInError::Busy.respond(lang);
    };
    let binding = session::new_token();
    match start_login(&state, safe_return_to(q.return_to.as_deref()), &binding).await {
        Ok(url) => {
            let mut res = Redirect::to(&url).into_response();
            let max_age = LOGIN_TTL_SECS as i64;
            let cookie = cookies::set_cookie(&state.config, SIGN_IN_COOKIE, &binding, max_age, ScriptAccess::None);
            if let Ok(v) = cookie.parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => e.respond(lang),
    }
}

/// Deletes sign-in attempts that can no longer finish. Run by a timer
/// (`server::spawn_housekeeping`), once a minute per instance: sweeping on
/// every `/auth/login` made each anonymous request a scan of the table.
pub async fn purge_expired_attempts(pool: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from login_attempts where created_at <= now() - make_interval(secs => $1)")
        .bind(LOGIN_TTL_SECS)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

async fn start_login(state: &AppState, return_to: String, binding: &str) -> Result<String, SignInError> {
    let m = metadata(state).await?;
    let client = client(state, m)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    // Inserted only while fewer than `login_attempts_max` live attempts
    // exist, so a flood cannot grow the table without bound. The count stops
    // at the bound and reads the created_at index, whatever the table holds.
    // Concurrent starts may pass the bound by a few; that is its precision.
    let inserted = sqlx::query(
        "insert into login_attempts (state, nonce, pkce_verifier, return_to, browser_binding)
         select $1, $2, $3, $4, $5
         where (select count(*) from (select 1 from login_attempts
                                      where created_at > now() - make_interval(secs => $6)
                                      limit $7) live) < $7",
    )
    .bind(csrf.secret())
    .bind(nonce.secret())
    .bind(verifier.secret())
    .bind(return_to)
    .bind(binding_hash(binding).to_vec())
    .bind(LOGIN_TTL_SECS)
    .bind(i64::from(state.config.login_attempts_max))
    .execute(&state.pool)
    .await?;
    if inserted.rows_affected() == 0 {
        state.sign_in_gate.full();
        return Err(SignInError::Busy);
    }
    Ok(url.to_string())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<SecretString>,
    state: Option<String>,
    error: Option<String>,
    session_state: Option<String>,
}

/// A finished sign-in: the new session's cookie token and where to go next.
struct SignedIn {
    session_token: SecretString,
    return_to: String,
}

/// `user_id` is recorded once Keycloak's answer is verified.
#[tracing::instrument(name = "sign_in_callback", skip_all, fields(user_id = tracing::field::Empty))]
pub async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<CallbackQuery>) -> Response {
    let lang = lang_of(&headers);
    let binding = cookies::value(&headers, SIGN_IN_COOKIE);
    let result = finish_login(&state, q, binding.as_deref()).await;
    // Session id rotation: whatever session this browser had before is ended.
    if let (Ok(_), Some(old)) = (&result, cookies::value(&headers, session::COOKIE)) {
        if let Err(e) = sqlx::query("delete from sessions where token_hash = $1")
            .bind(session::hash(&old))
            .execute(&state.pool)
            .await
        {
            tracing::error!(error = %e, "could not end the previous session");
        }
    }
    let mut res = match result {
        Ok(signed_in) => {
            let mut res = Redirect::to(&state.config.public(&signed_in.return_to)).into_response();
            if let Ok(v) = session::cookie(&state.config, &signed_in.session_token).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => e.respond(lang),
    };
    if binding.is_some() {
        clear_binding(&state, &mut res);
    }
    res
}

async fn finish_login(state: &AppState, q: CallbackQuery, binding: Option<&str>) -> Result<SignedIn, SignInError> {
    let attempt_state = q.state.ok_or_else(|| SignInError::Refused("callback without state".into()))?;
    // The states we issue are short base64url; anything else is refused
    // before it reaches the database (which cannot even hold a NUL byte).
    let well_formed = (1..=128).contains(&attempt_state.len())
        && attempt_state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(SignInError::Refused("malformed state".into()));
    }
    // Single use: the row is deleted whether or not the rest succeeds.
    // A replayed callback URL may come from anywhere: spending the state even
    // when the browser does not match leaves an intercepted URL worthless.
    let attempt: Option<(String, String, String, Vec<u8>)> = sqlx::query_as(
        "delete from login_attempts where state = $1 and created_at > now() - make_interval(secs => $2)
         returning nonce, pkce_verifier, return_to, browser_binding",
    )
    .bind(&attempt_state)
    .bind(LOGIN_TTL_SECS)
    .fetch_optional(&state.pool)
    .await?;
    let (nonce, verifier, return_to, stored_binding) =
        attempt.ok_or_else(|| SignInError::Refused("unknown, reused or expired state".into()))?;
    match binding {
        Some(b) if same_hash(&stored_binding, &binding_hash(b)) => {}
        Some(_) => return Err(SignInError::Refused("callback from another browser (binding cookie differs)".into())),
        None => return Err(SignInError::Refused("callback without the sign-in binding cookie".into())),
    }
    if let Some(err) = q.error {
        return Err(SignInError::Refused(format!("keycloak answered {err}")));
    }
    let code = q.code.ok_or_else(|| SignInError::Refused("callback without code".into()))?;

    let m = metadata(state).await?;
    let client = client(state, m)?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.expose().clone()))
        .map_err(|e| SignInError::Refused(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&state.http)
        .await
        .map_err(|e| SignInError::Refused(format!("token exchange: {e}")))?;
    let id_token = response.id_token().ok_or_else(|| SignInError::Refused("no id token".into()))?;
    let refresh_token = response.refresh_token().map(|t| t.secret().clone());
    let verifier = client
        .id_token_verifier()
        .set_time_fn(|| chrono::Utc::now() - CLOCK_SKEW)
        // A token "issued" in the future is as wrong as an expired one.
        .set_issue_time_verifier_fn(|iat| {
            if iat > chrono::Utc::now() + CLOCK_SKEW {
                Err("issued in the future".to_string())
            } else {
                Ok(())
            }
        });
    let claims =
        id_token.claims(&verifier, &Nonce::new(nonce)).map_err(|e| SignInError::Refused(format!("id token: {e}")))?;

    let subject = claims.subject().to_string();
    let username = claims.preferred_username().map(|u| u.to_string()).unwrap_or_else(|| subject.clone());
    // Korean order: family name first.
    let display_name =
        match (claims.family_name().and_then(|n| n.get(None)), claims.given_name().and_then(|n| n.get(None))) {
            (Some(f), Some(g)) => format!("{}{}", f.as_str(), g.as_str()),
            _ => claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()).unwrap_or_else(|| username.clone()),
        };
    let email = claims.email().map(|e| e.to_string());
    let id_token = SecretString::from(id_token.to_string());
    // The token is verified above; its extra claims (roles, sid) are read from the same payload.
    let extra = payload_claims(id_token.expose());
    let roles = roles_claim(&extra).unwrap_or_default();
    let sid = extra.get("sid").and_then(|s| s.as_str()).map(str::to_string).or(q.session_state);

    let user_id = upsert_user(state, &subject, &username, &display_name, email.as_deref(), &roles).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user_id));
    let session_token = SecretString::from(
        session::create(state, user_id, id_token.expose(), sid.as_deref(), refresh_token.as_deref()).await?,
    );
    tracing::info!(%username, ?roles, "signed in");
    Ok(SignedIn { session_token, return_to })
}

/// The realm roles Keycloak's `roles` mapper puts in a token; `None` without the claim.
fn roles_claim(claims: &serde_json::Map<String, serde_json::Value>) -> Option<Vec<String>> {
    claims
        .get("roles")
        .and_then(|r| r.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

fn payload_claims(jwt: &str) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    jwt.split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Users mirror Keycloak: matched on subject, or a demo user claimed by username.
async fn upsert_user(
    state: &AppState,
    subject: &str,
    username: &str,
    display_name: &str,
    email: Option<&str>,
    roles: &[String],
) -> Result<Uuid, sqlx::Error> {
    let mut tx = state.pool.begin().await?;
    // The row this identity is: its own, or a demo row claimed by username.
    let target: Option<(Uuid,)> = sqlx::query_as(
        "select id from users where subject = $1 or (subject is null and username = $2)
         order by (subject = $1) desc nulls last limit 1 for update",
    )
    .bind(subject)
    .bind(username)
    .fetch_optional(&mut *tx)
    .await?;
    let target = target.map(|(id,)| id);
    // A username still held by another row (that user was renamed or deleted
    // in Keycloak, or is a demo row nobody claimed) is freed first, so a
    // Keycloak rename never locks anyone out; the old row keeps its records.
    sqlx::query(
        "update users set username = username || '~' || left(coalesce(subject, id::text), 8), updated_at = now()
         where username = $1 and id is distinct from $2",
    )
    .bind(username)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    let id = match target {
        Some(id) => {
            sqlx::query(
                "update users set subject = $2, username = $3, display_name = $4, email = $5, roles = $6,
                                  updated_at = now()
                 where id = $1",
            )
            .bind(id)
            .bind(subject)
            .bind(username)
            .bind(display_name)
            .bind(email)
            .bind(roles)
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let (id,): (Uuid,) = sqlx::query_as(
                "insert into users (subject, username, display_name, email, roles) values ($1, $2, $3, $4, $5) returning id",
            )
            .bind(subject)
            .bind(username)
            .bind(display_name)
            .bind(email)
            .bind(roles)
            .fetch_one(&mut *tx)
            .await?;
            id
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Roles and account status follow Keycloak: a session due for it (see
/// `session::RevalidationDue`) asks Keycloak again with its refresh token.
/// - New tokens: the roles they carry replace the user's, at once for this
///   request too, and the new refresh token is kept.
/// - `invalid_grant` (the user was disabled or deleted, or the Keycloak
///   session ended): the session ends; a page goes to sign-in, an API call
///   continues signed out.
/// - Keycloak unreachable or failing: the session carries on as it was and
///   asks again after the next interval; signed-in users are not locked out.
///
/// Only one request per session asks: the claim moves `validated_at` first.
pub async fn revalidate(State(state): State<AppState>, mut req: axum::extract::Request, next: Next) -> Response {
    let Some(due) = req.extensions_mut().remove::<session::RevalidationDue>() else {
        return next.run(req).await;
    };
    match refresh_session(&state, &due.token_hash).await {
        Ok(Revalidated::Unchanged) => {}
        Ok(Revalidated::Roles(roles)) => {
            if let Some(user) = req.extensions_mut().get_mut::<app::auth::CurrentUser>() {
                tracing::info!(user_id = %user.id, ?roles, "roles changed in Keycloak");
                *user = session::user_of(user.id, user.username.clone(), user.display_name.clone(), &roles);
            }
        }
        Ok(Revalidated::Ended) => {
            req.extensions_mut().remove::<app::auth::CurrentUser>();
        }
        Err(e) => tracing::warn!(error = %e, "could not ask Keycloak again; the session carries on"),
    }
    // The session layer left this page's decision to us: a page for someone
    // signed out or without a role is asked for again, and the session layer
    // (no longer due) sends it to sign-in or to "no access".
    let allowed = req.extensions().get::<app::auth::CurrentUser>().is_some_and(|u| u.has_access());
    if is_page_request(&req) && !allowed {
        return Redirect::to(&req.uri().to_string()).into_response();
    }
    next.run(req).await
}

/// What the session layer treats as a page (public paths never carry a session due).
fn is_page_request(req: &axum::extract::Request) -> bool {
    req.method() == axum::http::Method::GET && !req.uri().path().starts_with("/api/")
}

enum Revalidated {
    /// Another request is asking, or the roles are the same.
    Unchanged,
    Roles(Vec<String>),
    Ended,
}

async fn refresh_session(state: &AppState, token_hash: &str) -> Result<Revalidated, SignInError> {
    let claimed: Option<(String, Uuid, Vec<String>)> = sqlx::query_as(
        "update sessions s set validated_at = now()
         from users u
         where s.token_hash = $1 and u.id = s.user_id and s.refresh_token is not null
           and s.validated_at < now() - make_interval(secs => $2)
         returning s.refresh_token, u.id, u.roles",
    )
    .bind(token_hash)
    .bind(state.config.session_revalidate.as_secs_f64())
    .fetch_optional(&state.pool)
    .await?;
    let Some((refresh_token, user_id, old_roles)) = claimed else {
        return Ok(Revalidated::Unchanged);
    };
    let m = metadata(state).await?;
    let client = client(state, m)?;
    let refresh_token = RefreshToken::new(refresh_token);
    let request = client.exchange_refresh_token(&refresh_token).map_err(|e| SignInError::Unreachable(e.to_string()))?;
    let response = match request.request_async(&state.http).await {
        Ok(r) => r,
        Err(RequestTokenError::ServerResponse(err)) if *err.error() == CoreErrorResponseType::InvalidGrant => {
            sqlx::query("delete from sessions where token_hash = $1").bind(token_hash).execute(&state.pool).await?;
            tracing::info!(%user_id, "session ended: Keycloak no longer honours it (user disabled or signed out)");
            return Ok(Revalidated::Ended);
        }
        Err(e) => return Err(SignInError::Unreachable(format!("refresh: {e}"))),
    };
    // Straight from the token endpoint over our own connection, so its
    // claims are taken as they are (OpenID Connect Core 3.1.3.7).
    let roles_in = |jwt: &str| roles_claim(&payload_claims(jwt));
    let roles = response
        .id_token()
        .and_then(|t| roles_in(&t.to_string()))
        .or_else(|| roles_in(response.access_token().secret()))
        .unwrap_or_default();
    let next_refresh = response.refresh_token().map(|t| t.secret().clone());
    let mut tx = state.pool.begin().await?;
    if let Some(next_refresh) = next_refresh {
        sqlx::query("update sessions set refresh_token = $2 where token_hash = $1")
            .bind(token_hash)
            .bind(next_refresh)
            .execute(&mut *tx)
            .await?;
    }
    let changed = roles != old_roles;
    if changed {
        sqlx::query("update users set roles = $2, updated_at = now() where id = $1")
            .bind(user_id)
            .bind(&roles)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(if changed { Revalidated::Roles(roles) } else { Revalidated::Unchanged })
}

/// Ends the SalesOps session, then Keycloak's (RP-initiated logout).
#[tracing::instrument(name = "logout", skip_all, fields(user_id = tracing::field::Empty))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut id_token: Option<SecretString> = None;
    if let Some(token) = cookies::value(&headers, session::COOKIE) {
        let ended = "delete from sessions where token_hash = $1 returning id_token, user_id";
        match sqlx::query_as::<_, (String, Uuid)>(ended).bind(session::hash(&token)).fetch_optional(&state.pool).await {
            Ok(Some((hint, user_id))) => {
                tracing::Span::current().record("user_id", tracing::field::display(user_id));
                id_token = Some(SecretString::from(hint));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not delete session"),
        }
    }
    let signed_out = state.config.public("/auth/signed-out");
    let target = match (metadata(&state).await, id_token) {
        (Ok(m), Some(hint)) => match &m.additional_metadata().end_session_endpoint {
            Some(end) => {
                let mut url = end.url().clone();
                url.query_pairs_mut()
                    .append_pair("id_token_hint", hint.expose())
                    .append_pair("post_logout_redirect_uri", &signed_out)
                    .append_pair("client_id", &state.config.oidc.client_id);
                url.to_string()
            }
            None => signed_out,
        },
        _ => signed_out,
    };
    let mut res = Redirect::to(&target).into_response();
    if let Ok(v) = session::removal_cookie(&state.config).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn signed_out(headers: HeaderMap) -> Response {
    message(StatusCode::OK, lang_of(&headers), T::SignedOut, Some(("/auth/login", T::SignIn))).into_response()
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: Option<String>,
}

/// Switches the interface language (a cookie, a year long) and goes back.
/// Records the language chosen, not the path segment as sent.
#[tracing::instrument(name = "set_language", skip_all, fields(lang = tracing::field::Empty))]
pub async fn set_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    tracing::Span::current().record("lang", lang.code());
    let back = safe_return_to(q.to.as_deref());
    let mut res = Redirect::to(&state.config.public(&back)).into_response();
    let cookie =
        cookies::set_cookie(&state.config, app::ui::LANG_COOKIE, lang.code(), 365 * 24 * 3600, ScriptAccess::Readable);
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Claims of an OpenID Connect back-channel logout token.
#[derive(Deserialize)]
struct LogoutClaims {
    iat: Option<i64>,
    jti: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    events: Option<serde_json::Map<String, serde_json::Value>>,
    nonce: Option<String>,
}

const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Deserialize)]
pub struct BackchannelForm {
    logout_token: SecretString,
}

/// Keycloak tells us a user's Keycloak session ended (signed out elsewhere,
/// ended by an admin): end the matching SalesOps sessions.
#[tracing::instrument(name = "backchannel_logout", skip_all, fields(sessions_ended = tracing::field::Empty))]
pub async fn backchannel_logout(
    State(state): State<AppState>,
    axum::Form(form): axum::Form<BackchannelForm>,
) -> Response {
    match end_sessions_for(&state, form.logout_token.expose()).await {
        Ok(ended) => {
            tracing::Span::current().record("sessions_ended", ended);
            tracing::info!(ended, "back-channel logout");
            (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "back-channel logout refused");
            (StatusCode::BAD_REQUEST, [(header::CACHE_CONTROL, "no-store")]).into_response()
        }
    }
}

async fn end_sessions_for(state: &AppState, token: &str) -> Result<u64, SignInError> {
    use jsonwebtoken::{decode, decode_header, Validation};
    let refused = |m: &str| SignInError::Refused(m.to_string());
    // Everything that can be checked without Keycloak is checked first: a
    // garbage post costs no request to Keycloak.
    let header = decode_header(token).map_err(|e| refused(&e.to_string()))?;
    // Keycloak signs with RS256; the token's own header does not choose the algorithm.
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(refused("unexpected signing algorithm"));
    }
    let kid = header.kid.as_deref().ok_or_else(|| refused("no key id"))?;
    let m = metadata(state).await?;
    let key = signing_key(state, &m, kid).await?;
    let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[m.issuer().as_str()]);
    validation.set_audience(&[state.config.oidc.client_id.as_str()]);
    // jsonwebtoken knows only exp/nbf/sub/iss/aud as required claims; iat and jti are checked below.
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.leeway = CLOCK_SKEW.num_seconds().unsigned_abs();
    let claims = decode::<LogoutClaims>(token, &key, &validation).map_err(|e| refused(&e.to_string()))?.claims;
    let now = chrono::Utc::now().timestamp();
    let fresh =
        claims.iat.is_some_and(|iat| iat <= now + CLOCK_SKEW.num_seconds() && now - iat <= LOGIN_TTL_SECS as i64);
    if !fresh || claims.jti.as_deref().is_none_or(str::is_empty) {
        return Err(refused("logout token without a recent iat or a jti"));
    }
    if claims.nonce.is_some() || !claims.events.as_ref().is_some_and(|e| e.contains_key(BACKCHANNEL_EVENT)) {
        return Err(refused("not a logout token"));
    }
    let result = match (claims.sid, claims.sub) {
        (Some(sid), _) => {
            sqlx::query("delete from sessions where keycloak_sid = $1").bind(sid).execute(&state.pool).await?
        }
        (None, Some(sub)) => {
            sqlx::query("delete from sessions where user_id = (select id from users where subject = $1)")
                .bind(sub)
                .execute(&state.pool)
                .await?
        }
        (None, None) => return Err(refused("logout token names no session or user")),
    };
    Ok(result.rows_affected())
}

/// Keycloak's key `kid`, from the cache; fetched again only when the id is
/// unknown and the last fetch is older than `KEYS_REFETCH_INTERVAL`.
async fn signing_key(
    state: &AppState,
    m: &ProviderMetadataWithLogout,
    kid: &str,
) -> Result<jsonwebtoken::DecodingKey, SignInError> {
    let refused = |m: &str| SignInError::Refused(m.to_string());
    let mut keys = state.oidc.keys.lock().await;
    let cached = keys.set.as_ref().and_then(|set| set.find(kid)).cloned();
    let jwk = match cached {
        Some(jwk) => jwk,
        None => {
            if keys.fetched.is_some_and(|at| at.elapsed() < KEYS_REFETCH_INTERVAL) {
                return Err(refused("unknown signing key (keys fetched recently)"));
            }
            // Counted from the attempt, so a failing Keycloak is not asked again at once either.
            keys.fetched = Some(Instant::now());
            let set: jsonwebtoken::jwk::JwkSet = state
                .http
                .get(m.jwks_uri().url().clone())
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| SignInError::Unreachable(e.to_string()))?
                .json()
                .await
                .map_err(|e| SignInError::Unreachable(e.to_string()))?;
            let found = set.find(kid).cloned();
            keys.set = Some(set);
            found.ok_or_else(|| refused("unknown signing key"))?
        }
    };
    jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| refused(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::{safe_return_to, same_hash};

    #[test]
    fn return_to_accepts_only_relative_paths() {
        assert_eq!(safe_return_to(Some("/accounts?q=구름")), "/accounts?q=구름");
        assert_eq!(safe_return_to(Some("//evil.example/x")), "/accounts");
        assert_eq!(safe_return_to(Some("https://evil.example")), "/accounts");
        assert_eq!(safe_return_to(Some("/\\evil.example")), "/accounts");
        assert_eq!(safe_return_to(Some("/%0d%0aSet-Cookie")), "/accounts");
        assert_eq!(safe_return_to(None), "/accounts");
    }

    #[test]
    fn binding_hashes_compare_whole() {
        let a = super::binding_hash("browser-a");
        assert!(same_hash(&a, &a));
        assert!(!same_hash(&super::binding_hash("browser-b"), &a));
        assert!(!same_hash(&a[..31], &a), "a shorter stored value never matches");
    }
}
