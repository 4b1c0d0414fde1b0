//! Who may do what (SPEC "People and roles"), enforced by the server whatever
//! the browser sends; sessions, sign-in and the cross-site wall.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::*;
use app::auth::{CurrentUser, Role, UserRef};
use app::error::AppError;

/// The people of every matrix, in the order of the expectation columns.
const WHO: [&str; 7] = ["owning rep", "other rep", "manager", "viewer", "admin", "no-role user", "anonymous"];

//                                 owner other manager viewer admin no-role anonymous
const READ: [u16; 7] = /*      */ [200, 200, 200, 200, 200, 403, 401];
const CREATE: [u16; 7] = /*    */ [200, 200, 200, 403, 200, 403, 401];
const EDIT_OWNED: [u16; 7] = /**/ [200, 403, 200, 403, 200, 403, 401];
const RESTORE: [u16; 7] = /*   */ [403, 403, 200, 403, 200, 403, 401];
/// Reading a deleted record: only managers and admins still see it.
const READ_DELETED: [u16; 7] = [404, 404, 200, 404, 200, 403, 401];

async fn cast(app: &TestApp) -> Vec<Client<'_>> {
    vec![
        app.rep("김민준").await,
        app.rep("이서연").await,
        app.manager("박지훈").await,
        app.viewer("최유나").await,
        app.admin("정관리").await,
        app.no_role("한손님").await,
        app.anonymous(),
    ]
}

/// Checks one call's answer against the matrix. A refusal must say why
/// (401 or 403 with the matching error) and leave every record and audit row
/// as it was; an allowed change (`writer` given) must write exactly one audit
/// row, by the caller.
async fn verdict(
    app: &TestApp,
    who: usize,
    what: &str,
    expected: u16,
    res: &Resp,
    before: Fingerprint,
    writer: Option<Uuid>,
) {
    let label = format!("{} → {what}", WHO[who]);
    assert_eq!(res.status.as_u16(), expected, "{label}: {}", res.body);
    match expected {
        401 => assert_eq!(res.error(), AppError::Unauthenticated, "{label}"),
        403 => assert_eq!(res.error(), AppError::Forbidden, "{label}"),
        404 => assert_eq!(res.error(), AppError::NotFound, "{label}"),
        _ => {}
    }
    let after = app.fingerprint().await;
    if let (200, Some(actor)) = (expected, writer) {
        assert_eq!(after.audit_log.0, before.audit_log.0 + 1, "{label}: one audit row");
        let (actor_id,): (Uuid,) = sqlx::query_as("select actor_id from audit_log order by id desc limit 1")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
        assert_eq!(actor_id, actor, "{label}: audited as the caller");
    } else {
        assert_eq!(after, before, "{label}: must change nothing");
    }
}

