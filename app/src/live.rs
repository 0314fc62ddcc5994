//! The live connection: one Server-Sent Events stream per tab (`GET /events`), carrying job
//! progress, balance changes and snapshots (SPEC §8).
//!
//! The server sets an id on every event and replays from the id the client asks for, so the
//! client owns reconnection: on a drop it closes the stream and retries with exponential
//! backoff and full jitter (delay = random(0, min(30 s, 1 s × 2^failures))), resuming after
//! the last id it applied; ids at or below that are ignored, so nothing is shown twice.
//! States and their texts are in [`Conn`]; [`ConnectionBanner`] shows them. Going online or
//! showing the tab again retries at once. After the operator's idle limit without input the
//! stream closes ("Session paused"); Resume re-validates the session first.
//! On the server this module only holds the signals; the stream runs in the browser.

use std::collections::HashMap;

use darkroom_contract::event::{JobState, LiveEvent};
use leptos::prelude::*;

use crate::api::Me;
use crate::i18n::{t, tf};

/// Failures after which the banner switches to the countdown.
pub const QUIET_FAILURES: u32 = 3;
/// Backoff cap and base, in seconds.
pub const BACKOFF_CAP_SECS: f64 = 30.0;
pub const BACKOFF_BASE_SECS: f64 = 1.0;

/// The live connection's state, as the banner shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum Conn {
    /// Not started (visitor, or before hydration).
    Off,
    /// Connected, or connecting for the first time: no banner.
    Open,
    /// A drop; the first few attempts run quietly with a short text.
    Reconnecting,
    /// Several attempts failed: countdown to the next one, with "Retry now".
    Waiting { seconds: u32 },
    /// Gave up after the operator's limit (default 2 min); "Retry" starts again.
    Lost,
    /// Inactive too long: the stream is closed until Resume.
    Paused,
    /// Resume found the session expired or revoked.
    ResumeFailed,
    /// The browser is offline (`navigator.onLine` false, the `offline` event): no attempts
    /// until its `online` event, which reconnects at once.
    Offline,
}

/// Full-jitter backoff delay in seconds for the `failures`-th consecutive failure, given a
/// uniform random number in 0..1.
pub fn backoff_secs(failures: u32, random: f64) -> f64 {
    let ceiling = (BACKOFF_BASE_SECS * 2f64.powi(failures.min(16) as i32)).min(BACKOFF_CAP_SECS);
    random.clamp(0.0, 1.0) * ceiling
}

/// Live signals: filled by the stream, read by the header, the pages and the banner.
#[derive(Clone, Copy)]
pub struct Live {
    /// Latest balance in credits, once an event said so.
    pub balance: RwSignal<Option<i64>>,
    /// Latest state per job id.
    pub jobs: RwSignal<HashMap<String, JobState>>,
    /// Events applied since the page loaded (each id once).
    pub received: RwSignal<u64>,
    /// Id of the last event applied.
    pub last_id: RwSignal<i64>,
    /// The id the page was rendered at: the stream applies every event after it.
    pub start_id: RwSignal<i64>,
    /// Bumped each time the stream opens again after it dropped, went offline or paused.
    /// The events missed meanwhile arrive on the stream, but a page's own reads made during
    /// the outage (a list read again after a submission) failed: a resource that tracks this
    /// reads again.
    pub resyncs: RwSignal<u64>,
    pub conn: RwSignal<Conn>,
    started: RwSignal<bool>,
}

impl Live {
    /// Creates the signals and provides them as context.
    pub fn provide() -> Self {
        let live = Self {
            balance: RwSignal::new(None),
            jobs: RwSignal::new(HashMap::new()),
            received: RwSignal::new(0),
            last_id: RwSignal::new(0),
            start_id: RwSignal::new(0),
            resyncs: RwSignal::new(0),
            conn: RwSignal::new(Conn::Off),
            started: RwSignal::new(false),
        };
        provide_context(live);
        live
    }

