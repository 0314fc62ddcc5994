//! `GET /api/v1/openapi.json` (the OpenAPI 3.1 document, public) and `GET /api/v1/docs`, a
//! page that renders it: every operation with its parameters, bodies and answers, then the
//! schemas, and copy-paste examples.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

/// The document, serialised once at start-up.
#[derive(Clone)]
pub struct Doc(pub Arc<String>);

pub async fn openapi_json(State(doc): State<Doc>) -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")], doc.0.as_str().to_owned()).into_response()
}

/// Completes the generated document with what every operation shares and the derive macros
/// cannot say: the error answers the layer and axum's extractors send (400 bad input, 401
/// no or bad key, 403 scope or standing, 404 for an id, 413 a body over the limit, 429 with
/// `Retry-After`, 500), each with the route family's error body; that a JSON generation takes
/// exactly one of `image` and `upload_id`; the ids `template` and `model` accept (`models`);
/// and that multipart fields are never `null` (a form field is text or absent).
pub fn complete(doc: &mut Value, models: &[String]) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let body = if path.starts_with("/v1/") { "#/components/schemas/OpenAiErrorBody" } else { "#/components/schemas/ErrorBody" };
        let Some(ops) = item.as_object_mut() else { continue };
        for (_, op) in ops.iter_mut() {
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            let mut common = vec![
                ("400", "Bad input: a parameter, the body or its encoding"),
                ("401", "Missing or invalid API key"),
                ("403", "The key lacks the scope, or the account is restricted or suspended"),
                ("429", "Rate limited: retry after `Retry-After` seconds"),
                ("500", "Server error"),
            ];
            common.push(("404", "Not found (or not yours): an id in the path or the body"));
            if has_body {
                common.push(("413", "The body is over the size limit"));
            }
            for (status, description) in common {
                responses.entry(status).or_insert_with(|| {
                    let mut r = serde_json::json!({ "description": description, "content": { "application/json": { "schema": { "$ref": body } } } });
                    if status == "429" {
                        r["headers"] = serde_json::json!({ "Retry-After": { "description": "Seconds to wait", "schema": { "type": "integer" } } });
                    }
                    r
                });
            }
        }
    }
    let one_of = serde_json::json!([
        { "required": ["image"], "not": { "required": ["upload_id"] } },
        { "required": ["upload_id"], "not": { "required": ["image"] } }
    ]);
    // The multipart form says it in words: validators of `oneOf`/`not` cannot judge binary
    // parts (schemathesis 4 fails on them).
    if let Some(schema) = doc.pointer_mut("/components/schemas/CreateGeneration").and_then(Value::as_object_mut) {
        schema.insert("oneOf".into(), one_of);
    }
    // The template ids: every model value but OpenAI's names, `darkroom` and the empty one.
    let templates: Vec<&String> = models.iter().filter(|m| !m.is_empty() && m.as_str() != "darkroom" && !m.starts_with("dall-e") && !m.starts_with("gpt-image")).collect();
    // An empty form field is an absent one (the form reader drops it).
    let form_templates: Vec<&str> = templates.iter().map(|t| t.as_str()).chain([""]).collect();
    for (schema, field, ids) in [
        ("CreateGeneration", "template", serde_json::json!(templates)),
        ("CreateGenerationForm", "template", serde_json::json!(form_templates)),
        ("CreateImageRequest", "model", serde_json::json!(models)),
        ("CreateImageEditRequest", "model", serde_json::json!(models)),
    ] {
        if let Some(prop) = doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}")).and_then(Value::as_object_mut) {
            let mut ids = ids;
            if prop.get("type").is_some_and(|t| t.as_array().is_some_and(|a| a.iter().any(|v| v == "null"))) {
                ids.as_array_mut().into_iter().for_each(|a| a.push(Value::Null));
            }
            prop.insert("enum".into(), ids);
        }
    }
    // Form fields are text or absent, never JSON's null.
    for name in ["CreateGenerationForm", "CreateImageEditRequest", "UploadForm"] {
        let Some(props) = doc.pointer_mut(&format!("/components/schemas/{name}/properties")).and_then(Value::as_object_mut) else { continue };
        for (_, prop) in props.iter_mut() {
            if let Some(types) = prop.get("type").and_then(Value::as_array).cloned() {
                let kept: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
                prop["type"] = if kept.len() == 1 { kept[0].clone() } else { Value::Array(kept) };
            }
            if let Some(values) = prop.get_mut("enum").and_then(Value::as_array_mut) {
                values.retain(|v| !v.is_null());
            }
        }
    }
    // Given, `image` (base64) and `upload_id` are text with something in it.
    for (name, fields) in [("CreateGeneration", &["image", "upload_id"][..]), ("CreateGenerationForm", &["upload_id"][..])] {
        for field in fields {
            if let Some(prop) = doc.pointer_mut(&format!("/components/schemas/{name}/properties/{field}")).and_then(Value::as_object_mut) {
                prop.insert("type".into(), "string".into());
                prop.insert("minLength".into(), 1.into());
            }
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `#/components/schemas/Name` → a link to the schema; inline schemas as JSON.
fn schema_html(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\"><code>{0}</code></a>", esc(name));
    }
    format!("<code>{}</code>", esc(&schema.to_string()))
}

