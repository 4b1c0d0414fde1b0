//! Contract screens: list, renewal queue, the contract's summary, create, edit, terminate.
//! All rendered on the server with plain forms (no island), so they work
//! without JavaScript and add nothing to any page's WASM.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::*;
use super::*;
use crate::auth::api::list_owners;
use crate::domain::Currency;
use crate::error::{AppError, FieldError};
use crate::i18n::{format_date, format_datetime, format_integer, format_money, Lang, T};
use crate::record::views::{DeletedBanner, EditFormHead, EmptyList, ExportLinks, FormButtons, RecordActions};
use crate::record::{Entity, Permissions};
use crate::ui::{field_error, form_state, query_string, use_user, Choice, ErrorBox, Field, LoadError, Notice, Pager};

fn money(amount: Decimal, currency: &str, lang: Lang) -> String {
    format_money(amount, currency, lang)
}

fn days_left(days: i64, lang: Lang) -> String {
    format!("{} {}", format_integer(days), T::Days.text(lang))
}

fn query_from_url() -> impl Fn() -> ContractQuery + Copy {
    let query_map = use_query_map();
    move || {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        ContractQuery {
            q: get("q"),
            owner: get("owner"),
            status: get("status"),
            currency: get("currency"),
            account: get("account"),
            deal: get("deal"),
            within: get("within"),
            sort: get("sort"),
            after: get("after"),
            before: get("before"),
            deleted: matches!(get("deleted").as_str(), "1" | "on" | "true"),
        }
    }
}

#[component]
pub fn ContractsPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query = query_from_url();
    let list = Resource::new(query, list_contracts);
    let owners = Resource::new(|| (), |_| list_owners());
    let user = use_user();
    view! {
        <div class="page-head">
            <h1>{T::ContractsTitle.text(lang)}</h1>
            <div class="actions">
                <a class="button" href="/renewals">{T::NavRenewals.text(lang)}</a>
            </div>
        </div>
        <Notice />
        <ExportLinks list="contracts" />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let f = q.clone();
                let owners = owners.await.unwrap_or_default();
                let result = list.await;
                let can_write = user.await.ok().flatten().is_some_and(|u| u.can_write());
                view! {
                    <Form method="GET" action="/contracts" attr:class="filters" attr:role="search">
                        <input type="search" name="q" value=f.q.clone() aria-label=T::Search.text(lang) placeholder=T::ContractTitle.text(lang) />
                        <crate::ui::OwnerFilter owners selected=f.owner.clone() />
                        <select name="status" aria-label=T::ContractStatus.text(lang)>
                            <option value="">{T::AllStatuses.text(lang)}</option>
                            {ContractStatus::ALL.iter().map(|s| {
                                let selected = s.code() == f.status;
                                view! { <option value=s.code() selected=selected>{s.label().text(lang)}</option> }
                            }).collect_view()}
                        </select>
                        <crate::ui::CurrencyFilter selected=f.currency.clone() />
                        <WindowSelect selected=f.within.clone() any=true />
                        <select name="sort" aria-label=T::SortBy.text(lang)>
                            <option value="" selected=f.sort != "end">{T::ContractTitle.text(lang)}</option>
                            <option value="end" selected=f.sort == "end">{T::EndDate.text(lang)}</option>
                        </select>
                        <input type="hidden" name="account" value=f.account.clone() />
                        <button type="submit">{T::Search.text(lang)}</button>
                    </Form>
                    <ContractResults result q base="/contracts" can_write />
                }
            })}
        </Suspense>
    }
}

