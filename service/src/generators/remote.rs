//! What every remote provider shares: timeouts, retries with backoff, the circuit breaker and
//! the health figures.
//!
//! - **Timeouts**: a connect timeout and a total timeout per attempt ([`RemoteSettings`]).
//! - **Retries**: on 408, 429, 5xx and on connection errors and timeouts, up to
//!   `max_attempts` in all, waiting `Retry-After` (seconds or an HTTP date, RFC 9110 §10.2.3)
//!   when the provider sends it, else exponential backoff with full jitter (AWS Architecture
//!   Blog, "Exponential Backoff And Jitter": `random(0, min(cap, base × 2^attempt))`). Never on
//!   400, 401, 402, 403 or any other answer: the request itself is wrong, or the account is.
//! - **Circuit breaker** ([`Breaker`]): after `open_after` failed calls in a row (each one a
//!   call that exhausted its retries) the provider is skipped for `open_for`; then one trial
//!   call is let through (half-open): a success closes it, a failure opens it again.
//!   While open, a call fails at once as [`GenerateError::Unavailable`], so the plan's next
//!   generator runs.
//! - **Health** ([`Health`]): last success, last failure with its error, latencies and
//!   outcomes of the last day, for the operator's console and the logs.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;

use super::GenerateError;

/// Timeouts, retries and breaker settings of one provider.
#[derive(Clone, Debug)]
pub struct RemoteSettings {
    pub connect_timeout: Duration,
    /// Per attempt, from sending the request to the end of the body.
    pub timeout: Duration,
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// Backoff base and cap.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The longest `Retry-After` honoured; a provider asking for longer is unavailable now.
    pub max_retry_after: Duration,
    /// Failed calls in a row that open the circuit, and for how long it stays open.
    pub open_after: u32,
    pub open_for: Duration,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            max_attempts: 3,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            open_after: 5,
            open_for: Duration::from_secs(60),
        }
    }
}

impl RemoteSettings {
    /// The operator's settings (`DARKROOM_PROVIDER_*`, see [`crate::Config`]).
    pub fn from_config(config: &crate::Config) -> Self {
        Self {
            timeout: Duration::from_secs(config.provider_timeout_secs.max(1)),
            max_attempts: config.provider_max_attempts.max(1),
            backoff_base: Duration::from_millis(config.provider_backoff_ms),
            open_after: config.provider_open_after.max(1),
            open_for: Duration::from_secs(config.provider_open_secs),
            ..Self::default()
        }
    }
}

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    /// Skipped until the instant.
    Open { until: Instant },
    /// One trial call is in flight.
    HalfOpen,
}

/// A provider's circuit breaker and health figures.
#[derive(Debug)]
pub struct Breaker {
    inner: Mutex<BreakerInner>,
    open_after: u32,
    open_for: Duration,
}

#[derive(Debug)]
struct BreakerInner {
    state: BreakerState,
    failures_in_a_row: u32,
    health: Health,
}

/// What the console shows of a provider.
#[derive(Clone, Debug, Default)]
pub struct Health {
    pub last_success: Option<SystemTime>,
    pub last_failure: Option<(SystemTime, String)>,
    /// `(when, latency, ok)` of each call in the last 24 hours, oldest first.
    pub calls: VecDeque<(SystemTime, Duration, bool)>,
}

impl Health {
    /// Error rate (0..=1) and p50/p95 latency of successful calls over the last `window`.
    pub fn summary(&self, window: Duration) -> (f64, Option<Duration>, Option<Duration>) {
        let since = SystemTime::now() - window;
        let recent: Vec<_> = self.calls.iter().filter(|(t, _, _)| *t >= since).collect();
        if recent.is_empty() {
            return (0.0, None, None);
        }
        let errors = recent.iter().filter(|(_, _, ok)| !ok).count() as f64 / recent.len() as f64;
        let mut ok: Vec<Duration> = recent.iter().filter(|(_, _, ok)| *ok).map(|(_, d, _)| *d).collect();
        ok.sort();
        let pick = |q: f64| (!ok.is_empty()).then(|| ok[((ok.len() - 1) as f64 * q).round() as usize]);
        (errors, pick(0.5), pick(0.95))
    }
}

impl Breaker {
    pub fn new(settings: &RemoteSettings) -> Self {
        Self {
            inner: Mutex::new(BreakerInner { state: BreakerState::Closed, failures_in_a_row: 0, health: Health::default() }),
            open_after: settings.open_after.max(1),
            open_for: settings.open_for,
        }
    }

