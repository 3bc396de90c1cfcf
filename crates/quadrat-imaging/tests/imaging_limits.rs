//! Hostile and oversized inputs: decompression bombs are refused from their header (the error
//! carries the claimed size, so no pixel was decoded), logos keep their own limits and codes.

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use quadrat_imaging::{ImageError, cover_jpeg, normalise_photo, project_logo};

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A valid-looking PNG claiming `width` x `height` RGB pixels, whose data is a few bytes of
/// deflate that would expand to all of them (a decompression bomb's shape).
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib header, then a fixed-Huffman block of zeros that never ends.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x62, 0x60, 0x18, 0x05, 0xA3, 0x60],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A real JPEG whose frame header is changed to claim `width` x `height`.
fn jpeg_bomb(width: u16, height: u16) -> Vec<u8> {
    let mut out = encode(&RgbImage::new(64, 48), ImageFormat::Jpeg);
    let sof = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

#[test]
fn png_bomb_is_refused_from_its_header() {
    for (w, h) in [(60_000, 60_000), (9_000, 9_000), (20_000, 10)] {
        let err = normalise_photo(&png_bomb(w, h)).unwrap_err();
        assert_eq!(
            err,
            ImageError::TooLarge {
                width: w,
                height: h
            }
        );
        assert_eq!(err.code(), "ec5_206");
    }
}

#[test]
fn jpeg_bomb_is_refused_from_its_header() {
    let err = normalise_photo(&jpeg_bomb(65_000, 65_000)).unwrap_err();
    assert_eq!(
        err,
        ImageError::TooLarge {
            width: 65_000,
            height: 65_000
        }
    );
}

#[test]
fn jpeg_header_without_picture_is_refused() {
    let mut header = vec![
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x03, 0x00, 0x04, 0x00,
    ];
    header.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    header.extend_from_slice(&[0xFF, 0xD9]);
    let err = normalise_photo(&header).unwrap_err();
    assert_eq!(err.code(), "ec5_83", "{err}");
}

#[test]
fn webp_and_bmp_are_not_photos() {
    let webp = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0".to_vec();
    assert_eq!(
        normalise_photo(&webp).unwrap_err(),
        ImageError::Unsupported { format: "WebP" }
    );
    let bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0".to_vec();
    assert_eq!(normalise_photo(&bmp).unwrap_err().code(), "ec5_81");
}

#[test]
fn empty_input_is_not_an_image() {
    assert_eq!(normalise_photo(&[]).unwrap_err(), ImageError::NotAnImage);
}

#[test]
fn transparent_png_is_flattened_onto_white() {
    let img = RgbaImage::from_pixel(300, 200, Rgba([0, 0, 0, 0]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, ImageFormat::Png).unwrap();
    let out = normalise_photo(png.get_ref()).unwrap();
    let decoded = image::load_from_memory(&out).unwrap().into_rgb8();
    assert!(decoded.get_pixel(512, 384).0.iter().all(|&c| c > 245));
}

#[test]
fn logo_upload_is_covered_to_512_from_jpeg_png_and_gif() {
    let img = RgbImage::from_fn(900, 300, |x, _| Rgb([(x % 256) as u8, 80, 160]));
    for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Gif] {
        let out = project_logo(&encode(&img, format)).unwrap();
        assert_eq!(image::guess_format(&out).unwrap(), ImageFormat::Jpeg);
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (512, 512),
            "{format:?}"
        );
    }
}

#[test]
fn logo_over_4096_px_is_ec5_332() {
    let err = project_logo(&png_bomb(4097, 16)).unwrap_err();
    assert_eq!(
        err,
        ImageError::LogoTooLarge {
            width: 4097,
            height: 16
        }
    );
    assert_eq!(err.code(), "ec5_332");
}

#[test]
fn logo_over_5000_kb_is_ec5_403() {
    let mut big = encode(&RgbImage::new(16, 16), ImageFormat::Png);
    big.resize(5000 * 1024 + 1, 0);
    let err = project_logo(&big).unwrap_err();
    assert_eq!(err.code(), "ec5_403");
    assert!(err.to_string().contains("5000 KB"), "{err}");
}

#[test]
fn cover_jpeg_resizes_a_stored_logo() {
    let logo = project_logo(&encode(&RgbImage::new(600, 600), ImageFormat::Png)).unwrap();
    let small = cover_jpeg(&logo, 128, 128).unwrap();
    let decoded = image::load_from_memory(&small).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (128, 128));
}
