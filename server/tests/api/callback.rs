//! The Keycloak sign-in callback and back-channel logout, against a fake
//! OpenID provider started inside each test.
//!
//! The end-to-end suite signs in through a real Keycloak; these tests cover
//! what a real Keycloak will not produce: wrong nonces, expired tokens, foreign
//! signatures, wrong audiences and issuers, token endpoint errors, stale
//! states and hostile `return_to` values.
//!
//! The fake provider listens on 127.0.0.1:<random port> and serves discovery,
//! its JWKS and a token endpoint whose answer each test sets beforehand. ID and
//! logout tokens are RS256 JWTs signed with the test key in `fixtures/`
//! (`oidc-test-key.pem`, public half in `oidc-test-jwk.json`); a second,
//! "foreign" key (`oidc-foreign-*`) is never published in the JWKS.
//!
//! The app is the one every integration test gets (`TestApp`), on its own
//! database, with the issuer, client id and client secret overridden to match
//! the fake provider. Needs `TEST_DATABASE_URL`, as the other modules do:
//! `scripts/postgres.sh start test` and
//! `TEST_DATABASE_URL=postgres://salesops@127.0.0.1:55433/postgres cargo test -p server --test api callback::`.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use app::auth::{CurrentUser, Role};
// ORIGIN, the app's public URL, is plain http: cookies must not be Secure.
use crate::helpers::{Overrides, Resp, TestApp, ORIGIN};

const CLIENT_ID: &str = "salesops";
const CLIENT_SECRET: &str = "test-client-secret";
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const SIGN_IN_FAILED_KO: &str = "로그인하지 못했습니다";
const SIGN_IN_FAILED_EN: &str = "Sign-in failed";

const TEST_KEY_PEM: &str = include_str!("fixtures/oidc-test-key.pem");
const TEST_JWK: &str = include_str!("fixtures/oidc-test-jwk.json");
const FOREIGN_KEY_PEM: &str = include_str!("fixtures/oidc-foreign-key.pem");
const FOREIGN_JWK: &str = include_str!("fixtures/oidc-foreign-jwk.json");

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// --- the fake provider

/// How a token is signed.
#[derive(Clone, Copy, Debug)]
enum Signer {
    /// The provider's published key, with its kid.
    Provider,
    /// The foreign key under its own kid, unknown to the JWKS.
    ForeignUnknownKid,
    /// The foreign key under the provider's kid: known kid, wrong signature.
    ForeignKnownKid,
    /// HS256 keyed with the client secret (algorithm confusion).
    ClientSecretHs256,
}

fn kid_of(jwk: &str) -> String {
    let v: Value = serde_json::from_str(jwk).expect("fixture JWK is JSON");
    v["kid"].as_str().expect("fixture JWK has a kid").to_string()
}

fn sign(claims: &Value, signer: Signer) -> String {
    let (alg, kid, key) = match signer {
        Signer::Provider => (
            Algorithm::RS256,
            Some(kid_of(TEST_JWK)),
            EncodingKey::from_rsa_pem(TEST_KEY_PEM.as_bytes()).expect("test key"),
        ),
        Signer::ForeignUnknownKid => (
            Algorithm::RS256,
            Some(kid_of(FOREIGN_JWK)),
            EncodingKey::from_rsa_pem(FOREIGN_KEY_PEM.as_bytes()).expect("foreign key"),
        ),
        Signer::ForeignKnownKid => (
            Algorithm::RS256,
            Some(kid_of(TEST_JWK)),
            EncodingKey::from_rsa_pem(FOREIGN_KEY_PEM.as_bytes()).expect("foreign key"),
        ),
        Signer::ClientSecretHs256 => (Algorithm::HS256, None, EncodingKey::from_secret(CLIENT_SECRET.as_bytes())),
    };
    let mut header = Header::new(alg);
    header.kid = kid;
    jsonwebtoken::encode(&header, claims, &key).expect("sign token")
}

/// What the token endpoint answers next.
#[derive(Clone, Debug)]
enum TokenReply {
    /// A successful token response carrying this ID token.
    IdToken(String),
    /// A successful token response without any ID token.
    NoIdToken,
    /// An OAuth error response.
    Error(StatusCode, Value),
}

/// One request the token endpoint received.
#[derive(Clone, Debug)]
struct TokenRequest {
    authorization: Option<String>,
    form: HashMap<String, String>,
}

struct IdpState {
    issuer: String,
    reply: Mutex<TokenReply>,
    requests: Mutex<Vec<TokenRequest>>,
    /// How often the JWKS was asked for (discovery and back-channel logout).
    jwks_requests: AtomicUsize,
}

pub(crate) struct FakeIdp {
    issuer: String,
    shared: Arc<IdpState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn discovery(State(s): State<Arc<IdpState>>) -> Json<Value> {
    let base = &s.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "end_session_endpoint": format!("{base}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(s): State<Arc<IdpState>>) -> Json<Value> {
    s.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let key: Value = serde_json::from_str(TEST_JWK).expect("fixture JWK is JSON");
    Json(json!({ "keys": [key] }))
}

async fn token(
    State(s): State<Arc<IdpState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    s.requests.lock().expect("requests lock").push(TokenRequest { authorization, form });
    let reply = s.reply.lock().expect("reply lock").clone();
    let ok = |id_token: Option<String>| {
        let mut body = json!({
            "access_token": format!("at-{}", Uuid::new_v4().simple()),
            "refresh_token": format!("rt-{}", Uuid::new_v4().simple()),
            "token_type": "Bearer",
            "expires_in": 300,
        });
        if let Some(t) = id_token {
            body["id_token"] = Value::String(t);
        }
        (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
    };
    match reply {
        TokenReply::IdToken(t) => ok(Some(t)),
        TokenReply::NoIdToken => ok(None),
        TokenReply::Error(status, body) => (status, Json(body)).into_response(),
    }
}

impl FakeIdp {
    async fn start() -> FakeIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake provider");
        let issuer = format!("http://{}", listener.local_addr().expect("local address"));
        let shared = Arc::new(IdpState {
            issuer: issuer.clone(),
            reply: Mutex::new(TokenReply::Error(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}))),
            requests: Mutex::new(Vec::new()),
            jwks_requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("fake provider");
        });
        FakeIdp { issuer, shared, server }
    }

