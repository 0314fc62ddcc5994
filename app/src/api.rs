//! Server functions and the shapes they return. Their bodies run on the server only; the
//! browser calls them over HTTP (POST `/api/...`). Every one that touches member data takes
//! the member from the session, never from its arguments.

use leptos::prelude::*;
pub use darkroom_contract::{Category, JobStatus, Visibility};
use serde::{Deserialize, Serialize};

/// The signed-in member, as the header and pages show them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Me {
    pub display_name: String,
    /// Credits.
    pub balance: i64,
    pub role: String,
    /// The member's newest live-event id when the page was rendered; the live stream
    /// continues from here so nothing between render and connect is missed.
    pub last_event_id: i64,
    /// Seconds without input after which the page pauses its live stream.
    pub idle_limit_secs: u64,
    /// Seconds of failed reconnecting before the page says the connection is lost.
    pub reconnect_give_up_secs: u64,
    /// The member confirmed their email address (or the operator does not require it).
    pub email_verified: bool,
    /// A material terms version the member must accept before creating.
    pub pending_terms: Option<String>,
    /// `light`, `dark` or `system`.
    pub theme: String,
    /// The operator's notices the member has not closed, newest first (at most 3).
    pub notices: Vec<notices::NoticeView>,
}

/// A generation as pages show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobView {
    pub id: String,
    pub status: JobStatus,
    /// 0..=100.
    pub progress: i64,
    pub error: Option<String>,
    /// Credits charged.
    pub cost: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// Result size in pixels.
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub visibility: Visibility,
    /// e.g. "Night Gold" or "Stained Glass + Soft Pastel (50%)".
    pub style_label: String,
    /// Strength 0..=100 and colour-keeping, for the details list.
    pub strength: i64,
    pub preserve_color: bool,
    /// Jobs queued ahead of this one (only while queued).
    pub queue_position: Option<i64>,
    /// The optional prompt the member gave.
    pub prompt: String,
    /// Hidden everywhere by a moderator (its files no longer answer).
    pub hidden: bool,
    /// For rejected or hidden items.
    pub moderation_category: Option<Category>,
    /// When the result is purged under the operator's retention (Unix ms), if it is.
    pub expires_at: Option<i64>,
    /// The template it was made with.
    pub template: Option<String>,
    /// How long a run of its template typically takes, milliseconds (for the ETA of queued
    /// and running jobs; `None`: unknown yet).
    pub typical_ms: Option<i64>,
    /// A fresh idempotency key for "Run again" (item page only; empty elsewhere).
    pub again_key: String,
    /// The result is a clip (`result` is MP4 or WebM; the renditions are its poster frame).
    pub video: bool,
}

/// One built-in style for the picker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StyleInfo {
    pub index: usize,
    pub name: String,
    /// One line on its look.
    #[serde(default)]
    pub description: String,
    /// URL of the engine-made preview.
    pub preview: String,
}

/// What the create page needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CreateInfo {
    /// Credits one generation costs.
    pub cost: i64,
    pub styles: Vec<StyleInfo>,
    /// A fresh idempotency key for this form: submitting it twice makes one job.
    pub idempotency_key: String,
    /// Upload limit in megabytes.
    pub max_upload_mb: u64,
    /// Whether failed jobs are refunded (operator setting).
    pub refund_on_failure: bool,
    /// The templates beyond the styles (text→image, providers' edits), in catalogue order.
    pub templates: Vec<TemplateCard>,
    /// Why the member cannot start a generation now (address not confirmed, restricted or
    /// suspended, new terms to accept); `None` when they can.
    #[serde(default)]
    pub blocked: Option<String>,
    /// The member's balance in credits when the page loaded (the live stream's is newer).
    #[serde(default)]
    pub balance: i64,
}

/// A template on the create page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TemplateCard {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `image_to_image` or `text_to_image`.
    pub mode: String,
    /// Credits per generation.
    pub cost: i64,
    pub preview_url: String,
    /// Whether it takes the member's photo, and needs a prompt.
    pub photo: bool,
    pub prompt_required: bool,
    /// A clip template (image→video): `cost` is per second of video, the member picks the
    /// style, camera move, length (`default_seconds`, at most `max_seconds`) and loop.
    pub video: bool,
    pub default_seconds: f64,
    pub max_seconds: u32,
    /// It restyles the member's clip (video→video): the upload is a video, the price follows
    /// its length.
    pub source_video: bool,
}