    /// Applies one event (`id`, `kind`, JSON `data`) unless its id was applied already.
    /// Returns whether it was applied (an event this page cannot read counts as applied,
    /// so the stream moves past it).
    pub fn apply(&self, id: i64, kind: &str, data: &str) -> bool {
        if id <= self.last_id.get_untracked() {
            return false;
        }
        self.last_id.set(id);
        let job = |u: JobState| {
            self.jobs.update(|m| {
                m.insert(u.id.clone(), u);
            });
        };
        match LiveEvent::parse(kind, data) {
            Ok(LiveEvent::Job(j)) => job(j),
            Ok(LiveEvent::Balance(b)) => self.balance.set(Some(b.balance)),
            Ok(LiveEvent::Snapshot(s)) => {
                self.balance.set(Some(s.balance));
                s.jobs.into_iter().for_each(job);
            }
            Err(e) => leptos::logging::warn!("live event {id}: {e}"),
        }
        self.received.update(|n| *n += 1);
        true
    }

    /// Opens the stream once the member is known (browser only; nothing on the server).
    pub fn start_when_signed_in(&self, me: Resource<Result<Option<Me>, ServerFnError>>) {
        #[cfg(feature = "hydrate")]
        if !self.started.get_untracked() {
            if let Some(Ok(Some(me))) = me.get() {
                self.started.set(true);
                self.last_id.set(me.last_event_id);
                self.start_id.set(me.last_event_id);
                client::start(*self, me.idle_limit_secs, me.reconnect_give_up_secs);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (me, self.started);
    }

    /// "Retry now" / "Retry": try at once (and start the give-up clock again).
    pub fn retry(&self) {
        #[cfg(feature = "hydrate")]
        client::retry(true);
    }

    /// "Resume": re-validate the session, then reconnect.
    pub fn resume(&self) {
        #[cfg(feature = "hydrate")]
        client::resume();
    }
}

/// The connection banner (announced to screen readers), on every page.
#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let live = expect_context::<Live>();
    view! {
        <div class="conn-banner-slot" aria-live="polite" role="status" data-testid="conn"
            data-state=move || format!("{:?}", live.conn.get()).split([' ', '{']).next().unwrap_or("").to_lowercase()
            data-received=move || live.received.get().to_string()
            data-last-id=move || live.last_id.get().to_string()
            data-start-id=move || live.start_id.get().to_string()>
            {move || match live.conn.get() {
                Conn::Off | Conn::Open => None,
                Conn::Offline => Some(view! {
                    <div class="conn-banner">
                        <strong>{t("conn.offline")}</strong>
                        " " {t("conn.offline_body")}
                    </div>
                }.into_any()),
                Conn::Reconnecting => Some(view! {
                    <div class="conn-banner">
                        <strong>{t("conn.reconnecting")}</strong>
                        " " {t("conn.reconnecting_body")}
                    </div>
                }.into_any()),
                Conn::Waiting { seconds } => Some(view! {
                    <div class="conn-banner">
                        <span>{tf("conn.waiting", &[("seconds", &seconds)])}</span>
                        <button type="button" on:click=move |_| live.retry()>{t("conn.retry_now")}</button>
                    </div>
                }.into_any()),
                Conn::Lost => Some(view! {
                    <div class="conn-banner error">
                        <span><strong>{t("conn.lost")}</strong>
                        " " {t("conn.lost_body")}</span>
                        <button type="button" on:click=move |_| live.retry()>{t("conn.retry")}</button>
                    </div>
                }.into_any()),
                Conn::Paused => Some(view! {
                    <div class="conn-banner">
                        <span><strong>{t("conn.paused")}</strong>
                        " " {t("conn.paused_body")}</span>
                        <button type="button" on:click=move |_| live.resume()>{t("conn.resume")}</button>
                    </div>
                }.into_any()),
                Conn::ResumeFailed => Some(view! {
                    <div class="conn-banner error">
                        <span><strong>{t("conn.resume_failed")}</strong>
                        " " {t("conn.resume_failed_body")}</span>
                        <button type="button" on:click=move |_| live.resume()>{t("conn.resume")}</button>
                        <a class="button" href="/signin" rel="external">{t("nav.sign_in")}</a>
                    </div>
                }.into_any()),
            }}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    //! The browser side: one EventSource at a time, timers, and the listeners that drive it.
    use std::cell::RefCell;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use super::{backoff_secs, Conn, Live, QUIET_FAILURES};
    use darkroom_contract::event::EventKind;

    struct Ctrl {
        live: Live,
        es: Option<web_sys::EventSource>,
        /// Consecutive failed attempts.
        failures: u32,
        /// When the current outage began (ms since page load), if any.
        outage_since: Option<f64>,
        /// Next attempt time (ms), while waiting.
        next_at: Option<f64>,
        retry_timer: Option<TimeoutHandle>,
        idle_limit_ms: f64,
        give_up_ms: f64,
        last_input: f64,
        /// Bumped on every (re)connect; stale callbacks compare and do nothing.
        generation: u32,
        /// The stream dropped, went offline or paused since it was last open: the next open
        /// bumps [`Live::resyncs`].
        resync_due: bool,
    }

    thread_local! {
        static CTRL: RefCell<Option<Ctrl>> = const { RefCell::new(None) };
    }

    fn now() -> f64 {
        window().performance().map(|p| p.now()).unwrap_or(0.0)
    }

    fn with<R>(f: impl FnOnce(&mut Ctrl) -> R) -> Option<R> {
        CTRL.with(|c| c.borrow_mut().as_mut().map(f))
    }

    fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(web_sys::Event) + 'static) {
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
        cb.forget(); // lives as long as the tab
    }

    pub fn start(live: Live, idle_limit_secs: u64, give_up_secs: u64) {
        CTRL.with(|c| {
            *c.borrow_mut() = Some(Ctrl {
                live,
                es: None,
                failures: 0,
                outage_since: None,
                next_at: None,
                retry_timer: None,
                idle_limit_ms: idle_limit_secs as f64 * 1000.0,
                give_up_ms: give_up_secs as f64 * 1000.0,
                last_input: now(),
                generation: 0,
                resync_due: false,
            })
        });
        let win: web_sys::EventTarget = window().into();
        listen(&win, "online", |_| retry(false));
        listen(&win, "offline", |_| {
            with(|c| {
                if !matches!(c.live.conn.get_untracked(), Conn::Paused | Conn::ResumeFailed | Conn::Off) {
                    go_offline(c);
                }
            });
        });
        let doc: web_sys::EventTarget = document().into();
        listen(&doc, "visibilitychange", |_| {
            if !document().hidden() {
                retry(false);
            }
        });
        for ev in ["pointerdown", "keydown", "scroll", "touchstart", "wheel"] {
            listen(&win, ev, |_| {
                with(|c| c.last_input = now());
            });
        }
        // Once a second: the countdown and the idle check.
        let _ = set_interval_with_handle(tick, Duration::from_secs(1));
        if online() {
            connect();
        } else {
            with(go_offline);
        }
    }

    fn tick() {
        with(|c| {
            let t = now();
            let conn = c.live.conn.get_untracked();
            let active = !matches!(conn, Conn::Paused | Conn::ResumeFailed | Conn::Off);
            if active && c.idle_limit_ms > 0.0 && t - c.last_input > c.idle_limit_ms {
                pause(c);
                return;
            }
            if let (Conn::Waiting { .. }, Some(at)) = (conn, c.next_at) {
                let seconds = ((at - t) / 1000.0).ceil().max(1.0) as u32;
                c.live.conn.set(Conn::Waiting { seconds });
            }
        });
    }

    fn close(c: &mut Ctrl) {
        if let Some(es) = c.es.take() {
            es.close();
        }
        if let Some(t) = c.retry_timer.take() {
            t.clear();
        }
        c.next_at = None;
        c.generation += 1;
    }

    /// Offline: the stream and any pending attempt stop; the `online` event starts again.
    fn go_offline(c: &mut Ctrl) {
        close(c);
        c.resync_due = true;
        c.live.conn.set(Conn::Offline);
    }

    fn online() -> bool {
        window().navigator().on_line()
    }

    fn pause(c: &mut Ctrl) {
        close(c);
        c.resync_due = true;
        c.live.conn.set(Conn::Paused);
    }

    fn connect() {
        let Some((live, generation, after)) = with(|c| {
            close(c);
            (c.live, c.generation, c.live.last_id.get_untracked())
        }) else {
            return;
        };
        let Ok(es) = web_sys::EventSource::new(&format!("/events?after={after}")) else { return };
        let target: &web_sys::EventTarget = es.as_ref();
        let current = move || with(|c| c.generation == generation).unwrap_or(false);
        listen(target, "open", move |_| {
            if current() {
                with(|c| {
                    c.failures = 0;
                    c.outage_since = None;
                    c.live.conn.set(Conn::Open);
                    if std::mem::take(&mut c.resync_due) {
                        c.live.resyncs.update(|n| *n += 1);
                    }
                });
            }
        });
        for kind in EventKind::ALL.iter().map(|k| k.as_str()) {
            listen(target, kind, move |ev| {
                if !current() {
                    return;
                }
                if let Ok(m) = ev.dyn_into::<web_sys::MessageEvent>() {
                    let id = m.last_event_id().parse::<i64>().unwrap_or(0);
                    if let Some(data) = m.data().as_string() {
                        live.apply(id, kind, &data);
                    }
                }
            });
        }
        listen(target, "error", move |_| {
            if current() {
                failed();
            }
        });
        with(|c| {
            if c.live.conn.get_untracked() != Conn::Reconnecting && c.failures == 0 {
                c.live.conn.set(Conn::Open);
            }
            c.es = Some(es);
        });
    }

    /// The stream dropped or could not open: close it (we own retrying) and schedule the next
    /// attempt, or give up once the outage is older than the operator's limit.
    fn failed() {
        with(|c| {
            if let Some(es) = c.es.take() {
                es.close();
            }
            c.generation += 1;
            c.resync_due = true;
            if !online() {
                go_offline(c);
                return;
            }
            let t = now();
            let since = *c.outage_since.get_or_insert(t);
            c.failures += 1;
            if t - since > c.give_up_ms {
                c.live.conn.set(Conn::Lost);
                return;
            }
            let delay = backoff_secs(c.failures, js_sys_random());
            c.next_at = Some(t + delay * 1000.0);
            if c.failures < QUIET_FAILURES {
                c.live.conn.set(Conn::Reconnecting);
            } else {
                c.live.conn.set(Conn::Waiting { seconds: delay.ceil().max(1.0) as u32 });
            }
            // `delay` is in seconds (as `next_at` and the banner's countdown read it).
            c.retry_timer = set_timeout_with_handle(connect, Duration::from_secs_f64(delay)).ok();
        });
    }

    fn js_sys_random() -> f64 {
        let mut b = [0u8; 4];
        let ok = window().crypto().ok().and_then(|c| c.get_random_values_with_u8_array(&mut b).ok()).is_some();
        if ok { u32::from_le_bytes(b) as f64 / u32::MAX as f64 } else { 0.5 }
    }

    /// Try now. `manual`: a button press, which also restarts the give-up clock. Automatic
    /// triggers (online, tab shown) only act while not connected and not paused.
    pub fn retry(manual: bool) {
        let go = with(|c| {
            let conn = c.live.conn.get_untracked();
            if manual {
                c.outage_since = None;
                c.failures = 0;
                c.live.conn.set(Conn::Reconnecting);
                true
            } else if conn == Conn::Offline {
                // Back online: the time offline does not count towards giving up.
                c.outage_since = None;
                c.failures = 0;
                c.live.conn.set(Conn::Reconnecting);
                true
            } else {
                matches!(conn, Conn::Reconnecting | Conn::Waiting { .. } | Conn::Lost)
            }
        })
        .unwrap_or(false);
        if go {
            connect();
        }
    }

    pub fn resume() {
        leptos::task::spawn_local(async {
            match crate::api::get_me().await {
                Ok(Some(_)) => {
                    with(|c| {
                        c.last_input = now();
                        c.failures = 0;
                        c.outage_since = None;
                        c.live.conn.set(Conn::Open);
                    });
                    connect();
                }
                _ => {
                    with(|c| c.live.conn.set(Conn::ResumeFailed));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_capped() {
        assert_eq!(backoff_secs(1, 1.0), 2.0);
        assert_eq!(backoff_secs(3, 1.0), 8.0);
        assert_eq!(backoff_secs(10, 1.0), BACKOFF_CAP_SECS);
        assert_eq!(backoff_secs(3, 0.0), 0.0);
        assert_eq!(backoff_secs(4, 0.5), 8.0);
    }
}
