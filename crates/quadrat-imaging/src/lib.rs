//! Quadrat's pixel work (docs/protocol.md §5.9 and §15.1): photos normalised on upload, entry
//! thumbnails, project logos, and the placeholders we draw ourselves. Everything here is pure
//! and synchronous, and takes tens of milliseconds: callers run it off the async threads
//! (`quadrat_app::images::ImageWorkers`).
//!
//! Untrusted bytes are decoded under limits: the format is judged from the content, the size
//! from the header before any pixel is allocated (a decompression bomb is refused, not
//! decoded), and the decoder's allocations are capped.

mod cover;
mod decode;
mod draw;
mod error;
mod placeholders;

pub use error::ImageError;

/// Photo sides after normalising (docs/protocol.md §5.9).
pub const PHOTO_LONG_SIDE: u32 = 1024;
pub const PHOTO_SHORT_SIDE: u32 = 768;
/// `entry_thumb`'s side.
pub const ENTRY_THUMB_SIDE: u32 = 100;
/// A stored project logo's side, and the side of `project_thumb` / `project_mobile_logo`.
pub const LOGO_SIDE: u32 = 512;
pub const MOBILE_LOGO_SIDE: u32 = 128;
/// The largest logo file accepted (5000 KB).
pub const MAX_LOGO_BYTES: usize = 5000 * 1024;

/// JPEG quality of stored photos and of every resized image we serve (the real server's 70).
const QUALITY: u8 = 70;
/// JPEG quality of a stored logo (the real server's 50).
const LOGO_QUALITY: u8 = 50;

/// EXIF orientation applied; cover to exactly 1024x768 (landscape) or 768x1024 (portrait or
/// square); smaller photos upscaled; JPEG q70. JPEG and PNG only.
pub fn normalise_photo(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    let img = decode::decode(bytes, &decode::PHOTO)?;
    let (w, h) = if img.width() > img.height() {
        (PHOTO_LONG_SIDE, PHOTO_SHORT_SIDE)
    } else {
        (PHOTO_SHORT_SIDE, PHOTO_LONG_SIDE)
    };
    cover::jpeg(&cover::cover(&img, w, h), QUALITY)
}

/// 100x100 cover crop, JPEG q70.
pub fn entry_thumb(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    cover_jpeg(bytes, ENTRY_THUMB_SIDE, ENTRY_THUMB_SIDE)
}

/// Project logo upload: JPEG/PNG/GIF, <= 5000 KB, <= 4096 px a side, covered to 512x512 JPEG.
pub fn project_logo(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(ImageError::LogoFileTooLarge {
            bytes: bytes.len(),
            max_bytes: MAX_LOGO_BYTES,
        });
    }
    let img = decode::decode(bytes, &decode::LOGO)?;
    cover::jpeg(&cover::cover(&img, LOGO_SIDE, LOGO_SIDE), LOGO_QUALITY)
}

/// Cover-resize any stored JPEG (or PNG) to `width` x `height`, JPEG q70 (e.g. logo 512 -> 128
/// for `project_thumb` / `project_mobile_logo`). Sides are at least 1 and at most 4096.
pub fn cover_jpeg(bytes: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ImageError> {
    let (width, height) = (width.clamp(1, 4096), height.clamp(1, 4096));
    let img = decode::decode(bytes, &decode::STORED)?;
    cover::jpeg(&cover::cover(&img, width, height), QUALITY)
}

/// Decision 9: the "not synced yet" placeholder for any missing photo name (512x512 JPEG):
/// the same bytes every call.
pub fn placeholder_unsynced() -> &'static [u8] {
    placeholders::unsynced()
}

/// Generic placeholder for a missing `logo.jpg` at a given size (drawn at that size, cached per
/// size, the same bytes every call). Sides are clamped to 1..=2048.
pub fn placeholder_logo(width: u32, height: u32) -> Vec<u8> {
    placeholders::logo(width, height)
}

/// A project without a logo: its initials on a colour derived from its ref, `size` x `size`
/// JPEG (the same bytes for the same arguments). `size` is clamped to 1..=2048.
pub fn default_logo(project_name: &str, project_ref: &str, size: u32) -> Vec<u8> {
    placeholders::initials_logo(project_name, project_ref, size)
}

/// The initials [`default_logo`] draws for a project name (for tests and the CLI's messages).
pub fn initials(project_name: &str) -> String {
    placeholders::initials(project_name)
}