pub mod account;
pub mod audit;
pub mod credits;
pub mod dashboard;
pub mod keys;
pub mod members;
pub mod moderation;
pub mod notices;
pub mod payments;
pub mod providers;
pub mod sharing;
pub mod site_settings;
pub mod support;
pub mod templates;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only helpers for the server functions.
    use darkroom_service::auth::{AuthSession, SessionUser};
    use darkroom_service::{AppState, ServiceError};
    use leptos::prelude::*;

    /// The application state the router provided.
    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state missing"))
    }

    /// Who is asking: the client's IP, what is kept of it (truncated, with the user agent),
    /// and the site's absolute base URL for links in mail.
    pub struct Client {
        pub ip: Option<std::net::IpAddr>,
        pub origin: darkroom_store::accounts::Origin,
        pub base: String,
    }

    /// The [`Client`] of this request.
    pub async fn client() -> Client {
        let ip = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await.ok().map(|c| c.0.ip());
        let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
        let base = state().map(|s| darkroom_service::api::base_for(&s, host)).unwrap_or_default();
        Client { ip, origin: darkroom_service::accounts::request_origin(ip, &headers), base }
    }

    /// The request's auth session.
    pub async fn auth() -> Result<AuthSession, ServerFnError> {
        leptos_axum::extract::<AuthSession>().await.map_err(|e| ServerFnError::new(e.to_string()))
    }

    /// The signed-in member, or an error the page shows as "Please sign in."
    pub async fn member() -> Result<(AppState, SessionUser), ServerFnError> {
        let state = state()?;
        match auth().await?.user {
            Some(u) => Ok((state, u)),
            None => Err(fail(ServiceError::Unauthorized("Please sign in.".into()))),
        }
    }

    /// The signed-in administrator. Errors: "Please sign in." (401), or 403 saying "Only
    /// administrators can {what}." for anyone else.
    pub async fn admin(what: &str) -> Result<(AppState, SessionUser), ServerFnError> {
        let (state, user) = member().await?;
        if user.role != "admin" {
            return Err(fail(ServiceError::Forbidden(format!("Only administrators can {what}."))));
        }
        Ok((state, user))
    }

    /// A console filter's `from`/`to` dates (`YYYY-MM-DD`, UTC days, both inclusive; empty:
    /// open) as `[from_ms, until_ms)`. Errors: 400 for a malformed date.
    pub fn day_range(from: Option<&str>, to: Option<&str>) -> Result<(Option<i64>, Option<i64>), ServerFnError> {
        let day = |d: Option<&str>| match d.map(str::trim).filter(|d| !d.is_empty()) {
            None => Ok(None),
            Some(d) => day_start_ms(d).map(Some).ok_or_else(|| fail(ServiceError::Invalid("Dates are YYYY-MM-DD.".into()))),
        };
        Ok((day(from)?, day(to)?.map(|t| t + 86_400_000)))
    }

    /// A console filter's member address as their user id (`None`: any member); an address
    /// nobody has becomes an id nothing matches. Errors: the store's.
    pub async fn member_filter(state: &AppState, email: Option<&str>) -> Result<Option<String>, ServerFnError> {
        match email.map(str::trim).filter(|e| !e.is_empty()) {
            None => Ok(None),
            Some(e) => Ok(Some(state.store.user_by_email(e).await.map_err(|e| fail(e.into()))?.map_or_else(|| "(nobody)".to_string(), |u| u.id))),
        }
    }

    /// Midnight UTC of a `YYYY-MM-DD` date, in Unix milliseconds; `None` if malformed.
    pub fn day_start_ms(date: &str) -> Option<i64> {
        darkroom_service::credits::day_start_ms(date)
    }

    /// A `style` filter parameter: empty is any style, else an index below
    /// [`darkroom_service::generation::NUM_STYLES`]. Errors: anything else (400).
    pub fn style_filter(style: Option<&str>) -> Result<Option<i64>, ServerFnError> {
        match style.unwrap_or("") {
            "" => Ok(None),
            s => match s.parse::<usize>() {
                Ok(i) if i < darkroom_service::generation::NUM_STYLES => Ok(Some(i as i64)),
                _ => Err(fail(ServiceError::Invalid("Unknown style.".into()))),
            },
        }
    }

    /// Sets the response status from the error and turns it into a server-function error.
    pub fn fail(e: ServiceError) -> ServerFnError {
        if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
            opts.set_status(axum::http::StatusCode::from_u16(e.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR));
            if let ServiceError::RateLimited { retry_after_secs } = &e {
                opts.insert_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*retry_after_secs));
            }
        }
        ServerFnError::new(e.to_string())
    }

    /// Every style's name in the page's language, by index (`darkroom_service::styles::names`:
    /// the operator's style templates). Errors: the store's (500).
    pub async fn style_names(state: &AppState) -> Result<Vec<String>, ServerFnError> {
        darkroom_service::styles::names(state, &crate::i18n::read_prefs().lang).await.map_err(fail)
    }

    /// Style `i`'s name from [`style_names`]' list.
    pub fn style_name(names: &[String], i: usize) -> String {
        names.get(i).cloned().unwrap_or_else(|| darkroom_service::styles::unnamed(i))
    }

    /// A job as the member's pages show it; `names` from [`style_names`] label its style.
    pub fn job_view(j: darkroom_store::jobs::Job, queue_position: Option<i64>, names: &[String]) -> super::JobView {
        let p: serde_json::Value = serde_json::from_str(&j.params).unwrap_or_default();
        let styles: Vec<(usize, f64)> = p["styles"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| Some((s[0].as_u64()? as usize, s[1].as_f64()?))).collect())
            .unwrap_or_default();
        let style_label = match styles.as_slice() {
            _ if j.style_upload_id.is_some() => "Own style image".into(),
            [(a, _)] => style_name(names, *a),
            [(a, _), (b, wb)] => format!(
                "{} + {} ({}%)",
                style_name(names, *a),
                style_name(names, *b),
                (wb * 100.0).round()
            ),
            _ => j.template_id.clone().unwrap_or_else(|| "Custom".into()),
        };
        super::JobView {
            id: j.id,
            status: j.status,
            progress: j.progress,
            error: j.error,
            cost: j.cost,
            created_at: j.created_at,
            finished_at: j.finished_at,
            width: j.result_width,
            height: j.result_height,
            visibility: j.visibility,
            style_label,
            strength: (p["strength"].as_f64().unwrap_or(1.0) * 100.0).round() as i64,
            preserve_color: p["preserve_color"].as_bool().unwrap_or(false),
            queue_position,
            prompt: j.prompt,
            hidden: j.hidden_at.is_some(),
            moderation_category: j.moderation_category,
            expires_at: None,
            template: j.template_id,
            typical_ms: None,
            again_key: String::new(),
            video: j.result_key.as_deref().is_some_and(darkroom_service::media::is_video),
        }
    }
}

