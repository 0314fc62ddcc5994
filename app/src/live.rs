//! The live connection: one Server-Sent Events stream per tab (`GET /events`), carrying job
//! progress and balance changes (SPEC §8). The server sets an id on every event and replays
//! from `Last-Event-ID` (the browser sends it on reconnect), so none is missed or repeated.
//! On the server this module only holds the signals; the stream runs in the browser.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::Deserialize;

use crate::api::Me;

/// A job's live state, as the `job` event carries it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct JobUpdate {
    pub id: String,
    pub status: String,
    pub progress: i64,
    pub error: Option<String>,
}

/// Live signals: filled by the stream, read by the header and the pages.
#[derive(Clone, Copy)]
pub struct Live {
    /// Latest balance in credits, once an event said so.
    pub balance: RwSignal<Option<i64>>,
    /// Latest state per job id.
    pub jobs: RwSignal<HashMap<String, JobUpdate>>,
    /// Events applied since the page loaded (each id once).
    pub received: RwSignal<u64>,
    started: RwSignal<bool>,
}

impl Live {
    /// Creates the signals and provides them as context.
    pub fn provide() -> Self {
        let live = Self {
            balance: RwSignal::new(None),
            jobs: RwSignal::new(HashMap::new()),
            received: RwSignal::new(0),
            started: RwSignal::new(false),
        };
        provide_context(live);
        live
    }

    /// Applies one event (`kind`, JSON `data`).
    pub fn apply(&self, kind: &str, data: &str) {
        match kind {
            "job" => {
                if let Ok(u) = serde_json::from_str::<JobUpdate>(data) {
                    self.jobs.update(|m| {
                        m.insert(u.id.clone(), u);
                    });
                }
            }
            "balance" => {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
                    self.balance.set(v["balance"].as_i64());
                }
            }
            _ => {}
        }
        self.received.update(|n| *n += 1);
    }

    /// Opens the stream once the member is known (browser only; nothing on the server).
    pub fn start_when_signed_in(&self, me: Resource<Result<Option<Me>, ServerFnError>>) {
        #[cfg(feature = "hydrate")]
        if !self.started.get_untracked() {
            if let Some(Ok(Some(me))) = me.get() {
                self.started.set(true);
                connect(*self, me.last_event_id);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (me, self.started);
    }
}

#[cfg(feature = "hydrate")]
fn connect(live: Live, after: i64) {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    let Ok(es) = web_sys::EventSource::new(&format!("/events?after={after}")) else { return };
    for kind in ["job", "balance"] {
        let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(data) = ev.data().as_string() {
                live.apply(kind, &data);
            }
        });
        let _ = es.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
        cb.forget();
    }
    // The stream lives as long as the tab.
    std::mem::forget(es);
}