    fn reply(&self, reply: TokenReply) {
        *self.shared.reply.lock().expect("reply lock") = reply;
    }

    /// The next token response carries `claims`, signed by `signer`.
    fn reply_id_token(&self, claims: &Value, signer: Signer) {
        self.reply(TokenReply::IdToken(sign(claims, signer)));
    }

    fn requests(&self) -> Vec<TokenRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// ID token claims as Keycloak issues them for `salesops`.
    fn id_claims(&self, nonce: &str, subject: &str, username: &str, roles: &[&str], sid: &str) -> Value {
        let t = now();
        json!({
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "sub": subject,
            "typ": "ID",
            "iat": t,
            "auth_time": t,
            "exp": t + 300,
            "nonce": nonce,
            "sid": sid,
            "preferred_username": username,
            "given_name": "민수",
            "family_name": "김",
            "name": "김 민수",
            "email": format!("{username}@salesops.example"),
            "email_verified": true,
            "roles": roles,
        })
    }

    /// Logout token claims naming a Keycloak session.
    fn logout_claims(&self, subject: &str, sid: &str) -> Value {
        let t = now();
        json!({
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": subject,
            "sid": sid,
            "iat": t,
            "exp": t + 120,
            "jti": Uuid::new_v4().to_string(),
            "typ": "Logout",
            "events": { BACKCHANNEL_EVENT: {} },
        })
    }
}

// --- the app, on a fresh database, pointed at the fake provider

/// The sign-in failure page, as these tests expect it.
trait SignInFailed {
    fn assert_sign_in_failed(&self);
}

impl SignInFailed for Resp {
    #[track_caller]
    fn assert_sign_in_failed(&self) {
        self.assert_status(StatusCode::BAD_REQUEST);
        assert!(self.body.contains(SIGN_IN_FAILED_KO), "not the sign-in failure page: {}", self.body);
        assert!(self.session_cookie().is_none(), "a failed sign-in set a session cookie: {:?}", self.set_cookies());
    }
}

/// A started sign-in, as read from the redirect to the provider.
#[derive(Debug)]
pub(crate) struct Login {
    state: String,
    nonce: String,
    code_challenge: String,
    query: HashMap<String, String>,
    /// The value of the cookie binding the attempt to this browser.
    binding: String,
    /// That cookie as set (`salesops_sign_in=…; Path=/; …`).
    binding_cookie: String,
}

/// The shared test app, configured to trust the fake provider beside it.
pub(crate) struct App {
    app: TestApp,
    idp: FakeIdp,
}

impl Deref for App {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl App {
    pub(crate) async fn spawn() -> App {
        Self::spawn_with(Overrides::new()).await
    }

    /// With some other settings changed as well.
    pub(crate) async fn spawn_with(overrides: Overrides) -> App {
        let idp = FakeIdp::start().await;
        let overrides = overrides
            .env("OIDC_ISSUER_URL", idp.issuer.clone())
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env_default("SALESOPS_PUBLIC_URL", ORIGIN);
        let app = TestApp::spawn_with(overrides).await;
        App { app, idp }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        let cookies: Vec<(&str, &str)> = cookie.map(|t| (server::session::COOKIE, t)).into_iter().collect();
        self.get_with_cookies(path, &cookies, &[]).await
    }

