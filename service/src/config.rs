//! Operator settings, read from environment variables (all optional).

use std::path::PathBuf;

use darkroom_engine::imageio::UploadLimits;

/// Settings with their defaults. Units are in the names: credits, seconds, pixels, bytes.
/// `Debug` names which secrets are set and never prints one (see the impl below).
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://data/darkroom.db` (default) or `postgres://...`.
    pub database_url: String,
    /// `DARKROOM_DATA_DIR` (default `data`): database file, media and models live below it.
    pub data_dir: PathBuf,
    /// `DARKROOM_MODELS_DIR` (default `<data>/models`): what `fetch-models` fills.
    pub models_dir: PathBuf,
    /// `DARKROOM_MEDIA_DIR` (default `<data>/media`): the local media store, used when no
    /// S3 bucket is set.
    pub media_dir: PathBuf,
    /// An S3-compatible media store instead of the local folder, on when `DARKROOM_S3_BUCKET`
    /// is set: every upload, result, rendition, export and template preview lives there.
    pub s3: Option<S3Settings>,
    /// `DARKROOM_ADDR` (default `127.0.0.1:3000`).
    pub addr: String,
    /// `DARKROOM_SITE_ROOT` (default `target/site`): the built WASM bundle and CSS.
    pub site_root: PathBuf,
    /// `DARKROOM_SIGNUP_GRANT` credits given at sign-up (default 50).
    pub signup_grant: i64,
    /// `DARKROOM_GENERATION_COST` credits per image→image generation (default 5).
    pub generation_cost: i64,
    /// `DARKROOM_REFUND_ON_FAILURE` (default true): refund technical failures.
    pub refund_on_failure: bool,
    /// `DARKROOM_REFUND_ON_CANCEL` (default true): refund a job canceled before it started.
    /// (A job rejected by moderation is never refunded: SPEC §3.)
    pub refund_on_cancel: bool,
    /// Stripe (Checkout Sessions and webhooks), on when both keys are set:
    /// `DARKROOM_STRIPE_SECRET_KEY` (`sk_…`), `DARKROOM_STRIPE_WEBHOOK_SECRET` (`whsec_…`, the
    /// endpoint's signing secret), `DARKROOM_STRIPE_API_BASE` (default `https://api.stripe.com`).
    pub stripe_secret_key: Option<String>,
    pub stripe_webhook_secret: Option<String>,
    pub stripe_api_base: String,
    /// PayPal (Orders v2 and webhooks), on when all three are set: `DARKROOM_PAYPAL_CLIENT_ID`,
    /// `DARKROOM_PAYPAL_CLIENT_SECRET`, `DARKROOM_PAYPAL_WEBHOOK_ID` (the webhook's id in the
    /// PayPal dashboard); `DARKROOM_PAYPAL_API_BASE` (default `https://api-m.paypal.com`; the
    /// sandbox is `https://api-m.sandbox.paypal.com`).
    pub paypal_client_id: Option<String>,
    pub paypal_client_secret: Option<String>,
    pub paypal_webhook_id: Option<String>,
    pub paypal_api_base: String,
    /// Mail: `DARKROOM_SMTP_URL` (unset: messages go to the outbox folder
    /// `DARKROOM_OUTBOX_DIR`, default `<data>/outbox`, one `.eml` each), `DARKROOM_MAIL_FROM`
    /// (default `Darkroom <no-reply@darkroom.localhost>`).
    pub smtp_url: Option<String>,
    pub outbox_dir: PathBuf,
    pub mail_from: String,
    /// `DARKROOM_REQUIRE_VERIFIED_EMAIL` (default true): members confirm their address before
    /// they create (they may browse before).
    pub require_verified_email: bool,
    /// `DARKROOM_AUTH_RATE_PER_IP_PER_HOUR` (default 60): sign-in, sign-up and reset attempts
    /// per client IP per hour.
    pub auth_rate_per_ip_per_hour: u32,
    /// `DARKROOM_AUTH_RATE_PER_ACCOUNT` (default 5): sign-in attempts and reset mails per email
    /// address in a burst; one more every 3 minutes after that (the lockout back-off).
    pub auth_rate_per_account: u32,
    /// `DARKROOM_SUPPORT_RATE_PER_IP_PER_HOUR` (default 5): support requests per client IP per
    /// hour (and 3 per email address per hour, fixed).
    pub support_rate_per_ip_per_hour: u32,
    /// Google sign-in (OpenID Connect), on when both are set: `DARKROOM_GOOGLE_CLIENT_ID`,
    /// `DARKROOM_GOOGLE_CLIENT_SECRET`; `DARKROOM_GOOGLE_ISSUER` (default
    /// `https://accounts.google.com`) names the provider whose discovery document is read.
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<String>,
    pub google_issuer: String,
    /// `DARKROOM_JOB_LEASE_SECS` (default 30): a running job whose worker stops renewing
    /// for this long is run again by another worker.
    pub lease_secs: u64,
    /// `DARKROOM_WORKERS` in-process workers for `serve` (default 1; 0 = web only).
    pub workers: usize,
    /// `DARKROOM_GROUP_COMMIT` (at most 32): the most generations created together commit in
    /// one transaction (each whole or absent; see the store's `jobs::group_commit`); 1
    /// commits each on its own. Unset: 32.
    pub group_commit: Option<usize>,
    /// `DARKROOM_MAX_SIDE` longest side in pixels results are made at (default 1024).
    pub max_side: u32,
    /// `DARKROOM_ENGINE_THREADS`: the cores the local models may use, one thread pool shared
    /// by every model and worker of the process (default 0: every core of the machine).
    pub engine_threads: usize,
    /// `DARKROOM_VIDEO_TIMEOUT_SECS`: wall-clock limit of one ffmpeg/ffprobe run (default
    /// 600); the process group is killed when it passes.
    pub video_timeout_secs: u64,
    /// `DARKROOM_SCRATCH_DIR`: clips' temporary files, one folder per process (default
    /// `<data>/scratch`; on this machine, not shared: `crate::video_work`).
    pub scratch_dir: PathBuf,
    /// `DARKROOM_VIDEO_MAX_SECS`: the longest clip, in seconds, a video template may make or
    /// an upload may be (default 10).
    pub video_max_secs: u32,
    /// `DARKROOM_MIN_AGE` minimum age to sign up (default 18).
    pub min_age: u32,
    /// Version of the terms members accept (`DARKROOM_TERMS_VERSION`, default `2026-11-22`).
    pub terms_version: String,
    /// `DARKROOM_IDLE_LIMIT_SECS` (default 1800): after this long without input a page
    /// closes its live stream and shows "Session paused".
    pub idle_limit_secs: u64,
    /// `DARKROOM_RECONNECT_GIVE_UP_SECS` (default 120): how long a page keeps reconnecting
    /// before it shows "Connection lost".
    pub reconnect_give_up_secs: u64,
    /// `DARKROOM_EVENT_RETENTION_SECS` (default 86400): live events older than this are
    /// pruned; a stream resuming from before that gets a snapshot instead.
    pub event_retention_secs: u64,
    /// `DARKROOM_EVENT_RETENTION_COUNT` (default 1000): live events kept per member.
    pub event_retention_count: i64,
    /// `DARKROOM_WRITE_TIMEOUT_SECS` (default 60, as nginx's `send_timeout`): a client that
    /// reads nothing for this long is cut off: the kernel closes its connection
    /// (`TCP_USER_TIMEOUT`: data left unacknowledged or unsent to a zero window), and a live
    /// stream whose queue stays full this long ends (the client resumes by `Last-Event-ID`).
    pub write_timeout_secs: u64,
    /// `DARKROOM_RENDER_PREVIEWS` (default true): render missing style previews at start.
    pub render_previews: bool,
    /// `DARKROOM_SECURE_COOKIES` (default false; set true behind HTTPS).
    pub secure_cookies: bool,
    /// Upload limits: `DARKROOM_MAX_UPLOAD_BYTES` (default 20,000,000) and
    /// `DARKROOM_MAX_UPLOAD_PIXELS` (default 40,000,000).
    pub upload: UploadLimits,
    /// `DARKROOM_MODERATION_POLICY`: path of the operator's moderation policy (TOML); unset
    /// uses the shipped default (`service/src/moderation/default_policy.toml`).
    pub moderation_policy: Option<PathBuf>,
    /// `DARKROOM_MEDIA_URL_SECRET`: the key that signs media URLs (HMAC-SHA256). Unset: a
    /// random key kept in `<data>/media-url.key` (set it, the same on every node, to scale out).
    pub media_url_secret: Option<String>,
    /// `DARKROOM_SIGNED_URL_SECS` (default 3600): how long a signed media URL works.
    pub signed_url_secs: u64,
    /// `DARKROOM_C2PA_CERT` and `DARKROOM_C2PA_KEY`: PEM certificate chain (end entity first)
    /// and private key that sign the C2PA manifests of outputs; `DARKROOM_C2PA_ALG` (default
    /// `es256`) their algorithm. Unset: a key and chain made at each start (verifiable, not
    /// trusted by C2PA validators).
    pub c2pa_cert: Option<PathBuf>,
    pub c2pa_key: Option<PathBuf>,
    pub c2pa_alg: String,
    /// `DARKROOM_PUBLIC_URL` (default `http://<DARKROOM_ADDR>`): the site's address as
    /// visitors see it, for absolute links in share previews (OpenGraph).
    pub public_url: String,
    /// `DARKROOM_UPLOAD_RETENTION_DAYS` (default 7): uploaded photos are purged this long
    /// after upload, once their jobs finished. 0 keeps them.
    pub upload_retention_days: u32,
    /// `DARKROOM_RESULT_RETENTION_DAYS` (default 30): results (every rendition) are purged
    /// this long after they finished. 0 keeps them.
    pub result_retention_days: u32,
    /// `DARKROOM_WEBHOOK_ALLOW_HTTP` (default false): accept `http://` webhook endpoints
    /// (for local development and tests; production endpoints must be HTTPS).
    pub webhook_allow_http: bool,
    /// `DARKROOM_WEBHOOK_RETRY_SCALE` (default 1.0): multiplies the webhook retry schedule
    /// (tests shrink it).
    pub webhook_retry_scale: f64,
    /// `DARKROOM_API_KEY_RATE_PER_MIN` (default 120): API requests per key per minute, with
    /// bursts of the same size.
    pub api_key_rate_per_min: u32,
    /// `DARKROOM_API_IP_RATE_PER_MIN` (default 600): API requests per client IP per minute.
    pub api_ip_rate_per_min: u32,
    /// `DARKROOM_PAGE_RATE_PER_MIN` (default 300, 0 = off): page requests and the pages'
    /// server-function calls per client IP per minute, in bursts of the same size (the limit
    /// on scraping; `server/src/page_limit.rs` says what counts). Answered 429 beyond it.
    pub page_rate_per_min: u32,
    /// `DARKROOM_TRUSTED_PROXIES` (default none): comma-separated addresses of load balancers
    /// in front of this node (e.g. `127.0.0.1` for nginx on the same machine). A request from
    /// one of them is taken to come from the last address in its `X-Forwarded-For` that is
    /// not one of them (rate limits, sign-in records); from any other peer the header is
    /// ignored, so clients cannot choose their address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `DARKROOM_SHUTDOWN_GRACE_SECS` (default 20): after SIGTERM, how long a worker may
    /// finish its running job before it gives the job back to the queue (another worker then
    /// claims it at once) and stops. Below systemd's 90 s stop timeout.
    pub shutdown_grace_secs: u64,
    /// `DARKROOM_METRICS_TOKEN`: `/metrics` answers requests that send it as
    /// `Authorization: Bearer <token>`. Unset: `/metrics` is 404 on the site's address.
    pub metrics_token: Option<String>,
    /// `DARKROOM_METRICS_ADDR` (e.g. `127.0.0.1:9464`): also serve `/metrics`, without a
    /// token, on this address of a private network (web nodes and `darkroom worker` alike).
    pub metrics_addr: Option<String>,
    /// `DARKROOM_API_SYNC_TIMEOUT_SECS` (default 120): how long the OpenAI-compatible
    /// endpoints wait for their generations.
    pub api_sync_timeout_secs: u64,
    /// OpenAI Images (the `openai` generator), on when the key is set:
    /// `DARKROOM_OPENAI_API_KEY`, `DARKROOM_OPENAI_API_BASE` (default `https://api.openai.com`),
    /// `DARKROOM_OPENAI_IMAGE_MODEL` (default `gpt-image-1`).
    pub openai_api_key: Option<String>,
    pub openai_api_base: String,
    pub openai_image_model: String,
    /// Google Gemini image models (the `gemini` generator), on when the key is set:
    /// `DARKROOM_GEMINI_API_KEY`, `DARKROOM_GEMINI_API_BASE` (default
    /// `https://generativelanguage.googleapis.com`), `DARKROOM_GEMINI_IMAGE_MODEL` (default
    /// `gemini-2.5-flash-image`).
    pub gemini_api_key: Option<String>,
    pub gemini_api_base: String,
    pub gemini_image_model: String,
    /// `DARKROOM_VEO_MODEL`: the Veo model of the `veo` generator (image→video over the same
    /// Gemini API key; default `veo-3.0-fast-generate-001`); `DARKROOM_VEO_POLL_MS` how often
    /// its operation is read (default 10000) and `DARKROOM_VEO_WAIT_SECS` for how long
    /// (default 600).
    pub veo_model: String,
    pub veo_poll_ms: u64,
    pub veo_wait_secs: u64,
    /// OpenRouter (the `openrouter` generator), on when the key is set:
    /// `DARKROOM_OPENROUTER_API_KEY`, `DARKROOM_OPENROUTER_API_BASE` (default
    /// `https://openrouter.ai`), `DARKROOM_OPENROUTER_IMAGE_MODEL` (default
    /// `google/gemini-2.5-flash-image`).
    pub openrouter_api_key: Option<String>,
    pub openrouter_api_base: String,
    pub openrouter_image_model: String,
    /// A Stable Diffusion server with the AUTOMATIC1111 API (the `automatic1111` generator),
    /// on when `DARKROOM_A1111_API_BASE` is set (e.g. `http://127.0.0.1:7860`);
    /// `DARKROOM_A1111_AUTH` `user:password` for its `--api-auth`.
    pub a1111_api_base: Option<String>,
    pub a1111_auth: Option<String>,
    /// Replicate's predictions (the `replicate` generator), on when the token is set:
    /// `DARKROOM_REPLICATE_API_TOKEN`, `DARKROOM_REPLICATE_API_BASE` (default
    /// `https://api.replicate.com`), `DARKROOM_REPLICATE_MODEL` for text→image (default
    /// `black-forest-labs/flux-schnell`), `DARKROOM_REPLICATE_EDIT_MODEL` for image→image, which
    /// takes `input_image` (default `black-forest-labs/flux-kontext-pro`),
    /// `DARKROOM_REPLICATE_WEBHOOK_SECRET` (the `whsec_` secret of `GET /v1/webhooks/default/secret`;
    /// with it and `DARKROOM_PUBLIC_URL` Replicate calls `/providers/replicate/webhook`),
    /// `DARKROOM_REPLICATE_POLL_MS` between status reads (default 2000) and
    /// `DARKROOM_REPLICATE_WAIT_SECS` for a prediction in all (default 600).
    pub replicate_api_token: Option<String>,
    pub replicate_api_base: String,
    pub replicate_model: String,
    pub replicate_edit_model: String,
    /// `DARKROOM_REPLICATE_VIDEO_MODEL`: the image→video model of the `replicate-video`
    /// generator (default `wan-video/wan-2.2-i2v-fast`), and
    /// `DARKROOM_REPLICATE_VIDEO_IMAGE_FIELD` the input field it takes the photo in (`image`).
    pub replicate_video_model: String,
    pub replicate_video_image_field: String,
    pub replicate_webhook_secret: Option<String>,
    pub replicate_poll_ms: u64,
    pub replicate_wait_secs: u64,
    /// Every remote provider: `DARKROOM_PROVIDER_TIMEOUT_SECS` per attempt (default 120),
    /// `DARKROOM_PROVIDER_MAX_ATTEMPTS` in all (default 3), `DARKROOM_PROVIDER_BACKOFF_MS`
    /// backoff base (default 500), `DARKROOM_PROVIDER_OPEN_AFTER` failed calls that open the
    /// circuit (default 5) for `DARKROOM_PROVIDER_OPEN_SECS` (default 60).
    pub provider_timeout_secs: u64,
    pub provider_max_attempts: u32,
    pub provider_backoff_ms: u64,
    pub provider_open_after: u32,
    pub provider_open_secs: u64,
}

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    var_opt(name).unwrap_or(default)
}

