//! Templates as the operator's data (`store::templates`): what the catalogue offers, what a
//! generation made with one costs and runs, and the administrators' edits.
//!
//! A template is offered when it is not archived and this server runs at least one
//! generator of its chain (a provider the operator has not configured hides its templates,
//! it does not break them). Its cost is its own, or the operator's default price
//! (`DARKROOM_GENERATION_COST`) when it has none.

use darkroom_contract::Mode;
use darkroom_store::templates::{Template as Row, TemplateInput};
use darkroom_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::generators::{GenerateError, Need, Plan};
use crate::{AppState, ServiceError};

/// The slot in a prompt template that the member's prompt fills.
pub const PROMPT_SLOT: &str = "{prompt}";

/// Highest cost a template may have, in credits.
pub const MAX_COST: i64 = 100_000;

/// A template as the API and the pages show it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Template {
    /// Stable id (slug), accepted as `template` in `POST /api/v1/generations` and as an OpenAI
    /// `model`.
    pub id: String,
    pub name: String,
    pub description: String,
    /// `image_to_image` or `text_to_image`.
    pub mode: String,
    /// Credits per output image.
    pub cost: i64,
    /// The template's fixed parameters, with `generator` (the first generator tried) and
    /// `fallbacks` (the ones tried after it, in order).
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// What a request must bring: `photo`, `style_image` and `prompt` are each `required`,
    /// `optional` or `no`.
    pub needs: Needs,
    pub preview_url: String,
    /// The name and description in other languages, by language tag (`de`); a page in that
    /// language shows them in place of `name` and `description`.
    pub translations: std::collections::BTreeMap<String, Translation>,
}

/// A template's name and description in one language; a missing field shows the stored
/// (English) one.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Translation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Most languages a template may be translated into.
pub const MAX_TRANSLATIONS: usize = 16;

/// Parses a template's translations (`{"de": {"name": "Nachtgold", "description": "…"}}`),
/// as an administrator sends them or as stored; empty text is none.
///
/// Errors (the message names what is wrong): not a JSON object of objects with only `name`
/// and `description` strings, a key that is not a language tag (`de`, `pt-BR`: 2–3 lower-case
/// letters, optionally `-` and 2 upper-case), more than [`MAX_TRANSLATIONS`] languages, a name
/// over 80 characters or a description over 500.
pub fn parse_translations(text: &str) -> Result<std::collections::BTreeMap<String, Translation>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        name: Option<String>,
        description: Option<String>,
    }
    let text = text.trim();
    if text.is_empty() {
        return Ok(Default::default());
    }
    let map: std::collections::BTreeMap<String, Strict> = serde_json::from_str(text)
        .map_err(|_| "The translations must be a JSON object such as {\"de\": {\"name\": \"…\", \"description\": \"…\"}}.".to_string())?;
    if map.len() > MAX_TRANSLATIONS {
        return Err(format!("At most {MAX_TRANSLATIONS} languages."));
    }
    let is_tag = |t: &str| {
        let (lang, region) = t.split_once('-').unwrap_or((t, ""));
        (2..=3).contains(&lang.len())
            && lang.bytes().all(|b| b.is_ascii_lowercase())
            && (region.is_empty() && !t.contains('-') || region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase()))
    };
    let tidy = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut out = std::collections::BTreeMap::new();
    for (tag, t) in map {
        if !is_tag(&tag) {
            return Err(format!("{tag:?} is not a language tag such as de or pt-BR."));
        }
        let (name, description) = (tidy(t.name), tidy(t.description));
        if name.as_ref().is_some_and(|n| n.chars().count() > 80) || description.as_ref().is_some_and(|d| d.chars().count() > 500) {
            return Err(format!("In {tag}: the name can be at most 80 characters, the description 500."));
        }
        if name.is_some() || description.is_some() {
            out.insert(tag, Translation { name, description });
        }
    }
    Ok(out)
}

