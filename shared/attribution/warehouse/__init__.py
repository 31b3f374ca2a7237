"""The warehouse: table schemas, migrations and the SQL files every adapter runs."""
