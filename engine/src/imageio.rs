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

/// IPTC's digital source type for media made by a trained model (IPTC NewsCodes
/// "digitalsourcetype", <http://cv.iptc.org/newscodes/digitalsourcetype/>).
pub const AI_SOURCE_TYPE: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/// The XMP packet (Adobe XMP Specification Part 1) that labels an output as AI-generated:
/// `Iptc4xmpExt:DigitalSourceType` = [`AI_SOURCE_TYPE`] (IPTC Photo Metadata Standard) and
/// `xmp:CreatorTool` = Darkroom.
pub fn ai_xmp() -> String {
    format!(
        "<?xpacket begin=\"{bom}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
<rdf:Description rdf:about=\"\" xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\" \
xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" Iptc4xmpExt:DigitalSourceType=\"{AI_SOURCE_TYPE}\" xmp:CreatorTool=\"Darkroom\"/>\
</rdf:RDF></x:xmpmeta><?xpacket end=\"r\"?>",
        bom = '\u{feff}'
    )
}

/// [`encode_png`] with the AI label: the XMP packet in an uncompressed `iTXt` chunk with
/// keyword `XML:com.adobe.xmp` (the XMP Specification Part 3 embedding), right after `IHDR`.
pub fn encode_png_labelled(img: &RgbImage) -> Vec<u8> {
    let png = encode_png(img);
    let mut data = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    data.extend_from_slice(ai_xmp().as_bytes());
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"iTXt");
    crc.update(&data);
    chunk.extend_from_slice(b"iTXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC) = 33 bytes.
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..33]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[33..]);
    out
}

