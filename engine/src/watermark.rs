//! The visible watermark an operator may put on the results of some plans: one line of text in
//! a corner, white over a soft dark outline so it reads on light and dark images alike.
//! Glyphs are DejaVu Sans Bold (embedded by the `dejavu` crate), rasterised with `ab_glyph`
//! (coverage 0–1 per pixel), then blended over the image at the chosen opacity.

use ab_glyph::{Font, FontRef, Glyph, PxScale, ScaleFont};
use image::RgbImage;

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
    /// One line; characters the font lacks are drawn as its missing-glyph box.
    pub text: String,
    pub corner: Corner,
    /// 0.0 (invisible) to 1.0 (opaque).
    pub opacity: f32,
}

/// The text's height in pixels for an image whose shorter side is `short` pixels: 1/24 of it,
/// at least 12 px (a 1024² result gets 42 px).
pub fn text_px(short: u32) -> f32 {
    (short as f32 / 24.0).max(12.0)
}

/// Draws `mark` on `img` in place. The text's box (with a margin of half the text height from
/// the edges) is the only region that changes; text wider than the image is clipped.
/// Returns that region as `(x, y, width, height)` in pixels, clipped to the image.
pub fn draw(img: &mut RgbImage, mark: &Watermark) -> (u32, u32, u32, u32) {
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
    let left = match mark.corner {
        Corner::TopLeft | Corner::BottomLeft => margin,
        Corner::TopRight | Corner::BottomRight => w as i32 - margin - text_w,
    };
    let top = match mark.corner {
        Corner::TopLeft | Corner::TopRight => margin,
        Corner::BottomLeft | Corner::BottomRight => h as i32 - margin - text_h,
    };
    let opacity = mark.opacity.clamp(0.0, 1.0);
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
    let (x0, y0) = (left.max(0) as u32, top.max(0) as u32);
    let (x1, y1) = (((left + text_w).min(w as i32)).max(0) as u32, ((top + text_h).min(h as i32)).max(0) as u32);
    (x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
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
            let (x, y, w, h) = draw(&mut img, &Watermark { text: "AI · Darkroom".into(), corner, opacity: 0.8 });
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
            draw(&mut img, &Watermark { text: "Darkroom".into(), corner: Corner::BottomRight, opacity });
            img.pixels().map(|p| (p.0[0] as i32 - 128).unsigned_abs() as u64).sum::<u64>()
        };
        let (faint, strong) = (change(0.2), change(1.0));
        assert!(faint > 0 && strong > faint * 3, "faint {faint}, strong {strong}");
    }

    #[test]
    fn text_wider_than_the_image_is_clipped() {
        let mut img = grey(64, 64);
        let (x, y, w, h) = draw(&mut img, &Watermark { text: "A very long watermark line".into(), corner: Corner::TopRight, opacity: 1.0 });
        assert!(x + w <= 64 && y + h <= 64);
    }
}
