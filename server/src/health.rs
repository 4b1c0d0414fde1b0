//! Probes for the orchestrator: `/healthz` (the process answers) and
//! `/readyz` (the database answers too).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(pool): State<PgPool>) -> Response {
    match sqlx::query("select 1").execute(&pool).await {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
