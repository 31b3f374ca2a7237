"""The embedded family: DuckDB, a local bucket folder, the in-process bus. Never staged into a
function."""
