//! Content credentials: a signed C2PA manifest in every output (SPEC §4, C2PA Technical
//! Specification 2.x, through the `c2pa` crate, the reference SDK).
//!
//! The manifest names Darkroom as the claim generator and records its actions: `c2pa.created`
//! with IPTC's `digitalSourceType` = [`crate::imageio::AI_SOURCE_TYPE`] (the model made the
//! file), then, for a picture made from the member's photo, `c2pa.edited`. The member's photo
//! is not embedded as an ingredient (it is private and may be purged first), which is why the
//! first action is not `c2pa.opened` (that one needs the parent ingredient).
//!
//! Signing keys: the operator's certificate chain and private key (PEM) when configured;
//! otherwise a key pair and a two-certificate chain (CA, then end entity) made when the
//! process starts ([`c2pa::EphemeralSigner`]). Such a manifest verifies (the signature and
//! the hashes hold) but is not *trusted* by C2PA validators, as with any certificate
//! outside the C2PA trust list.

use std::io::Cursor;

use c2pa::{Builder, Context, Signer, SigningAlg};

/// What made the output: [`Action::Created`] from a prompt alone, [`Action::Edited`] from
/// an uploaded photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Created,
    Edited,
}

impl Action {
    /// The C2PA action label (`c2pa.created` / `c2pa.edited`).
    pub fn label(self) -> &'static str {
        match self {
            Action::Created => "c2pa.created",
            Action::Edited => "c2pa.edited",
        }
    }
}

/// Errors from making or signing a manifest (the `c2pa` crate's message).
#[derive(Debug, thiserror::Error)]
#[error("content credentials: {0}")]
pub struct ProvenanceError(String);

impl From<c2pa::Error> for ProvenanceError {
    fn from(e: c2pa::Error) -> Self {
        Self(e.to_string())
    }
}

/// Signs C2PA manifests into outputs. Cheap to share (`Arc` it); signing is synchronous and
/// CPU-bound (about a hash of the file plus one signature): call it off the async runtime.
pub struct Provenance {
    signer: Box<dyn Signer + Send + Sync>,
}

impl Provenance {
    /// A signer with a key pair and certificate chain made now (Ed25519; CA + end entity
    /// named `darkroom.local`). Errors: key generation failed.
    pub fn ephemeral() -> Result<Self, ProvenanceError> {
        Ok(Self { signer: Box::new(c2pa::EphemeralSigner::new("darkroom.local")?) })
    }

    /// A signer from the operator's PEM certificate chain (end entity first) and PEM private
    /// key, for `alg` (e.g. `es256`, `ps256`, `ed25519`). Errors: unreadable PEM, a key that
    /// does not match the certificate, or an unknown algorithm.
    pub fn from_pem(cert_chain_pem: &[u8], private_key_pem: &[u8], alg: &str) -> Result<Self, ProvenanceError> {
        let alg: SigningAlg = alg.parse().map_err(|_| ProvenanceError(format!("unknown signing algorithm {alg:?}")))?;
        let signer = c2pa::create_signer::from_keys(cert_chain_pem, private_key_pem, alg, None)?;
        Ok(Self { signer })
    }

    /// Embeds a signed manifest in `file` (`mime`: `image/png`, `image/jpeg` or
    /// `image/webp`) and returns the new file; the pixels are untouched. `title` becomes the
    /// manifest's `dc:title`. Errors: a file the SDK cannot parse, or signing failed.
    pub fn sign(&self, file: &[u8], mime: &str, title: &str, action: Action) -> Result<Vec<u8>, ProvenanceError> {
        let agent = serde_json::json!({ "name": "Darkroom", "version": env!("CARGO_PKG_VERSION") });
        // C2PA 2.x: the first action must be `c2pa.created` or `c2pa.opened`, and `opened`
        // needs the parent as an ingredient, which the member's private photo must not be.
        // So the model's output is `created` (by trained algorithmic media), and a restyled
        // photo adds `edited` after it.
        let mut actions = vec![serde_json::json!({
            "action": Action::Created.label(),
            "digitalSourceType": crate::imageio::AI_SOURCE_TYPE,
            "softwareAgent": agent,
        })];
        if action == Action::Edited {
            actions.push(serde_json::json!({
                "action": Action::Edited.label(),
                "softwareAgent": agent,
                "description": "Restyled from the member's own photo (not embedded).",
            }));
        }
        let definition = serde_json::json!({
            "title": title,
            "format": mime,
            "claim_generator_info": [agent],
            "assertions": [{ "label": "c2pa.actions", "data": { "actions": actions } }],
        });
        let mut builder = Builder::from_context(Context::new()).with_definition(definition.to_string())?;
        let mut source = Cursor::new(file);
        let mut dest = Cursor::new(Vec::with_capacity(file.len() + 32 * 1024));
        builder.sign(self.signer.as_ref(), mime, &mut source, &mut dest)?;
        Ok(dest.into_inner())
    }
}

/// A file's C2PA manifest store as the SDK's reader reports it.
pub struct ManifestReport {
    /// The manifest store as JSON (the SDK's `Reader::json`).
    pub json: String,
    /// True unless validation found it `Invalid` (a broken signature or hash). A manifest
    /// signed with a key outside the C2PA trust list is valid but not trusted.
    pub valid: bool,
    /// The active manifest's title.
    pub title: Option<String>,
}

/// Reads and validates the C2PA manifest in `file` (`mime` as for [`Provenance::sign`]).
/// Errors: no manifest, or one the SDK cannot parse.
pub fn read(file: &[u8], mime: &str) -> Result<ManifestReport, ProvenanceError> {
    let reader = c2pa::Reader::from_context(c2pa::Context::new()).with_stream(mime, Cursor::new(file))?;
    let title = reader.active_manifest().and_then(|m| m.title()).map(str::to_string);
    Ok(ManifestReport { json: reader.json(), valid: reader.validation_state() != c2pa::ValidationState::Invalid, title })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_reads_back_with_the_sdk_reader() {
        let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 100]));
        let png = crate::imageio::encode_png_labelled(&img);
        let p = Provenance::ephemeral().unwrap();
        let signed = p.sign(&png, "image/png", "Harbour", Action::Edited).unwrap();
        // Pixels and the XMP label survive.
        assert_eq!(image::load_from_memory(&signed).unwrap().into_rgb8().as_raw(), img.as_raw());
        assert!(String::from_utf8_lossy(&signed).contains(crate::imageio::AI_SOURCE_TYPE));
        let report = read(&signed, "image/png").unwrap();
        assert_eq!(report.title.as_deref(), Some("Harbour"));
        let json = &report.json;
        assert!(json.contains("c2pa.edited") && json.contains("trainedAlgorithmicMedia") && json.contains("Darkroom"), "{json}");
        assert!(report.valid, "{json}");
        // A changed pixel breaks the hard binding.
        let mut tampered = signed.clone();
        let idat = signed.windows(4).position(|w| w == b"IDAT").expect("an IDAT chunk");
        tampered[idat + 8] ^= 0xff;
        assert!(read(&tampered, "image/png").map(|r| !r.valid).unwrap_or(true), "tampering is detected");
    }
}
