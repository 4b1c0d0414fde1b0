//! What a request costs the session table, and the headers that keep pages
//! out of caches and browsers on https.

use axum::http::{header, StatusCode};
use uuid::Uuid;

use crate::helpers::*;

/// A built site with one stylesheet in the package folder and a favicon.
fn site() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("salesops-site-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("pkg")).expect("create site dir");
    std::fs::write(root.join("pkg").join("salesops.css"), "body {}").expect("write css");
    std::fs::write(root.join("favicon.ico"), "icon").expect("write favicon");
    root
}

/// `last_seen_at` of a session, as stored.
async fn last_seen(app: &TestApp, token: &str) -> chrono::DateTime<chrono::Utc> {
    let (at,): (chrono::DateTime<chrono::Utc>,) =
        sqlx::query_as("select last_seen_at from sessions where token_hash = $1")
            .bind(server::session::hash(token))
            .fetch_one(&app.pool)
            .await
            .expect("session");
    at
}

async fn set_last_seen(app: &TestApp, token: &str, ago: &str) -> chrono::DateTime<chrono::Utc> {
    sqlx::query(&format!("update sessions set last_seen_at = now() - interval '{ago}' where token_hash = $1"))
        .bind(server::session::hash(token))
        .execute(&app.pool)
        .await
        .expect("age the session");
    last_seen(app, token).await
}

#[tokio::test]
async fn static_files_never_touch_the_session_and_pages_write_last_seen_at_most_once_a_minute() {
    let root = site();
    let app = TestApp::spawn_with(Overrides::new().site_root(root.to_str().expect("utf-8 path"))).await;
    let rep = app.rep("김민준").await;
    let token = rep.token.clone().expect("signed in");

    let aged = set_last_seen(&app, &token, "5 minutes").await;
    for path in ["/pkg/salesops.css", "/favicon.ico", "/pkg/missing.js"] {
        let res = rep.get(path).await;
        assert!(res.status != StatusCode::INTERNAL_SERVER_ERROR, "{path}: {}", res.status);
        assert_eq!(last_seen(&app, &token).await, aged, "{path} touched the session");
    }
    rep.get("/pkg/salesops.css").await.assert_status(StatusCode::OK);

    // A signed-in page refreshes the idle timer when it is over a minute old ...
    rep.get("/accounts").await.assert_status(StatusCode::OK);
    let refreshed = last_seen(&app, &token).await;
    assert!(refreshed > aged + chrono::TimeDelta::minutes(4), "refreshed: {aged} → {refreshed}");
    // ... and not again within the minute.
    let recent = set_last_seen(&app, &token, "30 seconds").await;
    rep.get("/accounts").await.assert_status(StatusCode::OK);
    rep.post_fn("/api/me", &[]).await.assert_status(StatusCode::OK);
    assert_eq!(last_seen(&app, &token).await, recent, "written at most once a minute");
    let stale = set_last_seen(&app, &token, "61 seconds").await;
    rep.post_fn("/api/me", &[]).await.assert_status(StatusCode::OK);
    assert!(last_seen(&app, &token).await > stale, "a server-function call refreshes it too");

    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn pages_and_api_answers_are_no_store_static_files_are_not() {
    let root = site();
    let app = TestApp::spawn_with(Overrides::new().site_root(root.to_str().expect("utf-8 path"))).await;
    let rep = app.rep("김민준").await;
    let no_store = |res: &Resp| res.header(header::CACHE_CONTROL.as_str()) == Some("no-store");

    let page = rep.get("/accounts").await;
    page.assert_status(StatusCode::OK);
    assert!(no_store(&page), "signed-in page: {:?}", page.headers);
    let api = rep.post_fn("/api/me", &[]).await;
    assert!(no_store(&api), "server function: {:?}", api.headers);
    let refused = app.anonymous().post_fn("/api/accounts/list", &[]).await;
    assert!(no_store(&refused), "refused server function: {:?}", refused.headers);
    let file = rep.get("/pkg/salesops.css").await;
    file.assert_status(StatusCode::OK);
    assert!(!no_store(&file), "static file: {:?}", file.headers);
    assert!(file.header(header::STRICT_TRANSPORT_SECURITY.as_str()).is_none(), "no HSTS over http");
    assert!(page.header(header::STRICT_TRANSPORT_SECURITY.as_str()).is_none(), "no HSTS over http");

    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn over_https_every_answer_carries_hsts() {
    let app = TestApp::spawn_with(Overrides::new().env("SALESOPS_PUBLIC_URL", "https://crm.example.co.kr")).await;
    let rep = app.rep("김민준").await;
    for res in
        [app.anonymous().get("/healthz").await, app.anonymous().get("/accounts").await, rep.get("/accounts").await]
    {
        assert_eq!(
            res.header(header::STRICT_TRANSPORT_SECURITY.as_str()),
            Some("max-age=31536000"),
            "{:?}",
            res.headers
        );
    }
}

#[tokio::test]
async fn housekeeping_purges_expired_sessions_and_sign_in_attempts() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let live = rep.token.clone().expect("signed in");
    let idle = app.rep("이서연").await.token.expect("signed in");
    let expired = app.rep("박지훈").await.token.expect("signed in");
    set_last_seen(&app, &idle, "121 minutes").await;
    sqlx::query("update sessions set expires_at = now() - interval '1 second' where token_hash = $1")
        .bind(server::session::hash(&expired))
        .execute(&app.pool)
        .await
        .expect("expire the session");
    sqlx::query(
        "insert into login_attempts (state, nonce, pkce_verifier, return_to, browser_binding, created_at)
         values ('old', 'n', 'v', '/', sha256('a'), now() - interval '11 minutes'),
                ('new', 'n', 'v', '/', sha256('b'), now())",
    )
    .execute(&app.pool)
    .await
    .expect("attempts");

    server::housekeeping(&app.pool, app.state.config.session_idle.as_secs_f64()).await;
    let left: Vec<(String,)> =
        sqlx::query_as("select token_hash from sessions").fetch_all(&app.pool).await.expect("rows");
    assert_eq!(left, vec![(server::session::hash(&live),)], "only the live session is left");
    let attempts: Vec<(String,)> =
        sqlx::query_as("select state from login_attempts").fetch_all(&app.pool).await.expect("rows");
    assert_eq!(attempts, vec![("new".to_string(),)]);
}
