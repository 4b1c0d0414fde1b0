//! The routes. Pages render on the server only (islands mode): the browser
//! hydrates just the islands inside them.

use leptos::prelude::*;
use leptos_router::{
    components::{Redirect, Route, Routes},
    path, SsrMode,
};

use crate::i18n::T;

#[component]
pub fn AppRoutes() -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <Routes fallback=move || view! { <p class="empty">{T::NotFoundPage.text(lang)}</p> }>
            <Route path=path!("/") view=|| view! { <Redirect path="/accounts" /> } />
            <Route path=path!("/accounts") view=crate::accounts::views::AccountsPage ssr=SsrMode::Async />
            <Route path=path!("/accounts/new") view=crate::accounts::views::AccountNewPage ssr=SsrMode::Async />
            <Route path=path!("/accounts/:id") view=crate::pages::views::AccountPage ssr=SsrMode::Async />
            <Route path=path!("/accounts/:id/edit") view=crate::accounts::views::AccountEditPage ssr=SsrMode::Async />
            <Route path=path!("/deals") view=crate::deals::views::DealsPage ssr=SsrMode::Async />
            <Route path=path!("/deals/new") view=crate::deals::views::DealNewPage ssr=SsrMode::Async />
            <Route path=path!("/deals/:id") view=crate::pages::views::DealPage ssr=SsrMode::Async />
            <Route path=path!("/deals/:id/edit") view=crate::deals::views::DealEditPage ssr=SsrMode::Async />
            <Route path=path!("/pipeline") view=crate::deals::board::PipelinePage ssr=SsrMode::Async />
            <Route path=path!("/contacts") view=crate::contacts::views::ContactsPage ssr=SsrMode::Async />
            <Route path=path!("/contacts/new") view=crate::contacts::views::ContactNewPage ssr=SsrMode::Async />
            <Route path=path!("/contacts/:id") view=crate::contacts::views::ContactPage ssr=SsrMode::Async />
            <Route path=path!("/search") view=crate::pages::views::SearchPage ssr=SsrMode::Async />
            <Route path=path!("/dashboard") view=crate::dashboard::views::DashboardPage ssr=SsrMode::Async />
            <Route path=path!("/contracts") view=crate::contracts::views::ContractsPage ssr=SsrMode::Async />
            <Route path=path!("/contracts/new") view=crate::contracts::views::ContractNewPage ssr=SsrMode::Async />
            <Route path=path!("/contracts/:id") view=crate::pages::views::ContractPage ssr=SsrMode::Async />
            <Route path=path!("/contracts/:id/edit") view=crate::contracts::views::ContractEditPage ssr=SsrMode::Async />
            <Route path=path!("/renewals") view=crate::contracts::views::RenewalsPage ssr=SsrMode::Async />
            <Route path=path!("/import") view=crate::import::views::ImportsPage ssr=SsrMode::Async />
            <Route path=path!("/import/:id") view=crate::import::views::ImportPage ssr=SsrMode::Async />
            <Route path=path!("/contacts/:id/edit") view=crate::contacts::views::ContactEditPage ssr=SsrMode::Async />
        </Routes>
    }
}
