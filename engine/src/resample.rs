//! Lanczos resampling exactly as Pillow does it (`Image.resize(size, Image.LANCZOS)`,
//! `src/libImaging/Resample.c`): separable, horizontal pass first into 8-bit rows, then
//! vertical; filter support 3 scaled by the reduction factor; coefficients normalised per
//! output pixel and turned into fixed point with 22 fractional bits; sums rounded and clipped
//! to 0..=255 after each pass. The arbitrary-style networks react to one-level pixel
//! differences, so matching the reference needs the same arithmetic, not just the same filter.

use image::RgbImage;

const PRECISION_BITS: u32 = 32 - 8 - 2;
const SUPPORT: f64 = 3.0;

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

fn lanczos(x: f64) -> f64 {
    if (-SUPPORT..SUPPORT).contains(&x) { sinc(x) * sinc(x / SUPPORT) } else { 0.0 }
}

/// Per output index: the first input index, the number of taps, and `ksize` fixed-point
/// coefficients (Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`).
fn coefficients(in_size: u32, out_size: u32) -> (usize, Vec<(usize, usize)>, Vec<i32>) {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = SUPPORT * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size as usize);
    let mut kk = vec![0i32; out_size as usize * ksize];
    let mut k = vec![0f64; ksize];
    for xx in 0..out_size as usize {
        let center = (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize - xmin;
        let mut ww = 0.0;
        for (x, kx) in k.iter_mut().enumerate().take(xmax) {
            let w = lanczos((x as f64 + xmin as f64 - center + 0.5) * ss);
            *kx = w;
            ww += w;
        }
        for x in 0..xmax {
            let v = if ww != 0.0 { k[x] / ww } else { k[x] };
            let fixed = v * (1u32 << PRECISION_BITS) as f64;
            kk[xx * ksize + x] = if v < 0.0 { (-0.5 + fixed) as i32 } else { (0.5 + fixed) as i32 };
        }
        bounds.push((xmin, xmax));
    }
    (ksize, bounds, kk)
}

#[inline]
fn clip8(v: i32) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// `img` resized to `w`×`h` with Pillow's Lanczos arithmetic (see the module docs).
pub fn lanczos_pil(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (iw, ih) = img.dimensions();
    if (iw, ih) == (w, h) {
        return img.clone();
    }
    let src = img.as_raw();
    let (kh, bh, ch) = coefficients(iw, w);
    let (kv, mut bv, cv) = coefficients(ih, h);
    let half = 1i32 << (PRECISION_BITS - 1);
    // Horizontal pass over the rows the vertical pass reads.
    let rows = if w != iw {
        let first = bv[0].0;
        let last = bv[h as usize - 1].0 + bv[h as usize - 1].1;
        for b in bv.iter_mut() {
            b.0 -= first;
        }
        let mut out = vec![0u8; (last - first) * w as usize * 3];
        for y in 0..last - first {
            let row = &src[(y + first) * iw as usize * 3..][..iw as usize * 3];
            for (xx, &(xmin, xmax)) in bh.iter().enumerate() {
                let k = &ch[xx * kh..][..xmax];
                let (mut r, mut g, mut b) = (half, half, half);
                for (x, kx) in k.iter().enumerate() {
                    let p = &row[(x + xmin) * 3..];
                    r += p[0] as i32 * kx;
                    g += p[1] as i32 * kx;
                    b += p[2] as i32 * kx;
                }
                let o = (y * w as usize + xx) * 3;
                out[o] = clip8(r);
                out[o + 1] = clip8(g);
                out[o + 2] = clip8(b);
            }
        }
        out
    } else {
        src.to_vec()
    };
    if h == ih {
        return RgbImage::from_raw(w, h, rows).expect("w*h*3 bytes");
    }
    // Vertical pass.
    let stride = w as usize * 3;
    let mut out = vec![0u8; h as usize * stride];
    for (yy, &(ymin, ymax)) in bv.iter().enumerate() {
        let k = &cv[yy * kv..][..ymax];
        for x in 0..stride {
            let mut s = half;
            for (y, ky) in k.iter().enumerate() {
                s += rows[(y + ymin) * stride + x] as i32 * ky;
            }
            out[yy * stride + x] = clip8(s);
        }
    }
    RgbImage::from_raw(w, h, out).expect("w*h*3 bytes")
}
