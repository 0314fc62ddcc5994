//! Sharing (SPEC §4): visibility, share links, likes, showcase consent, and signed media
//! URLs for everyone who is not the owner.
//!
//! - Share-link tokens: 128 bits from the operating system's CSPRNG, shown once as 32 hex
//!   characters; only their SHA-256 is stored, so a database leak reveals no working link.
//! - Signed media URLs: `/m/{job_id}/{variant}?exp={unix seconds}&sig={hex}`, where `sig` is
//!   HMAC-SHA256 (RFC 2104) over `{job_id}/*/{exp}` with the operator's key, truncated to its
//!   left 128 bits (RFC 2104 §5 allows truncation to no less than half the output): one
//!   signature per item (its *grant*) covers every file of it a page shows (the original and
//!   each rendition), so a page carries it once per item. `exp` is rounded up to a 10-minute
//!   step so a page's URLs stay the same for a while (caches work); a URL works until `exp`,
//!   and only while the item is still shareable (checked on every request, so deleting,
//!   hiding or making it private stops it at once).

use darkroom_store::jobs::Job;
use darkroom_store::sharing::ShareLink;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{AppState, ServiceError};

/// Expiry choices for a share link, in days (`None` = never).
pub const LINK_EXPIRY_DAYS: [Option<i64>; 4] = [Some(1), Some(7), Some(30), None];

/// A fresh share-link token (32 hex characters = 128 random bits) and its stored hash.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token: SHA-256, lowercase hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Makes a share link on the member's finished item, valid for `days` (`None` = never; one
/// of [`LINK_EXPIRY_DAYS`]). Returns the link and its token (shown once).
///
/// Errors: [`ServiceError::Invalid`] for another expiry; [`ServiceError::NotFound`];
/// [`ServiceError::Conflict`] if the item is not finished or is hidden.
pub async fn create_link(state: &AppState, user_id: &str, job_id: &str, days: Option<i64>) -> Result<(ShareLink, String), ServiceError> {
    if !LINK_EXPIRY_DAYS.contains(&days) {
        return Err(ServiceError::Invalid("A link expires after 1, 7 or 30 days, or never.".into()));
    }
    let (token, hash) = new_token();
    let expires_at = days.map(|d| darkroom_store::now_ms() + d * 86_400_000);
    let link = state.store.create_share_link(job_id, user_id, &hash, expires_at).await?;
    Ok((link, token))
}

/// The item behind a share-link token, without counting a view (its link preview image).
/// Errors: as [`open_link`].
pub async fn link_preview(state: &AppState, token: &str) -> Result<Job, ServiceError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::NotFound);
    }
    Ok(state.store.shared_job_by_link(&token_hash(&token.to_ascii_lowercase())).await?)
}

/// The path of a share link's preview image (`og:image`): it answers as long as the link does.
pub fn link_preview_path(token: &str) -> String {
    format!("/s/{token}/{PREVIEW_FILE}")
}

/// The path of a public page's preview image (`og:image`): it answers while the item is public.
pub fn public_preview_path(job_id: &str) -> String {
    format!("/p/{job_id}/{PREVIEW_FILE}")
}

/// The file name of a preview image under a share link or public page: the result's 1200-wide
/// JPEG rendition (the OpenGraph size; narrower results keep their own width).
pub const PREVIEW_FILE: &str = "preview.jpg";

/// The file name of a clip's video under a share link or public page (`og:video`): the
/// result's MP4 itself, answering as long as the link or the page does.
pub const PREVIEW_VIDEO_FILE: &str = "preview.mp4";

/// The item behind a share-link token, counting the view. Errors: [`ServiceError::NotFound`]
/// for a malformed, unknown, revoked or expired token, or an item no longer shared.
pub async fn open_link(state: &AppState, token: &str) -> Result<Job, ServiceError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::NotFound);
    }
    Ok(state.store.open_share_link(&token_hash(&token.to_ascii_lowercase())).await?)
}

