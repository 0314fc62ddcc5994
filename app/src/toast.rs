//! Toasts: a short confirmation at the bottom of the screen ("Saved.", "Started: it appears
//! below"), announced to screen readers (`role="status"`, polite) and gone after
//! [`TOAST_SECS`]. One region for the whole app ([`ToastRegion`], in the shell); any page shows
//! one with [`toast`], or after each success of a server action with [`toast_on_success`].
//! Errors stay beside the form that caused them (they must not vanish).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// How long a toast shows, seconds.
pub const TOAST_SECS: u64 = 5;

/// At most this many toasts show at once (the oldest goes first).
const MAX_SHOWN: usize = 3;

/// The toasts showing now, oldest first, each with a number of its own.
#[derive(Clone, Copy)]
pub struct Toasts {
    shown: RwSignal<Vec<(u64, String)>>,
    next: StoredValue<u64>,
}

impl Toasts {
    /// Makes the app's toasts and provides them as context (call once, in the shell).
    pub fn provide() -> Self {
        let toasts = Toasts { shown: RwSignal::new(Vec::new()), next: StoredValue::new(0) };
        provide_context(toasts);
        toasts
    }

    /// Shows `message` for [`TOAST_SECS`] (browser only: nothing is rendered on the server).
    pub fn show(self, message: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        let message = message.into();
        self.shown.update(|s| {
            s.push((id, message));
            let over = s.len().saturating_sub(MAX_SHOWN);
            s.drain(..over);
        });
        set_timeout(move || self.shown.update(|s| s.retain(|(i, _)| *i != id)), std::time::Duration::from_secs(TOAST_SECS));
    }
}

/// Shows `message` as a toast, where the app provides [`Toasts`] (else nothing).
pub fn toast(message: impl Into<String>) {
    if let Some(toasts) = use_context::<Toasts>() {
        toasts.show(message);
    }
}

/// Shows `done` as a toast each time `action` succeeds (an effect: browser only).
pub fn toast_on_success<S>(action: ServerAction<S>, done: &'static str)
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
    S::Error: Clone + Send + Sync + 'static,
{
    let toasts = use_context::<Toasts>();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            if let Some(t) = toasts {
                t.show(done);
            }
        }
    });
}

/// Where toasts appear: fixed at the bottom, above the page.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            {move || toasts.shown.get().into_iter().map(|(_, message)| view! { <p class="toast" data-testid="toast">{message}</p> }).collect_view()}
        </div>
    }
}
