//! Browser entry point: hydrates the server-rendered page. `hydrate_lazy`
//! first fetches the split-out code of the lazy route being shown, so the
//! page hydrates against exactly what the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
