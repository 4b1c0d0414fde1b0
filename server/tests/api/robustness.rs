//! Nothing a request carries can make the server fail: control characters,
//! over-long values, invalid UTF-8 (percent-encoded in the URL, raw in
//! headers and bodies), odd methods and garbage bodies, sent to every route.
//! Each answer is a refusal (4xx) or a redirect (3xx), never a 5xx; a panic
//! would fail the test outright (the router runs in the test's task). Signed
//! in, a page may also render (showing what it refused) and a server function
//! without arguments may answer (it has nothing to refuse); that nothing was
//! changed is checked on the data afterwards. Then the app still answers
//! normally.
//!
//! Over-long values are 100 KB in bodies and headers; in the URL they are
//! 60 KB, as `http::Uri` holds at most 64 KB (and hyper refuses longer
//! request lines before any of our code runs).

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};

use crate::callback::App;
use crate::helpers::{Overrides, Resp, ORIGIN};

/// Values that have broken servers: control characters, invalid UTF-8,
/// percent signs that decode to nothing, markup, and a long one.
fn hostile_url_values() -> Vec<String> {
    vec![
        "%00%01%02%1b%7f".into(),
        "%0d%0aSet-Cookie:%20x=1".into(),
        "%ff%fe%c3%28%ed%a0%80".into(),
        "%".into(),
        "%zz%".into(),
        "..%2f..%2f..%2fetc%2fpasswd".into(),
        "%5c%5cevil.example".into(),
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "-1".into(),
        "99999999999999999999999999".into(),
        "00000000-0000-0000-0000-000000000000".into(),
        "a".repeat(60_000),
        "%ea%b5%ac".repeat(6_000),
    ]
}

fn odd_methods() -> Vec<Method> {
    let mut methods = vec![Method::PUT, Method::DELETE, Method::PATCH, Method::TRACE, Method::OPTIONS, Method::HEAD];
    methods.push(Method::from_bytes(b"PROPFIND").expect("method"));
    methods.push(Method::from_bytes(b"X-GARBAGE").expect("method"));
    methods
}

/// One request; `token` signs it in. Mutations carry our Origin, so they
/// reach the handlers rather than stopping at the cross-site check.
async fn send(
    app: &App,
    method: Method,
    uri: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
    extra: &[(&str, HeaderValue)],
) -> Option<Resp> {
    let mut b = Request::builder().method(method).uri(uri).header(header::ORIGIN, ORIGIN);
    if let Some(t) = token {
        b = b.header(header::COOKIE, format!("{}={t}", server::session::COOKIE));
    }
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    for (k, v) in extra {
        b = b.header(*k, v.clone());
    }
    // A URI `http` itself cannot hold never reaches a server either.
    let req = b.body(Body::from(body)).ok()?;
    // A request that never answers is a denial of service: fail naming it
    // instead of hanging the suite.
    let what = format!("{} {:.120}", req.method(), req.uri());
    match tokio::time::timeout(std::time::Duration::from_secs(30), app.send(req)).await {
        Ok(res) => Some(res),
        Err(_) => panic!("no answer within 30 s: {what}"),
    }
}

#[track_caller]
fn assert_refused_or_redirected(res: &Resp, what: &str, success_allowed: bool) {
    let ok =
        res.status.is_client_error() || res.status.is_redirection() || (success_allowed && res.status.is_success());
    let shown: String = res.body.chars().take(300).collect();
    assert!(ok, "{what}: answered {} — {shown}", res.status);
}

