//! The visible watermark an operator may put on the results of some plans, in a corner: one
//! line of text, white over a soft dark outline so it reads on light and dark images alike
//! (glyphs are DejaVu Sans Bold, embedded by the `dejavu` crate, rasterised with `ab_glyph`:
//! coverage 0–1 per pixel), or the operator's logo (a PNG or WebP with transparency, scaled
//! to a fifth of the image's width at most). Either is blended over the image at the chosen
//! opacity.

use std::io::Cursor;

use ab_glyph::{Font, FontRef, Glyph, PxScale, ScaleFont};
use image::{ImageFormat, ImageReader, RgbImage, RgbaImage};

use crate::imageio::UploadError;

/// The largest logo file, in bytes.
pub const MAX_LOGO_BYTES: usize = 1_000_000;
/// The largest logo side, in pixels.
pub const MAX_LOGO_SIDE: u32 = 2048;
/// The smallest logo side, in pixels.
pub const MIN_LOGO_SIDE: u32 = 16;

/// Where the text sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Watermark {
    /// One line; characters the font lacks are drawn as its missing-glyph box. Drawn when
    /// there is no logo.
    pub text: String,
    /// The operator's logo (from [`decode_logo`]), drawn instead of the text.
    pub logo: Option<RgbaImage>,
    pub corner: Corner,
    /// 0.0 (invisible) to 1.0 (opaque).
    pub opacity: f32,
}

/// Decodes a logo file: PNG or WebP (JPEG has no transparency), at most [`MAX_LOGO_BYTES`],
/// sides from [`MIN_LOGO_SIDE`] to [`MAX_LOGO_SIDE`] pixels. Returns RGBA, 8 bits a channel.
///
/// Errors: [`UploadError`] naming what is wrong (empty, too large, not PNG/WebP, too many or
/// too few pixels, unreadable).
pub fn decode_logo(bytes: &[u8]) -> Result<RgbaImage, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(UploadError::TooLarge { bytes: bytes.len(), limit: MAX_LOGO_BYTES });
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::WebP)) => f,
        _ => return Err(UploadError::UnknownFormat),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_LOGO_SIDE);
    limits.max_image_height = Some(MAX_LOGO_SIDE);
    limits.max_alloc = Some(MAX_LOGO_SIDE as u64 * MAX_LOGO_SIDE as u64 * 8);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => UploadError::TooManyPixels { width: 0, height: 0, limit: MAX_LOGO_SIDE as u64 * MAX_LOGO_SIDE as u64 },
        e => UploadError::Corrupt(e.to_string()),
    })?;
    if img.width() < MIN_LOGO_SIDE || img.height() < MIN_LOGO_SIDE {
        return Err(UploadError::TooSmall { width: img.width(), height: img.height(), min: MIN_LOGO_SIDE });
    }
    Ok(img.into_rgba8())
}

/// Where a `w`×`h` box goes on a `iw`×`ih` image in `corner`, `margin` pixels from its edges.
fn place(corner: Corner, (iw, ih): (u32, u32), (w, h): (i32, i32), margin: i32) -> (i32, i32) {
    let left = match corner {
        Corner::TopLeft | Corner::BottomLeft => margin,
        Corner::TopRight | Corner::BottomRight => iw as i32 - margin - w,
    };
    let top = match corner {
        Corner::TopLeft | Corner::TopRight => margin,
        Corner::BottomLeft | Corner::BottomRight => ih as i32 - margin - h,
    };
    (left, top)
}

