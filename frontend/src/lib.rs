//! The WASM entry point: hydrates the page the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: a page on a lazy route (app::routes) waits for its chunks, then
    // hydrates; `hydrate_body` cannot.
    leptos::mount::hydrate_lazy(app::App);
}