    /// A GET with these cookies (name, value) and headers.
    pub(crate) async fn get_with_cookies(
        &self,
        path: &str,
        cookies: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder().method(Method::GET).uri(path);
        if !cookies.is_empty() {
            let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            b = b.header(header::COOKIE, pairs.join("; "));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    /// GET /auth/login and read state, nonce and PKCE challenge from the redirect.
    pub(crate) async fn login(&self, return_to: &str) -> Login {
        let path = format!("/auth/login?{}", serde_urlencoded::to_string([("return_to", return_to)]).expect("query"));
        let res = self.get(&path, None).await;
        Self::started(&res, &self.idp.issuer)
    }

    /// The sign-in a successful `/auth/login` answer started.
    #[track_caller]
    pub(crate) fn started(res: &Resp, issuer: &str) -> Login {
        assert!(res.status.is_redirection(), "login must redirect; got {} {}", res.status, res.body);
        let location = res.location().expect("login redirects somewhere");
        let url = url::Url::parse(location).expect("absolute authorization URL");
        assert_eq!(
            format!("{}{}", url.origin().ascii_serialization(), url.path()),
            format!("{issuer}/authorize"),
            "login goes to the provider's authorization endpoint"
        );
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let field =
            |k: &str| query.get(k).cloned().unwrap_or_else(|| panic!("authorization URL without {k}: {location}"));
        assert_eq!(field("code_challenge_method"), "S256", "PKCE with S256");
        let binding_cookie = res
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{}=", server::oidc::SIGN_IN_COOKIE)))
            .unwrap_or_else(|| panic!("login sets the binding cookie: {:?}", res.set_cookies()));
        let binding = cookie_value(&binding_cookie);
        Login {
            state: field("state"),
            nonce: field("nonce"),
            code_challenge: field("code_challenge"),
            query,
            binding,
            binding_cookie,
        }
    }

    /// The callback as the browser that started the sign-in sends it.
    async fn callback_query(&self, query: &[(&str, &str)], login: &Login, cookie: Option<&str>) -> Resp {
        self.callback_in_browser(query, Some(&login.binding), cookie).await
    }

    /// The callback from a browser with this binding cookie (`None`: a
    /// browser that never started a sign-in).
    async fn callback_in_browser(&self, query: &[(&str, &str)], binding: Option<&str>, cookie: Option<&str>) -> Resp {
        let path = format!("/auth/callback?{}", serde_urlencoded::to_string(query).expect("query"));
        let mut cookies: Vec<(&str, &str)> = cookie.map(|t| (server::session::COOKIE, t)).into_iter().collect();
        cookies.extend(binding.map(|b| (server::oidc::SIGN_IN_COOKIE, b)));
        self.get_with_cookies(&path, &cookies, &[]).await
    }

    /// The provider's redirect back with a code for `login`, in the browser that started it.
    async fn callback(&self, login: &Login, cookie: Option<&str>) -> Resp {
        self.callback_query(&[("code", "anything"), ("state", &login.state)], login, cookie).await
    }

    /// A whole sign-in; returns the callback's answer and the new session token.
    async fn sign_in(
        &self,
        subject: &str,
        username: &str,
        roles: &[&str],
        sid: &str,
        cookie: Option<&str>,
    ) -> (Resp, String) {
        let login = self.login("/accounts").await;
        let claims = self.idp.id_claims(&login.nonce, subject, username, roles, sid);
        self.idp.reply_id_token(&claims, Signer::Provider);
        let res = self.callback(&login, cookie).await;
        res.assert_status(StatusCode::SEE_OTHER);
        let token = session_token(&res);
        (res, token)
    }

    /// A callback whose code exchange goes through but whose ID token must be
    /// refused: the failure page, and exactly one more token request.
    async fn callback_refusing_id_token(&self, login: &Login) {
        let before = self.idp.requests().len();
        self.callback(login, None).await.assert_sign_in_failed();
        assert_eq!(self.idp.requests().len(), before + 1, "the code was exchanged: the ID token itself was refused");
    }

    /// The signed-in user, as the app's own client asks for it.
    async fn me(&self, token: &str) -> Option<CurrentUser> {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/me")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, format!("{}={token}", server::session::COOKIE))
            .body(Body::empty())
            .expect("request");
        let res = self.send(req).await;
        res.assert_status(StatusCode::OK);
        serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("cannot read /api/me answer {}: {e}", res.body))
    }

    /// Keycloak's server-to-server call: no cookie, no Origin.
    async fn backchannel_logout(&self, logout_token: &str) -> Resp {
        let body = serde_urlencoded::to_string([("logout_token", logout_token)]).expect("form");
        let req = Request::builder()
            .method(Method::POST)
            .uri("/auth/backchannel-logout")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// (user id, keycloak_sid) of the session behind a cookie token, if it is live.
    async fn session(&self, token: &str) -> Option<(Uuid, Option<String>)> {
        sqlx::query_as("select user_id, keycloak_sid from sessions where token_hash = $1")
            .bind(server::session::hash(token))
            .fetch_optional(&self.pool)
            .await
            .expect("session row")
    }

    /// (id, username, display_name, email, roles) of the user with this subject.
    async fn user_by_subject(&self, subject: &str) -> Option<(Uuid, String, String, Option<String>, Vec<String>)> {
        sqlx::query_as("select id, username, display_name, email, roles from users where subject = $1")
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .expect("user row")
    }

    /// Nothing was signed in: no user, no session.
    async fn assert_nobody_signed_in(&self) {
        assert_eq!(self.count("sessions").await, 0, "no session may exist");
        assert_eq!(self.count("users").await, 0, "no user may be created");
    }
}

/// The session token from a successful callback's Set-Cookie.
#[track_caller]
fn session_token(res: &Resp) -> String {
    let cookie = res.session_cookie().unwrap_or_else(|| panic!("no session cookie set: {:?}", res.set_cookies()));
    cookie_value(&cookie)
}

/// The value of a `Set-Cookie` header.
#[track_caller]
fn cookie_value(set_cookie: &str) -> String {
    let value = set_cookie.split(';').next().expect("cookie pair");
    value.split_once('=').expect("name=value").1.to_string()
}

/// Cookie attributes, lower-cased names: "path" → "/", "httponly" → "".
fn cookie_attributes(cookie: &str) -> HashMap<String, String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| {
            let a = a.trim();
            match a.split_once('=') {
                Some((k, v)) => (k.to_ascii_lowercase(), v.to_string()),
                None => (a.to_ascii_lowercase(), String::new()),
            }
        })
        .collect()
}

// --- 1. the happy path

#[tokio::test]
async fn a_valid_id_token_signs_in_and_sets_the_session_cookie() {
    let app = App::spawn().await;
    let login = app.login("/accounts").await;
    assert_eq!(login.query.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(login.query.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(login.query.get("redirect_uri").map(String::as_str), Some("http://127.0.0.1:3000/auth/callback"));
    let scopes: Vec<&str> = login.query["scope"].split(' ').collect();
    for s in ["openid", "profile", "email"] {
        assert!(scopes.contains(&s), "scope {s} requested: {scopes:?}");
    }
    assert_eq!(app.count("login_attempts").await, 1, "the attempt is kept server-side");

    let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    let id_token = sign(&claims, Signer::Provider);
    app.idp.reply(TokenReply::IdToken(id_token.clone()));
    // The attempt is bound to this browser: an HttpOnly, SameSite=Lax cookie
    // living as long as the attempt, whose SHA-256 the attempt row keeps.
    let attrs = cookie_attributes(&login.binding_cookie);
    assert!(attrs.contains_key("httponly"), "HttpOnly: {}", login.binding_cookie);
    assert_eq!(attrs.get("samesite").map(String::as_str), Some("Lax"), "{}", login.binding_cookie);
    assert_eq!(attrs.get("max-age").map(String::as_str), Some("600"), "{}", login.binding_cookie);
    assert!(!attrs.contains_key("secure"), "no Secure for an http public URL: {}", login.binding_cookie);
    assert!(login.binding.len() >= 43, "a 256-bit random value: {}", login.binding);
    let (stored,): (Vec<u8>,) = sqlx::query_as("select browser_binding from login_attempts where state = $1")
        .bind(&login.state)
        .fetch_one(&app.pool)
        .await
        .expect("attempt row");
    assert_eq!(stored, Sha256::digest(login.binding.as_bytes()).to_vec(), "only the hash is stored");

    let res = app.callback(&login, None).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("http://127.0.0.1:3000/accounts"));
    let cleared = res
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{}=;", server::oidc::SIGN_IN_COOKIE)))
        .unwrap_or_else(|| panic!("the binding cookie is cleared: {:?}", res.set_cookies()));
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // The cookie: HttpOnly, SameSite=Lax, Path=/, no Secure over plain http.
    let cookie = res.session_cookie().expect("session cookie");
    let attrs = cookie_attributes(&cookie);
    assert!(attrs.contains_key("httponly"), "HttpOnly: {cookie}");
    assert_eq!(attrs.get("samesite").map(String::as_str), Some("Lax"), "SameSite=Lax: {cookie}");
    assert_eq!(attrs.get("path").map(String::as_str), Some("/"), "Path=/: {cookie}");
    assert!(!attrs.contains_key("secure"), "no Secure for an http public URL: {cookie}");
    assert_eq!(attrs.get("max-age").map(String::as_str), Some("43200"), "12 hours: {cookie}");
    let token = session_token(&res);
    assert!(token.len() >= 43, "a 256-bit random token: {token}");

    // The code exchange: the code, the redirect URI, the PKCE verifier
    // matching the challenge, and the client's credentials.
    let requests = app.idp.requests();
    assert_eq!(requests.len(), 1, "one token request");
    let req = &requests[0];
    assert_eq!(req.form.get("grant_type").map(String::as_str), Some("authorization_code"));
    assert_eq!(req.form.get("code").map(String::as_str), Some("anything"));
    assert_eq!(req.form.get("redirect_uri").map(String::as_str), Some("http://127.0.0.1:3000/auth/callback"));
    let verifier = req.form.get("code_verifier").expect("PKCE verifier sent");
    assert_eq!(
        b64url(&Sha256::digest(verifier.as_bytes())),
        login.code_challenge,
        "verifier matches the S256 challenge"
    );
    let basic =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    assert_eq!(req.authorization.as_deref(), Some(basic.as_str()), "client_secret_basic");

    // The user mirrors the token; one session, bound to Keycloak's sid.
    let (user_id, username, display_name, email, roles) = app.user_by_subject("kc-subject-1").await.expect("user row");
    assert_eq!(username, "minsu.kim");
    assert_eq!(display_name, "김민수", "family name first");
    assert_eq!(email.as_deref(), Some("minsu.kim@salesops.example"));
    assert_eq!(roles, vec!["sales-rep".to_string()]);
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("sessions").await, 1);
    assert_eq!(app.session(&token).await, Some((user_id, Some("kc-sid-1".to_string()))));
    let (stored_id_token, hours): (String, f64) = sqlx::query_as(
        "select id_token, extract(epoch from expires_at - created_at)::float8 / 3600 from sessions where token_hash = $1",
    )
    .bind(server::session::hash(&token))
    .fetch_one(&app.pool)
    .await
    .expect("session row");
    assert_eq!(stored_id_token, id_token, "the ID token is kept for the logout hint");
    assert!((hours - 12.0).abs() < 0.01, "absolute lifetime 12 h, got {hours}");
    assert_eq!(app.count("login_attempts").await, 0, "the state is consumed");

    // The cookie works.
    let me = app.me(&token).await.expect("signed in");
    assert_eq!(me.id, user_id);
    assert_eq!(me.username, "minsu.kim");
    assert_eq!(me.display_name, "김민수");
    assert_eq!(me.roles, vec![Role::Rep]);
    app.get("/accounts", Some(&token)).await.assert_status(StatusCode::OK);

    // The same state again (a replayed callback) is refused.
    app.idp.reply(TokenReply::IdToken(id_token));
    app.callback(&login, None).await.assert_sign_in_failed();
    assert_eq!(app.count("sessions").await, 1);
    assert_eq!(app.idp.requests().len(), 1, "a replayed state never reaches the token endpoint");
}

#[tokio::test]
async fn signing_in_again_updates_the_same_user() {
    let app = App::spawn().await;
    let (_, first) = app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1", None).await;
    let (id, ..) = app.user_by_subject("kc-subject-1").await.expect("user");

    // Keycloak changed the roles (and the username) in between.
    let (_, second) =
        app.sign_in("kc-subject-1", "minsu.kim2", &["sales-manager", "sales-viewer"], "kc-sid-2", None).await;
    assert_eq!(app.count("users").await, 1, "matched on subject, not duplicated");
    let (id2, username, _, _, roles) = app.user_by_subject("kc-subject-1").await.expect("user");
    assert_eq!(id2, id);
    assert_eq!(username, "minsu.kim2");
    assert_eq!(roles, vec!["sales-manager".to_string(), "sales-viewer".to_string()]);

    // Two browsers, two sessions; both see the current roles.
    assert_eq!(app.count("sessions").await, 2);
    for token in [&first, &second] {
        let me = app.me(token).await.expect("signed in");
        assert_eq!(me.id, id);
        assert_eq!(me.roles, vec![Role::Manager, Role::Viewer]);
    }
}

#[tokio::test]
async fn a_demo_user_is_claimed_by_username_on_first_sign_in() {
    let app = App::spawn().await;
    let (demo_id,): (Uuid,) = sqlx::query_as(
        "insert into users (subject, username, display_name, roles) values (null, 'minsu.kim', '데모', '{}') returning id",
    )
    .fetch_one(&app.pool)
    .await
    .expect("demo user");
    let (_, token) = app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1", None).await;
    assert_eq!(app.count("users").await, 1);
    let (id, ..) = app.user_by_subject("kc-subject-1").await.expect("claimed");
    assert_eq!(id, demo_id);
    assert_eq!(app.me(&token).await.expect("signed in").roles, vec![Role::Rep]);
}

/// Keycloak renamed a user to a username another row still holds (a
/// colleague renamed away from it, or a demo row): the sign-in still works,
/// and the other row keeps its records under a freed name.
#[tokio::test]
async fn a_user_renamed_to_a_username_another_row_holds_still_signs_in() {
    let app = App::spawn().await;
    app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1", None).await;
    app.sign_in("kc-subject-2", "seoyeon.lee", &["sales-rep"], "kc-sid-2", None).await;
    let (lee, ..) = app.user_by_subject("kc-subject-2").await.expect("lee");

    // In Keycloak, lee left and kim took the username "seoyeon.lee".
    let (_, token) = app.sign_in("kc-subject-1", "seoyeon.lee", &["sales-rep"], "kc-sid-3", None).await;
    let (kim, username, ..) = app.user_by_subject("kc-subject-1").await.expect("kim");
    assert_eq!(username, "seoyeon.lee");
    assert_eq!(app.me(&token).await.expect("signed in").id, kim);
    let (old_id, old_name, ..) = app.user_by_subject("kc-subject-2").await.expect("lee's row stays");
    assert_eq!(old_id, lee);
    assert_ne!(old_name, "seoyeon.lee", "the old row's name is freed");
    assert_eq!(app.count("users").await, 2);

    // The same with a demo row nobody claimed holding the name.
    sqlx::query("insert into users (subject, username, display_name, roles) values (null, 'demo.park', '데모', '{}')")
        .execute(&app.pool)
        .await
        .expect("demo row");
    let (_, token) = app.sign_in("kc-subject-2", "demo.park", &["sales-manager"], "kc-sid-4", None).await;
    let me = app.me(&token).await.expect("signed in");
    assert_eq!((me.id, me.roles), (lee, vec![Role::Manager]), "lee's own row, not the demo row");
}

/// The session's next re-validation is due (the clock moved in the data).
async fn revalidation_due(app: &App) {
    sqlx::query("update sessions set validated_at = now() - interval '1 hour'")
        .execute(&app.pool)
        .await
        .expect("age the last validation");
}

/// Roles and account status follow Keycloak: at the next re-validation the
/// session asks again with its refresh token; a removed role takes effect,
/// a disabled user (invalid_grant) is signed out, and an unreachable
/// Keycloak locks nobody out.
#[tokio::test]
async fn a_session_asks_keycloak_again_and_follows_its_answer() {
    let app = App::spawn().await;
    let (_, token) = app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1", None).await;
    let stored: (Option<String>,) =
        sqlx::query_as("select refresh_token from sessions").fetch_one(&app.pool).await.expect("session");
    let refresh = stored.0.expect("the refresh token is kept");
    assert_eq!(app.get("/accounts", Some(&token)).await.status, StatusCode::OK);

    // Not due yet: Keycloak is not asked on every request.
    let asked = app.idp.requests().len();
    app.get("/accounts", Some(&token)).await.assert_status(StatusCode::OK);
    assert_eq!(app.idp.requests().len(), asked);

    // Keycloak removed the role: the page is asked for again and shows "no access".
    app.idp.reply_id_token(&app.idp.id_claims("", "kc-subject-1", "minsu.kim", &[], "kc-sid-1"), Signer::Provider);
    revalidation_due(&app).await;
    let res = app.get("/accounts", Some(&token)).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("/accounts"));
    let request = app.idp.requests().pop().expect("asked Keycloak");
    assert_eq!(request.form.get("grant_type").map(String::as_str), Some("refresh_token"));
    assert_eq!(request.form.get("refresh_token"), Some(&refresh));
    assert_eq!(app.get("/accounts", Some(&token)).await.status, StatusCode::FORBIDDEN, "no role, no access");
    assert!(app.me(&token).await.expect("still signed in").roles.is_empty());