#[tokio::test]
async fn account_functions_follow_the_role_matrix() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let owner = &cast[0];
    for (i, user) in cast.iter().enumerate() {
        let live = owner.create_account(&[("name", &format!("고객사 {i}"))]).await;
        let to_delete = owner.create_account(&[("name", &format!("삭제할 고객사 {i}"))]).await;
        let deleted = owner.create_account(&[("name", &format!("삭제된 고객사 {i}"))]).await;
        owner.delete_account(deleted, 1).await.assert_status(StatusCode::OK);

        let before = app.fingerprint().await;
        let res = user.try_list_accounts(&[]).await;
        verdict(&app, i, "list_accounts", READ[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let page: app::record::Page<app::accounts::AccountRow> = res.ok();
            assert!(page.rows.iter().any(|r| r.id == live));
            assert!(!page.rows.iter().any(|r| r.id == deleted), "{}: deleted rows are not in the list", WHO[i]);
            let deleted_list = user.list_accounts(&[("deleted", "true")]).await.rows;
            let sees_deleted = deleted_list.iter().any(|r| r.id == deleted);
            assert_eq!(sees_deleted, READ_DELETED[i] == 200, "{}: list of deleted accounts", WHO[i]);
            assert!(sees_deleted || deleted_list.iter().all(|r| r.id != deleted));
        }

        let before = app.fingerprint().await;
        let res = user.get_account(live).await;
        verdict(&app, i, "get_account", READ[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let detail: app::accounts::AccountDetail = res.ok();
            assert_eq!(detail.can.edit, EDIT_OWNED[i] == 200, "{}: can.edit", WHO[i]);
            assert_eq!(detail.can.reassign, RESTORE[i] == 200, "{}: can.reassign", WHO[i]);
        }

        let before = app.fingerprint().await;
        let res = user.get_account(deleted).await;
        verdict(&app, i, "get_account (deleted)", READ_DELETED[i], &res, before, None).await;

        let before = app.fingerprint().await;
        let res = user.try_create_account(&[("name", &format!("새 고객사 {i}"))]).await;
        verdict(&app, i, "create_account", CREATE[i], &res, before, Some(user.id)).await;
        if res.status == StatusCode::OK {
            let id: String = res.ok();
            let owner_id = app.row("accounts", id.parse().expect("id")).await["owner_id"].clone();
            assert_eq!(owner_id, user.id.to_string(), "{}: the creator owns the new account", WHO[i]);
        }

        let before = app.fingerprint().await;
        let res = user.update_account(live, 1, &[("name", &format!("고친 고객사 {i}"))]).await;
        verdict(&app, i, "update_account", EDIT_OWNED[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res = user.delete_account(to_delete, 1).await;
        verdict(&app, i, "delete_account", EDIT_OWNED[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res = user.restore_account(deleted).await;
        verdict(&app, i, "restore_account", RESTORE[i], &res, before, Some(user.id)).await;
    }
}

#[tokio::test]
async fn contact_functions_follow_the_role_matrix() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let owner = &cast[0];
    let account = owner.create_account(&[("name", "한빛제조")]).await.to_string();
    for (i, user) in cast.iter().enumerate() {
        let contact = |name: String| {
            let account = account.clone();
            async move { owner.create_contact(&[("account_id", &account), ("name", &name)]).await }
        };
        let live = contact(format!("담당자 {i}")).await;
        let to_delete = contact(format!("삭제할 담당자 {i}")).await;
        let deleted = contact(format!("삭제된 담당자 {i}")).await;
        owner.delete_contact(deleted, 1).await.assert_status(StatusCode::OK);

        let before = app.fingerprint().await;
        let res = user.try_list_contacts(&[]).await;
        verdict(&app, i, "list_contacts", READ[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let page: app::record::Page<app::contacts::ContactRow> = res.ok();
            assert!(page.rows.iter().any(|r| r.id == live) && !page.rows.iter().any(|r| r.id == deleted));
            let sees_deleted = user.list_contacts(&[("deleted", "true")]).await.rows.iter().any(|r| r.id == deleted);
            assert_eq!(sees_deleted, READ_DELETED[i] == 200, "{}: list of deleted contacts", WHO[i]);
        }

        let before = app.fingerprint().await;
        let res = user.get_contact(live).await;
        verdict(&app, i, "get_contact", READ[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let detail: app::contacts::ContactDetail = res.ok();
            assert_eq!(detail.can.edit, EDIT_OWNED[i] == 200, "{}: can_edit", WHO[i]);
        }

        let before = app.fingerprint().await;
        let res = user.get_contact(deleted).await;
        verdict(&app, i, "get_contact (deleted)", READ_DELETED[i], &res, before, None).await;

        // Contacts are changed by whoever may change their account.
        let before = app.fingerprint().await;
        let res = user.try_create_contact(&[("account_id", &account), ("name", &format!("새 담당자 {i}"))]).await;
        verdict(&app, i, "create_contact", EDIT_OWNED[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res =
            user.update_contact(live, 1, &[("account_id", &account), ("name", &format!("고친 담당자 {i}"))]).await;
        verdict(&app, i, "update_contact", EDIT_OWNED[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res = user.delete_contact(to_delete, 1).await;
        verdict(&app, i, "delete_contact", EDIT_OWNED[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res = user.restore_contact(deleted).await;
        verdict(&app, i, "restore_contact", RESTORE[i], &res, before, Some(user.id)).await;
    }
}

#[tokio::test]
async fn every_reader_sees_the_owner_list_and_me_is_the_session_user() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    for (i, user) in cast.iter().enumerate() {
        let before = app.fingerprint().await;
        let res = user.post_fn("/api/users/owners", &[]).await;
        verdict(&app, i, "list_owners", READ[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let owners: Vec<UserRef> = res.ok();
            let names: Vec<&str> = owners.iter().map(|o| o.display_name.as_str()).collect();
            // Only people who can own records: reps, managers, admins; by name.
            assert_eq!(names, ["김민준", "박지훈", "이서연", "정관리"], "{}", WHO[i]);
        }

        let me: Option<CurrentUser> = user.post_fn("/api/me", &[]).await.ok();
        match (i, me) {
            (6, me) => assert_eq!(me, None, "anonymous"),
            (_, Some(me)) => {
                assert_eq!((me.id, me.display_name.as_str()), (user.id, user.name.as_str()));
                let expected: &[Role] = match i {
                    0 | 1 => &[Role::Rep],
                    2 => &[Role::Manager],
                    3 => &[Role::Viewer],
                    4 => &[Role::Admin],
                    _ => &[],
                };
                assert_eq!(me.roles, expected, "{}", WHO[i]);
            }
            (_, None) => panic!("{}: /api/me does not know the signed-in user", WHO[i]),
        }
    }

    // Realm roles that are not SalesOps roles are ignored.
    let mixed = app.user("복수역할", &["offline_access", "sales-rep", "sales-manager", "uma_authorization"]).await;
    let me: Option<CurrentUser> = mixed.post_fn("/api/me", &[]).await.ok();
    assert_eq!(me.expect("signed in").roles, [Role::Rep, Role::Manager]);
    let only_foreign = app.user("외부역할", &["offline_access"]).await;
    only_foreign.try_list_accounts(&[]).await.assert_status(StatusCode::FORBIDDEN);
    let page = only_foreign.get("/accounts").await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(page.body.contains("data-testid=\"no-access\""));
}

#[tokio::test]
async fn cross_site_mutations_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let manager = app.manager("박지훈").await;
    let id = manager.create_account(&[("name", "구름클라우드")]).await.to_string();
    let before = app.fingerprint().await;

    let attempts: Vec<Vec<(&str, &str)>> = vec![
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
        vec![("origin", "http://127.0.0.1:3001")],
        vec![("origin", "https://127.0.0.1:3000")],
        vec![("origin", "http://127.0.0.1:3000.evil.example")],
        vec![("origin", "http://evil.example"), ("referer", "http://127.0.0.1:3000/accounts")],
        vec![("referer", "http://evil.example/accounts")],
        vec![("referer", "http://127.0.0.1:30001/accounts")],
        vec![], // neither Origin nor Referer
    ];
    let calls: Vec<(&str, Vec<(String, String)>)> = vec![
        ("/api/accounts/create", form(&[("name", "악성 고객사")])),
        ("/api/accounts/update", {
            let mut f = fields(&[("id", &id), ("version", "1")]);
            f.extend(form(&[("name", "악성 수정")]));
            f
        }),
        ("/api/records/delete", fields(&[("kind", "account"), ("id", &id), ("version", "1")])),
    ];
    for headers in &attempts {
        for (path, body) in &calls {
            let mut h = vec![("accept", "application/json")];
            h.extend(headers.iter().copied());
            let res = manager.post_with(path, body, &h).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} with {headers:?}: {}", res.body);
        }
    }
    // Signing someone out from another site is refused too.
    let res = manager.post_with("/auth/logout", &[], &[("origin", "http://evil.example")]).await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.count("sessions").await, 1);
    assert_eq!(app.fingerprint().await, before, "nothing changed");

    // Our own pages without an Origin header still work through the Referer.
    let res = manager
        .post_with(
            "/api/records/delete",
            &calls[2].1,
            &[("accept", "application/json"), ("referer", "http://127.0.0.1:3000/accounts")],
        )
        .await;
    res.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn pages_send_strangers_to_sign_in_and_people_without_a_role_to_a_no_access_page() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    for (path, return_to) in [
        ("/accounts", "/accounts"),
        ("/accounts?q=%EA%B5%AC%EB%A6%84&sort=-name", "/accounts?q=%EA%B5%AC%EB%A6%84&sort=-name"),
        ("/contacts/new", "/contacts/new"),
        ("/", "/"),
    ] {
        let res = anonymous.get(path).await;
        assert!(res.status.is_redirection(), "{path}: {}", res.status);
        let location = url::Url::parse(res.location().expect("location")).expect("absolute URL");
        assert_eq!(location.origin().ascii_serialization(), ORIGIN);
        assert_eq!(location.path(), "/auth/login");
        let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert_eq!(pairs, [("return_to".to_string(), return_to.to_string())], "{path}");
    }

    let guest = app.no_role("한손님").await;
    let res = guest.get_with("/accounts", &[("accept-language", "en-US,en;q=0.9")]).await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert!(res.body.contains("No access"), "{}", res.body);
    assert!(res.body.contains("You need a SalesOps role"));
    assert!(res.body.contains("한손님"), "the page says who is signed in");
    assert!(res.body.contains("action=\"/auth/logout\""), "and offers to sign out");
    let res = guest.get("/contacts").await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert!(res.body.contains("접근 권한이 없습니다"), "Korean by default: {}", res.body);

    // With a role, the same page renders.
    let rep = app.rep("김민준").await;
    let res = rep.get("/accounts").await;
    res.assert_status(StatusCode::OK);
    assert!(res.body.contains("김민준"));
}

/// Inserts a session for `user` by hand, aged as given, and returns its cookie token.
async fn aged_session(app: &TestApp, user: Uuid, last_seen: &str, expires: &str) -> String {
    let token = server::session::new_token();
    sqlx::query(&format!(
        "insert into sessions (token_hash, user_id, id_token, created_at, last_seen_at, expires_at)
         values ($1, $2, 'id-token', now() - interval '3 hours', now() - interval '{last_seen}', now() + interval '{expires}')"
    ))
    .bind(server::session::hash(&token))
    .bind(user)
    .execute(&app.pool)
    .await
    .expect("insert session");
    token
}

#[tokio::test]
async fn expired_and_idle_sessions_count_as_signed_out() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    rep.create_account(&[("name", "구름클라우드")]).await;

    let expired = aged_session(&app, rep.id, "1 minute", "-1 minute").await;
    let idle = aged_session(&app, rep.id, "121 minutes", "9 hours").await;
    let unknown = server::session::new_token();
    for (label, token) in [("expired", &expired), ("idle", &idle), ("unknown", &unknown)] {
        let client = app.with_token(token);
        let res = client.try_list_accounts(&[]).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{label}: {}", res.body);
        assert_eq!(res.error(), AppError::Unauthenticated);
        let me: Option<CurrentUser> = client.post_fn("/api/me", &[]).await.ok();
        assert_eq!(me, None, "{label}");
        let page = client.get("/accounts").await;
        assert!(page.status.is_redirection(), "{label}: {}", page.status);
        assert!(page.location().is_some_and(|l| l.contains("/auth/login")), "{label}");
        let before = app.fingerprint().await;
        client.try_create_account(&[("name", "몰래 만든 고객사")]).await.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(app.fingerprint().await, before);
    }
    // Being refused does not revive the idle session.
    app.with_token(&idle).try_list_accounts(&[]).await.assert_status(StatusCode::UNAUTHORIZED);

    // A session used within the idle limit lives on, and its idle timer restarts.
    let recent = aged_session(&app, rep.id, "119 minutes", "9 hours").await;
    let client = app.with_token(&recent);
    assert_eq!(client.list_accounts(&[]).await.rows.len(), 1);
    let (idle_secs,): (f64,) =
        sqlx::query_as("select extract(epoch from now() - last_seen_at)::float8 from sessions where token_hash = $1")
            .bind(server::session::hash(&recent))
            .fetch_one(&app.pool)
            .await
            .expect("session");
    assert!(idle_secs < 60.0, "last_seen_at refreshed ({idle_secs}s ago)");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other = app.rep("이서연").await;

    let res = rep.post_with("/auth/logout", &[], &[("origin", ORIGIN)]).await;
    assert!(res.status.is_redirection(), "{}", res.status);
    // Keycloak is unreachable here, so it ends at our own signed-out page.
    assert_eq!(res.location(), Some(format!("{ORIGIN}/auth/signed-out").as_str()));
    let cookie = res.header("set-cookie").expect("the cookie is cleared");
    assert!(cookie.starts_with("salesops_session=;") && cookie.contains("Max-Age=0"), "{cookie}");

    rep.try_list_accounts(&[]).await.assert_status(StatusCode::UNAUTHORIZED);
    let me: Option<CurrentUser> = rep.post_fn("/api/me", &[]).await.ok();
    assert_eq!(me, None);
    // Only that session ended.
    assert_eq!(app.count("sessions").await, 1);
    other.try_list_accounts(&[]).await.assert_status(StatusCode::OK);
    let page = app.anonymous().get("/auth/signed-out").await;
    page.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn the_sign_in_callback_refuses_missing_unknown_and_reused_state() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    let en = [("accept-language", "en")];
    // The browser that started the hand-made attempts below: its binding cookie.
    let browser = [("accept-language", "en"), ("cookie", "salesops_sign_in=b")];
    let users = app.count("users").await;

    for path in ["/auth/callback", "/auth/callback?code=abc", "/auth/callback?code=abc&state=never-issued"] {
        let res = anonymous.get_with(path, &en).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}: {}", res.body);
        assert!(res.body.contains("Sign-in failed"), "{path}: {}", res.body);
        assert!(res.header("set-cookie").is_none(), "{path}: no session cookie");
    }

    sqlx::query(
        "insert into login_attempts (state, nonce, pkce_verifier, return_to, browser_binding)
         values ('state-1', 'nonce', 'verifier', '/accounts', sha256('b'))",
    )
    .execute(&app.pool)
    .await
    .expect("login attempt");
    // First use: the state is consumed, then Keycloak cannot be reached.
    let res = anonymous.get_with("/auth/callback?code=abc&state=state-1", &browser).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
    assert_eq!(app.count("login_attempts").await, 0, "single use");
    // Second use of the same state is refused outright.
    let res = anonymous.get_with("/auth/callback?code=abc&state=state-1", &browser).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);

    // An expired attempt is refused as well.
    sqlx::query(
        "insert into login_attempts (state, nonce, pkce_verifier, return_to, browser_binding, created_at)
         values ('state-old', 'nonce', 'verifier', '/accounts', sha256('b'), now() - interval '11 minutes')",
    )
    .execute(&app.pool)
    .await
    .expect("old login attempt");
    let res = anonymous.get_with("/auth/callback?code=abc&state=state-old", &browser).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    // Keycloak reporting an error consumes the attempt and signs nobody in.
    sqlx::query(
        "insert into login_attempts (state, nonce, pkce_verifier, return_to, browser_binding)
         values ('state-2', 'n', 'v', '/', sha256('b'))",
    )
    .execute(&app.pool)
    .await
    .expect("login attempt");
    let res = anonymous.get_with("/auth/callback?error=access_denied&state=state-2", &browser).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);

    assert_eq!(app.count("sessions").await, 0, "no session was created");
    assert_eq!(app.count("users").await, users, "no user was created");
}

#[tokio::test]
async fn sign_in_says_so_when_keycloak_cannot_be_reached() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    let res = anonymous.get_with("/auth/login?return_to=%2Faccounts", &[("accept-language", "en")]).await;
    res.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.body.contains("The sign-in server (Keycloak) cannot be reached"), "{}", res.body);
    assert!(res.body.contains("href=\"/auth/login\""), "offers to try again");
    let res = anonymous.get("/auth/login").await;
    res.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.body.contains("Keycloak"), "{}", res.body);
    assert!(res.body.contains("연결할 수 없습니다"), "Korean by default: {}", res.body);
    assert_eq!(app.count("login_attempts").await, 0);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn health_endpoints_answer_without_a_session() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    let res = anonymous.get("/healthz").await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.body, "ok");
    let res = anonymous.get("/readyz").await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.body, "ready");
    // Every answer carries the security headers.
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert!(res.header("content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'")));
}

#[tokio::test]
async fn a_forged_back_channel_logout_ends_no_session() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    sqlx::query("update sessions set keycloak_sid = 'kc-sid-1' where user_id = $1")
        .bind(rep.id)
        .execute(&app.pool)
        .await
        .expect("keycloak sid");

    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:1/realms/none", "aud": "salesops", "iat": 1_700_000_000, "sid": "kc-sid-1",
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} }
    });
    let unsigned = format!("{}.{}.", b64(serde_json::json!({"alg": "none", "typ": "JWT"})), b64(claims.clone()));
    let self_signed = format!("{}.{}.c2lnbmF0dXJl", b64(serde_json::json!({"alg": "HS256", "kid": "k1"})), b64(claims));
    // Keycloak calls server to server: no Origin, no cookie.
    let keycloak = app.anonymous();
    for token in [unsigned.as_str(), self_signed.as_str(), "not-a-jwt", ""] {
        let res = keycloak.post_with("/auth/backchannel-logout", &fields(&[("logout_token", token)]), &[]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{token:?}: {}", res.body);
    }
    assert_eq!(app.count("sessions").await, 1);
    rep.try_list_accounts(&[]).await.assert_status(StatusCode::OK);
}
