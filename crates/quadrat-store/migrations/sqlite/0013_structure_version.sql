-- 0013: a number that moves with every change of a project's stored structure (definition,
-- extra, mapping, project version), so each instance may keep the parsed structure in memory
-- and know at its next request whether it is still the stored one (docs/deployment.md).
-- A trigger bumps it in the same statement (so in the same transaction) as any update of the
-- row, whichever code writes it.
-- Kept column-for-column equal to the other engine's 0013 (a test compares them).
ALTER TABLE project_structures ADD COLUMN structure_version INTEGER NOT NULL DEFAULT 1;

CREATE TRIGGER project_structures_version_bump
AFTER UPDATE OF project_definition, project_extra, project_mapping, updated_at
ON project_structures
FOR EACH ROW WHEN NEW.structure_version = OLD.structure_version
BEGIN
    UPDATE project_structures SET structure_version = OLD.structure_version + 1
    WHERE project_id = NEW.project_id;
END;