/// Signs and checks media URLs (see the module notes).
pub struct UrlSigner {
    /// HMAC-SHA256 keyed once (the padded key's two blocks hashed): every MAC clones it.
    keyed: Hmac<Sha256>,
    /// Lifetime of a signed URL, seconds.
    pub ttl_secs: u64,
}

/// Rounding step of `exp`, seconds.
const EXP_STEP: u64 = 600;

impl UrlSigner {
    pub fn new(key: Vec<u8>, ttl_secs: u64) -> Self {
        Self { keyed: Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length"), ttl_secs }
    }

    /// The key from `secret`, or from `<data>/media-url.key` (made with 32 random bytes on
    /// first use). Errors: the key file cannot be read or written.
    pub fn load(secret: Option<&str>, data_dir: &std::path::Path, ttl_secs: u64) -> std::io::Result<Self> {
        if let Some(s) = secret {
            return Ok(Self::new(s.as_bytes().to_vec(), ttl_secs));
        }
        let path = data_dir.join("media-url.key");
        match std::fs::read(&path) {
            Ok(k) if k.len() >= 32 => Ok(Self::new(k, ttl_secs)),
            _ => {
                let mut k = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut k);
                std::fs::create_dir_all(data_dir)?;
                std::fs::write(&path, &k)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                }
                Ok(Self::new(k, ttl_secs))
            }
        }
    }

    /// A fingerprint of the key that nodes compare (`AppState::build`): the first 16 hex
    /// digits of the HMAC of a fixed text under it. It says whether two keys are the same and
    /// nothing about the key.
    pub fn fingerprint(&self) -> String {
        self.keyed_hash("darkroom cluster key check")[..16].to_string()
    }

    /// HMAC-SHA256 of `data` with this key, hex: a keyed hash for values kept only hashed
    /// (the IP of a consent record).
    pub fn keyed_hash(&self, data: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(b"darkroom-keyed-hash:");
        mac.update(data.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn mac(&self, job_id: &str, variant: &str, exp: u64) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(job_id.as_bytes());
        mac.update(b"/");
        mac.update(variant.as_bytes());
        mac.update(format!("/{exp}").as_bytes());
        mac
    }

    /// The `exp` (Unix seconds) of URLs signed at `now_secs`: the time-to-live rounded up to
    /// a step of 600 s, so URLs signed within one step are identical (and cacheable).
    pub fn expiry(&self, now_secs: u64) -> u64 {
        (now_secs + self.ttl_secs).div_ceil(EXP_STEP) * EXP_STEP
    }

    /// The signed query `exp={unix seconds}&sig={32 hex}` that opens every file of `job_id`
    /// for anyone (see the module notes), valid at least `ttl_secs` from `now_secs`. Build
    /// each file's path with [`darkroom_contract::media::shared_url`].
    pub fn grant(&self, job_id: &str, now_secs: u64) -> String {
        let exp = self.expiry(now_secs);
        let tag = self.mac(job_id, SHARED, exp).finalize().into_bytes();
        format!("exp={exp}&sig={}", hex::encode(&tag[..GRANT_BYTES]))
    }

    /// A signed path for `job_id`'s `variant`, valid at least `ttl_secs` from `now_secs`:
    /// [`Self::grant`]'s query on the variant's path.
    pub fn sign(&self, job_id: &str, variant: &str, now_secs: u64) -> String {
        darkroom_contract::media::shared_url(job_id, variant, &self.grant(job_id, now_secs))
    }

    /// A signed path for the owner's own file (the API's output URLs): the signature covers
    /// `owner:<variant>`, so it is not a share URL; `/m/…?scope=owner` checks it.
    pub fn sign_owner(&self, job_id: &str, variant: &str, now_secs: u64) -> String {
        let exp = self.expiry(now_secs);
        let sig = hex::encode(self.mac(job_id, &owner_scope(variant), exp).finalize().into_bytes());
        format!("/m/{job_id}/{variant}?scope=owner&exp={exp}&sig={sig}")
    }

    /// The signed download path of a data export, valid until `exp` (Unix seconds).
    pub fn sign_export(&self, export_id: &str, exp: u64) -> String {
        let sig = hex::encode(self.mac(export_id, "export", exp).finalize().into_bytes());
        format!("/account/exports/{export_id}?exp={exp}&sig={sig}")
    }

    /// True if `sig` is the signature of an owner's URL made by [`Self::sign_owner`] for this
    /// `variant` and `exp` has not passed. Constant-time in the signature.
    pub fn verify_owner(&self, job_id: &str, variant: &str, exp: u64, sig: &str, now_secs: u64) -> bool {
        self.verify_full(job_id, &owner_scope(variant), exp, sig, now_secs)
    }

    /// True if `sig` is `job_id`'s [`Self::grant`] signature for `exp` (any of its files) and
    /// `exp` has not passed. Constant-time in the signature.
    pub fn verify(&self, job_id: &str, exp: u64, sig: &str, now_secs: u64) -> bool {
        let Ok(sig) = hex::decode(sig) else { return false };
        sig.len() == GRANT_BYTES && exp > now_secs && self.mac(job_id, SHARED, exp).verify_truncated_left(&sig).is_ok()
    }

    /// True if `sig` is the signature of a data export's download made by
    /// [`Self::sign_export`] and `exp` has not passed. Constant-time in the signature.
    pub fn verify_export(&self, export_id: &str, exp: u64, sig: &str, now_secs: u64) -> bool {
        self.verify_full(export_id, "export", exp, sig, now_secs)
    }

    /// True if `sig` is this key's whole signature of `{id}/{scope}/{exp}` and `exp` has not
    /// passed (owner URLs and export downloads).
    fn verify_full(&self, id: &str, scope: &str, exp: u64, sig: &str, now_secs: u64) -> bool {
        let Ok(sig) = hex::decode(sig) else { return false };
        exp > now_secs && self.mac(id, scope, exp).verify_slice(&sig).is_ok()
    }
}

