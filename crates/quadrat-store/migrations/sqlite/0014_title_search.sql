-- 0014: trigram indexes of the titles, for the export's title search (a substring: `LIKE
-- '%…%'` cannot seek a B-tree). External-content FTS5 tables over `entries` and
-- `branch_entries` (rowid = id), kept exact by triggers, so every writer (upload, edit,
-- delete and its cascades, the bulk import, restore) updates them in its own transaction.
-- The trigram tokenizer folds case; the export still checks each candidate with its LIKE.
CREATE VIRTUAL TABLE entries_title_search USING fts5(
    title, content = 'entries', content_rowid = 'id', tokenize = 'trigram');
CREATE VIRTUAL TABLE branch_entries_title_search USING fts5(
    title, content = 'branch_entries', content_rowid = 'id', tokenize = 'trigram');

CREATE TRIGGER entries_title_search_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_title_search (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER entries_title_search_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_title_search (entries_title_search, rowid, title)
        VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER entries_title_search_update AFTER UPDATE OF title ON entries BEGIN
    INSERT INTO entries_title_search (entries_title_search, rowid, title)
        VALUES ('delete', old.id, old.title);
    INSERT INTO entries_title_search (rowid, title) VALUES (new.id, new.title);
END;

CREATE TRIGGER branch_entries_title_search_insert AFTER INSERT ON branch_entries BEGIN
    INSERT INTO branch_entries_title_search (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER branch_entries_title_search_delete AFTER DELETE ON branch_entries BEGIN
    INSERT INTO branch_entries_title_search (branch_entries_title_search, rowid, title)
        VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER branch_entries_title_search_update AFTER UPDATE OF title ON branch_entries BEGIN
    INSERT INTO branch_entries_title_search (branch_entries_title_search, rowid, title)
        VALUES ('delete', old.id, old.title);
    INSERT INTO branch_entries_title_search (rowid, title) VALUES (new.id, new.title);
END;

-- The titles already stored.
INSERT INTO entries_title_search (entries_title_search) VALUES ('rebuild');
INSERT INTO branch_entries_title_search (branch_entries_title_search) VALUES ('rebuild');
