//! Components and helpers every page shares: language, header, notices,
//! error boxes, form fields, history.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::auth::api::get_current_user;
use crate::error::{AppError, FieldError};
use crate::i18n::{format_datetime, Lang, T};
use crate::HistoryEntry;

#[derive(Clone, Copy)]
pub struct UiLang(pub Lang);

/// How page data travels from the server render to the hydrating browser:
/// JSON read with `serde_json::from_slice`, the reader server-function
/// responses already use, so each type's decoder is compiled into the WASM
/// once rather than twice (Leptos' default codec reads from `&str`).
pub struct PageJson;

impl<T: serde::Serialize> codee::Encoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: serde::de::DeserializeOwned> codee::Decoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

pub type PageResource<T> = Resource<T, PageJson>;

/// A resource for page data (rendered on the server, hydrated in the browser).
#[track_caller]
pub fn page_resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageResource<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// The signed-in user, loaded once per page and shared through context.
pub type UserResource = PageResource<Result<Option<crate::auth::CurrentUser>, AppError>>;

pub fn provide_user() {
    let user: UserResource = page_resource(|| (), |_| get_current_user());
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
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
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
    let lang = crate::lang();
    let user = use_user();
    let location = use_location();
    let here = move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() { path } else { format!("{path}?{search}") }
    };
    let other = match lang {
        Lang::Ko => (Lang::En, T::SwitchToEnglish),
        Lang::En => (Lang::Ko, T::SwitchToKorean),
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/accounts">{T::AppName.text(lang)}</a>
            <nav>
                <a href="/accounts">{T::NavAccounts.text(lang)}</a>
                <a href="/contacts">{T::NavContacts.text(lang)}</a>
                <a href="/deals">{T::NavDeals.text(lang)}</a>
                <a href="/pipeline">{T::NavPipeline.text(lang)}</a>
            </nav>
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
    let lang = crate::lang();
    let query = use_query_map();
    move || {
        let key = match query.read().get("notice").as_deref() {
            Some("created") => Some(T::Created),
            Some("saved") => Some(T::Saved),
            Some("deleted") => Some(T::Deleted),
            Some("restored") => Some(T::Restored),
            Some("lang") => Some(T::LanguageChanged),
            Some("activity") => Some(T::ActivityAdded),
            _ => None,
        };
        key.map(|k| view! { <p class="notice" role="status">{k.text(lang)}</p> })
    }
}

/// The top of an edit form: the version the edit is based on (the echoed one
/// after a refusal, so a resubmission still conflicts), the error, and after a
/// conflict a link to the latest version of the record.
#[component]
pub fn EditFormHead(err: Option<AppError>, record_version: i32, reload: String) -> impl IntoView {
    let lang = crate::lang();
    let version = err
        .as_ref()
        .and_then(|e| e.echoed("version"))
        .map(str::to_string)
        .unwrap_or_else(|| record_version.to_string());
    let conflict = matches!(err, Some(AppError::Conflict { .. }));
    view! {
        <input type="hidden" name="version" value=version />
        {err.map(|e| view! { <ErrorBox error=e /> })}
        {conflict.then(|| view! { <p><a href=reload rel="external">{T::ReloadLatest.text(lang)}</a></p> })}
    }
}

/// Save (disabled while the form is being sent) and Cancel back to `back`.
#[component]
pub fn FormButtons(#[prop(into)] pending: Signal<bool>, back: String) -> impl IntoView {
    let lang = crate::lang();
    view! {
        <div class="actions">
            <button type="submit" class="primary" disabled=move || pending.get()>{T::Save.text(lang)}</button>
            <a href=back>{T::Cancel.text(lang)}</a>
        </div>
    }
}

/// Shown on a soft-deleted record.
#[component]
pub fn DeletedBanner() -> impl IntoView {
    view! { <p class="deleted-banner" role="status">{T::DeletedBanner.text(crate::lang())}</p> }
}

#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let lang = crate::lang();
    view! { <p class="error-box" role="alert">{error.message(lang)}</p> }
}

/// The owner filter of a list's GET form ("all owners" first).
#[component]
pub fn OwnerFilter(owners: Vec<crate::auth::UserRef>, selected: String) -> impl IntoView {
    let lang = crate::lang();
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
    let lang = crate::lang();
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

/// A record form that a refused save echoes back (see `AppError::submitted`).
pub trait EchoedForm: Clone {
    fn from_pairs(pairs: &crate::error::Submitted) -> Self;
}

/// Values and errors to show after a submit: the server's echo of the input
/// when it refused it, otherwise the record's own values.
pub fn form_state<F: EchoedForm, O>(result: Option<Result<O, AppError>>, initial: &F) -> (F, Vec<FieldError>, Option<AppError>) {
    match result {
        Some(Err(err)) => (
            err.submitted().map(F::from_pairs).unwrap_or_else(|| initial.clone()),
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
    #[prop(optional)] check: Option<fn(&str) -> Option<T>>,
) -> impl IntoView {
    let lang = crate::lang();
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
    let lang = crate::lang();
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

#[component]
pub fn HistoryTable(entries: Vec<HistoryEntry>) -> impl IntoView {
    let lang = crate::lang();
    if entries.is_empty() {
        return view! { <p class="empty">{T::NoHistory.text(lang)}</p> }.into_any();
    }
    let action_label = move |a: &str| match a {
        "create" => T::ActionCreate,
        "update" => T::ActionUpdate,
        "delete" => T::ActionDelete,
        "restore" => T::ActionRestore,
        _ => T::ActionImport,
    }
    .text(lang);
    view! {
        <ol class="history" data-testid="history">
            {entries
                .into_iter()
                .map(|e| {
                    let changes = e
                        .changes
                        .iter()
                        .filter(|_| e.action == "update")
                        .map(|c| {
                            view! {
                                <li>
                                    <code>{c.field.clone()}</code>
                                    ": "
                                    <del>{c.before.clone()}</del>
                                    " → "
                                    <ins>{c.after.clone()}</ins>
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <li>
                            <strong>{action_label(&e.action)}</strong>
                            " · "
                            {e.actor.clone()}
                            " · "
                            <time>{format_datetime(e.at, lang)}</time>
                            <ul>{changes}</ul>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

/// Previous / next links of a keyset-paged list, keeping the other filters.
#[component]
pub fn Pager(base: String, prev: Option<String>, next: Option<String>, first: bool) -> impl IntoView {
    let lang = crate::lang();
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
