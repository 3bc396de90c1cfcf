-- 0002: the uniqueness index of answers. One row per stored answer of an input whose
-- uniqueness is not `none`, keyed the way answers are compared, so an upload's uniqueness check
-- is an indexed lookup however many entries the form holds. Rows go with their entry (cascade).

CREATE TABLE unique_answers (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    input_ref TEXT NOT NULL,
    scope TEXT NOT NULL,
    answer_key TEXT NOT NULL,
    entry_uuid TEXT NOT NULL,
    entry_id BIGINT REFERENCES entries(id) ON DELETE CASCADE,
    branch_entry_id BIGINT REFERENCES branch_entries(id) ON DELETE CASCADE
);

CREATE INDEX unique_answers_project_id_input_ref_scope_answer_key_idx ON unique_answers (project_id, input_ref, scope, answer_key);
CREATE INDEX unique_answers_entry_id_idx ON unique_answers (entry_id);
CREATE INDEX unique_answers_branch_entry_id_idx ON unique_answers (branch_entry_id);
