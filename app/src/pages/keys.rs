//! The API keys page (`/settings/api`, SPEC §9): create a key (secret shown once), list and
//! revoke keys with their spending, set each key's webhook, see deliveries (resend) and the
//! request log, and copy-paste examples.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::keys::{api_keys_page, CreateApiKey, KeyView, KeysPage as KeysPageView, ResendDelivery, RevokeApiKey, SetKeyWebhook};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, server_message, MembersOnly};

#[component]
pub fn KeysPage() -> impl IntoView {
    // Made above `MembersOnly`, whose `Suspend` may run its children several times on the
    // server: a resource made inside was fetched once per run, and a webhook delivered
    // between two runs made the HTML and the hydrated data differ.
    let (create, revoke, webhook, resend) = (ServerAction::new(), ServerAction::new(), ServerAction::new(), ServerAction::new());
    crate::toast::toast_on_success(revoke, t("keys.revoked"));
    crate::toast::toast_on_success(webhook, t("settings.saved"));
    let page = Resource::new(
        move || (create.version().get(), revoke.version().get(), webhook.version().get(), resend.version().get()),
        |_| api_keys_page(),
    );
    let data = KeysData { create, revoke, webhook, resend, page };
    view! {
        <Title text=title("keys.title")/>
        <MembersOnly>
            <Keys data/>
        </MembersOnly>
    }
}

/// The page's actions, and its data (fetched again after each action).
#[derive(Clone, Copy)]
struct KeysData {
    create: ServerAction<CreateApiKey>,
    revoke: ServerAction<RevokeApiKey>,
    webhook: ServerAction<SetKeyWebhook>,
    resend: ServerAction<ResendDelivery>,
    page: Resource<Result<KeysPageView, ServerFnError>>,
}

