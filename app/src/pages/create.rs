//! The create page: choose what to make (the styles over a photo, or one of the operator's
//! other templates: text→image, a provider's edit), give exactly the inputs it needs, see the
//! cost, submit, watch it develop. `?template=<id>` opens a template's form.
//!
//! The form posts `multipart/form-data` to `/generations` (a plain axum route with a body
//! limit, not a server function: uploads need streaming limits). It works without
//! JavaScript (the route answers with a redirect to `/create?job=<id>`). With it, the page is
//! a loop ([`CreateLoop`]): the form is sent with `fetch` (`Accept: application/json`, the
//! route's JSON answer), nothing reloads and every setting stays, the new job appears at the
//! top of the history beside the form (below it on a phone) and scrolls into view, and the
//! next submission gets a fresh idempotency key. Ctrl/⌘+Enter submits; a photo can be
//! chosen, dropped or pasted, and shows as a thumbnail ([`PhotoInput`]).

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
    // Read again when the live stream comes back after an outage: a read made during it (the
    // one after a submission) failed, and the stream only brings the jobs' states.
    let resyncs = expect_context::<Live>().resyncs;
    let jobs = Resource::new(move || resyncs.get(), |_| list_jobs(None));
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error"));
    // Memos: a query change that leaves these alone (`?job=` after a submission) does not
    // render the form again, so what the member chose stays.
    let chosen_id = Memo::new(move |_| query.with(|q| q.get("template")));
    // "Use as input": one of the member's results as the photo.
    let input = Memo::new(move |_| query.with(|q| q.get("input")).filter(|i| !i.is_empty() && i.len() <= 64 && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')));
    let create_loop = CreateLoop { jobs, made: RwSignal::new(None), error: RwSignal::new(None), busy: RwSignal::new(false), toasts: use_context() };
    provide_context(create_loop);
    create_loop.scroll_to_made();
    view! {
        <section class="page create">
            <h1>{t("nav.create")}</h1>
            <div class="create-layout">
                <div class="create-main">
                    {move || error().filter(|_| create_loop.error.with(Option::is_none)).map(|e| view! { <p class="notice error" role="alert" data-testid="create-error">{e}</p> })}
                    {move || create_loop.error.get().map(|e| view! { <p class="notice error" role="alert" data-testid="create-error">{e}</p> })}
                    <Suspense fallback=|| view! { <p class="muted">{t("create.loading")}</p> }>
                        // A failing loader lands in the global error boundary, not a blank page.
                        {move || {
                            // Read before the await, so choosing another template re-renders the form.
                            let (chosen_id, input) = (chosen_id.get(), input.get());
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
                </div>
                <aside class="history" aria-labelledby="history-title">
                    <h2 id="history-title">{t("create.recent")}</h2>
                    // A Transition: after a submission the list is read again while the old
                    // one stays on screen.
                    <Transition fallback=|| ()>
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
                    </Transition>
                </aside>
            </div>
        </section>
    }
}

/// The create page's loop without a reload (see the module docs): the member's recent jobs,
/// the job just made, the last submission's error and whether one is on its way.
#[derive(Clone, Copy)]
// The server renders the page; only the browser reads the jobs and the job just made.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct CreateLoop {
    jobs: Resource<Result<Vec<JobView>, ServerFnError>>,
    made: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    /// The app's toasts ("Started"), taken from the context when the page was made.
    toasts: Option<crate::toast::Toasts>,
}

impl CreateLoop {
    /// The form's submit handler: sends it with `fetch` and keeps the page. Without a
    /// `FormData` (or on the server) the browser's own submission goes ahead. `key` is the
    /// form's idempotency key: renewed after a job is made, kept after an error so a retry
    /// of the same submission cannot make a second job.
    fn submit(self, ev: leptos::ev::SubmitEvent, key: RwSignal<String>) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
            let Ok(data) = web_sys::FormData::new_with_form(&form) else { return };
            ev.prevent_default();
            if self.busy.get_untracked() {
                return;
            }
            self.busy.set(true);
            leptos::task::spawn_local(async move {
                match post_generation(data).await {
                    Ok(id) => {
                        self.error.set(None);
                        key.set(fresh_key());
                        // The address says which job was made, as the plain form's redirect
                        // does; the router is not asked to navigate (nothing re-renders).
                        if let Some(window) = web_sys::window() {
                            let mut url = format!("/create?job={id}");
                            if let Ok(search) = window.location().search() {
                                let keep = search.trim_start_matches('?').split('&').filter(|p| p.starts_with("template=") || p.starts_with("input="));
                                keep.for_each(|p| { url.push('&'); url.push_str(p) });
                            }
                            if let Ok(history) = window.history() {
                                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
                            }
                        }
                        self.made.set(Some(id));
                        self.jobs.refetch();
                        if let Some(toasts) = self.toasts {
                            toasts.show(t("create.started"));
                        }
                    }
                    Err(message) => self.error.set(Some(message)),
                }
                self.busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, key);
    }

    /// Once the job just made is on the page, it scrolls into view.
    fn scroll_to_made(self) {
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            let Some(id) = self.made.get() else { return };
            if !self.jobs.with(|j| j.as_ref().and_then(|r| r.as_ref().ok()).is_some_and(|l| l.iter().any(|j| j.id == id))) {
                return;
            }
            request_animation_frame(move || {
                let card = document().query_selector(&format!("li.job[data-job-id=\"{id}\"]")).ok().flatten();
                if let Some(card) = card {
                    card.scroll_into_view_with_bool(false);
                }
            });
        });
    }
}