    // Keycloak unreachable (failing): the session carries on as it was.
    app.idp.reply(TokenReply::Error(StatusCode::SERVICE_UNAVAILABLE, json!({})));
    revalidation_due(&app).await;
    app.get("/accounts", Some(&token)).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.get("/accounts", Some(&token)).await.status, StatusCode::FORBIDDEN);
    assert!(app.session(&token).await.is_some(), "not locked out by a failing Keycloak");

    // The role is back: the page shows at once.
    app.idp.reply_id_token(
        &app.idp.id_claims("", "kc-subject-1", "minsu.kim", &["sales-manager"], "kc-sid-1"),
        Signer::Provider,
    );
    revalidation_due(&app).await;
    assert_eq!(app.get("/accounts", Some(&token)).await.status, StatusCode::OK);
    assert_eq!(app.me(&token).await.expect("signed in").roles, vec![Role::Manager]);

    // The user was disabled in Keycloak: the session ends, and the page goes to sign-in.
    app.idp.reply(TokenReply::Error(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_grant", "error_description": "Account disabled"}),
    ));
    revalidation_due(&app).await;
    app.get("/accounts", Some(&token)).await.assert_status(StatusCode::SEE_OTHER);
    assert!(app.session(&token).await.is_none(), "the session is gone");
    let res = app.get("/accounts", Some(&token)).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert!(res.location().is_some_and(|l| l.contains("/auth/login")), "{:?}", res.location());
}

