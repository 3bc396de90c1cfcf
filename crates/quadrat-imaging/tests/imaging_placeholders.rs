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

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 6)
}

#[test]
fn default_logo_colour_follows_the_ref_not_the_name() {
    let corner = |name: &str, r: &str| decode(&default_logo(name, r, 128)).get_pixel(2, 2).0;
    let a = corner("Bird survey", "0a1b2c3d");
    assert!(close(a, corner("Tree census", "0a1b2c3d")));
    let others: Vec<[u8; 3]> = ["ffee", "1234abcd", "zz"]
        .iter()
        .map(|r| corner("Bird survey", r))
        .collect();
    assert!(others.iter().all(|o| !close(*o, a)), "{a:?} {others:?}");
    // Dark enough for white letters.
    assert!(
        a.iter().map(|&c| u32::from(c)).sum::<u32>() < 3 * 200,
        "{a:?}"
    );
}

#[test]
fn default_logo_draws_white_letters_in_the_middle() {
    let img = decode(&default_logo("Moth trap", "ab12", 256));
    let white = img
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c > 240))
        .count();
    // Two letters take a good part of the square, and not all of it.
    let total = (256 * 256) as usize;
    assert!(white > total / 50 && white < total / 2, "{white}");
    // Other sizes come out at their size.
    for size in [32, 128, 512] {
        assert_eq!(
            decode(&default_logo("Moth trap", "ab12", size)).dimensions(),
            (size, size)
        );
    }
}

#[test]
fn unsynced_placeholder_shows_its_drawing() {
    let img = decode(placeholder_unsynced());
    let dark = img.pixels().filter(|p| p.0[0] < 120).count();
    assert!(dark > 500, "the words are drawn: {dark}");
}
