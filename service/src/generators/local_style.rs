//! `local-style`: the 26-style network on this server's engine (`multistyle26.onnx`, see
//! `darkroom_engine::style`). Parameters: `styles` (`[[index 0..26, weight], ...]`),
//! `strength` (0..=1), `preserve_color`; the shape of [`StyleParams`].

use std::sync::Arc;

use darkroom_contract::Mode;
use darkroom_engine::{Engine, StyleParams};
use futures::future::BoxFuture;

use super::{Capabilities, GenerateError, Generator, Inputs, Need, Output, Progress};

/// This generator's id.
pub const ID: &str = "local-style";

pub struct LocalStyle {
    engine: Arc<Engine>,
    caps: Capabilities,
}

impl LocalStyle {
    pub fn new(engine: Arc<Engine>) -> Self {
        let caps = Capabilities {
            modes: &[Mode::ImageToImage],
            photo: Need::Required,
            style_image: Need::No,
            prompt: Need::No,
            negative_prompt: false,
            seed: false,
            size: false,
            max_side: engine.config.max_side,
            remote: false,
        };
        Self { engine, caps }
    }

    fn params(params: &serde_json::Value) -> Result<StyleParams, GenerateError> {
        let p: StyleParams = serde_json::from_value(params.clone()).map_err(|e| GenerateError::BadInput(format!("style parameters: {e}")))?;
        p.weights()?;
        Ok(p)
    }
}

impl Generator for LocalStyle {
    fn id(&self) -> &'static str {
        ID
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn check(&self, params: &serde_json::Value) -> Result<(), GenerateError> {
        Self::params(params).map(|_| ())
    }

    fn generate<'a>(&'a self, params: &'a serde_json::Value, inputs: Inputs, progress: Progress) -> BoxFuture<'a, Result<Output, GenerateError>> {
        Box::pin(async move {
            let p = Self::params(params)?;
            let photo = inputs.photo.ok_or_else(|| GenerateError::BadInput("a photo is needed".into()))?;
            let engine = self.engine.clone();
            let image = tokio::task::spawn_blocking(move || engine.stylize(photo, &p, &*progress))
                .await
                .map_err(|e| GenerateError::Failed(e.to_string()))??;
            Ok(Output { image, created: false, made_by: "darkroom local-style (multistyle26.onnx)".into(), clip: None })
        })
    }
}
