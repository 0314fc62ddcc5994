//! Templates as the operator's data, and text→image through them: every remote provider's
//! text→image path against its stand-in, OpenAI's model names on `/v1/images/generations`,
//! the administrators' editor (admin-only, audited, validated), per-template prices, prompt
//! templates, use counts, archiving and ordering; the styles named by their templates, in
//! the page's language.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use base64::Engine as _;

use super::api::{api, b64, charges, new_key, small_photo};
use super::provider_standin::{self, OpenAiStandIn};
use super::*;

/// Waits until the API generation `id` is final; returns it.
async fn finished(app: &TestApp, secret: &str, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (s, v, _) = api(app, "GET", &format!("/api/v1/generations/{id}"), Some(secret), None, &[]).await;
        assert_eq!(s, 200, "{v}");
        if ["succeeded", "failed", "rejected", "canceled"].contains(&v["status"].as_str().unwrap_or("")) {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "generation {id} did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn manifest(app: &TestApp, user: &str, id: &str) -> String {
    let job = app.state.store.job(id, user).await.unwrap();
    let png = app.state.media.get(job.result_key.as_deref().unwrap()).await.unwrap();
    darkroom_engine::provenance::read(&png, "image/png").expect("a C2PA manifest").json
}

struct Providers {
    openai: OpenAiStandIn,
    gemini: OpenAiStandIn,
    openrouter: OpenAiStandIn,
    a1111: OpenAiStandIn,
}

async fn with_every_provider(b: Backend) -> (TestApp, Providers) {
    let p = Providers {
        openai: provider_standin::spawn().await,
        gemini: provider_standin::spawn_gemini().await,
        openrouter: provider_standin::spawn_openrouter().await,
        a1111: provider_standin::spawn_a1111().await,
    };
    let (oa, ge, or, sd) = (p.openai.base.clone(), p.gemini.base.clone(), p.openrouter.base.clone(), p.a1111.base.clone());
    let app = spawn_app(b, move |c| {
        c.signup_grant = 100;
        c.openai_api_key = Some(provider_standin::KEY.into());
        c.openai_api_base = oa;
        c.gemini_api_key = Some(provider_standin::GEMINI_KEY.into());
        c.gemini_api_base = ge;
        c.openrouter_api_key = Some(provider_standin::OPENROUTER_KEY.into());
        c.openrouter_api_base = or;
        c.a1111_api_base = Some(sd);
        c.a1111_auth = Some(format!("{}:{}", provider_standin::A1111_AUTH.0, provider_standin::A1111_AUTH.1));
        c.provider_backoff_ms = 10;
    })
    .await;
    (app, p)
}

/// Each provider's text→image template, through the API: no photo leaves the server (there is
/// none), the prompt does; the result is a new image (`c2pa.created`) naming its maker, and
/// costs the template's price. A photo sent to a text→image template is refused, free.
pub async fn text_to_image_through_every_provider(b: Backend) {
    let (app, p) = with_every_provider(b).await;
    let c = client();
    app.sign_up(&c, "t2i@example.com").await;
    let me = user_id(&app, "t2i@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let (s, list, _) = api(&app, "GET", "/api/v1/templates", Some(&secret), None, &[]).await;
    assert_eq!(s, 200);
    let listed: Vec<&str> = list["results"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    for id in ["style-01", "style-26-color", "any-style", "openai-edit", "openai-image", "gemini-image", "openrouter-image", "automatic1111-image"] {
        assert!(listed.contains(&id), "{id} listed: {listed:?}");
    }
    let t = list["results"].as_array().unwrap().iter().find(|t| t["id"] == "gemini-image").unwrap();
    assert_eq!((t["mode"].as_str(), t["needs"]["photo"].as_str(), t["needs"]["prompt"].as_str()), (Some("text_to_image"), Some("no"), Some("required")), "{t}");
    assert_eq!(t["params"]["generator"], "gemini");

    let cases: [(&str, &OpenAiStandIn, &str); 4] = [
        ("openai-image", &p.openai, "openai gpt-image-1"),
        ("gemini-image", &p.gemini, "google "),
        ("openrouter-image", &p.openrouter, "openrouter "),
        ("automatic1111-image", &p.a1111, "automatic1111 txt2img"),
    ];
    let mut spent = 0;
    for (template, standin, maker) in cases {
        let prompt = format!("a lighthouse at dawn for {template}");
        let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": template, "prompt": prompt })), &[]).await;
        assert_eq!(s, 201, "{template}: {v}");
        assert_eq!((v["input"]["template"].as_str(), v["input"]["upload_id"].as_str()), (Some(template), None), "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        let done = finished(&app, &secret, &id).await;
        assert_eq!(done["status"], "succeeded", "{template}: {done}");
        spent += 1;
        let sent = standin.received();
        let last = sent.last().expect("the provider was called");
        assert!(last.image.is_empty(), "{template}: no image sent");
        let carried: String = last.fields.iter().map(|(_, v)| v.as_str()).collect();
        assert!(carried.contains(&prompt), "{template}: the prompt was sent: {carried}");
        assert!(!carried.contains("t2i@example.com") && !carried.contains("Tester"), "{template}: no email or name");
        let m = manifest(&app, &me, &id).await;
        assert!(m.contains("c2pa.created") && !m.contains("c2pa.edited"), "{template}: a created image: {m}");
        assert!(m.contains(maker), "{template}: names {maker}: {m}");
        let job = app.state.store.job(&id, &me).await.unwrap();
        assert_eq!((job.template_id.as_deref(), job.upload_id.as_deref(), job.mode), (Some(template), None, darkroom_contract::Mode::TextToImage));
    }
    let a1111 = p.a1111.received();
    let path = a1111.last().unwrap().fields.iter().find(|(k, _)| k == "path").unwrap().1.clone();
    assert_eq!(path, "/sdapi/v1/txt2img");
    assert_eq!(charges(&app, &me).await, spent, "one charge each");
    assert_eq!(app.state.store.user(&me).await.unwrap().balance, 100 - 5 * spent, "at the default price");

    // A photo to a text→image template: refused before anything is charged or stored.
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "openai-image", "prompt": "x", "image": b64(&small_photo(64)) })), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("prompt alone"), "{v}");
    // No prompt: refused too.
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "gemini-image", "prompt": "  " })), &[]).await;
    assert_eq!(s, 400, "{v}");
    // An image→image template without a photo.
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "style-03", "prompt": "x" })), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(charges(&app, &me).await, spent, "refusals are free");

    // OpenAI's SDK shape: `gpt-image-1` means the operator's first text→image template.
    let before = p.openai.received().len();
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "a quiet harbour", "model": "gpt-image-1", "size": "1536x1024", "response_format": "b64_json" })), &[]).await;
    assert_eq!(s, 200, "{v}");
    let png = base64::engine::general_purpose::STANDARD.decode(v["data"][0]["b64_json"].as_str().unwrap()).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1536, 1024), "the provider's landscape size");
    let sent = p.openai.received();
    assert_eq!(sent.len(), before + 1);
    let size = sent.last().unwrap().fields.iter().find(|(k, _)| k == "size").map(|(_, v)| v.clone());
    assert_eq!(size.as_deref(), Some("1536x1024"));
    // An image→image template on the text→image endpoint is a clear 400.
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "x", "model": "style-02" })), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("/v1/images/edits"), "{v}");
}

