//! Preferences and UI text (SPEC §7): theme (`light`, `dark`, `system`) and language
//! (English, German), kept in the `darkroom_prefs` cookie (`<theme>.<language>`; set for
//! visitors and members alike, and from the member's stored preferences at sign-in) so the
//! server renders the first page in them and the browser hydrates the same.
//!
//! Every page's text goes through [`t`] (or [`tf`] with `{name}` placeholders): a key and
//! its words per language, in the one table [`TEXT`]. A key without a row shows as itself,
//! which a unit test forbids for every key the pages use. Server errors shown on pages (and
//! the API's error messages) stay English: they are the API's contract.

use leptos::prelude::*;

/// Languages offered: `(tag, name in that language)`.
pub const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("de", "Deutsch")];
/// The preference cookie's name.
pub const PREF_COOKIE: &str = "darkroom_prefs";

/// The viewer's preferences for this page.
#[derive(Clone, Debug, PartialEq)]
pub struct Prefs {
    pub theme: String,
    pub lang: String,
}

/// Reads `<theme>.<language>` from a `Cookie` header value; defaults `system`, `en`.
pub fn parse_cookie(header: &str) -> Prefs {
    let value = header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == PREF_COOKIE).map(|(_, v)| v).unwrap_or("");
    let (theme, lang) = value.split_once('.').unwrap_or(("", ""));
    Prefs {
        theme: if ["light", "dark", "system"].contains(&theme) { theme.to_string() } else { "system".into() },
        lang: if LANGUAGES.iter().any(|(l, _)| *l == lang) { lang.to_string() } else { "en".into() },
    }
}

/// The preferences of this request (server) or this document (browser).
pub fn read_prefs() -> Prefs {
    #[cfg(feature = "ssr")]
    {
        let header = use_context::<axum::http::request::Parts>()
            .and_then(|p| p.headers.get(axum::http::header::COOKIE).and_then(|h| h.to_str().ok()).map(str::to_string))
            .unwrap_or_default();
        parse_cookie(&header)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        use wasm_bindgen::JsCast;
        let cookie = document().dyn_into::<web_sys::HtmlDocument>().ok().and_then(|d| d.cookie().ok()).unwrap_or_default();
        parse_cookie(&cookie)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        parse_cookie("")
    }
}

/// The words for `key` in the page's language (English when a key has no translation).
pub fn t(key: &'static str) -> &'static str {
    t_dyn(key).unwrap_or(key)
}

/// The words for a key made at run time (`event.sign_in`), or `None` when the table has no
/// such key.
pub fn t_dyn(key: &str) -> Option<&'static str> {
    let lang = leptos::reactive::owner::with_context::<Prefs, _>(|p| if p.lang == "de" { "de" } else { "en" }).unwrap_or("en");
    words(lang, key)
}

/// The words for `key` with each `{name}` replaced by its value:
/// `tf("gallery.deleted", &[("n", &3)])` → "Deleted 3 item(s)."
pub fn tf(key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    fill(t(key), args)
}

