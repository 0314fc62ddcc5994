//! The job worker: claims a job, runs the engine, passes the result through the output
//! moderation gate, stores it (unless blocked), finishes the job.
//!
//! Runs in `serve` (in-process, `DARKROOM_WORKERS` of them) or alone in `darkroom worker`.
//! While a job runs, its lease is renewed with every progress report and at least every
//! third of the lease; if the store says the lease was lost, the worker drops its result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use darkroom_contract::Mode;
use image::RgbImage;
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
    // (which renews the lease) and renews at least every lease/3 while silent. A clip's
    // generator reports 5→45 %, its frames' encoding 45→88 %; an image's generator 5→85 %.
    let video = matches!(job.mode, Mode::ImageToVideo | Mode::VideoToVideo);
    let (tx, mut rx) = watch::channel(5i64);
    let tx = Arc::new(tx);
    let progress: Progress = {
        let tx = tx.clone();
        let span = if video { 40.0 } else { 80.0 };
        Arc::new(move |p: f32| {
            let _ = tx.send(5 + (p.clamp(0.0, 1.0) * span) as i64);
        })
    };
    let cancelled = inputs.cancelled.clone();
    // The operator's watermark, when the member's plan has one (read now: a settings change
    // applies to the next result).
    let mark = crate::settings::watermark_for(state, &job.user_id).await?;
    let finish = Finish {
        engine: state.engine.clone(),
        policy: state.policy.clone(),
        provenance: state.provenance.clone(),
        job_id: job.id.clone(),
        mark,
        progress: tx,
        cancelled: cancelled.clone(),
        video: crate::video_work::VideoWork::from_config(&state.config),
    };
    let run = tokio::spawn(async move {
        let output = crate::generators::run(&chain, &plan, inputs, progress).await?;
        // The output gate runs before the result is stored anywhere.
        tokio::task::spawn_blocking(move || finish.run(output)).await.map_err(|e| GenerateError::Failed(e.to_string()))?
    });
    // Whatever ends this attempt early (a lost lease, a cancel, shutdown) stops a running
    // local model and encoder too (dropping the task does not stop a blocking thread).
    let _stop = StopOnDrop(cancelled);
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
    let Some(files) = files else {
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
    let (result_key, thumb_key) = media::result_keys_with(&job.user_id, &job.id, job.attempts, files.ext);
    let hash = hex::encode(Sha256::digest(&files.original));
    state.media.put(&result_key, Bytes::from(files.original)).await?;
    for r in files.renditions {
        state.media.put(&media::rendition_key(&thumb_key, r.width, r.format), Bytes::from(r.bytes)).await?;
    }
    let out = JobOutput { result_key: &result_key, thumb_key: &thumb_key, result_hash: &hash, width: files.width as i64, height: files.height as i64 };
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

/// Sets the run's cancel flag when dropped: the attempt ended, whatever the way.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A result's files, made from a generator's output once it passed the output gate.
struct Files {
    /// The labelled, signed original: PNG, or for a clip MP4/WebM.
    original: Vec<u8>,
    /// Its extension (`png`, `mp4`, `webm`).
    ext: &'static str,
    /// The image renditions (of the image; of a clip, of its poster frame).
    renditions: Vec<imageio::Rendition>,
    width: u32,
    height: u32,
}

/// Most frames of one clip the output gate looks at: one a second up to this many, spread
/// evenly over longer clips.
pub const MAX_GATE_FRAMES: usize = 30;

/// What turns an output into files, on a blocking thread: the output gate, the watermark,
/// the AI label and content credentials, the renditions; for a clip, the frames' encoding.
struct Finish {
    engine: Option<Arc<darkroom_engine::Engine>>,
    policy: Arc<moderation::Policy>,
    provenance: Option<Arc<darkroom_engine::provenance::Provenance>>,
    job_id: String,
    mark: Option<darkroom_engine::watermark::Watermark>,
    progress: Arc<watch::Sender<i64>>,
    cancelled: Arc<AtomicBool>,
    video: crate::video_work::VideoWork,
}

impl Finish {
    /// The gate's verdict, and the files unless it blocked.
    fn run(self, output: crate::generators::Output) -> Result<(moderation::Verdict, Option<Files>), GenerateError> {
        match output.clip {
            Some(clip) => self.clip(clip, output.created, &output.made_by),
            None => Ok(self.image(output.image, output.created, &output.made_by)),
        }
    }

    fn image(&self, mut out: RgbImage, created: bool, made_by: &str) -> (moderation::Verdict, Option<Files>) {
        let verdict = moderation::check_image(self.engine.as_deref(), &out, ImageGate::Output, &self.policy);
        let _ = self.progress.send(90);
        if verdict.decision == Decision::Block {
            return (verdict, None);
        }
        // Drawn after the output gate (which judges the generated pixels) and before the
        // files are made, so every rendition carries it.
        if let Some(mark) = &self.mark {
            darkroom_engine::watermark::draw(&mut out, mark);
        }
        let png = self.sign(imageio::encode_png_labelled(&out), "image/png", created, made_by);
        let renditions = imageio::renditions(&out);
        (verdict, Some(Files { original: png, ext: "png", renditions, width: out.width(), height: out.height() }))
    }

    /// Content credentials on the original; a signing failure leaves the XMP label only.
    fn sign(&self, file: Vec<u8>, mime: &str, created: bool, made_by: &str) -> Vec<u8> {
        let Some(p) = &self.provenance else { return file };
        let action = if created { Action::Created } else { Action::Edited };
        match p.sign(&file, mime, &format!("Darkroom generation {}", self.job_id), action, made_by) {
            Ok(signed) => signed,
            Err(e) => {
                tracing::error!(job = %self.job_id, error = %e, "C2PA signing failed; stored without a manifest");
                file
            }
        }
    }

    /// Pulls the clip's frames in order: the output gate on one frame a second (at most
    /// [`MAX_GATE_FRAMES`]; a blocked frame stops everything and nothing is kept), the
    /// watermark on every frame, the encoder (ffmpeg) into a private temporary folder; then
    /// the XMP label box and content credentials on an MP4, and the poster's renditions.
    fn clip(&self, mut clip: crate::generators::Clip, created: bool, made_by: &str) -> Result<(moderation::Verdict, Option<Files>), GenerateError> {
        use darkroom_engine::video::{self, Container};
        let tools = self.video.tools()?;
        let dir = self.video.dir("clip-").map_err(|e| GenerateError::Failed(format!("temporary folder: {e}")))?;
        let container = clip.codec.container();
        let path = dir.path().join(format!("out.{}", container.ext()));
        let mut encoder = tools.encoder(&path, clip.width, clip.height, clip.fps, clip.codec)?;
        let frames = clip.frames.max(1);
        let per_second = clip.fps.value().round().max(1.0) as usize;
        let every = per_second.max(frames.div_ceil(MAX_GATE_FRAMES));
        let mut verdict = moderation::Verdict::allow(moderation::IMAGE_DETECTOR);
        let mut poster = None;
        for i in 0..frames {
            if self.cancelled.load(Ordering::Relaxed) {
                return Err(GenerateError::Failed("the run was given up".into()));
            }
            let mut frame = (clip.source)()?;
            if i % every == 0 || i + 1 == frames {
                let seen = moderation::check_image(self.engine.as_deref(), &frame, ImageGate::Output, &self.policy);
                verdict.add_frame(seen, i as f64 / clip.fps.value());
                if verdict.decision == Decision::Block {
                    // `encoder` and `dir` drop here: the process is killed, the partial file removed.
                    return Ok((verdict, None));
                }
            }
            if let Some(mark) = &self.mark {
                darkroom_engine::watermark::draw(&mut frame, mark);
            }
            encoder.push(&frame)?;
            if poster.is_none() {
                poster = Some(frame);
            }
            let _ = self.progress.send(45 + (43 * (i + 1) / frames) as i64);
        }
        encoder.finish()?;
        let mut file = std::fs::read(&path).map_err(|e| GenerateError::Failed(format!("reading the encoded clip: {e}")))?;
        if container == Container::Mp4 {
            video::append_xmp_box(&mut file);
            file = self.sign(file, container.mime(), created, made_by);
        }
        let poster = poster.expect("at least one frame");
        let renditions = imageio::renditions(&poster);
        Ok((verdict, Some(Files { original: file, ext: container.ext(), renditions, width: clip.width, height: clip.height })))
    }
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
    if let (Mode::VideoToVideo, Some(id)) = (job.mode, job.upload_id.as_deref()) {
        // The member's clip goes to the generator as a file (ffmpeg reads files).
        let missing = || Ok(Err("The source video is no longer available.".to_string()));
        let upload = match state.store.upload(id, &job.user_id).await {
            Ok(u) => u,
            Err(darkroom_store::StoreError::NotFound) => return missing(),
            Err(e) => return Err(e.into()),
        };
        let bytes = match state.media.get(&upload.object_key).await {
            Ok(b) => b,
            Err(ServiceError::NotFound) => return missing(),
            Err(e) => return Err(e),
        };
        let video = crate::video_work::VideoWork::from_config(&state.config);
        let path = tokio::task::spawn_blocking(move || -> std::io::Result<tempfile::TempPath> {
            let mut file = video.file("source-", ".mp4")?;
            std::io::Write::write_all(&mut file, &bytes)?;
            Ok(file.into_temp_path())
        })
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::internal)?;
        inputs.video = Some(Arc::new(path));
        return Ok(Ok(inputs));
    }
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

/// Starts `n` in-process workers; returns their handles. First removes what killed
/// processes left in the scratch folder ([`crate::video_work::VideoWork::sweep`]): a job they
/// were running is claimed again once its lease lapses and starts over from its inputs.
pub fn spawn(state: &AppState, n: usize, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    match crate::video_work::VideoWork::from_config(&state.config).sweep() {
        Ok(0) => {}
        Ok(n) => tracing::info!(folders = n, "removed the scratch files of processes that no longer run"),
        Err(e) => tracing::warn!(error = %e, "the scratch folder could not be swept"),
    }
    let host = std::process::id();
    (0..n)
        .map(|i| {
            let (s, rx) = (state.clone(), shutdown.clone());
            tokio::spawn(run(s, format!("{host}-{i}-{}", darkroom_store::new_id()), rx))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generators::Clip;
    use darkroom_engine::video::{Fps, OutputCodec};

    fn sample(name: &str) -> RgbImage {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/models/samples");
        let img = image::open(dir.join(name)).expect("darkroom fetch-models").into_rgb8();
        image::imageops::resize(&img, 512, 512, image::imageops::FilterType::Triangle)
    }

    fn finish(policy: moderation::Policy) -> (Finish, watch::Receiver<i64>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/models");
        let engine = darkroom_engine::Engine::load(darkroom_engine::EngineConfig::new(dir)).expect("darkroom fetch-models");
        let (tx, rx) = watch::channel(0);
        let f = Finish {
            engine: Some(Arc::new(engine)),
            policy: Arc::new(policy),
            provenance: None,
            job_id: "test".into(),
            mark: None,
            progress: Arc::new(tx),
            cancelled: Arc::new(AtomicBool::new(false)),
            video: crate::video_work::VideoWork { threads: 2, timeout: Duration::from_secs(120), scratch: std::env::temp_dir().join("darkroom-scratch-test") },
        };
        (f, rx)
    }

    /// Three seconds at 12 fps: `middle` for the second second, `outer` before and after.
    fn clip(outer: RgbImage, middle: RgbImage) -> Clip {
        let mut i = 0;
        Clip {
            width: 512,
            height: 512,
            fps: Fps::whole(12),
            frames: 36,
            codec: OutputCodec::H264,
            source: Box::new(move || {
                i += 1;
                Ok(if (13..=24).contains(&i) { middle.clone() } else { outer.clone() })
            }),
        }
    }

    /// The default policy plus a rule that blocks the astronaut's face (a benign label) at
    /// the output gate: a stand-in for prohibited content that the sample photos lack.
    fn face_blocking_policy() -> moderation::Policy {
        let extra = "[[images.rules]]\nlabels = [\"FACE_FEMALE\"]\ncategory = \"sexual\"\nblock_at = 0.5\ngates = [\"output\"]\n";
        moderation::Policy::parse(&format!("{}\n{extra}", moderation::policy::DEFAULT_POLICY)).unwrap()
    }

    #[test]
    fn frame_moderation_blocks_a_clip_whose_middle_frames_would_be_blocked_as_stills() {
        let (coffee, astronaut) = (sample("coffee.png"), sample("astronaut.png"));
        let policy = face_blocking_policy();
        // As stills: the coffee passes, the astronaut is blocked.
        let (f, _rx) = finish(policy);
        assert_eq!(moderation::check_image(f.engine.as_deref(), &coffee, ImageGate::Output, &f.policy).decision, Decision::Allow);
        assert_eq!(moderation::check_image(f.engine.as_deref(), &astronaut, ImageGate::Output, &f.policy).decision, Decision::Block);

        let (verdict, files) = f.clip(clip(coffee.clone(), astronaut), false, "test").unwrap();
        assert_eq!((verdict.decision, verdict.category), (Decision::Block, Some(Category::Sexual)));
        assert!(files.is_none(), "nothing is kept");
        let times: Vec<f64> = verdict.labels.iter().filter(|l| l["rule"] == "block").filter_map(|l| l["frame_secs"].as_f64()).collect();
        assert!(!times.is_empty() && times.iter().all(|t| (1.0..2.0).contains(t)), "flagged frames are in the middle second: {times:?}");

        // The same clip without the middle passes and makes an MP4 with its poster.
        let (f, rx) = finish(face_blocking_policy());
        let (verdict, files) = f.clip(clip(coffee.clone(), coffee), false, "test").unwrap();
        assert_eq!(verdict.decision, Decision::Allow);
        let files = files.expect("kept");
        assert_eq!((files.ext, files.width, files.height), ("mp4", 512, 512));
        assert_eq!(files.renditions.len(), 6);
        assert_eq!(*rx.borrow(), 88, "progress reached the end of encoding");
    }
}
