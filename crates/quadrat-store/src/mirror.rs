//! `mirror_sources`: where a mirrored project comes from, whether it takes uploads, the run
//! lease and the mirror's resumable state (an opaque JSON document).

use crate::entries::with_tx;
use crate::{BeginWrite, EntryTx, Result, Store, with_pool};

/// A mirrored project's source row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MirrorSource {
    pub project_id: i64,
    /// The remote server's base URL (`https://five.epicollect.net`).
    pub remote_base: String,
    pub remote_slug: String,
    pub remote_ref: String,
    pub client_id: String,
    /// 1 when the project takes uploads like any other (`quadrat mirror --unlocked`).
    pub unlocked: i64,
    pub last_run: i64,
    pub state: String,
}

const SOURCE_COLUMNS: &str =
    "project_id, remote_base, remote_slug, remote_ref, client_id, unlocked, last_run, state";

impl Store {
    pub async fn mirror_source(&self, project_id: i64) -> Result<Option<MirrorSource>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM mirror_sources WHERE project_id = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The local project mirroring `remote_ref` of `remote_base`, if any.
    pub async fn mirror_of_remote(
        &self,
        remote_base: &str,
        remote_ref: &str,
    ) -> Result<Option<MirrorSource>> {
        let sql = format!(
            "SELECT {SOURCE_COLUMNS} FROM mirror_sources WHERE remote_base = $1 AND remote_ref = $2"
        );
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(remote_base)
                .bind(remote_ref)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Records the project as a mirror of `remote_ref` (first run), or updates its source.
    pub async fn save_mirror_source(&self, s: &MirrorSource) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO mirror_sources (project_id, remote_base, remote_slug, remote_ref, \
                 client_id, unlocked, last_run, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (project_id) DO UPDATE SET remote_base = excluded.remote_base, \
                 remote_slug = excluded.remote_slug, remote_ref = excluded.remote_ref, \
                 client_id = excluded.client_id, unlocked = excluded.unlocked",
            )
            .bind(s.project_id)
            .bind(&s.remote_base)
            .bind(&s.remote_slug)
            .bind(&s.remote_ref)
            .bind(&s.client_id)
            .bind(s.unlocked)
            .bind(s.last_run)
            .bind(&s.state)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stores the mirror's state (a checkpoint) and, when `finished_at` is set, the end of a run.
    pub async fn save_mirror_state(
        &self,
        project_id: i64,
        state: &str,
        finished_at: Option<i64>,
    ) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE mirror_sources SET state = $1, last_run = COALESCE($2, last_run) \
                 WHERE project_id = $3",
            )
            .bind(state)
            .bind(finished_at)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Takes the run lease of a mirrored project until `until` (unix ms) for `holder`: false
    /// while another holder's lease has not expired. Renewing one's own lease succeeds.
    pub async fn take_mirror_lease(
        &self,
        project_id: i64,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE mirror_sources SET lease_until = $1, lease_holder = $2 \
                 WHERE project_id = $3 AND (lease_until < $4 OR lease_holder = $2)",
            )
            .bind(until)
            .bind(holder)
            .bind(project_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The current lease holder and its end, when a run holds one.
    pub async fn mirror_lease(&self, project_id: i64) -> Result<Option<(String, i64)>> {
        with_pool!(self, read, |pool| {
            let row: Option<(String, i64)> = sqlx::query_as(
                "SELECT lease_holder, lease_until FROM mirror_sources WHERE project_id = $1 \
                 AND lease_holder <> ''",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await?;
            Ok(row)
        })
    }

    /// Takes over the lease of `stale` (a run known to be dead), if it still holds it.
    pub async fn steal_mirror_lease(
        &self,
        project_id: i64,
        stale: &str,
        holder: &str,
        until: i64,
    ) -> Result<bool> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE mirror_sources SET lease_until = $1, lease_holder = $2 \
                 WHERE project_id = $3 AND lease_holder = $4",
            )
            .bind(until)
            .bind(holder)
            .bind(project_id)
            .bind(stale)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }

    pub async fn release_mirror_lease(&self, project_id: i64, holder: &str) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE mirror_sources SET lease_until = 0, lease_holder = '' \
                 WHERE project_id = $1 AND lease_holder = $2",
            )
            .bind(project_id)
            .bind(holder)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

impl Store {
    /// The uuids of a form's entries (`branch_ref` `None`) or of one branch's entries: what a
    /// mirror compares with the remote's to find deletions.
    pub async fn record_uuids(
        &self,
        project_id: i64,
        form_ref: &str,
        branch_ref: Option<&str>,
    ) -> Result<Vec<String>> {
        with_pool!(self, read, |pool| {
            Ok(match branch_ref {
                None => {
                    sqlx::query_scalar(
                        "SELECT uuid FROM entries WHERE project_id = $1 AND form_ref = $2",
                    )
                    .bind(project_id)
                    .bind(form_ref)
                    .fetch_all(pool)
                    .await?
                }
                Some(branch_ref) => {
                    sqlx::query_scalar(
                        "SELECT uuid FROM branch_entries WHERE project_id = $1 AND \
                         owner_input_ref = $2",
                    )
                    .bind(project_id)
                    .bind(branch_ref)
                    .fetch_all(pool)
                    .await?
                }
            })
        })
    }
}

impl EntryTx {
    /// The stored `uploaded_at` of this project's entry (or branch entry) `uuid`: a mirrored
    /// row whose remote `uploaded_at` is the same is not written again.
    pub async fn record_uploaded_at(&mut self, uuid: &str, branch: bool) -> Result<Option<i64>> {
        let project_id = self.project_id();
        let sql = if branch {
            "SELECT uploaded_at FROM branch_entries WHERE uuid = $1 AND project_id = $2"
        } else {
            "SELECT uploaded_at FROM entries WHERE uuid = $1 AND project_id = $2"
        };
        with_tx!(self, |conn| {
            Ok(sqlx::query_scalar(sql)
                .bind(uuid)
                .bind(project_id)
                .fetch_optional(&mut *conn)
                .await?)
        })
    }
}