    /// May a call go out now? An open circuit past its time lets one trial through.
    pub fn admit(&self) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match g.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen => false,
            BreakerState::Open { until } if Instant::now() >= until => {
                g.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } => false,
        }
    }

    /// Records a call's outcome (after its retries).
    pub fn record(&self, latency: Duration, outcome: Result<(), &str>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = SystemTime::now();
        g.health.calls.push_back((now, latency, outcome.is_ok()));
        while g.health.calls.front().is_some_and(|(t, _, _)| *t < now - Duration::from_secs(86_400)) {
            g.health.calls.pop_front();
        }
        match outcome {
            Ok(()) => {
                g.health.last_success = Some(now);
                g.failures_in_a_row = 0;
                g.state = BreakerState::Closed;
            }
            Err(e) => {
                g.health.last_failure = Some((now, e.to_string()));
                g.failures_in_a_row += 1;
                if g.state == BreakerState::HalfOpen || g.failures_in_a_row >= self.open_after {
                    g.state = BreakerState::Open { until: Instant::now() + self.open_for };
                }
            }
        }
    }

    pub fn state(&self) -> BreakerState {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).state
    }

    pub fn health(&self) -> Health {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).health.clone()
    }
}

/// The HTTP client of a provider: its timeouts, no redirects, Darkroom's user agent. The
/// provider's base URL is the operator's setting, not a member's, so it is not the
/// `outbound` client (which refuses internal addresses). Errors: the TLS stack could not
/// start.
pub fn client(settings: &RemoteSettings) -> Result<reqwest::Client, GenerateError> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Darkroom/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GenerateError::Failed(e.to_string()))
}

/// The capabilities of a remote image provider: image→image from the member's photo and
/// text→image from the prompt alone (the job's mode decides whether a photo comes), `prompt`
/// as it needs one for edits (text→image always needs one), outputs up to `max_side` pixels.
pub fn image_capabilities(prompt: super::Need, max_side: u32) -> super::Capabilities {
    super::Capabilities {
        modes: &[darkroom_contract::Mode::ImageToImage, darkroom_contract::Mode::TextToImage],
        photo: super::Need::Optional,
        style_image: super::Need::No,
        prompt,
        negative_prompt: prompt != super::Need::Required,
        seed: prompt != super::Need::Required,
        size: false,
        max_side,
        remote: true,
    }
}

/// The photo of `inputs` as PNG (`None`: a text→image job, which has none), after checking
/// the prompt a provider needs for an edit (text→image always needs one). Errors:
/// [`GenerateError::BadInput`] without the prompt needed.
pub async fn photo_png(inputs: &mut super::Inputs, prompt: super::Need) -> Result<Option<Vec<u8>>, GenerateError> {
    let photo = inputs.photo.take();
    if (prompt == super::Need::Required || photo.is_none()) && inputs.prompt.trim().is_empty() {
        return Err(GenerateError::BadInput("This generator needs a prompt.".into()));
    }
    match photo {
        Some(p) => Ok(Some(png_of(p).await?)),
        None => Ok(None),
    }
}

/// The member's photo as PNG for a provider: the pixels only (no EXIF, GPS or XMP can
/// survive a re-encode from pixels), off the async runtime.
pub async fn png_of(img: image::RgbImage) -> Result<Vec<u8>, GenerateError> {
    tokio::task::spawn_blocking(move || darkroom_engine::imageio::encode_png(&img)).await.map_err(|e| GenerateError::Failed(e.to_string()))
}

/// A provider's base64 image (PNG, JPEG or WebP) decoded to RGB. Errors:
/// [`GenerateError::Failed`] naming the provider.
pub async fn image_of(provider: &str, b64: &str) -> Result<image::RgbImage, GenerateError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| GenerateError::Failed(format!("{provider}: the image is not base64: {e}")))?;
    tokio::task::spawn_blocking(move || image::load_from_memory(&bytes).map(|i| i.into_rgb8()))
        .await
        .map_err(|e| GenerateError::Failed(e.to_string()))?
        .map_err(|e| GenerateError::Failed(format!("{provider}: the image does not decode: {e}")))
}

/// A provider's answer that ends the retries: the status and the body.
pub struct Answer {
    pub status: u16,
    pub body: bytes::Bytes,
}

/// Whether a status is worth another attempt.
pub fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// The wait a `Retry-After` value asks for: delay-seconds or an HTTP date.
pub fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate(v)?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// An HTTP date (IMF-fixdate and the two obsolete forms, RFC 9110 §5.6.7).
fn httpdate(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok()
}

/// Full-jitter backoff before attempt `n` (1 = the first retry).
fn backoff(settings: &RemoteSettings, n: u32) -> Duration {
    let ceiling = settings.backoff_cap.min(settings.backoff_base.saturating_mul(1u32 << n.min(16)));
    Duration::from_secs_f64(rand::thread_rng().gen_range(0.0..=ceiling.as_secs_f64()))
}

/// What a provider's module reads in an answer whose status is retryable (408, 429, 5xx).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hint {
    /// Retry as usual (`Retry-After`, else backoff).
    Retry,
    /// Do not retry (an exhausted quota answers 429 too): the answer is returned.
    Final,
    /// Retry after this long (a wait the provider gives in its body, e.g. Google's
    /// `google.rpc.RetryInfo`); a `Retry-After` header still wins.
    RetryAfter(Duration),
}

