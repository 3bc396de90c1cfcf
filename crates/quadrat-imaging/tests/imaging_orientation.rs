//! EXIF orientation 1..8: the stored photo is upright. The source is 400x200 with four coloured
//! quadrants; each orientation moves them to known places (and 5..8 make it portrait).

use image::{ImageFormat, Rgb, RgbImage};
use quadrat_imaging::normalise_photo;

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const WHITE: [u8; 3] = [255, 255, 255];

fn quadrants() -> Vec<u8> {
    let img = RgbImage::from_fn(400, 200, |x, y| {
        Rgb(match (x < 200, y < 100) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// The JPEG with an EXIF segment (big-endian TIFF, one IFD entry: Orientation) after its SOI.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(exif.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn nearest(pixel: [u8; 3]) -> [u8; 3] {
    let distance = |c: [u8; 3]| {
        c.iter()
            .zip(pixel)
            .map(|(a, b)| (i32::from(*a) - i32::from(b)).pow(2))
            .sum::<i32>()
    };
    *[RED, GREEN, BLUE, WHITE]
        .iter()
        .min_by_key(|c| distance(**c))
        .unwrap()
}

#[test]
fn normalise_applies_each_exif_orientation() {
    let source = quadrants();
    // Upright quadrants (top-left, top-right, bottom-left, bottom-right) and the stored size.
    let cases = [
        (1, [RED, GREEN, BLUE, WHITE], (1024, 768)),
        (2, [GREEN, RED, WHITE, BLUE], (1024, 768)),
        (3, [WHITE, BLUE, GREEN, RED], (1024, 768)),
        (4, [BLUE, WHITE, RED, GREEN], (1024, 768)),
        (5, [RED, BLUE, GREEN, WHITE], (768, 1024)),
        (6, [BLUE, RED, WHITE, GREEN], (768, 1024)),
        (7, [WHITE, GREEN, BLUE, RED], (768, 1024)),
        (8, [GREEN, WHITE, RED, BLUE], (768, 1024)),
    ];
    for (orientation, expected, size) in cases {
        let out = normalise_photo(&with_orientation(&source, orientation)).unwrap();
        let img = image::load_from_memory(&out).unwrap().into_rgb8();
        assert_eq!(img.dimensions(), size, "orientation {orientation}");
        let (w, h) = img.dimensions();
        let seen = [
            (w / 4, h / 4),
            (3 * w / 4, h / 4),
            (w / 4, 3 * h / 4),
            (3 * w / 4, 3 * h / 4),
        ]
        .map(|(x, y)| nearest(img.get_pixel(x, y).0));
        assert_eq!(seen, expected, "orientation {orientation}");
    }
}

#[test]
fn normalised_photo_carries_no_orientation_to_apply_twice() {
    let out = normalise_photo(&with_orientation(&quadrants(), 6)).unwrap();
    let again = normalise_photo(&out).unwrap();
    let img = image::load_from_memory(&again).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (768, 1024));
    assert_eq!(nearest(img.get_pixel(192, 256).0), BLUE);
}