/// Without a provider there is no text→image: the OpenAI endpoint says what is missing, and
/// the providers' templates are not listed.
pub async fn no_provider_no_text_to_image(b: Backend) {
    let app = spawn_app(b, |c| c.workers = 0).await;
    let c = client();
    app.sign_up(&c, "plain@example.com").await;
    let me = user_id(&app, "plain@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "a quiet harbour" })), &[]).await;
    assert_eq!((s, v["error"]["type"].as_str()), (400, Some("invalid_request_error")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("no text-to-image template"), "{v}");
    let (_, list, _) = api(&app, "GET", "/api/v1/templates", Some(&secret), None, &[]).await;
    let ids: Vec<&str> = list["results"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 55, "the 52 style templates, any-style and the two local video templates: {ids:?}");
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "openai-image", "prompt": "x" })), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("not available"), "{v}");
    assert_eq!(charges(&app, &me).await, 0);
}

/// The editor: administrators only; every change audited; bad fields named; the price and the
/// prompt template are what generations get; uses counted; an archived template is refused but
/// its results stay; ordering moves one place.
pub async fn templates_are_the_operators_data(b: Backend) {
    let oa = provider_standin::spawn().await;
    let base = oa.base.clone();
    let app = spawn_app(b, move |c| {
        c.signup_grant = 100;
        c.openai_api_key = Some(provider_standin::KEY.into());
        c.openai_api_base = base;
        c.provider_backoff_ms = 10;
    })
    .await;
    let (member, admin) = (client(), client());
    app.sign_up(&member, "maker@example.com").await;
    app.sign_up(&admin, "operator@example.com").await;
    let me = user_id(&app, "maker@example.com").await;
    let boss = user_id(&app, "operator@example.com").await;
    app.state.store.set_role(&boss, "admin").await.unwrap();
    let (_, secret) = new_key(&app, &member, &[]).await;

    let form = |id: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("id", id),
            ("name", "OpenAI: text to image"),
            ("description", "A new image from your prompt."),
            ("mode", "text_to_image"),
            ("generator", "openai"),
            ("fallbacks", ""),
            ("params", "{}"),
            ("prompt_template", "{prompt}"),
            ("negative_prompt", ""),
            ("cost", ""),
            ("position", ""),
            ("preview_url", ""),
        ];
        for (k, v) in extra {
            f.retain(|(fk, _)| fk != k);
            f.push((k, v));
        }
        f
    };
    // A member cannot read or change the templates.
    let (s, _) = app.call(&member, "admin_templates", &[]).await;
    assert_eq!(s, 403);
    let (s, _) = app.call(&member, "save_template", &form("openai-image", &[("cost", "0")])).await;
    assert_eq!(s, 403);
    // The administrator sees them all, with use counts.
    let (s, page) = app.call(&admin, "admin_templates", &[]).await;
    assert_eq!(s, 200, "{page}");
    let rows = page["templates"].as_array().unwrap();
    assert_eq!(rows.len(), 65, "the seeded catalogue");
    let gemini = rows.iter().find(|t| t["id"] == "gemini-image").unwrap();
    assert_eq!(gemini["available"], false, "Gemini is not configured here");

    // Bad fields are named, nothing saved.
    for (extra, says) in [
        (vec![("id", "Bad Id"), ("create", "1")], "id"),
        (vec![("params", "[1, 2]")], "JSON object"),
        (vec![("cost", "-3")], "cost"),
        (vec![("generator", "local-style")], "does not make"),
        (vec![("preview_url", "javascript:alert(1)")], "preview"),
    ] {
        let mut f = form("openai-image", &[]);
        for (k, v) in extra {
            f.retain(|(fk, _)| *fk != k);
            f.push((k, v));
        }
        let (s, v) = app.call(&admin, "save_template", &f).await;
        assert_eq!(s, 400, "{says}: {v}");
        assert!(v.to_string().contains(says), "{says}: {v}");
    }
    // The price and the prompt template.
    let (s, v) = app.call(&admin, "save_template", &form("openai-image", &[("cost", "7"), ("prompt_template", "a watercolour of {prompt}, soft light")])).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["effective_cost"], 7);
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "openai-image", "prompt": "a lighthouse" })), &[]).await;
    assert_eq!((s, v["cost"].as_i64()), (201, Some(7)), "{v}");
    let first = v["id"].as_str().unwrap().to_string();
    assert_eq!(finished(&app, &secret, &first).await["status"], "succeeded");
    let sent = oa.received();
    let prompt = sent.last().unwrap().fields.iter().find(|(k, _)| k == "prompt").map(|(_, v)| v.clone());
    assert_eq!(prompt.as_deref(), Some("a watercolour of a lighthouse, soft light"), "the operator's words around the member's");
    let job = app.state.store.job(&first, &me).await.unwrap();
    assert_eq!(job.prompt, "a lighthouse", "the member's prompt is the title");
    assert_eq!(charges(&app, &me).await, 1);
    assert_eq!(app.state.store.user(&me).await.unwrap().balance, 100 - 7, "the template's price");
    assert_eq!(app.state.store.template_uses().await.unwrap().get("openai-image"), Some(&1), "counted from its jobs");

    // A new template (at the end), then moved up one place.
    let (s, v) = app.call(&admin, "save_template", &form("harbour-nights", &[("create", "1"), ("name", "Harbour nights"), ("prompt_template", "{prompt}, a harbour at night")])).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.call(&admin, "save_template", &form("harbour-nights", &[("create", "1")])).await;
    assert_eq!(s, 409, "the id exists: {v}");
    let order = || async { app.state.store.templates(false).await.unwrap().into_iter().map(|t| t.id).collect::<Vec<_>>() };
    let before = order().await;
    assert_eq!(before.last().map(String::as_str), Some("harbour-nights"));
    let (s, _) = app.call(&admin, "move_template", &[("id", "harbour-nights"), ("step", "-1")]).await;
    assert_eq!(s, 200);
    let after = order().await;
    assert_eq!(after[after.len() - 2], "harbour-nights");
    assert_eq!(after[after.len() - 1], before[before.len() - 2]);

    // Archived: no longer offered (and not free), its results still shown.
    let (s, _) = app.call(&admin, "save_template", &form("openai-image", &[("cost", "7"), ("archived", "on")])).await;
    assert_eq!(s, 200);
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "openai-image", "prompt": "again" })), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("no longer offered"), "{v}");
    assert_eq!(charges(&app, &me).await, 1, "nothing charged for it");
    let (s, v, _) = api(&app, "GET", &format!("/api/v1/generations/{first}"), Some(&secret), None, &[]).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("succeeded")));
    assert!(v["output"].as_array().is_some_and(|o| !o.is_empty()), "{v}");
    let (_, list, _) = api(&app, "GET", "/api/v1/templates", Some(&secret), None, &[]).await;
    assert!(list["results"].as_array().unwrap().iter().all(|t| t["id"] != "openai-image"));
    // OpenAI's model names now mean the next text→image template.
    let (s, v, _) = api(&app, "POST", "/v1/images/generations", Some(&secret), Some(json!({ "prompt": "boats", "model": "dall-e-3" })), &[]).await;
    assert_eq!(s, 200, "{v}");
    let prompt = oa.received().last().unwrap().fields.iter().find(|(k, _)| k == "prompt").map(|(_, v)| v.clone());
    assert_eq!(prompt.as_deref(), Some("boats, a harbour at night"));

    // Every change is in the audit log, with the administrator.
    let mut audit = app.state.store.audit_entries("", 1000).await.unwrap();
    audit.retain(|e| e.action.starts_with("templates."));
    audit.reverse();
    let actions: Vec<(&str, &str)> = audit.iter().map(|e| (e.action.as_str(), e.target.as_str())).collect();
    assert_eq!(
        actions,
        [("templates.update", "openai-image"), ("templates.create", "harbour-nights"), ("templates.move", "harbour-nights"), ("templates.update", "openai-image")]
    );
    assert!(audit.iter().all(|e| e.actor_id.as_deref() == Some(boss.as_str())));
    assert!(audit[0].reason.contains("7 credits") && audit[0].reason.contains("text_to_image"), "{:?}", audit[0]);
}