#[tokio::test]
async fn signing_in_with_an_old_session_cookie_ends_the_old_session() {
    let app = App::spawn().await;
    let (_, old) = app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1", None).await;
    let (_, other_browser) = app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-2", None).await;

    let (_, new) = app.sign_in("kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-3", Some(&old)).await;
    assert_ne!(new, old, "a new session id");
    assert!(app.session(&old).await.is_none(), "the old session is gone");
    assert!(app.me(&old).await.is_none(), "the old cookie no longer signs in");
    assert!(app.session(&new).await.is_some());
    assert!(app.session(&other_browser).await.is_some(), "another browser's session stays");
    assert_eq!(app.count("sessions").await, 2);

    // A failed sign-in leaves the current session alone.
    let login = app.login("/accounts").await;
    let claims = app.idp.id_claims("not-the-nonce", "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-4");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback(&login, Some(&new)).await.assert_sign_in_failed();
    assert!(app.session(&new).await.is_some(), "a failed sign-in does not end the session");
}

// --- 2. nonce

#[tokio::test]
async fn a_wrong_or_missing_nonce_is_refused() {
    let app = App::spawn().await;

    let login = app.login("/accounts").await;
    let claims = app.idp.id_claims("not-the-nonce", "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback_refusing_id_token(&login).await;
    app.assert_nobody_signed_in().await;
    assert_eq!(app.count("login_attempts").await, 0, "the state is spent even so");

    // Another attempt's nonce does not fit either.
    let first = app.login("/accounts").await;
    let second = app.login("/accounts").await;
    let claims = app.idp.id_claims(&first.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback_refusing_id_token(&second).await;
    app.assert_nobody_signed_in().await;

    let login = app.login("/accounts").await;
    let mut claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    claims.as_object_mut().expect("object").remove("nonce");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback_refusing_id_token(&login).await;
    app.assert_nobody_signed_in().await;

    // The failure page follows the browser's language.
    let login = app.login("/accounts").await;
    let claims = app.idp.id_claims("not-the-nonce", "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    let path = format!("/auth/callback?code=anything&state={}", login.state);
    let binding = [(server::oidc::SIGN_IN_COOKIE, login.binding.as_str())];
    let res = app.get_with_cookies(&path, &binding, &[("accept-language", "en")]).await;
    res.assert_status(StatusCode::BAD_REQUEST);
    assert!(res.body.contains(SIGN_IN_FAILED_EN), "English failure page: {}", res.body);
    app.assert_nobody_signed_in().await;
}

// --- 3. expiry

#[tokio::test]
async fn an_expired_id_token_is_refused_beyond_the_clock_skew() {
    let app = App::spawn().await;
    for expired_secs_ago in [600, 60] {
        let login = app.login("/accounts").await;
        let mut claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
        claims["exp"] = json!(now() - expired_secs_ago);
        claims["iat"] = json!(now() - expired_secs_ago - 300);
        app.idp.reply_id_token(&claims, Signer::Provider);
        app.callback_refusing_id_token(&login).await;
        app.assert_nobody_signed_in().await;
    }

    // Ten seconds past expiry is within the 30 s skew.
    let login = app.login("/accounts").await;
    let mut claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    claims["exp"] = json!(now() - 10);
    claims["iat"] = json!(now() - 310);
    app.idp.reply_id_token(&claims, Signer::Provider);
    let res = app.callback(&login, None).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let token = session_token(&res);
    assert!(app.me(&token).await.is_some());
    assert_eq!(app.count("sessions").await, 1);
}

// --- 4. signature

#[tokio::test]
async fn a_token_not_signed_by_the_provider_is_refused() {
    let app = App::spawn().await;
    for signer in [Signer::ForeignUnknownKid, Signer::ForeignKnownKid, Signer::ClientSecretHs256] {
        let login = app.login("/accounts").await;
        let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
        app.idp.reply_id_token(&claims, signer);
        eprintln!("signed with {signer:?}");
        app.callback_refusing_id_token(&login).await;
        app.assert_nobody_signed_in().await;
    }

    // A payload altered after signing (roles escalated) fails too.
    let login = app.login("/accounts").await;
    let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    let token = sign(&claims, Signer::Provider);
    let mut escalated = claims.clone();
    escalated["roles"] = json!(["salesops-admin"]);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], b64url(escalated.to_string().as_bytes()), parts[2]);
    app.idp.reply(TokenReply::IdToken(forged));
    app.callback_refusing_id_token(&login).await;
    app.assert_nobody_signed_in().await;
}

// --- 5. audience and issuer

#[tokio::test]
async fn a_token_for_another_client_or_from_another_issuer_is_refused() {
    let app = App::spawn().await;
    let other_issuer = format!("{}/realms/other", app.idp.issuer);
    let cases: [(&str, Value); 4] = [
        ("aud", json!("another-client")),
        ("aud", json!(["another-client", "account"])),
        // Also for us, but also for a client SalesOps does not trust.
        ("aud", json!(["another-client", CLIENT_ID])),
        ("iss", json!(other_issuer)),
    ];
    for (claim, value) in cases {
        let login = app.login("/accounts").await;
        let mut claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
        claims[claim] = value.clone();
        app.idp.reply_id_token(&claims, Signer::Provider);
        eprintln!("{claim} = {value}");
        app.callback_refusing_id_token(&login).await;
        app.assert_nobody_signed_in().await;
    }
}

// --- 6. provider errors

#[tokio::test]
async fn a_token_endpoint_error_is_refused() {
    let app = App::spawn().await;
    let login = app.login("/accounts").await;
    app.idp.reply(TokenReply::Error(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_grant", "error_description": "Code not valid"}),
    ));
    app.callback(&login, None).await.assert_sign_in_failed();
    assert_eq!(app.idp.requests().len(), 1);
    app.assert_nobody_signed_in().await;

    // A token response without an ID token (a plain OAuth answer) is refused too.
    let login = app.login("/accounts").await;
    app.idp.reply(TokenReply::NoIdToken);
    app.callback(&login, None).await.assert_sign_in_failed();
    app.assert_nobody_signed_in().await;
}

#[tokio::test]
async fn an_error_callback_is_refused_and_spends_the_state() {
    let app = App::spawn().await;
    let login = app.login("/accounts").await;
    let res = app.callback_query(&[("error", "access_denied"), ("state", &login.state)], &login, None).await;
    res.assert_sign_in_failed();
    assert_eq!(app.count("login_attempts").await, 0, "the state is consumed");

    // The same state cannot be used afterwards, even with a good token.
    let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback(&login, None).await.assert_sign_in_failed();
    assert!(app.idp.requests().is_empty(), "the token endpoint is never called");
    app.assert_nobody_signed_in().await;
}

// --- 7. state

#[tokio::test]
async fn a_stale_unknown_or_missing_state_is_refused() {
    let app = App::spawn().await;
    let login = app.login("/accounts").await;
    sqlx::query("update login_attempts set created_at = now() - interval '10 minutes 5 seconds' where state = $1")
        .bind(&login.state)
        .execute(&app.pool)
        .await
        .expect("age the attempt");
    let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback(&login, None).await.assert_sign_in_failed();

    app.callback_query(&[("code", "anything"), ("state", "made-up-state")], &login, None).await.assert_sign_in_failed();
    app.callback_query(&[("code", "anything")], &login, None).await.assert_sign_in_failed();
    assert!(app.idp.requests().is_empty(), "the token endpoint is never called");
    app.assert_nobody_signed_in().await;

    // A state that is old but within ten minutes still works.
    let login = app.login("/accounts").await;
    sqlx::query("update login_attempts set created_at = now() - interval '9 minutes' where state = $1")
        .bind(&login.state)
        .execute(&app.pool)
        .await
        .expect("age the attempt");
    let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback(&login, None).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.count("sessions").await, 1);
}

