//! "Cover" resizing (scale to fill, centre crop, as the real server's `cover()`) and JPEG
//! encoding.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};

use crate::ImageError;

/// Exactly `width` x `height`: the largest centred crop of the target's shape, scaled to it.
/// Downscaling by 2 or more averages areas (fast and sharp enough for photos); the rest uses
/// Catmull-Rom, upscaling included.
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
    let crop = imageops::crop_imm(img, (sw - cw) / 2, (sh - ch) / 2, cw, ch).to_image();
    if cw >= 2 * width && ch >= 2 * height {
        imageops::thumbnail(&crop, width, height)
    } else {
        imageops::resize(&crop, width, height, FilterType::CatmullRom)
    }
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
