-- 0013: a number that moves with every change of a project's stored structure (definition,
-- extra, mapping, project version), so each instance may keep the parsed structure in memory
-- and know at its next request whether it is still the stored one (docs/deployment.md).
-- A trigger bumps it in the same statement (so in the same transaction) as any update of the
-- row, whichever code writes it.
-- Kept column-for-column equal to the other engine's 0013 (a test compares them).
ALTER TABLE project_structures ADD COLUMN structure_version BIGINT NOT NULL DEFAULT 1;

CREATE FUNCTION project_structures_version_bump() RETURNS trigger AS $$
BEGIN
    NEW.structure_version := OLD.structure_version + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER project_structures_version_bump
BEFORE UPDATE OF project_definition, project_extra, project_mapping, updated_at
ON project_structures
FOR EACH ROW EXECUTE FUNCTION project_structures_version_bump();
