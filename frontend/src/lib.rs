//! Browser entry point: hydrates the islands of the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Uses the app crate so it is linked: each island exports its own hydrate function.
    let _ = app::i18n::Lang::from_code("ko");
    leptos::mount::hydrate_islands();
    // `<html data-hydrated>`: the islands now answer clicks and keys.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
