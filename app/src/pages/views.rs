//! The account, deal and contract pages: each domain's own summary, then what the
//! other domains hold about the record, the timeline and the history.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{get_account_page, get_contract_page, get_deal_page, global_search};
use super::{AccountPageData, ContractPageData, DealPageData};
use crate::accounts::views::AccountSummary;
use crate::activities::views::Timeline;
use crate::contacts::views::ContactTable;
use crate::contracts::views::{ContractSummary, ContractsSection};
use crate::deals::views::{DealSummary, DealTable};
use crate::i18n::T;
use crate::record::views::HistoryTable;
use crate::record::Entity;
use crate::ui::{lang, use_user, LoadError, Notice};

#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = Resource::new(id, get_account_page);
    let user = use_user();
    view! {
        <Notice />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let can_write = user.await.ok().flatten().is_some_and(|u| u.can_write());
                match page.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    // Any writer may open a deal on a live account (they will own it).
                    Ok(p) => {
                        let can_write = can_write && p.detail.account.deleted_at.is_none();
                        view! { <AccountView p can_write /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountView(p: AccountPageData, can_write: bool) -> impl IntoView {
    let lang = lang();
    let AccountPageData { detail, contacts, deals, stages, activities, contracts, monthly } = p;
    let id = detail.account.id;
    let can = detail.can;
    view! {
        <AccountSummary account=detail.account can />
        <section>
            <div class="section-head">
                <h2>{T::Contacts.text(lang)}</h2>
                {can.edit.then(|| view! {
                    <a class="button" href=format!("{}?account={id}", Entity::Contact.new_path())>{T::NewContact.text(lang)}</a>
                })}
            </div>
            {if contacts.is_empty() {
                view! { <p class="empty">{T::NoContacts.text(lang)}</p> }.into_any()
            } else {
                view! { <ContactTable rows=contacts show_account=false /> }.into_any()
            }}
        </section>
        <section>
            <div class="section-head">
                <h2>{T::Deals.text(lang)}</h2>
                {can_write.then(|| view! {
                    <a class="button" href=format!("{}?account={id}", Entity::Deal.new_path())>{T::NewDeal.text(lang)}</a>
                })}
            </div>
            {if deals.is_empty() {
                view! { <p class="empty">{T::NoDeals.text(lang)}</p> }.into_any()
            } else {
                view! { <DealTable rows=deals stages /> }.into_any()
            }}
        </section>
        <ContractsSection
            rows=contracts
            new_href=can_write.then(|| format!("{}?account={id}", Entity::Contract.new_path()))
            totals=monthly
        />
        <Timeline target=Entity::Account target_id=id.to_string() activities can_add=can.edit />
        <section>
            <h2>{T::History.text(lang)}</h2>
            <HistoryTable entries=detail.history />
        </section>
    }
}

#[component]
pub fn DealPage() -> impl IntoView {
    let lang = lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = Resource::new(id, get_deal_page);
    view! {
        <Notice />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(p) => view! { <DealView p /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DealView(p: DealPageData) -> impl IntoView {
    let lang = lang();
    let DealPageData { detail, activities, contracts } = p;
    let id = detail.deal.id;
    let can = detail.can;
    // Only a won deal becomes a contract (the server refuses the others too).
    let won = detail.stages.iter().any(|s| s.id == detail.deal.stage_id && s.is_won);
    let new_contract = (won && can.edit).then(|| format!("{}?deal={id}", Entity::Contract.new_path()));
    view! {
        <DealSummary deal=detail.deal stages=detail.stages stage_history=detail.stage_history can />
        {(won || !contracts.is_empty()).then(|| view! { <ContractsSection rows=contracts new_href=new_contract totals=Vec::new() /> })}
        <Timeline target=Entity::Deal target_id=id.to_string() activities can_add=can.edit />
        <section>
            <h2>{T::History.text(lang)}</h2>
            <HistoryTable entries=detail.history />
        </section>
    }
}

#[component]
pub fn ContractPage() -> impl IntoView {
    let lang = lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = Resource::new(id, get_contract_page);
    view! {
        <Notice />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(p) => view! { <ContractView p /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ContractView(p: ContractPageData) -> impl IntoView {
    let lang = lang();
    let ContractPageData { detail, activities } = p;
    let id = detail.contract.id;
    let can = detail.can;
    view! {
        <ContractSummary contract=detail.contract can />
        <Timeline target=Entity::Contract target_id=id.to_string() activities can_add=can.edit />
        <section>
            <h2>{T::History.text(lang)}</h2>
            <HistoryTable entries=detail.history />
        </section>
    }
}

/// `/search?q=`: the header's search, as a page (it works without
/// JavaScript; the header's box is a plain GET form).
#[component]
pub fn SearchPage() -> impl IntoView {
    let lang = lang();
    let query_map = leptos_router::hooks::use_query_map();
    let q = move || query_map.read().get("q").unwrap_or_default();
    let results = Resource::new(q, global_search);
    view! {
        <div class="page-head"><h1>{T::SearchTitle.text(lang)}</h1></div>
        <form method="get" action="/search" class="filters" role="search">
            <input type="search" name="q" value=q() aria-label=T::SearchLabel.text(lang) />
            <button type="submit">{T::Search.text(lang)}</button>
        </form>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let text = q();
                match results.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(r) if text.trim().is_empty() => {
                        let _ = r;
                        view! { <p class="hint">{T::SearchHint.text(lang)}</p> }.into_any()
                    }
                    Ok(r) if r.groups.is_empty() => {
                        view! { <p class="empty" role="status">{T::SearchNoResults.text(lang)}</p> }.into_any()
                    }
                    Ok(r) => {
                        let all_href = move |kind: Entity| {
                            format!("{}?{}", kind.list_path(), crate::ui::query_string(&[("q", text.trim())]))
                        };
                        r.groups
                            .into_iter()
                            .map(|g| {
                                let heading = match g.kind {
                                    Entity::Account => T::NavAccounts,
                                    Entity::Contact => T::NavContacts,
                                    Entity::Deal => T::NavDeals,
                                    _ => T::NavContracts,
                                };
                                let more = g.more.then(|| {
                                    view! {
                                        <p><a href=all_href(g.kind)>{T::SearchSeeAll.text(lang)}</a></p>
                                    }
                                });
                                view! {
                                    <section class="search-group" data-kind=g.kind.code()>
                                        <h2>{heading.text(lang)}</h2>
                                        <ul>
                                            {g
                                                .hits
                                                .into_iter()
                                                .map(|h| {
                                                    view! {
                                                        <li>
                                                            <a href=h.href>{h.title}</a>
                                                            " "
                                                            <span class="muted">{h.detail}</span>
                                                            " "
                                                            <small class="why">
                                                                {T::SearchMatchedOn.text(lang)}": "
                                                                {h.matched.text(lang)}
                                                            </small>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                        {more}
                                    </section>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
