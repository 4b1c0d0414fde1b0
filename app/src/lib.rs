//! SalesOps application: routes, components, server functions and domain,
//! shared by the server (feature `ssr`) and the browser (feature `hydrate`).
#![recursion_limit = "256"]

// Layers, each using only those listed before it (see README, "Architecture";
// `layering` below checks it): the leaf types from `kit`; `server` plumbing;
// `auth`; `ui`; the `record` kit; the domains, which never use each other;
// `pages` that combine domains; `routes` and this root.
pub use kit::{domain, error, i18n};
pub mod accounts;
pub mod activities;
pub mod auth;
pub mod contacts;
pub mod contracts;
pub mod dashboard;
pub mod deals;
pub mod import;
pub mod pages;
pub mod record;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::Router;

use crate::i18n::T;

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = ui::request_lang();
    #[cfg(feature = "ssr")]
    content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // Without it every first page load asks for /favicon.ico and logs a 404.
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
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
fn content_security_policy(options: &LeptosOptions) {
    use leptos::nonce::{provide_nonce, use_nonce};
    provide_nonce();
    let nonce = use_nonce().map(|n| n.to_string()).unwrap_or_default();
    let idp = use_context::<IdentityProviderOrigin>().map(|o| o.0).unwrap_or_default();
    // `cargo leptos watch` (LEPTOS_WATCH) serves a live-reload socket; any
    // other build must not allow connections there.
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
        format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
    } else {
        String::new()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'{reload}; frame-ancestors 'none'; base-uri 'none'; form-action 'self' {idp}"
    );
    if let (Some(options), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&policy))
    {
        options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The layering rule, checked on the source: each module may use only the
/// layers below it, and domains never use each other.
#[cfg(test)]
mod layering {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// `import` is a domain like the others: it will turn cells into every
    /// domain's validated values, which live in `kit` (`domain`), so it needs
    /// no other domain.
    const DOMAINS: [&str; 7] = ["accounts", "activities", "contacts", "contracts", "dashboard", "deals", "import"];

    /// The `crate::<module>` paths a file uses, with grouped imports opened.
    fn uses(source: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (i, _) in source.match_indices("crate::") {
            let rest = &source[i + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for name in names {
                let ident: String =
                    name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !ident.is_empty() {
                    found.insert(ident);
                }
            }
        }
        found
    }

    /// What a module under `app/src` may use besides the leaf types
    /// (`domain`, `error`, `i18n`, re-exported from `kit`) and itself.
    fn allowed(module: &str) -> Vec<&'static str> {
        match module {
            "server" => vec![],
            "auth" => vec!["server"],
            "ui" => vec!["server", "auth"],
            "record" => vec!["server", "auth", "ui"],
            m if DOMAINS.contains(&m) => vec!["server", "auth", "ui", "record"],
            "pages" => [&["server", "auth", "ui", "record"][..], &DOMAINS[..]].concat(),
            _ => [&["server", "auth", "ui", "record", "pages", "routes"][..], &DOMAINS[..]].concat(),
        }
    }

    #[test]
    fn modules_use_only_the_layers_below_them() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read app/src") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 20, "found only {} source files", files.len());
        let mut broken = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&src).expect("under src");
            let module = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .map(|m| m.trim_end_matches(".rs").to_string())
                .unwrap_or_default();
            let source = std::fs::read_to_string(&file).expect("read source");
            let ok = allowed(&module);
            for used in uses(&source) {
                let leaf = matches!(used.as_str(), "domain" | "error" | "i18n");
                if !leaf && used != module && !ok.contains(&used.as_str()) {
                    broken.push(format!("{} uses {used}", relative.display()));
                }
            }
        }
        assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
    }

    #[test]
    fn the_checker_sees_grouped_and_plain_paths() {
        let found = uses("use crate::{deals::X, ui};\nlet y = crate::accounts::server::get();");
        assert_eq!(found, ["accounts", "deals", "ui"].into_iter().map(String::from).collect());
    }
}