/// `name` parsed, `None` when unset. Panics on a value that does not parse.
fn var_opt<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v} is not valid")))
}

/// An optional setting: unset or empty is `None`.
fn secret(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Threads each ffmpeg run may use: `DARKROOM_ENGINE_THREADS`, or every core of the
    /// machine when that is 0.
    pub fn video_threads(&self) -> u32 {
        match self.engine_threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get() as u32),
            n => n as u32,
        }
    }

    /// Reads the environment. Panics with the variable's name on an unparsable value.
    pub fn from_env() -> Self {
        let data_dir = PathBuf::from(var("DARKROOM_DATA_DIR", "data".to_string()));
        let default_db = format!("sqlite://{}", data_dir.join("darkroom.db").display());
        Self {
            database_url: var("DATABASE_URL", default_db),
            models_dir: PathBuf::from(var("DARKROOM_MODELS_DIR", data_dir.join("models").display().to_string())),
            media_dir: PathBuf::from(var("DARKROOM_MEDIA_DIR", data_dir.join("media").display().to_string())),
            s3: S3Settings::from_env(),
            addr: var("DARKROOM_ADDR", "127.0.0.1:3000".to_string()),
            site_root: PathBuf::from(var("DARKROOM_SITE_ROOT", "target/site".to_string())),
            signup_grant: var("DARKROOM_SIGNUP_GRANT", 50),
            generation_cost: var("DARKROOM_GENERATION_COST", 5),
            refund_on_failure: var("DARKROOM_REFUND_ON_FAILURE", true),
            refund_on_cancel: var("DARKROOM_REFUND_ON_CANCEL", true),
            stripe_secret_key: secret("DARKROOM_STRIPE_SECRET_KEY"),
            stripe_webhook_secret: secret("DARKROOM_STRIPE_WEBHOOK_SECRET"),
            stripe_api_base: var("DARKROOM_STRIPE_API_BASE", "https://api.stripe.com".to_string()),
            paypal_client_id: secret("DARKROOM_PAYPAL_CLIENT_ID"),
            paypal_client_secret: secret("DARKROOM_PAYPAL_CLIENT_SECRET"),
            paypal_webhook_id: secret("DARKROOM_PAYPAL_WEBHOOK_ID"),
            paypal_api_base: var("DARKROOM_PAYPAL_API_BASE", "https://api-m.paypal.com".to_string()),
            smtp_url: secret("DARKROOM_SMTP_URL"),
            outbox_dir: PathBuf::from(var("DARKROOM_OUTBOX_DIR", data_dir.join("outbox").display().to_string())),
            mail_from: var("DARKROOM_MAIL_FROM", "Darkroom <no-reply@darkroom.localhost>".to_string()),
            require_verified_email: var("DARKROOM_REQUIRE_VERIFIED_EMAIL", true),
            auth_rate_per_ip_per_hour: var("DARKROOM_AUTH_RATE_PER_IP_PER_HOUR", 60),
            auth_rate_per_account: var("DARKROOM_AUTH_RATE_PER_ACCOUNT", 5),
            support_rate_per_ip_per_hour: var("DARKROOM_SUPPORT_RATE_PER_IP_PER_HOUR", 5),
            google_client_id: secret("DARKROOM_GOOGLE_CLIENT_ID"),
            google_client_secret: secret("DARKROOM_GOOGLE_CLIENT_SECRET"),
            google_issuer: var("DARKROOM_GOOGLE_ISSUER", "https://accounts.google.com".to_string()),
            lease_secs: var("DARKROOM_JOB_LEASE_SECS", 30),
            workers: var("DARKROOM_WORKERS", 1),
            group_commit: var_opt("DARKROOM_GROUP_COMMIT"),
            max_side: var("DARKROOM_MAX_SIDE", 1024),
            engine_threads: var("DARKROOM_ENGINE_THREADS", 0),
            video_timeout_secs: var("DARKROOM_VIDEO_TIMEOUT_SECS", 600),
            scratch_dir: PathBuf::from(var("DARKROOM_SCRATCH_DIR", data_dir.join("scratch").display().to_string())),
            video_max_secs: var("DARKROOM_VIDEO_MAX_SECS", 10),
            min_age: var("DARKROOM_MIN_AGE", 18),
            terms_version: var("DARKROOM_TERMS_VERSION", "2026-11-22".to_string()),
            idle_limit_secs: var("DARKROOM_IDLE_LIMIT_SECS", 1800),
            reconnect_give_up_secs: var("DARKROOM_RECONNECT_GIVE_UP_SECS", 120),
            event_retention_secs: var("DARKROOM_EVENT_RETENTION_SECS", 86_400),
            event_retention_count: var("DARKROOM_EVENT_RETENTION_COUNT", 1000),
            write_timeout_secs: var("DARKROOM_WRITE_TIMEOUT_SECS", 60).max(1),
            render_previews: var("DARKROOM_RENDER_PREVIEWS", true),
            secure_cookies: var("DARKROOM_SECURE_COOKIES", false),
            upload: UploadLimits {
                max_bytes: var("DARKROOM_MAX_UPLOAD_BYTES", 20_000_000),
                max_pixels: var("DARKROOM_MAX_UPLOAD_PIXELS", 40_000_000),
            },
            media_url_secret: secret("DARKROOM_MEDIA_URL_SECRET"),
            signed_url_secs: var("DARKROOM_SIGNED_URL_SECS", 3600),
            c2pa_cert: std::env::var_os("DARKROOM_C2PA_CERT").filter(|v| !v.is_empty()).map(PathBuf::from),
            c2pa_key: std::env::var_os("DARKROOM_C2PA_KEY").filter(|v| !v.is_empty()).map(PathBuf::from),
            c2pa_alg: var("DARKROOM_C2PA_ALG", "es256".to_string()),
            public_url: var("DARKROOM_PUBLIC_URL", String::new()),
            upload_retention_days: var("DARKROOM_UPLOAD_RETENTION_DAYS", 7),
            result_retention_days: var("DARKROOM_RESULT_RETENTION_DAYS", 30),
            webhook_allow_http: var("DARKROOM_WEBHOOK_ALLOW_HTTP", false),
            webhook_retry_scale: var("DARKROOM_WEBHOOK_RETRY_SCALE", 1.0),
            api_key_rate_per_min: var("DARKROOM_API_KEY_RATE_PER_MIN", 120),
            api_ip_rate_per_min: var("DARKROOM_API_IP_RATE_PER_MIN", 600),
            page_rate_per_min: var("DARKROOM_PAGE_RATE_PER_MIN", 300),
            api_sync_timeout_secs: var("DARKROOM_API_SYNC_TIMEOUT_SECS", 120),
            shutdown_grace_secs: var("DARKROOM_SHUTDOWN_GRACE_SECS", 20),
            trusted_proxies: var("DARKROOM_TRUSTED_PROXIES", String::new())
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| v.parse().unwrap_or_else(|_| panic!("DARKROOM_TRUSTED_PROXIES: {v} is not an IP address")))
                .collect(),
            metrics_token: secret("DARKROOM_METRICS_TOKEN"),
            metrics_addr: secret("DARKROOM_METRICS_ADDR"),
            openai_api_key: secret("DARKROOM_OPENAI_API_KEY"),
            openai_api_base: var("DARKROOM_OPENAI_API_BASE", "https://api.openai.com".to_string()),
            openai_image_model: var("DARKROOM_OPENAI_IMAGE_MODEL", "gpt-image-1".to_string()),
            gemini_api_key: secret("DARKROOM_GEMINI_API_KEY"),
            gemini_api_base: var("DARKROOM_GEMINI_API_BASE", "https://generativelanguage.googleapis.com".to_string()),
            gemini_image_model: var("DARKROOM_GEMINI_IMAGE_MODEL", "gemini-2.5-flash-image".to_string()),
            veo_model: var("DARKROOM_VEO_MODEL", "veo-3.0-fast-generate-001".to_string()),
            veo_poll_ms: var("DARKROOM_VEO_POLL_MS", 10_000),
            veo_wait_secs: var("DARKROOM_VEO_WAIT_SECS", 600),
            openrouter_api_key: secret("DARKROOM_OPENROUTER_API_KEY"),
            openrouter_api_base: var("DARKROOM_OPENROUTER_API_BASE", "https://openrouter.ai".to_string()),
            openrouter_image_model: var("DARKROOM_OPENROUTER_IMAGE_MODEL", "google/gemini-2.5-flash-image".to_string()),
            a1111_api_base: secret("DARKROOM_A1111_API_BASE"),
            a1111_auth: secret("DARKROOM_A1111_AUTH"),
            replicate_api_token: secret("DARKROOM_REPLICATE_API_TOKEN"),
            replicate_api_base: var("DARKROOM_REPLICATE_API_BASE", "https://api.replicate.com".to_string()),
            replicate_model: var("DARKROOM_REPLICATE_MODEL", "black-forest-labs/flux-schnell".to_string()),
            replicate_edit_model: var("DARKROOM_REPLICATE_EDIT_MODEL", "black-forest-labs/flux-kontext-pro".to_string()),
            replicate_video_model: var("DARKROOM_REPLICATE_VIDEO_MODEL", "wan-video/wan-2.2-i2v-fast".to_string()),
            replicate_video_image_field: var("DARKROOM_REPLICATE_VIDEO_IMAGE_FIELD", "image".to_string()),
            replicate_webhook_secret: secret("DARKROOM_REPLICATE_WEBHOOK_SECRET"),
            replicate_poll_ms: var("DARKROOM_REPLICATE_POLL_MS", 2000),
            replicate_wait_secs: var("DARKROOM_REPLICATE_WAIT_SECS", 600),
            provider_timeout_secs: var("DARKROOM_PROVIDER_TIMEOUT_SECS", 120),
            provider_max_attempts: var("DARKROOM_PROVIDER_MAX_ATTEMPTS", 3),
            provider_backoff_ms: var("DARKROOM_PROVIDER_BACKOFF_MS", 500),
            provider_open_after: var("DARKROOM_PROVIDER_OPEN_AFTER", 5),
            provider_open_secs: var("DARKROOM_PROVIDER_OPEN_SECS", 60),
            moderation_policy: std::env::var_os("DARKROOM_MODERATION_POLICY").filter(|v| !v.is_empty()).map(PathBuf::from),
            data_dir,
        }
    }
}

