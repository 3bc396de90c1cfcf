//! Times the upload path's pixel work on a 4000x3000 camera-sized JPEG (generated here):
//! `normalise_photo` (decode, cover to 1024x768, encode q70) and `entry_thumb` of its result.
//! Run with `cargo bench -p quadrat-imaging`; prints the median and the spread of the runs, and
//! the median time on a CPU.

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
    // The share of decoding alone, for comparison.
    report("decode only 4000x3000 (image crate)", || {
        image::load_from_memory(black_box(&input))
            .map(|i| i.width() as usize)
            .map_err(|e| quadrat_imaging::ImageError::Corrupt(e.to_string()))
    });
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

/// Wall time, and this thread's time on a CPU (Linux's schedstat): on a busy machine the wall
/// time includes waiting for a core, the CPU time does not.
fn report(what: &str, mut f: impl FnMut() -> Result<usize, quadrat_imaging::ImageError>) {
    let mut wall = Vec::with_capacity(RUNS);
    let mut cpu = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), cpu_time());
        black_box(f().expect("the benchmark's image is valid"));
        wall.push(start.elapsed());
        if let (Some(a), Some(b)) = (cpu_start, cpu_time()) {
            cpu.push(b.saturating_sub(a));
        }
    }
    wall.sort();
    cpu.sort();
    let cpu = cpu
        .get(cpu.len() / 2)
        .map_or("n/a".to_owned(), |d| format!("{:.1} ms", ms(*d)));
    println!(
        "{what}: median {:.1} ms wall (min {:.1}, max {:.1}), {cpu} on CPU",
        ms(wall[RUNS / 2]),
        ms(wall[0]),
        ms(wall[RUNS - 1])
    );
}

fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
