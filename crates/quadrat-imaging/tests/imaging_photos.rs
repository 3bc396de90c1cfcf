//! Photos normalised on upload: shapes, sizes, formats and refusals, checked by decoding.

use image::{ImageFormat, Rgb, RgbImage};
use quadrat_imaging::{ImageError, entry_thumb, normalise_photo};

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .expect("encoding a test image");
    out.into_inner()
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    })
}

fn dims_of_jpeg(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(image::guess_format(bytes).unwrap(), ImageFormat::Jpeg);
    let img = image::load_from_memory(bytes).expect("our output decodes");
    (img.width(), img.height())
}

#[test]
fn normalise_landscape_jpeg_covers_to_1024x768() {
    let out = normalise_photo(&encode(&gradient(1024, 600), ImageFormat::Jpeg)).unwrap();
    assert_eq!(dims_of_jpeg(&out), (1024, 768));
}

#[test]
fn normalise_portrait_and_square_cover_to_768x1024() {
    for (w, h) in [(600, 1000), (500, 500), (1024, 1024)] {
        let out = normalise_photo(&encode(&gradient(w, h), ImageFormat::Png)).unwrap();
        assert_eq!(dims_of_jpeg(&out), (768, 1024), "{w}x{h}");
    }
}

#[test]
fn normalise_small_photo_is_upscaled() {
    let out = normalise_photo(&encode(&gradient(64, 48), ImageFormat::Jpeg)).unwrap();
    assert_eq!(dims_of_jpeg(&out), (1024, 768));
}

#[test]
fn entry_thumb_is_100_square() {
    let out = entry_thumb(&encode(&gradient(1024, 768), ImageFormat::Jpeg)).unwrap();
    assert_eq!(dims_of_jpeg(&out), (100, 100));
}

#[test]
fn normalise_text_is_not_an_image() {
    let err = normalise_photo(b"hello, this is not a photo").unwrap_err();
    assert_eq!(err, ImageError::NotAnImage);
    assert_eq!(err.code(), "ec5_83");
}

#[test]
fn normalise_truncated_jpeg_is_refused() {
    let full = encode(&gradient(800, 600), ImageFormat::Jpeg);
    let cut = &full[..full.len() / 2];
    let err = normalise_photo(cut).unwrap_err();
    assert_eq!(err, ImageError::Truncated);
    assert_eq!(err.code(), "ec5_83");
}

#[test]
fn normalise_truncated_png_is_refused() {
    let full = encode(&gradient(800, 600), ImageFormat::Png);
    let err = normalise_photo(&full[..full.len() / 2]).unwrap_err();
    assert_eq!(err.code(), "ec5_83", "{err}");
}

#[test]
fn normalise_gif_is_unsupported() {
    let err = normalise_photo(&encode(&gradient(10, 10), ImageFormat::Gif)).unwrap_err();
    assert_eq!(err, ImageError::Unsupported { format: "GIF" });
    assert_eq!(err.code(), "ec5_81");
}
