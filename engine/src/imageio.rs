//! Checked image decoding for uploads, and encoding of results and thumbnails.
//!
//! Uploads are sniffed by magic bytes (never by name or declared type), bounded in bytes and
//! pixels before any pixel is decoded, fully decoded, rotated by their EXIF orientation, and
//! flattened to RGB over white. Re-encoding the decoded pixels is what strips EXIF, GPS, XMP
//! and ICC data from the stored copy: no metadata block is ever copied across.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage, RgbaImage};

/// The formats an upload may be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadFormat {
    Jpeg,
    Png,
    WebP,
}

impl UploadFormat {
    /// Sniffs the first bytes: JPEG `FF D8 FF`, PNG's 8-byte signature, WebP `RIFF....WEBP`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::WebP)
        } else {
            None
        }
    }

    /// MIME type, e.g. `image/jpeg`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// Limits applied to every upload.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// Largest file in bytes (default 20 MB = 20,000,000 bytes).
    pub max_bytes: usize,
    /// Largest image in pixels, width × height (default 40,000,000).
    pub max_pixels: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self { max_bytes: 20_000_000, max_pixels: 40_000_000 }
    }
}

/// Why an upload was refused. The `Display` text is shown to the member as is.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UploadError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is too large ({bytes} bytes); the limit is {limit} bytes.")]
    TooLarge { bytes: usize, limit: usize },
    #[error("This is not a JPEG, PNG or WebP image.")]
    UnknownFormat,
    #[error("The image is too large ({width}×{height} pixels); the limit is {limit} pixels.")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("The image is too small ({width}×{height}); both sides need at least {min} pixels.")]
    TooSmall { width: u32, height: u32, min: u32 },
    #[error("The image could not be read: {0}")]
    Corrupt(String),
}

/// A decoded, orientation-corrected upload.
pub struct DecodedUpload {
    /// Pixels, RGB 8-bit, upright; transparent areas flattened over white.
    pub image: RgbImage,
    /// The format the bytes were in.
    pub format: UploadFormat,
}

/// Decodes an upload under `limits`.
///
/// Errors: every [`UploadError`] variant, in the order bytes → format → dimensions → pixels.
pub fn decode_upload(bytes: &[u8], limits: UploadLimits) -> Result<DecodedUpload, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(UploadError::TooLarge { bytes: bytes.len(), limit: limits.max_bytes });
    }
    let format = UploadFormat::sniff(bytes).ok_or(UploadError::UnknownFormat)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut lim = image::Limits::default();
    lim.max_alloc = Some(limits.max_pixels * 4 + 64 * 1024 * 1024);
    reader.limits(lim);
    let mut decoder = reader.into_decoder().map_err(|e| UploadError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(UploadError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| UploadError::Corrupt(e.to_string()))?;
    img.apply_orientation(orientation);
    let min = crate::style::MIN_SIDE;
    if img.width() < min || img.height() < min {
        return Err(UploadError::TooSmall { width: img.width(), height: img.height(), min });
    }
    Ok(DecodedUpload { image: flatten(img), format })
}

/// RGB view of any image; alpha is composited over white (as the reference does).
pub fn flatten(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba: RgbaImage = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = p.0[3] as u32;
        o.0 = [0, 1, 2].map(|c| ((p.0[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8);
    }
    out
}

/// Encodes as PNG with fast compression (results: lossless, no metadata).
pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let mut out = Vec::with_capacity(img.as_raw().len() / 2);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .expect("encoding to memory cannot fail");
    out
}

/// Encodes as baseline JPEG at `quality` (1..=100), no metadata.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(img)
        .expect("encoding to memory cannot fail");
    out
}

/// A thumbnail no wider than `width` pixels (aspect kept; never upscaled), as JPEG q85.
pub fn thumbnail_jpeg(img: &RgbImage, width: u32) -> Vec<u8> {
    if img.width() <= width {
        return encode_jpeg(img, 85);
    }
    let h = ((img.height() as u64 * width as u64 + img.width() as u64 / 2) / img.width() as u64).max(1) as u32;
    let small = crate::style::resize(img, width, h).expect("valid sizes");
    encode_jpeg(&small, 85)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        encode_png(&RgbImage::from_pixel(w, h, image::Rgb([10, 200, 30])))
    }

    #[test]
    fn sniffs_and_refuses_by_content() {
        assert_eq!(decode_upload(b"", UploadLimits::default()).err(), Some(UploadError::Empty));
        assert_eq!(decode_upload(b"GIF89a....", UploadLimits::default()).err(), Some(UploadError::UnknownFormat));
        let mut bad = png(64, 64);
        bad.truncate(40);
        assert!(matches!(decode_upload(&bad, UploadLimits::default()), Err(UploadError::Corrupt(_))));
        let ok = decode_upload(&png(64, 48), UploadLimits::default()).unwrap();
        assert_eq!((ok.image.width(), ok.image.height(), ok.format), (64, 48, UploadFormat::Png));
    }

    #[test]
    fn enforces_limits_before_decoding() {
        let lim = UploadLimits { max_bytes: 100, max_pixels: 40_000_000 };
        assert!(matches!(decode_upload(&png(64, 64), lim), Err(UploadError::TooLarge { .. })));
        let lim = UploadLimits { max_bytes: 1 << 20, max_pixels: 1000 };
        assert!(matches!(decode_upload(&png(64, 64), lim), Err(UploadError::TooManyPixels { width: 64, height: 64, .. })));
        assert!(matches!(decode_upload(&png(20, 64), UploadLimits::default()), Err(UploadError::TooSmall { .. })));
    }

    #[test]
    fn alpha_is_flattened_over_white() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, image::Rgba([0, 0, 0, 0])));
        assert_eq!(flatten(img).get_pixel(0, 0).0, [255, 255, 255]);
    }
}
