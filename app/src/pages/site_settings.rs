//! `/admin/settings`: the settings an operator changes without a restart (default visibility,
//! sign-up grant, minimum age, the watermark's look, and per subscription plan the result
//! retention and watermark). Each form saves over the version it shows; a save by another
//! administrator in between is refused with a message to reload.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::site_settings::{admin_settings, SaveSettings, SavePlanSettings, SettingsView};
use crate::i18n::{t, title};
use crate::pages::{server_message, ConsoleNav, MembersOnly};

const VISIBILITIES: [(&str, &str); 3] = [("private", "share.private"), ("link", "share.link"), ("public", "share.public")];
const CORNERS: [(&str, &str); 4] =
    [("top_left", "settings.corner.tl"), ("top_right", "settings.corner.tr"), ("bottom_left", "settings.corner.bl"), ("bottom_right", "settings.corner.br")];

#[component]
pub fn AdminSettingsPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let save = ServerAction::<SaveSettings>::new();
    let save_plan = ServerAction::<SavePlanSettings>::new();
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime"); read again after each save.
    let settings = Resource::new(move || (save.version().get(), save_plan.version().get()), |_| admin_settings());
    let outcome = move || {
        let done = |r: Option<Result<(), ServerFnError>>| match r {
            Some(Ok(())) => Some(view! { <p class="notice" data-testid="settings-saved">{t("settings.saved")}</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="notice error" data-testid="settings-error">{server_message(&e)}</p> }.into_any()),
            None => None,
        };
        done(save.value().get()).or_else(|| done(save_plan.value().get()))
    };
    view! {
        <Title text=title("site_settings.title")/>
        <MembersOnly>
            <section class="page">
                <ConsoleNav/>
                <h1>{t("site_settings.title")}</h1>
                <p class="muted">{t("site_settings.intro")}</p>
                // A refused logo upload comes back here with its reason (a plain form post).
                {move || query.with(|q| q.get("error")).map(|e| view! { <p class="notice error" data-testid="settings-error">{e}</p> })}
                {outcome}
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(s) => view! { <SettingsForms s save save_plan/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

#[component]
fn SettingsForms(s: SettingsView, save: ServerAction<SaveSettings>, save_plan: ServerAction<SavePlanSettings>) -> impl IntoView {
    let version = s.version.to_string();
    let plans_version = version.clone();
    let logo_version = version.clone();
    let (visibility, position) = (s.default_visibility.clone(), s.watermark_position.clone());
    view! {
        <ActionForm action=save attr:class="stack" attr:data-testid="settings-form">
            <input type="hidden" name="version" value=version/>
            <label>{t("site_settings.visibility")}
                <select name="default_visibility" data-testid="settings-visibility">
                    {VISIBILITIES.iter().map(|(v, k)| view! { <option value=*v selected=*v == visibility>{t(k)}</option> }).collect_view()}
                </select>
            </label>
            <p class="muted">{t("site_settings.visibility_hint")}</p>
            <label>{t("site_settings.grant")}
                <input type="number" name="signup_grant" min="0" max="100000" required value=s.signup_grant.to_string() data-testid="settings-grant"/>
            </label>
            <label>{t("site_settings.min_age")}
                <input type="number" name="min_age" min="13" max="99" required value=s.min_age.to_string() data-testid="settings-min-age"/>
            </label>
            <fieldset class="stack">
                <legend>{t("site_settings.free")}</legend>
                <label>{t("site_settings.retention")}
                    <input type="number" name="free_retention_days" min="0" max="3650" required value=s.free.retention_days.to_string() data-testid="settings-free-retention"/>
                </label>
                <label class="check"><input type="checkbox" name="free_watermark" checked=s.free.watermark data-testid="settings-free-watermark"/> {t("site_settings.watermark_on")}</label>
            </fieldset>
            <fieldset class="stack">
                <legend>{t("site_settings.watermark")}</legend>
                <label>{t("site_settings.watermark_text")}
                    <input type="text" name="watermark_text" required maxlength="40" value=s.watermark_text data-testid="settings-watermark-text"/>
                </label>
                <label>{t("site_settings.watermark_position")}
                    <select name="watermark_position">
                        {CORNERS.iter().map(|(v, k)| view! { <option value=*v selected=*v == position>{t(k)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t("site_settings.watermark_opacity")}
                    <input type="number" name="watermark_opacity" min="5" max="100" required value=s.watermark_opacity.to_string()/>
                </label>
                {s.watermark_logo.then(|| view! {
                    <label class="check"><input type="checkbox" name="remove_logo" data-testid="settings-remove-logo"/> {t("site_settings.remove_logo")}</label>
                })}
            </fieldset>
            <button type="submit" class="primary" data-testid="settings-save" disabled=move || save.pending().get()>{t("settings.save")}</button>
        </ActionForm>
        <h2>{t("site_settings.logo")}</h2>
        <p class="muted" data-testid="logo-state">{if s.watermark_logo { t("site_settings.logo_set") } else { t("site_settings.logo_none") }}</p>
        // A plain multipart form: the server answers with the page again.
        <form method="post" action="/admin/settings/logo" enctype="multipart/form-data" class="row" data-testid="logo-form">
            <input type="hidden" name="version" value=logo_version/>
            <input type="file" name="logo" accept="image/png,image/webp" required data-testid="logo-file" aria-label=t("site_settings.logo")/>
            <button type="submit">{t("site_settings.upload_logo")}</button>
        </form>
        <h2>{t("site_settings.plans")}</h2>
        <p class="muted">{t("site_settings.plans_hint")}</p>
        {s.plans.is_empty().then(|| view! { <p class="muted">{t("site_settings.no_plans")}</p> })}
        <ul class="plain stack" data-testid="settings-plans">
            {s.plans.into_iter().map(|p| {
                let (version, own) = (plans_version.clone(), p.perks.is_some());
                let perks = p.perks.unwrap_or(s.free.clone());
                let (row_id, form_id) = (p.id.clone(), p.id);
                view! {
                    <li class="card" data-plan=row_id>
                        <ActionForm action=save_plan attr:class="row">
                            <input type="hidden" name="version" value=version/>
                            <input type="hidden" name="plan" value=form_id/>
                            <strong>{p.name}</strong>
                            <label>{t("site_settings.retention")} " "
                                <input type="number" name="retention_days" min="0" max="3650" required value=perks.retention_days.to_string()/>
                            </label>
                            <label class="check"><input type="checkbox" name="watermark" checked=perks.watermark/> {t("site_settings.watermark_on")}</label>
                            <button type="submit">{t("settings.save")}</button>
                            {own.then(|| view! { <button type="submit" name="reset" value="1">{t("site_settings.reset")}</button> })}
                        </ActionForm>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