impl From<bool> for Hint {
    fn from(is_final: bool) -> Self {
        if is_final {
            Hint::Final
        } else {
            Hint::Retry
        }
    }
}

/// Sends the request `make` builds, with the provider's retries, and records the outcome in
/// `breaker`. Returns the final answer whatever its status (the provider's module reads its
/// errors); a retryable failure after the last attempt, a `Retry-After` longer than allowed,
/// an open circuit or a transport failure are [`GenerateError::Unavailable`].
///
/// `hint(status, body)` reads answers with a retryable status: `true` or [`Hint::Final`]
/// when they still must not be retried (an exhausted quota answers 429 too),
/// [`Hint::RetryAfter`] for a wait given in the body.
pub async fn send<H>(
    provider: &str,
    settings: &RemoteSettings,
    breaker: &Breaker,
    make: impl Fn() -> reqwest::RequestBuilder,
    hint: impl Fn(u16, &[u8]) -> H,
) -> Result<Answer, GenerateError>
where
    H: Into<Hint>,
{
    if !breaker.admit() {
        return Err(GenerateError::Unavailable(format!("{provider}: circuit open after repeated failures")));
    }
    let start = Instant::now();
    let mut last = String::new();
    for attempt in 1..=settings.max_attempts.max(1) {
        let wait = match make().send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
                match resp.bytes().await {
                    Ok(body) => {
                        let hint = if retryable(status) { hint(status, &body).into() } else { Hint::Final };
                        if hint == Hint::Final {
                            // The provider answered: a refused request (4xx) is the request's
                            // fault or the account's, not the provider's health.
                            breaker.record(start.elapsed(), Ok(()));
                            return Ok(Answer { status, body });
                        }
                        last = format!("HTTP {status}");
                        match hint {
                            Hint::RetryAfter(w) => after.or(Some(w)),
                            _ => after,
                        }
                    }
                    Err(e) => {
                        last = if e.is_timeout() { "timed out reading the answer".to_string() } else { format!("reading the answer: {e}") };
                        None
                    }
                }
            }
            Err(e) => {
                last = if e.is_timeout() { "timed out".to_string() } else { format!("transport: {e}") };
                None
            }
        };
        if attempt == settings.max_attempts.max(1) {
            break;
        }
        let wait = match wait {
            Some(w) if w > settings.max_retry_after => {
                last = format!("{last}; Retry-After {}s is longer than allowed", w.as_secs());
                break;
            }
            Some(w) => w,
            None => backoff(settings, attempt),
        };
        tracing::warn!(provider, attempt, error = %last, wait_ms = wait.as_millis() as u64, "provider call failed; retrying");
        tokio::time::sleep(wait).await;
    }
    breaker.record(start.elapsed(), Err(&last));
    tracing::error!(provider, error = %last, "provider unavailable after retries");
    Err(GenerateError::Unavailable(format!("{provider}: {last}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO), "a past date: no wait");
        assert!(retry_after("soon").is_none());
        let later = httpdate("Fri, 01 Jan 2100 00:00:00 GMT").unwrap();
        assert!(later > SystemTime::now());
        assert!([400, 401, 402, 403, 404, 422].iter().all(|s| !retryable(*s)));
        assert!([408, 429, 500, 502, 503].iter().all(|s| retryable(*s)));
    }

    #[test]
    fn the_breaker_opens_after_failures_and_half_opens_later() {
        let settings = RemoteSettings { open_after: 2, open_for: Duration::from_millis(50), ..Default::default() };
        let b = Breaker::new(&settings);
        assert!(b.admit());
        b.record(Duration::from_millis(5), Err("HTTP 500"));
        assert_eq!(b.state(), BreakerState::Closed);
        b.record(Duration::from_millis(5), Err("HTTP 500"));
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert!(!b.admit(), "open: skipped");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.admit(), "one trial after the cool-down");
        assert!(!b.admit(), "only one");
        b.record(Duration::from_millis(5), Err("HTTP 500"));
        assert!(matches!(b.state(), BreakerState::Open { .. }), "a failed trial opens it again");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.admit());
        b.record(Duration::from_millis(7), Ok(()));
        assert_eq!(b.state(), BreakerState::Closed);
        let (errors, p50, _) = b.health().summary(Duration::from_secs(3600));
        assert!((errors - 0.75).abs() < 1e-9 && p50 == Some(Duration::from_millis(7)), "{errors} {p50:?}");
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        let s = RemoteSettings { backoff_base: Duration::from_millis(100), backoff_cap: Duration::from_millis(300), ..Default::default() };
        for n in 1..20 {
            assert!(backoff(&s, n) <= Duration::from_millis(300));
        }
    }
}
