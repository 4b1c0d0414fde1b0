//! Account screens: list, detail, create, edit.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::*;
use super::*;
use crate::auth::api::list_owners;
use crate::auth::UserRef;
use crate::domain::check;
use crate::error::AppError;
use crate::i18n::{format_datetime, format_integer, Lang, T};
use crate::record::views::{DeletedBanner, EditFormHead, EmptyList, ExportLinks, FormButtons, RecordActions};
use crate::record::{label_of, Entity, Page, Permissions};
use crate::ui::{field_error, form_state, query_string, use_user, Choice, ErrorBox, Field, LoadError, Notice, Pager};

fn code_options(list: &[(&str, T)], lang: Lang) -> Vec<(String, String)> {
    list.iter().map(|(c, t)| (c.to_string(), t.text(lang).to_string())).collect()
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        AccountQuery {
            q: get("q"),
            owner: get("owner"),
            industry: get("industry"),
            sort: get("sort"),
            after: get("after"),
            before: get("before"),
            deleted: matches!(get("deleted").as_str(), "1" | "on" | "true"),
        }
    };
    let page = Resource::new(query, list_accounts);
    let owners = Resource::new(|| (), |_| list_owners());
    let user = use_user();
    view! {
        <div class="page-head">
            <h1>{T::AccountsTitle.text(lang)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let can_write = user.await.ok().flatten().is_some_and(|u| u.can_write());
                    can_write
                        .then(|| {
                            view! {
                                <a class="button" href=Entity::Account.new_path()>
                                    {T::NewAccount.text(lang)}
                                </a>
                            }
                        })
                })}
            </Suspense>
        </div>
        <Notice />
        <ExportLinks list="accounts" />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let owners = owners.await.unwrap_or_default();
                let signed_in = user.await.ok().flatten();
                let is_manager = signed_in.as_ref().is_some_and(|u| u.is_manager());
                let can_write = signed_in.as_ref().is_some_and(|u| u.can_write());
                let result = page.await;
                view! {
                    <AccountFilters q=q.clone() owners is_manager />
                    {match result {
                        Ok(p) => view! { <AccountTable page=p q can_write /> }.into_any(),
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                    }}
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountFilters(q: AccountQuery, owners: Vec<UserRef>, is_manager: bool) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <Form method="GET" action="/accounts" attr:class="filters" attr:role="search">
            <input
                type="search"
                name="q"
                value=q.q.clone()
                placeholder=T::SearchPlaceholderAccounts.text(lang)
                aria-label=T::Search.text(lang)
            />
            <crate::ui::OwnerFilter owners selected=q.owner.clone() />
            <select name="industry" aria-label=T::Industry.text(lang)>
                <option value="">{T::AllIndustries.text(lang)}</option>
                {INDUSTRIES
                    .iter()
                    .map(|(code, label)| {
                        let selected = *code == q.industry;
                        view! { <option value=*code selected=selected>{label.text(lang)}</option> }
                    })
                    .collect_view()}
            </select>
            <select name="sort" aria-label=T::SortBy.text(lang)>
                {AccountSort::ALL
                    .iter()
                    .map(|(sort, param, label)| {
                        let selected = *sort == AccountSort::from_param(&q.sort);
                        view! { <option value=*param selected=selected>{label.text(lang)}</option> }
                    })
                    .collect_view()}
            </select>
            {is_manager
                .then(|| {
                    view! {
                        <label class="check">
                            <input type="checkbox" name="deleted" value="1" checked=q.deleted />
                            {T::ShowDeleted.text(lang)}
                        </label>
                    }
                })}
            <button type="submit">{T::Search.text(lang)}</button>
        </Form>
    }
}

