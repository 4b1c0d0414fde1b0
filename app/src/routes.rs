//! The routes. Every page is a lazy route: in the browser its code is split
//! out of the main WASM (`cargo leptos --split`) and fetched when the page is
//! first shown, so the first load carries only the shell and that one page.
//! The server renders them all as usual.
//!
//! Written out one by one: `#[lazy_route]` names each split after its type,
//! and a macro would hide that.

use leptos::prelude::*;
use leptos_router::{
    components::{Redirect, Route, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use crate::i18n::T;

#[component]
pub fn AppRoutes() -> impl IntoView {
    let lang = crate::lang();
    view! {
        <Routes fallback=move || view! { <p class="empty">{T::NotFoundPage.text(lang)}</p> }>
            <Route path=path!("/") view=|| view! { <Redirect path="/accounts" /> } />
            <Route path=path!("/accounts") view={Lazy::<AccountsRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/accounts/new") view={Lazy::<AccountNewRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/accounts/:id") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/accounts/:id/edit") view={Lazy::<AccountEditRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/deals") view={Lazy::<DealsRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/deals/new") view={Lazy::<DealNewRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/deals/:id") view={Lazy::<DealRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/deals/:id/edit") view={Lazy::<DealEditRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/pipeline") view={Lazy::<PipelineRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/contacts") view={Lazy::<ContactsRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/contacts/new") view={Lazy::<ContactNewRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/contacts/:id") view={Lazy::<ContactRoute>::new()} ssr=SsrMode::Async />
            <Route path=path!("/contacts/:id/edit") view={Lazy::<ContactEditRoute>::new()} ssr=SsrMode::Async />
        </Routes>
    }
}

/// `/accounts`
pub struct AccountsRoute;

#[lazy_route]
impl LazyRoute for AccountsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::accounts::views::AccountsPage().into_any()
    }
}

/// `/accounts/new`
pub struct AccountNewRoute;

#[lazy_route]
impl LazyRoute for AccountNewRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::accounts::views::AccountNewPage().into_any()
    }
}

/// `/accounts/:id`
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::accounts::views::AccountPage().into_any()
    }
}

/// `/accounts/:id/edit`
pub struct AccountEditRoute;

#[lazy_route]
impl LazyRoute for AccountEditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::accounts::views::AccountEditPage().into_any()
    }
}

/// `/deals`
pub struct DealsRoute;

#[lazy_route]
impl LazyRoute for DealsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::deals::views::DealsPage().into_any()
    }
}

/// `/deals/new`
pub struct DealNewRoute;

#[lazy_route]
impl LazyRoute for DealNewRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::deals::views::DealNewPage().into_any()
    }
}

/// `/deals/:id`
pub struct DealRoute;

#[lazy_route]
impl LazyRoute for DealRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::deals::views::DealPage().into_any()
    }
}

/// `/deals/:id/edit`
pub struct DealEditRoute;

#[lazy_route]
impl LazyRoute for DealEditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::deals::views::DealEditPage().into_any()
    }
}

/// `/pipeline`
pub struct PipelineRoute;

#[lazy_route]
impl LazyRoute for PipelineRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::deals::board::PipelinePage().into_any()
    }
}

/// `/contacts`
pub struct ContactsRoute;

#[lazy_route]
impl LazyRoute for ContactsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::contacts::views::ContactsPage().into_any()
    }
}

/// `/contacts/new`
pub struct ContactNewRoute;

#[lazy_route]
impl LazyRoute for ContactNewRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::contacts::views::ContactNewPage().into_any()
    }
}

/// `/contacts/:id`
pub struct ContactRoute;

#[lazy_route]
impl LazyRoute for ContactRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::contacts::views::ContactPage().into_any()
    }
}

/// `/contacts/:id/edit`
pub struct ContactEditRoute;

#[lazy_route]
impl LazyRoute for ContactEditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::contacts::views::ContactEditPage().into_any()
    }
}