/// The docs page's HTML for an OpenAPI document; `css` is the stylesheet's URL.
pub fn render(doc: &Value, css: &str) -> String {
    let mut h = String::new();
    let title = doc.pointer("/info/title").and_then(Value::as_str).unwrap_or("API");
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} reference</title><link rel=\"stylesheet\" href=\"{css}\"></head><body><main class=\"page api-docs\">\
         <h1>{t}</h1><p>{d}</p><p>The machine-readable document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI {v}). \
         Keys, webhooks and your request log: <a href=\"/settings/api\">API keys</a>.</p>",
        t = esc(title),
        d = esc(doc.pointer("/info/description").and_then(Value::as_str).unwrap_or("")),
        v = esc(doc.get("openapi").and_then(Value::as_str).unwrap_or("3.1")),
    );
    h.push_str(
        "<h2>Quick start</h2><pre><code>curl -X POST $BASE/api/v1/generations \\\n  -H \"Authorization: Bearer $DARKROOM_KEY\" \\\n  -H \"Idempotency-Key: $(uuidgen)\" \\\n  -F image=@photo.jpg -F template=style-07\n\n\
         curl $BASE/api/v1/generations/$ID -H \"Authorization: Bearer $DARKROOM_KEY\"</code></pre>",
    );
    h.push_str("<h2>Operations</h2>");
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(ops) = item.as_object() else { continue };
            for (method, op) in ops {
                let _ = write!(
                    h,
                    "<section class=\"api-op\" id=\"{id}\"><h3><code>{m} {p}</code></h3><p>{s}</p>",
                    id = esc(op.get("operationId").and_then(Value::as_str).unwrap_or("")),
                    m = esc(&method.to_uppercase()),
                    p = esc(path),
                    s = esc(op.get("description").or_else(|| op.get("summary")).and_then(Value::as_str).unwrap_or("")),
                );
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    h.push_str("<h4>Parameters</h4><ul>");
                    for p in params {
                        let _ = write!(
                            h,
                            "<li><code>{}</code> ({}{}) {}</li>",
                            esc(p.get("name").and_then(Value::as_str).unwrap_or("")),
                            esc(p.get("in").and_then(Value::as_str).unwrap_or("")),
                            if p.get("required").and_then(Value::as_bool) == Some(true) { ", required" } else { "" },
                            esc(p.get("description").and_then(Value::as_str).unwrap_or("")),
                        );
                    }
                    h.push_str("</ul>");
                }
                if let Some(content) = op.pointer("/requestBody/content").and_then(Value::as_object) {
                    h.push_str("<h4>Body</h4><ul>");
                    for (ct, c) in content {
                        let _ = write!(h, "<li><code>{}</code>: {}</li>", esc(ct), c.get("schema").map(schema_html).unwrap_or_default());
                    }
                    h.push_str("</ul>");
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    h.push_str("<h4>Answers</h4><ul>");
                    for (code, r) in responses {
                        let schema = r.pointer("/content/application~1json/schema").map(schema_html).unwrap_or_default();
                        let _ = write!(h, "<li><b>{}</b> {} {}</li>", esc(code), esc(r.get("description").and_then(Value::as_str).unwrap_or("")), schema);
                    }
                    h.push_str("</ul>");
                }
                h.push_str("</section>");
            }
        }
    }
    h.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, s) in schemas {
            let pretty = serde_json::to_string_pretty(s).unwrap_or_default();
            let _ = write!(h, "<section id=\"schema-{n}\"><h3><code>{n}</code></h3><pre><code>{}</code></pre></section>", esc(&pretty), n = esc(name));
        }
    }
    h.push_str("</main></body></html>");
    h
}

/// The rendered page, made once at start-up.
#[derive(Clone)]
pub struct Page(pub Arc<String>);

pub async fn page(State(p): State<Page>) -> Html<String> {
    Html(p.0.as_str().to_owned())
}
