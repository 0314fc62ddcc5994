//! The names of a result's files: the original, the thumbnail and the renditions, as stored
//! (object keys) and as URLs name them (variants). Serving, deleting and purging all use these,
//! so they cannot disagree.
//!
//! Keys: `results/<user>/<job>/<attempt>.{png|mp4|webm}` (the signed original: an image, or
//! a clip whose renditions are its poster frame's) and
//! `results/<user>/<job>/<attempt>-w{256|512|1200}.{jpg|webp}` (renditions; the 512-wide JPEG
//! is the thumbnail). URL variants: `result`, `thumb`, `w{width}.{jpg|webp}`.

/// Widths, in pixels, of the renditions made of every output: gallery tiles (256), cards and
/// the item page on phones (512), the item page and link previews (1200, the OpenGraph
/// size). An output narrower than a width is not upscaled: that rendition has its own width.
pub const RENDITION_WIDTHS: [u32; 3] = [256, 512, 1200];

/// Width in pixels of the thumbnail: the 512 JPEG rendition, whose key names the others.
pub const THUMB_WIDTH: u32 = 512;

/// File format of a rendition: WebP (smaller) with a JPEG fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenditionFormat {
    Jpeg,
    Webp,
}

impl RenditionFormat {
    pub const ALL: [RenditionFormat; 2] = [RenditionFormat::Jpeg, RenditionFormat::Webp];

    /// File extension: `jpg`, `webp`.
    pub fn ext(self) -> &'static str {
        match self {
            RenditionFormat::Jpeg => "jpg",
            RenditionFormat::Webp => "webp",
        }
    }

    /// MIME type: `image/jpeg`, `image/webp`.
    pub fn mime(self) -> &'static str {
        match self {
            RenditionFormat::Jpeg => "image/jpeg",
            RenditionFormat::Webp => "image/webp",
        }
    }
}

/// The object keys of one attempt's image result: `(original, thumbnail)`.
pub fn result_keys_for(user_id: &str, job_id: &str, attempt: i64) -> (String, String) {
    result_keys_with(user_id, job_id, attempt, "png")
}

/// The object keys of one attempt's result whose original has extension `ext` (`png`,
/// `mp4`, `webm`): `(original, thumbnail)`.
pub fn result_keys_with(user_id: &str, job_id: &str, attempt: i64, ext: &str) -> (String, String) {
    let stem = format!("{}{attempt}", result_prefix(user_id, job_id));
    (format!("{stem}.{ext}"), format!("{stem}-w{THUMB_WIDTH}.jpg"))
}

/// The MIME type of a result's original, told by its key's extension: `image/png`,
/// `video/mp4` or `video/webm`.
pub fn original_mime(result_key: &str) -> &'static str {
    if result_key.ends_with(".mp4") {
        "video/mp4"
    } else if result_key.ends_with(".webm") {
        "video/webm"
    } else {
        "image/png"
    }
}

/// Whether a result's original is a clip (by its key).
pub fn is_video(result_key: &str) -> bool {
    original_mime(result_key).starts_with("video/")
}

/// The folder every attempt of a job writes under: `results/<user>/<job>/`.
pub fn result_prefix(user_id: &str, job_id: &str) -> String {
    format!("results/{user_id}/{job_id}/")
}

/// The storage key of a result's rendition, next to its thumbnail (whose key ends
/// `-w512.jpg`): `…-w{width}.{jpg|webp}`.
pub fn rendition_key(thumb_key: &str, width: u32, format: RenditionFormat) -> String {
    let stem = thumb_key.strip_suffix("-w512.jpg").unwrap_or(thumb_key);
    format!("{stem}-w{width}.{}", format.ext())
}

/// The stored key and MIME type of the result file a URL names: `result` (the original: PNG,
/// or a clip's MP4/WebM),
/// `thumb` (the 512-wide JPEG) or a rendition `w{256|512|1200}.{jpg|webp}`. `None` for any
/// other name, or a result that has no files.
pub fn result_file(variant: &str, result_key: Option<&str>, thumb_key: Option<&str>) -> Option<(String, &'static str)> {
    if variant == "result" {
        return result_key.map(|k| (k.to_string(), original_mime(k)));
    }
    let thumb = thumb_key?;
    if variant == "thumb" {
        return Some((thumb.to_string(), "image/jpeg"));
    }
    let (w, ext) = variant.strip_prefix('w')?.split_once('.')?;
    let width: u32 = w.parse().ok().filter(|w| RENDITION_WIDTHS.contains(w))?;
    let format = RenditionFormat::ALL.into_iter().find(|f| f.ext() == ext)?;
    Some((rendition_key(thumb, width, format), format.mime()))
}

/// The URL of a shared item's file for anyone but its owner: `/m/{job_id}/{variant}?{grant}`,
/// where `grant` is the item's signed query `exp={unix seconds}&sig={hex}`, one per item and
/// signing window for all its files (made by the server's URL signer; see
/// `darkroom_service::sharing`). Pages carry the grant once per item and build each rendition's
/// URL with this.
pub fn shared_url(job_id: &str, variant: &str, grant: &str) -> String {
    format!("/m/{job_id}/{variant}?{grant}")
}

/// Every stored file of a result: the original and each rendition. What deletes, hides or
/// purges a result deletes all of these (a missing one is no error: results made before
/// renditions existed have only the thumbnail).
pub fn result_keys(result_key: Option<&str>, thumb_key: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = result_key.into_iter().map(str::to_string).collect();
    if let Some(thumb) = thumb_key {
        keys.push(thumb.to_string());
        for w in RENDITION_WIDTHS {
            for f in RenditionFormat::ALL {
                let k = rendition_key(thumb, w, f);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_names_map_to_keys() {
        let (r, t) = result_keys_for("u", "j", 0);
        let (r, t) = (Some(r.as_str()), Some(t.as_str()));
        assert_eq!(result_file("result", r, t), Some(("results/u/j/0.png".into(), "image/png")));
        assert_eq!(result_file("thumb", r, t), Some(("results/u/j/0-w512.jpg".into(), "image/jpeg")));
        assert_eq!(result_file("w1200.webp", r, t), Some(("results/u/j/0-w1200.webp".into(), "image/webp")));
        assert_eq!(result_file("w256.jpg", r, t), Some(("results/u/j/0-w256.jpg".into(), "image/jpeg")));
        for bad in ["w300.jpg", "w256.gif", "w.jpg", "upload", "../x", "w256"] {
            assert_eq!(result_file(bad, r, t), None, "{bad}");
        }
        assert_eq!(result_keys(r, t).len(), 7, "original + 3 widths x 2 formats");
        let (v, vt) = result_keys_with("u", "j", 1, "mp4");
        assert_eq!(result_file("result", Some(&v), Some(&vt)), Some(("results/u/j/1.mp4".into(), "video/mp4")));
        assert_eq!(result_file("thumb", Some(&v), Some(&vt)), Some(("results/u/j/1-w512.jpg".into(), "image/jpeg")), "a clip's poster");
        assert!(is_video(&v) && !is_video("results/u/j/0.png"));
        assert!(result_keys(r, t).iter().all(|k| k.starts_with(&result_prefix("u", "j"))));
    }
}
