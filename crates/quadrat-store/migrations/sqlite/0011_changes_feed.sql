-- 0011: the changes feed (docs/protocol.md §17). Every exported row carries a per-project
-- sequence number taken from its project's counter row inside the write's own transaction, so
-- numbers follow commit order; deletions leave tombstones, definition/mapping/access changes
-- leave project events, all numbered from the same counter.
CREATE TABLE change_counters (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    epoch TEXT NOT NULL,
    tombstone_floor BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE change_tombstones (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    change_seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    uuid TEXT NOT NULL,
    form_ref TEXT NOT NULL,
    branch_ref TEXT NOT NULL DEFAULT '',
    parent_form_ref TEXT NOT NULL DEFAULT '',
    relation_uuid TEXT NOT NULL DEFAULT '',
    deleted_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, change_seq)
);
CREATE INDEX change_tombstones_project_id_uuid_idx ON change_tombstones (project_id, uuid);
CREATE INDEX change_tombstones_deleted_at_idx ON change_tombstones (deleted_at);

CREATE TABLE change_project_events (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    change_seq BIGINT NOT NULL,
    reason TEXT NOT NULL,
    structure_last_updated TEXT NOT NULL,
    access TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (project_id, change_seq)
);

ALTER TABLE entries ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE branch_entries ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;

-- Backfill: per project, entries and branch entries together by (uploaded_at, created_at, id).
CREATE TABLE change_backfill AS
    SELECT kind, id, ROW_NUMBER() OVER (
        PARTITION BY project_id ORDER BY uploaded_at, created_at, kind, id) AS seq
    FROM (SELECT 'e' AS kind, id, project_id, uploaded_at, created_at FROM entries
          UNION ALL
          SELECT 'b' AS kind, id, project_id, uploaded_at, created_at FROM branch_entries) AS rows_;
CREATE INDEX change_backfill_idx ON change_backfill (kind, id);
UPDATE entries SET change_seq = (
    SELECT seq FROM change_backfill c WHERE c.kind = 'e' AND c.id = entries.id);
UPDATE branch_entries SET change_seq = (
    SELECT seq FROM change_backfill c WHERE c.kind = 'b' AND c.id = branch_entries.id);
DROP TABLE change_backfill;

INSERT INTO change_counters (project_id, last_seq, epoch, tombstone_floor)
    SELECT p.id,
           (SELECT COUNT(*) FROM entries e WHERE e.project_id = p.id)
           + (SELECT COUNT(*) FROM branch_entries b WHERE b.project_id = p.id),
           lower(hex(randomblob(8))), 0
    FROM projects p;

CREATE UNIQUE INDEX entries_project_id_change_seq_idx ON entries (project_id, change_seq);
CREATE UNIQUE INDEX branch_entries_project_id_change_seq_idx ON branch_entries (project_id, change_seq);
