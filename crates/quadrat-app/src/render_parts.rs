//! A large export page rendered in parts, one per core, on scoped threads. Rendering (reading
//! each row's `entry_data`, writing its answers) is most of a page's time, and a client reading
//! page after page leaves the other cores idle; the parts are joined in order, so the bytes are
//! the ones a single pass writes.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// Below this many rows a part is not worth a thread (a thread costs tens of microseconds, a row
/// a few).
const MIN_ROWS_PER_PART: usize = 250;

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(NonZeroUsize::get)
            .unwrap_or(1)
            .min(8)
    })
}

/// `render` of consecutive slices of `rows`, in order, each with its slice's length: one slice
/// when the page is small or the machine has one core, else one per core, all but the first on
/// threads of their own.
pub(crate) fn in_parts<R, F>(rows: &[R], render: F) -> Vec<(usize, Vec<u8>)>
where
    R: Sync,
    F: Fn(&[R]) -> Vec<u8> + Sync,
{
    let parts = cores().min(rows.len() / MIN_ROWS_PER_PART).max(1);
    if parts == 1 {
        return vec![(rows.len(), render(rows))];
    }
    let slices: Vec<&[R]> = rows.chunks(rows.len().div_ceil(parts)).collect();
    std::thread::scope(|scope| {
        let render = &render;
        let others: Vec<_> = slices[1..]
            .iter()
            .map(|&slice| (slice, scope.spawn(move || render(slice))))
            .collect();
        let mut out = Vec::with_capacity(slices.len());
        out.push((slices[0].len(), render(slices[0])));
        // A part whose thread panicked is rendered again here, where a panic is the caller's.
        for (slice, handle) in others {
            out.push((slice.len(), handle.join().unwrap_or_else(|_| render(slice))));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_join_to_the_single_pass() {
        let render = |rows: &[u32]| -> Vec<u8> {
            rows.iter()
                .flat_map(|r| r.to_string().into_bytes())
                .collect()
        };
        for n in [0, 1, 249, 250, 499, 500, 1000, 1001, 4099] {
            let rows: Vec<u32> = (0..n).collect();
            let parts = in_parts(&rows, render);
            assert_eq!(parts.iter().map(|p| p.0).sum::<usize>(), rows.len());
            let joined: Vec<u8> = parts.into_iter().flat_map(|p| p.1).collect();
            assert_eq!(joined, render(&rows), "{n}");
        }
    }
}
