//! How the export reads a title search (a `LIKE '%…%'`, `%` and `_` wildcards, `\` escaping)
//! through the trigram indexes of migration 0014.
//!
//! PostgreSQL's pg_trgm index answers `ILIKE` itself (with its own recheck), so the planner
//! only needs the plain condition. On SQLite the FTS5 trigram tables are queried apart: a
//! phrase per literal run of three characters or more gives candidate ids (case folded, so a
//! superset of LIKE's matches), and each candidate is still checked with the LIKE itself. How
//! many candidates there are decides the plan: few, and the rows are read by id; many, and the
//! sort's index is walked with the LIKE on each row, which stops as soon as a page is full.

use crate::{Engine, Result, Store, with_pool};

/// Candidates up to which a search reads its rows by id (then sorts them): at most this many
/// row reads. Beyond it the matches are dense enough for a walk of the sort's index to fill a
/// page after a few thousand rows.
pub(crate) const SPARSE_CANDIDATES: i64 = 10_000;

/// The plan of a selection's title condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TitlePlan {
    /// No title filter.
    None,
    /// The LIKE alone: PostgreSQL (its index serves it), or a pattern without three literal
    /// characters in a row (no trigram to look up).
    Like,
    /// SQLite, fewer than [`SPARSE_CANDIDATES`] candidates: ids from the FTS5 query.
    Sparse { fts_query: String },
    /// SQLite, more: the LIKE on each row; a capped count still goes through the candidates.
    Dense { fts_query: String },
}

/// The FTS5 table over a table's titles.
pub(crate) fn fts_table(table: &str) -> &'static str {
    if table == "branch_entries" {
        "branch_entries_title_search"
    } else {
        "entries_title_search"
    }
}

/// The literal runs of a LIKE pattern (`%`, `_` wildcards, `\` escaping the next character)
/// that are three characters or longer, as an FTS5 query of quoted phrases joined by `AND`;
/// `None` when there is none, or when the pattern ends with a lone `\` (left to the LIKE).
pub(crate) fn trigram_query(pattern: &str) -> Option<String> {
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut chars = pattern.chars();
    let mut end_run = |run: &mut String| {
        if run.chars().count() >= 3 {
            runs.push(std::mem::take(run));
        } else {
            run.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => end_run(&mut run),
            '\\' => run.push(chars.next()?),
            c => run.push(c),
        }
    }
    end_run(&mut run);
    if runs.is_empty() {
        return None;
    }
    // A phrase is a string in double quotes, a quote inside doubled: no FTS5 syntax applies.
    let phrases: Vec<String> = runs
        .iter()
        .map(|r| format!("\"{}\"", r.replace('"', "\"\"")))
        .collect();
    Some(phrases.join(" AND "))
}

impl Store {
    /// The plan of `title` (the pattern without its surrounding `%`) over `table`.
    pub(crate) async fn title_plan(&self, table: &str, title: Option<&str>) -> Result<TitlePlan> {
        let Some(title) = title else {
            return Ok(TitlePlan::None);
        };
        if self.engine() == Engine::Postgres {
            return Ok(TitlePlan::Like);
        }
        let Some(fts_query) = trigram_query(title) else {
            return Ok(TitlePlan::Like);
        };
        let fts = fts_table(table);
        // The candidates counted up to the bound only: a few ms even for a million.
        let sql =
            format!("SELECT COUNT(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH $1 LIMIT $2)");
        let candidates: i64 = with_pool!(self, read, |pool| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&fts_query)
                .bind(SPARSE_CANDIDATES)
                .fetch_one(pool)
                .await?
        });
        Ok(if candidates < SPARSE_CANDIDATES {
            TitlePlan::Sparse { fts_query }
        } else {
            TitlePlan::Dense { fts_query }
        })
    }

    /// The uuids of a form's entries whose title matches `title` as the export's LIKE does,
    /// by that LIKE alone on every row (no index can serve `title || ''`), sorted: what a
    /// test compares the indexed search with (feature `test-support`).
    #[cfg(feature = "test-support")]
    pub async fn titles_like_by_scan(
        &self,
        project_id: i64,
        form_ref: &str,
        title: &str,
    ) -> Result<Vec<String>> {
        let like = match self.engine() {
            Engine::Postgres => "(title || '') ILIKE $3",
            Engine::Sqlite => "(title || '') LIKE $3 ESCAPE '\\'",
        };
        let sql = format!(
            "SELECT uuid FROM entries WHERE project_id = $1 AND form_ref = $2 AND {like} \
             ORDER BY uuid"
        );
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(project_id)
                .bind(form_ref)
                .bind(format!("%{title}%"))
                .fetch_all(pool)
                .await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::trigram_query;

    #[test]
    fn literal_runs_of_three_or_more_become_phrases() {
        assert_eq!(trigram_query("Site 99").as_deref(), Some("\"Site 99\""));
        assert_eq!(trigram_query("ab"), None);
        assert_eq!(trigram_query("ab%cd_ef"), None);
        assert_eq!(
            trigram_query("abc%de_fgh").as_deref(),
            Some("\"abc\" AND \"fgh\"")
        );
        // An escaped wildcard is a literal character of its run.
        assert_eq!(trigram_query("a\\%b").as_deref(), Some("\"a%b\""));
        assert_eq!(trigram_query("ab\\_").as_deref(), Some("\"ab_\""));
        // Quotes are doubled inside a phrase; FTS5 operators are plain text there.
        assert_eq!(
            trigram_query("say \"hi\" OR NOT").as_deref(),
            Some("\"say \"\"hi\"\" OR NOT\"")
        );
        // Characters, not bytes.
        assert_eq!(trigram_query("été").as_deref(), Some("\"été\""));
        assert_eq!(trigram_query("é"), None);
        assert_eq!(trigram_query("abc\\"), None);
    }
}