/// The changed region `(x, y, width, height)` of a box at `(left, top)`, clipped to the image.
fn clip((left, top): (i32, i32), (w, h): (i32, i32), (iw, ih): (u32, u32)) -> (u32, u32, u32, u32) {
    let (x0, y0) = (left.max(0) as u32, top.max(0) as u32);
    let (x1, y1) = (((left + w).min(iw as i32)).max(0) as u32, ((top + h).min(ih as i32)).max(0) as u32);
    (x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
}

/// Draws the logo: scaled (Lanczos-3, aspect kept) to at most a fifth of the image's width
/// and a third of its height, never enlarged, `margin` = 1/48 of the shorter side.
fn draw_logo(img: &mut RgbImage, logo: &RgbaImage, corner: Corner, opacity: f32) -> (u32, u32, u32, u32) {
    let (iw, ih) = img.dimensions();
    let (lw, lh) = logo.dimensions();
    let scale = (iw as f32 / 5.0 / lw as f32).min(ih as f32 / 3.0 / lh as f32).min(1.0);
    let (w, h) = (((lw as f32 * scale).round() as u32).max(1), ((lh as f32 * scale).round() as u32).max(1));
    let scaled = if (w, h) == (lw, lh) { logo.clone() } else { image::imageops::resize(logo, w, h, image::imageops::FilterType::Lanczos3) };
    let margin = (text_px(iw.min(ih)) / 2.0).round() as i32;
    let at = place(corner, (iw, ih), (w as i32, h as i32), margin);
    for (x, y, p) in scaled.enumerate_pixels() {
        let (ix, iy) = (at.0 + x as i32, at.1 + y as i32);
        if ix < 0 || iy < 0 || ix >= iw as i32 || iy >= ih as i32 {
            continue;
        }
        let a = p.0[3] as f32 / 255.0 * opacity;
        if a == 0.0 {
            continue;
        }
        let q = img.get_pixel_mut(ix as u32, iy as u32);
        for c in 0..3 {
            q.0[c] = (q.0[c] as f32 * (1.0 - a) + p.0[c] as f32 * a).round().clamp(0.0, 255.0) as u8;
        }
    }
    clip(at, (w as i32, h as i32), (iw, ih))
}

/// The text's height in pixels for an image whose shorter side is `short` pixels: 1/24 of it,
/// at least 12 px (a 1024² result gets 42 px).
pub fn text_px(short: u32) -> f32 {
    (short as f32 / 24.0).max(12.0)
}

/// Draws `mark` on `img` in place: the logo if it has one, else the text. Its box (with a
/// margin of half the text height from the edges) is the only region that changes; what is
/// wider than the image is clipped.
/// Returns that region as `(x, y, width, height)` in pixels, clipped to the image.
pub fn draw(img: &mut RgbImage, mark: &Watermark) -> (u32, u32, u32, u32) {
    let opacity = mark.opacity.clamp(0.0, 1.0);
    if let Some(logo) = &mark.logo {
        return draw_logo(img, logo, mark.corner, opacity);
    }
    let font = FontRef::try_from_slice(dejavu::sans::bold()).expect("DejaVu Sans Bold parses");
    let (w, h) = img.dimensions();
    let px = text_px(w.min(h));
    let scaled = font.as_scaled(PxScale::from(px));
    // Lay the line out: advances with kerning.
    let mut glyphs: Vec<Glyph> = Vec::new();
    let mut x = 0.0f32;
    let mut prev = None;
    for ch in mark.text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(px, ab_glyph::point(x, scaled.ascent())));
        x += scaled.h_advance(id);
        prev = Some(id);
    }
    let outline = (px / 14.0).max(1.0).round() as i32;
    let text_w = x.ceil() as i32 + 2 * outline;
    let text_h = (scaled.ascent() - scaled.descent()).ceil() as i32 + 2 * outline;
    // Coverage of the text (white) and of its outline (dark), in the text's own box.
    let (bw, bh) = (text_w.max(1) as usize, text_h.max(1) as usize);
    let mut fill = vec![0f32; bw * bh];
    for g in glyphs {
        if let Some(o) = font.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, c| {
                let (x, y) = (b.min.x as i32 + gx as i32 + outline, b.min.y as i32 + gy as i32 + outline);
                if x >= 0 && y >= 0 && (x as usize) < bw && (y as usize) < bh {
                    let v = &mut fill[y as usize * bw + x as usize];
                    *v = v.max(c);
                }
            });
        }
    }
    // The outline: the text's coverage spread by `outline` pixels (a square max filter).
    let mut edge = vec![0f32; bw * bh];
    for y in 0..bh as i32 {
        for x in 0..bw as i32 {
            let mut m = 0f32;
            for dy in -outline..=outline {
                for dx in -outline..=outline {
                    let (sx, sy) = (x + dx, y + dy);
                    if sx >= 0 && sy >= 0 && (sx as usize) < bw && (sy as usize) < bh {
                        m = m.max(fill[sy as usize * bw + sx as usize]);
                    }
                }
            }
            edge[y as usize * bw + x as usize] = m;
        }
    }
    let margin = (px / 2.0).round() as i32;
    let (left, top) = place(mark.corner, (w, h), (text_w, text_h), margin);
    for y in 0..bh as i32 {
        for x in 0..bw as i32 {
            let (ix, iy) = (left + x, top + y);
            if ix < 0 || iy < 0 || ix >= w as i32 || iy >= h as i32 {
                continue;
            }
            let i = y as usize * bw + x as usize;
            let (shade, light) = (edge[i] * 0.6 * opacity, fill[i] * opacity);
            if shade == 0.0 && light == 0.0 {
                continue;
            }
            let p = img.get_pixel_mut(ix as u32, iy as u32);
            for c in p.0.iter_mut() {
                let dark = *c as f32 * (1.0 - shade);
                *c = (dark * (1.0 - light) + 255.0 * light).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    clip((left, top), (text_w, text_h), (w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(w: u32, h: u32) -> RgbImage {
        RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128]))
    }

    #[test]
    fn draws_only_inside_its_box_in_the_chosen_corner() {
        for corner in [Corner::TopLeft, Corner::TopRight, Corner::BottomLeft, Corner::BottomRight] {
            let mut img = grey(512, 384);
            let (x, y, w, h) = draw(&mut img, &Watermark { text: "AI · Darkroom".into(), logo: None, corner, opacity: 0.8 });
            assert!(w > 100 && h > 12, "{corner:?}: {w}×{h}");
            let (mut inside, mut outside) = (0, 0);
            for (px, py, p) in img.enumerate_pixels() {
                if p.0 != [128, 128, 128] {
                    if px >= x && px < x + w && py >= y && py < y + h {
                        inside += 1;
                    } else {
                        outside += 1;
                    }
                }
            }
            assert_eq!(outside, 0, "{corner:?}");
            assert!(inside > 500, "{corner:?}: {inside} pixels changed");
            // Its half of the image: left/right and top/bottom as named.
            let (cx, cy) = (x + w / 2, y + h / 2);
            assert_eq!(cx < 256, matches!(corner, Corner::TopLeft | Corner::BottomLeft), "{corner:?}");
            assert_eq!(cy < 192, matches!(corner, Corner::TopLeft | Corner::TopRight), "{corner:?}");
            // Light text and dark outline both appear.
            assert!(img.pixels().any(|p| p.0[0] > 200) && img.pixels().any(|p| p.0[0] < 90), "{corner:?}");
        }
    }

    #[test]
    fn opacity_scales_the_change() {
        let change = |opacity: f32| {
            let mut img = grey(400, 400);
            draw(&mut img, &Watermark { text: "Darkroom".into(), logo: None, corner: Corner::BottomRight, opacity });
            img.pixels().map(|p| (p.0[0] as i32 - 128).unsigned_abs() as u64).sum::<u64>()
        };
        let (faint, strong) = (change(0.2), change(1.0));
        assert!(faint > 0 && strong > faint * 3, "faint {faint}, strong {strong}");
    }

    #[test]
    fn text_wider_than_the_image_is_clipped() {
        let mut img = grey(64, 64);
        let (x, y, w, h) = draw(&mut img, &Watermark { text: "A very long watermark line".into(), logo: None, corner: Corner::TopRight, opacity: 1.0 });
        assert!(x + w <= 64 && y + h <= 64);
    }

    /// A red disc on transparency, as a PNG file.
    fn logo_png(side: u32) -> Vec<u8> {
        let r = side as f32 / 2.0;
        let img = RgbaImage::from_fn(side, side, |x, y| {
            let d = ((x as f32 + 0.5 - r).powi(2) + (y as f32 + 0.5 - r).powi(2)).sqrt();
            if d < r - 1.0 { image::Rgba([220, 20, 20, 255]) } else { image::Rgba([0, 0, 0, 0]) }
        });
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn a_logo_is_scaled_into_its_corner_and_keeps_its_transparency() {
        let logo = decode_logo(&logo_png(400)).unwrap();
        let mut img = grey(1000, 600);
        let (x, y, w, h) = draw(&mut img, &Watermark { text: String::new(), logo: Some(logo), corner: Corner::BottomLeft, opacity: 1.0 });
        assert_eq!((w, h), (200, 200), "a fifth of the width");
        assert!(x < 50 && y + h > 550, "bottom left: {x},{y}");
        // The disc's centre is red; its transparent corner leaves the image as it was.
        assert_eq!(img.get_pixel(x + w / 2, y + h / 2).0, [220, 20, 20]);
        assert_eq!(img.get_pixel(x + 1, y + 1).0, [128, 128, 128]);
        assert!(img.enumerate_pixels().all(|(px, py, p)| p.0 == [128, 128, 128] || (px >= x && px < x + w && py >= y && py < y + h)));
        // Half opacity: halfway between.
        let mut img = grey(1000, 600);
        let (x, y, w, h) = draw(&mut img, &Watermark { text: String::new(), logo: Some(decode_logo(&logo_png(400)).unwrap()), corner: Corner::TopRight, opacity: 0.5 });
        assert_eq!(img.get_pixel(x + w / 2, y + h / 2).0, [174, 74, 74]);
    }

    #[test]
    fn logos_are_checked() {
        assert_eq!(decode_logo(b""), Err(UploadError::Empty));
        assert_eq!(decode_logo(b"<svg></svg>"), Err(UploadError::UnknownFormat));
        let mut jpeg = Vec::new();
        RgbImage::new(32, 32).write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
        assert_eq!(decode_logo(&jpeg), Err(UploadError::UnknownFormat), "no transparency in JPEG");
        assert!(matches!(decode_logo(&logo_png(8)), Err(UploadError::TooSmall { .. })));
        assert!(matches!(decode_logo(&logo_png(3000)), Err(UploadError::TooManyPixels { .. } | UploadError::TooLarge { .. })));
        assert!(matches!(decode_logo(&vec![0u8; MAX_LOGO_BYTES + 1]), Err(UploadError::TooLarge { .. })));
    }
}
