//! Reading and writing cookies. The session, the sign-in routes and the
//! plain pages all need them, so they live below all three and use only the
//! configuration (for `Secure` and the path prefix).

use axum::http::{header, HeaderMap};

use crate::config::Config;

/// A cookie's value from the request's `Cookie` headers.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_string))
}

/// Whether the page's scripts may read a cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptAccess {
    /// `HttpOnly`: the session cookie, which no script ever needs.
    None,
    /// The language cookie: no secret, so scripts may read it (the browser
    /// code takes the language from `<html lang>` today).
    Readable,
}

/// A `Set-Cookie` value scoped to the public URL's path; `Secure` when the
/// public URL is https. `max_age_secs` 0 removes the cookie.
pub fn set_cookie(config: &Config, name: &str, value: &str, max_age_secs: i64, scripts: ScriptAccess) -> String {
    let secure = if config.secure_cookies() { "; Secure" } else { "" };
    let http_only = match scripts {
        ScriptAccess::None => "; HttpOnly",
        ScriptAccess::Readable => "",
    };
    let path = match config.public_url.path() {
        "" => "/",
        p => p,
    };
    format!("{name}={value}; Path={path}{http_only}; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_parsing() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; salesops_session=abc; salesops_session_x=2".parse().expect("header"));
        assert_eq!(value(&h, "salesops_session").as_deref(), Some("abc"));
        assert_eq!(value(&h, "missing"), None);
    }

    #[test]
    fn set_cookie_follows_the_public_url() {
        let config = |url: &str| {
            let url = url.to_string();
            Config::from_lookup(move |k| match k {
                "DATABASE_URL" => Some("postgres://x@localhost/db".into()),
                "OIDC_CLIENT_SECRET" => Some("x".into()),
                "SALESOPS_PUBLIC_URL" => Some(url.clone()),
                _ => None,
            })
            .expect("config")
        };
        assert_eq!(
            set_cookie(&config("http://127.0.0.1:3000"), "s", "v", 60, ScriptAccess::None),
            "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(
            set_cookie(&config("https://crm.example.co.kr/salesops/"), "lang", "ko", 0, ScriptAccess::Readable),
            "lang=ko; Path=/salesops/; SameSite=Lax; Max-Age=0; Secure"
        );
    }
}