#[component]
fn AccountTable(page: Page<AccountRow>, q: AccountQuery, can_write: bool) -> impl IntoView {
    let lang = crate::ui::lang();
    if page.rows.is_empty() {
        let filtered = !(q.q.is_empty() && q.owner.is_empty() && q.industry.is_empty()) || q.deleted;
        let create = can_write.then(|| (Entity::Account.new_path(), T::NewAccount));
        return view! { <EmptyList filtered list_path="/accounts" nothing_yet=T::NoAccountsYet create /> }.into_any();
    }
    let base = format!(
        "/accounts?{}",
        query_string(&[
            ("q", &q.q),
            ("owner", &q.owner),
            ("industry", &q.industry),
            ("sort", &q.sort),
            ("deleted", if q.deleted { "1" } else { "" }),
        ])
    );
    let first = q.after.is_empty() && q.before.is_empty();
    view! {
        <table class="list" data-testid="account-list">
            <thead>
                <tr>
                    <th>{T::AccountName.text(lang)}</th>
                    <th>{T::BusinessNumber.text(lang)}</th>
                    <th>{T::Industry.text(lang)}</th>
                    <th>{T::Owner.text(lang)}</th>
                    <th class="num">{T::ContactCount.text(lang)}</th>
                    <th>{T::UpdatedAt.text(lang)}</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .rows
                    .into_iter()
                    .map(|r| {
                        let industry = r
                            .industry
                            .as_deref()
                            .and_then(|c| label_of(INDUSTRIES, c))
                            .map(|t| t.text(lang))
                            .unwrap_or("");
                        view! {
                            <tr>
                                <td>
                                    <a href=Entity::Account.path(r.id)>{r.name}</a>
                                </td>
                                <td class="mono">{r.business_number.unwrap_or_default()}</td>
                                <td>{industry}</td>
                                <td>{r.owner_name}</td>
                                <td class="num">{format_integer(r.contact_count)}</td>
                                <td>{format_datetime(r.updated_at, lang)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <Pager base prev=page.prev next=page.next first />
    }
    .into_any()
}

/// The account's fields, filled from `values`, with errors beside them.
#[component]
fn AccountFields(
    values: AccountForm,
    errors: Vec<crate::error::FieldError>,
    owners: Vec<UserRef>,
    can_reassign: bool,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let e = |f: &str| field_error(&errors, f);
    let owner_field = can_reassign.then(|| {
        let options = owners.into_iter().map(|o| (o.id.to_string(), o.display_name)).collect();
        view! { <Choice label=T::Owner name="owner_id" value=values.owner_id.clone() options error=e("owner_id") /> }
    });
    view! {
        <Field label=T::AccountName name="name" value=values.name.clone() required=true max_len=200 error=e("name") />
        <Field
            label=T::BusinessNumber
            name="business_number"
            value=values.business_number.clone()
            hint=T::BusinessNumberHint
            check=check::business_number
            error=e("business_number")
        />
        <Choice label=T::Industry name="industry" value=values.industry.clone() options=code_options(INDUSTRIES, lang) error=e("industry") />
        <Choice label=T::CompanySize name="company_size" value=values.company_size.clone() options=code_options(COMPANY_SIZES, lang) error=e("company_size") />
        <Field label=T::Address name="address" value=values.address.clone() max_len=300 error=e("address") />
        <Field label=T::MainPhone name="main_phone" value=values.main_phone.clone() input_type="tel" check=check::phone error=e("main_phone") />
        <Field label=T::Website name="website" value=values.website.clone() check=check::website error=e("website") />
        {owner_field}
        <div class="field">
            <label for="f-notes">{T::Notes.text(lang)}</label>
            <textarea id="f-notes" name="form[notes]" rows="4" maxlength="4000">{values.notes.clone()}</textarea>
            {e("notes").map(|m| view! { <small class="field-error">{m.text(lang)}</small> })}
        </div>
    }
}

#[component]
pub fn AccountNewPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let owners = Resource::new(|| (), |_| list_owners());
    let user = use_user();
    view! {
        <h1>{T::NewAccount.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let owners = owners.await.unwrap_or_default();
                let user = user.await.ok().flatten();
                let can_reassign = user.as_ref().is_some_and(|u| u.is_manager());
                let initial = AccountForm {
                    owner_id: user.map(|u| u.id.to_string()).unwrap_or_default(),
                    ..Default::default()
                };
                view! { <NewAccountForm initial owners can_reassign /> }
            })}
        </Suspense>
    }
}

/// The new-account form, hydrated on its own (an island): fields are checked
/// as they are left, and it is sent without a reload.
#[island]
fn NewAccountForm(initial: AccountForm, owners: Vec<UserRef>, can_reassign: bool) -> impl IntoView {
    let action = ServerAction::<CreateAccount>::new();
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="account-form">
            {move || {
                let (values, errors, err) = form_state(action.value().get(), &initial);
                view! {
                    {err.map(|e| view! { <ErrorBox error=e /> })}
                    <AccountFields values errors owners=owners.clone() can_reassign />
                }
            }}
            <FormButtons pending=action.pending() back=Entity::Account.list_path().to_string() />
        </ActionForm>
    }
}