/// "Run again" makes a new generation of the same template and inputs, charged again, once per
/// key; "Use as input" takes a result as the photo of a new one (stored as a new upload); the
/// list of unfinished jobs carries the template's typical run time for the ETA.
pub async fn run_again_and_use_as_input(b: Backend) {
    let oa = provider_standin::spawn().await;
    let base = oa.base.clone();
    let app = spawn_app(b, move |c| {
        c.signup_grant = 100;
        c.openai_api_key = Some(provider_standin::KEY.into());
        c.openai_api_base = base;
    })
    .await;
    let c = client();
    app.sign_up(&c, "again@example.com").await;
    let me = user_id(&app, "again@example.com").await;
    let (_, secret) = new_key(&app, &c, &[]).await;
    let balance = || async { app.state.store.user(&me).await.unwrap().balance };
    let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "openai-image", "prompt": "a red kite" })), &[]).await;
    assert_eq!(s, 201, "{v}");
    let first = v["id"].as_str().unwrap().to_string();
    assert_eq!(finished(&app, &secret, &first).await["status"], "succeeded");
    assert_eq!(balance().await, 95);

    // Run again: the same template and prompt, a new job, charged again; the same key once.
    let (_, item) = app.call(&c, "get_job", &[("id", &first)]).await;
    let key = item["again_key"].as_str().unwrap().to_string();
    assert!(!key.is_empty());
    for _ in 0..2 {
        let (s, v) = app.call(&c, "run_again", &[("id", &first), ("idempotency_key", &key)]).await;
        assert!(s < 400, "{s} {v}");
    }
    let jobs = app.state.store.jobs_for_user(&me, None, None, 10).await.unwrap();
    assert_eq!(jobs.len(), 2, "one new job for one key");
    let again = jobs.iter().find(|j| j.id != first).unwrap();
    assert_eq!((again.template_id.as_deref(), again.prompt.as_str(), again.upload_id.as_deref()), (Some("openai-image"), "a red kite", None));
    assert_eq!(finished(&app, &secret, &again.id).await["status"], "succeeded");
    assert_eq!(balance().await, 90, "charged again");
    let prompts: Vec<String> = oa.received().iter().filter_map(|r| r.fields.iter().find(|(k, _)| k == "prompt").map(|(_, v)| v.clone())).collect();
    assert_eq!(prompts, ["a red kite", "a red kite"]);

    // Use as input: the result is the photo of a style generation from the web form.
    let form = reqwest::multipart::Form::new().text("input_job", first.clone()).text("style", "4").text("rights", "on").text("idempotency_key", "use-input");
    let r = c.post(format!("{}/generations", app.base)).header("accept", "application/json").multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let job: Value = r.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_done(&c, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let stored = app.state.store.job(&id, &me).await.unwrap();
    let upload = app.state.store.upload(stored.upload_id.as_deref().unwrap(), &me).await.unwrap();
    assert_eq!((upload.width, upload.height), (1024, 1024), "the provider's result, stored as the photo");
    assert_eq!(stored.template_id.as_deref(), Some("style-05"));
    // Run again of an image→image job reuses its photo (the upload gate runs on it again).
    let (_, item) = app.call(&c, "get_job", &[("id", &id)]).await;
    let (s, v) = app.call(&c, "run_again", &[("id", &id), ("idempotency_key", item["again_key"].as_str().unwrap())]).await;
    assert!(s < 400, "{s} {v}");
    let newest = &app.state.store.jobs_for_user(&me, None, None, 1).await.unwrap()[0];
    assert_eq!((newest.upload_id.as_deref(), newest.style), (stored.upload_id.as_deref(), 4));
    // Someone else's result is not an input.
    let other = client();
    app.sign_up(&other, "other@example.com").await;
    let form = reqwest::multipart::Form::new().text("input_job", first.clone()).text("style", "1").text("rights", "on").text("idempotency_key", "steal");
    let r = other.post(format!("{}/generations", app.base)).header("accept", "application/json").multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // The template's typical run is known now (two succeeded runs).
    assert!(app.state.store.typical_run_ms("openai-image").await.unwrap().is_some());
}

