//! One module per page.

pub mod auth;
pub mod create;
pub mod gallery;
pub mod home;
pub mod legal;

use leptos::prelude::*;
use leptos_router::components::A;

/// The 404 page (also what a missing or someone else's item shows: no oracle).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="page narrow">
            <h1>"Not found"</h1>
            <p>"There is nothing here, or it is not yours to see."</p>
            <A href="/">"Go home"</A>
        </section>
    }
}

/// Shows `children` to a signed-in member; a visitor is asked to sign in.
#[component]
pub fn MembersOnly(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<crate::Session>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(_)) => children.with_value(|c| c()).into_any(),
                    _ => view! {
                        <section class="page narrow">
                            <h1>"Please sign in"</h1>
                            <p>"This page is for members."</p>
                            <A href="/signin" attr:class="button">"Sign in"</A>
                            " "
                            <A href="/signup">"Create an account"</A>
                        </section>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_times() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::format_time(1_795_000_000_000), "2026-11-18 11:06 UTC");
    }
}
