//! Preferences and UI text (SPEC §7): theme (`light`, `dark`, `system`) and language
//! (English, German), kept in the `darkroom_prefs` cookie (`<theme>.<language>`; set for
//! visitors and members alike, and from the member's stored preferences at sign-in) so the
//! server renders the first page in them and the browser hydrates the same.
//!
//! Text goes through [`t`]: a key and its words per language. Pages moved to it so far: the
//! header, the footer, the home and create pages, sign-in, sign-up, password reset, the
//! account notices and the account settings.

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
    let lang = use_context::<Prefs>().map(|p| p.lang).unwrap_or_default();
    tr(&lang, key)
}

/// The words for `key` in `lang`.
pub fn tr(lang: &str, key: &'static str) -> &'static str {
    let Some((_, en, de)) = TEXT.iter().find(|(k, _, _)| *k == key) else { return key };
    if lang == "de" { de } else { en }
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
    ("create.step2", "2. Style", "2. Stil"),
    ("create.step3", "3. Finish", "3. Fertigstellen"),
    ("create.drop", "Drop a photo here, or tap to choose or take one", "Foto hierher ziehen oder tippen, um eines zu wählen oder aufzunehmen"),
    ("create.formats", "JPEG, PNG or WebP, up to {mb} MB. Location and camera data are removed.", "JPEG, PNG oder WebP, bis {mb} MB. Standort- und Kameradaten werden entfernt."),
    ("create.rights", "I have the rights and consent for this image", "Ich habe die Rechte und die Einwilligung für dieses Bild"),
    ("create.blend_with", "Blend with", "Mischen mit"),
    ("create.no_blend", "No blend", "Nicht mischen"),
    ("create.prompt", "Prompt (optional)", "Beschreibung (optional)"),
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
    }
}
