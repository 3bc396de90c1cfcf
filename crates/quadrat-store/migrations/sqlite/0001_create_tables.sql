-- 0001: every table Quadrat needs, with the indexes export reads through.
-- Kept column-for-column equal to the other engine's 0001 (a test compares them).

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    server_role TEXT NOT NULL DEFAULT 'basic',
    state TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (email)
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ref TEXT NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    access TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT 'general',
    small_description TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    logo_url TEXT NOT NULL DEFAULT '',
    can_bulk_upload TEXT NOT NULL DEFAULT 'nobody',
    app_link_visibility TEXT NOT NULL DEFAULT 'hidden',
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (ref),
    UNIQUE (slug)
);

CREATE TABLE project_structures (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    project_definition TEXT NOT NULL,
    project_extra TEXT NOT NULL,
    project_mapping TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE project_stats (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    photo_files INTEGER NOT NULL DEFAULT 0,
    photo_bytes INTEGER NOT NULL DEFAULT 0,
    audio_files INTEGER NOT NULL DEFAULT 0,
    audio_bytes INTEGER NOT NULL DEFAULT 0,
    video_files INTEGER NOT NULL DEFAULT 0,
    video_bytes INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE project_roles (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE entry_counters (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    form_ref TEXT NOT NULL,
    branch_ref TEXT NOT NULL DEFAULT '',
    entry_count INTEGER NOT NULL DEFAULT 0,
    first_created_at INTEGER,
    last_created_at INTEGER,
    first_uploaded_at INTEGER,
    last_uploaded_at INTEGER,
    PRIMARY KEY (project_id, form_ref, branch_ref)
);

CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL,
    parent_uuid TEXT NOT NULL DEFAULT '',
    form_ref TEXT NOT NULL,
    parent_form_ref TEXT NOT NULL DEFAULT '',
    user_id INTEGER NOT NULL DEFAULT 0,
    platform TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    title TEXT NOT NULL,
    entry_data TEXT NOT NULL,
    geo_json_data TEXT,
    child_counts INTEGER NOT NULL DEFAULT 0,
    branch_counts TEXT,
    UNIQUE (uuid)
);

CREATE TABLE branch_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL,
    owner_entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    owner_uuid TEXT NOT NULL,
    owner_input_ref TEXT NOT NULL,
    form_ref TEXT NOT NULL,
    user_id INTEGER NOT NULL DEFAULT 0,
    platform TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    title TEXT NOT NULL,
    entry_data TEXT NOT NULL,
    geo_json_data TEXT,
    UNIQUE (uuid)
);

CREATE TABLE oauth_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id)
);

CREATE TABLE oauth_access_tokens (
    id TEXT PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    revoked BOOLEAN NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX entries_project_id_form_ref_created_at_id_idx ON entries (project_id, form_ref, created_at, id);
CREATE INDEX entries_project_id_form_ref_uploaded_at_id_idx ON entries (project_id, form_ref, uploaded_at, id);
CREATE INDEX entries_parent_uuid_form_ref_created_at_id_idx ON entries (parent_uuid, form_ref, created_at, id);
CREATE INDEX branch_entries_project_id_owner_input_ref_created_at_id_idx ON branch_entries (project_id, owner_input_ref, created_at, id);
CREATE INDEX branch_entries_project_id_owner_input_ref_uploaded_at_id_idx ON branch_entries (project_id, owner_input_ref, uploaded_at, id);
CREATE INDEX branch_entries_owner_uuid_owner_input_ref_created_at_id_idx ON branch_entries (owner_uuid, owner_input_ref, created_at, id);
CREATE INDEX branch_entries_owner_entry_id_idx ON branch_entries (owner_entry_id);
CREATE INDEX project_roles_user_id_idx ON project_roles (user_id);
CREATE INDEX oauth_access_tokens_client_id_idx ON oauth_access_tokens (client_id);
