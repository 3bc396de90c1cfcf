-- The title sort (byte length zero-padded, then the title; then id) as one indexed value, so
-- pages in title order are range reads like the time sorts' (the expression is the export's
-- ORDER BY's, `title_sort` in src/export.rs). They also hold the title itself, so a title search
-- (`LIKE '%…%'`, which no index can seek) scans them instead of every row.
CREATE INDEX entries_title_sort_idx ON entries (project_id, form_ref, (lpad(octet_length(title)::text, 10, '0') || title) COLLATE "C", id) INCLUDE (title);
CREATE INDEX branch_entries_title_sort_idx ON branch_entries (project_id, owner_input_ref, (lpad(octet_length(title)::text, 10, '0') || title) COLLATE "C", id) INCLUDE (title);
