//! The template editor for administrators (`/admin/templates`): every template with its use
//! count and whether this server runs it, and the audited edits (`save_template`,
//! `move_template`). The rules are `darkroom_service::templates`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One template as the editor shows it (the stored fields as text, for the form).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TemplateAdminView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `image_to_image`, `text_to_image`, ...
    pub mode: String,
    pub generator: String,
    /// The fallbacks, comma-separated.
    pub fallbacks: String,
    /// The fixed parameters, JSON.
    pub params: String,
    pub prompt_template: String,
    pub negative_prompt: String,
    /// Empty: the default price.
    pub cost: String,
    /// What a generation costs now, in credits (its own or the default).
    pub effective_cost: i64,
    pub position: i64,
    pub preview_url: String,
    /// The name and description in other languages, JSON (`{}`: none).
    pub translations: String,
    pub uses: i64,
    pub archived: bool,
    /// Whether this server runs a generator of its chain (else members don't see it).
    pub available: bool,
}

/// The editor's page: the templates and the choices of its fields.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AdminTemplatesView {
    pub templates: Vec<TemplateAdminView>,
    /// The generators this server runs.
    pub generators: Vec<String>,
    /// The operator's default price, in credits.
    pub default_cost: i64,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use darkroom_service::AppState;
    use darkroom_store::templates::Template;

    /// [`view`] with the template's use count read now.
    pub async fn view_counted(state: &AppState, t: Template) -> Result<TemplateAdminView, ServerFnError> {
        let uses = state.store.template_uses().await.map_err(|e| crate::api::ssr::fail(e.into()))?;
        let n = uses.get(&t.id).copied().unwrap_or(0);
        Ok(view(state, t, n))
    }

    /// The administrator's view of `t`, which made `uses` jobs.
    pub fn view(state: &AppState, t: Template, uses: i64) -> TemplateAdminView {
        let chain = darkroom_service::templates::chain(&t).unwrap_or_default();
        TemplateAdminView {
            available: chain.iter().any(|g| state.generators.get(g).is_some()),
            fallbacks: chain.iter().skip(1).cloned().collect::<Vec<_>>().join(", "),
            effective_cost: darkroom_service::templates::cost(state, &t),
            cost: t.cost.map(|c| c.to_string()).unwrap_or_default(),
            mode: t.mode.to_string(),
            archived: t.archived_at.is_some(),
            id: t.id,
            name: t.name,
            description: t.description,
            generator: t.generator,
            params: t.params,
            prompt_template: t.prompt_template,
            negative_prompt: t.negative_prompt,
            position: t.position,
            preview_url: t.preview_url,
            translations: t.translations,
            uses,
        }
    }
}

/// Every template (archived ones too), in catalogue order. Administrators only (403).
#[server(endpoint = "admin_templates")]
pub async fn admin_templates() -> Result<AdminTemplatesView, ServerFnError> {
    let (state, _) = crate::api::ssr::admin("edit templates").await?;
    let rows = state.store.templates(true).await.map_err(|e| crate::api::ssr::fail(e.into()))?;
    let uses = state.store.template_uses().await.map_err(|e| crate::api::ssr::fail(e.into()))?;
    Ok(AdminTemplatesView {
        templates: rows.into_iter().map(|t| { let n = uses.get(&t.id).copied().unwrap_or(0); ssr::view(&state, t, n) }).collect(),
        generators: state.generators.ids().into_iter().map(String::from).collect(),
        default_cost: state.config.generation_cost,
    })
}

/// Creates (`create` set) or updates a template; `archived` from a checkbox (`"on"`).
/// Audited with the administrator. Errors: a message naming the bad field (400), an id that
/// exists (409) or does not (404); not an administrator (403).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_template")]
pub async fn save_template(
    create: Option<String>,
    id: String,
    name: String,
    description: String,
    mode: String,
    generator: String,
    fallbacks: String,
    params: String,
    prompt_template: String,
    negative_prompt: String,
    cost: String,
    position: String,
    preview_url: String,
    translations: Option<String>,
    archived: Option<String>,
) -> Result<TemplateAdminView, ServerFnError> {
    let (state, user) = crate::api::ssr::admin("edit templates").await?;
    let form = darkroom_service::templates::TemplateForm {
        id,
        name,
        description,
        mode,
        generator,
        fallbacks,
        params,
        prompt_template,
        negative_prompt,
        cost,
        position,
        preview_url,
        translations: translations.unwrap_or_default(),
        archived: archived.is_some_and(|a| !a.is_empty()),
    };
    let create = create.is_some_and(|c| !c.is_empty());
    let saved = darkroom_service::templates::save(&state, &user.id, &form, create).await.map_err(crate::api::ssr::fail)?;
    ssr::view_counted(&state, saved).await
}

/// Moves a template one place up (`step` -1) or down (1) in the catalogue. Audited.
#[server(endpoint = "move_template")]
pub async fn move_template(id: String, step: i64) -> Result<(), ServerFnError> {
    let (state, user) = crate::api::ssr::admin("edit templates").await?;
    state.store.move_template(&user.id, &id, step.signum()).await.map_err(|e| crate::api::ssr::fail(e.into()))
}

/// Makes the template's preview by running it on the sample photo and prompt
/// (`darkroom_service::templates::make_preview`; nothing is charged; audited). Errors: the
/// run failed or the output gate held the image (400, with the reason); unknown template
/// (404); not an administrator (403).
#[server(endpoint = "make_template_preview")]
pub async fn make_template_preview(id: String) -> Result<TemplateAdminView, ServerFnError> {
    let (state, user) = crate::api::ssr::admin("edit templates").await?;
    let saved = darkroom_service::templates::make_preview(&state, &user.id, &id).await.map_err(crate::api::ssr::fail)?;
    ssr::view_counted(&state, saved).await
}
