//! Components and helpers every page shares: language, header, notices,
//! error boxes, form fields, history.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::auth::api::get_current_user;
use crate::error::{AppError, FieldError};
use crate::i18n::{Lang, T};

#[derive(Clone, Copy)]
pub struct UiLang(pub Lang);

/// The language of the page being rendered.
pub fn lang() -> Lang {
    // Islands in the browser see no server context: read <html lang> there.
    use_context::<UiLang>().map(|l| l.0).unwrap_or_else(request_lang)
}

/// The signed-in user, loaded once per page and shared through context.
pub type UserResource = Resource<Result<Option<crate::auth::CurrentUser>, AppError>>;

pub fn provide_user() {
    let user: UserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(user);
}

pub fn use_user() -> UserResource {
    expect_context::<UserResource>()
}

pub const LANG_COOKIE: &str = "salesops_lang";

/// The language of this request: on the server from the cookie or
/// Accept-Language; in the browser from the `lang` the server put on <html>.
pub fn request_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        let Some(parts) = use_context::<http::request::Parts>() else { return Lang::default() };
        let header = |name: http::header::HeaderName| {
            parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("; ")
        };
        let cookies = header(http::header::COOKIE);
        let cookie = cookies.split(';').find_map(|c| c.trim().strip_prefix(&format!("{LANG_COOKIE}=")));
        let accept = header(http::header::ACCEPT_LANGUAGE);
        Lang::negotiate(cookie, Some(accept.as_str()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|code| Lang::from_code(&code))
            .unwrap_or_default()
    }
}

/// `a=1&b=x%20y` with every value percent-encoded.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
pub fn Header() -> impl IntoView {
    let lang = crate::ui::lang();
    let user = use_user();
    let location = use_location();
    let here = move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    let other = match lang {
        Lang::Ko => (Lang::En, T::SwitchToEnglish),
        Lang::En => (Lang::Ko, T::SwitchToKorean),
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/accounts">{T::AppName.text(lang)}</a>
            <nav>
                <a href="/dashboard">{T::NavDashboard.text(lang)}</a>
                <a href="/accounts">{T::NavAccounts.text(lang)}</a>
                <a href="/contacts">{T::NavContacts.text(lang)}</a>
                <a href="/deals">{T::NavDeals.text(lang)}</a>
                <a href="/pipeline">{T::NavPipeline.text(lang)}</a>
                <a href="/contracts">{T::NavContracts.text(lang)}</a>
                <a href="/renewals">{T::NavRenewals.text(lang)}</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let admin = user.await.ok().flatten().is_some_and(|u| u.has(crate::auth::Role::Admin));
                        admin.then(|| view! { <a href="/import">{T::ImportTitle.text(lang)}</a> })
                    })}
                </Suspense>
            </nav>
            // A plain GET form: the results page needs no script.
            <form class="global-search" method="get" action="/search" role="search">
                <input
                    type="search"
                    name="q"
                    aria-label=T::SearchLabel.text(lang)
                    placeholder=T::SearchTitle.text(lang)
                />
            </form>
            <div class="session">
                <a
                    class="lang-switch"
                    rel="external"
                    hreflang=other.0.code()
                    href=move || format!("/lang/{}?{}", other.0.code(), query_string(&[("to", &here())]))
                >
                    {other.1.text(lang)}
                </a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(u)) => {
                                let roles = u
                                    .roles
                                    .iter()
                                    .map(|r| r.label().text(lang))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                view! {
                                    <span class="user" data-testid="current-user">
                                        {u.display_name.clone()}
                                        <small>{roles}</small>
                                    </span>
                                    <form method="post" action="/auth/logout" class="inline">
                                        <button type="submit" class="link">{T::SignOut.text(lang)}</button>
                                    </form>
                                }
                                    .into_any()
                            }
                            _ => view! { <a href="/auth/login" rel="external">{T::SignIn.text(lang)}</a> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </header>
    }
}

/// The confirmation a redirect after a successful post asks for (`?notice=`).
#[component]
pub fn Notice() -> impl IntoView {
    let lang = lang();
    let query = use_query_map();
    move || {
        let notice = query.read().get("notice").as_deref().and_then(kit::record::Notice::from_code);
        notice.map(|n| view! { <p class="notice" role="status">{n.text().text(lang)}</p> })
    }
}

#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let lang = crate::ui::lang();
    view! { <p class="error-box" role="alert">{error.message(lang)}</p> }
}

/// The owner filter of a list's GET form ("all owners" first).
#[component]
pub fn OwnerFilter(owners: Vec<crate::auth::UserRef>, selected: String) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <select name="owner" aria-label=T::Owner.text(lang)>
            <option value="">{T::AllOwners.text(lang)}</option>
            {owners
                .into_iter()
                .map(|o| {
                    let id = o.id.to_string();
                    let is_selected = id == selected;
                    view! { <option value=id selected=is_selected>{o.display_name}</option> }
                })
                .collect_view()}
        </select>
    }
}