/// `row`'s name and description for a page in `lang` (a language tag): the operator's
/// translation where there is one, else as stored. A stored translation that does not parse
/// (only a hand-edited row's can fail) is ignored.
pub fn localized(row: &Row, lang: &str) -> (String, String) {
    // Explore and the galleries ask this for every style on every render: a row without the
    // language's key is not parsed at all (the English pages' case).
    if !row.translations.contains(&format!("\"{lang}\"")) {
        return (row.name.clone(), row.description.clone());
    }
    pick(&parse_translations(&row.translations).unwrap_or_default(), lang, &row.name, &row.description)
}

/// `lang`'s name and description from `translations`, each falling back to the stored one.
fn pick(translations: &std::collections::BTreeMap<String, Translation>, lang: &str, name: &str, description: &str) -> (String, String) {
    let t = translations.get(lang);
    (
        t.and_then(|t| t.name.clone()).unwrap_or_else(|| name.to_string()),
        t.and_then(|t| t.description.clone()).unwrap_or_else(|| description.to_string()),
    )
}

impl Template {
    /// The name and description for a page in `lang` ([`localized`] on the wire form).
    pub fn localized(&self, lang: &str) -> (String, String) {
        pick(&self.translations, lang, &self.name, &self.description)
    }
}

/// The inputs a template asks of a request.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Needs {
    pub photo: String,
    pub style_image: String,
    pub prompt: String,
}

fn need(n: Need) -> String {
    match n {
        Need::No => "no",
        Need::Optional => "optional",
        Need::Required => "required",
    }
    .into()
}

/// The generators a row names, first to last. Errors: the stored fallbacks are not a JSON
/// array of strings (only a hand-edited row can be).
pub fn chain(row: &Row) -> Result<Vec<String>, ServiceError> {
    let fallbacks: Vec<String> = serde_json::from_str(&row.fallbacks).map_err(|e| ServiceError::internal(format!("template {}: fallbacks: {e}", row.id)))?;
    Ok(std::iter::once(row.generator.clone()).chain(fallbacks).collect())
}

/// The row's fixed parameters with `generator` and `fallbacks` set: the start of a job's
/// `params` ([`Plan`]). Errors: a stored field that is not JSON of its shape.
pub fn params(row: &Row) -> Result<serde_json::Value, ServiceError> {
    let mut p: serde_json::Value = serde_json::from_str(&row.params).map_err(|e| ServiceError::internal(format!("template {}: params: {e}", row.id)))?;
    let obj = p.as_object_mut().ok_or_else(|| ServiceError::internal(format!("template {}: params are not an object", row.id)))?;
    let chain = chain(row)?;
    obj.insert("generator".into(), chain[0].clone().into());
    if chain.len() > 1 {
        obj.insert("fallbacks".into(), chain[1..].to_vec().into());
    }
    if row.prompt_template != PROMPT_SLOT && !row.prompt_template.is_empty() {
        obj.insert("prompt_template".into(), row.prompt_template.clone().into());
    }
    if !row.negative_prompt.is_empty() {
        obj.insert("negative_prompt".into(), row.negative_prompt.clone().into());
    }
    Ok(p)
}

/// Credits a generation with `row` costs.
pub fn cost(state: &AppState, row: &Row) -> i64 {
    row.cost.unwrap_or(state.config.generation_cost)
}

/// What one job of `row` with these parameters costs, in credits: [`cost`] for an image; for
/// a clip (image→video, video→video) [`cost`] per second of output, the job's `seconds`
/// rounded up (so the price shown before submit is the price charged).
pub fn cost_for(state: &AppState, row: &Row, params: &serde_json::Value) -> i64 {
    let base = cost(state, row);
    match row.mode {
        Mode::ImageToVideo | Mode::VideoToVideo => {
            let secs = params["seconds"].as_f64().unwrap_or(DEFAULT_CLIP_SECONDS).ceil().max(1.0) as i64;
            base.saturating_mul(secs)
        }
        _ => base,
    }
}

/// A clip's length when neither the template nor the member names one, seconds.
pub const DEFAULT_CLIP_SECONDS: f64 = 4.0;

