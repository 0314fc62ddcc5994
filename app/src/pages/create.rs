//! The create page: choose what to make (the styles over a photo, or one of the operator's
//! other templates: text→image, a provider's edit), give exactly the inputs it needs, see the
//! cost, submit, watch it develop. `?template=<id>` opens a template's form.
//!
//! The form posts `multipart/form-data` to `/generations` (a plain axum route with a body
//! limit, not a server function: uploads need streaming limits). It works without
//! JavaScript; with it, files can be dropped on the drop zone. The page then shows the job
//! live from the event stream.

use leptos::prelude::*;

use crate::i18n::t;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{list_jobs, load_create_page, CancelJob, CreateInfo, JobStatus, JobView, TemplateCard};
use crate::live::Live;
use crate::pages::MembersOnly;

#[component]
pub fn CreatePage() -> impl IntoView {
    view! {
        <Title text=crate::i18n::title("nav.create")/>
        <MembersOnly>
            <CreateForm/>
        </MembersOnly>
    }
}

#[component]
fn CreateForm() -> impl IntoView {
    let info = Resource::new(|| (), |_| load_create_page());
    let jobs = Resource::new(|| (), |_| list_jobs(None));
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error"));
    view! {
        <section class="page create">
            <h1>{t("nav.create")}</h1>
            {move || error().map(|e| view! { <p class="notice error" role="alert" data-testid="create-error">{e}</p> })}
            <Suspense fallback=|| view! { <p class="muted">{t("create.loading")}</p> }>
                // A failing loader lands in the global error boundary, not a blank page.
                {move || {
                    // Read before the await, so choosing another template re-renders the form.
                    let chosen_id = query.with(|q| q.get("template"));
                    // "Use as input": one of the member's results as the photo.
                    let input = query.with(|q| q.get("input")).filter(|i| !i.is_empty() && i.len() <= 64 && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
                    Suspend::new(async move {
                    info.await.map(|info| {
                        let chosen = chosen_id.and_then(|id| info.templates.iter().find(|t| t.id == id).cloned());
                        view! {
                            <div class="create-body">
                                <Chooser templates=info.templates.clone() chosen=chosen.as_ref().map(|t| t.id.clone())/>
                                {match chosen {
                                    Some(template) => view! { <TemplateForm info template input/> }.into_any(),
                                    None => view! { <Form info input/> }.into_any(),
                                }}
                            </div>
                        }
                    })
                })
                }}
            </Suspense>
            <h2>{t("create.recent")}</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = jobs.await.unwrap_or_default();
                    if list.is_empty() {
                        view! { <p class="muted">{t("create.empty")}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="jobs" data-testid="jobs">
                                {list.into_iter().take(8).map(|j| view! { <JobCard job=j/> }).collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

/// One of the member's results as the photo ("Use as input"): shown, and sent as
/// `input_job` (a photo chosen as well takes its place).
#[component]
fn InputResult(input: Option<String>) -> impl IntoView {
    input.map(|id| view! {
        <div class="input-result" data-testid="input-result">
            <input type="hidden" name="input_job" value=id.clone()/>
            <img src=format!("/media/{id}/w256.jpg") alt=t("create.input_result") width="128"/>
            <span>{t("create.input_result")}</span>
        </div>
    })
}

/// What to make: the styles (the default form) or one of the other templates, as links.
#[component]
fn Chooser(templates: Vec<TemplateCard>, chosen: Option<String>) -> impl IntoView {
    let styles_current = chosen.is_none();
    view! {
        <nav class="template-chooser" aria-label=t("create.choose") data-testid="template-chooser">
            <a href="/create" class="template-card" aria-current=styles_current.then_some("page")>
                <strong>{t("create.styles_card")}</strong>
                <small>{t("create.styles_card_help")}</small>
            </a>
            {templates.into_iter().map(|tpl| {
                let current = chosen.as_deref() == Some(tpl.id.as_str());
                view! {
                    <a href=format!("/create?template={}", tpl.id) class="template-card" data-template=tpl.id.clone() aria-current=current.then_some("page")>
                        {(!tpl.preview_url.is_empty()).then(|| view! { <img src=tpl.preview_url.clone() alt="" width="160" height="160" loading="lazy"/> })}
                        <strong>{tpl.name}</strong>
                        <small>{tpl.description}</small>
                        <span class="badge">{if tpl.video { t("create.per_second").replace("{cost}", &tpl.cost.to_string()) } else { t("create.cost").replace("{cost}", &tpl.cost.to_string()) }}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

/// A template's own form: a photo only if it takes one, the prompt (required if it needs one).
#[component]
fn TemplateForm(info: CreateInfo, template: TemplateCard, input: Option<String>) -> impl IntoView {
    let CreateInfo { idempotency_key, max_upload_mb, refund_on_failure, blocked, balance, .. } = info;
    let (cost, video, source_video) = (template.cost, template.video, template.source_video);
    // A clip is priced per second (rounded up), so the total follows the length chosen.
    let seconds = RwSignal::new(template.default_seconds);
    let total = move || if video { cost * seconds.get().ceil().max(1.0) as i64 } else { cost };
    view! {
        <form method="post" action="/generations" enctype="multipart/form-data" class="create-form" data-testid="create-form">
            <input type="hidden" name="idempotency_key" value=idempotency_key/>
            <input type="hidden" name="template" value=template.id.clone()/>
            <h2>{template.name.clone()}</h2>
            <p class="muted">{template.description.clone()}</p>
            {template.photo.then(|| view! {
                <fieldset>
                    <legend>{t("create.step1")}</legend>
                    <InputResult input=input.clone()/>
                    <label class="dropzone">
                        <input type="file" name="photo" accept=if source_video { "video/mp4,video/webm" } else { "image/jpeg,image/png,image/webp" }
                            required=input.is_none() data-testid="photo"/>
                        <span>{t("create.drop")}</span>
                        <small>{t("create.formats").replace("{mb}", &max_upload_mb.to_string())}</small>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="rights" required data-testid="rights"/>
                        {t("create.rights")}
                    </label>
                </fieldset>
            })}
            {(template.video && !source_video).then(|| view! { <ClipFields seconds max=template.max_seconds/> })}
            {source_video.then(|| view! {
                <fieldset data-testid="restyle-fields">
                    <legend>{t("create.clip")}</legend>
                    <label>{t("filter.style")} " " <crate::pages::StyleSelect selected="0" testid="clip-style"/></label>
                    <small>{t("create.clip_limits").replace("{s}", &template.max_seconds.to_string())}</small>
                </fieldset>
            })}
            <fieldset>
                <legend>{t("create.prompt")}</legend>
                <textarea name="prompt" rows="3" maxlength="1000" data-testid="prompt" required=template.prompt_required
                    placeholder=t("create.placeholder")></textarea>
                <small>{t("create.prompt_checked")}</small>
            </fieldset>
            <p class="cost" data-testid="cost">
                <strong>{move || if source_video { t("create.per_second_of_clip").replace("{cost}", &cost.to_string()) } else { t("create.cost").replace("{cost}", &total().to_string()) }}</strong>
                {(video && !source_video).then(|| view! { <span>" " {t("create.per_second").replace("{cost}", &cost.to_string())}</span> })}
                " " {t("create.charged")} " "
                {if refund_on_failure { t("create.refund") } else { "" }}
            </p>
            <GenerateButton label=Signal::derive(move || if source_video { t("create.generate_clip").to_string() } else { t("create.generate").replace("{cost}", &total().to_string()) })
                blocked balance cost=Signal::derive(move || if source_video { cost } else { total() })/>
        </form>
    }
}

/// A clip's choices: the look it ends in (a style), the camera move, the length in seconds
/// (`seconds` follows the field, for the price) and whether it loops.
#[component]
fn ClipFields(seconds: RwSignal<f64>, max: u32) -> impl IntoView {
    let cameras = [
        ("zoom_in", "create.camera_zoom_in"),
        ("zoom_out", "create.camera_zoom_out"),
        ("pan_left", "create.camera_pan_left"),
        ("pan_right", "create.camera_pan_right"),
        ("pan_up", "create.camera_pan_up"),
        ("pan_down", "create.camera_pan_down"),
        ("still", "create.camera_still"),
    ];
    view! {
        <fieldset data-testid="clip-fields">
            <legend>{t("create.clip")}</legend>
            <label>{t("filter.style")} " " <crate::pages::StyleSelect selected="0" testid="clip-style"/></label>
            <label>{t("create.camera")} " "
                <select name="camera" data-testid="camera">
                    {cameras.into_iter().map(|(v, k)| view! { <option value=v>{t(k)}</option> }).collect_view()}
                </select>
            </label>
            <label>{t("create.seconds")} " "
                <input type="number" name="seconds" min="2" max=max.to_string() step="1" value=seconds.get_untracked().to_string() data-testid="seconds"
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { seconds.set(v) } }/>
            </label>
            <label class="check"><input type="checkbox" name="ping_pong" data-testid="ping-pong"/> {t("create.ping_pong")}</label>
        </fieldset>
    }
}

#[component]
fn Form(info: CreateInfo, input: Option<String>) -> impl IntoView {
    let CreateInfo { cost, styles, idempotency_key, max_upload_mb, refund_on_failure, blocked, balance, .. } = info;
    let file_name = RwSignal::new(None::<String>);
    let blend_options = styles.clone();
    let file_input = NodeRef::<leptos::html::Input>::new();

    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        if let (Some(dt), Some(input)) = (ev.data_transfer(), file_input.get()) {
            if let Some(files) = dt.files() {
                if let Some(f) = files.get(0) {
                    file_name.set(Some(f.name()));
                }
                input.set_files(Some(&files));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = file_input;
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                file_name.set(input.files().and_then(|f| f.get(0)).map(|f| f.name()));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <form method="post" action="/generations" enctype="multipart/form-data" class="create-form" data-testid="create-form">
            <input type="hidden" name="idempotency_key" value=idempotency_key/>
            <fieldset>
                <legend>{t("create.step1")}</legend>
                <InputResult input=input.clone()/>
                <label
                    class="dropzone"
                    on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
                    on:drop=on_drop
                >
                    <input
                        node_ref=file_input
                        type="file"
                        name="photo"
                        accept="image/jpeg,image/png,image/webp"
                        required=input.is_none()
                        on:change=on_change
                        data-testid="photo"
                    />
                    <span>
                        {move || file_name.get().unwrap_or_else(|| t("create.drop").into())}
                    </span>
                    <small>{t("create.formats").replace("{mb}", &max_upload_mb.to_string())}</small>
                </label>
                <label class="check">
                    <input type="checkbox" name="rights" required data-testid="rights"/>
                    {t("create.rights")}
                </label>
            </fieldset>
            <fieldset>
                <legend>{t("create.step2")}</legend>
                <div class="style-grid" role="radiogroup" aria-label=t("filter.style")>
                    {styles
                        .into_iter()
                        .map(|s| {
                            view! {
                                <label class="style-tile">
                                    <input type="radio" name="style" value=s.index.to_string() checked=s.index == 0 required/>
                                    <img src=s.preview alt=s.name.clone() width="160" height="160" loading="lazy"/>
                                    <span>{s.name}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </div>
                <div class="row">
                    <label>
                        {t("create.blend_with")} " "
                        <select name="blend_with" data-testid="blend-with">
                            <option value="">{t("create.no_blend")}</option>
                            {blend_options
                                .into_iter()
                                .map(|s| view! { <option value=s.index.to_string()>{s.name}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label>{t("create.blend")} " " <input type="range" name="blend" min="0" max="100" value="50"/></label>
                </div>
                <label class="block">
                    {t("create.style_image")} " "
                    <input type="file" name="style_photo" accept="image/jpeg,image/png,image/webp" data-testid="style-photo"/>
                    <small>{t("create.style_image_help")}</small>
                </label>
            </fieldset>
            <fieldset>
                <legend>{t("create.step3")}</legend>
                <label class="block">
                    {t("create.prompt")} " "
                    <textarea name="prompt" rows="2" maxlength="1000" data-testid="prompt"
                        placeholder=t("create.placeholder")></textarea>
                    <small>{t("create.prompt_help")}</small>
                </label>
                <div class="row">
                    <label>{t("item.strength")} " " <input type="range" name="strength" min="0" max="100" value="100" data-testid="strength"/></label>
                    <label class="check"><input type="checkbox" name="preserve_color" data-testid="preserve-color"/> {t("create.keep_colours")}</label>
                </div>
            </fieldset>
            <p class="cost" data-testid="cost">
                <strong>{t("create.cost").replace("{cost}", &cost.to_string())}</strong>
                " " {t("create.charged")} " "
                {if refund_on_failure { t("create.refund") } else { "" }}
            </p>
            <GenerateButton label=Signal::derive(move || t("create.generate").replace("{cost}", &cost.to_string()))
                blocked balance cost=Signal::derive(move || cost)/>
        </form>
    }
}

/// Human label of a job state.
pub fn status_label(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => t("status.queued"),
        JobStatus::Review => t("status.review"),
        JobStatus::Running => t("status.running"),
        JobStatus::Succeeded => t("status.succeeded"),
        JobStatus::Rejected => t("status.rejected"),
        JobStatus::Failed => t("status.failed"),
        JobStatus::Canceled => t("status.canceled"),
    }
}

/// A job with its live status and progress bar.
#[component]
pub fn JobCard(job: JobView) -> impl IntoView {
    let live = expect_context::<Live>();
    let id = job.id.clone();
    let initial = (job.status, job.progress, job.error.clone());
    // Hydration must see the state the server rendered: a live update that arrives while the
    // page hydrates would change the card's shape under the hydrating code. So the card
    // follows the live stream only once it is mounted (effects run after hydration).
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let state = Memo::new(move |_| {
        let live_state = || live.jobs.with(|m| m.get(&id).map(|u| (u.status, u.progress, u.error.clone())));
        mounted.get().then(live_state).flatten().unwrap_or_else(|| initial.clone())
    });
    let href = format!("/gallery/{}", job.id);
    // 128 px on screen: the 256 rendition covers 2x displays.
    let thumb = format!("/media/{}/w256.jpg", job.id);
    // The queue position, live: asked again every 3 s while the job waits (jobs of others
    // moving ahead send this member no event). Only in the browser, after hydration.
    let queue = RwSignal::new(job.queue_position);
    if job.status == JobStatus::Queued {
        let id = job.id.clone();
        Effect::new(move |_| {
            let id = id.clone();
            let tick = move || {
                if state.get_untracked().0 != JobStatus::Queued {
                    return;
                }
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(Some(n)) = crate::api::queue_position(id).await {
                        queue.set(Some(n));
                    }
                });
            };
            if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(3)) {
                on_cleanup(move || handle.clear());
            }
        });
    }
    let typical_s = job.typical_ms.map(|ms| (ms as f64 / 1000.0).max(1.0));
    let style_label = job.style_label.clone();
    let cost = job.cost;
    let cancel = ServerAction::<CancelJob>::new();
    let job_id = job.id.clone();
    view! {
        <li class="job" data-job-id=job.id.clone() data-status=move || state.get().0.as_str()>
            {move || {
                let (status, progress, error) = state.get();
                let done = status == JobStatus::Succeeded;
                let jid = job_id.clone();
                view! {
                    <div class="job-thumb">
                        {if done {
                            view! { <a href=href.clone()><img src=thumb.clone() alt=t("create.thumb") width="128"/></a> }.into_any()
                        } else {
                            view! { <div class="placeholder" aria-hidden="true"></div> }.into_any()
                        }}
                    </div>
                    <div class="job-body">
                        <p>
                            <strong data-testid="job-status">{status_label(status)}</strong>
                            " · " {style_label.clone()} " · " {crate::i18n::tf("credits.n", &[("n", &cost)])}
                        </p>
                        {(status == JobStatus::Queued).then(|| view! {
                            <p class="muted" data-testid="queue">{match queue.get() { Some(0) | None => t("job.next").to_string(), Some(n) => crate::i18n::tf("job.ahead", &[("n", &n)]) }}</p>
                        })}
                        {(status == JobStatus::Review).then(|| view! {
                            <p class="muted">{t("job.review")}</p>
                        })}
                        {(status == JobStatus::Running || status == JobStatus::Queued).then(|| view! {
                            <progress max="100" value=progress.to_string() aria-label=t("job.progress")>{format!("{progress}%")}</progress>
                        })}
                        // The ETA: the template's typical run (the median of its latest), for
                        // the jobs ahead and what is left of this one, following the progress.
                        {typical_s.filter(|_| status == JobStatus::Running || status == JobStatus::Queued).map(|s| {
                            let ahead = if status == JobStatus::Queued { queue.get().unwrap_or(0) as f64 + 1.0 } else { 0.0 };
                            let left = (ahead * s + s * (100 - progress.clamp(0, 100)) as f64 / 100.0).ceil() as i64;
                            view! { <p class="muted" data-testid="eta">{crate::i18n::tf("job.eta", &[("s", &left)])}</p> }
                        })}
                        {error.map(|e| view! { <p class="notice error">{e}</p> })}
                        {(status == JobStatus::Queued || status == JobStatus::Review || status == JobStatus::Running).then(|| view! {
                            <ActionForm action=cancel attr:class="inline">
                                <input type="hidden" name="id" value=jid/>
                                <button type="submit" class="link" data-testid="cancel" title=t("job.cancel_help")>{t("job.cancel")}</button>
                            </ActionForm>
                        })}
                        {done.then(|| view! { <a href=href.clone()>{t("job.open")}</a> })}
                    </div>
                }
            }}
        </li>
    }
}


/// Generate, disabled with the reason when a submission could only fail and lose the form:
/// the member may not create (`blocked`, the server's words), the browser is offline (the
/// live connection's [`crate::live::Conn::Offline`]), or the balance (the live stream's, else
/// `balance` as loaded) is below `cost` credits.
#[component]
fn GenerateButton(label: Signal<String>, blocked: Option<String>, balance: i64, cost: Signal<i64>) -> impl IntoView {
    let live = use_context::<Live>();
    let offline = move || live.is_some_and(|l| l.conn.get() == crate::live::Conn::Offline);
    let credits = move || live.and_then(|l| l.balance.get()).unwrap_or(balance);
    let reason = Signal::derive(move || match &blocked {
        Some(why) => Some(why.clone()),
        None if offline() => Some(t("create.offline").to_string()),
        None if credits() < cost.get() => Some(tf_credits(credits(), cost.get())),
        None => None,
    });
    view! {
        <span class="submit-row">
            <button type="submit" class="primary" data-testid="submit" disabled=move || reason.get().is_some()>{move || label.get()}</button>
            {move || reason.get().map(|why| view! { <small class="notice" role="status" data-testid="submit-blocked">{why}</small> })}
        </span>
    }
}

/// "Not enough credits" with the balance and the price.
fn tf_credits(balance: i64, cost: i64) -> String {
    crate::i18n::tf("create.short", &[("balance", &balance), ("cost", &cost)])
}
