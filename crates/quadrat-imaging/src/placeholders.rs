//! Our own drawn stand-ins (docs/protocol.md §15.1, decision 9): "not synced yet" for any
//! missing photo, a generic picture for a missing logo, and a project's initials as its default
//! logo. Each is drawn once and kept, so every call answers the same bytes.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::cover::jpeg;
use crate::draw::{Colour, Text, hsl, in_circle, in_round_rect, in_triangle, render};

/// Sides are clamped to this, so no caller can ask for a huge drawing.
const MAX_SIDE: u32 = 2048;
/// Sizes kept drawn (the routes ask for two or three); more are drawn each time.
const MAX_CACHED: usize = 16;

const BACKGROUND: Colour = [0xE4, 0xE7, 0xEB];
const SHAPE: Colour = [0x9A, 0xA3, 0xAD];
const INK: Colour = [0x4B, 0x55, 0x63];

/// 512x512: a camera and "NOT SYNCED YET".
pub(crate) fn unsynced() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let text = Text::centred("NOT SYNCED YET", 256.0, 372.0, 4.0);
        let img = render(512, 512, |x, y| {
            if text.covers(x, y) {
                return INK;
            }
            let body = in_round_rect(x, y, [146.0, 150.0, 366.0, 300.0], 18.0);
            let hump = in_round_rect(x, y, [206.0, 124.0, 296.0, 170.0], 10.0);
            if in_circle(x, y, 256.0, 225.0, 34.0) {
                SHAPE
            } else if in_circle(x, y, 256.0, 225.0, 50.0) {
                BACKGROUND
            } else if body || hump {
                SHAPE
            } else {
                BACKGROUND
            }
        });
        // Encoding an in-memory buffer of a size we chose cannot fail.
        jpeg(&img, 70).unwrap_or_default()
    })
}

/// A frame holding a sun and two hills, drawn at the size asked (never scaled).
pub(crate) fn logo(width: u32, height: u32) -> Vec<u8> {
    type Drawn = Mutex<HashMap<(u32, u32), Vec<u8>>>;
    static CACHE: OnceLock<Drawn> = OnceLock::new();
    let (w, h) = (width.clamp(1, MAX_SIDE), height.clamp(1, MAX_SIDE));
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = lock(cache).get(&(w, h)) {
        return hit.clone();
    }
    let bytes = draw_logo(w, h);
    let mut map = lock(cache);
    if map.len() < MAX_CACHED {
        // A racing caller drew the same bytes; keep whichever came first.
        return map.entry((w, h)).or_insert(bytes).clone();
    }
    bytes
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map holds finished values only, so a panic elsewhere leaves it consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn draw_logo(w: u32, h: u32) -> Vec<u8> {
    let (fw, fh) = (w as f32, h as f32);
    let s = fw.min(fh);
    let frame = [
        fw / 2.0 - 0.32 * s,
        fh / 2.0 - 0.26 * s,
        fw / 2.0 + 0.32 * s,
        fh / 2.0 + 0.26 * s,
    ];
    let inner = [
        frame[0] + 0.04 * s,
        frame[1] + 0.04 * s,
        frame[2] - 0.04 * s,
        frame[3] - 0.04 * s,
    ];
    let base = inner[3];
    let hill1 = [
        (inner[0], base),
        (inner[0] + 0.22 * s, inner[1] + 0.14 * s),
        (inner[0] + 0.44 * s, base),
    ];
    let hill2 = [
        (inner[0] + 0.26 * s, base),
        (inner[2] - 0.12 * s, inner[1] + 0.22 * s),
        (inner[2] + 0.10 * s, base),
    ];
    let sun = (inner[2] - 0.12 * s, inner[1] + 0.11 * s, 0.06 * s);
    let img = render(w, h, |x, y| {
        if !in_round_rect(x, y, frame, 0.03 * s) {
            return BACKGROUND;
        }
        if !in_round_rect(x, y, inner, 0.01 * s) {
            return SHAPE;
        }
        if in_triangle(x, y, hill1) || in_triangle(x, y, hill2) {
            INK
        } else if in_circle(x, y, sun.0, sun.1, sun.2) {
            SHAPE
        } else {
            BACKGROUND
        }
    });
    jpeg(&img, 80).unwrap_or_default()
}

/// `size` x `size`: the project's initials in white on a colour derived from its ref.
pub(crate) fn initials_logo(project_name: &str, project_ref: &str, size: u32) -> Vec<u8> {
    let size = size.clamp(1, MAX_SIDE);
    let letters = initials(project_name);
    let background = ref_colour(project_ref);
    let n = letters.chars().count().max(1) as f32;
    // The letters take about half the height, and never more than 70% of the width.
    let cell = f32::min(size as f32 * 0.5 / 7.0, size as f32 * 0.7 / (n * 6.0 - 1.0));
    let centre = size as f32 / 2.0;
    let text = Text::centred(&letters, centre, centre, cell);
    let img = render(size, size, |x, y| {
        if text.covers(x, y) {
            [0xFF; 3]
        } else {
            background
        }
    });
    jpeg(&img, 90).unwrap_or_default()
}

/// Up to two letters: the first of each of the name's first two words (transliterated to
/// ASCII), or `?` for a name without letters or digits.
pub(crate) fn initials(name: &str) -> String {
    let ascii = deunicode::deunicode(name);
    let letters: String = ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .filter_map(|w| w.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

/// A stable, mid-dark colour (white letters stay readable) from the ref's FNV-1a hash.
pub(crate) fn ref_colour(project_ref: &str) -> Colour {
    let hash = project_ref.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let hue = (hash % 360) as f32;
    let lightness = 0.36 + ((hash >> 16) % 10) as f32 / 100.0;
    hsl(hue, 0.55, lightness)
}
