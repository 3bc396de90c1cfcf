-- 0014: trigram indexes of the titles, for the export's title search (`ILIKE '%…%'` cannot
-- seek a B-tree; a pg_trgm GIN index answers it, rechecking each candidate itself).
--
-- pg_trgm is a trusted extension (CREATE on the database suffices) and exists once per
-- database, in one schema. When it is already installed, its schema is used wherever it is;
-- otherwise it goes to a schema of its own, `quadrat_ext`, so that dropping a schema of tables
-- (one per instance, or per test) never drops it with the indexes of the others. The operator
-- class is named with its schema, so the index does not depend on the search_path. Without
-- the right to create it, the indexes are left out with a warning: searches stay exact, only
-- slower.
DO $$
DECLARE
    ext_schema TEXT;
BEGIN
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NULL THEN
        BEGIN
            CREATE SCHEMA IF NOT EXISTS quadrat_ext;
            CREATE EXTENSION pg_trgm SCHEMA quadrat_ext;
            ext_schema := 'quadrat_ext';
        EXCEPTION WHEN insufficient_privilege OR feature_not_supported
                     OR undefined_file THEN
            RAISE WARNING 'pg_trgm could not be installed (%): title searches will not be indexed',
                SQLERRM;
            RETURN;
        END;
    END IF;
    EXECUTE format(
        'CREATE INDEX entries_title_trgm_idx ON entries USING gin (title %I.gin_trgm_ops)',
        ext_schema);
    EXECUTE format(
        'CREATE INDEX branch_entries_title_trgm_idx ON branch_entries USING gin (title %I.gin_trgm_ops)',
        ext_schema);
END
$$;
