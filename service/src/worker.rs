//! The job worker: claims a job, runs the engine, passes the result through the output
//! moderation gate, stores it (unless blocked), finishes the job.
//!
//! Runs in `serve` (in-process, `DARKROOM_WORKERS` of them) or alone in `darkroom worker`.
//! While a job runs, its lease is renewed with every progress report and at least every
//! third of the lease; if the store says the lease was lost, the worker drops its result.

use std::time::Duration;

use bytes::Bytes;
use darkroom_engine::provenance::Action;
use darkroom_engine::{imageio, EngineError, StyleParams};
use darkroom_store::jobs::{Job, JobOutput, OutputGate};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::moderation::{self, Category, Decision, ImageGate, ReviewMode};
use crate::{media, AppState, ServiceError};

/// Width in pixels of the gallery thumbnail (the 512 JPEG rendition; its key names the
/// result's renditions, see [`media::rendition_key`]).
pub const THUMB_WIDTH: u32 = 512;

/// Runs jobs until `shutdown` turns true. Idle polling every 500 ms (woken sooner by new jobs
/// created in this process).
pub async fn run(state: AppState, worker_id: String, mut shutdown: watch::Receiver<bool>) {
    let lease_ms = state.config.lease_secs as i64 * 1000;
    let mut changes = state.store.subscribe_changes();
    tracing::info!(worker = %worker_id, "worker started");
    while !*shutdown.borrow() {
        match state.store.claim_job(&worker_id, lease_ms).await {
            Ok(Some(job)) => {
                let id = job.id.clone();
                if let Err(e) = process(&state, &worker_id, job).await {
                    tracing::error!(job = %id, error = %e, "job processing error");
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = changes.recv() => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    tracing::info!(worker = %worker_id, "worker stopped");
}

/// Runs one claimed job to its end state.
pub async fn process(state: &AppState, worker: &str, job: Job) -> Result<(), ServiceError> {
    let store = &state.store;
    let lease_ms = state.config.lease_secs as i64 * 1000;
    let refund = state.config.refund_on_failure;
    let fail = |msg: String| {
        let id = job.id.clone();
        async move { store.fail_job(&id, worker, "failed", &msg, refund).await }
    };
    let Some(engine) = state.engine.clone() else {
        fail("The generation engine is not available right now.".into()).await?;
        return Ok(());
    };
    let params: StyleParams = match serde_json::from_str(&job.params) {
        Ok(p) => p,
        Err(_) => {
            fail("The job's parameters could not be read.".into()).await?;
            return Ok(());
        }
    };
    let upload = match store.upload(&job.upload_id, &job.user_id).await {
        Ok(u) => u,
        Err(darkroom_store::StoreError::NotFound) => {
            fail("The source photo is no longer available.".into()).await?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let photo = state.media.get(&upload.object_key).await?;

    // Progress travels from the blocking engine thread through a watch channel; this task
    // writes it (which renews the lease) and renews at least every lease/3 while silent.
    let (tx, mut rx) = watch::channel(5i64);
    let policy = state.policy.clone();
    let (provenance, job_id) = (state.provenance.clone(), job.id.clone());
    let engine_task = tokio::task::spawn_blocking(move || {
        let img = image::load_from_memory(&photo).map_err(|e| EngineError::BadInput(e.to_string()))?.into_rgb8();
        let progress = |p: f32| {
            let _ = tx.send(5 + (p * 80.0) as i64);
        };
        let out = engine.stylize(img, &params, &progress)?;
        // The output gate runs before the result is encoded or stored anywhere.
        let verdict = moderation::check_image(Some(&engine), &out, ImageGate::Output, &policy);
        let _ = tx.send(90);
        if verdict.decision == Decision::Block {
            return Ok::<_, EngineError>((verdict, None));
        }
        let mut png = imageio::encode_png_labelled(&out);
        if let Some(p) = &provenance {
            // Content credentials on the original; a signing failure leaves the XMP label only.
            match p.sign(&png, "image/png", &format!("Darkroom generation {job_id}"), Action::Edited) {
                Ok(signed) => png = signed,
                Err(e) => tracing::error!(job = %job_id, error = %e, "C2PA signing failed; stored without a manifest"),
            }
        }
        let renditions = imageio::renditions(&out);
        Ok((verdict, Some((png, renditions, out.width(), out.height()))))
    });
    tokio::pin!(engine_task);
    let renew = Duration::from_millis((lease_ms / 3).max(100) as u64);
    let result = loop {
        tokio::select! {
            r = &mut engine_task => break r.map_err(ServiceError::internal)?,
            _ = rx.changed() => {}
            _ = tokio::time::sleep(renew) => {}
        }
        let p = *rx.borrow_and_update();
        if !store.job_progress(&job.id, worker, p, lease_ms).await? {
            tracing::warn!(job = %job.id, "lease lost; dropping this attempt");
            return Ok(());
        }
    };
    let (verdict, files) = match result {
        Ok(r) => r,
        Err(EngineError::BadInput(m)) => {
            fail(m).await?;
            return Ok(());
        }
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "engine failed");
            fail("The generation failed for a technical reason.".into()).await?;
            return Ok(());
        }
    };
    let policy = &state.policy;
    let record = verdict.record("output", &policy.version);
    let Some((png, renditions, w, h)) = files else {
        // Blocked: nothing was stored; the charge stays (SPEC §3, §6).
        let category = verdict.category.unwrap_or(Category::Other);
        let rules = policy.strikes.rules();
        let strike = policy.strikes.auto_block.then_some(&rules);
        store.reject_job(&job.id, worker, category.as_str(), &moderation::rejection_message(category), &record, strike).await?;
        return Ok(());
    };
    // An upload that went to review under `hide_result` ran, but its result waits hidden.
    let upload_flagged = policy.images.review_mode == ReviewMode::HideResult
        && store.decisions_for_job(&job.id).await?.iter().any(|d| d.gate == "upload" && d.decision == "review");
    let gate = if verdict.decision == Decision::Review || upload_flagged { OutputGate::Review(&record) } else { OutputGate::Allow(&record) };
    let attempt = job.attempts;
    let result_key = format!("results/{}/{}/{attempt}.png", job.user_id, job.id);
    let thumb_key = format!("results/{}/{}/{attempt}-w{THUMB_WIDTH}.jpg", job.user_id, job.id);
    let hash = hex::encode(Sha256::digest(&png));
    state.media.put(&result_key, Bytes::from(png)).await?;
    for r in renditions {
        state.media.put(&media::rendition_key(&thumb_key, r.width, r.format), Bytes::from(r.bytes)).await?;
    }
    let out = JobOutput { result_key: &result_key, thumb_key: &thumb_key, result_hash: &hash, width: w as i64, height: h as i64 };
    if !store.complete_job(&job.id, worker, &out, gate).await? {
        // Another worker owns the job now: this attempt's files are not referenced.
        state.media.delete_result(Some(&result_key), Some(&thumb_key)).await?;
        return Ok(());
    }
    // A worker killed between storing and completing leaves its attempt's files behind.
    let ours = media::result_keys(Some(&result_key), Some(&thumb_key));
    for key in state.media.list(&format!("results/{}/{}/", job.user_id, job.id)).await? {
        if !ours.contains(&key) {
            state.media.delete(&key).await?;
        }
    }
    Ok(())
}

/// Starts `n` in-process workers; returns their handles.
pub fn spawn(state: &AppState, n: usize, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let host = std::process::id();
    (0..n)
        .map(|i| {
            let (s, rx) = (state.clone(), shutdown.clone());
            tokio::spawn(run(s, format!("{host}-{i}-{}", darkroom_store::new_id()), rx))
        })
        .collect()
}