#[component]
pub fn AccountEditPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_account);
    let owners = Resource::new(|| (), |_| list_owners());
    view! {
        <h1>{T::EditAccount.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let owners = owners.await.unwrap_or_default();
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        if !d.can.edit {
                            return view! { <LoadError error=AppError::Forbidden /> }.into_any();
                        }
                        let initial = AccountForm::from_account(&d.account);
                        view! {
                            <EditAccountForm
                                id=d.account.id.to_string()
                                record_version=d.account.version
                                initial
                                owners
                                can_reassign=d.can.reassign
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The edit form, an island like `NewAccountForm`.
#[island]
fn EditAccountForm(
    id: String,
    record_version: i32,
    initial: AccountForm,
    owners: Vec<UserRef>,
    can_reassign: bool,
) -> impl IntoView {
    let action = ServerAction::<UpdateAccount>::new();
    let back = format!("/accounts/{id}");
    let reload = format!("/accounts/{id}/edit");
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="account-form">
            <input type="hidden" name="id" value=id />
            {move || {
                let (values, errors, err) = form_state(action.value().get(), &initial);
                view! {
                    <EditFormHead err record_version reload=reload.clone() />
                    <AccountFields values errors owners=owners.clone() can_reassign />
                }
            }}
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

/// The account's own part of its page: name, actions, fields and notes (the
/// page around it adds contacts, deals, the timeline and the history).
#[component]
pub fn AccountSummary(account: Account, can: Permissions) -> impl IntoView {
    let lang = crate::ui::lang();
    let a = account;
    let label = |list: &[(&str, T)], v: &Option<String>| {
        v.as_deref().and_then(|c| label_of(list, c)).map(|t| t.text(lang).to_string()).unwrap_or_default()
    };
    let row = |k: T, v: String| view! { <dt>{k.text(lang)}</dt> <dd>{v}</dd> };
    let website = a
        .website
        .clone()
        .map(|w| view! { <a href=w.clone() rel="external noopener noreferrer" target="_blank">{w.clone()}</a> });
    view! {
        <div class="page-head">
            <h1 data-testid="account-name">{a.name.clone()}</h1>
            <RecordActions kind=Entity::Account id=a.id.to_string() version=a.version can_edit=can.edit can_restore=can.restore />
        </div>
        {a.deleted_at.map(|_| view! { <DeletedBanner /> })}
        <dl class="record">
            {row(T::BusinessNumber, a.business_number.clone().unwrap_or_default())}
            {row(T::Industry, label(INDUSTRIES, &a.industry))}
            {row(T::CompanySize, label(COMPANY_SIZES, &a.company_size))}
            {row(T::Address, a.address.clone().unwrap_or_default())}
            {row(T::MainPhone, a.main_phone.clone().unwrap_or_default())}
            <dt>{T::Website.text(lang)}</dt>
            <dd>{website}</dd>
            {row(T::Owner, a.owner.display_name.clone())}
            {row(T::CreatedAt, format!("{} · {}", format_datetime(a.created_at, lang), a.created_by))}
            {row(T::UpdatedAt, format!("{} · {}", format_datetime(a.updated_at, lang), a.updated_by))}
        </dl>
        {a.notes.clone().map(|n| view! { <section><h2>{T::Notes.text(lang)}</h2><p class="notes">{n}</p></section> })}
    }
}
