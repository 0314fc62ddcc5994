//! Transactional mail through `lettre`: SMTP when `DARKROOM_SMTP_URL` is set, otherwise an
//! outbox folder (`DARKROOM_OUTBOX_DIR`, one `.eml` file per message) and a log line, so a
//! single-machine install works without a mail server and tests read what was sent.
//! Every message has a plain-text and an HTML part (`multipart/alternative`).

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{Config, ServiceError};

/// Where mail goes.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
}

/// The mailer. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// A message before it is wrapped: subject, plain text, and the HTML body's inner markup.
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `s` as HTML text or a quoted attribute value (`&`, `<`, `>`, `"` escaped).
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Mail {
    /// A message of paragraphs only (`lines`), no call to action.
    pub fn plain(subject: &str, lines: &[&str]) -> Self {
        let text = format!("{}\n\n-- Darkroom\n", lines.join("\n\n"));
        let paras: String = lines.iter().map(|l| format!("<p style=\"white-space:pre-wrap\">{}</p>\n", escape(l))).collect();
        let html = format!("<!doctype html>\n<html><body style=\"font-family:sans-serif;max-width:36em\">\n{paras}<p>-- Darkroom</p></body></html>\n");
        Self { subject: subject.into(), text, html }
    }

    /// A message with one call to action: `lines` of text, then the `link` (its button says
    /// `action`), then `after` (for instance how long the link works).
    pub fn with_link(subject: &str, lines: &[&str], action: &str, link: &str, after: &str) -> Self {
        // lettre encodes the parts (quoted-printable for lines over 76 characters).
        let text = format!("{}\n\n{action}: {link}\n\n{after}\n\n-- Darkroom\n", lines.join("\n\n"));
        let paras: String = lines.iter().map(|l| format!("<p>{}</p>\n", escape(l))).collect();
        let html = format!(
            "<!doctype html>\n<html><body style=\"font-family:sans-serif;max-width:36em\">\n{paras}\
             <p><a href=\"{href}\" style=\"display:inline-block;padding:.6em 1.2em;background:#b4452a;color:#fff;border-radius:6px;text-decoration:none\">{action}</a></p>\n\
             <p style=\"color:#666\">{after_html}</p>\n<p style=\"color:#666\">If the button does not work, open this address: {href}</p>\n\
             <p>-- Darkroom</p></body></html>\n",
            href = escape(link),
            action = escape(action),
            after_html = escape(after),
        );
        Self { subject: subject.into(), text, html }
    }
}

impl Mailer {
    /// From the configuration: `DARKROOM_SMTP_URL` (lettre's URL form, e.g.
    /// `smtps://user:pass@smtp.example.com` or `smtp://host:587?tls=required`) or the outbox.
    ///
    /// Errors: a malformed SMTP URL, an outbox folder that cannot be made.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| anyhow::anyhow!("DARKROOM_MAIL_FROM: {e}"))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| anyhow::anyhow!("DARKROOM_SMTP_URL: {e}"))?.build()),
            None => {
                std::fs::create_dir_all(&config.outbox_dir)?;
                Transport::Outbox(AsyncFileTransport::new(&config.outbox_dir), config.outbox_dir.clone())
            }
        };
        Ok(Self { transport, from })
    }

    /// Sends `mail` to `to`.
    ///
    /// Errors: [`ServiceError::Invalid`] for an address that cannot be mailed;
    /// [`ServiceError::Unavailable`] when the SMTP server or the outbox fails.
    pub async fn send(&self, to: &str, mail: Mail) -> Result<(), ServiceError> {
        let to: Mailbox = to.parse().map_err(|_| ServiceError::Invalid("That email address cannot receive mail.".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(&mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
            )
            .map_err(ServiceError::internal)?;
        match &self.transport {
            Transport::Smtp(t) => {
                t.send(message).await.map_err(|e| {
                    tracing::warn!(error = %e, "SMTP send failed");
                    ServiceError::Unavailable("Mail could not be sent. Please try again later.".into())
                })?;
            }
            Transport::Outbox(t, dir) => {
                let id = t.send(message).await.map_err(|e| {
                    tracing::warn!(error = %e, "outbox write failed");
                    ServiceError::Unavailable("Mail could not be sent. Please try again later.".into())
                })?;
                tracing::info!(to = %to.email, subject = %mail.subject, file = %dir.join(format!("{id}.eml")).display(), "mail written to the outbox (no SMTP configured)");
            }
        }
        Ok(())
    }
}
