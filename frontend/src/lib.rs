//! Browser entry point: hydrates the server-rendered page. Hydration is async
//! because each page is a lazy route: the page's split-out code is fetched
//! first, so the page hydrates against exactly what the server rendered.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = document().body() else { return };
        let app = leptos::mount::hydrate_from_async(body, app::App).await;
        app.forget();
        // `<html data-hydrated>`: the page now answers clicks and keys
        // (the browser tests wait for it).
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
}