/// Posts the create form's fields to `url` asking for JSON. Returns the response when it is a
/// success, else the server's message for the member (`{"error": {"message"}}`), or "could
/// not reach the server" when the request did not complete.
#[cfg(feature = "hydrate")]
async fn post_form(url: &str, data: web_sys::FormData) -> Result<web_sys::Response, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let unreachable = |_| t("create.unreachable").to_string();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&data);
    let headers = web_sys::Headers::new().map_err(unreachable)?;
    headers.set("Accept", "application/json").map_err(unreachable)?;
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(()).map_err(|_| t("create.unreachable").to_string())?;
    let answer = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(unreachable)?;
    let resp: web_sys::Response = answer.dyn_into().map_err(unreachable)?;
    if resp.ok() {
        return Ok(resp);
    }
    let text = JsFuture::from(resp.text().map_err(unreachable)?).await.map_err(unreachable)?.as_string().unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    Err(body["error"]["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("{} {}", resp.status(), resp.status_text())))
}

/// Posts the create form to `/generations`. Returns the new job's id or the member's message.
#[cfg(feature = "hydrate")]
async fn post_generation(data: web_sys::FormData) -> Result<String, String> {
    use wasm_bindgen_futures::JsFuture;
    let resp = post_form("/generations", data).await?;
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    body["id"].as_str().map(str::to_string).ok_or_else(|| t("create.unreachable").to_string())
}

/// Posts the create form to `/generations/preview`. Returns an object URL of the preview
/// JPEG (revoke it when it is replaced) or the member's message.
#[cfg(feature = "hydrate")]
async fn post_preview(data: web_sys::FormData) -> Result<String, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let resp = post_form("/generations/preview", data).await?;
    let blob = match resp.blob() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|b| b.dyn_into::<web_sys::Blob>().ok()),
        Err(_) => None,
    };
    blob.and_then(|b| web_sys::Url::create_object_url_with_blob(&b).ok()).ok_or_else(|| t("create.unreachable").to_string())
}

/// A new idempotency key for the next submission (a random UUID, as the server makes them).
#[cfg(feature = "hydrate")]
fn fresh_key() -> String {
    web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.random_uuid()).unwrap_or_default()
}