#[tokio::test]
async fn hostile_input_on_every_route_is_refused_never_a_server_error() {
    let app = App::spawn_with(Overrides::new().env("SALESOPS_LOGIN_RATE_PER_MINUTE", "100000")).await;
    let rep = app.rep("김민준").await;
    let token = rep.token.clone().expect("signed in");
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let (before, deals_before) = (app.fingerprint().await, app.deal_fingerprint().await);
    let mut sent = 0usize;

    // --- pages and the sign-in routes, by URL
    let mut urls: Vec<String> = Vec::new();
    for v in hostile_url_values() {
        urls.extend([
            format!("/?q={v}"),
            format!("/accounts?q={v}&sort={v}&owner={v}&after={v}"),
            format!("/accounts/{v}"),
            format!("/accounts/{v}/edit"),
            format!("/accounts/{account}?tab={v}&__err={v}"),
            format!("/contacts/{v}"),
            format!("/deals/{v}"),
            format!("/deals/{v}/edit"),
            format!("/deals?stage={v}&currency={v}"),
            format!("/pipeline?owner={v}&period={v}&currency={v}"),
            format!("/auth/login?return_to={v}"),
            format!("/auth/callback?state={v}&code={v}"),
            format!("/auth/callback?error={v}&state={v}"),
            format!("/lang/{v}?to={v}"),
            format!("/pkg/{v}"),
            format!("/{v}"),
        ]);
    }
    for uri in &urls {
        for who in [None, Some(token.as_str())] {
            let Some(res) = send(&app, Method::GET, uri, who, None, vec![], &[]).await else { continue };
            sent += 1;
            // A signed-in page may render, showing what it refused; it must not fail.
            let page = who.is_some() && !uri.starts_with("/auth/") && !uri.starts_with("/lang/");
            assert_refused_or_redirected(&res, &format!("GET {uri:.120} (signed in: {})", who.is_some()), page);
        }
        for method in odd_methods() {
            let Some(res) = send(&app, method.clone(), uri, Some(&token), None, vec![], &[]).await else { continue };
            sent += 1;
            // HEAD and OPTIONS are reads: a signed-in page may answer them.
            let read = matches!(method, Method::HEAD | Method::OPTIONS) && !uri.starts_with("/auth/");
            assert_refused_or_redirected(&res, &format!("{method} {uri:.120}"), read);
        }
    }

    // --- hostile headers: raw invalid UTF-8 and control-free garbage, 100 KB values
    let long = "b".repeat(100_000);
    let headers: Vec<(&str, HeaderValue)> = vec![
        ("cookie", HeaderValue::from_bytes(b"salesops_session=\xff\xfe; salesops_lang=\xc3\x28").expect("header")),
        ("cookie", HeaderValue::from_str(&format!("salesops_session={long}; salesops_sign_in={long}")).expect("h")),
        ("accept-language", HeaderValue::from_bytes(b"\xff\xfe;q=abc, ko;q=2").expect("header")),
        ("accept-language", HeaderValue::from_str(&long).expect("header")),
        ("x-forwarded-for", HeaderValue::from_bytes(b"\xff, 999.1.1.1").expect("header")),
        ("referer", HeaderValue::from_bytes(b"\xff\xfe").expect("header")),
    ];
    for (name, value) in &headers {
        for uri in ["/", "/accounts", "/pipeline", "/auth/login?return_to=%2F", "/auth/callback?state=x&code=y"] {
            let extra = [(*name, value.clone())];
            let res = send(&app, Method::GET, uri, None, None, vec![], &extra).await.expect("request");
            sent += 1;
            assert_refused_or_redirected(&res, &format!("GET {uri} with a hostile {name}"), false);
        }
    }

    // --- every server function, and the form-posting routes, with garbage bodies
    let mut functions: Vec<(String, Method)> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, method)| (path.to_string(), method)).collect();
    functions.sort();
    assert!(functions.len() >= 20, "the server functions are registered: {functions:?}");
    functions.push(("/auth/backchannel-logout".into(), Method::POST));
    let form = Some("application/x-www-form-urlencoded");
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (form, vec![]),
        (form, b"%ff%fe=%ff&%00=%0d%0a&id=%00&version=-1&kind=%ff".to_vec()),
        (form, b"id=\xff\xfe\xfd&form[name]=\xc3\x28&query[q]=\x00\x01".to_vec()),
        (form, b"form[name]=%00%01&form[amount]=1e999&query[after]=%ff&stage=%0a&back=%5c%5cevil".to_vec()),
        (form, b"id[]=1&id[x]=2&form=3&query=4&query[deleted]=maybe&done=perhaps".to_vec()),
        (form, format!("id={long}&version={long}&form[name]={long}&query[q]={long}&logout_token={long}").into_bytes()),
        (form, vec![b'&'; 100_000]),
        (Some("application/json"), b"{\"id\": [1, {\"x\": null}], ".to_vec()),
        (Some("application/json"), b"\xff\xfe\x00".to_vec()),
        (Some("multipart/form-data; boundary=x"), b"--x\r\ngarbage\r\n--x--".to_vec()),
        (Some("text/plain"), b"garbage".to_vec()),
        (None, b"id=1".to_vec()),
    ];
    for (path, method) in &functions {
        for (content_type, body) in &bodies {
            for who in [None, Some(token.as_str())] {
                let res =
                    send(&app, method.clone(), path, who, *content_type, body.clone(), &[]).await.expect("request");
                sent += 1;
                // Anonymous, only /api/me answers ("nobody"); signed in, a
                // function without arguments may ignore the body.
                let may_answer = who.is_some() || path == "/api/me";
                assert_refused_or_redirected(
                    &res,
                    &format!("{method} {path} {content_type:?} {:.60}", String::from_utf8_lossy(body)),
                    may_answer,
                );
            }
        }
        for method in odd_methods() {
            if method == *path_method(&functions, path) {
                continue;
            }
            let res = send(&app, method.clone(), path, Some(&token), form, b"id=1".to_vec(), &[]).await;
            let res = res.expect("request");
            sent += 1;
            assert_refused_or_redirected(&res, &format!("{method} {path}"), method == Method::HEAD);
        }
    }
    // Signing out with garbage: a redirect to the signed-out page (anonymous,
    // so as to keep the session the rest of the test uses).
    for (content_type, body) in &bodies {
        let res = send(&app, Method::POST, "/auth/logout", None, *content_type, body.clone(), &[]).await;
        assert_refused_or_redirected(&res.expect("request"), "POST /auth/logout", false);
        sent += 1;
    }
    eprintln!("{sent} hostile requests answered");
    assert_eq!(app.fingerprint().await, before, "hostile input changed accounts, contacts or the audit trail");
    assert_eq!(app.deal_fingerprint().await, deals_before, "hostile input changed deals or activities");

    // --- and the app still works
    rep.get("/accounts").await.assert_status(StatusCode::OK);
    assert_eq!(rep.account(account).await.account.name, "구름클라우드");
    app.anonymous().get("/healthz").await.assert_status(StatusCode::OK);
    assert!(app.anonymous().get("/accounts").await.status.is_redirection());
}

fn path_method<'a>(functions: &'a [(String, Method)], path: &str) -> &'a Method {
    functions.iter().find(|(p, _)| p == path).map(|(_, m)| m).unwrap_or(&Method::POST)
}