/// Where an S3-compatible media store is (AWS S3, SeaweedFS, Ceph RGW, R2, MinIO, ...).
#[derive(Clone)]
pub struct S3Settings {
    /// `DARKROOM_S3_BUCKET`.
    pub bucket: String,
    /// `DARKROOM_S3_ENDPOINT` (e.g. `http://127.0.0.1:8333`; empty: AWS's own for the region).
    pub endpoint: Option<String>,
    /// `DARKROOM_S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `DARKROOM_S3_ACCESS_KEY_ID` and `DARKROOM_S3_SECRET_ACCESS_KEY` (empty: the AWS
    /// environment, e.g. an instance role, as `object_store` reads it).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `DARKROOM_S3_PATH_STYLE` (default `true` when an endpoint is set): `endpoint/bucket/key`
    /// rather than `bucket.endpoint/key`.
    pub path_style: bool,
    /// `DARKROOM_S3_PREFIX` (default none): every key below this folder, so one bucket can
    /// hold several deployments.
    pub prefix: Option<String>,
}

impl S3Settings {
    fn from_env() -> Option<Self> {
        let bucket = secret("DARKROOM_S3_BUCKET")?;
        let endpoint = secret("DARKROOM_S3_ENDPOINT");
        Some(Self {
            bucket,
            path_style: var("DARKROOM_S3_PATH_STYLE", endpoint.is_some()),
            endpoint,
            region: var("DARKROOM_S3_REGION", "us-east-1".to_string()),
            access_key_id: secret("DARKROOM_S3_ACCESS_KEY_ID"),
            secret_access_key: secret("DARKROOM_S3_SECRET_ACCESS_KEY"),
            prefix: secret("DARKROOM_S3_PREFIX"),
        })
    }
}

