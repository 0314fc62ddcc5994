//! `/admin/templates`: the operator's templates (administrators): each with its use count,
//! price and whether this server runs it; add, edit, reorder, archive (all audited).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::templates::{admin_templates, AdminTemplatesView, MakeTemplatePreview, MoveTemplate, SaveTemplate, TemplateAdminView};
use crate::i18n::{t, tf, title};
use crate::pages::{server_message, MembersOnly};

const MODES: [&str; 2] = ["image_to_image", "text_to_image"];

#[component]
pub fn AdminTemplatesPage() -> impl IntoView {
    let save = ServerAction::<SaveTemplate>::new();
    let step = ServerAction::<MoveTemplate>::new();
    let preview = ServerAction::<MakeTemplatePreview>::new();
    // Made above `MembersOnly` (see ARCHITECTURE.md, "Runtime").
    let page = Resource::new(move || (save.version().get(), step.version().get(), preview.version().get()), |_| admin_templates());
    view! {
        <Title text=title("templates.title")/>
        <MembersOnly>
            <section class="page">
                <h1>{t("templates.title")}</h1>
                <p class="muted">{t("templates.intro")}</p>
                {move || save.value().get().map(|r| match r {
                    Ok(v) => view! { <p class="notice" data-testid="template-saved">{tf("plans.saved", &[("name", &v.name)])}</p> }.into_any(),
                    Err(e) => view! { <p class="notice error" data-testid="template-error">{server_message(&e)}</p> }.into_any(),
                })}
                {move || preview.pending().get().then(|| view! { <p class="notice" aria-live="polite">{t("templates.previewing")}</p> })}
                {move || preview.value().get().map(|r| match r {
                    Ok(v) => view! { <p class="notice" data-testid="preview-made">{tf("templates.preview_made", &[("name", &v.name)])}</p> }.into_any(),
                    Err(e) => view! { <p class="notice error" data-testid="preview-error">{server_message(&e)}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
                            Ok(p) => view! { <TemplateList page=p save step preview/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </MembersOnly>
    }
}

#[component]
fn TemplateList(page: AdminTemplatesView, save: ServerAction<SaveTemplate>, step: ServerAction<MoveTemplate>, preview: ServerAction<MakeTemplatePreview>) -> impl IntoView {
    let generators = page.generators.join(", ");
    let default_cost = page.default_cost;
    view! {
        <p class="muted">{tf("templates.runs_here", &[("ids", &generators), ("cost", &default_cost.to_string())])}</p>
        <table class="templates" data-testid="templates">
            <thead><tr>
                <th>{t("templates.name")}</th><th>{t("templates.mode")}</th><th>{t("templates.generator")}</th>
                <th>{t("plans.credits")}</th><th>{t("templates.uses")}</th><th>{t("templates.order")}</th>
            </tr></thead>
            <tbody>
                {page.templates.into_iter().map(|tpl| {
                    let id = tpl.id.clone();
                    let (up, down, shot) = (id.clone(), id.clone(), id.clone());
                    let state = if tpl.archived { "archived" } else if tpl.available { "offered" } else { "unavailable" };
                    view! {
                        <tr data-template=id.clone() data-state=state>
                            <td>
                                <details>
                                    <summary>
                                        {(!tpl.preview_url.is_empty()).then(|| view! { <img class="template-thumb" src=tpl.preview_url.clone() alt="" width="40" height="40" loading="lazy"/> })}
                                        <strong>{tpl.name.clone()}</strong> " " <code>{id.clone()}</code>
                                        {(state != "offered").then(|| view! { <span class="badge">{t(if state == "archived" { "templates.archived" } else { "templates.unavailable" })}</span> })}
                                    </summary>
                                    <TemplateForm save template=Some(tpl.clone())/>
                                    <ActionForm action=preview attr:class="inline">
                                        <input type="hidden" name="id" value=shot/>
                                        <button type="submit" class="secondary" data-testid="make-preview" disabled=move || preview.pending().get()
                                            title=t("templates.make_preview_help")>{t("templates.make_preview")}</button>
                                    </ActionForm>
                                </details>
                            </td>
                            <td>{tpl.mode.clone()}</td>
                            <td><code>{tpl.generator.clone()}</code>{(!tpl.fallbacks.is_empty()).then(|| view! { <span class="muted">" → " {tpl.fallbacks.clone()}</span> })}</td>
                            <td data-testid="template-cost">{tpl.effective_cost}</td>
                            <td data-testid="template-uses">{tpl.uses}</td>
                            <td class="row">
                                <ActionForm action=step>
                                    <input type="hidden" name="id" value=up/>
                                    <input type="hidden" name="step" value="-1"/>
                                    <button type="submit" class="secondary" aria-label=t("templates.up")>"↑"</button>
                                </ActionForm>
                                <ActionForm action=step>
                                    <input type="hidden" name="id" value=down/>
                                    <input type="hidden" name="step" value="1"/>
                                    <button type="submit" class="secondary" aria-label=t("templates.down")>"↓"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                    .into_any()
                }).collect_view()}
            </tbody>
        </table>
        <h2>{t("templates.new")}</h2>
        <TemplateForm save template=None/>
    }
}

#[component]
fn TemplateForm(save: ServerAction<SaveTemplate>, template: Option<TemplateAdminView>) -> impl IntoView {
    let creating = template.is_none();
    let tpl = template.unwrap_or_else(|| TemplateAdminView {
        id: String::new(),
        name: String::new(),
        description: String::new(),
        mode: MODES[1].into(),
        generator: String::new(),
        fallbacks: String::new(),
        params: "{}".into(),
        prompt_template: "{prompt}".into(),
        negative_prompt: String::new(),
        cost: String::new(),
        effective_cost: 0,
        position: 0,
        preview_url: String::new(),
        translations: "{}".into(),
        uses: 0,
        archived: false,
        available: false,
    });
    let mode = tpl.mode.clone();
    view! {
        <ActionForm action=save attr:class="stack template-form" attr:data-testid="template-form">
            {creating.then(|| view! { <input type="hidden" name="create" value="1"/> })}
            <label>{t("templates.id")} " "
                <input type="text" name="id" required maxlength="64" pattern="[a-z0-9][a-z0-9\\-]*" value=tpl.id.clone() readonly=!creating/>
            </label>
            <label>{t("templates.name")} " " <input type="text" name="name" required maxlength="80" value=tpl.name.clone()/></label>
            <label>{t("templates.description")} " " <textarea name="description" maxlength="500" rows="2">{tpl.description.clone()}</textarea></label>
            <label>{t("templates.mode")} " "
                <select name="mode">
                    {MODES.into_iter().map(|m| view! { <option value=m selected={m == mode}>{m}</option> }).collect_view()}
                </select>
            </label>
            <label>{t("templates.generator")} " " <input type="text" name="generator" required maxlength="64" value=tpl.generator.clone()/></label>
            <label>{t("templates.fallbacks")} " " <input type="text" name="fallbacks" maxlength="600" value=tpl.fallbacks.clone()/></label>
            <label>{t("templates.params")} " " <textarea name="params" maxlength="4096" rows="2" class="mono">{tpl.params.clone()}</textarea></label>
            <label>{t("templates.prompt_template")} " " <textarea name="prompt_template" maxlength="2000" rows="2">{tpl.prompt_template.clone()}</textarea></label>
            <label>{t("templates.negative_prompt")} " " <input type="text" name="negative_prompt" maxlength="1000" value=tpl.negative_prompt.clone()/></label>
            <label>{t("templates.cost")} " " <input type="number" name="cost" min="0" step="1" value=tpl.cost.clone()/></label>
            <label>{t("plans.position")} " " <input type="number" name="position" step="1" value={if creating { String::new() } else { tpl.position.to_string() }}/></label>
            <label>{t("templates.preview")} " " <input type="text" name="preview_url" maxlength="500" value=tpl.preview_url.clone()/></label>
            <label>{t("templates.translations")} " "
                <textarea name="translations" maxlength="8192" rows="2" class="mono" placeholder=r#"{"de": {"name": "…", "description": "…"}}"#>{tpl.translations.clone()}</textarea>
            </label>
            <label class="check"><input type="checkbox" name="archived" checked=tpl.archived/>" " {t("plans.archived")}</label>
            <button type="submit">{if creating { t("templates.add") } else { t("settings.save") }}</button>
        </ActionForm>
    }
}
