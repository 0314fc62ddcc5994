//! The moderators' review queue (SPEC §6): each held job or report with its image and the
//! detector's boxes drawn on it, the labels and scores, the prompt, the owner's standing and
//! history; approve or reject with a reason (keys `a` and `r` act on the first item);
//! filters by kind and category.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::moderation::{
    category_label, moderation_queue, BoxView, DecisionView, LiftStanding, QueueEntry, RuleOnJob, RuleOnReport,
};
use crate::i18n::{t, tf, title};
use crate::pages::{format_time, MembersOnly};

/// The queue's rulings and the queue itself, made above `MembersOnly` (whose `Suspend` may
/// run its children several times on the server: resources made inside were fetched once
/// per run, and a job held between two runs made the HTML and the hydrated data differ).
#[derive(Clone, Copy)]
struct QueueData {
    rule_job: ServerAction<RuleOnJob>,
    rule_report: ServerAction<RuleOnReport>,
    lift: ServerAction<LiftStanding>,
    items: Resource<Result<Vec<QueueEntry>, ServerFnError>>,
}

#[component]
pub fn ModerationPage() -> impl IntoView {
    let query = use_query_map();
    let (rule_job, rule_report, lift) = (ServerAction::<RuleOnJob>::new(), ServerAction::<RuleOnReport>::new(), ServerAction::<LiftStanding>::new());
    let items = Resource::new(
        move || (query.with(|q| q.get("kind")), query.with(|q| q.get("category")), rule_job.version().get(), rule_report.version().get(), lift.version().get()),
        |(k, c, ..)| moderation_queue(k, c),
    );
    let data = QueueData { rule_job, rule_report, lift, items };
    view! {
        <Title text=title("nav.moderation")/>
        <MembersOnly>
            <Queue data/>
        </MembersOnly>
    }
}

use darkroom_contract::Category;
const CATEGORIES: [&str; 4] = [Category::Sexual.as_str(), Category::Minors.as_str(), Category::Violence.as_str(), Category::Other.as_str()];

