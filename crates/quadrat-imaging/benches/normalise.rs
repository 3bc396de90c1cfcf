//! Times the upload path's pixel work on a 4000x3000 camera-sized JPEG (generated here):
//! `normalise_photo` (decode, cover to 1024x768, encode q70) and `entry_thumb` of its result.
//! Run with `cargo bench -p quadrat-imaging`; prints the median and the spread of the runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use image::{ImageFormat, Rgb, RgbImage};

const RUNS: usize = 15;

fn main() {
    // Smooth gradients with some texture, so the JPEG is camera-like in size rather than flat.
    let img = RgbImage::from_fn(4000, 3000, |x, y| {
        let t = ((x ^ y) & 15) as u8;
        Rgb([
            (x / 16) as u8 ^ t,
            (y / 12) as u8,
            ((x + y) / 28) as u8 ^ (t << 2),
        ])
    });
    let mut input = std::io::Cursor::new(Vec::new());
    img.write_to(&mut input, ImageFormat::Jpeg)
        .expect("encoding the input");
    let input = input.into_inner();
    println!(
        "input: 4000x3000 JPEG, {} KB; {RUNS} runs each",
        input.len() / 1024
    );

    let normalised = quadrat_imaging::normalise_photo(&input).expect("normalising");
    report("normalise_photo 4000x3000 -> 1024x768", || {
        quadrat_imaging::normalise_photo(black_box(&input)).map(|o| o.len())
    });
    report("entry_thumb 1024x768 -> 100x100", || {
        quadrat_imaging::entry_thumb(black_box(&normalised)).map(|o| o.len())
    });
    report("normalise_photo + entry_thumb", || {
        let photo = quadrat_imaging::normalise_photo(black_box(&input))?;
        quadrat_imaging::entry_thumb(&photo).map(|o| o.len())
    });
}

fn report(what: &str, mut f: impl FnMut() -> Result<usize, quadrat_imaging::ImageError>) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f().expect("the benchmark's image is valid"));
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{what}: median {:.1} ms (min {:.1}, max {:.1})",
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