/// An administrator makes a template's preview by running it: the local network on the sample
/// photo, a provider's text→image template on the sample prompt (the stand-in gets it), free
/// of charge, audited; the preview is a square JPEG served to anyone, cached for good under a
/// content-hashed name, and the old one goes when a new one is made. Members cannot. A
/// member's queued job says how many are ahead of it, and the count falls as they finish.
pub async fn previews_are_made_by_running_the_template(b: Backend) {
    let oa = provider_standin::spawn().await;
    let base = oa.base.clone();
    let app = spawn_app(b, move |c| {
        c.signup_grant = 100;
        c.openai_api_key = Some(provider_standin::KEY.into());
        c.openai_api_base = base;
        c.workers = 0;
    })
    .await;
    let (member, admin) = (client(), client());
    app.sign_up(&member, "maker@example.com").await;
    app.sign_up(&admin, "operator@example.com").await;
    let boss = user_id(&app, "operator@example.com").await;
    app.state.store.set_role(&boss, "admin").await.unwrap();

    let (s, _) = app.call(&member, "make_template_preview", &[("id", "style-03")]).await;
    assert_eq!(s, 403, "members cannot");
    let (s, v) = app.call(&admin, "make_template_preview", &[("id", "no-such-template")]).await;
    assert_eq!(s, 404, "{v}");

    let mut urls = vec![];
    for id in ["style-03", "openai-image", "openai-image"] {
        let (s, v) = app.call(&admin, "make_template_preview", &[("id", id)]).await;
        assert_eq!(s, 200, "{id}: {v}");
        let url = v["preview_url"].as_str().unwrap().to_string();
        assert!(url.starts_with(&format!("/template-previews/{id}-")) && url.ends_with(".jpg"), "{url}");
        // Anyone may fetch it (the catalogue is public), cached for good.
        let r = reqwest::get(format!("{}{url}", app.base)).await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
        let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (320, 320));
        assert_eq!(app.state.store.template(id).await.unwrap().preview_url, url);
        urls.push(url);
    }
    // The provider was asked with the sample prompt, for the administrator under an opaque id.
    let sent = oa.received();
    assert_eq!(sent.len(), 2);
    let field = |r: &provider_standin::Received, k: &str| r.fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(field(&sent[0], "prompt"), darkroom_service::templates::PREVIEW_PROMPT);
    assert!(!field(&sent[0], "user").contains("operator"), "no email leaves");
    // The local one is the network's output, not the photo: it differs from the sample.
    let local = reqwest::get(format!("{}{}", app.base, urls[0])).await.unwrap().bytes().await.unwrap();
    let local = image::load_from_memory(&local).unwrap().into_rgb8();
    let sample = image::load_from_memory(&sample("chelsea.png")).unwrap().into_rgb8();
    let side = sample.width().min(sample.height());
    let crop = image::imageops::crop_imm(&sample, (sample.width() - side) / 2, (sample.height() - side) / 2, side, side).to_image();
    let crop = image::imageops::resize(&crop, 320, 320, image::imageops::FilterType::Triangle);
    let diff: f64 = local.as_raw().iter().zip(crop.as_raw()).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>() / local.as_raw().len() as f64;
    assert!(diff > 10.0, "the style changed the photo (mean difference {diff:.1})");
    // A new preview replaces the old file (the stand-in paints the same prompt alike, so the
    // second may be the same file; when it differs, the first is gone).
    if urls[1] != urls[2] {
        assert_eq!(reqwest::get(format!("{}{}", app.base, urls[1])).await.unwrap().status().as_u16(), 404);
    }
    // Free, audited with the administrator and who made it.
    assert_eq!(app.state.store.user(&boss).await.unwrap().balance, 100);
    let mut audit = app.state.store.audit_entries("", 1000).await.unwrap();
    audit.retain(|e| e.action == "templates.preview");
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|e| e.actor_id.as_deref() == Some(boss.as_str())));
    assert!(audit.iter().any(|e| e.target == "style-03" && e.reason.contains("local-style")), "{:?}", audit);
    // Malformed names are refused without a lookup.
    for bad in ["../secrets.jpg", "x.png", "UPPER.jpg"] {
        assert_eq!(reqwest::get(format!("{}/template-previews/{bad}", app.base)).await.unwrap().status().as_u16(), 404, "{bad}");
    }

    // The queue position, as the job card asks for it (workers are off: nothing moves
    // unless the jobs ahead end).
    let (_, secret) = new_key(&app, &member, &[]).await;
    let mut ids = vec![];
    for n in 0..3 {
        let (s, v, _) = api(&app, "POST", "/api/v1/generations", Some(&secret), Some(json!({ "template": "openai-image", "prompt": format!("kite {n}") })), &[]).await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let position = |id: String| {
        let (app, member) = (&app, &member);
        async move { app.call(member, "queue_position", &[("id", &id)]).await }
    };
    assert_eq!(position(ids[2].clone()).await, (200, json!(2)));
    let (s, _) = app.call(&member, "cancel_job", &[("id", &ids[0])]).await;
    assert!(s < 400);
    assert_eq!(position(ids[2].clone()).await, (200, json!(1)), "one fewer ahead");
    assert_eq!(position(ids[0].clone()).await, (200, Value::Null), "not queued any more");
    let (s, _) = app.call(&admin, "queue_position", &[("id", &ids[2])]).await;
    assert_eq!(s, 404, "only the owner's jobs");
}

