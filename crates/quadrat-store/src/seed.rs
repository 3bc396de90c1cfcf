//! Bulk seeding for benchmarks only (feature `test-support`): many copies of one stored entry,
//! written in large batches without the upload pipeline, with the form's counters set to match.

use crate::{BeginWrite, Result, Store, with_pool};

/// Rows per INSERT statement and per transaction.
const ROWS_PER_STATEMENT: usize = 200;
const ROWS_PER_TX: usize = 20_000;

impl Store {
    /// Inserts `count` top-form entries of `form_ref`: `entry_data` is the stored JSON of one
    /// entry with its uuid written as `{uuid}`; entry `i` gets a fresh uuid, `created_at =
    /// first_created_at + i * 1000` and title `"{title} {i}"`. For benchmarks, not for data.
    pub async fn seed_entries_for_bench(
        &self,
        project_id: i64,
        form_ref: &str,
        entry_data: &str,
        title: &str,
        count: usize,
        first_created_at: i64,
    ) -> Result<()> {
        let statement = |rows: usize| {
            let mut sql = String::from(
                "INSERT INTO entries \
                 (project_id, uuid, form_ref, created_at, uploaded_at, title, entry_data) VALUES ",
            );
            for r in 0..rows {
                let b = r * 7;
                if r > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                ));
            }
            sql
        };
        let mut done = 0;
        while done < count {
            let tx_end = (done + ROWS_PER_TX).min(count);
            with_pool!(self, write, |pool| {
                let mut tx = pool.begin_write().await?;
                while done < tx_end {
                    let n = ROWS_PER_STATEMENT.min(tx_end - done);
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(statement(n)));
                    for i in done..done + n {
                        let uuid = uuid::Uuid::new_v4().to_string();
                        let at = first_created_at + i as i64 * 1000;
                        q = q
                            .bind(project_id)
                            .bind(uuid.clone())
                            .bind(form_ref.to_string())
                            .bind(at)
                            .bind(at)
                            .bind(format!("{title} {i}"))
                            .bind(entry_data.replace("{uuid}", &uuid));
                    }
                    q.execute(&mut *tx).await?;
                    done += n;
                }
                tx.commit().await?;
            });
        }
        let last = first_created_at + (count as i64 - 1) * 1000;
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO entry_counters (project_id, form_ref, branch_ref, entry_count, \
                 first_created_at, last_created_at, first_uploaded_at, last_uploaded_at) \
                 VALUES ($1, $2, '', $3, $4, $5, $4, $5) \
                 ON CONFLICT (project_id, form_ref, branch_ref) DO UPDATE SET \
                 entry_count = entry_counters.entry_count + $3, \
                 first_created_at = CASE WHEN entry_counters.first_created_at < $4 \
                     THEN entry_counters.first_created_at ELSE $4 END, \
                 last_created_at = CASE WHEN entry_counters.last_created_at > $5 \
                     THEN entry_counters.last_created_at ELSE $5 END, \
                 first_uploaded_at = CASE WHEN entry_counters.first_uploaded_at < $4 \
                     THEN entry_counters.first_uploaded_at ELSE $4 END, \
                 last_uploaded_at = CASE WHEN entry_counters.last_uploaded_at > $5 \
                     THEN entry_counters.last_uploaded_at ELSE $5 END",
            )
            .bind(project_id)
            .bind(form_ref)
            .bind(count as i64)
            .bind(first_created_at)
            .bind(last)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
