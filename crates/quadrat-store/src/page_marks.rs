//! Where the export's next page starts, remembered so a client walking the pages in order does
//! not make the engine skip every earlier row again (`OFFSET n` steps through n index entries:
//! the last pages of a large form cost more than reading them).
//!
//! After a page of a selection sorted by `created_at` or `uploaded_at` (then `id`) is read, the
//! sort key of its last row is kept as the mark of the next offset, with the data version the
//! page was read at: the project's changes-feed counter (`change_counters.last_seq`), which
//! every write of an entry or branch entry moves in its own transaction. A page at a marked
//! offset is read with a seek past the mark instead, and its statement reads the counter in the
//! same snapshot as its rows: only when the counter is still the mark's (no row was added,
//! edited or deleted since) is the page the one `OFFSET` would have read; otherwise it is read
//! again with `OFFSET` and the selection's marks are dropped.

use std::collections::HashMap;
use std::sync::Mutex;

/// Selections remembered at most (the least recently used goes first).
const SELECTIONS: usize = 64;
/// Marks kept per selection at most (a walk of 1,000,000 entries at `per_page=1000` needs
/// 1,000).
const MARKS: usize = 4096;

/// The row a page starts after: its sort key and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    pub key: i64,
    pub id: i64,
    /// The data version the mark was read at.
    pub version: i64,
}

#[derive(Debug, Default)]
pub(crate) struct PageMarks {
    inner: Mutex<Selections>,
}

#[derive(Debug, Default)]
struct Selections {
    by_selection: HashMap<String, (HashMap<i64, Mark>, u64)>,
    clock: u64,
}

impl PageMarks {
    /// The mark of `offset` in `selection` (its query text and arguments).
    pub(crate) fn get(&self, selection: &str, offset: i64) -> Option<Mark> {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.clock += 1;
        let clock = s.clock;
        let (marks, used) = s.by_selection.get_mut(selection)?;
        *used = clock;
        marks.get(&offset).copied()
    }

    /// Keeps `mark` for `offset`; marks of another version are dropped first.
    pub(crate) fn put(&self, selection: &str, offset: i64, mark: Mark) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.clock += 1;
        let clock = s.clock;
        if !s.by_selection.contains_key(selection) && s.by_selection.len() >= SELECTIONS {
            let oldest = s
                .by_selection
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                s.by_selection.remove(&oldest);
            }
        }
        let (marks, used) = s
            .by_selection
            .entry(selection.to_string())
            .or_insert_with(|| (HashMap::new(), clock));
        *used = clock;
        if marks
            .values()
            .next()
            .is_some_and(|m| m.version != mark.version)
            || marks.len() >= MARKS
        {
            marks.clear();
        }
        marks.insert(offset, mark);
    }

    /// Forgets a selection whose data changed.
    pub(crate) fn forget(&self, selection: &str) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.by_selection.remove(selection);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_of_an_older_version_go_when_a_newer_one_comes() {
        let marks = PageMarks::default();
        let at = |version| Mark {
            key: 1,
            id: 2,
            version,
        };
        marks.put("s", 1000, at(7));
        marks.put("s", 2000, at(7));
        assert_eq!(marks.get("s", 1000), Some(at(7)));
        assert_eq!(marks.get("t", 1000), None);
        marks.put("s", 3000, at(8));
        assert_eq!(marks.get("s", 1000), None);
        assert_eq!(marks.get("s", 3000), Some(at(8)));
        marks.forget("s");
        assert_eq!(marks.get("s", 3000), None);
    }

    #[test]
    fn selections_are_bounded() {
        let marks = PageMarks::default();
        let mark = Mark {
            key: 0,
            id: 0,
            version: 1,
        };
        for i in 0..=SELECTIONS {
            marks.put(&i.to_string(), 0, mark);
        }
        let held = marks.inner.lock().unwrap().by_selection.len();
        assert_eq!(held, SELECTIONS);
        assert_eq!(marks.get("0", 0), None, "the least recently used went");
        assert_eq!(marks.get(&SELECTIONS.to_string(), 0), Some(mark));
    }
}
