//! Our drawn placeholders and default logos: stable bytes, decodable, the sizes asked.

use quadrat_imaging::{default_logo, initials, placeholder_logo, placeholder_unsynced};

fn decode(bytes: &[u8]) -> image::RgbImage {
    assert_eq!(
        image::guess_format(bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    image::load_from_memory(bytes).expect("decodes").into_rgb8()
}

#[test]
fn unsynced_placeholder_is_stable_512_jpeg() {
    let first = placeholder_unsynced();
    assert_eq!(first, placeholder_unsynced());
    let img = decode(first);
    assert_eq!(img.dimensions(), (512, 512));
    // A look at the drawings: QUADRAT_IMAGING_DUMP=<folder> writes them as PNG.
    if let Ok(dir) = std::env::var("QUADRAT_IMAGING_DUMP") {
        let drawings = [
            ("unsynced", first.to_vec()),
            ("logo256", placeholder_logo(256, 256)),
            ("initials", default_logo("Quadrat Test", "abc", 128)),
        ];
        for (name, bytes) in drawings {
            decode(&bytes).save(format!("{dir}/{name}.png")).unwrap();
        }
    }
}

#[test]
fn logo_placeholder_is_drawn_at_each_size_and_stable() {
    for (w, h) in [(256, 256), (128, 128), (300, 100)] {
        let a = placeholder_logo(w, h);
        assert_eq!(a, placeholder_logo(w, h));
        assert_eq!(decode(&a).dimensions(), (w, h));
    }
}

#[test]
fn default_logo_initials_and_size() {
    assert_eq!(initials("Bird survey of Ålesund"), "BS");
    assert_eq!(initials("  ekosystém  "), "E");
    assert_eq!(initials("!!!"), "?");
    let logo = default_logo("Bird survey", "0a1b2c", 128);
    assert_eq!(logo, default_logo("Bird survey", "0a1b2c", 128));
    assert_eq!(decode(&logo).dimensions(), (128, 128));
}
