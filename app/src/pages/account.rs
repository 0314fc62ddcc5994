//! Account pages (SPEC §7): forgot password (`/forgot`), choose a new one from the mailed
//! link (`/reset?token=`), confirm an address (`/verify?token=` or `?change=`), the banner
//! that asks to confirm the address or accept new terms, and the account part of Settings:
//! preferences, email and password, sessions, security events, training consent, data
//! export and account deletion.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::account::{
    account_page, AccountView, ChangeEmail, ChangePassword, DeleteAccount, EndSession, RequestExport, RequestReset, ResendVerification,
    ResetPassword, SetDisplayName, SetPreferences, SetProcessingRestricted, SetShowName, SetTrainingConsent,
};
use crate::i18n::{t, t_dyn, title, LANGUAGES};
use crate::pages::auth::ActionError;
use crate::pages::{format_time, outcome, server_message};

#[component]
pub fn ForgotPage() -> impl IntoView {
    let send = ServerAction::<RequestReset>::new();
    view! {
        <Title text=title("reset.title")/>
        <section class="page narrow">
            <h1>{t("reset.title")}</h1>
            <ActionForm action=send attr:class="stack">
                <label>{t("auth.email")} <input type="email" name="email" required autocomplete="email"/></label>
                <button type="submit" class="primary">{t("reset.send")}</button>
            </ActionForm>
            {move || send.value().get().map(|r| match r {
                Ok(m) => view! { <p class="notice" data-testid="reset-sent">{m}</p> }.into_any(),
                Err(e) => view! { <p class="notice error" role="alert" data-testid="form-error">{server_message(&e)}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|m| m.get("token").unwrap_or_default());
    let reset = ServerAction::<ResetPassword>::new();
    view! {
        <Title text=title("reset.choose")/>
        <section class="page narrow">
            <h1>{t("reset.title")}</h1>
            <ActionForm action=reset attr:class="stack">
                <input type="hidden" name="token" value=token/>
                <label>{t("reset.new")} <input type="password" name="password" required minlength="10" maxlength="128" autocomplete="new-password"/></label>
                <button type="submit" class="primary">{t("reset.save")}</button>
            </ActionForm>
            <ActionError value=Signal::derive(move || reset.value().get())/>
        </section>
    }
}

/// What `/verify/done?m=` says: `verified`, `changed`, or an error code (`invalid`, `conflict`).
pub fn link_message(code: &str) -> &'static str {
    match code {
        "verified" => t("link.verified"),
        "changed" => t("link.changed"),
        "conflict" => t("link.conflict"),
        _ => t("link.invalid"),
    }
}

/// After a mailed link (`GET /verify` redirects here with the outcome).
#[component]
pub fn VerifyDonePage() -> impl IntoView {
    let query = use_query_map();
    let code = move || query.with(|m| m.get("m").unwrap_or_default());
    // Once confirmed, the page says so, in its title too.
    let done = move || matches!(code().as_str(), "verified" | "changed");
    let heading = move || if done() { "verify.done_title" } else { "verify.title" };
    view! {
        <Title text=move || title(heading())/>
        <section class="page narrow">
            <h1>{move || t(heading())}</h1>
            {move || {
                let c = code();
                if c == "verified" || c == "changed" {
                    view! { <p class="notice" data-testid="verify-done">{link_message(&c)}</p> <p><a href="/create" rel="external">{t("nav.create")}</a></p> }.into_any()
                } else {
                    view! { <p class="notice error" data-testid="verify-error">{link_message(&c)}</p> }.into_any()
                }
            }}
        </section>
    }
}

/// After sign-up: the link is in the mail.
#[component]
pub fn SignUpSentPage() -> impl IntoView {
    view! {
        <Title text=title("sent.title")/>
        <section class="page narrow">
            <h1>{t("sent.title")}</h1>
            <p class="notice" data-testid="signup-sent">{t("sent.body")}</p>
            <p><a href="/signin">{t("nav.sign_in")}</a></p>
        </section>
    }
}

/// Under the header's links, for members: "confirm your address" (with a resend button) or
/// "accept the new terms". Rendered inside the header's own `Transition`, from the member
/// it already awaited: no resource of its own (one more in server rendering made the share
/// pages race), nothing inserted after hydration.
#[component]
pub fn AccountNotices(verified: bool, pending_terms: bool, notices: Vec<crate::api::notices::NoticeView>) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    view! {
        {(!notices.is_empty()).then(|| view! {
            <div class="notices" data-testid="notices">
                {notices.into_iter().map(|n| view! { <NoticeBanner n/> }).collect_view()}
            </div>
        })}
        {(!verified).then(|| view! {
            <div class="notice banner" data-testid="verify-banner">
                {t("verify.banner")} " "
                <ActionForm action=resend attr:class="inline">
                    <button type="submit" class="link" data-testid="resend-verification">{t("verify.resend")}</button>
                </ActionForm>
                {move || outcome(resend.value().get(), t("verify.sent"))}
            </div>
        })}
        {pending_terms.then(|| view! {
            <div class="notice banner" data-testid="terms-banner">
                {t("terms.banner")} " " <a href="/terms">{t("footer.terms")}</a>
            </div>
        })}
    }
}

/// A notice's kind in the page's language (the banner and the console both say it).
pub fn notice_kind_label(kind: darkroom_contract::NoticeKind) -> &'static str {
    use darkroom_contract::NoticeKind;
    match kind {
        NoticeKind::PlanChange => t("notice.plan_change"),
        NoticeKind::FeatureChange => t("notice.feature_change"),
        NoticeKind::Suspension => t("notice.suspension"),
        NoticeKind::Maintenance => t("notice.maintenance"),
    }
}

/// One operator notice under the header: its kind, title and text, and a button that closes
/// it for this member (a plain form without JavaScript; with it, the banner goes at once).
#[component]
fn NoticeBanner(n: crate::api::notices::NoticeView) -> impl IntoView {
    let dismiss = ServerAction::<crate::api::notices::DismissNotice>::new();
    let gone = move || matches!(dismiss.value().get(), Some(Ok(())));
    let kind = notice_kind_label(n.kind);
    view! {
        <div class="notice banner" class:hidden=gone data-testid="notice-banner" data-kind=n.kind.as_str()>
            <strong>{kind} ": " {n.title}</strong> " " <span class="notice-body">{n.body}</span> " "
            <ActionForm action=dismiss attr:class="inline">
                <input type="hidden" name="id" value=n.id/>
                <button type="submit" class="link" data-testid="notice-dismiss" aria-label=t("notice.dismiss")>{t("notice.dismiss")}</button>
            </ActionForm>
        </div>
    }
}

/// The Settings page's actions and data. Made by `SettingsPage` at the top, outside
/// `MembersOnly`'s `Suspend`: that `Suspend` can run its children more than once while the
/// server renders, and resources made inside were then made (and fetched, and serialized)
/// once per run; the browser hydrated against the first run's data while the HTML came from
/// the last, and the sessions list (which the request itself updates) differed between the
/// two: "failed to cast element" on reload. Same rule as `ItemPage`.
#[derive(Clone, Copy)]
pub struct AccountData {
    pub prefs: ServerAction<SetPreferences>,
    pub password: ServerAction<ChangePassword>,
    pub email: ServerAction<ChangeEmail>,
    pub end: ServerAction<EndSession>,
    pub training: ServerAction<SetTrainingConsent>,
    pub rename: ServerAction<SetDisplayName>,
    pub restrict: ServerAction<SetProcessingRestricted>,
    pub show_name: ServerAction<SetShowName>,
    pub export: ServerAction<RequestExport>,
    pub delete: ServerAction<DeleteAccount>,
    pub page: Resource<Result<AccountView, ServerFnError>>,
    pub standing: Resource<Result<crate::api::moderation::StandingView, ServerFnError>>,
}

impl AccountData {
    /// The actions, and the two resources keyed on the actions that change them.
    pub fn new() -> Self {
        let (password, end, training, export) = (ServerAction::new(), ServerAction::new(), ServerAction::new(), ServerAction::new());
        let (rename, restrict, show_name) = (ServerAction::new(), ServerAction::new(), ServerAction::new());
        let page = Resource::new(
            move || {
                (
                    (end.version().get(), training.version().get(), export.version().get()),
                    (password.version().get(), rename.version().get(), restrict.version().get(), show_name.version().get()),
                )
            },
            |_| account_page(),
        );
        let standing = Resource::new(|| (), |_| crate::api::moderation::my_standing());
        Self { prefs: ServerAction::new(), password, email: ServerAction::new(), end, training, rename, restrict, show_name, export, delete: ServerAction::new(), page, standing }
    }
}

/// The account sections of Settings (its data: [`AccountData`] from the context).
#[component]
pub fn AccountSettings() -> impl IntoView {
    let AccountData { prefs: prefs_action, password, email, end, training, rename, restrict, show_name, export, delete, page, standing } = expect_context::<AccountData>();
    // New preferences: reload, so the whole page renders in them.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(())) = prefs_action.value().get() {
            let _ = window().location().reload();
        }
    });
    let prefs = expect_context::<crate::i18n::Prefs>();
    // The choices without a message of their own say they were saved.
    crate::toast::toast_on_success(training, t("settings.saved"));
    crate::toast::toast_on_success(show_name, t("settings.saved"));
    crate::toast::toast_on_success(restrict, t("settings.saved"));
    crate::toast::toast_on_success(end, t("settings.signed_out_there"));
    view! {
        <h2>{t("settings.preferences")}</h2>
        <ActionForm action=prefs_action attr:class="row" attr:data-testid="prefs-form">
            <label>{t("settings.theme")} " "
                <select name="theme" data-testid="theme">
                    {["system", "light", "dark"].into_iter().map(|v| {
                        let label = t(match v { "light" => "settings.theme.light", "dark" => "settings.theme.dark", _ => "settings.theme.system" });
                        view! { <option value=v selected={prefs.theme == v}>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>{t("settings.language")} " "
                <select name="language" data-testid="language">
                    {LANGUAGES.into_iter().map(|(v, name)| view! { <option value=v selected={prefs.lang == v}>{name}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" data-testid="prefs-save">{t("settings.save")}</button>
        </ActionForm>
        <Transition fallback=|| view! { <p class="muted">"…"</p> }>
            {move || Suspend::new(async move {
                let standing = standing.await;
                page.await.and_then(|a| Ok((a, standing?))).map(|(a, standing)| view! {
                    {crate::pages::settings::standing_view(standing)}
                    <h2>{t("settings.account")}</h2>
                    <p data-testid="account-email">{a.email.clone()} {if a.email_verified { " ✓" } else { "" }}</p>
                    <details>
                        <summary>{t("settings.display_name")} ": " <span data-testid="display-name">{a.display_name.clone()}</span></summary>
                        <ActionForm action=rename attr:class="row">
                            <label>{t("signup.name")} " " <input type="text" name="display_name" required maxlength="50" value=a.display_name.clone() data-testid="display-name-input"/></label>
                            <button type="submit" data-testid="display-name-save">{t("settings.save")}</button>
                        </ActionForm>
                        {move || outcome(rename.value().get(), t("account.renamed"))}
                    </details>
                    <details>
                        <summary>{t("settings.email")}</summary>
                        <ActionForm action=email attr:class="stack">
                            <label>{t("account.new_address")} " " <input type="email" name="email" required/></label>
                            <label>{t("auth.password")} " " <input type="password" name="password" required autocomplete="current-password"/></label>
                            <button type="submit">{t("account.send_link")}</button>
                        </ActionForm>
                        {move || outcome(email.value().get(), t("account.email_sent"))}
                    </details>
                    <details>
                        <summary>{t("settings.password")}</summary>
                        <ActionForm action=password attr:class="stack">
                            <label>{t("account.current_password")} " " <input type="password" name="current" required autocomplete="current-password"/></label>
                            <label>{t("reset.new")} " " <input type="password" name="new" required minlength="10" maxlength="128" autocomplete="new-password"/></label>
                            <button type="submit">{t("settings.password")}</button>
                        </ActionForm>
                        {move || outcome(password.value().get(), t("account.password_changed"))}
                    </details>
                    <h2>{t("settings.sessions")}</h2>
                    <ul class="sessions" data-testid="sessions">
                        {a.sessions.into_iter().map(|s| view! {
                            <li data-current=s.current.to_string()>
                                {s.device} " · " {s.ip} " · " {format_time(s.last_seen_at)}
                                {if s.current {
                                    view! { <span>" · " <strong>{t("settings.this_device")}</strong></span> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=end attr:class="inline">
                                            <input type="hidden" name="id" value=s.id/>
                                            " " <button type="submit" class="link" data-testid="end-session">{t("settings.sign_out_this")}</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                            </li>
                        }).collect_view()}
                    </ul>
                    <ActionForm action=end>
                        <input type="hidden" name="id" value=""/>
                        <button type="submit" data-testid="end-others">{t("settings.sign_out_others")}</button>
                    </ActionForm>
                    <h2>{t("settings.security")}</h2>
                    <table class="log" data-testid="security-events">
                        <tbody>
                            {a.events.into_iter().map(|e| view! {
                                <tr data-kind=e.kind.clone()><td>{format_time(e.created_at)}</td><td>{t_dyn(&format!("event.{}", e.kind)).map_or_else(|| e.kind.replace('_', " "), str::to_string)}</td><td>{e.device}</td><td>{e.ip}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>{t("settings.privacy")}</h2>
                    <ActionForm action=training attr:class="row">
                        <label><input type="checkbox" name="consent" checked=a.training_consent disabled=a.processing_restricted data-testid="training"/> " " {t("settings.training")}</label>
                        <button type="submit" disabled=a.processing_restricted>{t("settings.save")}</button>
                    </ActionForm>
                    {move || training.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{server_message(&e)}</p> })}
                    <ActionForm action=show_name attr:class="row">
                        <label><input type="checkbox" name="show" checked=a.show_name data-testid="show-name"/> " " {t("settings.show_name")}</label>
                        <button type="submit" data-testid="show-name-save">{t("settings.save")}</button>
                    </ActionForm>
                    <ActionForm action=restrict attr:class="row">
                        <label><input type="checkbox" name="restrict" checked=a.processing_restricted data-testid="restrict"/> " " {t("settings.restrict")}</label>
                        <button type="submit" data-testid="restrict-save">{t("settings.save")}</button>
                    </ActionForm>
                    <p class="muted small">{t("settings.restrict_help")}</p>
                    <ActionForm action=export>
                        <button type="submit" data-testid="export">{t("settings.export")}</button>
                    </ActionForm>
                    <ul data-testid="exports">
                        {a.exports.into_iter().map(|x| view! {
                            <li data-status=x.status.clone()>
                                {format_time(x.created_at)} " · " {t_dyn(&format!("export.{}", x.status)).unwrap_or_default()}
                                // One element, not an optional pair of siblings (those did not hydrate).
                                {x.link.map(|l| view! { <span>" · " <a href=l rel="external" data-testid="export-link">{t("item.download")}</a></span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                    <p class="muted small">{t("account.terms_version")} " " {a.terms_version}</p>
                })
            })}
        </Transition>
        <h2>{t("settings.delete")}</h2>
        <p class="notice error" data-testid="delete-warning">{t("settings.delete_warning")}</p>
        <p class="muted small">{t("account.google_delete1")} " "
            <a href="/auth/google" rel="external">{t("account.google_delete2")}</a>" " {t("account.google_delete3")}</p>
        <ActionForm action=delete attr:class="stack" attr:data-testid="delete-form">
            <label>{t("auth.password")} " " <input type="password" name="password" autocomplete="current-password"/></label>
            <label>{t("account.type_delete")} " " <input type="text" name="confirm" required pattern="DELETE"/></label>
            <button type="submit" class="danger">{t("settings.delete")}</button>
        </ActionForm>
        <ActionError value=Signal::derive(move || delete.value().get())/>
    }
}