/// `jpeg` with the AI label: the XMP packet in an `APP1` segment
/// (`http://ns.adobe.com/xap/1.0/`) inserted right after `SOI`.
fn label_jpeg(jpeg: Vec<u8>) -> Vec<u8> {
    let mut payload = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    payload.extend_from_slice(ai_xmp().as_bytes());
    let mut out = Vec::with_capacity(jpeg.len() + payload.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
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

pub use darkroom_contract::media::{RenditionFormat, RENDITION_WIDTHS};

/// One encoded rendition: `width` is the nominal width of [`RENDITION_WIDTHS`] it stands for.
pub struct Rendition {
    pub width: u32,
    pub format: RenditionFormat,
    pub bytes: Vec<u8>,
}

/// Every rendition of `img`: each width of [`RENDITION_WIDTHS`] as WebP (q80) and JPEG (q85),
/// both carrying the AI label (XMP).
pub fn renditions(img: &RgbImage) -> Vec<Rendition> {
    let mut out = Vec::with_capacity(RENDITION_WIDTHS.len() * 2);
    for width in RENDITION_WIDTHS {
        let small = fit_width(img, width);
        let small = small.as_ref().unwrap_or(img);
        out.push(Rendition { width, format: RenditionFormat::Jpeg, bytes: label_jpeg(encode_jpeg(small, 85)) });
        out.push(Rendition { width, format: RenditionFormat::Webp, bytes: encode_webp_labelled(small, 80.0) });
    }
    out
}

/// `img` scaled down to `width` (aspect kept), or `None` if it is not wider than that.
fn fit_width(img: &RgbImage, width: u32) -> Option<RgbImage> {
    if img.width() <= width {
        return None;
    }
    let h = ((img.height() as u64 * width as u64 + img.width() as u64 / 2) / img.width() as u64).max(1) as u32;
    Some(crate::style::resize(img, width, h).expect("valid sizes"))
}

/// Lossy WebP at `quality` (0..=100, libwebp's scale) with the AI label: the simple-format
/// file libwebp writes, rewritten to the extended format (a `VP8X` chunk with the XMP flag,
/// the bitstream chunk, then an `XMP ` chunk), per Google's "WebP Container Specification".
pub fn encode_webp_labelled(img: &RgbImage, quality: f32) -> Vec<u8> {
    let simple = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height()).encode(quality.clamp(0.0, 100.0));
    // RIFF header (12 bytes) then the one bitstream chunk.
    let bitstream = &simple[12..];
    let xmp = ai_xmp();
    let mut vp8x = [0u8; 10];
    vp8x[0] = 0x04; // XMP metadata present
    let (w1, h1) = (img.width() - 1, img.height() - 1);
    vp8x[4..7].copy_from_slice(&w1.to_le_bytes()[..3]);
    vp8x[7..10].copy_from_slice(&h1.to_le_bytes()[..3]);
    let mut body = Vec::with_capacity(bitstream.len() + xmp.len() + 40);
    body.extend_from_slice(b"WEBP");
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(&vp8x);
    body.extend_from_slice(bitstream);
    body.extend_from_slice(b"XMP ");
    body.extend_from_slice(&(xmp.len() as u32).to_le_bytes());
    body.extend_from_slice(xmp.as_bytes());
    if xmp.len() % 2 == 1 {
        body.push(0);
    }
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A smooth abstract canvas for text→image without a source photo: `width`×`height` RGB
/// pixels blended from eight coloured points placed by `seed` (inverse-square distance
/// weights), with a low-frequency wave over it. The same seed gives the same canvas; the
/// style network then paints over it.
pub fn prompt_canvas(seed: u64, width: u32, height: u32) -> RgbImage {
    // splitmix64: a small, well-mixed sequence from the seed.
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f32 / (1u64 << 53) as f32
    };
    let points: Vec<(f32, f32, [f32; 3])> = (0..8).map(|_| (next(), next(), [next() * 255.0, next() * 255.0, next() * 255.0])).collect();
    let (fx, fy, phase) = (1.0 + next() * 4.0, 1.0 + next() * 4.0, next() * std::f32::consts::TAU);
    RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / width.max(1) as f32, y as f32 / height.max(1) as f32);
        let (mut acc, mut total) = ([0f32; 3], 0f32);
        for (px, py, c) in &points {
            let w = 1.0 / ((u - px).powi(2) + (v - py).powi(2) + 0.002);
            for k in 0..3 {
                acc[k] += c[k] * w;
            }
            total += w;
        }
        let wave = 24.0 * ((u * fx + v * fy) * std::f32::consts::TAU + phase).sin();
        image::Rgb(acc.map(|a| (a / total + wave).clamp(0.0, 255.0) as u8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_carry_the_ai_label_and_still_decode() {
        let img = RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
        let png = encode_png_labelled(&img);
        assert!(png.windows(4).any(|w| w == b"iTXt"));
        let text = String::from_utf8_lossy(&png);
        assert!(text.contains(AI_SOURCE_TYPE) && text.contains("XML:com.adobe.xmp"));
        // The png decoder checks every chunk's CRC: a bad chunk would fail here.
        let back = image::load_from_memory(&png).unwrap().into_rgb8();
        assert_eq!(back.as_raw(), img.as_raw(), "pixels unchanged");
        let jpeg = label_jpeg(encode_jpeg(&fit_width(&img, 20).unwrap(), 85));
        assert_eq!(&jpeg[..4], &[0xFF, 0xD8, 0xFF, 0xE1]);
        assert!(String::from_utf8_lossy(&jpeg).contains(AI_SOURCE_TYPE));
        assert_eq!(image::load_from_memory(&jpeg).unwrap().width(), 20);
    }

    #[test]
    fn renditions_cover_every_width_in_both_formats_labelled() {
        let img = RgbImage::from_fn(700, 350, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let all = renditions(&img);
        assert_eq!(all.len(), 6);
        for r in &all {
            let back = image::load_from_memory(&r.bytes).unwrap_or_else(|e| panic!("{}w {:?}: {e}", r.width, r.format));
            // Never upscaled: the 1200 rendition of a 700-wide image is 700 wide.
            assert_eq!((back.width(), back.height()), (r.width.min(700), r.width.min(700) / 2), "{}w {:?}", r.width, r.format);
            assert!(String::from_utf8_lossy(&r.bytes).contains(AI_SOURCE_TYPE), "{}w {:?} labelled", r.width, r.format);
            let magic: &[u8] = if r.format == RenditionFormat::Webp { b"RIFF" } else { &[0xFF, 0xD8] };
            assert!(r.bytes.starts_with(magic));
        }
        let webp = &all.iter().find(|r| r.format == RenditionFormat::Webp && r.width == 512).unwrap().bytes;
        assert_eq!(&webp[12..16], b"VP8X");
        assert_eq!(u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize, webp.len() - 8, "RIFF size");
    }

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

