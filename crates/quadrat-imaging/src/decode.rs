//! Reading untrusted image bytes: the format from the content, the size from the header
//! (checked before any pixel is allocated, so a decompression bomb costs nothing), then the
//! pixels within the decoder's allocation limit, with EXIF orientation applied.

use std::io::{Cursor, ErrorKind};

use image::error::{ImageError as Raw, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::ImageError;

/// What one kind of input may be.
pub(crate) struct Rules {
    pub formats: &'static [ImageFormat],
    pub max_side: u32,
    pub max_pixels: u64,
    /// Bytes the decoder may allocate (pixels and its own buffers).
    pub max_alloc: u64,
    /// How a side over `max_side` is refused (logos have their own code).
    pub too_large: fn(u32, u32) -> ImageError,
}

/// Photos: JPEG or PNG. The app sends at most 1024 px a side; larger ones (cameras, imports)
/// are still normalised, up to 40 megapixels.
pub(crate) const PHOTO: Rules = Rules {
    formats: &[ImageFormat::Jpeg, ImageFormat::Png],
    max_side: 10_000,
    max_pixels: 40_000_000,
    max_alloc: 256 << 20,
    too_large: |width, height| ImageError::TooLarge { width, height },
};

/// Stored JPEGs being resized (thumbnails, logos): what we wrote, or a logo upload.
pub(crate) const STORED: Rules = Rules {
    formats: &[ImageFormat::Jpeg, ImageFormat::Png],
    ..PHOTO
};

/// Project logo uploads: JPEG, PNG or GIF (its first frame), at most 4096 px a side.
pub(crate) const LOGO: Rules = Rules {
    formats: &[ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Gif],
    max_side: 4096,
    max_pixels: 4096 * 4096,
    max_alloc: 160 << 20,
    too_large: |width, height| ImageError::LogoTooLarge { width, height },
};

/// Decodes `bytes` under `rules` into upright RGB pixels (transparency flattened onto white).
pub(crate) fn decode(bytes: &[u8], rules: &Rules) -> Result<RgbImage, ImageError> {
    let format = image::guess_format(bytes).map_err(|_| ImageError::NotAnImage)?;
    if !rules.formats.contains(&format) {
        return Err(ImageError::Unsupported {
            format: format_name(format),
        });
    }
    // Sides are checked below from the header, so the refusal can say what was claimed; the
    // decoder enforces the allocation cap.
    let mut limits = Limits::default();
    limits.max_alloc = Some(rules.max_alloc);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(e, None))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt("an image without pixels".into()));
    }
    if width > rules.max_side
        || height > rules.max_side
        || u64::from(width) * u64::from(height) > rules.max_pixels
    {
        return Err((rules.too_large)(width, height));
    }
    // zune-jpeg pads a cut-off scan with grey instead of failing: look for the end marker.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ImageError::Truncated);
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| classify(e, Some((width, height))))?;
    img.apply_orientation(orientation);
    Ok(flatten(img))
}

/// RGB pixels; an alpha channel is composed onto white (a JPEG has none, and black behind a
/// transparent logo looks broken).
fn flatten(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = u32::from(a);
        let over = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// Maps the image crate's error onto ours.
fn classify(e: Raw, dims: Option<(u32, u32)>) -> ImageError {
    match e {
        Raw::Limits(limit) => match (limit.kind(), dims) {
            (LimitErrorKind::DimensionError | LimitErrorKind::InsufficientMemory, Some((w, h))) => {
                ImageError::TooLarge {
                    width: w,
                    height: h,
                }
            }
            _ => ImageError::TooLarge {
                width: 0,
                height: 0,
            },
        },
        Raw::IoError(io) if io.kind() == ErrorKind::UnexpectedEof => ImageError::Truncated,
        Raw::Unsupported(u) => ImageError::Corrupt(u.to_string()),
        other => {
            let text = other.to_string();
            let lower = text.to_ascii_lowercase();
            if [
                "eof",
                "end of",
                "truncat",
                "premature",
                "not enough",
                "no more",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                ImageError::Truncated
            } else {
                ImageError::Corrupt(text)
            }
        }
    }
}

/// True when the JPEG has an end-of-image marker after its first scan. Segment lengths are
/// followed up to the first start-of-scan (so an EXIF thumbnail's own end marker does not count);
/// inside entropy-coded data a 0xFF byte is always stuffed, so `FF D9` there is the real end.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            let scan = &bytes[(at + 2 + len).min(bytes.len())..];
            return scan.windows(2).any(|w| w == [0xFF, 0xD9]);
        }
        at += 2 + len;
    }
    false
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Avif => "AVIF",
        ImageFormat::Ico => "ICO",
        _ => "this format",
    }
}
