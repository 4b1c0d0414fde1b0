//! The few pages served outside the Leptos app: they must work without a
//! session (sign-in errors, no access, signed out). They use only the
//! cookies module (for the language), so the session and sign-in code above
//! can use them freely.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use app::i18n::{Lang, T};

pub fn lang_of(headers: &HeaderMap) -> Lang {
    let cookie = crate::cookies::value(headers, app::ui::LANG_COOKIE);
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(cookie.as_deref(), accept)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · SalesOps</title><link rel=\"stylesheet\" href=\"/pkg/salesops.css\"></head>\
         <body><main class=\"page narrow\">{}</main></body></html>",
        lang.code(),
        escape(title),
        body
    )
}

/// A headline, a message and an optional way onward.
pub fn message(status: StatusCode, lang: Lang, text: T, link: Option<(&str, T)>) -> impl IntoResponse {
    let link = link
        .map(|(href, label)| {
            format!("<p><a class=\"button\" href=\"{}\">{}</a></p>", escape(href), escape(label.text(lang)))
        })
        .unwrap_or_default();
    let body = format!("<h1>SalesOps</h1><p class=\"message\" role=\"alert\">{}</p>{link}", escape(text.text(lang)));
    (status, Html(page(lang, text.text(lang), &body)))
}

/// 429 with `Retry-After` (whole seconds) and a message saying to wait.
pub fn too_many(lang: Lang, text: T, retry_after: Duration) -> Response {
    let mut res = message(StatusCode::TOO_MANY_REQUESTS, lang, text, None).into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
    res
}

pub fn no_access(lang: Lang, name: &str) -> impl IntoResponse {
    let body = format!(
        "<h1 data-testid=\"no-access\">{}</h1><p>{}</p><p><strong>{}</strong></p>\
         <form method=\"post\" action=\"/auth/logout\"><button type=\"submit\">{}</button></form>",
        escape(T::NoAccessTitle.text(lang)),
        escape(T::NoAccessBody.text(lang)),
        escape(name),
        escape(T::SignOut.text(lang)),
    );
    (StatusCode::FORBIDDEN, Html(page(lang, T::NoAccessTitle.text(lang), &body)))
}