// --- 8. return_to

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    let app = App::spawn().await;
    let cases = [
        ("//evil.example", "http://127.0.0.1:3000/accounts"),
        ("//evil.example/accounts", "http://127.0.0.1:3000/accounts"),
        ("https://evil.example/", "http://127.0.0.1:3000/accounts"),
        ("/\\evil.example", "http://127.0.0.1:3000/accounts"),
        ("evil.example", "http://127.0.0.1:3000/accounts"),
        ("/deals?stage=won", "http://127.0.0.1:3000/deals?stage=won"),
    ];
    for (i, (return_to, expected)) in cases.into_iter().enumerate() {
        let login = app.login(return_to).await;
        let sid = format!("kc-sid-{i}");
        let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], &sid);
        app.idp.reply_id_token(&claims, Signer::Provider);
        let res = app.callback(&login, None).await;
        res.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(res.location(), Some(expected), "return_to {return_to:?}");
        let target = url::Url::parse(res.location().expect("location")).expect("absolute redirect");
        assert_eq!(target.host_str(), Some("127.0.0.1"), "return_to {return_to:?} stays on the site");
    }
}

// --- 9. back-channel logout

#[tokio::test]
async fn backchannel_logout_ends_only_the_named_session() {
    let app = App::spawn().await;
    let (_, a1) = app.sign_in("kc-subject-a", "minsu.kim", &["sales-rep"], "kc-sid-a1", None).await;
    let (_, a2) = app.sign_in("kc-subject-a", "minsu.kim", &["sales-rep"], "kc-sid-a2", None).await;
    let (_, b) = app.sign_in("kc-subject-b", "jiwoo.lee", &["sales-manager"], "kc-sid-b", None).await;
    assert_eq!(app.session(&a1).await.and_then(|s| s.1).as_deref(), Some("kc-sid-a1"), "sid from the ID token");

    let token = sign(&app.idp.logout_claims("kc-subject-a", "kc-sid-a1"), Signer::Provider);
    let res = app.backchannel_logout(&token).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    assert!(app.session(&a1).await.is_none(), "the named session is gone");
    assert!(app.me(&a1).await.is_none());
    assert!(app.session(&a2).await.is_some(), "the same user's other session stays");
    assert!(app.session(&b).await.is_some(), "another user's session stays");

    // A logout token naming only the subject ends all of that user's sessions.
    let mut claims = app.idp.logout_claims("kc-subject-a", "unused");
    claims.as_object_mut().expect("object").remove("sid");
    app.backchannel_logout(&sign(&claims, Signer::Provider)).await.assert_status(StatusCode::OK);
    assert!(app.session(&a2).await.is_none());
    assert!(app.session(&b).await.is_some());
    assert_eq!(app.count("sessions").await, 1);
}

