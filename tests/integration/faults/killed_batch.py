"""Run one prediction batch in this process and kill it (SIGKILL) at a chosen point.

``python killed_batch.py HOME INPUT BATCH_ID SYSTEM_ID GAME_DATE KILL_AT``: the App on HOME
(models uploaded and promoted beforehand) runs ``attribution predict`` for INPUT; KILL_AT
says when the process dies, as a machine losing power would: ``half_written`` (after half
the predictions are committed), ``before_log`` (all predictions committed, no final log).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from attribution.adapters.embedded.duckdb_warehouse import DuckDBWarehouse
from attribution.batches.execution_log import BatchLog
from attribution.cli.main import main


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(kill_at: str) -> None:
    insert = DuckDBWarehouse.insert_new_rows
    record = BatchLog.record

    def insert_then_die(self: DuckDBWarehouse, table: str, rows: Any, *a: Any, **k: Any) -> int:
        if table != "player_prop_predictions":
            return insert(self, table, rows, *a, **k)
        if kill_at == "half_written":
            insert(self, table, rows.slice(0, rows.num_rows // 2), *a, **k)
            die()
        return insert(self, table, rows, *a, **k)

    def record_then_die(self: BatchLog, row: Any) -> None:
        if kill_at == "before_log" and row["status"] != "running":
            die()
        record(self, row)

    DuckDBWarehouse.insert_new_rows = insert_then_die  # type: ignore[method-assign]
    BatchLog.record = record_then_die  # type: ignore[method-assign]


if __name__ == "__main__":
    home, path, batch_id, system_id, game_date, kill_at = sys.argv[1:7]
    install(kill_at)
    code = main(
        [
            "--home",
            home,
            "predict",
            "--system-id",
            system_id,
            "--game-date",
            game_date,
            "--input",
            path,
            "--batch-id",
            batch_id,
        ]
    )
    raise SystemExit(code)