/// The prompt a generator receives: the template's with [`PROMPT_SLOT`] replaced by the
/// member's (which the prompt gate checked), or the member's alone without a template.
pub fn expand_prompt(template: Option<&str>, prompt: &str) -> String {
    match template {
        Some(t) if !t.is_empty() => t.replace(PROMPT_SLOT, prompt).trim().to_string(),
        _ => prompt.to_string(),
    }
}

/// The wire form of a row, if this server runs a generator of its chain.
fn view(state: &AppState, row: &Row) -> Option<Template> {
    let chain = chain(row).ok()?;
    let first = chain.iter().find_map(|id| state.generators.get(id))?;
    let caps = first.capabilities();
    let photo = if row.mode == Mode::TextToImage { Need::No } else { caps.photo };
    Some(Template {
        id: row.id.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        mode: row.mode.to_string(),
        cost: cost(state, row),
        params: params(row).ok()?,
        needs: Needs { photo: need(photo), style_image: need(caps.style_image), prompt: need(caps.prompt) },
        preview_url: row.preview_url.clone(),
        translations: parse_translations(&row.translations).unwrap_or_default(),
    })
}

/// The catalogue: every offered template, in order.
pub async fn catalogue(state: &AppState) -> Result<Vec<Template>, ServiceError> {
    Ok(state.store.templates(false).await?.iter().filter_map(|r| view(state, r)).collect())
}

/// The offered template with this id. Errors: [`ServiceError::Invalid`] for an unknown or
/// archived template, or one none of whose generators runs on this server.
pub async fn offered(state: &AppState, id: &str) -> Result<Row, ServiceError> {
    let row = match state.store.template(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ServiceError::Invalid(format!("Unknown template {id:?}: see GET /api/v1/templates."))),
        Err(e) => return Err(e.into()),
    };
    if row.archived_at.is_some() {
        return Err(ServiceError::Invalid(format!("The template {id:?} is no longer offered.")));
    }
    if view(state, &row).is_none() {
        return Err(ServiceError::Invalid(format!("The template {id:?} is not available on this server now.")));
    }
    Ok(row)
}