/// `text` with each `{name}` replaced by its value.
pub fn fill(text: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = text.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

/// `"<words for key> · Darkroom"`, a page's `<title>`.
pub fn title(key: &'static str) -> String {
    format!("{} · Darkroom", t(key))
}

/// The words for `key` in `lang`.
pub fn tr(lang: &str, key: &'static str) -> &'static str {
    words(lang, key).unwrap_or(key)
}

/// `key`'s row in [`TEXT`], in `lang` (English unless `de`).
fn words(lang: &str, key: &str) -> Option<&'static str> {
    static INDEX: std::sync::LazyLock<std::collections::HashMap<&'static str, (&'static str, &'static str)>> =
        std::sync::LazyLock::new(|| TEXT.iter().map(|(k, en, de)| (*k, (*en, *de))).collect());
    INDEX.get(key).map(|(en, de)| if lang == "de" { *de } else { *en })
}

/// `(key, English, German)`.
const TEXT: &[(&str, &str, &str)] = &[
    ("nav.explore", "Explore", "Entdecken"),
    ("nav.create", "Create", "Erstellen"),
    ("nav.gallery", "My gallery", "Meine Galerie"),
    ("nav.moderation", "Moderation", "Moderation"),
    ("nav.settings", "Settings", "Einstellungen"),
    ("nav.credits", "credits", "Credits"),
    ("nav.sign_in", "Sign in", "Anmelden"),
    ("nav.sign_up", "Sign up", "Registrieren"),
    ("nav.sign_out", "Sign out", "Abmelden"),
    ("footer.terms", "Terms", "Nutzungsbedingungen"),
    ("footer.privacy", "Privacy", "Datenschutz"),
    ("footer.pricing", "Pricing", "Preise"),
    ("footer.support", "Support", "Support"),
    ("nav.console", "Console", "Konsole"),
    ("console.nav", "Console sections", "Bereiche der Konsole"),
    ("console.members", "Members", "Mitglieder"),
    ("console.support", "Support", "Support"),
    ("console.audit", "Audit log", "Prüfprotokoll"),
    ("console.templates", "Templates", "Vorlagen"),
    ("console.providers", "Providers", "Anbieter"),
    ("console.plans", "Plans", "Pläne"),
    ("members.search", "Address or name", "Adresse oder Name"),
    ("members.role", "Role", "Rolle"),
    ("members.role.member", "Member", "Mitglied"),
    ("members.role.moderator", "Moderator", "Moderator"),
    ("members.role.admin", "Administrator", "Administrator"),
    ("members.any", "Any", "Alle"),
    ("members.standing", "Standing", "Status"),
    ("members.good", "In good standing", "Ohne Einschränkung"),
    ("members.restricted", "Restricted", "Eingeschränkt"),
    ("members.suspended", "Suspended", "Gesperrt"),
    ("members.none", "No member matches.", "Kein Mitglied passt."),
    ("members.more", "More", "Weitere"),
    ("members.since", "Member since", "Mitglied seit"),
    ("members.unconfirmed", "(address not confirmed)", "(Adresse nicht bestätigt)"),
    ("members.done", "Done, and written to the audit log.", "Erledigt und im Prüfprotokoll vermerkt."),
    ("members.reason", "Reason", "Grund"),
    ("members.strikes", "Strikes", "Verwarnungen"),
    ("members.adjust", "adjust credits", "Credits anpassen"),
    ("members.sessions", "Signed-in sessions", "Angemeldete Sitzungen"),
    ("members.actions", "Actions", "Aktionen"),
    ("members.set_role", "Set role", "Rolle setzen"),
    ("members.restrict", "Restrict", "Einschränken"),
    ("members.until", "until", "bis"),
    ("members.suspend", "Suspend", "Sperren"),
    ("members.lift", "Lift restriction and suspension", "Einschränkung und Sperre aufheben"),
    ("members.end_sessions", "Sign out everywhere", "Überall abmelden"),
    ("members.keys", "API keys", "API-Schlüssel"),
    ("members.key_off", "revoked", "widerrufen"),
    ("members.disable_key", "Disable", "Deaktivieren"),
    ("members.generations", "Latest generations", "Neueste Bilder"),
    ("members.ledger", "Latest ledger entries", "Neueste Buchungen"),
    ("members.payments", "Payments", "Zahlungen"),
    ("members.security", "Security events", "Sicherheitsereignisse"),
    ("members.suspended_since", "Suspended since {time}", "Gesperrt seit {time}"),
    ("members.restricted_until", "Restricted until {time}", "Eingeschränkt bis {time}"),
    ("audit.title", "Audit log", "Prüfprotokoll"),
    ("audit.actor", "Actor", "Handelnde Person"),
    ("audit.action", "Action", "Aktion"),
    ("audit.target", "Target", "Ziel"),
    ("audit.reason", "Reason", "Grund"),
    ("audit.system", "system", "System"),
    ("audit.csv", "Download CSV", "CSV herunterladen"),
    ("audit.empty", "No audit rows match.", "Keine passenden Einträge."),
    ("audit.older", "Older", "Ältere"),
    ("support.title", "Support and contact", "Support und Kontakt"),
    ("support.intro", "Questions about your account, credits or payments, an appeal against a moderation decision, or a privacy request (access, correction, erasure, restriction, objection, portability): write to us here. We answer by mail.", "Fragen zu Ihrem Konto, zu Credits oder Zahlungen, ein Einspruch gegen eine Moderationsentscheidung oder eine Datenschutzanfrage (Auskunft, Berichtigung, Löschung, Einschränkung, Widerspruch, Übertragbarkeit): Schreiben Sie uns hier. Wir antworten per E-Mail."),
    ("support.topic", "About", "Thema"),
    ("support.topic.account", "My account", "Mein Konto"),
    ("support.topic.billing", "Credits and payments", "Credits und Zahlungen"),
    ("support.topic.moderation", "A moderation decision (appeal)", "Eine Moderationsentscheidung (Einspruch)"),
    ("support.topic.privacy", "A privacy request", "Eine Datenschutzanfrage"),
    ("support.topic.other", "Something else", "Etwas anderes"),
    ("support.message", "Your message", "Ihre Nachricht"),
    ("support.send", "Send", "Senden"),
    ("support.sent", "Thank you: your request is in (reference {ref}). A receipt is on its way to your mailbox.", "Vielen Dank: Ihre Anfrage ist eingegangen (Referenz {ref}). Eine Bestätigung ist unterwegs in Ihr Postfach."),
    ("support.answer_to", "We answer to {email}.", "Wir antworten an {email}."),
    ("support.mine", "Your requests", "Ihre Anfragen"),
    ("support.answered_at", "Answered {time}", "Beantwortet {time}"),
    ("support.status", "State", "Status"),
    ("support.status.open", "Open", "Offen"),
    ("support.status.answered", "Answered", "Beantwortet"),
    ("support.status.closed", "Closed", "Geschlossen"),
    ("support.all", "All", "Alle"),
    ("support.admin_title", "Support requests", "Support-Anfragen"),
    ("support.empty", "No requests here.", "Hier sind keine Anfragen."),
    ("support.member", "member", "Mitglied"),
    ("support.visitor", "visitor", "Besucher"),
    ("support.your_answer", "Answer (mailed to them)", "Antwort (wird per E-Mail gesendet)"),
    ("support.answer", "Send answer", "Antwort senden"),
    ("support.close", "Close", "Schließen"),
    ("footer.label", "Images made here are labelled AI-generated.", "Hier erstellte Bilder sind als KI-generiert gekennzeichnet."),
    ("auth.email", "Email", "E-Mail"),
    ("auth.password", "Password", "Passwort"),
    ("auth.sign_in", "Sign in", "Anmelden"),
    ("auth.forgot", "Forgot your password?", "Passwort vergessen?"),
    ("auth.new_here", "New here?", "Neu hier?"),
    ("auth.create_account", "Create an account", "Konto erstellen"),
    ("auth.reset_done", "Your password is changed. Sign in with the new one.", "Ihr Passwort ist geändert. Melden Sie sich mit dem neuen an."),
    ("reset.title", "Reset your password", "Passwort zurücksetzen"),
    ("reset.send", "Send me a link", "Link senden"),
    ("reset.new", "New password", "Neues Passwort"),
    ("reset.save", "Set the new password", "Neues Passwort speichern"),
    ("verify.title", "Confirm your email address", "E-Mail-Adresse bestätigen"),
    ("sent.title", "Check your inbox", "Sehen Sie in Ihr Postfach"),
    ("sent.body", "We sent a link to the address you gave. Open it to confirm the address and sign in; then you can start creating. (If that address already has an account, we sent its owner a note instead.) You can also sign in with your password now and look around.", "Wir haben einen Link an die angegebene Adresse geschickt. Öffnen Sie ihn, um die Adresse zu bestätigen und sich anzumelden; dann können Sie loslegen. (Hat die Adresse schon ein Konto, bekommt dessen Inhaber stattdessen einen Hinweis.) Sie können sich auch jetzt mit Ihrem Passwort anmelden und sich umsehen."),
    ("verify.banner", "Please confirm your email address: open the link we mailed you. Until then you can look around but not create.", "Bitte bestätigen Sie Ihre E-Mail-Adresse über den Link, den wir Ihnen geschickt haben. Bis dahin können Sie sich umsehen, aber nichts erstellen."),
    ("verify.resend", "Send the link again", "Link erneut senden"),
    ("verify.sent", "Sent. Check your inbox.", "Gesendet. Sehen Sie in Ihrem Posteingang nach."),
    ("terms.banner", "The terms changed. Please read and accept them to keep creating.", "Die Nutzungsbedingungen haben sich geändert. Bitte lesen und akzeptieren Sie sie, um weiter zu erstellen."),
    ("terms.accept", "I accept these terms", "Ich akzeptiere diese Bedingungen"),
    ("settings.title", "Settings", "Einstellungen"),
    ("settings.preferences", "Preferences", "Einstellungen der Darstellung"),
    ("settings.theme", "Theme", "Farbschema"),
    ("settings.theme.system", "Like my system", "Wie mein System"),
    ("settings.theme.light", "Light", "Hell"),
    ("settings.theme.dark", "Dark", "Dunkel"),
    ("settings.language", "Language", "Sprache"),
    ("settings.save", "Save", "Speichern"),
    ("settings.account", "Account", "Konto"),
    ("settings.sessions", "Where you are signed in", "Wo Sie angemeldet sind"),
    ("settings.sign_out_others", "Sign out everywhere else", "Überall sonst abmelden"),
    ("settings.sign_out_this", "Sign out", "Abmelden"),
    ("settings.this_device", "this device", "dieses Gerät"),
    ("settings.security", "Security events", "Sicherheitsereignisse"),
    ("settings.privacy", "Privacy", "Datenschutz"),
    ("settings.display_name", "Display name", "Anzeigename"),
    ("account.renamed", "Your display name is changed.", "Ihr Anzeigename ist geändert."),
    ("settings.restrict", "Restrict processing of my data", "Verarbeitung meiner Daten einschränken"),
    ("settings.restrict_help", "While this is on, your images are never used for training and none of your items is showcased; everything else keeps working. For other privacy requests (a copy of your data is the export above; erasure is deleting your account below), write to support.", "Solange dies eingeschaltet ist, werden Ihre Bilder nie für Training verwendet und keines Ihrer Bilder wird vorgestellt; alles andere funktioniert weiter. Für andere Datenschutzanfragen (eine Kopie Ihrer Daten ist der Export oben; Löschung ist das Löschen Ihres Kontos unten) schreiben Sie an den Support."),
    ("settings.training", "Allow my images to be used to train models (off unless you turn it on)", "Meine Bilder dürfen zum Trainieren von Modellen verwendet werden (aus, solange Sie es nicht einschalten)"),
    ("settings.export", "Export my data", "Meine Daten exportieren"),
    ("settings.delete", "Delete my account", "Mein Konto löschen"),
    ("settings.delete_warning", "This action is permanent and cannot be undone.", "Diese Aktion ist endgültig und kann nicht rückgängig gemacht werden."),
    ("settings.password", "Change password", "Passwort ändern"),
    ("settings.email", "Change email address", "E-Mail-Adresse ändern"),
    ("home.title", "Turn a photo into a painting.", "Machen Sie aus einem Foto ein Gemälde."),
    ("home.lead", "Upload a photo, pick one of 26 styles or blend two, and watch it develop. Everything you make is private until you choose otherwise.", "Laden Sie ein Foto hoch, wählen Sie einen von 26 Stilen oder mischen Sie zwei, und sehen Sie zu, wie es entsteht. Alles, was Sie machen, bleibt privat, bis Sie es anders wollen."),
    ("home.start", "Start creating", "Loslegen"),
    ("home.signup", "Create a free account", "Kostenloses Konto erstellen"),
    ("home.fact1", "New accounts get free credits to try it.", "Neue Konten bekommen Gratis-Credits zum Ausprobieren."),
    ("home.fact2", "Runs on this server: your photos are not sent to anyone else.", "Läuft auf diesem Server: Ihre Fotos gehen an niemanden sonst."),
    ("home.fact3", "Location and camera data are removed from every upload.", "Standort- und Kameradaten werden aus jedem Upload entfernt."),
    ("create.loading", "Loading styles…", "Stile werden geladen …"),
    ("create.recent", "Recent", "Zuletzt"),
    ("create.empty", "Nothing yet. Your generations appear here.", "Noch nichts. Ihre Bilder erscheinen hier."),
    ("create.step1", "1. Your photo", "1. Ihr Foto"),
    ("create.choose", "What to make", "Was erstellt werden soll"),
    ("create.input_result", "Your result as the photo", "Ihr Ergebnis als Foto"),
    ("create.styles_card", "Styles over your photo", "Stile über Ihrem Foto"),
    ("create.styles_card_help", "26 styles, blends, or any image as the style.", "26 Stile, Mischungen oder ein beliebiges Bild als Stil."),
    ("create.prompt_checked", "Prompts are checked by moderation.", "Beschreibungen werden moderiert."),
    ("create.step2", "2. Style", "2. Stil"),
    ("create.step3", "3. Finish", "3. Fertigstellen"),
    ("create.drop", "Drop a photo here, or tap to choose or take one", "Foto hierher ziehen oder tippen, um eines zu wählen oder aufzunehmen"),
    ("create.formats", "JPEG, PNG or WebP, up to {mb} MB. Location and camera data are removed.", "JPEG, PNG oder WebP, bis {mb} MB. Standort- und Kameradaten werden entfernt."),
    ("create.rights", "I have the rights and consent for this image", "Ich habe die Rechte und die Einwilligung für dieses Bild"),
    ("create.blend_with", "Blend with", "Mischen mit"),
    ("create.no_blend", "No blend", "Nicht mischen"),
    ("create.prompt", "Prompt (optional)", "Beschreibung (optional)"),
    ("create.style_image", "Or use any picture as the style (optional)", "Oder ein beliebiges Bild als Stil verwenden (optional)"),
    ("create.style_image_help", "Its look is applied to your photo instead of the styles above; strength weighs it against your photo's own look.", "Sein Aussehen wird statt der Stile oben auf Ihr Foto übertragen; die Stärke gewichtet es gegen den eigenen Stil Ihres Fotos."),
    ("providers.title", "Providers", "Anbieter"),
    ("providers.intro", "Every generator this server runs: remote providers with their circuit state, latency and error rates over the last hour and day.", "Jeder Generator dieses Servers: entfernte Anbieter mit Schutzschalter-Zustand, Latenz und Fehlerquoten der letzten Stunde und des letzten Tages."),
    ("providers.id", "Generator", "Generator"),
    ("providers.state", "State", "Zustand"),
    ("providers.last_success", "Last success", "Letzter Erfolg"),
    ("providers.last_failure", "Last failure", "Letzter Fehler"),
    ("providers.latency", "Latency (last hour)", "Latenz (letzte Stunde)"),
    ("providers.errors", "Errors (hour / day)", "Fehler (Stunde / Tag)"),
    ("providers.calls", "calls today", "Aufrufe heute"),
    ("providers.ok", "OK", "OK"),
    ("providers.degraded", "Degraded", "Beeinträchtigt"),
    ("providers.open", "Circuit open (skipped)", "Schalter offen (übersprungen)"),
    ("providers.half_open", "Trying again", "Neuer Versuch"),
    ("providers.local", "Local", "Lokal"),
    ("templates.title", "Templates", "Vorlagen"),
    ("templates.intro", "What members can make: each template's mode, the generators it tries in order, its fixed parameters, prompt and price. Every change is in the audit log; archived templates are no longer offered, their results stay.", "Was Mitglieder erstellen können: Modus jeder Vorlage, die Generatoren in ihrer Reihenfolge, feste Parameter, Beschreibung und Preis. Jede Änderung steht im Prüfprotokoll; archivierte Vorlagen werden nicht mehr angeboten, ihre Ergebnisse bleiben."),
    ("templates.runs_here", "This server runs: {ids}. Default price: {cost} credits.", "Dieser Server führt aus: {ids}. Standardpreis: {cost} Credits."),
    ("templates.id", "Id", "Kennung"),
    ("templates.name", "Name", "Name"),
    ("templates.description", "Description", "Beschreibung"),
    ("templates.mode", "Mode", "Modus"),
    ("templates.generator", "Generator", "Generator"),
    ("templates.fallbacks", "Fallbacks (in order, comma-separated)", "Ausweichgeneratoren (der Reihe nach, durch Komma getrennt)"),
    ("templates.params", "Fixed parameters (JSON)", "Feste Parameter (JSON)"),
    ("templates.prompt_template", "Prompt template ({prompt} is the member's text)", "Beschreibungsvorlage ({prompt} ist der Text des Mitglieds)"),
    ("templates.negative_prompt", "Negative prompt", "Negativ-Beschreibung"),
    ("templates.cost", "Credits (empty: default price)", "Credits (leer: Standardpreis)"),
    ("templates.preview", "Preview image (path or https URL)", "Vorschaubild (Pfad oder https-URL)"),
    ("templates.make_preview", "Make preview", "Vorschau erzeugen"),
    ("templates.make_preview_help", "Runs the template on the sample photo and prompt and uses the result as its preview (nothing is charged).", "Führt die Vorlage mit dem Beispielfoto und -prompt aus und nimmt das Ergebnis als Vorschau (kostenlos)."),
    ("templates.previewing", "Making the preview…", "Vorschau wird erzeugt…"),
    ("templates.preview_made", "New preview for {name}.", "Neue Vorschau für {name}."),
    ("templates.uses", "Uses", "Verwendungen"),
    ("templates.order", "Order", "Reihenfolge"),
    ("templates.up", "Move up", "Nach oben"),
    ("templates.down", "Move down", "Nach unten"),
    ("templates.archived", "archived", "archiviert"),
    ("templates.unavailable", "no generator here", "kein Generator hier"),
    ("templates.new", "New template", "Neue Vorlage"),
    ("templates.add", "Add template", "Vorlage hinzufügen"),
    ("create.prompt_help", "It becomes the title, and prompt-driven templates use it. Prompts are checked by moderation.", "Sie wird zum Titel, und beschreibungsgesteuerte Vorlagen nutzen sie. Beschreibungen werden moderiert."),
    ("create.keep_colours", "Keep original colours", "Originalfarben behalten"),
    ("create.cost", "Cost: {cost} credits.", "Kosten: {cost} Credits."),
    ("create.charged", "Charged when you submit. If moderation rejects the image, the credits are not refunded.", "Abgebucht beim Absenden. Lehnt die Moderation das Bild ab, werden die Credits nicht erstattet."),
    ("create.refund", "If it fails for a technical reason, they are refunded.", "Scheitert es aus technischen Gründen, werden sie erstattet."),
    ("create.generate", "Generate ({cost} credits)", "Erzeugen ({cost} Credits)"),
    ("status.queued", "Queued", "In der Warteschlange"),
    ("status.review", "Waiting for review", "Wartet auf Prüfung"),
    ("status.running", "Developing", "Entsteht"),
    ("status.succeeded", "Done", "Fertig"),
    ("status.rejected", "Rejected by moderation", "Von der Moderation abgelehnt"),
    ("status.failed", "Failed", "Fehlgeschlagen"),
    ("status.canceled", "Canceled", "Abgebrochen"),
    ("cookies.notice", "Darkroom uses only essential cookies: your session and your display preferences.", "Darkroom verwendet nur notwendige Cookies: Ihre Sitzung und Ihre Darstellungseinstellungen."),
    // gallery and item pages
    ("gallery.f.rejected", "Rejected", "Abgelehnt"),
    ("gallery.f.all", "Everything", "Alles"),
    ("gallery.private", "Private: only you can see these, unless you share one.", "Privat: Nur Sie sehen diese Bilder, solange Sie keines teilen."),
    ("gallery.deleted", "Deleted {n} item(s).", "{n} Element(e) gelöscht."),
    ("filter.show", "Show", "Zeigen"),
    ("filter.style", "Style", "Stil"),
    ("filter.from", "From", "Von"),
    ("filter.to", "To", "Bis"),
    ("filter.apply", "Filter", "Filtern"),
    ("loading", "Loading…", "Wird geladen …"),
    ("gallery.no_match", "Nothing matches these filters.", "Nichts passt zu diesen Filtern."),
    ("gallery.empty", "Nothing here yet.", "Noch nichts hier."),
    ("gallery.create_something", "Create something", "Etwas erstellen"),
    ("gallery.hidden", "Hidden by moderation", "Von der Moderation ausgeblendet"),
    ("label.ai", "AI-generated", "KI-generiert"),
    ("gallery.select", "Select", "Auswählen"),
    ("gallery.delete_selected", "Delete selected", "Auswahl löschen"),
    ("gallery.older", "Older", "Ältere"),
    ("item.title", "Item", "Bild"),
    ("item.hidden", "A moderator hid this item everywhere ({category}). It no longer shows to anyone, and its files no longer open.", "Eine Moderatorin oder ein Moderator hat dieses Bild überall ausgeblendet ({category}). Es ist für niemanden mehr sichtbar, und seine Dateien öffnen sich nicht mehr."),
    ("item.in_review", "A moderator is checking this item; it shows here once approved.", "Die Moderation prüft dieses Bild; es erscheint hier, sobald es freigegeben ist."),
    ("item.private", "Private", "Privat"),
    ("item.shared", "Shared", "Geteilt"),
    ("item.status", "Status", "Status"),
    ("item.style", "Style", "Stil"),
    ("item.strength", "Strength", "Stärke"),
    ("item.colours", "Colours", "Farben"),
    ("item.size", "Size", "Größe"),
    ("item.cost", "Cost", "Kosten"),
    ("item.made", "Made", "Erstellt"),
    ("item.kept", "Kept until", "Aufbewahrt bis"),
    ("item.colours_kept", "Original kept", "Original behalten"),
    ("item.colours_style", "From the style", "Aus dem Stil"),
    ("credits.n", "{n} credits", "{n} Credits"),
    ("item.no_expiry", "No expiry", "Kein Ablauf"),
    ("item.download", "Download", "Herunterladen"),
    ("item.another", "Make another", "Noch eins machen"),
    ("item.use_as_input", "Use as input", "Als Vorlage verwenden"),
    ("item.run_again", "Run again", "Noch einmal erzeugen"),
    ("item.run_again_help", "A new generation with the same template, photo, prompt and settings. It is charged again: {cost} credits.", "Eine neue Erzeugung mit derselben Vorlage, demselben Foto, derselben Beschreibung und denselben Einstellungen. Sie kostet erneut {cost} Credits."),
    ("item.run_again_confirm", "Run again for {cost} credits", "Für {cost} Credits noch einmal erzeugen"),
    ("job.eta", "about {s} s left", "noch etwa {s} s"),
    ("item.delete", "Delete", "Löschen"),
    ("item.delete_help", "Delete this item? Its image, its renditions and the uploaded photo are removed at once and cannot be restored; its share links and public page stop working. Backups may keep a copy until they are overwritten.", "Dieses Bild löschen? Das Bild, seine Varianten und das hochgeladene Foto werden sofort entfernt und können nicht wiederhergestellt werden; seine Freigabelinks und die öffentliche Seite funktionieren nicht mehr. Sicherungen können eine Kopie behalten, bis sie überschrieben werden."),
    ("item.delete_confirm", "Yes, delete it", "Ja, löschen"),
    ("share.review", "Making it public: AI output may be inaccurate. I reviewed this result before publishing it.", "Zum Veröffentlichen: KI-Ergebnisse können fehlerhaft sein. Ich habe dieses Ergebnis vor der Veröffentlichung geprüft."),
    ("share.title", "Sharing", "Teilen"),
    ("share.who", "Who can see it", "Wer es sehen kann"),
    ("share.private", "Only me (private)", "Nur ich (privat)"),
    ("share.link", "Anyone with a link", "Alle mit dem Link"),
    ("share.public", "Everyone (listed in Explore)", "Alle (in „Entdecken“ gelistet)"),
    ("share.public_page", "Public page", "Öffentliche Seite"),
    ("share.new_link", "New share link, expires", "Neuer Link, läuft ab"),
    ("share.after1", "after 1 day", "nach 1 Tag"),
    ("share.after7", "after 7 days", "nach 7 Tagen"),
    ("share.after30", "after 30 days", "nach 30 Tagen"),
    ("never", "never", "nie"),
    ("share.create", "Create link", "Link erstellen"),
    ("share.copy", "Copy it now; it is shown once:", "Jetzt kopieren; er wird nur einmal angezeigt:"),
    ("share.new_link_label", "New share link", "Neuer Link"),
    ("share.revoked", "revoked", "widerrufen"),
    ("share.expired", "expired", "abgelaufen"),
    ("share.expires", "expires {time}", "läuft ab {time}"),
    ("share.never_expires", "never expires", "läuft nie ab"),
    ("share.link_row", "Made {time} · {state} · {views} view(s)", "Erstellt {time} · {state} · {views} Aufruf(e)"),
    ("revoke", "Revoke", "Widerrufen"),
    ("share.showcase_on", "The operator may showcase this item.", "Der Betreiber darf dieses Bild präsentieren."),
    ("share.showcase_off", "The operator may not showcase this item.", "Der Betreiber darf dieses Bild nicht präsentieren."),
    ("share.withdraw", "Withdraw consent", "Einwilligung widerrufen"),
    ("share.allow", "Allow the operator to showcase this item", "Dem Betreiber erlauben, dieses Bild zu präsentieren"),
    // credits and settings pages
    ("credits.title", "Credits", "Credits"),
    ("credits.k.all", "All entries", "Alle Buchungen"),
    ("credits.k.grant", "Grants", "Gutschriften"),
    ("credits.k.purchase", "Purchases", "Käufe"),
    ("credits.k.subscription", "Subscription credits", "Abo-Credits"),
    ("credits.k.charge", "Charges", "Abbuchungen"),
    ("credits.k.refund", "Refunds", "Erstattungen"),
    ("credits.k.adjustment", "Adjustments", "Korrekturen"),
    ("credits.k.expiry", "Expired", "Verfallen"),
    ("buy.title", "Buy credits", "Credits kaufen"),
    ("pricing.title", "Pricing", "Preise"),
    ("pricing.grant", "Every new account starts with {n} free credits. Each generation costs the credits its template shows, taken when you submit.", "Jedes neue Konto beginnt mit {n} kostenlosen Credits. Jedes Bild kostet die Credits, die seine Vorlage anzeigt; sie werden beim Absenden abgebucht."),
    ("pricing.costs", "What a generation costs", "Was ein Bild kostet"),
    ("pricing.template", "Template", "Vorlage"),
    ("pricing.plans", "Credit packages and subscriptions", "Credit-Pakete und Abonnements"),
    ("pricing.none", "Credits are not on sale on this server yet.", "Auf diesem Server werden noch keine Credits verkauft."),
    ("pricing.sign_in_to_buy", "Sign in to buy", "Zum Kaufen anmelden"),
    ("credits.csv", "Download CSV", "CSV herunterladen"),
    ("credits.edit_plans", "Edit plans", "Pläne bearbeiten"),
    ("credits.none", "No entries.", "Keine Buchungen."),
    ("col.time", "Time", "Zeit"),
    ("col.entry", "Entry", "Buchung"),
    ("col.credits", "Credits", "Credits"),
    ("col.balance", "Balance", "Stand"),
    ("col.reason", "Reason", "Grund"),
    ("credits.generation", "generation", "Bild"),
    ("credits.older", "Older entries", "Ältere Buchungen"),
    ("credits.adjust", "Adjust a member's credits", "Credits eines Mitglieds anpassen"),
    ("credits.adjust.email", "Member's email", "E-Mail des Mitglieds"),
    ("credits.adjust.amount", "Credits (negative to deduct)", "Credits (negativ zum Abziehen)"),
    ("credits.adjust.reason", "Reason (recorded in the audit log)", "Grund (wird im Prüfprotokoll festgehalten)"),
    ("credits.adjust.apply", "Apply", "Anwenden"),
    ("credits.adjust.done", "Done. Their balance is now {n} credits.", "Erledigt. Der Stand beträgt jetzt {n} Credits."),
    ("settings.api_link", "API keys, webhooks and request log", "API-Schlüssel, Webhooks und Anfrageprotokoll"),
    ("standing.suspended", "Suspended: you cannot sign in again or use API keys until a moderator lifts it.", "Gesperrt: Sie können sich nicht wieder anmelden und keine API-Schlüssel nutzen, bis die Moderation die Sperre aufhebt."),
    ("standing.restricted", "Restricted: you can't start new generations until {time}.", "Eingeschränkt: Bis {time} können Sie keine neuen Bilder erzeugen."),
    ("standing.good", "Good standing.", "Keine Einschränkungen."),
    ("standing.title", "Account standing", "Kontostatus"),
    ("standing.strikes", "Active strikes: {active} of {suspend}. Each generation rejected by moderation and each upheld report adds one; {restrict} restrict new generations for a while, {suspend} suspend the account. Strikes stop counting after {days} days.", "Aktive Verwarnungen: {active} von {suspend}. Jedes von der Moderation abgelehnte Bild und jede bestätigte Meldung zählt eine; ab {restrict} sind neue Bilder eine Zeit lang gesperrt, ab {suspend} wird das Konto gesperrt. Verwarnungen zählen nach {days} Tagen nicht mehr."),
    ("standing.lifted", " · lifted", " · aufgehoben"),
    ("standing.expired", " · expired", " · abgelaufen"),
    // buying credits, plans
    ("buy.lasts", "Credits expire {days} days after they are added.", "Credits verfallen {days} Tage nach der Gutschrift."),
    ("buy.forever", "Credits never expire.", "Credits verfallen nie."),
    ("buy.err.unavailable", "The payment provider is not reachable. Please try again later.", "Der Zahlungsanbieter ist nicht erreichbar. Bitte versuchen Sie es später noch einmal."),
    ("buy.err.not_found", "That checkout was not found.", "Dieser Bezahlvorgang wurde nicht gefunden."),
    ("buy.err.plan", "That plan cannot be bought here right now.", "Dieser Plan kann hier gerade nicht gekauft werden."),
    ("buy.canceled", "Checkout canceled: nothing was charged.", "Bezahlung abgebrochen: Es wurde nichts berechnet."),
    ("buy.thanks_pending", "Thank you. Your credits arrive as soon as the payment provider confirms the payment; this page updates by itself.", "Vielen Dank. Ihre Credits kommen, sobald der Zahlungsanbieter die Zahlung bestätigt; diese Seite aktualisiert sich von selbst."),
    ("buy.thanks_done", "Thank you. The payment is confirmed and your credits are added.", "Vielen Dank. Die Zahlung ist bestätigt und Ihre Credits sind gutgeschrieben."),
    ("buy.balance", "Your balance:", "Ihr Stand:"),
    ("buy.rules", "Credits from a plan are spent soonest-expiring first. Generations rejected by moderation are not refunded.", "Credits werden in der Reihenfolge ihres Verfalls verbraucht, die zuerst verfallenden zuerst. Von der Moderation abgelehnte Bilder werden nicht erstattet."),
    ("buy.off", "Payments are off on this server. An administrator can still grant credits.", "Zahlungen sind auf diesem Server ausgeschaltet. Ein Administrator kann trotzdem Credits gutschreiben."),
    ("buy.cards", "Card and PayPal details are handled by the payment providers; Darkroom never sees or stores them.", "Karten- und PayPal-Daten verarbeiten die Zahlungsanbieter; Darkroom sieht und speichert sie nie."),
    ("buy.subscriptions", "Subscriptions", "Abonnements"),
    ("buy.since", "since {time}", "seit {time}"),
    ("buy.payments", "Your payments", "Ihre Zahlungen"),
    ("buy.per_month", "{price} / month", "{price} / Monat"),
    ("buy.a_month", " a month", " im Monat"),
    ("buy.subscribe", "Subscribe", "Abonnieren"),
    ("buy.buy", "Buy", "Kaufen"),
    ("buy.paypal", "Pay with PayPal", "Mit PayPal bezahlen"),
    ("buy.no_payments", "No payments yet.", "Noch keine Zahlungen."),
    ("col.plan", "Plan", "Plan"),
    ("col.provider", "Provider", "Anbieter"),
    ("col.amount", "Amount", "Betrag"),
    ("col.status", "Status", "Status"),
    ("col.transaction", "Transaction", "Transaktion"),
    ("plans.short", "Plans", "Pläne"),
    ("plans.title", "Plans and payments", "Pläne und Zahlungen"),
    ("plans.saved", "Saved {name}.", "{name} gespeichert."),
    ("plans.catalogue", "Catalogue", "Katalog"),
    ("plans.new", "New plan", "Neuer Plan"),
    ("plans.latest", "Latest payments", "Neueste Zahlungen"),
    ("plans.kind", "Kind", "Art"),
    ("plans.package", "one-time package", "einmaliges Paket"),
    ("plans.subscription", "monthly subscription", "monatliches Abonnement"),
    ("plans.name", "Name", "Name"),
    ("plans.credits", "Credits", "Credits"),
    ("plans.price", "Price", "Preis"),
    ("plans.currency", "Currency", "Währung"),
    ("plans.lot_days", "Credits last (days, empty: forever)", "Credits gelten (Tage, leer: unbegrenzt)"),
    ("plans.position", "Position", "Position"),
    ("plans.archived", "archived (not offered)", "archiviert (nicht im Angebot)"),
    ("plans.add", "Add plan", "Plan hinzufügen"),
    // API keys page
    ("keys.title", "API keys", "API-Schlüssel"),
    ("keys.lead", "Keys let your own software create generations with your credits. Reference:", "Mit Schlüsseln erzeugt Ihre eigene Software Bilder mit Ihren Credits. Referenz:"),
    ("keys.docs", "API documentation", "API-Dokumentation"),
    ("keys.openapi", "OpenAPI document", "OpenAPI-Dokument"),
    ("keys.new", "New key", "Neuer Schlüssel"),
    ("keys.placeholder", "My app", "Meine App"),
    ("keys.scopes", "Scopes", "Berechtigungen"),
    ("keys.scope_generate", "generate (create, cancel, delete, upload)", "generate (erstellen, abbrechen, löschen, hochladen)"),
    ("keys.scope_read", "read", "read (lesen)"),
    ("keys.cap", "Credit cap (optional)", "Credit-Obergrenze (optional)"),
    ("keys.per", "per", "pro"),
    ("keys.day", "day (UTC)", "Tag (UTC)"),
    ("keys.month", "month", "Monat"),
    ("keys.expires", "Expires", "Läuft ab"),
    ("keys.in7", "in 7 days", "in 7 Tagen"),
    ("keys.in30", "in 30 days", "in 30 Tagen"),
    ("keys.in90", "in 90 days", "in 90 Tagen"),
    ("keys.in365", "in a year", "in einem Jahr"),
    ("keys.rights", "I will only send images I have the rights and consent for.", "Ich sende nur Bilder, für die ich die Rechte und die Einwilligung habe."),
    ("keys.create", "Create key", "Schlüssel erstellen"),
    ("keys.copy", "Copy your key now: it is shown once and cannot be shown again.", "Kopieren Sie den Schlüssel jetzt: Er wird nur einmal angezeigt."),
    ("keys.new_label", "New API key", "Neuer API-Schlüssel"),
    ("keys.yours", "Your keys", "Ihre Schlüssel"),
    ("keys.none", "No keys yet.", "Noch keine Schlüssel."),
    ("keys.deliveries", "Webhook deliveries", "Webhook-Zustellungen"),
    ("keys.no_deliveries", "None yet. Set an endpoint on a key to receive generation events.", "Noch keine. Hinterlegen Sie an einem Schlüssel eine Adresse, um Ereignisse zu Bildern zu empfangen."),
    ("col.event", "Event", "Ereignis"),
    ("col.generation", "Generation", "Bild"),
    ("col.state", "State", "Zustand"),
    ("col.attempts", "Attempts", "Versuche"),
    ("col.last_answer", "Last answer", "Letzte Antwort"),
    ("keys.resend", "Resend", "Erneut senden"),
    ("keys.requests", "Requests", "Anfragen"),
    ("keys.no_requests", "No API requests yet.", "Noch keine API-Anfragen."),
    ("col.key", "Key", "Schlüssel"),
    ("col.request", "Request", "Anfrage"),
    ("keys.active", "active", "aktiv"),
    ("keys.cap_day", "{spent} of {cap} credits this day", "{spent} von {cap} Credits heute"),
    ("keys.cap_month", "{spent} of {cap} credits this month", "{spent} von {cap} Credits in diesem Monat"),
    ("keys.no_cap", "{spent} credits this month, no cap", "{spent} Credits in diesem Monat, keine Obergrenze"),
    ("keys.last_used", "last used", "zuletzt benutzt"),
    ("keys.expires_lc", "expires", "läuft ab"),
    ("keys.webhook", "Webhook", "Webhook"),
    ("keys.endpoint", "HTTPS endpoint (empty removes it)", "HTTPS-Adresse (leer entfernt sie)"),
    ("keys.events", "Events", "Ereignisse"),
    ("keys.save_webhook", "Save webhook", "Webhook speichern"),
    ("keys.signing", "Signing secret (Standard Webhooks):", "Signaturgeheimnis (Standard Webhooks):"),
    ("keys.examples", "Examples", "Beispiele"),
    // public pages, explore, moderation
    ("report.sexual", "Sexual content", "Sexuelle Inhalte"),
    ("report.minors", "Involves minors", "Betrifft Minderjährige"),
    ("report.violence", "Violence or gore", "Gewalt oder Brutalität"),
    ("report.hate", "Hate or harassment", "Hass oder Belästigung"),
    ("report.illegal", "Illegal content", "Illegale Inhalte"),
    ("report.spam", "Spam", "Spam"),
    ("report.other", "Something else", "Etwas anderes"),
    ("public.description", "{style} · AI-generated with Darkroom", "{style} · mit Darkroom KI-generiert"),
    ("public.liked", "♥ Liked", "♥ Gefällt mir"),
    ("public.like", "♡ Like", "♡ Gefällt mir"),
    ("report.open", "Report this image", "Dieses Bild melden"),
    ("report.thanks", "Thank you. A moderator will look at it.", "Danke. Die Moderation sieht es sich an."),
    ("report.details", "Details (optional)", "Details (optional)"),
    ("report.send", "Send report", "Meldung senden"),
    ("explore.newest", "Newest", "Neueste"),
    ("explore.top", "Top this week", "Beliebt diese Woche"),
    ("explore.empty", "Nothing public yet.", "Noch nichts Öffentliches."),
    ("explore.more", "More", "Mehr"),
    ("mod.title", "Review queue", "Prüfwarteschlange"),
    ("mod.all", "All", "Alle"),
    ("mod.held_gate", "Held by a gate", "Von einer Prüfstufe angehalten"),
    ("mod.reports", "Reports", "Meldungen"),
    ("mod.category", "Category", "Kategorie"),
    ("mod.keys", "Keys: a approves, r rejects the first item.", "Tasten: a gibt frei, r lehnt das erste Element ab."),
    ("mod.empty", "Nothing waits for review.", "Nichts wartet auf Prüfung."),
    ("mod.category_label", "Category shown to the member", "Kategorie, die das Mitglied sieht"),
    ("mod.suspended", "suspended", "gesperrt"),
    ("mod.restricted", "restricted until {time}", "eingeschränkt bis {time}"),
    ("mod.good", "good standing", "keine Einschränkungen"),
    ("mod.image_alt", "Item under review", "Bild in Prüfung"),
    ("mod.report", "Report", "Meldung"),
    ("mod.held", "Held for review", "Zur Prüfung angehalten"),
    ("mod.reported_for", "Reported for", "Gemeldet wegen"),
    ("mod.prompt", "Prompt:", "Beschreibung:"),
    ("mod.none", "(none)", "(keine)"),
    ("mod.member", "Member:", "Mitglied:"),
    ("mod.strikes", " · {n} active strike(s)", " · {n} aktive Verwarnung(en)"),
    ("mod.history", "History ({n} flagged)", "Verlauf ({n} markiert)"),
    ("mod.reason", "Reason (audit log)", "Grund (Prüfprotokoll)"),
    ("mod.dismiss", "Dismiss", "Verwerfen"),
    ("mod.uphold", "Uphold", "Bestätigen"),
    ("mod.uphold_hide", "Uphold and hide", "Bestätigen und ausblenden"),
    ("mod.approve", "Approve (a)", "Freigeben (a)"),
    ("mod.reject", "Reject (r)", "Ablehnen (r)"),
    ("mod.lift_reason", "Reason to lift", "Grund für die Aufhebung"),
    ("mod.lift", "Lift restrictions and strikes", "Einschränkungen und Verwarnungen aufheben"),
    ("category.sexual", "sexual content", "sexuelle Inhalte"),
    ("category.minors", "minors", "Minderjährige"),
    ("category.violence", "violence", "Gewalt"),
    ("category.hate", "hate", "Hass"),
    ("category.illegal", "illegal content", "illegale Inhalte"),
    ("category.spam", "spam", "Spam"),
    ("category.other", "other", "Sonstiges"),
    // account, sign-up, create, shared parts, connection banner
    ("reset.choose", "Choose a new password", "Neues Passwort wählen"),
    ("link.verified", "Your email address is confirmed and you are signed in. You can start creating.", "Ihre E-Mail-Adresse ist bestätigt und Sie sind angemeldet. Sie können loslegen."),
    ("link.changed", "Your account now uses the new email address.", "Ihr Konto verwendet jetzt die neue E-Mail-Adresse."),
    ("link.conflict", "That address belongs to another account.", "Diese Adresse gehört zu einem anderen Konto."),
    ("link.invalid", "This link is not valid any more. Sign in and ask for a new one.", "Dieser Link ist nicht mehr gültig. Melden Sie sich an und fordern Sie einen neuen an."),
    ("account.new_address", "New address", "Neue Adresse"),
    ("account.send_link", "Send a confirmation link", "Bestätigungslink senden"),
    ("account.email_sent", "We sent a link to the new address; your account moves there when you open it.", "Wir haben einen Link an die neue Adresse geschickt; Ihr Konto zieht um, sobald Sie ihn öffnen."),
    ("account.current_password", "Current password", "Aktuelles Passwort"),
    ("account.password_changed", "Changed. Your other sessions are signed out.", "Geändert. Ihre anderen Sitzungen sind abgemeldet."),
    ("event.sign_in", "sign in", "Anmeldung"),
    ("event.api_key_disabled", "API key disabled by staff", "API-Schlüssel vom Betreiber deaktiviert"),
    ("event.sign_in_failed", "sign in failed", "Anmeldung fehlgeschlagen"),
    ("event.password_reset_requested", "password reset requested", "Passwort-Zurücksetzung angefordert"),
    ("event.password_reset", "password reset", "Passwort zurückgesetzt"),
    ("event.password_changed", "password changed", "Passwort geändert"),
    ("event.email_verified", "email verified", "E-Mail bestätigt"),
    ("event.email_change_requested", "email change requested", "E-Mail-Änderung angefordert"),
    ("event.email_changed", "email changed", "E-Mail geändert"),
    ("event.sessions_ended", "sessions ended", "Sitzungen beendet"),
    ("event.api_key_created", "api key created", "API-Schlüssel erstellt"),
    ("event.api_key_revoked", "api key revoked", "API-Schlüssel widerrufen"),
    ("event.admin_action", "admin action", "Aktion eines Administrators"),
    ("export.queued", "queued", "in Arbeit"),
    ("export.ready", "ready", "fertig"),
    ("export.failed", "failed", "fehlgeschlagen"),
    ("account.terms_version", "Terms version accepted:", "Akzeptierte Version der Bedingungen:"),
    ("account.google_delete1", "Made your account with Google and never set a password?", "Konto mit Google erstellt und nie ein Passwort gesetzt?"),
    ("account.google_delete2", "Sign in with Google again", "Melden Sie sich erneut mit Google an"),
    ("account.google_delete3", "first, then leave the password empty.", "und lassen Sie dann das Passwort leer."),
    ("account.type_delete", "Type DELETE to confirm", "Zur Bestätigung DELETE eingeben"),
    ("signup.age", "I am {age} or older", "Ich bin {age} Jahre oder älter"),
    ("signup.accept1", "I accept the", "Ich akzeptiere die"),
    ("signup.terms", "terms", "Nutzungsbedingungen"),
    ("signup.accept2", "and have read the", "und habe die"),
    ("signup.privacy", "privacy notice", "Datenschutzhinweise"),
    ("signup.accept3", ".", " gelesen."),
    ("auth.google", "Continue with Google", "Weiter mit Google"),
    ("signup.title", "Create your account", "Konto erstellen"),
    ("signup.google1", "Google confirmed", "Google hat bestätigt:"),
    ("signup.google2", "One more step:", "Noch ein Schritt:"),
    ("signup.create_mine", "Create my account", "Mein Konto erstellen"),
    ("signup.min", "At least 10 characters.", "Mindestens 10 Zeichen."),
    ("signup.name", "Display name", "Anzeigename"),
    ("signup.create", "Create account", "Konto erstellen"),
    ("signup.have", "Already have an account?", "Schon ein Konto?"),
    ("google.unverified", "An account uses this address but has not confirmed it. Sign in with your password and confirm the address first; then Google sign-in works.", "Ein Konto verwendet diese Adresse, hat sie aber nicht bestätigt. Melden Sie sich mit Ihrem Passwort an und bestätigen Sie zuerst die Adresse; dann funktioniert die Anmeldung mit Google."),
    ("google.unavailable", "Google sign-in is not reachable right now. Please try again later.", "Die Anmeldung mit Google ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal."),
    ("google.failed", "Google sign-in did not succeed. Please try again.", "Die Anmeldung mit Google hat nicht geklappt. Bitte versuchen Sie es noch einmal."),
    ("create.blend", "Blend", "Mischung"),
    ("create.placeholder", "A title or description, e.g. \"Harbour at dusk, oil painting\"", "Ein Titel oder eine Beschreibung, z. B. „Hafen in der Dämmerung, Ölgemälde“"),
    ("create.thumb", "Result thumbnail", "Vorschaubild"),
    ("notfound.title", "Not found", "Nicht gefunden"),
    ("notfound.body", "There is nothing here, or it is not yours to see.", "Hier ist nichts, oder es ist nicht für Sie bestimmt."),
    ("notfound.home", "Go home", "Zur Startseite"),
    ("members.title", "Please sign in", "Bitte melden Sie sich an"),
    ("members.body", "This page is for members.", "Diese Seite ist für Mitglieder."),
    ("style.n", "Style {n}", "Stil {n}"),
    ("style.any", "Any style", "Jeder Stil"),
    ("error.global", "Something went wrong. Reload the page or try again a little later.", "Etwas ist schiefgegangen. Laden Sie die Seite neu oder versuchen Sie es etwas später noch einmal."),
    ("error.reload", "Reload", "Neu laden"),
    ("nav.credits_title", "Your credits and ledger", "Ihre Credits und Buchungen"),
    ("conn.reconnecting", "Reconnecting…", "Verbindung wird wiederhergestellt …"),
    ("conn.reconnecting_body", "Trying to reconnect to the server. This usually takes a few seconds.", "Die Verbindung zum Server wird wiederhergestellt. Das dauert meist nur ein paar Sekunden."),
    ("conn.waiting", "Still trying to reconnect. Next attempt in {seconds} seconds.", "Die Verbindung wird weiter versucht. Nächster Versuch in {seconds} Sekunden."),
    ("conn.retry_now", "Retry now", "Jetzt erneut versuchen"),
    ("conn.retry", "Retry", "Erneut versuchen"),
    ("conn.lost", "Connection lost.", "Verbindung verloren."),
    ("conn.lost_body", "We could not restore the server connection. Check your internet connection and try again.", "Die Verbindung zum Server ließ sich nicht wiederherstellen. Prüfen Sie Ihre Internetverbindung und versuchen Sie es erneut."),
    ("conn.paused", "Session paused.", "Sitzung pausiert."),
    ("conn.paused_body", "This page was inactive for too long. Resume the session to continue.", "Diese Seite war zu lange inaktiv. Setzen Sie die Sitzung fort, um weiterzumachen."),
    ("conn.resume", "Resume", "Fortsetzen"),
    ("conn.resume_failed", "Could not resume session.", "Sitzung konnte nicht fortgesetzt werden."),
    ("conn.resume_failed_body", "The server could not restore the current session. Try resuming it again.", "Der Server konnte die Sitzung nicht wiederherstellen. Versuchen Sie es noch einmal."),
    // job cards
    ("job.next", "Next in line", "Als Nächstes dran"),
    ("job.ahead", "{n} ahead of you", "{n} vor Ihnen"),
    ("job.review", "A moderator is checking this generation. The outcome appears here.", "Die Moderation prüft dieses Bild. Das Ergebnis erscheint hier."),
    ("job.progress", "Progress", "Fortschritt"),
    ("job.cancel_help", "Cancel before it starts (refunded unless the operator turned that off)", "Abbrechen, bevor es beginnt (wird erstattet, sofern der Betreiber das nicht ausgeschaltet hat)"),
    ("job.cancel", "Cancel", "Abbrechen"),
    ("job.open", "Open", "Öffnen"),
    // terms and privacy (built-in texts)
    ("legal.terms", "Terms of service", "Nutzungsbedingungen"),
    ("legal.privacy", "Privacy notice", "Datenschutzhinweise"),
    ("legal.version", "Version {v}, in effect since {time}", "Version {v}, gültig seit {time}"),
    ("legal.earlier", "Earlier versions", "Frühere Versionen"),
    ("legal.material_mark", " · material change", " · wesentliche Änderung"),
    ("legal.publish_title", "Publish a new version", "Neue Version veröffentlichen"),
    ("legal.f.version", "Version", "Version"),
    ("legal.f.effective", "In effect from (YYYY-MM-DD, empty: now)", "Gültig ab (JJJJ-MM-TT, leer: sofort)"),
    ("legal.f.body", "Text (markdown)", "Text (Markdown)"),
    ("legal.f.material", "Material change: members must accept it again before creating", "Wesentliche Änderung: Mitglieder müssen sie vor dem nächsten Erstellen erneut akzeptieren"),
    ("legal.publish", "Publish", "Veröffentlichen"),
    ("legal.published", "Published.", "Veröffentlicht."),
    ("legal.builtin_version", "Version {v}", "Version {v}"),
    ("terms.b1", "Who may use it", "Wer es nutzen darf"),
    ("terms.b2", "You must be 18 or older (or the higher age the operator sets) and accept these terms to create an account.", "Für ein Konto müssen Sie mindestens 18 Jahre alt sein (oder das höhere Alter, das der Betreiber festlegt) und diese Bedingungen akzeptieren."),
    ("terms.b3", "Your uploads", "Ihre Uploads"),
    ("terms.b4", "Upload only photos you own or have permission to use, and only of people who agreed to it. You confirm this for every upload. Do not upload images of minors in any sexual or suggestive context, or anything illegal.", "Laden Sie nur Fotos hoch, die Ihnen gehören oder die Sie verwenden dürfen, und nur von Menschen, die zugestimmt haben. Das bestätigen Sie bei jedem Upload. Laden Sie keine Bilder von Minderjährigen in sexuellem oder anzüglichem Zusammenhang hoch und nichts Illegales."),
    ("terms.b5", "Credits", "Credits"),
    ("terms.b6", "Each generation costs the credits shown before you submit; they are taken when you submit. If a generation fails for a technical reason, the credits go back to your balance. If you cancel before it starts, they go back too. If moderation rejects your input or the result, the credits are not refunded.", "Jedes Bild kostet die Credits, die vor dem Absenden angezeigt werden; sie werden beim Absenden abgebucht. Scheitert ein Bild aus technischen Gründen, gehen die Credits zurück auf Ihr Konto, ebenso, wenn Sie abbrechen, bevor es beginnt. Lehnt die Moderation Ihre Eingabe oder das Ergebnis ab, werden die Credits nicht erstattet."),
    ("terms.b7", "Results", "Ergebnisse"),
    ("terms.b8", "Results are private to you unless you share them. They are produced by an AI model, are marked as AI-generated, and may be imperfect. Do not present them as real photographs of real events.", "Ergebnisse sind privat, solange Sie sie nicht teilen. Sie entstehen durch ein KI-Modell, sind als KI-generiert gekennzeichnet und können Fehler haben. Geben Sie sie nicht als echte Fotos echter Ereignisse aus."),
    ("terms.b9", "Ending", "Beenden"),
    ("terms.b10", "You may delete items or your account at any time. The operator may restrict accounts that break these terms.", "Sie können Bilder oder Ihr Konto jederzeit löschen. Der Betreiber kann Konten einschränken, die gegen diese Bedingungen verstoßen."),
    ("privacy.b1", "What we keep", "Was wir speichern"),
    ("privacy.b2", "Your email, display name, a hash of your password (never the password), your credit ledger, your uploads and results, and a fingerprint (hash) of each upload.", "Ihre E-Mail-Adresse, Ihren Anzeigenamen, einen Hash Ihres Passworts (nie das Passwort selbst), Ihre Credit-Buchungen, Ihre Uploads und Ergebnisse und einen Fingerabdruck (Hash) jedes Uploads."),
    ("privacy.b3", "What we remove", "Was wir entfernen"),
    ("privacy.b4", "Camera, location (GPS) and other metadata are stripped from every upload before it is stored.", "Kamera-, Standort- (GPS) und andere Metadaten werden aus jedem Upload entfernt, bevor er gespeichert wird."),
    ("privacy.b5", "Where it goes", "Wohin es geht"),
    ("privacy.b6", "The built-in engine runs on this server. Your photos are not sent to third parties unless the operator enables an external provider for a template you choose, and then only what that generation needs.", "Die eingebaute Bilderzeugung läuft auf diesem Server. Ihre Fotos gehen nicht an Dritte, außer der Betreiber schaltet für eine Vorlage, die Sie wählen, einen externen Anbieter ein, und dann nur das, was dieses Bild braucht."),
    ("privacy.b7", "Cookies", "Cookies"),
    ("privacy.b8", "Only essential cookies: the session cookie, which keeps you signed in, and a preference cookie with your theme and language. No tracking or advertising cookies.", "Nur notwendige Cookies: das Sitzungs-Cookie, das Sie angemeldet hält, und ein Cookie mit Ihrem Farbschema und Ihrer Sprache. Keine Tracking- oder Werbe-Cookies."),
    ("privacy.b9", "How long", "Wie lange"),
    ("privacy.b10", "You can delete any item at once; its files are removed from storage. Uploads are kept only as long as the operator's retention settings allow.", "Sie können jedes Bild sofort löschen; seine Dateien werden aus dem Speicher entfernt. Uploads werden nur so lange aufbewahrt, wie die Aufbewahrungseinstellungen des Betreibers es erlauben."),
    ("privacy.b11", "Training", "Training"),
    ("privacy.b12", "Your images are not used to train models unless you opt in separately (Settings).", "Ihre Bilder werden nicht zum Trainieren von Modellen verwendet, außer Sie willigen gesondert ein (Einstellungen)."),
    ("privacy.b13", "Your rights", "Ihre Rechte"),
    ("privacy.b14", "In Settings you can see where you are signed in and what happened to your account, export all your data as a ZIP file, correct your email and name, and delete your account. Deletion removes your media and personal data; ledger and audit records stay, anonymised.", "In den Einstellungen sehen Sie, wo Sie angemeldet sind und was mit Ihrem Konto geschah, exportieren alle Ihre Daten als ZIP-Datei, korrigieren E-Mail-Adresse und Namen und löschen Ihr Konto. Das Löschen entfernt Ihre Medien und persönlichen Daten; Buchungen und Prüfprotokolle bleiben anonymisiert erhalten."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_and_words() {
        assert_eq!(parse_cookie("a=b; darkroom_prefs=dark.de; c=d"), Prefs { theme: "dark".into(), lang: "de".into() });
        assert_eq!(parse_cookie("darkroom_prefs=evil.xx"), Prefs { theme: "system".into(), lang: "en".into() });
        assert_eq!(tr("de", "nav.settings"), "Einstellungen");
        assert_eq!(tr("en", "nav.settings"), "Settings");
        assert_eq!(tr("fr", "nav.settings"), "Settings");
        let keys: std::collections::HashSet<_> = TEXT.iter().map(|(k, _, _)| k).collect();
        assert_eq!(keys.len(), TEXT.len(), "keys are unique");
        assert_eq!(fill("{a} and {b}, {a}", &[("a", &1), ("b", &"two")]), "1 and two, 1");
    }

    /// Every key a page passes to `t`, `tf` or `title` has a row with both languages, and
    /// both languages name the same placeholders.
    #[test]
    fn every_key_used_has_words() {
        let sources = [
            include_str!("lib.rs"),
            include_str!("live.rs"),
            include_str!("api/moderation.rs"),
            include_str!("pages/mod.rs"),
            include_str!("pages/account.rs"),
            include_str!("pages/auth.rs"),
            include_str!("pages/billing.rs"),
            include_str!("pages/create.rs"),
            include_str!("pages/credits.rs"),
            include_str!("pages/gallery.rs"),
            include_str!("pages/home.rs"),
            include_str!("pages/keys.rs"),
            include_str!("pages/legal.rs"),
            include_str!("pages/moderation.rs"),
            include_str!("pages/settings.rs"),
            include_str!("pages/share.rs"),
        ];
        let mut used = Vec::new();
        for src in sources {
            for call in ["t(\"", "tf(\"", "title(\""] {
                for (at, _) in src.match_indices(call) {
                    let before = src[..at].chars().last().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' {
                        continue; // e.g. `format!(` or `set_t(`
                    }
                    let rest = &src[at + call.len()..];
                    used.push(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
        assert!(used.len() > 300, "found {} keys in use", used.len());
        for key in &used {
            assert!(TEXT.iter().any(|(k, _, _)| k == key), "no words for {key:?}");
        }
        let holes = |s: &str| s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string())).collect::<std::collections::BTreeSet<_>>();
        for (k, en, de) in TEXT {
            assert!(!de.is_empty() || en.is_empty(), "{k} has no German");
            assert_eq!(holes(en), holes(de), "{k}: placeholders differ");
        }
    }
}