#[component]
fn Queue(data: QueueData) -> impl IntoView {
    let QueueData { rule_job, rule_report, lift, items } = data;
    let query = use_query_map();
    let kind = move || query.with(|q| q.get("kind"));
    let category = move || query.with(|q| q.get("category"));
    // One key per ruling on the first item: `a` approves, `r` rejects (not while typing).
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            use wasm_bindgen::JsCast;
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            let button = match ev.key().as_str() {
                "a" => "[data-testid=approve]",
                "r" => "[data-testid=reject]",
                _ => return,
            };
            if typing {
                return;
            }
            if let Some(b) = document().query_selector(button).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                b.click();
            }
        });
        on_cleanup(move || handle.remove());
    }
    let failure = move || {
        [rule_job.value().get().and_then(Result::err), rule_report.value().get().and_then(Result::err), lift.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
            .map(|e| view! { <p class="notice error" role="alert">{crate::pages::server_message(&e)}</p> })
    };
    view! {
        <section class="page moderation">
            <h1>{t("mod.title")}</h1>
            <Form method="GET" action="" attr:class="filters" on:change=crate::pages::apply_on_change>
                <label>{t("plans.kind")} " "
                    <select name="kind" data-testid="filter-kind">
                        <option value="" selected=move || kind().is_none()>{t("mod.all")}</option>
                        <option value="review" selected=move || kind().as_deref() == Some("review")>{t("mod.held_gate")}</option>
                        <option value="report" selected=move || kind().as_deref() == Some("report")>{t("mod.reports")}</option>
                    </select>
                </label>
                <label>{t("mod.category")} " "
                    <select name="category" data-testid="filter-category">
                        <option value="">{t("mod.all")}</option>
                        {CATEGORIES.map(|c| view! { <option value=c selected=move || category().as_deref() == Some(c)>{category_label(c)}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">{t("filter.apply")}</button>
                <small class="muted">" " {t("mod.keys")}</small>
            </Form>
            {failure}
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Err(e) => view! { <p class="notice error" role="alert">{crate::pages::server_message(&e)}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p data-testid="queue-empty">{t("mod.empty")}</p> }.into_any(),
                        Ok(list) => view! {
                            <ol class="queue" data-testid="queue">
                                {list.into_iter().map(|e| view! { <Entry entry=e rule_job rule_report lift/> }).collect_view()}
                            </ol>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Most stills of flagged frames one queued clip shows.
const MAX_STILLS: usize = 6;

/// A detector's boxes drawn over the image they were found on (`width`×`height` pixels): an
/// SVG laid over the image whose user units are the image's pixels, so the boxes scale with
/// it. SVG geometry, not positioned elements: the page's Content-Security-Policy
/// (`style-src 'self'`) blocks inline style attributes.
fn det_boxes(boxes: Vec<BoxView>, width: i64, height: i64) -> AnyView {
    let (w, h) = (width.max(1), height.max(1));
    // Labels are a thirtieth of the image's width tall, whatever size it is shown at.
    let font = (w as f64 / 30.0).max(8.0);
    view! {
        <svg class="det-boxes" viewBox=format!("0 0 {w} {h}") aria-hidden="true">
            {boxes.into_iter().map(|b| {
                let [x, y, bw, bh] = b.rect;
                let text_y = if y as f64 > font * 1.2 { y as f64 - font * 0.3 } else { (y + bh) as f64 + font };
                view! {
                    <g class="det-box" class:flagged=b.flagged data-testid="det-box">
                        <rect x=x y=y width=bw height=bh vector-effect="non-scaling-stroke"/>
                        <text x=x y=format!("{text_y:.1}") font-size=format!("{font:.1}")>{format!("{} {:.2}", b.label, b.score)}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
    .into_any()
}

/// The flagged frames of a clip as stills (`?t=` on its media URL, moderators only), each
/// with the boxes found on it, in time order, at most [`MAX_STILLS`].
fn frame_stills(url: &str, boxes: &[BoxView], width: i64, height: i64) -> impl IntoView {
    let mut times: Vec<f64> = boxes.iter().filter(|b| b.flagged).filter_map(|b| b.frame_secs).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    times.truncate(MAX_STILLS);
    view! {
        <div class="frame-stills" data-testid="frame-stills">
            {times.into_iter().map(|secs| {
                let here: Vec<BoxView> = boxes.iter().filter(|b| b.frame_secs == Some(secs)).cloned().collect();
                view! {
                    <figure class="frame-still">
                        <div class="mod-image">
                            <img src=format!("{url}?t={secs}") alt=t("mod.image_alt") width=width height=height loading="lazy"/>
                            {det_boxes(here, width, height)}
                        </div>
                        <figcaption>{format!("{secs:.1} s")}</figcaption>
                    </figure>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn Entry(
    entry: QueueEntry,
    rule_job: ServerAction<RuleOnJob>,
    rule_report: ServerAction<RuleOnReport>,
    lift: ServerAction<LiftStanding>,
) -> impl IntoView {
    let QueueEntry { kind, job_id, prompt, created_at, image_url, image_width, image_height, boxes, video, decisions, report, owner_id, owner_name, owner_email, owner_active_strikes, owner_restricted_until, owner_suspended, owner_history, .. } = entry;
    let flagged_category = decisions
        .iter()
        .rev()
        .find_map(|d| d.category.map(|c| c.to_string()))
        .or_else(|| report.as_ref().map(|r| r.reason.clone()))
        .filter(|c| CATEGORIES.contains(&c.as_str()))
        .unwrap_or_else(|| darkroom_contract::Category::Other.to_string());
    let category_select = move |selected: String| {
        view! {
            <select name="category" aria-label=t("mod.category_label")>
                {CATEGORIES.map(|c| view! { <option value=c selected=c == selected>{category_label(c)}</option> }).collect_view()}
            </select>
        }
    };
    let standing = if owner_suspended {
        t("mod.suspended").to_string()
    } else if let Some(at) = owner_restricted_until {
        tf("mod.restricted", &[("time", &format_time(at))])
    } else {
        t("mod.good").to_string()
    };
    let (approve_id, reject_id) = (job_id.clone(), job_id.clone());
    let has_standing = owner_suspended || owner_restricted_until.is_some() || owner_active_strikes > 0;
    view! {
        <li class="queue-item" data-job-id=job_id data-kind=kind.clone() data-testid="queue-item">
            {if video {
                let stills = frame_stills(&image_url, &boxes, image_width, image_height);
                view! {
                    <figure class="mod-video">
                        <video src=image_url controls=true muted=true preload="metadata" width=image_width height=image_height data-testid="mod-video"></video>
                        <figcaption>
                            <ul class="frame-findings" data-testid="frame-findings">
                                {boxes.iter().filter(|b| b.flagged).map(|b| view! {
                                    <li>{format!("{} {:.2} · {:.1} s", b.label, b.score, b.frame_secs.unwrap_or(0.0))}</li>
                                }).collect_view()}
                            </ul>
                            {stills}
                        </figcaption>
                    </figure>
                }.into_any()
            } else {
                view! {
                    <figure class="mod-image">
                        <img src=image_url alt=t("mod.image_alt") width=image_width height=image_height/>
                        {det_boxes(boxes, image_width, image_height)}
            </figure>
                }.into_any()
            }}
            <div class="mod-body">
                <p>
                    <strong>{if kind == "report" { t("mod.report") } else { t("mod.held") }}</strong>
                    " · " {format_time(created_at)}
                </p>
                {report.clone().map(|r| view! {
                    <p class="notice">{t("mod.reported_for")} " " <strong>{category_label(&r.reason)}</strong>
                        {(!r.note.is_empty()).then(|| format!(": “{}”", r.note))}
                    </p>
                })}
                <p><span class="muted">{t("mod.prompt")} " "</span>{if prompt.is_empty() { t("mod.none").to_string() } else { prompt }}</p>
                <Decisions list=decisions/>
                <p>
                    <span class="muted">{t("mod.member")} " "</span>{owner_name}" <"{owner_email}"> · "
                    <span data-testid="owner-standing">{standing}</span>
                    {tf("mod.strikes", &[("n", &owner_active_strikes)])}
                </p>
                {(!owner_history.is_empty()).then(|| view! {
                    <details><summary>{tf("mod.history", &[("n", &owner_history.len())])}</summary><Decisions list=owner_history/></details>
                })}
                {if let Some(r) = report {
                    view! {
                        <ActionForm action=rule_report attr:class="ruling">
                            <input type="hidden" name="id" value=r.id/>
                            {category_select(flagged_category.clone())}
                            <input type="text" name="reason" placeholder=t("mod.reason") maxlength="500"/>
                            <button type="submit" name="verdict" value="dismiss" data-testid="approve">{t("mod.dismiss")}</button>
                            <button type="submit" name="verdict" value="uphold">{t("mod.uphold")}</button>
                            <button type="submit" name="verdict" value="hide" class="danger" data-testid="reject">{t("mod.uphold_hide")}</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <div class="ruling">
                            <ActionForm action=rule_job attr:class="inline">
                                <input type="hidden" name="id" value=approve_id/>
                                <input type="hidden" name="verdict" value="approve"/>
                                <input type="hidden" name="category" value="other"/>
                                <input type="hidden" name="reason" value=""/>
                                <button type="submit" class="primary" data-testid="approve">{t("mod.approve")}</button>
                            </ActionForm>
                            <ActionForm action=rule_job attr:class="inline">
                                <input type="hidden" name="id" value=reject_id/>
                                <input type="hidden" name="verdict" value="reject"/>
                                {category_select(flagged_category.clone())}
                                <input type="text" name="reason" placeholder=t("mod.reason") maxlength="500" data-testid="reason"/>
                                <button type="submit" class="danger" data-testid="reject">{t("mod.reject")}</button>
                            </ActionForm>
                        </div>
                    }.into_any()
                }}
                {has_standing.then(|| view! {
                    <ActionForm action=lift attr:class="inline">
                        <input type="hidden" name="user_id" value=owner_id/>
                        <input type="text" name="reason" placeholder=t("mod.lift_reason") maxlength="500" required/>
                        <button type="submit" class="link">{t("mod.lift")}</button>
                    </ActionForm>
                })}
            </div>
        </li>
    }
}

#[component]
fn Decisions(list: Vec<DecisionView>) -> impl IntoView {
    view! {
        <ul class="decisions">
            {list.into_iter().map(|d| {
                let class = format!("decision {}", d.decision);
                view! {
                <li class=class>
                    <strong>{d.gate.as_str()}</strong>" "{d.decision.as_str()}
                    {d.category.map(|c| format!(" ({})", category_label(c.as_str())))}
                    " · "<span class="muted">{d.detector}</span>
                    {(!d.summary.is_empty()).then(|| format!(" · {}", d.summary))}
                    {d.reason.map(|r| format!(" · “{r}”"))}
                </li>
            }}).collect_view()}
        </ul>
    }
}