/// The signed-in member, or `None` for a visitor.
#[server(endpoint = "get_me")]
pub async fn get_me() -> Result<Option<Me>, ServerFnError> {
    let state = ssr::state()?;
    let Some(user) = ssr::auth().await?.user else { return Ok(None) };
    // The row this request's session check read (the balance, and the last event id as the
    // member's event counter), rather than two more queries per page.
    let u = match user.row {
        Some(row) => row,
        None => std::sync::Arc::new(state.store.user(&user.id).await.map_err(|e| ssr::fail(e.into()))?),
    };
    let last_event_id = u.event_seq;
    let now = darkroom_store::now_ms();
    let pending_terms = darkroom_service::legal::pending_terms(&state, &u.terms_version, now).await.map_err(ssr::fail)?;
    let notices = state.store.notices_for(&u.id, now - darkroom_service::notices::SHOWN_FOR_MS, 3).await.map_err(|e| ssr::fail(e.into()))?;
    Ok(Some(Me {
        display_name: u.display_name.clone(),
        balance: u.balance,
        role: u.role.clone(),
        last_event_id,
        idle_limit_secs: state.config.idle_limit_secs,
        reconnect_give_up_secs: state.config.reconnect_give_up_secs,
        email_verified: u.email_verified_at.is_some() || !state.config.require_verified_email,
        pending_terms,
        theme: u.theme.clone(),
        notices: notices.into_iter().map(Into::into).collect(),
    }))
}

/// Creates an account and goes to "check your inbox": the mailed link confirms the address
/// and signs in. A taken address gets the same answer (its owner is mailed a note), so the
/// form never tells who is registered.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    display_name: String,
    age_confirmed: Option<String>,
    terms_accepted: Option<String>,
) -> Result<(), ServerFnError> {
    use darkroom_service::accounts::{sign_up, SignUp};
    let state = ssr::state()?;
    let client = ssr::client().await;
    let form = SignUp {
        email: &email,
        password: &password,
        display_name: &display_name,
        age_confirmed: age_confirmed.is_some(),
        terms_accepted: terms_accepted.is_some(),
        ip: client.ip,
        base: &client.base,
    };
    sign_up(&state, form).await.map_err(ssr::fail)?;
    leptos_axum::redirect("/signup/sent");
    Ok(())
}

