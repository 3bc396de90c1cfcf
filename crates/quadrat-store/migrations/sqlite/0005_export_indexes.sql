-- The entries export's selections that the 0001 indexes do not cover: children of one parent
-- (matched with their parent form), and the uploaded_at twins of the owner-branch index.
CREATE INDEX entries_children_created_at_id_idx ON entries (project_id, form_ref, parent_form_ref, parent_uuid, created_at, id);
CREATE INDEX entries_children_uploaded_at_id_idx ON entries (project_id, form_ref, parent_form_ref, parent_uuid, uploaded_at, id);
CREATE INDEX branch_entries_owner_uuid_owner_input_ref_uploaded_at_id_idx ON branch_entries (owner_uuid, owner_input_ref, uploaded_at, id);