#[tokio::test]
async fn an_invalid_logout_token_is_refused_and_ends_nothing() {
    let app = App::spawn().await;
    let (_, a) = app.sign_in("kc-subject-a", "minsu.kim", &["sales-rep"], "kc-sid-a", None).await;
    let (_, b) = app.sign_in("kc-subject-b", "jiwoo.lee", &["sales-rep"], "kc-sid-b", None).await;

    let valid = app.idp.logout_claims("kc-subject-a", "kc-sid-a");
    let with = |claim: &str, value: Value| {
        let mut c = valid.clone();
        c[claim] = value;
        sign(&c, Signer::Provider)
    };
    let without = |claims: &[&str]| {
        let mut c = valid.clone();
        for claim in claims {
            c.as_object_mut().expect("object").remove(*claim);
        }
        sign(&c, Signer::Provider)
    };
    let cases: Vec<(&str, String)> = vec![
        ("a nonce (an ID token, not a logout token)", with("nonce", json!("n-1"))),
        ("no events claim", without(&["events"])),
        ("events without the back-channel event", with("events", json!({"http://schemas.openid.net/event/other": {}}))),
        ("neither sid nor sub", without(&["sid", "sub"])),
        ("another audience", with("aud", json!("another-client"))),
        ("another issuer", with("iss", json!("http://127.0.0.1:1/realms/other"))),
        ("an expiry ten minutes ago", with("exp", json!(now() - 600))),
        ("no iat", without(&["iat"])),
        ("no jti", without(&["jti"])),
        ("issued an hour ago", with("iat", json!(now() - 3600))),
        ("the foreign key, unknown kid", sign(&valid, Signer::ForeignUnknownKid)),
        ("the foreign key under the provider's kid", sign(&valid, Signer::ForeignKnownKid)),
        ("HS256 keyed with the client secret", sign(&valid, Signer::ClientSecretHs256)),
        ("not a JWT", "not-a-jwt".to_string()),
    ];
    for (what, token) in cases {
        let res = app.backchannel_logout(&token).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "logout token with {what} must be refused; body: {}", res.body);
        assert!(app.session(&a).await.is_some(), "logout token with {what} ended a session");
        assert!(app.session(&b).await.is_some(), "logout token with {what} ended a session");
    }
    assert_eq!(app.count("sessions").await, 2);
}