/// Signs in (the session id is rotated) and goes to `next` when it is a path of this site
/// (see [`local_path`]), else to the create page.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), ServerFnError> {
    use darkroom_service::auth::Credentials;
    let state = ssr::state()?;
    let client = ssr::client().await;
    // The same limits whether or not the address has an account.
    state.auth_limits.check(client.ip, Some(&email)).await.map_err(ssr::fail)?;
    let mut auth = ssr::auth().await?;
    let known = state.store.user_by_email(&email).await.map_err(|e| ssr::fail(e.into()))?;
    let user = auth.authenticate(Credentials { email, password }).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let Some(user) = user else {
        if let Some(known) = known {
            state.store.security_event(&known.id, "sign_in_failed", &client.origin, "wrong password").await.map_err(|e| ssr::fail(e.into()))?;
        }
        return Err(ssr::fail(darkroom_service::ServiceError::Unauthorized("Wrong email or password.".into())));
    };
    if user.suspended {
        // Only said to someone who knows the password.
        return Err(ssr::fail(darkroom_service::ServiceError::Forbidden(
            "This account is suspended after repeated moderation strikes. Contact support to appeal.".into(),
        )));
    }
    let id = user.id.clone();
    darkroom_service::auth::sign_in(&state.store, &mut auth, user, &client.origin, "password").await.map_err(ssr::fail)?;
    // This browser takes the member's stored theme and language.
    let prefs = state.store.user(&id).await.map_err(|e| ssr::fail(e.into()))?;
    account::ssr::set_pref_cookie(&state, &prefs.theme, &prefs.language);
    leptos_axum::redirect(local_path(next.as_deref()).unwrap_or("/create"));
    Ok(())
}

/// `next` if it is a path on this site (`/…`, at most 200 printable ASCII characters, not
/// `//host` or `/\host`, which browsers read as another site), so a link cannot send a member
/// elsewhere after signing in (an open redirect).
pub fn local_path(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && n.len() <= 200 && n.bytes().all(|b| b.is_ascii_graphic())
    })
}

/// Ends this session.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let mut auth = ssr::auth().await?;
    auth.logout().await.map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The create page's catalogue, price and a fresh idempotency key.
#[server(endpoint = "load_create_page")]
pub async fn load_create_page() -> Result<CreateInfo, ServerFnError> {
    let (state, user) = ssr::member().await?;
    // The same checks a submission passes (`generation::submit_with`), said before it.
    let blocked = match darkroom_service::moderation::ensure_may_create(&state, &user.id).await {
        Ok(_) => None,
        Err(e @ (darkroom_service::ServiceError::Forbidden(_) | darkroom_service::ServiceError::Invalid(_))) => Some(e.to_string()),
        Err(e) => return Err(ssr::fail(e)),
    };
    let balance = match &user.row {
        Some(row) => row.balance,
        None => state.store.user(&user.id).await.map_err(|e| ssr::fail(e.into()))?.balance,
    };
    let lang = crate::i18n::read_prefs().lang;
    // The style templates' price (each style's template may have its own; the first's shown).
    let cost = match darkroom_service::templates::offered(&state, &darkroom_service::api::style_id(0)).await {
        Ok(t) => darkroom_service::templates::cost(&state, &t),
        Err(_) => state.config.generation_cost,
    };
    Ok(CreateInfo {
        cost,
        styles: darkroom_service::styles::catalogue(&state, &lang)
            .await
            .map_err(ssr::fail)?
            .into_iter()
            .map(|s| StyleInfo { index: s.index, name: s.name, description: s.description, preview: s.preview_url })
            .collect(),
        idempotency_key: darkroom_store::new_id(),
        max_upload_mb: (state.config.upload.max_bytes / 1_000_000) as u64,
        refund_on_failure: state.config.refund_on_failure,
        blocked,
        balance,
        templates: darkroom_service::templates::catalogue(&state)
            .await
            .map_err(ssr::fail)?
            .into_iter()
            // The local style networks have the style picker of the form itself.
            .filter(|t| {
                use darkroom_service::generators::{any_style, local_style};
                t.params["generator"] != local_style::ID && t.params["generator"] != any_style::ID
            })
            .map(|t| {
                let (name, description) = t.localized(&lang);
                TemplateCard {
                    name,
                    description,
                    photo: t.needs.photo != "no",
                    prompt_required: t.needs.prompt == "required",
                    video: t.mode == "image_to_video" || t.mode == "video_to_video",
                    source_video: t.mode == "video_to_video",
                    default_seconds: t.params["seconds"].as_f64().unwrap_or(darkroom_service::templates::DEFAULT_CLIP_SECONDS),
                    max_seconds: state.config.video_max_secs,
                    id: t.id,
                    mode: t.mode,
                    cost: t.cost,
                    preview_url: t.preview_url,
                }
            })
            .collect(),
    })
}