/// The currency filter of a list's GET form ("all currencies" first).
#[component]
pub fn CurrencyFilter(selected: String) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <select name="currency" aria-label=T::Currency.text(lang)>
            <option value="">{T::AllCurrencies.text(lang)}</option>
            {crate::domain::Currency::ALL
                .iter()
                .map(|c| {
                    let is_selected = c.code() == selected;
                    view! { <option value=c.code() selected=is_selected>{c.code()}</option> }
                })
                .collect_view()}
        </select>
    }
}

/// A page whose record could not be loaded: the message, and on the server the
/// matching HTTP status (404 for a missing record, not 200 with an error box).
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(options), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(error.status()))
    {
        options.set_status(status);
    }
    view! { <ErrorBox error /> }
}

/// Values and errors to show after a submit: the server's echo of the input
/// when it refused it, otherwise the record's own values.
pub fn form_state<F, O>(result: Option<Result<O, AppError>>, initial: &F) -> (F, Vec<FieldError>, Option<AppError>)
where
    F: Clone + Default + serde::de::DeserializeOwned,
{
    match result {
        Some(Err(err)) => (
            err.submitted().map(kit::record::from_pairs).unwrap_or_else(|| initial.clone()),
            err.field_errors().to_vec(),
            Some(err),
        ),
        _ => (initial.clone(), vec![], None),
    }
}

pub fn field_error(errors: &[FieldError], field: &str) -> Option<T> {
    errors.iter().find(|e| e.field == field).map(|e| e.message)
}

/// A labelled input posting as `form[name]`, with its error beside it.
#[component]
pub fn Field(
    label: T,
    name: &'static str,
    #[prop(into)] value: String,
    #[prop(default = None)] error: Option<T>,
    #[prop(optional)] required: bool,
    #[prop(optional)] input_type: Option<&'static str>,
    #[prop(optional)] hint: Option<T>,
    #[prop(optional)] max_len: Option<usize>,
    /// Checked in the browser as the user leaves the field (the server checks again).
    #[prop(optional)]
    check: Option<fn(&str) -> Option<T>>,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let live_error = RwSignal::new(error);
    view! {
        <div class="field" class:invalid=move || live_error.get().is_some()>
            <label for=id.clone()>{label.text(lang)} {required.then_some(" *")}</label>
            <input
                id=id
                name=format!("form[{name}]")
                type=input_type.unwrap_or("text")
                value=value
                required=required
                maxlength=max_len.map(|m| m.to_string())
                aria-invalid=move || live_error.get().is_some().then_some("true")
                aria-describedby=err_id.clone()
                on:change=move |ev| {
                    if let Some(check) = check {
                        live_error.set(check(&event_target_value(&ev)));
                    }
                }
            />
            {hint.map(|h| view! { <small class="hint">{h.text(lang)}</small> })}
            <small class="field-error" id=err_id>
                {move || live_error.get().map(|e| e.text(lang))}
            </small>
        </div>
    }
}

/// A select posting as `form[name]` from a fixed code list.
#[component]
pub fn Choice(
    label: T,
    name: &'static str,
    #[prop(into)] value: String,
    options: Vec<(String, String)>,
    #[prop(default = None)] error: Option<T>,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let id = format!("f-{name}");
    view! {
        <div class="field" class:invalid=error.is_some()>
            <label for=id.clone()>{label.text(lang)}</label>
            <select id=id name=format!("form[{name}]")>
                <option value="" selected=value.is_empty()>{T::NotSet.text(lang)}</option>
                {options
                    .into_iter()
                    .map(|(code, text)| {
                        let selected = code == value;
                        view! { <option value=code selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
            {error.map(|e| view! { <small class="field-error">{e.text(lang)}</small> })}
        </div>
    }
}

/// Previous / next links of a keyset-paged list, keeping the other filters.
#[component]
pub fn Pager(base: String, prev: Option<String>, next: Option<String>, first: bool) -> impl IntoView {
    let lang = crate::ui::lang();
    let link = |key: &str, cursor: &str| {
        let sep = if base.contains('?') { "&" } else { "?" };
        format!("{base}{sep}{key}={}", encode(cursor))
    };
    let prev_href = prev.as_deref().map(|c| link("before", c));
    let next_href = next.as_deref().map(|c| link("after", c));
    view! {
        <nav class="pager">
            {(!first).then(|| view! { <a href=base.clone()>{T::FirstPage.text(lang)}</a> })}
            {prev_href.map(|h| view! { <a href=h rel="prev">{T::PrevPage.text(lang)}</a> })}
            {next_href.map(|h| view! { <a href=h rel="next">{T::NextPage.text(lang)}</a> })}
        </nav>
    }
}
