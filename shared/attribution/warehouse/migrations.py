"""Create missing tables from their schema files, apply numbered migrations, refresh views.

Migrations are ``schemas/bigquery/migrations/NNNN_name.sql`` scripts of
``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``; each applied one is recorded in
``schema_migrations``, so ``migrate`` is safe to run any number of times. A column whose
schema file now says NULLABLE but whose table still refuses NULL is relaxed (``ALTER
COLUMN ... DROP NOT NULL``): only where it is needed, since both warehouses refuse to drop
a constraint a column does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from attribution.clock import now_utc
from attribution.package_folders import schemas_dir
from attribution.ports import Warehouse
from attribution.warehouse.sql_text import sql
from attribution.warehouse.tables import table_specs


@dataclass
class MigrationReport:
    created_tables: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)


def migration_files() -> list[Path]:
    return sorted((schemas_dir() / "bigquery" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))


def view_files() -> list[Path]:
    return sorted((schemas_dir() / "bigquery" / "views").glob("*.sql"))


class SchemaDriftError(RuntimeError):
    """A table lacks columns its schema file declares, and no migration adds them."""


def migrate(warehouse: Warehouse) -> MigrationReport:
    report = MigrationReport()
    specs = table_specs()
    if warehouse.table_columns("schema_migrations") is None:
        warehouse.create_table("schema_migrations")
        report.created_tables.append("schema_migrations")
    for name in specs:
        if warehouse.table_columns(name) is None:
            warehouse.create_table(name)
            report.created_tables.append(name)
    applied = {r["migration_id"] for r in warehouse.query(sql("migrations_applied"))}
    for path in migration_files():
        if path.stem in applied:
            continue
        warehouse.execute(path.read_text())
        warehouse.insert_new_rows(
            "schema_migrations",
            [{"migration_id": path.stem, "applied_at": now_utc()}],
            key=["migration_id"],
        )
        report.applied.append(path.stem)
    for name, spec in specs.items():
        required = warehouse.required_columns(name)
        for column in spec.columns:
            if column.name in required and not column.required:
                # Names from our own schema files, never from input.
                warehouse.execute(f"ALTER TABLE {name} ALTER COLUMN {column.name} DROP NOT NULL")
                report.relaxed.append(f"{name}.{column.name}")
    for path in view_files():
        warehouse.execute(path.read_text())
        report.views.append(path.stem)
    drift = {
        name: missing
        for name, spec in specs.items()
        if (missing := sorted(set(spec.column_names) - set(warehouse.table_columns(name) or [])))
    }
    if drift:
        raise SchemaDriftError(
            "tables lack columns their schema files declare (add a migration): "
            + "; ".join(f"{t}: {', '.join(cols)}" for t, cols in drift.items())
        )
    return report
