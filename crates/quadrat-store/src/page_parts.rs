//! An export page read and rendered in parts, one per core. Rendering a row (reading its
//! `entry_data`, writing its answers) costs more than reading it, and a client reading page
//! after page would leave the other cores idle. On SQLite each part is read on a connection of
//! its own and each row rendered as soon as it is read, from SQLite's own buffers, so nothing of
//! it is copied out and each part's reading overlaps the others' rendering (`export.rs`,
//! `Store::read_in_parts`). Elsewhere the page's rows are read first, then rendered in the same
//! parts ([`RenderedPage::from_rows`]). Either way the parts are joined in order, so the bytes
//! are the ones a single pass writes.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

use quadrat_core::export::keyset::SortKey;
use quadrat_core::export::params::SortBy;

use crate::export::{ExportRow, ExportRowRef, row_key};

/// Below this many rows a part is not worth a thread (a thread costs tens of microseconds, a row
/// a few).
const MIN_ROWS_PER_PART: i64 = 250;

/// Writes the rows of one part of a page, each as it is read, on the thread that reads them.
/// The writers of a page come from one function given the part's size in rows (at most).
pub trait PartWriter: Send + 'static {
    fn row(&mut self, row: &ExportRowRef<'_>);
    /// The key of the entries rendered ahead (`entry_renders.plan_key`) this writer takes as
    /// its own rows' bytes ([`PartWriter::rendered`]); `None`: it writes every row itself.
    fn ahead_key(&self) -> Option<i64>;
    /// A row rendered ahead under [`PartWriter::ahead_key`], as it was stored.
    fn rendered(&mut self, stored: &str);
    /// A row read for [`PartWriter::ahead_key`] had no object of that key; its row is written
    /// next ([`PartWriter::row`]).
    fn missed(&mut self);
    /// The part's bytes.
    fn into_bytes(self) -> Vec<u8>;
}

/// A page written by [`PartWriter`]s: each part's row count and bytes, in order, and the
/// sort keys of the page's first and last rows (where its neighbours start).
#[derive(Debug, Default)]
pub struct RenderedPage {
    pub parts: Vec<(usize, Vec<u8>)>,
    pub first: Option<SortKey>,
    pub last: Option<SortKey>,
}

impl RenderedPage {
    /// Rows already read, written in parts as a page read in parts is (`part_sizes`: one per
    /// core), all but the first on scoped threads of their own.
    pub fn from_rows<W: PartWriter>(
        rows: Vec<ExportRow>,
        sort: SortBy,
        writer: &(dyn Fn(usize) -> W + Sync),
    ) -> RenderedPage {
        let write = |part: &[ExportRow]| {
            let mut w = writer(part.len());
            for row in part {
                w.row(&row.as_ref());
            }
            (part.len(), w.into_bytes())
        };
        let mut slices = Vec::new();
        let mut rest = rows.as_slice();
        for size in part_sizes(rows.len() as i64) {
            let (part, after) = rest.split_at(size as usize);
            slices.push(part);
            rest = after;
        }
        let parts = match slices.as_slice() {
            [] => Vec::new(),
            [only] => vec![write(only)],
            [head, others @ ..] => std::thread::scope(|scope| {
                let write = &write;
                let handles: Vec<_> = others
                    .iter()
                    .map(|&part| (part, scope.spawn(move || write(part))))
                    .collect();
                let mut out = vec![write(head)];
                // A part whose thread panicked is written again here, where a panic is the
                // caller's.
                for (part, handle) in handles {
                    out.push(handle.join().unwrap_or_else(|_| write(part)));
                }
                out
            }),
        };
        RenderedPage {
            parts,
            first: rows.first().map(|r| row_key(&r.as_ref(), sort)),
            last: rows.last().map(|r| row_key(&r.as_ref(), sort)),
        }
    }

    pub fn rows(&self) -> usize {
        self.parts.iter().map(|(n, _)| n).sum()
    }
}

fn cores() -> i64 {
    static CORES: OnceLock<i64> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(NonZeroUsize::get)
            .unwrap_or(1)
            .min(8) as i64
    })
}

/// The sizes of the parts `rows` rows are written in: one when they are few or the machine has
/// one core, else one per core, all full but the last.
pub(crate) fn part_sizes(rows: i64) -> Vec<i64> {
    part_sizes_for(rows, cores())
}

fn part_sizes_for(rows: i64, cores: i64) -> Vec<i64> {
    let parts = cores.min(rows / MIN_ROWS_PER_PART).max(1);
    let size = (rows.max(0) + parts - 1) / parts;
    let mut sizes = Vec::with_capacity(parts as usize);
    let mut left = rows.max(0);
    while left > 0 {
        sizes.push(size.min(left));
        left -= size;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_full_but_the_last_and_cover_the_rows() {
        assert_eq!(part_sizes_for(0, 2), Vec::<i64>::new());
        assert_eq!(part_sizes_for(1, 2), vec![1]);
        assert_eq!(part_sizes_for(499, 2), vec![499]);
        assert_eq!(part_sizes_for(500, 2), vec![250, 250]);
        assert_eq!(part_sizes_for(1001, 2), vec![501, 500]);
        assert_eq!(part_sizes_for(1000, 1), vec![1000]);
        assert_eq!(part_sizes_for(1000, 8), vec![250, 250, 250, 250]);
        for rows in [3, 250, 777, 4099] {
            for cores in 1..=8 {
                let sizes = part_sizes_for(rows, cores);
                assert_eq!(sizes.iter().sum::<i64>(), rows);
                assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
            }
        }
    }

    struct Ids(Vec<u8>);

    impl PartWriter for Ids {
        fn row(&mut self, row: &ExportRowRef<'_>) {
            self.0.extend_from_slice(format!("{},", row.id).as_bytes());
        }
        fn ahead_key(&self) -> Option<i64> {
            None
        }
        fn rendered(&mut self, stored: &str) {
            self.0.extend_from_slice(stored.as_bytes());
        }
        fn missed(&mut self) {}
        fn into_bytes(self) -> Vec<u8> {
            self.0
        }
    }

    #[test]
    fn parts_join_to_the_single_pass() {
        for n in [0, 1, 249, 250, 499, 500, 1000, 1001, 4099] {
            let rows: Vec<ExportRow> = (0..n)
                .map(|id| ExportRow {
                    id,
                    ..ExportRow::default()
                })
                .collect();
            let page =
                RenderedPage::from_rows(rows.clone(), SortBy::CreatedAt, &|_| Ids(Vec::new()));
            assert_eq!(page.rows(), rows.len());
            let joined: Vec<u8> = page.parts.into_iter().flat_map(|p| p.1).collect();
            let single: String = (0..n).map(|id| format!("{id},")).collect();
            assert_eq!(joined, single.into_bytes(), "{n}");
            assert_eq!(page.first.map(|k| k.id), (n > 0).then_some(0));
            assert_eq!(page.last.map(|k| k.id), (n > 0).then(|| n - 1));
        }
    }
}