/// The first offered template of `mode`, in catalogue order (what OpenAI's model names and no
/// model mean on the OpenAI-compatible endpoints).
pub async fn first_of(state: &AppState, mode: Mode, remote: bool) -> Result<Option<Row>, ServiceError> {
    for row in state.store.templates(false).await? {
        let runs_remote = chain(&row).ok().and_then(|c| c.iter().find_map(|id| state.generators.get(id)).map(|g| g.capabilities().remote));
        if row.mode == mode && runs_remote.is_some_and(|r| r || !remote) {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// An administrator's template form, as sent.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplateForm {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub mode: String,
    pub generator: String,
    /// Generator ids separated by commas or spaces.
    #[serde(default)]
    pub fallbacks: String,
    /// A JSON object.
    #[serde(default)]
    pub params: String,
    #[serde(default)]
    pub prompt_template: String,
    #[serde(default)]
    pub negative_prompt: String,
    /// Empty: the default price.
    #[serde(default)]
    pub cost: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub preview_url: String,
    /// JSON (`parse_translations`); empty: none.
    #[serde(default)]
    pub translations: String,
    #[serde(default)]
    pub archived: bool,
}

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') && !s.starts_with('-')
}

/// Checks and saves an administrator's template (`create`: a new id; else an update), audited
/// with the actor. The primary generator, when this server runs it, checks the parameters.
///
/// Errors: [`ServiceError::Invalid`] naming the field (id not a slug of 1–64 `a-z0-9-`, name
/// 1–80 characters, description ≤ 500, unknown mode, generator ids not slugs, params not a
/// JSON object ≤ 4 KB, prompt template ≤ 2,000 characters, cost not 0..=[`MAX_COST`], position
/// not a number, preview not a path or https URL, translations [`parse_translations`]
/// refuses, parameters the generator refuses);
/// [`ServiceError::Conflict`] creating an existing id; [`ServiceError::NotFound`] updating an
/// unknown one.
pub async fn save(state: &AppState, actor_id: &str, form: &TemplateForm, create: bool) -> Result<Row, ServiceError> {
    let bad = |m: &str| Err(ServiceError::Invalid(m.to_string()));
    let id = form.id.trim();
    if !is_slug(id) {
        return bad("The id must be 1 to 64 characters of a-z, 0-9 and '-'.");
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return bad("The name must be 1 to 80 characters.");
    }
    if form.description.chars().count() > 500 {
        return bad("The description can be at most 500 characters.");
    }
    let Ok(mode) = form.mode.parse::<Mode>() else { return bad("Unknown mode.") };
    let generator = form.generator.trim();
    let fallbacks: Vec<&str> = form.fallbacks.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if !is_slug(generator) || !fallbacks.iter().all(|f| is_slug(f)) || fallbacks.len() > 8 {
        return bad("Generators are ids such as local-style or openai (at most 8 fallbacks).");
    }
    let params_text = if form.params.trim().is_empty() { "{}" } else { form.params.trim() };
    if params_text.len() > 4096 {
        return bad("The parameters can be at most 4 KB.");
    }
    let params: serde_json::Value = match serde_json::from_str(params_text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => return bad("The parameters must be a JSON object, e.g. {\"style\": 3}."),
    };
    let prompt_template = if form.prompt_template.trim().is_empty() { PROMPT_SLOT } else { form.prompt_template.trim() };
    if prompt_template.chars().count() > 2000 || form.negative_prompt.chars().count() > 1000 {
        return bad("The prompt template can be at most 2,000 characters, the negative prompt 1,000.");
    }
    let cost = match form.cost.trim() {
        "" => None,
        c => match c.parse::<i64>() {
            Ok(v) if (0..=MAX_COST).contains(&v) => Some(v),
            _ => return Err(ServiceError::Invalid(format!("The cost must be a whole number of credits, 0 to {MAX_COST}, or empty for the default price."))),
        },
    };
    let position = match form.position.trim() {
        "" => None,
        p => Some(p.parse::<i64>().map_err(|_| ServiceError::Invalid("The position must be a number.".into()))?),
    };
    let preview = form.preview_url.trim();
    if !(preview.is_empty() || (preview.starts_with('/') && !preview.starts_with("//")) || preview.starts_with("https://")) || preview.len() > 500 {
        return bad("The preview must be a path on this site (/previews/...) or an https URL.");
    }
    let translations = parse_translations(&form.translations).map_err(ServiceError::Invalid)?;
    let fallbacks = serde_json::to_string(&fallbacks).map_err(ServiceError::internal)?;
    let params = params.to_string();
    if let Some(g) = state.generators.get(generator) {
        if !g.capabilities().modes.contains(&mode) {
            return Err(ServiceError::Invalid(format!("{generator} does not make {mode}.")));
        }
        // What a run of the template with its own fields would hand the generator (a
        // template's `style` becomes the run's `styles`, as a submission's does).
        let probe = Row {
            id: id.to_string(),
            name: name.to_string(),
            description: String::new(),
            mode,
            generator: generator.to_string(),
            fallbacks: fallbacks.clone(),
            params: params.clone(),
            prompt_template: prompt_template.to_string(),
            negative_prompt: String::new(),
            cost,
            position: 0,
            preview_url: String::new(),
            translations: String::new(),
            archived_at: None,
            created_at: 0,
            updated_at: 0,
        };
        let run = crate::generation::template_only_params(&probe).map_err(|e| match e {
            ServiceError::Invalid(m) => ServiceError::Invalid(format!("The parameters: {m}")),
            e => e,
        })?;
        if let Err(GenerateError::BadInput(m)) = g.check(&run) {
            return Err(ServiceError::Invalid(format!("The parameters: {m}")));
        }
    }
    let position = match position {
        Some(p) => p,
        None if create => state.store.templates(true).await?.iter().map(|t| t.position).max().unwrap_or(0) + 10,
        None => state.store.template(id).await?.position,
    };
    let translations = serde_json::to_string(&translations).map_err(ServiceError::internal)?;
    let input = TemplateInput {
        id,
        name,
        description: form.description.trim(),
        mode,
        generator,
        fallbacks: &fallbacks,
        params: &params,
        prompt_template,
        negative_prompt: form.negative_prompt.trim(),
        cost,
        position,
        preview_url: preview,
        translations: &translations,
        archived: form.archived,
    };
    Ok(state.store.save_template(actor_id, &input, create).await?)
}

/// A job's plan from a template: its chain and parameters (before the request's own fields).
pub fn plan(row: &Row) -> Result<Plan, ServiceError> {
    Ok(Plan { chain: chain(row)?, params: params(row)? })
}

/// The prompt a template's preview is made with when the template takes one.
pub const PREVIEW_PROMPT: &str = "a lighthouse on a rocky coast at dusk";

/// Side, in pixels, of a template's preview (a square; shown at half that on 2x screens).
pub const PREVIEW_SIDE: u32 = 320;

/// Where previews made by [`make_preview`] are stored in the media store, and served from
/// (`GET /template-previews/{file}`, immutable: the file name carries the content hash).
pub const PREVIEW_PREFIX: &str = "template-previews/";

/// Makes a template's preview by running it: its generator chain on the sample photo
/// (`samples/chelsea.png` of the models folder) and sample style image (`samples/coffee.png`)
/// where it takes them, and [`PREVIEW_PROMPT`] in its prompt template. The result passes the
/// output gate, is centre-cropped to a [`PREVIEW_SIDE`] square JPEG, stored under
/// [`PREVIEW_PREFIX`]`{id}-{sha256 prefix}.jpg`, and becomes the template's preview (audited
/// as `templates.preview`); the previous preview made this way is deleted. Nothing is
/// charged. Blocks the caller for one run (a remote provider's timeouts apply).
///
/// Errors: [`ServiceError::NotFound`] for an unknown template; [`ServiceError::Invalid`] when
/// none of its generators runs here, a sample is missing, the run fails (the generator's
/// message) or the output gate does not allow the image (nothing is stored then).
pub async fn make_preview(state: &AppState, actor_id: &str, id: &str) -> Result<Row, ServiceError> {
    use crate::generators::{Inputs, Progress};
    use crate::moderation::{self, Decision, ImageGate};
    use sha2::{Digest, Sha256};

    let row = state.store.template(id).await?;
    let plan = Plan { chain: chain(&row)?, params: crate::generation::template_only_params(&row)? };
    let chain: Vec<_> = plan.chain.iter().filter_map(|g| state.generators.get(g).cloned()).collect();
    let Some(first) = chain.first() else {
        return Err(ServiceError::Invalid(format!("None of {:?} runs on this server, so {id} cannot be previewed.", plan.chain)));
    };
    let caps = first.capabilities().clone();
    let samples = state.config.models_dir.join("samples");
    let load = |name: &'static str| {
        let path = samples.join(name);
        async move {
            tokio::task::spawn_blocking(move || image::open(&path).map(|i| i.into_rgb8()))
                .await
                .map_err(ServiceError::internal)?
                .map_err(|e| ServiceError::Invalid(format!("The sample image {name} could not be read ({e}): run `darkroom fetch-models`.")))
        }
    };
    let wants_prompt = row.mode == Mode::TextToImage || caps.prompt == Need::Required;
    let inputs = Inputs {
        photo: if row.mode != Mode::TextToImage && caps.photo != Need::No { Some(load("chelsea.png").await?) } else { None },
        style_image: if caps.style_image != Need::No { Some(load("coffee.png").await?) } else { None },
        prompt: expand_prompt(Some(&row.prompt_template), if wants_prompt { PREVIEW_PROMPT } else { "" }),
        negative_prompt: row.negative_prompt.clone(),
        seed: Some(1),
        size: None,
        user_ref: state.signer.keyed_hash(&format!("provider-user:{actor_id}"))[..32].to_string(),
        ..Default::default()
    };
    let progress: Progress = std::sync::Arc::new(|_| {});
    let output = crate::generators::run(&chain, &plan, inputs, progress).await.map_err(|e| ServiceError::Invalid(format!("The preview run failed: {e}")))?;
    let (engine, policy) = (state.engine.clone(), state.policy.clone());
    let jpeg = tokio::task::spawn_blocking(move || {
        let img = output.image;
        let verdict = moderation::check_image(engine.as_deref(), &img, ImageGate::Output, &policy);
        if verdict.decision != Decision::Allow {
            let category = verdict.category.map(|c| c.to_string()).unwrap_or_else(|| "unchecked".into());
            return Err(ServiceError::Invalid(format!("The preview did not pass the output gate ({category}); nothing was saved.")));
        }
        let side = img.width().min(img.height());
        let square = image::imageops::crop_imm(&img, (img.width() - side) / 2, (img.height() - side) / 2, side, side).to_image();
        let tile = darkroom_engine::style::resize(&square, PREVIEW_SIDE, PREVIEW_SIDE).map_err(ServiceError::internal)?;
        Ok((darkroom_engine::imageio::encode_jpeg(&tile, 85), output.made_by))
    })
    .await
    .map_err(ServiceError::internal)?;
    let (jpeg, made_by) = jpeg?;
    let file = format!("{id}-{}.jpg", &hex::encode(Sha256::digest(&jpeg))[..16]);
    state.media.put(&format!("{PREVIEW_PREFIX}{file}"), bytes::Bytes::from(jpeg)).await?;
    let (before, after) = state.store.set_template_preview(actor_id, id, &format!("/{PREVIEW_PREFIX}{file}"), &made_by).await?;
    if let Some(old) = before.preview_url.strip_prefix('/').filter(|old| old.starts_with(PREVIEW_PREFIX) && *old != format!("{PREVIEW_PREFIX}{file}")) {
        if let Err(e) = state.media.delete(old).await {
            tracing::warn!(template = id, error = %e, "old preview not deleted");
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_fills_the_slot_and_slugs_are_strict() {
        assert_eq!(expand_prompt(Some("a watercolour of {prompt}, soft light"), "a cat"), "a watercolour of a cat, soft light");
        assert_eq!(expand_prompt(Some("{prompt}"), "a cat"), "a cat");
        assert_eq!(expand_prompt(None, "a cat"), "a cat");
        assert_eq!(expand_prompt(Some("fixed scene"), "title only"), "fixed scene");
        assert!(is_slug("style-01") && is_slug("openai-image"));
        assert!(!is_slug("") && !is_slug("Style") && !is_slug("-x") && !is_slug("a/b") && !is_slug(&"a".repeat(65)));
    }

    #[test]
    fn translations_are_language_tags_to_a_name_and_a_description() {
        let t = parse_translations(r#"{"de": {"name": " Nachtgold ", "description": ""}, "pt-BR": {"description": "Ouro"}, "fr": {}}"#).unwrap();
        assert_eq!(t.len(), 2, "an empty translation is none");
        assert_eq!((t["de"].name.as_deref(), t["de"].description.as_deref()), (Some("Nachtgold"), None), "trimmed; empty is missing");
        assert_eq!(t["pt-BR"].description.as_deref(), Some("Ouro"));
        assert!(parse_translations("").unwrap().is_empty());
        for bad in [r#"{"DE": {"name": "x"}}"#, r#"{"de-": {"name": "x"}}"#, r#"{"deutsch": {"name": "x"}}"#, r#"{"de": {"title": "x"}}"#, "[1]", r#"{"de": "x"}"#] {
            assert!(parse_translations(bad).is_err(), "{bad}");
        }
        let long = format!(r#"{{"de": {{"name": "{}"}}}}"#, "n".repeat(81));
        assert!(parse_translations(&long).unwrap_err().contains("80"));
        let many: Vec<String> = (0..17).map(|i| format!(r#""a{}": {{"name": "x"}}"#, (b'a' + i as u8) as char)).collect();
        assert!(parse_translations(&format!("{{{}}}", many.join(","))).unwrap_err().contains("16"));
    }
}