/// Every style's name in the viewer's language, by index (anyone: the filters of Explore and
/// My gallery). The operator's style templates name them.
#[server(endpoint = "style_names")]
pub async fn style_names() -> Result<Vec<String>, ServerFnError> {
    let state = ssr::state()?;
    ssr::style_names(&state).await
}

/// The member's generations, newest first (50 at most; `status` filters).
#[server(endpoint = "list_jobs")]
pub async fn list_jobs(status: Option<JobStatus>) -> Result<Vec<JobView>, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let jobs = state.store.jobs_for_user(&user.id, status, None, 50).await.map_err(|e| ssr::fail(e.into()))?;
    let mut out = Vec::with_capacity(jobs.len());
    let names = ssr::style_names(&state).await?;
    // One median per template on the page, for the ETAs of the unfinished jobs.
    let mut typical: std::collections::HashMap<String, Option<i64>> = Default::default();
    for j in jobs {
        let pos = if j.status == JobStatus::Queued { Some(state.store.queue_position(&j).await.map_err(|e| ssr::fail(e.into()))?) } else { None };
        let eta = match (&j.template_id, j.status.is_terminal()) {
            (Some(t), false) => match typical.get(t) {
                Some(v) => *v,
                None => {
                    let v = state.store.typical_run_ms(t).await.map_err(|e| ssr::fail(e.into()))?;
                    typical.insert(t.clone(), v);
                    v
                }
            },
            _ => None,
        };
        out.push(JobView { typical_ms: eta, ..ssr::job_view(j, pos, &names) });
    }
    Ok(out)
}

/// Where one of the member's queued jobs stands now: the number of queued jobs ahead of it
/// (`None` once it is no longer queued). The job card asks every few seconds while queued,
/// since other members' jobs moving send this member no event. Errors: not the member's job
/// (404).
#[server(endpoint = "queue_position")]
pub async fn queue_position(id: String) -> Result<Option<i64>, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let job = state.store.job(&id, &user.id).await.map_err(|e| ssr::fail(e.into()))?;
    if job.status != JobStatus::Queued {
        return Ok(None);
    }
    Ok(Some(state.store.queue_position(&job).await.map_err(|e| ssr::fail(e.into()))?))
}

/// One page of the member's gallery.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GalleryChunk {
    pub items: Vec<JobView>,
    /// The `before` value of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// Items per gallery page.
pub const GALLERY_PAGE: i64 = 24;

/// The gallery's status filter value that keeps every finished item.
pub const GALLERY_ALL: &str = "all";