/// The 26 styles are named by their templates (`style-01` … `style-26`, operator data): the
/// create page's picker, the filters, a result's label and `GET /api/v1/styles` show their
/// names; a page in German shows the templates' German (seeded for the built-ins). An
/// administrator's rename and translation show at once; a translation that is not a JSON object
/// of language tags is refused; an archived style is no longer offered, and its results keep
/// their label.
pub async fn styles_are_named_by_their_templates(b: Backend) {
    let app = spawn_app(b, |c| c.signup_grant = 100).await;
    let (member, admin) = (client(), client());
    app.sign_up(&member, "painter@example.com").await;
    app.sign_up(&admin, "curator@example.com").await;
    let boss = user_id(&app, "curator@example.com").await;
    app.state.store.set_role(&boss, "admin").await.unwrap();
    let (_, secret) = new_key(&app, &member, &[]).await;
    let picker = |c: &'static str| {
        let (app, c) = (&app, if c == "member" { &member } else { &admin });
        async move {
            let (s, page) = app.call(c, "load_create_page", &[]).await;
            assert_eq!(s, 200, "{page}");
            page
        }
    };
    let api_name = || async {
        let (s, v, _) = api(&app, "GET", "/api/v1/styles", Some(&secret), None, &[]).await;
        assert_eq!(s, 200, "{v}");
        v["results"].as_array().unwrap().iter().find(|s| s["index"] == 7).map(|s| s["name"].as_str().unwrap().to_string())
    };

    // English by default: the seeded names, no "Style 8".
    let page = picker("member").await;
    let styles = page["styles"].as_array().unwrap();
    assert_eq!(styles.len(), 26);
    assert_eq!((styles[7]["index"].as_i64(), styles[7]["name"].as_str()), (Some(7), Some("Night Gold")));
    assert!(styles[7]["description"].as_str().unwrap().starts_with("Black, gold and red"), "{}", styles[7]);
    assert_eq!(app.call(&member, "style_names", &[]).await.1[7], "Night Gold");
    assert_eq!(api_name().await.as_deref(), Some("Night Gold"));
    let (s, job) = app.submit(&member, sample("coffee.png"), &[("rights", "on"), ("style", "7"), ("idempotency_key", "n1")]).await;
    assert_eq!(s, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let label = |c: &'static str| {
        let (app, id) = (&app, id.clone());
        let c = if c == "member" { &member } else { &admin };
        async move { app.call(c, "get_job", &[("id", &id)]).await.1["style_label"].as_str().map(str::to_string) }
    };
    assert_eq!(label("member").await.as_deref(), Some("Night Gold"));

    // In German: the templates' German, the styles' and the other templates'.
    let (s, v) = app.call(&member, "set_preferences", &[("theme", "system"), ("language", "de")]).await;
    assert!(s < 400, "{v}");
    let page = picker("member").await;
    assert_eq!(page["styles"][7]["name"], "Nachtgold");
    assert!(page["styles"][7]["description"].as_str().unwrap().starts_with("Schwarz, Gold und Rot"), "{}", page["styles"][7]);
    let video = page["templates"].as_array().unwrap().iter().find(|t| t["id"] == "photo-to-video").unwrap();
    assert_eq!(video["name"], "Foto zu Video");
    assert_eq!(app.call(&member, "style_names", &[]).await.1[7], "Nachtgold");
    assert_eq!(label("member").await.as_deref(), Some("Nachtgold"));
    assert_eq!(api_name().await.as_deref(), Some("Night Gold"), "the API speaks English");

    // The administrator renames it, with a German name only: the German page falls back to the
    // stored description.
    let form = |name: &'static str, translations: &'static str, archived: bool| {
        let mut f = vec![
            ("id", "style-08"),
            ("name", name),
            ("description", "Gilded strokes on a black night."),
            ("mode", "image_to_image"),
            ("generator", "local-style"),
            ("fallbacks", ""),
            ("params", r#"{"style": 7, "strength": 1.0, "preserve_color": false}"#),
            ("prompt_template", ""),
            ("negative_prompt", ""),
            ("cost", ""),
            ("position", ""),
            ("preview_url", "/previews/style-07.jpg"),
            ("translations", translations),
        ];
        if archived {
            f.push(("archived", "on"));
        }
        f
    };
    for (translations, says) in [(r#"{"de": 3}"#, "translations"), (r#"{"German": {"name": "Gold"}}"#, "language tag"), (r#"{"de": {"title": "Gold"}}"#, "translations")] {
        let (s, v) = app.call(&admin, "save_template", &form("Midnight Gilt", translations, false)).await;
        assert_eq!(s, 400, "{translations}: {v}");
        assert!(v.to_string().contains(says), "{says}: {v}");
    }
    assert_eq!(api_name().await.as_deref(), Some("Night Gold"), "nothing saved");
    let (s, v) = app.call(&admin, "save_template", &form("Midnight Gilt", r#"{"de": {"name": "Mitternachtsgold"}}"#, false)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["translations"], r#"{"de":{"name":"Mitternachtsgold"}}"#);
    assert_eq!(api_name().await.as_deref(), Some("Midnight Gilt"));
    let page = picker("member").await;
    assert_eq!((page["styles"][7]["name"].as_str(), page["styles"][7]["description"].as_str()), (Some("Mitternachtsgold"), Some("Gilded strokes on a black night.")));
    assert_eq!(label("member").await.as_deref(), Some("Mitternachtsgold"));
    assert_eq!(picker("admin").await["styles"][7]["name"], "Midnight Gilt", "English for the English page");

    // Archived: out of the picker and the API's list; the result keeps its label.
    let (s, v) = app.call(&admin, "save_template", &form("Midnight Gilt", "", true)).await;
    assert_eq!(s, 200, "{v}");
    let page = picker("member").await;
    let offered = page["styles"].as_array().unwrap();
    assert_eq!(offered.len(), 25);
    assert!(offered.iter().all(|s| s["index"] != 7));
    assert_eq!(api_name().await, None);
    assert_eq!(label("member").await.as_deref(), Some("Midnight Gilt"), "no German any more: the stored name");
    assert_eq!(app.call(&member, "style_names", &[]).await.1[7], "Midnight Gilt");
}

on_both!(
    text_to_image_through_every_provider,
    no_provider_no_text_to_image,
    templates_are_the_operators_data,
    run_again_and_use_as_input,
    previews_are_made_by_running_the_template,
    styles_are_named_by_their_templates
);
on_s3!(previews_are_made_by_running_the_template);