/// Ctrl/⌘+Enter anywhere in the form submits it, unless Generate is disabled.
fn ctrl_enter(ev: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
        use wasm_bindgen::JsCast;
        if let Some(form) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) {
            ev.prevent_default();
            if form.query_selector("button[type=submit]:disabled").ok().flatten().is_none() {
                let _ = form.request_submit();
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The photo (or clip) field: a drop zone that lights up while a file is dragged over it, a
/// localised button instead of the browser's own, the chosen file's name and, for a photo, a
/// thumbnail. An image pasted anywhere on the page (Ctrl/⌘+V) is taken as the photo too.
/// The `<input type="file" name="photo">` stays in the form (visually hidden, focusable), so
/// the form works without JavaScript.
/// `name` and `testid` default to `photo`; `paste` (default on) takes pasted images, for the
/// one field of a form that should.
#[component]
fn PhotoInput(
    accept: &'static str,
    required: bool,
    formats: String,
    #[prop(default = "photo")] name: &'static str,
    #[prop(default = "photo")] testid: &'static str,
    #[prop(default = true)] paste: bool,
) -> impl IntoView {
    let file_name = RwSignal::new(None::<String>);
    let thumb = RwSignal::new(None::<String>);
    let over = RwSignal::new(false);
    let file_input = NodeRef::<leptos::html::Input>::new();
    // Shows what the input now holds.
    let show = move || {
        #[cfg(feature = "hydrate")]
        if let Some(input) = file_input.get_untracked() {
            let file = input.files().and_then(|f| f.get(0));
            if let Some(old) = thumb.get_untracked() {
                let _ = web_sys::Url::revoke_object_url(&old);
            }
            thumb.set(file.as_ref().filter(|f| f.type_().starts_with("image/")).and_then(|f| web_sys::Url::create_object_url_with_blob(f).ok()));
            file_name.set(file.map(|f| f.name()));
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        over.set(false);
        #[cfg(feature = "hydrate")]
        if let (Some(files), Some(input)) = (ev.data_transfer().and_then(|dt| dt.files()), file_input.get_untracked()) {
            input.set_files(Some(&files));
            show();
        }
    };
    #[cfg(feature = "hydrate")]
    if paste {
        let paste = window_event_listener(leptos::ev::paste, move |ev: web_sys::ClipboardEvent| {
            let Some(files) = ev.clipboard_data().and_then(|d| d.files()) else { return };
            let is_image = files.get(0).is_some_and(|f| f.type_().starts_with("image/"));
            if let (true, Some(input)) = (is_image && accept.contains("image/"), file_input.get_untracked()) {
                ev.prevent_default();
                input.set_files(Some(&files));
                show();
            }
        });
        on_cleanup(move || paste.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = paste;
    view! {
        <label class="dropzone" class:over=move || over.get() data-testid="dropzone"
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); over.set(true) }
            on:dragleave=move |_| over.set(false)
            on:drop=on_drop>
            <input node_ref=file_input type="file" name=name accept=accept required=required
                on:change=move |_| show() data-testid=testid/>
            {move || thumb.get().map(|src| view! { <img class="drop-thumb" src=src alt=t("create.your_photo") data-testid=format!("{testid}-thumb")/> })}
            <span class="button">{move || if file_name.with(Option::is_some) { t("create.change_file") } else { t("create.choose_file") }}</span>
            <span data-testid=format!("{testid}-name")>{move || file_name.get().unwrap_or_else(|| t("create.drop").into())}</span>
            <small>{formats}</small>
        </label>
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
        // Focusable: on a phone it is a row that scrolls sideways (keyboard users scroll it too).
        <nav class="template-chooser" aria-label=t("create.choose") data-testid="template-chooser" tabindex="0">
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
    let CreateInfo { idempotency_key, max_upload_mb, refund_on_failure, blocked, balance, styles, .. } = info;
    let style_names: Vec<(usize, String)> = styles.into_iter().map(|s| (s.index, s.name)).collect();
    let (cost, video, source_video) = (template.cost, template.video, template.source_video);
    // A clip is priced per second (rounded up), so the total follows the length chosen.
    let seconds = RwSignal::new(template.default_seconds);
    let total = move || if video { cost * seconds.get().ceil().max(1.0) as i64 } else { cost };
    let key = RwSignal::new(idempotency_key);
    let create_loop = expect_context::<CreateLoop>();
    let formats = if source_video { t("create.clip_limits").replace("{s}", &template.max_seconds.to_string()) } else { t("create.formats").replace("{mb}", &max_upload_mb.to_string()) };
    view! {
        <form method="post" action="/generations" enctype="multipart/form-data" class="create-form" data-testid="create-form"
            on:submit=move |ev| create_loop.submit(ev, key) on:keydown=ctrl_enter>
            <input type="hidden" name="idempotency_key" value=move || key.get()/>
            <input type="hidden" name="template" value=template.id.clone()/>
            <h2>{template.name.clone()}</h2>
            <p class="muted">{template.description.clone()}</p>
            {template.photo.then(|| view! {
                <fieldset>
                    <legend>{t("create.step1")}</legend>
                    <InputResult input=input.clone()/>
                    <PhotoInput accept=if source_video { "video/mp4,video/webm" } else { "image/jpeg,image/png,image/webp" }
                        required=input.is_none() formats=formats.clone()/>
                    <label class="check">
                        <input type="checkbox" name="rights" required data-testid="rights"/>
                        {t("create.rights")}
                    </label>
                </fieldset>
            })}
            {(template.video && !source_video).then(|| view! { <ClipFields seconds max=template.max_seconds names=style_names.clone()/> })}
            {source_video.then(|| view! {
                <fieldset data-testid="restyle-fields">
                    <legend>{t("create.clip")}</legend>
                    <label>{t("filter.style")} " " <crate::pages::StyleSelect names=style_names.clone() selected="0" testid="clip-style"/></label>
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
fn ClipFields(seconds: RwSignal<f64>, max: u32, names: Vec<(usize, String)>) -> impl IntoView {
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
            <label>{t("filter.style")} " " <crate::pages::StyleSelect names selected="0" testid="clip-style"/></label>
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

/// "Preview on your photo": the form's style choices on the chosen photo, small, free and not
/// saved (`POST /generations/preview`, limited per member). Shown under the styles; asked
/// again with the button after a change.
#[component]
fn StylePreview(form: NodeRef<leptos::html::Form>) -> impl IntoView {
    let shown = RwSignal::new(None::<Result<String, String>>);
    let asking = RwSignal::new(false);
    let ask = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(data) = form.get_untracked().and_then(|f| web_sys::FormData::new_with_form(&f).ok()) else { return };
            asking.set(true);
            leptos::task::spawn_local(async move {
                let answer = post_preview(data).await;
                if let Some(Ok(old)) = shown.get_untracked() {
                    let _ = web_sys::Url::revoke_object_url(&old);
                }
                shown.set(Some(answer));
                asking.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = form;
    };
    view! {
        <div class="style-preview">
            <button type="button" on:click=ask disabled=move || asking.get() aria-busy=move || asking.get().then_some("true") data-testid="preview-button">
                {move || if asking.get() { t("create.previewing") } else { t("create.preview") }}
            </button>
            {move || match shown.get() {
                Some(Ok(src)) => Some(view! {
                    <figure data-testid="style-preview">
                        <img src=src alt=t("create.preview_alt")/>
                        <figcaption class="muted">{t("create.preview_note")}</figcaption>
                    </figure>
                }.into_any()),
                Some(Err(e)) => Some(view! { <p class="notice error" role="alert" data-testid="preview-error">{e}</p> }.into_any()),
                None => None,
            }}
        </div>
    }
}

#[component]
fn Form(info: CreateInfo, input: Option<String>) -> impl IntoView {
    let CreateInfo { cost, styles, idempotency_key, max_upload_mb, refund_on_failure, blocked, balance, .. } = info;
    let blend_options = styles.clone();
    let described = StoredValue::new(styles.clone());
    let key = RwSignal::new(idempotency_key);
    let create_loop = expect_context::<CreateLoop>();
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let chosen_style = RwSignal::new(0usize);
    view! {
        <form method="post" action="/generations" enctype="multipart/form-data" class="create-form" data-testid="create-form"
            node_ref=form_ref on:submit=move |ev| create_loop.submit(ev, key) on:keydown=ctrl_enter>
            <input type="hidden" name="idempotency_key" value=move || key.get()/>
            <fieldset>
                <legend>{t("create.step1")}</legend>
                <InputResult input=input.clone()/>
                <PhotoInput accept="image/jpeg,image/png,image/webp" required=input.is_none()
                    formats=t("create.formats").replace("{mb}", &max_upload_mb.to_string())/>
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
                            let index = s.index;
                            view! {
                                <label class="style-tile" title=s.description.clone()>
                                    <input type="radio" name="style" value=s.index.to_string() checked=s.index == 0 required
                                        on:change=move |_| chosen_style.set(index)/>
                                    <img src=s.preview alt="" width="160" height="160" loading="lazy"/>
                                    <span>{s.name}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </div>
                <p class="muted style-description" aria-live="polite" data-testid="style-description">
                    <strong>{move || described.with_value(|d| d.iter().find(|s| s.index == chosen_style.get()).map(|s| s.name.clone()))}</strong> " — "
                    {move || described.with_value(|d| d.iter().find(|s| s.index == chosen_style.get()).map(|s| s.description.clone()))}
                </p>
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
                <StylePreview form=form_ref/>
                <p class="field-title">{t("create.style_image")}</p>
                <PhotoInput name="style_photo" testid="style-photo" accept="image/jpeg,image/png,image/webp" required=false paste=false
                    formats=t("create.style_image_help").to_string()/>
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
    // The result opens in place, as wide as the history column: up to ~400 px on screen, so
    // the 512 rendition, and the 256 one for small screens at 1x.
    let thumb = format!("/media/{}/w512.jpg", job.id);
    let thumb_set = format!("/media/{id}/w256.jpg 256w, /media/{id}/w512.jpg 512w", id = job.id);
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
                            view! { <a href=href.clone()><img src=thumb.clone() srcset=thumb_set.clone() sizes="(max-width: 900px) 100vw, 420px" alt=t("create.thumb") data-testid="job-result"/></a> }.into_any()
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
                            <p class="progress-row">
                                <progress max="100" value=progress.to_string() aria-label=t("job.progress")>{format!("{progress}%")}</progress>
                                <span class="pct" data-testid="progress-pct">{format!("{progress}%")}</span>
                            </p>
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
    let busy = use_context::<CreateLoop>().map(|l| l.busy);
    let sending = move || busy.is_some_and(|b| b.get());
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
            <button type="submit" class="primary" data-testid="submit" disabled=move || reason.get().is_some() || sending()
                aria-busy=move || sending().then_some("true")>{move || if sending() { t("create.sending").to_string() } else { label.get() }}</button>
            {move || reason.get().map(|why| view! { <small class="notice" role="status" data-testid="submit-blocked">{why}</small> })}
        </span>
    }
}

/// "Not enough credits" with the balance and the price.
fn tf_credits(balance: i64, cost: i64) -> String {
    crate::i18n::tf("create.short", &[("balance", &balance), ("cost", &cost)])
}
