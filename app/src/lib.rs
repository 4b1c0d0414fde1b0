//! SalesOps application: routes, components, server functions and domain,
//! shared by the server (feature `ssr`) and the browser (feature `hydrate`).
#![recursion_limit = "256"]

pub mod accounts;
pub mod activities;
pub mod auth;
pub mod contacts;
pub mod deals;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::Router;
use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, T};

/// One audit-trail row as shown in a record's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub action: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = ui::request_lang();
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = ui::request_lang();
    provide_context(ui::UiLang(lang));
    ui::provide_user();
    view! {
        <Stylesheet id="leptos" href="/pkg/salesops.css" />
        <Title text=T::AppName.text(lang) />
        <Router>
            <ui::Header />
            <main class="page">
                <routes::AppRoutes />
            </main>
        </Router>
    }
}

/// Keycloak's origin: sign-out is a form post that ends in a redirect there,
/// which the CSP's form-action must allow.
#[derive(Clone, Debug)]
pub struct IdentityProviderOrigin(pub String);

/// A per-response nonce lets the hydration scripts run while any injected
/// inline script cannot.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    use leptos::nonce::{provide_nonce, use_nonce};
    provide_nonce();
    let nonce = use_nonce().map(|n| n.to_string()).unwrap_or_default();
    let idp = use_context::<IdentityProviderOrigin>().map(|o| o.0).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self' ws://127.0.0.1:3001; frame-ancestors 'none'; base-uri 'none'; form-action 'self' {idp}"
    );
    if let (Some(options), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&policy))
    {
        options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Helps `Lang` travel in contexts without clashing with other `Lang` uses.
pub fn lang() -> Lang {
    // Islands in the browser see no server context: read <html lang> there.
    use_context::<ui::UiLang>().map(|l| l.0).unwrap_or_else(ui::request_lang)
}
