//! The job worker: claims a job, runs the engine, passes the result through the output
//! moderation gate, stores it (unless blocked), finishes the job.
//!
//! Runs in `serve` (in-process, `DARKROOM_WORKERS` of them) or alone in `darkroom worker`.
//! While a job runs, its lease is renewed with every progress report and at least every
//! third of the lease; if the store says the lease was lost, the worker drops its result.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use darkroom_engine::provenance::Action;
use darkroom_engine::imageio;
use darkroom_store::jobs::{Job, JobOutput, OutputGate};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::moderation::{self, Category, Decision, Gate, ImageGate, ReviewMode};
use crate::generators::{GenerateError, Generator, Inputs, Need, Plan, Progress};
use crate::{media, AppState, ServiceError};

pub use darkroom_contract::media::THUMB_WIDTH;

/// Runs jobs until `shutdown` turns true. Idle polling every 500 ms, woken sooner when a job
/// is queued (in this process, or on PostgreSQL on any node: `darkroom_store::live`).
///
/// On shutdown it claims nothing more; a running job may finish within
/// `DARKROOM_SHUTDOWN_GRACE_SECS`, after which its lease is released (`Store::release_job`)
/// so another worker claims it at once. Each job's log lines carry its id and the id of the
/// request that created it.
pub async fn run(state: AppState, worker_id: String, mut shutdown: watch::Receiver<bool>) {
    let lease_ms = state.config.lease_secs as i64 * 1000;
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let mut queued = state.store.watch_queue();
    tracing::info!(worker = %worker_id, "worker started");
    while !*shutdown.borrow() {
        match state.store.claim_job(&worker_id, lease_ms).await {
            Ok(Some(job)) => {
                let (id, template, started) = (job.id.clone(), job.template_id.clone().unwrap_or_else(|| "none".into()), std::time::Instant::now());
                let span = tracing::info_span!("job", id = %job.id, request_id = job.request_id.as_deref().unwrap_or("-"), worker = %worker_id);
                let work = tracing::Instrument::instrument(process(&state, &worker_id, job), span.clone());
                tokio::pin!(work);
                let mut stop = shutdown.clone();
                let out_of_time = async move {
                    let _ = stop.wait_for(|s| *s).await;
                    tokio::time::sleep(grace).await;
                };
                tokio::select! {
                    r = &mut work => {
                        if let Err(e) = r {
                            tracing::error!(job = %id, error = %e, "job processing error");
                        }
                        if let Ok(done) = state.store.job_any_owner(&id).await {
                            state.metrics.job_finished(&template, done.status.as_str(), started.elapsed());
                            span.in_scope(|| tracing::info!(status = %done.status, template = %template, secs = started.elapsed().as_secs_f64(), "job ended"));
                        }
                    }
                    _ = out_of_time => {
                        // Dropping `work` ends this attempt (a transaction in flight rolls back).
                        match state.store.release_job(&id, &worker_id).await {
                            Ok(true) => tracing::info!(job = %id, "shutting down: job given back to the queue"),
                            Ok(false) => {}
                            Err(e) => tracing::warn!(job = %id, error = %e, "shutting down: releasing the job failed; it runs again after its lease"),
                        }
                    }
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = queued.changed() => {}
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
        async move { store.fail_job(&id, worker, &msg, refund).await }
    };
    let plan = match Plan::parse(&job.params) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "unreadable job parameters");
            fail("The job's parameters could not be read.".into()).await?;
            return Ok(());
        }
    };
    let chain: Vec<_> = plan.chain.iter().filter_map(|id| state.generators.get(id).cloned()).collect();
    if chain.is_empty() {
        tracing::error!(job = %job.id, chain = ?plan.chain, "no generator of the job's plan runs here");
        fail("The generation engine is not available right now.".into()).await?;
        return Ok(());
    }
    if let Err(e) = chain[0].check(&plan.params) {
        tracing::error!(job = %job.id, generator = chain[0].id(), error = %e, "job parameters refused by its generator");
        fail("The job's parameters could not be read.".into()).await?;
        return Ok(());
    }
    let inputs = match inputs(state, &job, &chain).await? {
        Ok(i) => i,
        Err(message) => {
            fail(message).await?;
            return Ok(());
        }
    };

    // Progress travels from the generator through a watch channel; this task writes it
    // (which renews the lease) and renews at least every lease/3 while silent.
    let (tx, mut rx) = watch::channel(5i64);
    let tx = Arc::new(tx);
    let progress: Progress = {
        let tx = tx.clone();
        Arc::new(move |p: f32| {
            let _ = tx.send(5 + (p.clamp(0.0, 1.0) * 80.0) as i64);
        })
    };
    // The operator's watermark, when the member's plan has one (read now: a settings change
    // applies to the next result).
    let mark = crate::settings::watermark_for(state, &job.user_id).await?;
    let (engine, policy, provenance, job_id) = (state.engine.clone(), state.policy.clone(), state.provenance.clone(), job.id.clone());
    let run = tokio::spawn(async move {
        let output = crate::generators::run(&chain, &plan, inputs, progress).await?;
        // The output gate runs before the result is encoded or stored anywhere.
        let finished = tokio::task::spawn_blocking(move || {
            let mut out = output.image;
            let verdict = moderation::check_image(engine.as_deref(), &out, ImageGate::Output, &policy);
            let _ = tx.send(90);
            if verdict.decision == Decision::Block {
                return (verdict, None);
            }
            // Drawn after the output gate (which judges the generated pixels) and before the
            // files are made, so every rendition carries it.
            if let Some(mark) = &mark {
                darkroom_engine::watermark::draw(&mut out, mark);
            }
            let mut png = imageio::encode_png_labelled(&out);
            if let Some(p) = &provenance {
                // Content credentials on the original; a signing failure leaves the XMP label only.
                let action = if output.created { Action::Created } else { Action::Edited };
                match p.sign(&png, "image/png", &format!("Darkroom generation {job_id}"), action, &output.made_by) {
                    Ok(signed) => png = signed,
                    Err(e) => tracing::error!(job = %job_id, error = %e, "C2PA signing failed; stored without a manifest"),
                }
            }
            let renditions = imageio::renditions(&out);
            (verdict, Some((png, renditions, out.width(), out.height())))
        })
        .await
        .map_err(|e| GenerateError::Failed(e.to_string()))?;
        Ok::<_, GenerateError>(finished)
    });
    tokio::pin!(run);
    let renew = Duration::from_millis((lease_ms / 3).max(100) as u64);
    let result = loop {
        tokio::select! {
            r = &mut run => break r.map_err(ServiceError::internal)?,
            _ = rx.changed() => {}
            _ = tokio::time::sleep(renew) => {}
        }
        let p = *rx.borrow_and_update();
        if !store.job_progress(&job.id, worker, p, lease_ms).await? {
            tracing::warn!(job = %job.id, "lease lost; dropping this attempt");
            run.abort();
            return Ok(());
        }
    };
    let policy = &state.policy;
    let (verdict, files) = match result {
        Ok(r) => r,
        Err(GenerateError::BadInput(m)) => {
            fail(m).await?;
            return Ok(());
        }
        Err(GenerateError::Refused(category)) => {
            // The provider's content policy said no: a moderation rejection (SPEC §6), charged.
            let verdict = moderation::Verdict::block(category, "provider", serde_json::json!({ "reason": "content policy refusal" }));
            let record = verdict.record(Gate::Output, &policy.version);
            let rules = policy.strikes.rules();
            let strike = policy.strikes.auto_block.then_some(&rules);
            store.reject_job(&job.id, worker, category, &moderation::rejection_message(category), &record, strike).await?;
            return Ok(());
        }
        Err(GenerateError::Unavailable(m)) => {
            tracing::error!(job = %job.id, error = %m, "no generator of the plan could run the job");
            fail("The generation service is unavailable right now.".into()).await?;
            return Ok(());
        }
        Err(GenerateError::Failed(m)) => {
            tracing::error!(job = %job.id, error = %m, "generation failed");
            fail("The generation failed for a technical reason.".into()).await?;
            return Ok(());
        }
    };
    let record = verdict.record(Gate::Output, &policy.version);
    let Some((png, renditions, w, h)) = files else {
        // Blocked: nothing was stored; the charge stays (SPEC §3, §6).
        let category = verdict.category.unwrap_or(Category::Other);
        let rules = policy.strikes.rules();
        let strike = policy.strikes.auto_block.then_some(&rules);
        store.reject_job(&job.id, worker, category, &moderation::rejection_message(category), &record, strike).await?;
        return Ok(());
    };
    // An upload that went to review under `hide_result` ran, but its result waits hidden.
    let upload_flagged = policy.images.review_mode == ReviewMode::HideResult
        && store.decisions_for_job(&job.id).await?.iter().any(|d| d.gate == Gate::Upload && d.decision == Decision::Review);
    let gate = if verdict.decision == Decision::Review || upload_flagged { OutputGate::Review(&record) } else { OutputGate::Allow(&record) };
    let (result_key, thumb_key) = media::result_keys_for(&job.user_id, &job.id, job.attempts);
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
    for key in state.media.list(&media::result_prefix(&job.user_id, &job.id)).await? {
        if !ours.contains(&key) {
            state.media.delete(&key).await?;
        }
    }
    Ok(())
}