/// What a share grant signs in place of a variant: every file of the item.
const SHARED: &str = "*";
/// Bytes of a grant's signature kept (128 bits, 32 hex characters).
const GRANT_BYTES: usize = 16;

/// What an owner-scoped URL signs for `variant`: distinct from a share URL's.
fn owner_scope(variant: &str) -> String {
    format!("owner:{variant}")
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    (darkroom_store::now_ms() / 1000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_urls_verify_until_they_expire_and_not_when_tampered() {
        let s = UrlSigner::new(b"k".repeat(32), 3600);
        let url = s.sign("job1", "result", 1_000_000);
        let q: Vec<&str> = url.split(['?', '&', '=']).collect();
        let (exp, sig) = (q[2].parse::<u64>().unwrap(), q[4]);
        assert!(exp >= 1_003_600 && exp % 600 == 0);
        assert_eq!(sig.len(), 32, "128 bits");
        assert_eq!(url, format!("/m/job1/result?{}", s.grant("job1", 1_000_000)), "one grant per item");
        assert!(s.verify("job1", exp, sig, 1_000_000));
        assert!(!s.verify("job1", exp, sig, exp), "expired");
        assert!(!s.verify("job2", exp, sig, 1_000_000), "another item");
        assert!(!s.verify("job1", exp + 600, sig, 1_000_000), "a later expiry");
        assert!(!UrlSigner::new(b"x".repeat(32), 3600).verify("job1", exp, sig, 1_000_000), "another key");
        assert!(!s.verify("job1", exp, "zz", 1_000_000));
        assert!(!s.verify("job1", exp, &sig[..30], 1_000_000), "shortened");
        let full = s.sign_owner("job1", "result", 1_000_000);
        let owner_sig = full.rsplit("sig=").next().unwrap();
        assert!(s.verify_owner("job1", "result", exp, owner_sig, 1_000_000));
        assert!(!s.verify("job1", exp, owner_sig, 1_000_000), "an owner URL is not a share grant");
        assert!(!s.verify_owner("job1", "result", exp, sig, 1_000_000), "a share grant is not an owner URL");
    }

    #[test]
    fn tokens_are_128_bit_hex_and_only_hashes_are_kept() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(ha, token_hash(&a));
        assert_ne!(ha, a);
    }
}
