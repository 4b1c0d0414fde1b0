//! Contact screens: list, detail, create (from an account), edit.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::*;
use super::*;
use crate::domain::check;
use crate::error::{AppError, FieldError};
use crate::i18n::{format_datetime, T};
use crate::record::api::get_account_ref;
use crate::record::views::{
    DeletedBanner, EditFormHead, EmptyList, ExportLinks, FormButtons, HistoryTable, RecordActions,
};
use crate::record::Entity;
use crate::ui::{field_error, form_state, query_string, ErrorBox, Field, LoadError, Notice, Pager};

#[component]
pub fn ContactTable(rows: Vec<ContactRow>, show_account: bool) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <table class="list" data-testid="contact-list">
            <thead>
                <tr>
                    <th>{T::ContactName.text(lang)}</th>
                    <th>{T::Title.text(lang)}</th>
                    <th>{T::Department.text(lang)}</th>
                    <th>{T::Email.text(lang)}</th>
                    <th>{T::Phone.text(lang)}</th>
                    {show_account.then(|| view! { <th>{T::Account.text(lang)}</th> })}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|r| {
                        view! {
                            <tr>
                                <td><a href=Entity::Contact.path(r.id)>{r.name}</a></td>
                                <td>{r.title.unwrap_or_default()}</td>
                                <td>{r.department.unwrap_or_default()}</td>
                                <td>{r.email.unwrap_or_default()}</td>
                                <td>{r.phone.unwrap_or_default()}</td>
                                {show_account.then(|| view! {
                                    <td><a href=Entity::Account.path(r.account_id)>{r.account_name}</a></td>
                                })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        ContactQuery {
            q: get("q"),
            after: get("after"),
            before: get("before"),
            deleted: matches!(get("deleted").as_str(), "1" | "on" | "true"),
        }
    };
    let page = Resource::new(query, list_contacts);
    let user = crate::ui::use_user();
    view! {
        <div class="page-head"><h1>{T::ContactsTitle.text(lang)}</h1></div>
        <Notice />
        <ExportLinks list="contacts" />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let search = q.q.clone();
                let result = page.await;
                let can_write = user.await.ok().flatten().is_some_and(|u| u.can_write());
                view! {
                    <Form method="GET" action="/contacts" attr:class="filters" attr:role="search">
                        <input
                            type="search"
                            name="q"
                            value=search
                            placeholder=T::SearchPlaceholderContacts.text(lang)
                            aria-label=T::Search.text(lang)
                        />
                        <button type="submit">{T::Search.text(lang)}</button>
                    </Form>
                    {match result {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(p) if p.rows.is_empty() => {
                            let filtered = !q.q.is_empty() || q.deleted;
                            let create = can_write.then(|| (Entity::Contact.new_path(), T::NewContact));
                            view! { <EmptyList filtered list_path="/contacts" nothing_yet=T::NoContactsYet create /> }
                                .into_any()
                        }
                        Ok(p) => {
                            let base = format!("/contacts?{}", query_string(&[("q", &q.q)]));
                            let first = q.after.is_empty() && q.before.is_empty();
                            view! {
                                <ContactTable rows=p.rows show_account=true />
                                <Pager base prev=p.prev next=p.next first />
                            }
                                .into_any()
                        }
                    }}
                }
            })}
        </Suspense>
    }
}

#[component]
fn ContactFields(values: ContactForm, errors: Vec<FieldError>) -> impl IntoView {
    let e = |f: &str| field_error(&errors, f);
    view! {
        <input type="hidden" name="form[account_id]" value=values.account_id.clone() />
        <Field label=T::ContactName name="name" value=values.name.clone() required=true max_len=100 error=e("name") />
        <Field label=T::Title name="title" value=values.title.clone() max_len=100 error=e("title") />
        <Field label=T::Department name="department" value=values.department.clone() max_len=100 error=e("department") />
        <Field label=T::Email name="email" value=values.email.clone() input_type="email" check=check::email error=e("email") />
        <Field label=T::Phone name="phone" value=values.phone.clone() input_type="tel" check=check::phone error=e("phone") />
    }
}

#[component]
pub fn ContactNewPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let account_id = move || query_map.read().get("account").unwrap_or_default();
    let account = Resource::new(account_id, get_account_ref);
    view! {
        <h1>{T::NewContact.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(account) => {
                        let initial = ContactForm { account_id: account.id.to_string(), ..Default::default() };
                        let back = Entity::Account.path(account.id);
                        view! {
                            <p>{T::Account.text(lang)} ": " <a href=back.clone()>{account.name}</a></p>
                            <NewContactForm initial back />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ContactEditPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_contact);
    view! {
        <h1>{T::EditContact.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        if !d.can.edit {
                            return view! { <LoadError error=AppError::Forbidden /> }.into_any();
                        }
                        let initial = ContactForm::from_contact(&d.contact);
                        view! {
                            <EditContactForm id=d.contact.row.id.to_string() record_version=d.contact.version initial />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The new-contact form, hydrated on its own (an island).
#[island]
fn NewContactForm(initial: ContactForm, back: String) -> impl IntoView {
    let action = ServerAction::<CreateContact>::new();
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="contact-form">
            {move || {
                let (values, errors, err) = form_state(action.value().get(), &initial);
                view! {
                    {err.map(|e| view! { <ErrorBox error=e /> })}
                    <ContactFields values errors />
                }
            }}
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

/// The edit form, an island like `NewContactForm`.
#[island]
fn EditContactForm(id: String, record_version: i32, initial: ContactForm) -> impl IntoView {
    let action = ServerAction::<UpdateContact>::new();
    let back = format!("/contacts/{id}");
    let reload = format!("/contacts/{id}/edit");
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="contact-form">
            <input type="hidden" name="id" value=id />
            {move || {
                let (values, errors, err) = form_state(action.value().get(), &initial);
                view! {
                    <EditFormHead err record_version reload=reload.clone() />
                    <ContactFields values errors />
                }
            }}
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

#[component]
pub fn ContactPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_contact);
    view! {
        <Notice />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        let c = d.contact;
                        let r = c.row;
                        let row = |k: T, v: String| view! { <dt>{k.text(lang)}</dt> <dd>{v}</dd> };
                        view! {
                            <div class="page-head">
                                <h1 data-testid="contact-name">{r.name.clone()}</h1>
                                <RecordActions kind=Entity::Contact id=r.id.to_string() version=c.version can_edit=d.can.edit can_restore=d.can.restore />
                            </div>
                            {c.deleted_at.map(|_| view! { <DeletedBanner /> })}
                            <dl class="record">
                                <dt>{T::Account.text(lang)}</dt>
                                <dd><a href=Entity::Account.path(r.account_id)>{r.account_name.clone()}</a></dd>
                                {row(T::Title, r.title.clone().unwrap_or_default())}
                                {row(T::Department, r.department.clone().unwrap_or_default())}
                                {row(T::Email, r.email.clone().unwrap_or_default())}
                                {row(T::Phone, r.phone.clone().unwrap_or_default())}
                                {row(T::UpdatedAt, format!("{} · {}", format_datetime(c.updated_at, lang), c.updated_by))}
                            </dl>
                            <section>
                                <h2>{T::History.text(lang)}</h2>
                                <HistoryTable entries=d.history />
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
