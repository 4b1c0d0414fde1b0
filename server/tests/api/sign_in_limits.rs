//! What an anonymous flood of `/auth/login` may cost: each client gets a
//! few sign-in starts a minute (then 429 with Retry-After, in the user's
//! language, and no row), the sign-ins in progress are bounded, and expired
//! attempts are purged by the housekeeping timer rather than per request.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};

use crate::callback::App;
use crate::helpers::{Overrides, Resp};

/// GET /auth/login as a client at `peer` (the server reads it from the
/// connection), with extra headers.
async fn login_from(app: &App, peer: Option<[u8; 4]>, headers: &[(&str, &str)]) -> Resp {
    let mut b = Request::builder().uri("/auth/login?return_to=%2Faccounts");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::empty()).expect("request");
    if let Some(ip) = peer {
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    }
    app.send(req).await
}

#[track_caller]
fn assert_too_many(res: &Resp, text: &str) -> u64 {
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(res.body.contains(text), "expected {text:?} in {}", res.body);
    assert!(res.set_cookies().is_empty(), "a refusal sets no cookie: {:?}", res.set_cookies());
    let retry: u64 = res
        .header(header::RETRY_AFTER.as_str())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in whole seconds: {:?}", res.headers));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    retry
}

#[tokio::test]
async fn over_the_per_client_limit_sign_in_answers_429_and_writes_no_row() {
    let app = App::spawn_with(Overrides::new().env("SALESOPS_LOGIN_RATE_PER_MINUTE", "3")).await;
    let client = Some([192, 0, 2, 10]);
    for _ in 0..3 {
        assert!(login_from(&app, client, &[]).await.status.is_redirection());
    }
    assert_eq!(app.count("login_attempts").await, 3);

    let res = login_from(&app, client, &[]).await;
    let retry = assert_too_many(&res, "로그인 시도가 너무 많습니다");
    assert_eq!(retry, 20, "three a minute: the next in 20 s");
    let res = login_from(&app, client, &[("accept-language", "en-US,en;q=0.9")]).await;
    assert_too_many(&res, "Too many sign-in attempts from your network");
    assert_eq!(app.count("login_attempts").await, 3, "a refused start writes no row");

    // Another client is not held back by this one.
    assert!(login_from(&app, Some([192, 0, 2, 11]), &[]).await.status.is_redirection());
    assert_eq!(app.count("login_attempts").await, 4);

    // Without a trusted proxy, X-Forwarded-For is the client's own claim: ignored.
    let res = login_from(&app, client, &[("x-forwarded-for", "203.0.113.99")]).await;
    assert_too_many(&res, "로그인 시도가 너무 많습니다");
    assert_eq!(app.count("login_attempts").await, 4);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_first_forwarded_hop_is_the_client() {
    let overrides = Overrides::new().env("SALESOPS_LOGIN_RATE_PER_MINUTE", "1").env("SALESOPS_TRUSTED_PROXY", "true");
    let app = App::spawn_with(overrides).await;
    let proxy = Some([10, 0, 0, 1]);
    let first = [("x-forwarded-for", "203.0.113.1, 10.0.0.7")];
    assert!(login_from(&app, proxy, &first).await.status.is_redirection());
    assert_too_many(&login_from(&app, proxy, &first).await, "로그인 시도가 너무 많습니다");
    // Another user behind the same proxy has an allowance of their own.
    let second = [("x-forwarded-for", "203.0.113.2")];
    assert!(login_from(&app, proxy, &second).await.status.is_redirection());
    assert_eq!(app.count("login_attempts").await, 2);
}

#[tokio::test]
async fn sign_ins_in_progress_are_bounded_and_expired_ones_purged_by_the_timer() {
    let overrides =
        Overrides::new().env("SALESOPS_LOGIN_ATTEMPTS_MAX", "3").env("SALESOPS_LOGIN_RATE_PER_MINUTE", "1000");
    let app = App::spawn_with(overrides).await;
    for i in 0..3u8 {
        assert!(login_from(&app, Some([192, 0, 2, i]), &[]).await.status.is_redirection());
    }
    // An expired attempt no longer counts, even before it is purged ...
    sqlx::query(
        "update login_attempts set created_at = now() - interval '11 minutes'
         where state = (select state from login_attempts limit 1)",
    )
    .execute(&app.pool)
    .await
    .expect("age one attempt");
    assert!(login_from(&app, Some([192, 0, 2, 100]), &[]).await.status.is_redirection());
    // A fifth, from a client of its own: the table is full.
    let res = login_from(&app, Some([192, 0, 2, 200]), &[]).await;
    assert_eq!(assert_too_many(&res, "진행 중인 로그인이 너무 많습니다"), 60);
    // The next is refused the same way (now without asking the database again).
    let res = login_from(&app, Some([192, 0, 2, 201]), &[("accept-language", "en")]).await;
    assert_eq!(assert_too_many(&res, "Too many sign-ins are in progress"), 60);
    assert_eq!(app.count("login_attempts").await, 4, "the bound holds");
    // ... and starting a sign-in never sweeps the table: the timer does.
    server::housekeeping(&app.pool, app.state.config.session_idle.as_secs_f64()).await;
    assert_eq!(app.count("login_attempts").await, 3);
    assert_too_many(&login_from(&app, Some([192, 0, 2, 203]), &[]).await, "진행 중인 로그인이 너무 많습니다");
}