// --- 10. the sign-in is bound to the browser that started it

#[tokio::test]
async fn a_callback_in_another_browser_is_refused_and_signs_nobody_in() {
    let app = App::spawn().await;

    // Someone else's callback URL (state and code), opened in a browser
    // without the binding cookie: the "sign in again" page, no session.
    let login = app.login("/accounts").await;
    let claims = app.idp.id_claims(&login.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    let url = [("code", "anything"), ("state", login.state.as_str())];
    let res = app.callback_in_browser(&url, None, None).await;
    res.assert_sign_in_failed();
    assert!(res.body.contains("href=\"/auth/login\""), "offers to sign in again: {}", res.body);
    assert!(app.idp.requests().is_empty(), "the code is never exchanged");
    assert_eq!(app.count("login_attempts").await, 0, "the intercepted state is spent");
    app.assert_nobody_signed_in().await;

    // With the binding cookie of another sign-in (the attacker's own browser).
    let victim = app.login("/accounts").await;
    let attacker = app.login("/accounts").await;
    let claims = app.idp.id_claims(&victim.nonce, "kc-subject-1", "minsu.kim", &["sales-rep"], "kc-sid-1");
    app.idp.reply_id_token(&claims, Signer::Provider);
    let url = [("code", "anything"), ("state", victim.state.as_str())];
    app.callback_in_browser(&url, Some(&attacker.binding), None).await.assert_sign_in_failed();
    app.callback_in_browser(&url, Some(""), None).await.assert_sign_in_failed();
    assert!(app.idp.requests().is_empty(), "the code is never exchanged");
    app.assert_nobody_signed_in().await;

    // The browser that started a sign-in still finishes it.
    let claims = app.idp.id_claims(&attacker.nonce, "kc-subject-2", "jiwoo.lee", &["sales-rep"], "kc-sid-2");
    app.idp.reply_id_token(&claims, Signer::Provider);
    app.callback(&attacker, None).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.count("sessions").await, 1);
}

#[tokio::test]
async fn the_binding_cookie_is_secure_when_the_public_url_is_https() {
    let app = App::spawn_with(Overrides::new().env("SALESOPS_PUBLIC_URL", "https://crm.example.co.kr")).await;
    let login = app.login("/accounts").await;
    let attrs = cookie_attributes(&login.binding_cookie);
    assert!(attrs.contains_key("secure"), "Secure over https: {}", login.binding_cookie);
    assert!(attrs.contains_key("httponly"), "{}", login.binding_cookie);
}

// --- 11. Keycloak's keys are cached

#[tokio::test]
async fn backchannel_logout_fetches_keycloaks_keys_once_and_not_for_garbage() {
    let app = App::spawn().await;
    let (_, a) = app.sign_in("kc-subject-a", "minsu.kim", &["sales-rep"], "kc-sid-a", None).await;
    let (_, b) = app.sign_in("kc-subject-b", "jiwoo.lee", &["sales-rep"], "kc-sid-b", None).await;
    // Discovery (sign-in) has read the keys already, through openidconnect.
    let before = app.idp.jwks_requests();

    // Garbage costs no request to Keycloak.
    for garbage in ["not-a-jwt", "a.b.c", "", &"x".repeat(10_000)] {
        let res = app.backchannel_logout(garbage).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{garbage:.20}: {}", res.body);
    }
    let hs256 = sign(&app.idp.logout_claims("kc-subject-a", "kc-sid-a"), Signer::ClientSecretHs256);
    app.backchannel_logout(&hs256).await.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(app.idp.jwks_requests(), before, "no key fetch for garbage");

    // Two valid posts: one fetch.
    let token = sign(&app.idp.logout_claims("kc-subject-a", "kc-sid-a"), Signer::Provider);
    app.backchannel_logout(&token).await.assert_status(StatusCode::OK);
    let token = sign(&app.idp.logout_claims("kc-subject-b", "kc-sid-b"), Signer::Provider);
    app.backchannel_logout(&token).await.assert_status(StatusCode::OK);
    assert_eq!(app.idp.jwks_requests(), before + 1, "two back-channel posts, one key fetch");
    assert!(app.session(&a).await.is_none() && app.session(&b).await.is_none());

    // Unknown key ids right after a fetch do not fetch again.
    for _ in 0..3 {
        let foreign = sign(&app.idp.logout_claims("kc-subject-a", "kc-sid-a"), Signer::ForeignUnknownKid);
        app.backchannel_logout(&foreign).await.assert_status(StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.idp.jwks_requests(), before + 1, "at most one fetch a minute");
}