/// Loads what the plan's generators need: the photo (the job's upload) and the style image
/// (the job's `style_upload_id`), decoded from the stored, cleaned files. `Ok(Err(message))` when one
/// is gone (the member deleted it, retention purged it).
async fn inputs(state: &AppState, job: &Job, chain: &[Arc<dyn Generator>]) -> Result<Result<Inputs, String>, ServiceError> {
    let wants = |f: fn(&crate::generators::Capabilities) -> Need| chain.iter().any(|g| f(g.capabilities()) != Need::No);
    let image_of = |upload_id: String, missing: &'static str| async move {
        let upload = match state.store.upload(&upload_id, &job.user_id).await {
            Ok(u) => u,
            Err(darkroom_store::StoreError::NotFound) => return Ok(Err(missing.to_string())),
            Err(e) => return Err(ServiceError::from(e)),
        };
        let bytes = match state.media.get(&upload.object_key).await {
            Ok(b) => b,
            // The row outlived its file (purged or lost): the job cannot run, say so now.
            Err(ServiceError::NotFound) => return Ok(Err(missing.to_string())),
            Err(e) => return Err(e),
        };
        let decoded = tokio::task::spawn_blocking(move || image::load_from_memory(&bytes).map(|i| i.into_rgb8()))
            .await
            .map_err(ServiceError::internal)?;
        Ok(decoded.map_err(|_| missing.to_string()))
    };
    let params: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
    let text = |field: &str| params[field].as_str().unwrap_or_default().to_string();
    let mut inputs = Inputs {
        // The template's prompt with the member's in its slot (the prompt gate checked the
        // member's; the operator wrote the rest).
        prompt: crate::templates::expand_prompt(params["prompt_template"].as_str(), &job.prompt),
        negative_prompt: text("negative_prompt"),
        seed: params["seed"].as_u64(),
        size: params["width"].as_u64().zip(params["height"].as_u64()).map(|(w, h)| (w as u32, h as u32)),
        user_ref: state.signer.keyed_hash(&format!("provider-user:{}", job.user_id))[..32].to_string(),
        ..Default::default()
    };
    if let (true, Some(id)) = (wants(|c| c.photo), job.upload_id.as_deref()) {
        match image_of(id.to_string(), "The source photo is no longer available.").await? {
            Ok(i) => inputs.photo = Some(i),
            Err(m) => return Ok(Err(m)),
        }
    }
    if let (true, Some(id)) = (wants(|c| c.style_image), job.style_upload_id.as_deref()) {
        match image_of(id.to_string(), "The style image is no longer available.").await? {
            Ok(i) => inputs.style_image = Some(i),
            Err(m) => return Ok(Err(m)),
        }
    }
    Ok(Ok(inputs))
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
