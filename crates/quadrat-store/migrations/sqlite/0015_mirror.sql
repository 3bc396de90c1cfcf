-- 0015: `quadrat mirror` (docs/protocol.md §18). One row per mirrored project: where it comes
-- from, whether it takes uploads (`unlocked`), the run lease (one run per project at a time)
-- and the resumable state of the last run (stream marks or the remote's changes cursor, the
-- media queue) as a JSON document the mirror alone reads.
CREATE TABLE mirror_sources (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    remote_base TEXT NOT NULL,
    remote_slug TEXT NOT NULL,
    remote_ref TEXT NOT NULL,
    client_id TEXT NOT NULL DEFAULT '',
    unlocked BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    lease_holder TEXT NOT NULL DEFAULT '',
    last_run BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX mirror_sources_remote_idx ON mirror_sources (remote_base, remote_ref);
