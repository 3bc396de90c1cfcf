//! Why an image was refused, and the Epicollect5 code a client gets for it (docs/protocol.md
//! §5.9 for photos, §15.1 for logos).

use std::fmt;

/// A refused image. Nothing was allocated for its pixels beyond the decoder's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// The bytes are not an image of any format we know.
    NotAnImage,
    /// The file stops before the image does.
    Truncated,
    /// The file claims a known format but cannot be decoded.
    Corrupt(String),
    /// An image, but not in a format accepted here (say a GIF photo, or a WebP logo).
    Unsupported { format: &'static str },
    /// More pixels than this use decodes (a photo's side or pixel count, or a decompression
    /// bomb's claimed size): refused from its header, before any pixel is allocated.
    TooLarge { width: u32, height: u32 },
    /// A project logo wider or taller than 4096 px.
    LogoTooLarge { width: u32, height: u32 },
    /// A project logo file over 5000 KB.
    LogoFileTooLarge { bytes: usize, max_bytes: usize },
    /// Encoding the result failed (not expected with in-memory buffers).
    Encode(String),
}

impl ImageError {
    /// The `ec5_*` code a client gets: an unreadable photo is "File could not be saved"
    /// (`ec5_83`), a format not accepted is `ec5_81`, too many pixels `ec5_206`; logos have
    /// their own codes for size (`ec5_332` resolution, `ec5_403` file size).
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::NotAnImage
            | ImageError::Truncated
            | ImageError::Corrupt(_)
            | ImageError::Encode(_) => "ec5_83",
            ImageError::Unsupported { .. } => "ec5_81",
            ImageError::TooLarge { .. } => "ec5_206",
            ImageError::LogoTooLarge { .. } => "ec5_332",
            ImageError::LogoFileTooLarge { .. } => "ec5_403",
        }
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ImageError::NotAnImage => f.write_str("the file is not an image"),
            ImageError::Truncated => f.write_str("the image file is truncated"),
            ImageError::Corrupt(why) => write!(f, "the image cannot be decoded: {why}"),
            ImageError::Unsupported { format } => {
                write!(f, "{format} is not an image format accepted here")
            }
            ImageError::TooLarge { width, height } => {
                write!(
                    f,
                    "the image is {width}x{height} pixels, more than accepted"
                )
            }
            ImageError::LogoTooLarge { width, height } => write!(
                f,
                "the logo is {width}x{height} pixels; at most 4096 x 4096 px are accepted"
            ),
            ImageError::LogoFileTooLarge { bytes, max_bytes } => write!(
                f,
                "the logo file is {} KB; at most {} KB are accepted",
                bytes.div_ceil(1024),
                max_bytes / 1024
            ),
            ImageError::Encode(why) => write!(f, "the image could not be encoded: {why}"),
        }
    }
}

impl std::error::Error for ImageError {}