#[component]
fn Keys(data: KeysData) -> impl IntoView {
    let KeysData { create, revoke, webhook, resend, page } = data;
    view! {
        <section class="page">
            <h1>{t("keys.title")}</h1>
            <p class="muted">{t("keys.lead")} " "
                <a href="/api/v1/docs" rel="external" data-testid="api-docs-link">{t("keys.docs")}</a>" · "
                <a href="/api/v1/openapi.json" rel="external">{t("keys.openapi")}</a></p>
            <h2>{t("keys.new")}</h2>
            <ActionForm action=create attr:class="stack" attr:data-testid="key-form">
                <label>{t("plans.name")} " " <input type="text" name="name" required maxlength="60" placeholder=t("keys.placeholder") data-testid="key-name"/></label>
                <fieldset class="row">
                    <legend>{t("keys.scopes")}</legend>
                    <label><input type="checkbox" name="scope_generate" checked/>" " {t("keys.scope_generate")}</label>
                    <label><input type="checkbox" name="scope_read" checked/>" " {t("keys.scope_read")}</label>
                </fieldset>
                <label>{t("keys.cap")} " " <input type="number" name="cap_credits" min="0" step="1" data-testid="key-cap"/></label>
                <label>{t("keys.per")} " "
                    <select name="cap_period">
                        <option value="day">{t("keys.day")}</option>
                        <option value="month" selected>{t("keys.month")}</option>
                    </select>
                </label>
                <label>{t("keys.expires")} " "
                    <select name="expires_days">
                        <option value="never">{t("never")}</option>
                        <option value="7">{t("keys.in7")}</option>
                        <option value="30">{t("keys.in30")}</option>
                        <option value="90">{t("keys.in90")}</option>
                        <option value="365">{t("keys.in365")}</option>
                    </select>
                </label>
                <label><input type="checkbox" name="rights" required data-testid="key-rights"/>
                    " " {t("keys.rights")}</label>
                <button type="submit" data-testid="key-create">{t("keys.create")}</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(k) => view! {
                    <p class="notice">{t("keys.copy")} " "
                        <input type="text" readonly class="secret" value=k.secret.clone() data-testid="new-key-secret" aria-label=t("keys.new_label")/>
                        " " <crate::pages::CopyButton text=k.secret.clone() testid="copy-secret"/>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="notice error">{server_message(&e)}</p> }.into_any(),
            })}
            {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! { <p class="notice error">{server_message(&e)}</p> })}
            {move || webhook.value().get().and_then(|r| r.err()).map(|e| view! { <p class="notice error" data-testid="webhook-error">{server_message(&e)}</p> })}
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let base = p.base_url.clone();
                        view! {
                            <h2>{t("keys.yours")}</h2>
                            {if p.keys.is_empty() {
                                view! { <p class="muted" data-testid="no-keys">{t("keys.none")}</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="keys" data-testid="keys">
                                        {p.keys.into_iter().map(|k| view! { <KeyRow k revoke webhook/> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            <h2>{t("keys.deliveries")}</h2>
                            {if p.deliveries.is_empty() {
                                view! { <p class="muted">{t("keys.no_deliveries")}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="log" data-testid="deliveries">
                                        <thead><tr><th>{t("col.time")}</th><th>{t("col.event")}</th><th>{t("col.generation")}</th><th>{t("col.state")}</th><th>{t("col.attempts")}</th><th>{t("col.last_answer")}</th><th></th></tr></thead>
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
                                                            <button type="submit" class="link">{t("keys.resend")}</button>
                                                        </ActionForm>
                                                    </td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <h2>{t("keys.requests")}</h2>
                            {if p.requests.is_empty() {
                                view! { <p class="muted">{t("keys.no_requests")}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="log" data-testid="requests">
                                        <thead><tr><th>{t("col.time")}</th><th>{t("col.key")}</th><th>{t("col.request")}</th><th>{t("col.status")}</th><th>{t("col.credits")}</th></tr></thead>
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
    let state = if k.revoked { t("share.revoked") } else if k.expired { t("share.expired") } else { t("keys.active") };
    let cap = match (k.cap_credits, k.cap_period.as_deref()) {
        (Some(c), Some(p)) => tf(if p == "day" { "keys.cap_day" } else { "keys.cap_month" }, &[("spent", &k.spent), ("cap", &c)]),
        _ => tf("keys.no_cap", &[("spent", &k.spent)]),
    };
    use crate::api::JobStatus;
    let has = |s: JobStatus| k.webhook_url.is_none() || s.webhook_event().is_some_and(|e| k.webhook_events.iter().any(|x| x == e));
    let [ev_succeeded, ev_failed, ev_rejected, ev_canceled] = [JobStatus::Succeeded, JobStatus::Failed, JobStatus::Rejected, JobStatus::Canceled].map(has);
    let live = !k.revoked && !k.expired;
    let (id1, id2, url, secret) = (k.id.clone(), k.id.clone(), k.webhook_url.clone().unwrap_or_default(), k.webhook_secret.clone());
    view! {
        <li class="key" data-testid="key">
            <p><strong>{k.name.clone()}</strong>" "<code data-testid="key-prefix">{k.prefix.clone()}"…"</code>" · "
                <span data-testid="key-state">{state}</span>" · "{k.scopes.join(", ")}</p>
            <p class="muted">{cap}" · "{t("keys.last_used")}" "{k.last_used_at.map(format_time).unwrap_or_else(|| t("never").into())}
                " · "{t("keys.expires_lc")}" "{k.expires_at.map(format_time).unwrap_or_else(|| t("never").into())}</p>
            {live.then(move || view! {
                <ActionForm action=revoke attr:class="inline">
                    <input type="hidden" name="id" value=id1/>
                    <button type="submit" class="danger" data-testid="key-revoke">{t("revoke")}</button>
                </ActionForm>
                <details>
                    <summary>{t("keys.webhook")}</summary>
                    <ActionForm action=webhook attr:class="stack">
                        <input type="hidden" name="key_id" value=id2/>
                        <label>{t("keys.endpoint")} " "
                            <input type="url" name="url" value=url placeholder="https://example.com/hooks/darkroom" data-testid="webhook-url"/></label>
                        <fieldset class="row">
                            <legend>{t("keys.events")}</legend>
                            <label><input type="checkbox" name="ev_succeeded" checked=ev_succeeded/>" succeeded"</label>
                            <label><input type="checkbox" name="ev_failed" checked=ev_failed/>" failed"</label>
                            <label><input type="checkbox" name="ev_rejected" checked=ev_rejected/>" rejected"</label>
                            <label><input type="checkbox" name="ev_canceled" checked=ev_canceled/>" canceled"</label>
                        </fieldset>
                        <button type="submit" data-testid="webhook-save">{t("keys.save_webhook")}</button>
                    </ActionForm>
                    {secret.map(|s| view! {
                        <p class="muted">{t("keys.signing")} " "<code data-testid="webhook-secret">{s}</code></p>
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
        <h2>{t("keys.examples")}</h2>
        <h3>"curl" " " <crate::pages::CopyButton text=curl.clone() testid="copy-curl"/></h3><pre tabindex="0"><code data-testid="example-curl">{curl}</code></pre>
        <h3>"Python" " " <crate::pages::CopyButton text=python.clone() testid="copy-python"/></h3><pre tabindex="0"><code>{python}</code></pre>
        <h3>"JavaScript" " " <crate::pages::CopyButton text=js.clone() testid="copy-js"/></h3><pre tabindex="0"><code>{js}</code></pre>
    }
}
