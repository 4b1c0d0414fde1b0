//! The SalesOps server: configuration, state, auth routes and the router
//! around the Leptos app. `main.rs` only starts it; this file only wires.
//!
//! Modules depend one way, downwards; none uses a module listed above it.
//! `AppState` (here) is the one exception: handlers take it as their state.
//!
//! | module          | what                                         | may use                                         |
//! |-----------------|----------------------------------------------|-------------------------------------------------|
//! | (lib.rs)        | state, start-up, the router                  | everything below                                |
//! | `oidc`          | sign-in, sign-out and language routes        | session, limits, pages, cookies, config, secret |
//! | `echo`          | no-JS refusals kept server-side, one-time id | session, cookies                                |
//! | `session`       | sessions in Postgres, the session middleware | pages, cookies, config, secret                  |
//! | `imports`       | the upload route, the per-instance import worker | pages                                       |
//! | `exports`       | lists to .csv and .xlsx, streamed            | pages                                           |
//! | `limits`        | per-client rate limits, client addresses     | –                                               |
//! | `responses`     | security headers, server-function statuses   | config                                          |
//! | `health`        | `/healthz`, `/readyz`                        | –                                               |
//! | `observability` | request ids and request spans                | –                                               |
//! | `demo`          | demo data                                    | –                                               |
//! | `pages`         | plain pages outside the Leptos app           | cookies                                         |
//! | `cookies`       | reading and writing cookies                  | config                                          |
//! | `config`        | configuration from the environment           | secret                                          |
//! | `secret`        | `Secret<T>`: values that are never printed   | –                                               |
//!
//! Every module may use the `app` crate. `layering.rs` checks the table.

pub mod config;
pub mod cookies;
pub mod demo;
pub mod echo;
pub mod exports;
pub mod health;
pub mod imports;
pub mod limits;
pub mod observability;
pub mod oidc;
pub mod pages;
pub mod responses;
pub mod secret;
pub mod session;

#[cfg(test)]
mod layering;

use std::sync::{Arc, OnceLock};

use axum::extract::FromRef;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};

use app::{shell, App};

pub use config::Config;
pub use secret::{Secret, SecretString};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub oidc: Arc<oidc::OidcCache>,
    pub http: reqwest::Client,
    /// Per-client allowance for starting sign-ins (`/auth/login`).
    pub sign_in_limiter: Arc<limits::RateLimiter>,
    pub sign_in_gate: Arc<limits::SignInGate>,
    /// Paths the file handler serves, which skip the session entirely.
    pub static_files: Arc<session::StaticFiles>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("leptos configuration: {0}")]
    Leptos(String),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub async fn connect(config: &Config) -> Result<PgPool, StartupError> {
    // Migrations may rebuild indexes on large tables: they run on their own
    // connection, without the requests' statement timeout.
    {
        let mut conn = sqlx::PgConnection::connect(config.database_url.expose()).await?;
        MIGRATOR.run(&mut conn).await?;
        conn.close().await?;
    }
    // Every request runs under a statement timeout, so no search can tie up
    // the pool; a cancelled statement maps to a clear "took too long" (503).
    let timeout_ms = config.database_statement_timeout.as_millis();
    let pool = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                sqlx::query(&format!("set statement_timeout = {timeout_ms}")).execute(conn).await?;
                Ok(())
            })
        })
        .connect(config.database_url.expose())
        .await?;
    Ok(pool)
}

pub fn state(pool: PgPool, config: Config, leptos_options: LeptosOptions) -> Result<AppState, StartupError> {
    // No redirects: the OIDC library must see the provider's answers as they are.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let sign_in_limiter = Arc::new(limits::RateLimiter::per_minute(config.login_rate_per_minute));
    let static_files = Arc::new(session::StaticFiles::of_site(&leptos_options.site_root, &leptos_options.site_pkg_dir));
    Ok(AppState {
        pool,
        leptos_options,
        config: Arc::new(config),
        oidc: Arc::default(),
        http,
        sign_in_limiter,
        sign_in_gate: Arc::new(limits::SignInGate::new(SIGN_INS_AT_ONCE)),
        static_files,
    })
}

/// Sign-in starts (`/auth/login`) that use the database at once, per instance
/// (see `limits::SignInGate`): a start takes a few milliseconds, so one at a
/// time serves people signing in together, and the rest of the pool stays with
/// the people already signed in.
const SIGN_INS_AT_ONCE: usize = 1;

/// How often expired sessions, sign-in attempts and form echoes are purged.
pub const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Purges expired sessions and sign-in attempts once a minute, on a timer
/// rather than on requests (a request then never pays for a sweep, and an
/// anonymous flood cannot trigger one per request). Each instance runs its
/// own; a purge is idempotent, so several at once do no harm.
pub fn spawn_housekeeping(state: &AppState) -> tokio::task::JoinHandle<()> {
    let (pool, idle_secs) = (state.pool.clone(), state.config.session_idle.as_secs_f64());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            housekeeping(&pool, idle_secs).await;
        }
    })
}

/// One purge; errors are logged and the next tick tries again.
pub async fn housekeeping(pool: &PgPool, idle_secs: f64) {
    match session::purge_expired(pool, idle_secs).await {
        Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
    }
    match oidc::purge_expired_attempts(pool).await {
        Ok(n) if n > 0 => tracing::info!(attempts = n, "purged expired sign-in attempts"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge expired sign-in attempts"),
    }
    match echo::purge_expired(pool).await {
        Ok(n) if n > 0 => tracing::info!(echoes = n, "purged unread form echoes"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge form echoes"),
    }
}

/// The app's routes, listed once per process. Listing them renders the app
/// with a process-wide flag set that parks, for good, any resource first
/// polled meanwhile on another thread (leptos-rs/leptos#4773): a second
/// listing while a page renders would hang that page. One listing, before
/// the first router exists, means no page can be rendering during it.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = routes();
    let pool = state.pool.clone();
    let options = state.leptos_options.clone();
    let idp = app::IdentityProviderOrigin(state.config.issuer_origin());
    let context = move || {
        provide_context(pool.clone());
        provide_context(idp.clone());
    };
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/auth/login", get(oidc::login))
        .route("/auth/callback", get(oidc::callback))
        .route("/auth/logout", post(oidc::logout))
        .route("/auth/signed-out", get(oidc::signed_out))
        .route("/auth/backchannel-logout", post(oidc::backchannel_logout))
        .route("/lang/{code}", get(oidc::set_language))
        .route("/import/upload", post(imports::upload).layer(imports::body_limit()))
        .route("/import/{id}/report.xlsx", get(imports::report))
        .route("/export/{list}", get(exports::export))
        .leptos_routes_with_context(&state, routes, context, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(responses::server_fn_status))
        .layer(middleware::from_fn_with_state(state.clone(), echo::middleware))
        .layer(middleware::from_fn_with_state(state.clone(), oidc::revalidate))
        .layer(middleware::from_fn_with_state(state.clone(), session::middleware))
        .layer(middleware::from_fn_with_state(state.config.clone(), responses::security_headers))
        .with_state(state);
    // Outermost, so that every log line of a request, the session's included, has its id.
    observability::layer(app)
}
