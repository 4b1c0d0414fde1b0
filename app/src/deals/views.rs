//! Deal screens: list, detail (stage history, timeline), create, edit.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::*;
use super::*;
use crate::auth::api::list_owners;
use crate::domain::{check, Currency};
use crate::error::{AppError, FieldError};
use crate::i18n::{format_date, format_datetime, format_money, Lang, T};
use crate::record::api::get_account_ref;
use crate::record::views::{DeletedBanner, EditFormHead, EmptyList, ExportLinks, FormButtons, RecordActions};
use crate::record::{Entity, Permissions};
use crate::ui::{field_error, form_state, query_string, use_user, Choice, ErrorBox, Field, LoadError, Notice, Pager};

pub fn stage_name(stages: &[StageInfo], id: &str, lang: Lang) -> String {
    stages.iter().find(|s| s.id == id).map(|s| s.name(lang).to_string()).unwrap_or_else(|| id.to_string())
}

pub fn money(amount: Option<Decimal>, currency: &str, lang: Lang) -> String {
    amount.map(|a| format_money(a, currency, lang)).unwrap_or_default()
}

#[component]
pub fn DealsPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        DealQuery {
            q: get("q"),
            owner: get("owner"),
            stage: get("stage"),
            currency: get("currency"),
            account: get("account"),
            after: get("after"),
            before: get("before"),
            deleted: matches!(get("deleted").as_str(), "1" | "on" | "true"),
        }
    };
    let list = Resource::new(query, list_deals);
    let owners = Resource::new(|| (), |_| list_owners());
    let user = use_user();
    view! {
        <div class="page-head">
            <h1>{T::DealsTitle.text(lang)}</h1>
            <div class="actions">
                <a class="button" href="/pipeline">{T::Pipeline.text(lang)}</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.ok().flatten().filter(|u| u.can_write()).map(|_| view! {
                            <a class="button" href="/deals/new">{T::NewDeal.text(lang)}</a>
                        })
                    })}
                </Suspense>
            </div>
        </div>
        <Notice />
        <ExportLinks list="deals" />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let f = q.clone();
                let owners = owners.await.unwrap_or_default();
                let result = list.await;
                let can_write = user.await.ok().flatten().is_some_and(|u| u.can_write());
                let stages = result.as_ref().map(|l| l.stages.clone()).unwrap_or_default();
                view! {
                    <Form method="GET" action="/deals" attr:class="filters" attr:role="search">
                        <input type="search" name="q" value=f.q.clone() aria-label=T::Search.text(lang) placeholder=T::DealName.text(lang) />
                        <crate::ui::OwnerFilter owners selected=f.owner.clone() />
                        <select name="stage" aria-label=T::Stage.text(lang)>
                            <option value="">{T::AllStages.text(lang)}</option>
                            {stages.iter().map(|s| {
                                let selected = s.id == f.stage;
                                view! { <option value=s.id.clone() selected=selected>{s.name(lang).to_string()}</option> }
                            }).collect_view()}
                        </select>
                        <crate::ui::CurrencyFilter selected=f.currency.clone() />
                        <input type="hidden" name="account" value=f.account.clone() />
                        <button type="submit">{T::Search.text(lang)}</button>
                    </Form>
                    {match result {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(l) if l.page.rows.is_empty() => {
                            let filtered = !(q.q.is_empty() && q.owner.is_empty() && q.stage.is_empty()
                                && q.currency.is_empty() && q.account.is_empty()) || q.deleted;
                            let create = can_write.then(|| (Entity::Deal.new_path(), T::NewDeal));
                            view! { <EmptyList filtered list_path="/deals" nothing_yet=T::NoDealsYet create /> }.into_any()
                        }
                        Ok(l) => {
                            let base = format!("/deals?{}", query_string(&[
                                ("q", &q.q), ("owner", &q.owner), ("stage", &q.stage), ("currency", &q.currency), ("account", &q.account),
                            ]));
                            let first = q.after.is_empty() && q.before.is_empty();
                            view! {
                                <DealTable rows=l.page.rows stages=l.stages />
                                <Pager base prev=l.page.prev next=l.page.next first />
                            }.into_any()
                        }
                    }}
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn DealTable(rows: Vec<DealRow>, stages: Vec<StageInfo>) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <table class="list" data-testid="deal-list">
            <thead>
                <tr>
                    <th>{T::DealName.text(lang)}</th>
                    <th>{T::Account.text(lang)}</th>
                    <th>{T::Stage.text(lang)}</th>
                    <th class="num">{T::Amount.text(lang)}</th>
                    <th class="num">{T::Probability.text(lang)}</th>
                    <th>{T::ExpectedCloseDate.text(lang)}</th>
                    <th>{T::Owner.text(lang)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <td><a href=Entity::Deal.path(r.id)>{r.name}</a></td>
                        <td>{r.account_name}</td>
                        <td>{stage_name(&stages, &r.stage_id, lang)}</td>
                        <td class="num">{money(r.amount, &r.currency, lang)}</td>
                        <td class="num">{format!("{}%", r.probability)}</td>
                        <td>{r.expected_close_date.map(|d| format_date(d, lang)).unwrap_or_default()}</td>
                        <td>{r.owner_name}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn DealFields(
    values: DealForm,
    errors: Vec<FieldError>,
    stages: Vec<StageInfo>,
    owners: Vec<crate::auth::UserRef>,
    can_reassign: bool,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let e = |f: &str| field_error(&errors, f);
    let stage_options =
        stages.iter().map(|s| (s.id.clone(), format!("{} ({}%)", s.name(lang), s.default_probability))).collect();
    let currency = if values.currency.is_empty() { "KRW".to_string() } else { values.currency.clone() };
    view! {
        <input type="hidden" name="form[account_id]" value=values.account_id.clone() />
        <Field label=T::DealName name="name" value=values.name.clone() required=true max_len=200 error=e("name") />
        <Choice label=T::Stage name="stage_id" value=values.stage_id.clone() options=stage_options error=e("stage_id") />
        <div class="field-row">
            <Field label=T::Amount name="amount" value=values.amount.clone() error=e("amount") />
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
        </div>
        <Field label=T::Probability name="probability" value=values.probability.clone() hint=T::ProbabilityHint check=check::probability error=e("probability") />
        <Field label=T::ExpectedCloseDate name="expected_close_date" value=values.expected_close_date.clone() input_type="date" error=e("expected_close_date") />
        {can_reassign.then(|| {
            let options = owners.into_iter().map(|o| (o.id.to_string(), o.display_name)).collect();
            view! { <Choice label=T::Owner name="owner_id" value=values.owner_id.clone() options error=e("owner_id") /> }
        })}
        <Field label=T::Source name="source" value=values.source.clone() max_len=100 error=e("source") />
        <Field label=T::LostReason name="lost_reason" value=values.lost_reason.clone() max_len=500 error=e("lost_reason") />
    }
}

#[component]
pub fn DealNewPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let account_id = move || query_map.read().get("account").unwrap_or_default();
    let account = Resource::new(account_id, get_account_ref);
    let stages = Resource::new(|| (), |_| list_stages());
    let owners = Resource::new(|| (), |_| list_owners());
    let user = use_user();
    view! {
        <h1>{T::NewDeal.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let stages = stages.await.unwrap_or_default();
                let owners = owners.await.unwrap_or_default();
                let user = user.await.ok().flatten();
                match account.await {
                    // A deal starts from its account's page.
                    Err(_) => view! {
                        <p class="empty">{T::AccountNotFound.text(lang)} " " <a href="/accounts">{T::NavAccounts.text(lang)}</a></p>
                    }.into_any(),
                    Ok(account) => {
                        let initial = DealForm {
                            account_id: account.id.to_string(),
                            stage_id: stages.first().map(|s| s.id.clone()).unwrap_or_default(),
                            currency: "KRW".into(),
                            owner_id: user.as_ref().map(|u| u.id.to_string()).unwrap_or_default(),
                            ..Default::default()
                        };
                        let can_reassign = user.as_ref().is_some_and(|u| u.is_manager());
                        let back = Entity::Account.path(account.id);
                        view! {
                            <p>{T::Account.text(lang)} ": " <a href=back.clone()>{account.name}</a></p>
                            <NewDealForm initial stages owners can_reassign back />
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn DealEditPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_deal);
    let owners = Resource::new(|| (), |_| list_owners());
    view! {
        <h1>{T::EditDeal.text(lang)}</h1>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let owners = owners.await.unwrap_or_default();
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        if !d.can.edit {
                            return view! { <LoadError error=AppError::Forbidden /> }.into_any();
                        }
                        let initial = DealForm::from_deal(&d.deal, &d.stages);
                        view! {
                            <EditDealForm
                                id=d.deal.id.to_string()
                                record_version=d.deal.version
                                initial
                                stages=d.stages.clone()
                                owners
                                can_reassign=d.can.reassign
                            />
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The new-deal form, hydrated on its own (an island).
#[island]
fn NewDealForm(
    initial: DealForm,
    stages: Vec<StageInfo>,
    owners: Vec<crate::auth::UserRef>,
    can_reassign: bool,
    back: String,
) -> impl IntoView {
    let action = ServerAction::<CreateDeal>::new();
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="deal-form">
            {move || {
                let (values, errors, err) = form_state(action.value().get(), &initial);
                view! {
                    {err.map(|e| view! { <ErrorBox error=e /> })}
                    <DealFields values errors stages=stages.clone() owners=owners.clone() can_reassign />
                }
            }}
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

/// The edit form, an island like `NewDealForm`.
#[island]
fn EditDealForm(
    id: String,
    record_version: i32,
    initial: DealForm,
    stages: Vec<StageInfo>,
    owners: Vec<crate::auth::UserRef>,
    can_reassign: bool,
) -> impl IntoView {
    let action = ServerAction::<UpdateDeal>::new();
    let back = format!("/deals/{id}");
    let reload = format!("/deals/{id}/edit");
    view! {
        <ActionForm action=action attr:class="record-form" attr:data-testid="deal-form">
            <input type="hidden" name="id" value=id />
            {move || {
                let (values, errors, err) = form_state(action.value().get(), &initial);
                view! {
                    <EditFormHead err record_version reload=reload.clone() />
                    <DealFields values errors stages=stages.clone() owners=owners.clone() can_reassign />
                }
            }}
            <FormButtons pending=action.pending() back />
        </ActionForm>
    }
}

/// The deal's own part of its page: name, actions, fields and stage history
/// (the page around it adds the timeline and the change history).
#[component]
pub fn DealSummary(
    deal: Deal,
    stages: Vec<StageInfo>,
    stage_history: Vec<StageSpan>,
    can: Permissions,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let row = |k: T, v: String| view! { <dt>{k.text(lang)}</dt> <dd>{v}</dd> };
    let spans = stage_history
        .into_iter()
        .rev()
        .map(|s| {
            view! {
                <tr>
                    <td>{stage_name(&stages, &s.to_stage, lang)}</td>
                    <td>{s.from_stage.as_deref().map(|f| stage_name(&stages, f, lang)).unwrap_or_default()}</td>
                    <td>{format_datetime(s.changed_at, lang)}</td>
                    <td>{s.changed_by}</td>
                    <td class="num">{format!("{} {}", s.days, T::Days.text(lang))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="page-head">
            <h1 data-testid="deal-name">{deal.name.clone()}</h1>
            <RecordActions kind=Entity::Deal id=deal.id.to_string() version=deal.version can_edit=can.edit can_restore=can.restore />
        </div>
        {deal.deleted_at.map(|_| view! { <DeletedBanner /> })}
        <dl class="record">
            <dt>{T::Account.text(lang)}</dt>
            <dd><a href=Entity::Account.path(deal.account_id)>{deal.account_name.clone()}</a></dd>
            <dt>{T::Stage.text(lang)}</dt>
            <dd data-testid="deal-stage">{stage_name(&stages, &deal.stage_id, lang)}</dd>
            {row(T::Amount, money(deal.amount, &deal.currency, lang))}
            {row(T::Probability, format!("{}%", deal.probability))}
            {row(T::ExpectedCloseDate, deal.expected_close_date.map(|x| format_date(x, lang)).unwrap_or_default())}
            {row(T::Owner, deal.owner.display_name.clone())}
            {row(T::Source, deal.source.clone().unwrap_or_default())}
            {row(T::LostReason, deal.lost_reason.clone().unwrap_or_default())}
            {row(T::LastActivity, deal.last_activity_at.map(|x| format_datetime(x, lang)).unwrap_or_default())}
            {row(T::UpdatedAt, format!("{} · {}", format_datetime(deal.updated_at, lang), deal.updated_by))}
        </dl>
        <section>
            <h2>{T::StageHistory.text(lang)}</h2>
            <table class="list" data-testid="stage-history">
                <thead><tr>
                    <th>{T::Stage.text(lang)}</th><th>{T::Before.text(lang)}</th><th>{T::ChangedAt.text(lang)}</th>
                    <th>{T::ChangedBy.text(lang)}</th><th class="num">{T::TimeInStage.text(lang)}</th>
                </tr></thead>
                <tbody>{spans}</tbody>
            </table>
        </section>
    }
}
