//! `local-any-style`: any image as the style, on this server's engine (the arbitrary-style
//! networks, see `darkroom_engine::arbitrary`). Parameters: `style_upload_id` (the member's
//! second upload, the style image), `strength` (0..=1: the style image's style against the
//! photo's own), `preserve_color`.

use std::sync::Arc;

use darkroom_contract::Mode;
use darkroom_engine::{AnyStyleParams, Engine};
use futures::future::BoxFuture;

use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};

/// This generator's id.
pub const ID: &str = "local-any-style";

pub struct AnyStyle {
    engine: Arc<Engine>,
    caps: Capabilities,
}

impl AnyStyle {
    pub fn new(engine: Arc<Engine>) -> Self {
        let caps = Capabilities {
            modes: &[Mode::ImageToImage],
            photo: Need::Required,
            style_image: Need::Required,
            prompt: Need::No,
            negative_prompt: false,
            seed: false,
            size: false,
            max_side: engine.config.max_side,
            remote: false,
        };
        Self { engine, caps }
    }

    fn params(params: &serde_json::Value) -> Result<AnyStyleParams, GenerateError> {
        let p: AnyStyleParams = serde_json::from_value(params.clone()).map_err(|e| GenerateError::BadInput(format!("style parameters: {e}")))?;
        if !(0.0..=1.0).contains(&p.strength) {
            return Err(GenerateError::BadInput("The strength must be between 0 and 1.".into()));
        }
        Ok(p)
    }
}

impl Generator for AnyStyle {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError> {
        Self::params(params)?;
        if params.get("style_upload_id").and_then(|v| v.as_str()).is_none() {
            return Err(GenerateError::BadInput("A style image is needed.".into()));
        }
        Ok(())
    }

    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let p = Self::params(params)?;
            let photo = inputs.photo.ok_or_else(|| GenerateError::BadInput("a photo is needed".into()))?;
            let style = inputs.style_image.ok_or_else(|| GenerateError::BadInput("a style image is needed".into()))?;
            let engine = self.engine.clone();
            let image = tokio::task::spawn_blocking(move || engine.stylize_with(photo, &style, &p, &*progress))
                .await
                .map_err(|e| GenerateError::Failed(e.to_string()))??;
            Ok(Output { image, created: false, made_by: "darkroom local-any-style (arbitrary_predict.onnx + arbitrary_transform.onnx)".into(), clip: None })
        })
    }
}
