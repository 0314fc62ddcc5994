//! Data rights (SPEC §7, GDPR art. 15, 17, 20): the data export and account deletion.
//!
//! Export: a background task builds a ZIP — `profile.json`, `consents.json`, `ledger.csv`,
//! `generations.json`, `security-events.json`, `uploads/<id>.<ext>` (originals still
//! retained) and `results/<job>.png` (a clip's `.mp4`) — stores it under `exports/<member>/<export>.zip`, and
//! mails a signed download link that works for 24 hours (`/account/exports/<id>?exp=&sig=`).
//!
//! Deletion: every file of the member is removed from storage first (uploads, results with
//! their renditions, exports), then `Store::delete_account` removes or anonymises the rows
//! (ledger and audit rows stay, pointing at an anonymous account) and returns the sessions
//! to end.

use std::io::Write;

use bytes::Bytes;
use serde_json::json;

use crate::mail::Mail;
use crate::{AppState, ServiceError};

/// How long an export's download link works, in seconds (24 h).
pub const EXPORT_LINK_SECS: u64 = 24 * 3600;

/// The object key of an export file.
pub fn export_key(user_id: &str, export_id: &str) -> String {
    format!("exports/{user_id}/{export_id}.zip")
}

/// Queues an export for the member and builds it in the background; the member is mailed
/// at `email` when it is ready. Returns the export's id.
pub async fn start_export(state: &AppState, user_id: &str, base: &str) -> Result<String, ServiceError> {
    let export = state.store.create_export(user_id).await?;
    let (state, user_id, base, id) = (state.clone(), user_id.to_string(), base.to_string(), export.id.clone());
    tokio::spawn(async move {
        match build_export(&state, &user_id, &id).await {
            Ok(bytes) => {
                let key = export_key(&user_id, &id);
                let len = bytes.len() as i64;
                let expires = darkroom_store::now_ms() + EXPORT_LINK_SECS as i64 * 1000;
                let stored = async {
                    state.media.put(&key, bytes).await?;
                    state.store.finish_export(&id, Some((&key, len, expires))).await?;
                    let user = state.store.user(&user_id).await?;
                    let link = format!("{base}{}", state.signer.sign_export(&id, expires as u64 / 1000));
                    let mail = Mail::with_link(
                        "Your Darkroom data export is ready",
                        &["The archive with your profile, consents, ledger, generations, uploads and results is ready."],
                        "Download the archive",
                        &link,
                        "The link works for 24 hours. You can ask for a new export in Settings at any time.",
                    );
                    state.mailer.send(&user.email, mail).await
                };
                if let Err(e) = stored.await {
                    tracing::error!(error = %e, "export not stored or not mailed");
                    let _ = state.store.finish_export(&id, None).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "export failed");
                let _ = state.store.finish_export(&id, None).await;
            }
        }
    });
    Ok(export.id)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec_pretty(v).map_err(ServiceError::internal)
}

/// The export archive's bytes.
pub async fn build_export(state: &AppState, user_id: &str, export_id: &str) -> Result<Bytes, ServiceError> {
    let store = &state.store;
    let user = store.user(user_id).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.push((
        "profile.json".into(),
        to_json(&json!({
            "id": user.id, "email": user.email, "display_name": user.display_name, "role": user.role,
            "created_at": crate::api::rfc3339(user.created_at), "email_verified_at": user.email_verified_at.map(crate::api::rfc3339),
            "terms_version": user.terms_version, "training_consent": user.training_consent_at.is_some(),
            "theme": user.theme, "language": user.language, "balance_credits": user.balance, "export_id": export_id,
        }))?,
    ));
    files.push(("consents.json".into(), to_json(&store.consents(user_id).await?)?));
    files.push(("security-events.json".into(), to_json(&store.security_events(user_id, 10_000).await?)?));
    files.push(("ledger.csv".into(), crate::credits::ledger_csv(store, user_id, &Default::default()).await?.into_bytes()));
    let mut jobs = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.jobs_for_user(user_id, None, before.as_deref(), 500).await?;
        let done = page.len() < 500;
        before = page.last().map(|j| j.id.clone());
        jobs.extend(page);
        if done {
            break;
        }
    }
    let generations: Vec<_> = jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id, "status": j.status, "params": serde_json::from_str::<serde_json::Value>(&j.params).unwrap_or_default(),
                "prompt": j.prompt, "cost_credits": j.cost, "visibility": j.visibility, "created_at": crate::api::rfc3339(j.created_at),
                "finished_at": j.finished_at.map(crate::api::rfc3339), "upload_id": j.upload_id,
                "result_file": j.result_key.as_deref().map(|k| result_name(&j.id, k)),
            })
        })
        .collect();
    files.push(("generations.json".into(), to_json(&generations)?));
    for (id, key, mime) in store.live_uploads(user_id).await? {
        let ext = match mime.as_str() {
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            "video/mp4" => "mp4",
            _ => "png",
        };
        match state.media.get(&key).await {
            Ok(b) => files.push((format!("uploads/{id}.{ext}"), b.to_vec())),
            Err(ServiceError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    for j in jobs.iter().filter(|j| j.result_key.is_some()) {
        match state.media.get(j.result_key.as_deref().unwrap_or_default()).await {
            Ok(b) => files.push((result_name(&j.id, j.result_key.as_deref().unwrap_or_default()), b.to_vec())),
            Err(ServiceError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    tokio::task::spawn_blocking(move || -> Result<Bytes, ServiceError> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            // Images are compressed already.
            let o = if name.ends_with(".json") || name.ends_with(".csv") { opts } else { opts.compression_method(zip::CompressionMethod::Stored) };
            zip.start_file(name, o).map_err(ServiceError::internal)?;
            zip.write_all(&data).map_err(ServiceError::internal)?;
        }
        Ok(Bytes::from(zip.finish().map_err(ServiceError::internal)?.into_inner()))
    })
    .await
    .map_err(ServiceError::internal)?
}

/// Deletes the member's account for good (SPEC §7): files first, then the rows; returns the
/// session ids to end (the caller removes them from the session store).
pub async fn delete_account(state: &AppState, user_id: &str) -> Result<Vec<String>, ServiceError> {
    for (_, key, _) in state.store.live_uploads(user_id).await? {
        state.media.delete(&key).await?;
    }
    for (result, thumb) in state.store.result_keys_of(user_id).await? {
        state.media.delete_result(result.as_deref(), thumb.as_deref()).await?;
    }
    for key in state.store.export_keys_of(user_id).await? {
        state.media.delete(&key).await?;
    }
    Ok(state.store.delete_account(user_id).await?)
}

/// A result's name in the export: `results/<job>.<ext>`, the original's own extension (`png`,
/// or `mp4`/`webm` for a clip).
fn result_name(job_id: &str, result_key: &str) -> String {
    let ext = result_key.rsplit_once('.').map_or("png", |(_, e)| e);
    format!("results/{job_id}.{ext}")
}
