//! The routes. Every page is a lazy route: in the browser its code is split
//! out of the main WASM (`cargo leptos --split`) and fetched when the page is
//! first shown, so the first load carries only the shell and that one page.
//! The server renders them all as usual.

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


/// Each `Route => Page` becomes a lazy route showing that page component.
/// `#[lazy_route]` names every split after its route type, so the names stay
/// unique.
macro_rules! lazy_pages {
    ($($route:ident => $page:path;)*) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    AccountsRoute => crate::accounts::views::AccountsPage;
    AccountNewRoute => crate::accounts::views::AccountNewPage;
    AccountRoute => crate::accounts::views::AccountPage;
    AccountEditRoute => crate::accounts::views::AccountEditPage;
    DealsRoute => crate::deals::views::DealsPage;
    DealNewRoute => crate::deals::views::DealNewPage;
    DealRoute => crate::deals::views::DealPage;
    DealEditRoute => crate::deals::views::DealEditPage;
    PipelineRoute => crate::deals::board::PipelinePage;
    ContactsRoute => crate::contacts::views::ContactsPage;
    ContactNewRoute => crate::contacts::views::ContactNewPage;
    ContactRoute => crate::contacts::views::ContactPage;
    ContactEditRoute => crate::contacts::views::ContactEditPage;
}
