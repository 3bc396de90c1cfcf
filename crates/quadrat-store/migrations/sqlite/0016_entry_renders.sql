-- 0016: each entry's JSON object as the export writes it with the form's default map, rendered
-- ahead by a background job (docs/architecture.md, "Entries rendered ahead"), so a page of
-- JSON reads these instead of rendering every `entry_data` again. `plan_key` names what the
-- object was rendered with (the structure's version, the map, the render code); a page uses
-- only objects of its own plan's key and renders the others.
-- A trigger drops an entry's object in the same statement as any update of a column it is
-- written from, whichever code writes it (an upload's edit, a branch count, a restore); a
-- deleted entry takes its object with it. `child_counts` and `change_seq` are not written out.
-- Kept column-for-column equal to the other engine's 0016 (a test compares them).
CREATE TABLE entry_renders (
    entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    plan_key BIGINT NOT NULL,
    json TEXT NOT NULL
);

CREATE TRIGGER entry_renders_stale AFTER UPDATE OF project_id, uuid, parent_uuid, form_ref,
    parent_form_ref, user_id, platform, device_id, created_at, uploaded_at, title, entry_data,
    branch_counts ON entries
BEGIN
    DELETE FROM entry_renders WHERE entry_id = old.id;
END;
