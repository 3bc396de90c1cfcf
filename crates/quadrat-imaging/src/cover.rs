//! "Cover" resizing (scale to fill, centre crop, as the real server's `cover()`) and JPEG
//! encoding.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};

use crate::ImageError;

/// Exactly `width` x `height`: the largest centred crop of the target's shape, scaled to it.
/// A large reduction first averages k x k blocks (k the whole factor that keeps at least the
/// target size: one pass over the pixels), then Catmull-Rom makes the exact size; upscaling is
/// Catmull-Rom alone.
pub(crate) fn cover(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (sw, sh) = img.dimensions();
    if (sw, sh) == (width, height) {
        return img.clone();
    }
    let scale = f64::max(
        f64::from(width) / f64::from(sw),
        f64::from(height) / f64::from(sh),
    );
    let cw = crop_side(width, scale, sw);
    let ch = crop_side(height, scale, sh);
    let (x0, y0) = ((sw - cw) / 2, (sh - ch) / 2);
    let k = (cw / width).min(ch / height);
    let reduced = if k >= 2 {
        box_shrink(img, [x0, y0, cw, ch], k)
    } else {
        imageops::crop_imm(img, x0, y0, cw, ch).to_image()
    };
    if reduced.dimensions() == (width, height) {
        return reduced;
    }
    imageops::resize(&reduced, width, height, FilterType::CatmullRom)
}

/// The region `[x0, y0, w, h]` of `img`, each `k` x `k` block averaged into one pixel (a
/// partial block at the right or bottom edge is left out).
fn box_shrink(img: &RgbImage, [x0, y0, w, h]: [u32; 4], k: u32) -> RgbImage {
    let (ow, oh) = ((w / k) as usize, (h / k) as usize);
    let (k, x0, y0) = (k as usize, x0 as usize, y0 as usize);
    let stride = img.width() as usize * 3;
    let raw = img.as_raw();
    let area = (k * k) as u32;
    let mut out = Vec::with_capacity(ow * oh * 3);
    let mut sums = vec![0u32; ow * 3];
    for oy in 0..oh {
        sums.fill(0);
        for dy in 0..k {
            let start = (y0 + oy * k + dy) * stride + x0 * 3;
            let row = &raw[start..start + ow * k * 3];
            for (sum, block) in sums.chunks_exact_mut(3).zip(row.chunks_exact(k * 3)) {
                for px in block.chunks_exact(3) {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                }
            }
        }
        // An average of bytes is a byte.
        out.extend(sums.iter().map(|&s| ((s + area / 2) / area) as u8));
    }
    RgbImage::from_raw(ow as u32, oh as u32, out).unwrap_or_default()
}

/// The source length that maps onto `target` at `scale`, within the source.
fn crop_side(target: u32, scale: f64, source: u32) -> u32 {
    let side = (f64::from(target) / scale).round();
    // In 1..=source, so the cast is exact.
    (side.clamp(1.0, f64::from(source))) as u32
}

/// Baseline JPEG at `quality` (1–100), no metadata (so no orientation is applied twice).
pub(crate) fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(img.as_raw().len() / 8);
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}