/// The URL with any `user:password@` part replaced by `…@`.
fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}…{}", &url[..scheme + 3], &url[at..]),
        _ => url.to_string(),
    }
}

impl std::fmt::Debug for Config {
    /// A summary without secrets: a derived `Debug` would put provider keys, payment secrets
    /// and the SMTP password into any log line or panic message that formats the settings.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets = [
            ("stripe_secret_key", &self.stripe_secret_key),
            ("stripe_webhook_secret", &self.stripe_webhook_secret),
            ("paypal_client_secret", &self.paypal_client_secret),
            ("google_client_secret", &self.google_client_secret),
            ("smtp_url", &self.smtp_url),
            ("media_url_secret", &self.media_url_secret),
            ("metrics_token", &self.metrics_token),
            ("openai_api_key", &self.openai_api_key),
            ("gemini_api_key", &self.gemini_api_key),
            ("openrouter_api_key", &self.openrouter_api_key),
            ("a1111_auth", &self.a1111_auth),
            ("replicate_api_token", &self.replicate_api_token),
            ("replicate_webhook_secret", &self.replicate_webhook_secret),
            ("s3_secret_access_key", &self.s3.as_ref().and_then(|s| s.secret_access_key.clone())),
        ];
        let set: Vec<&str> = secrets.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| *k).collect();
        f.debug_struct("Config")
            .field("database_url", &without_credentials(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("addr", &self.addr)
            .field("workers", &self.workers)
            .field("group_commit", &self.group_commit)
            .field("media", &self.s3.as_ref().map_or(format!("folder {}", self.media_dir.display()), |s| format!("s3 bucket {} at {}", s.bucket, s.endpoint.as_deref().unwrap_or("AWS"))))
            .field("secrets_set", &set)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let mut c = Config::from_env();
        c.database_url = "postgres://darkroom:pg-secret@db:5432/darkroom".into();
        c.openai_api_key = Some("sk-very-secret".into());
        c.smtp_url = Some("smtps://mailer:smtp-secret@mail.example.com".into());
        c.replicate_webhook_secret = Some("whsec_c2VjcmV0".into());
        c.s3 = Some(S3Settings { bucket: "b".into(), endpoint: None, region: "r".into(), access_key_id: Some("AKID".into()), secret_access_key: Some("s3-secret".into()), path_style: false, prefix: None });
        let shown = format!("{c:?} {c:#?}");
        for secret in ["pg-secret", "sk-very-secret", "smtp-secret", "whsec_c2VjcmV0", "s3-secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("openai_api_key") && shown.contains("postgres://…@db:5432/darkroom"), "{shown}");
    }
}
