//! The API keys page (`/settings/api`, SPEC §9): create a key (secret shown once), list and
//! revoke keys with their spending, set each key's webhook, see deliveries (resend) and the
//! request log, and copy-paste examples.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::keys::{api_keys_page, CreateApiKey, KeyView, ResendDelivery, RevokeApiKey, SetKeyWebhook};
use crate::pages::{format_time, server_message, MembersOnly};

#[component]
pub fn KeysPage() -> impl IntoView {
    view! {
        <Title text="API keys · Darkroom"/>
        <MembersOnly>
            <Keys/>
        </MembersOnly>
    }
}

#[component]
fn Keys() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let webhook = ServerAction::<SetKeyWebhook>::new();
    let resend = ServerAction::<ResendDelivery>::new();
    let page = Resource::new(
        move || (create.version().get(), revoke.version().get(), webhook.version().get(), resend.version().get()),
        |_| api_keys_page(),
    );
    view! {
        <section class="page">
            <h1>"API keys"</h1>
            <p class="muted">"Keys let your own software create generations with your credits. Reference: "
                <a href="/api/v1/docs" rel="external" data-testid="api-docs-link">"API documentation"</a>" · "
                <a href="/api/v1/openapi.json" rel="external">"OpenAPI document"</a></p>
            <h2>"New key"</h2>
            <ActionForm action=create attr:class="stack" attr:data-testid="key-form">
                <label>"Name " <input type="text" name="name" required maxlength="60" placeholder="My app" data-testid="key-name"/></label>
                <fieldset class="row">
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" name="scope_generate" checked/>" generate (create, cancel, delete, upload)"</label>
                    <label><input type="checkbox" name="scope_read" checked/>" read"</label>
                </fieldset>
                <label>"Credit cap (optional) " <input type="number" name="cap_credits" min="0" step="1" data-testid="key-cap"/></label>
                <label>"per "
                    <select name="cap_period">
                        <option value="day">"day (UTC)"</option>
                        <option value="month" selected>"month"</option>
                    </select>
                </label>
                <label>"Expires "
                    <select name="expires_days">
                        <option value="never">"never"</option>
                        <option value="7">"in 7 days"</option>
                        <option value="30">"in 30 days"</option>
                        <option value="90">"in 90 days"</option>
                        <option value="365">"in a year"</option>
                    </select>
                </label>
                <label><input type="checkbox" name="rights" required data-testid="key-rights"/>
                    " I will only send images I have the rights and consent for."</label>
                <button type="submit" data-testid="key-create">"Create key"</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(k) => view! {
                    <p class="notice">"Copy your key now: it is shown once and cannot be shown again. "
                        <input type="text" readonly class="secret" value=k.secret.clone() data-testid="new-key-secret" aria-label="New API key"/>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
            })}
            {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! { <p class="notice error">{server_message(&e)}</p> })}
            {move || webhook.value().get().and_then(|r| r.err()).map(|e| view! { <p class="notice error" data-testid="webhook-error">{server_message(&e)}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let base = p.base_url.clone();
                        view! {
                            <h2>"Your keys"</h2>
                            {if p.keys.is_empty() {
                                view! { <p class="muted" data-testid="no-keys">"No keys yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="keys" data-testid="keys">
                                        {p.keys.into_iter().map(|k| view! { <KeyRow k revoke webhook/> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            <h2>"Webhook deliveries"</h2>
                            {if p.deliveries.is_empty() {
                                view! { <p class="muted">"None yet. Set an endpoint on a key to receive generation events."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="log" data-testid="deliveries">
                                        <thead><tr><th>"Time"</th><th>"Event"</th><th>"Generation"</th><th>"State"</th><th>"Attempts"</th><th>"Last answer"</th><th></th></tr></thead>
                                        <tbody>
                                            {p.deliveries.into_iter().map(|d| view! {
                                                <tr>
                                                    <td>{format_time(d.created_at)}</td>
                                                    <td>{d.event}</td>
                                                    <td><a href=format!("/gallery/{}", d.job_id)>{d.job_id.chars().take(8).collect::<String>()}</a></td>
                                                    <td data-testid="delivery-status">{d.status}</td>
                                                    <td>{d.attempts}</td>
                                                    <td>{d.last_status.map(|s| s.to_string()).or(d.last_error).unwrap_or_default()}</td>
                                                    <td>
                                                        <ActionForm action=resend attr:class="inline">
                                                            <input type="hidden" name="id" value=d.id/>
                                                            <button type="submit" class="link">"Resend"</button>
                                                        </ActionForm>
                                                    </td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <h2>"Requests"</h2>
                            {if p.requests.is_empty() {
                                view! { <p class="muted">"No API requests yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="log" data-testid="requests">
                                        <thead><tr><th>"Time"</th><th>"Key"</th><th>"Request"</th><th>"Status"</th><th>"Credits"</th></tr></thead>
                                        <tbody>
                                            {p.requests.into_iter().map(|r| view! {
                                                <tr>
                                                    <td>{format_time(r.created_at)}</td>
                                                    <td><code>{r.key_prefix}"…"</code></td>
                                                    <td><code>{format!("{} {}", r.method, r.route)}</code></td>
                                                    <td>{r.status}</td>
                                                    <td>{r.cost}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <Examples base cost=p.cost/>
                        }
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn KeyRow(k: KeyView, revoke: ServerAction<RevokeApiKey>, webhook: ServerAction<SetKeyWebhook>) -> impl IntoView {
    let state = if k.revoked { "revoked" } else if k.expired { "expired" } else { "active" };
    let cap = match (k.cap_credits, k.cap_period.as_deref()) {
        (Some(c), Some(p)) => format!("{} of {c} credits this {p}", k.spent),
        _ => format!("{} credits this month, no cap", k.spent),
    };
    let has = |e: &str| k.webhook_events.iter().any(|x| x == &format!("generation.{e}")) || k.webhook_url.is_none();
    let [ev_succeeded, ev_failed, ev_rejected, ev_canceled] = ["succeeded", "failed", "rejected", "canceled"].map(has);
    let live = !k.revoked && !k.expired;
    let (id1, id2, url, secret) = (k.id.clone(), k.id.clone(), k.webhook_url.clone().unwrap_or_default(), k.webhook_secret.clone());
    view! {
        <li class="key" data-testid="key">
            <p><strong>{k.name.clone()}</strong>" "<code data-testid="key-prefix">{k.prefix.clone()}"…"</code>" · "
                <span data-testid="key-state">{state}</span>" · "{k.scopes.join(", ")}</p>
            <p class="muted">{cap}" · last used "{k.last_used_at.map(format_time).unwrap_or_else(|| "never".into())}
                " · expires "{k.expires_at.map(format_time).unwrap_or_else(|| "never".into())}</p>
            {live.then(move || view! {
                <ActionForm action=revoke attr:class="inline">
                    <input type="hidden" name="id" value=id1/>
                    <button type="submit" class="danger" data-testid="key-revoke">"Revoke"</button>
                </ActionForm>
                <details>
                    <summary>"Webhook"</summary>
                    <ActionForm action=webhook attr:class="stack">
                        <input type="hidden" name="key_id" value=id2/>
                        <label>"HTTPS endpoint (empty removes it) "
                            <input type="url" name="url" value=url placeholder="https://example.com/hooks/darkroom" data-testid="webhook-url"/></label>
                        <fieldset class="row">
                            <legend>"Events"</legend>
                            <label><input type="checkbox" name="ev_succeeded" checked=ev_succeeded/>" succeeded"</label>
                            <label><input type="checkbox" name="ev_failed" checked=ev_failed/>" failed"</label>
                            <label><input type="checkbox" name="ev_rejected" checked=ev_rejected/>" rejected"</label>
                            <label><input type="checkbox" name="ev_canceled" checked=ev_canceled/>" canceled"</label>
                        </fieldset>
                        <button type="submit" data-testid="webhook-save">"Save webhook"</button>
                    </ActionForm>
                    {secret.map(|s| view! {
                        <p class="muted">"Signing secret (Standard Webhooks): "<code data-testid="webhook-secret">{s}</code></p>
                    })}
                </details>
            })}
        </li>
    }
}

/// Copy-paste examples: curl, Python, JavaScript.
#[component]
fn Examples(base: String, cost: i64) -> impl IntoView {
    let curl = format!(
        "# Create a generation ({cost} credits), then follow it\n\
         curl -X POST {base}/api/v1/generations \\\n  -H \"Authorization: Bearer $DARKROOM_KEY\" \\\n  -H \"Idempotency-Key: $(uuidgen)\" \\\n  -F image=@photo.jpg -F template=style-07\n\n\
         curl {base}/api/v1/generations/GENERATION_ID -H \"Authorization: Bearer $DARKROOM_KEY\""
    );
    let python = format!(
        "# pip install openai  (Darkroom speaks OpenAI's Images API)\n\
         import os\n\
         from openai import OpenAI\n\
         client = OpenAI(base_url=\"{base}/v1\", api_key=os.environ[\"DARKROOM_KEY\"])\n\
         result = client.images.edit(model=\"style-07\", image=open(\"photo.jpg\", \"rb\"), prompt=\"harbour at dusk\")\n\
         print(result.data[0].url)  # a signed URL, valid for an hour"
    );
    let js = format!(
        "const res = await fetch(\"{base}/api/v1/generations\", {{\n  method: \"POST\",\n  headers: {{\n    \"Authorization\": `Bearer ${{process.env.DARKROOM_KEY}}`,\n    \"Content-Type\": \"application/json\",\n    \"Idempotency-Key\": crypto.randomUUID(),\n  }},\n  body: JSON.stringify({{ image: photoBase64, template: \"style-07\" }}),\n}});\n\
         const generation = await res.json(); // {{ id, status: \"queued\", urls: {{ get, cancel }} }}"
    );
    view! {
        <h2>"Examples"</h2>
        <h3>"curl"</h3><pre><code data-testid="example-curl">{curl}</code></pre>
        <h3>"Python"</h3><pre><code>{python}</code></pre>
        <h3>"JavaScript"</h3><pre><code>{js}</code></pre>
    }
}