#[component]
fn WindowSelect(selected: String, any: bool) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <select name="within" aria-label=T::WithinDays.text(lang) data-testid="renewal-window">
            {any.then(|| view! { <option value="">{T::AnyTime.text(lang)}</option> })}
            {RENEWAL_WINDOWS.iter().map(|(days, label)| {
                let value = days.to_string();
                let is_selected = value == selected;
                view! { <option value=value selected=is_selected>{label.text(lang)}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
fn ContractResults(
    result: Result<ContractList, AppError>,
    q: ContractQuery,
    base: &'static str,
    can_write: bool,
) -> impl IntoView {
    match result {
        Err(e) => view! { <LoadError error=e /> }.into_any(),
        Ok(l) if l.rows.is_empty() => {
            // The renewal queue's window is not a filter: it always has one.
            let filtered = !(q.q.is_empty()
                && q.owner.is_empty()
                && q.status.is_empty()
                && q.currency.is_empty()
                && q.account.is_empty()
                && q.deal.is_empty())
                || q.deleted
                || (base == "/contracts" && !q.within.is_empty());
            let nothing_yet = if base == "/renewals" { T::NoRenewalsDue } else { T::NoContractsYet };
            let create = can_write.then(|| (Entity::Contract.new_path(), T::NewContract));
            view! { <EmptyList filtered list_path=base nothing_yet create /> }.into_any()
        }
        Ok(l) => {
            let base = format!(
                "{base}?{}",
                query_string(&[
                    ("q", &q.q),
                    ("owner", &q.owner),
                    ("status", &q.status),
                    ("currency", &q.currency),
                    ("account", &q.account),
                    ("within", &q.within),
                    ("sort", &q.sort),
                ])
            );
            let first = q.after.is_empty() && q.before.is_empty();
            view! {
                <ContractTable rows=l.rows />
                <Pager base prev=l.prev next=l.next first />
            }
            .into_any()
        }
    }
}

/// The renewal queue: what comes up in the next 30, 60 or 90 days.
#[component]
pub fn RenewalsPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let from_url = query_from_url();
    // The queue always has a window: 30 days unless another is chosen.
    let query = move || {
        let mut q = from_url();
        if !RENEWAL_WINDOWS.iter().any(|(d, _)| d.to_string() == q.within) {
            q.within = "30".into();
        }
        q
    };
    let list = Resource::new(query, list_contracts);
    let owners = Resource::new(|| (), |_| list_owners());
    view! {
        <div class="page-head">
            <h1>{T::RenewalsTitle.text(lang)}</h1>
        </div>
        <p class="hint">{T::RenewalsHint.text(lang)}</p>
        <ExportLinks list="renewals" />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let f = q.clone();
                let owners = owners.await.unwrap_or_default();
                let result = list.await;
                view! {
                    <Form method="GET" action="/renewals" attr:class="filters" attr:role="search">
                        <WindowSelect selected=f.within.clone() any=false />
                        <crate::ui::OwnerFilter owners selected=f.owner.clone() />
                        <button type="submit">{T::Search.text(lang)}</button>
                    </Form>
                    <ContractResults result q base="/renewals" can_write=false />
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ContractTable(rows: Vec<ContractRow>) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <table class="list" data-testid="contract-list">
            <thead>
                <tr>
                    <th>{T::ContractTitle.text(lang)}</th>
                    <th>{T::Account.text(lang)}</th>
                    <th>{T::ContractStatus.text(lang)}</th>
                    <th>{T::EndDate.text(lang)}</th>
                    <th>{T::NoticeDeadline.text(lang)}</th>
                    <th class="num">{T::DaysLeft.text(lang)}</th>
                    <th class="num">{T::ContractValue.text(lang)}</th>
                    <th class="num">{T::MonthlyValue.text(lang)}</th>
                    <th>{T::AutoRenew.text(lang)}</th>
                    <th>{T::Owner.text(lang)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <td>
                            <a href=Entity::Contract.path(r.id)>{r.title}</a>
                            {r.contract_number.map(|n| view! { " " <small>{n}</small> })}
                        </td>
                        <td>{r.account_name}</td>
                        <td>{r.status.label().text(lang)}</td>
                        <td>{format_date(r.end_date, lang)}</td>
                        <td>{format_date(r.notice_deadline, lang)}</td>
                        <td class="num">{days_left(r.days_to_renewal, lang)}</td>
                        <td class="num">{format!("{} / {}", money(r.amount, &r.currency, lang), r.billing_period.label().text(lang))}</td>
                        <td class="num">{money(r.monthly, &r.currency, lang)}</td>
                        <td>{if r.auto_renew { T::Yes.text(lang) } else { T::No.text(lang) }}</td>
                        <td>{r.owner_name}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// An account's monthly recurring value, one line per currency.
#[component]
pub fn MonthlyTotals(totals: Vec<MonthlyTotal>) -> impl IntoView {
    let lang = crate::ui::lang();
    (!totals.is_empty()).then(|| {
        view! {
            <p data-testid="account-monthly">
                {T::MonthlyValueTotal.text(lang)} ": "
                {totals.iter().map(|t| money(t.monthly, &t.currency, lang)).collect::<Vec<_>>().join(" · ")}
            </p>
        }
    })
}

#[component]
fn ContractFields(
    values: ContractForm,
    errors: Vec<FieldError>,
    owners: Vec<crate::auth::UserRef>,
    can_reassign: bool,
    terminated: bool,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let e = |f: &str| field_error(&errors, f);
    let currency = if values.currency.is_empty() { "KRW".to_string() } else { values.currency.clone() };
    let periods = BillingPeriod::ALL.iter().map(|b| (b.code().to_string(), b.label().text(lang).to_string())).collect();
    let states = vec![
        ("draft".to_string(), T::ContractDraft.text(lang).to_string()),
        ("signed".to_string(), T::ContractSigned.text(lang).to_string()),
    ];
    view! {
        <input type="hidden" name="form[account_id]" value=values.account_id.clone() />
        <input type="hidden" name="form[deal_id]" value=values.deal_id.clone() />
        {e("deal_id").map(|m| view! { <p class="field-error" role="alert">{m.text(lang)}</p> })}
        <Field label=T::ContractTitle name="title" value=values.title.clone() required=true max_len=200 error=e("title") />
        <Field label=T::ContractNumber name="contract_number" value=values.contract_number.clone() max_len=50 error=e("contract_number") />
        {(!terminated).then(|| view! {
            <Choice label=T::ContractStatus name="state" value=values.state.clone() options=states error=e("state") />
        })}
        <div class="field-row">
            <Field label=T::StartDate name="start_date" value=values.start_date.clone() input_type="date" required=true error=e("start_date") />
            <Field label=T::EndDate name="end_date" value=values.end_date.clone() input_type="date" required=true error=e("end_date") />
        </div>
        <div class="field-row">
            <Field label=T::ContractValue name="amount" value=values.amount.clone() required=true error=e("amount") />
            <div class="field" class:invalid=e("currency").is_some()>
                <label for="f-currency">{T::Currency.text(lang)}</label>
                <select id="f-currency" name="form[currency]">
                    {Currency::ALL.iter().map(|c| {
                        let selected = c.code() == currency;
                        view! { <option value=c.code() selected=selected>{c.code()}</option> }
                    }).collect_view()}
                </select>
                {e("currency").map(|m| view! { <small class="field-error">{m.text(lang)}</small> })}
            </div>
            <Choice label=T::BillingPeriod name="billing_period" value=values.billing_period.clone() options=periods error=e("billing_period") />
        </div>
        <div class="field">
            <label>
                <input type="checkbox" name="form[auto_renew]" checked=!values.auto_renew.is_empty() />
                " " {T::AutoRenew.text(lang)}
            </label>
        </div>
        <Field label=T::NoticeDays name="notice_days" value=values.notice_days.clone() input_type="number" hint=T::NoticeDeadlineHint error=e("notice_days") />
        {can_reassign.then(|| {
            let options = owners.into_iter().map(|o| (o.id.to_string(), o.display_name)).collect();
            view! { <Choice label=T::Owner name="owner_id" value=values.owner_id.clone() options error=e("owner_id") /> }
        })}
        <Field label=T::Notes name="notes" value=values.notes.clone() max_len=4000 error=e("notes") />
    }
}

/// `/contracts/new?deal=…` (from a won deal, prefilled) or `?account=…`.
#[component]
pub fn ContractNewPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let from = move || {
        let q = query_map.read();
        (q.get("deal").unwrap_or_default(), q.get("account").unwrap_or_default())
    };
    let start = Resource::new(from, |(deal, account)| start_contract(deal, account));
    let owners = Resource::new(|| (), |_| list_owners());
    let user = use_user();
    view! {
        <h1>{T::NewContract.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let owners = owners.await.unwrap_or_default();
                let can_reassign = user.await.ok().flatten().is_some_and(|u| u.is_manager());
                match start.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(s) => {
                        let back = match s.deal_id {
                            Some(deal) => Entity::Deal.path(deal),
                            None => Entity::Account.path(s.account_id),
                        };
                        view! {
                            <p>{T::Account.text(lang)} ": " <a href=Entity::Account.path(s.account_id)>{s.account_name}</a></p>
                            <NewContractForm initial=s.form owners can_reassign back />
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewContractForm(
    initial: ContractForm,
    owners: Vec<crate::auth::UserRef>,
    can_reassign: bool,
    back: String,
) -> impl IntoView {
    let action = ServerAction::<CreateContract>::new();
    let (values, errors, err) = form_state(action.value().get_untracked(), &initial);
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="contract-form">
            {err.map(|e| view! { <ErrorBox error=e /> })}
            <ContractFields values errors owners can_reassign terminated=false />
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

#[component]
pub fn ContractEditPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_contract);
    let owners = Resource::new(|| (), |_| list_owners());
    view! {
        <h1>{T::EditContract.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let owners = owners.await.unwrap_or_default();
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) if !d.can.edit => view! { <LoadError error=AppError::Forbidden /> }.into_any(),
                    Ok(d) => view! { <EditContractForm contract=d.contract owners can_reassign=d.can.reassign /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EditContractForm(contract: Contract, owners: Vec<crate::auth::UserRef>, can_reassign: bool) -> impl IntoView {
    let action = ServerAction::<UpdateContract>::new();
    let id = contract.id.to_string();
    let initial = ContractForm::from_contract(&contract);
    let (values, errors, err) = form_state(action.value().get_untracked(), &initial);
    let back = Entity::Contract.path(contract.id);
    let reload = Entity::Contract.edit_path(contract.id);
    let terminated = contract.state == ContractState::Terminated;
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="contract-form">
            <input type="hidden" name="id" value=id />
            <EditFormHead err record_version=contract.version reload />
            <ContractFields values errors owners can_reassign terminated />
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

/// The contract's own part of its page: title, actions, fields, termination
/// (the page around it adds the timeline and the change history).
#[component]
pub fn ContractSummary(contract: Contract, can: Permissions) -> impl IntoView {
    let lang = crate::ui::lang();
    let c = contract;
    let row = |k: T, v: String| view! { <dt>{k.text(lang)}</dt> <dd>{v}</dd> };
    let can_terminate = can.edit && c.state != ContractState::Terminated;
    view! {
        <div class="page-head">
            <h1 data-testid="contract-title">{c.title.clone()}</h1>
            <RecordActions kind=Entity::Contract id=c.id.to_string() version=c.version can_edit=can.edit can_restore=can.restore />
        </div>
        {c.deleted_at.map(|_| view! { <DeletedBanner /> })}
        <dl class="record">
            <dt>{T::Account.text(lang)}</dt>
            <dd><a href=Entity::Account.path(c.account_id)>{c.account_name.clone()}</a></dd>
            {c.deal_id.map(|deal| view! {
                <dt>{T::OriginatingDeal.text(lang)}</dt>
                <dd><a href=Entity::Deal.path(deal)>{c.deal_name.clone().unwrap_or_default()}</a></dd>
            })}
            {row(T::ContractNumber, c.contract_number.clone().unwrap_or_default())}
            <dt>{T::ContractStatus.text(lang)}</dt>
            <dd data-testid="contract-status">{c.status.label().text(lang)}</dd>
            {row(T::StartDate, format_date(c.start_date, lang))}
            {row(T::EndDate, format_date(c.end_date, lang))}
            {row(T::ContractValue, format!("{} / {}", money(c.amount, &c.currency, lang), c.billing_period.label().text(lang)))}
            <dt>{T::MonthlyValue.text(lang)}</dt>
            <dd data-testid="contract-monthly">{money(c.figures.monthly, &c.currency, lang)}</dd>
            <dt>{T::TotalContractValue.text(lang)}</dt>
            <dd data-testid="contract-total">{money(c.figures.total, &c.currency, lang)}</dd>
            {row(T::AutoRenew, if c.auto_renew { T::Yes.text(lang).into() } else { T::No.text(lang).into() })}
            {row(T::NoticeDays, format_integer(i64::from(c.notice_days)))}
            {row(T::NoticeDeadline, format_date(c.notice_deadline, lang))}
            {row(T::DaysToRenewal, days_left(c.days_to_renewal, lang))}
            {row(T::Owner, c.owner.display_name.clone())}
            {row(T::Notes, c.notes.clone().unwrap_or_default())}
            {c.terminated_on.map(|on| view! {
                <dt>{T::TerminatedOn.text(lang)}</dt><dd>{format_date(on, lang)}</dd>
                <dt>{T::TerminationReason.text(lang)}</dt><dd data-testid="contract-termination">{c.termination_reason.clone().unwrap_or_default()}</dd>
            })}
            {row(T::UpdatedAt, format!("{} · {}", format_datetime(c.updated_at, lang), c.updated_by))}
        </dl>
        {can_terminate.then(|| view! { <TerminateSection id=c.id.to_string() version=c.version /> })}
    }
}

#[component]
fn TerminateSection(id: String, version: i32) -> impl IntoView {
    let lang = crate::ui::lang();
    let action = ServerAction::<TerminateContract>::new();
    let (values, errors, err) = form_state(action.value().get_untracked(), &TerminateForm::default());
    let (on_error, reason_error) = (field_error(&errors, "terminated_on"), field_error(&errors, "reason"));
    view! {
        <section>
            <h2>{T::Terminate.text(lang)}</h2>
            <ActionForm action=action attr:class="record-form" attr:data-testid="terminate-form">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="version" value=version.to_string() />
                {err.filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorBox error=e /> })}
                <Field label=T::TerminatedOn name="terminated_on" value=values.terminated_on.clone() input_type="date" required=true error=on_error />
                <Field label=T::TerminationReason name="reason" value=values.reason.clone() required=true max_len=500 error=reason_error />
                <button type="submit" class="danger">{T::Terminate.text(lang)}</button>
            </ActionForm>
        </section>
    }
}

/// The contracts a deal or an account page lists, with a way to add one.
#[component]
pub fn ContractsSection(rows: Vec<ContractRow>, new_href: Option<String>, totals: Vec<MonthlyTotal>) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <section data-testid="contracts-section">
            <div class="section-head">
                <h2>{T::Contracts.text(lang)}</h2>
                {new_href.map(|href| view! { <a class="button" href=href data-testid="new-contract">{T::NewContract.text(lang)}</a> })}
            </div>
            <MonthlyTotals totals />
            {if rows.is_empty() {
                view! { <p class="empty">{T::NoContracts.text(lang)}</p> }.into_any()
            } else {
                view! { <ContractTable rows /> }.into_any()
            }}
        </section>
    }
}
