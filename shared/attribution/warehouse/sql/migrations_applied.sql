SELECT migration_id FROM schema_migrations ORDER BY migration_id