/// The member's gallery, newest first, [`GALLERY_PAGE`] at a time: `status` is `succeeded`
/// (default), `rejected`, `failed`, `canceled` or `all`; `style` a style's index (empty: any);
/// `from` and `to` dates `YYYY-MM-DD` (UTC, both days included; empty: open); `before` is the
/// previous page's `next` (keyset on the time-ordered id).
///
/// Errors: an unknown status, a style out of range or a malformed date (400).
#[server(endpoint = "gallery_page")]
pub async fn gallery_page(
    status: Option<String>,
    style: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<GalleryChunk, ServerFnError> {
    use darkroom_service::ServiceError::Invalid;
    let (state, user) = ssr::member().await?;
    let status = match status.as_deref() {
        None | Some("") => Some(JobStatus::Succeeded),
        Some(GALLERY_ALL) => None,
        Some(s) => match s.parse::<JobStatus>() {
            Ok(s) if s.is_terminal() => Some(s),
            _ => return Err(ssr::fail(Invalid("Unknown status filter.".into()))),
        },
    };
    let day = |d: Option<String>, end: bool| match d.as_deref() {
        None | Some("") => Ok(None),
        Some(d) => ssr::day_start_ms(d).map(|ms| Some(if end { ms + 86_400_000 } else { ms })).ok_or_else(|| ssr::fail(Invalid("Dates are YYYY-MM-DD.".into()))),
    };
    let filter = darkroom_store::jobs::GalleryFilter {
        status,
        style: ssr::style_filter(style.as_deref())?,
        from_ms: day(from, false)?,
        until_ms: day(to, true)?,
    };
    let rows = state
        .store
        .gallery_jobs(&user.id, &filter, before.as_deref().filter(|b| !b.is_empty()), GALLERY_PAGE + 1)
        .await
        .map_err(|e| ssr::fail(e.into()))?;
    let more = rows.len() as i64 > GALLERY_PAGE;
    let names = ssr::style_names(&state).await?;
    let items: Vec<JobView> = rows.into_iter().take(GALLERY_PAGE as usize).map(|j| ssr::job_view(j, None, &names)).collect();
    let next = more.then(|| items.last().map(|j| j.id.clone())).flatten();
    Ok(GalleryChunk { items, next })
}

/// One of the member's generations.
#[server(endpoint = "get_job")]
pub async fn get_job(id: String) -> Result<JobView, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let j = state.store.job(&id, &user.id).await.map_err(|e| ssr::fail(e.into()))?;
    let expires_at = match j.finished_at.filter(|_| j.result_key.is_some()) {
        Some(t) => darkroom_service::retention::result_expires_at(&state, &user.id, t).await.map_err(ssr::fail)?,
        None => None,
    };
    let names = ssr::style_names(&state).await?;
    Ok(JobView { expires_at, again_key: darkroom_store::new_id(), ..ssr::job_view(j, None, &names) })
}

/// What the item page shows around one of the member's items: its neighbours in the gallery's
/// order (newest first) and whether the photo it was made from is still kept, for the
/// before/after comparison.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ItemNeighbours {
    /// The next newer item's id (`None`: this is the newest).
    pub newer: Option<String>,
    /// The next older item's id (`None`: this is the oldest).
    pub older: Option<String>,
    /// The photo it was made from answers at `/media/{id}/upload` (an image→image item whose
    /// upload retention has not purged the photo).
    pub before: bool,
}

/// The item page's neighbours and comparison photo ([`ItemNeighbours`]) of one of the member's items.
/// Errors: 404 for another member's or a missing item.
#[server(endpoint = "item_nav")]
pub async fn item_nav(id: String) -> Result<ItemNeighbours, ServerFnError> {
    let (state, user) = ssr::member().await?;
    let j = state.store.job(&id, &user.id).await.map_err(|e| ssr::fail(e.into()))?;
    let (newer, older) = state.store.gallery_neighbours(&user.id, &id).await.map_err(|e| ssr::fail(e.into()))?;
    let before = match j.upload_id.as_deref().filter(|_| j.mode == darkroom_contract::Mode::ImageToImage) {
        Some(up) => state.store.upload(up, &user.id).await.is_ok(),
        None => false,
    };
    Ok(ItemNeighbours { newer, older, before })
}

/// "Run again": a new generation with the same template and inputs, charged again; then the
/// create page with it. Errors: as `generation::run_again` (400, 402, 403, 404, 409).
#[server(endpoint = "run_again")]
pub async fn run_again(id: String, idempotency_key: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    let job = darkroom_service::generation::run_again(&state, &user.id, &id, &idempotency_key).await.map_err(ssr::fail)?;
    leptos_axum::redirect(&format!("/create?job={}", job.id));
    Ok(())
}

/// Deletes one of the member's finished generations and its files; back to the gallery.
#[server(endpoint = "delete_job")]
pub async fn delete_job(id: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    darkroom_service::generation::delete(&state, &user.id, &id).await.map_err(ssr::fail)?;
    leptos_axum::redirect("/gallery");
    Ok(())
}

/// Cancels one of the member's queued generations (refunded).
#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: String) -> Result<(), ServerFnError> {
    let (state, user) = ssr::member().await?;
    state.store.cancel_job(&id, &user.id, state.config.refund_on_cancel).await.map_err(|e| ssr::fail(e.into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        for ok in ["/credits/buy", "/gallery/abc?x=1", "/"] {
            assert_eq!(local_path(Some(ok)), Some(ok));
        }
        for bad in ["https://evil.test/", "//evil.test/x", "/\\evil.test", "credits", "/a b", "/\u{7f}", ""] {
            assert_eq!(local_path(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(local_path(Some(&format!("/{}", "a".repeat(200)))), None, "too long");
        assert_eq!(local_path(None), None);
    }
}
