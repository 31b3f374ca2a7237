"""The ``stack`` fixture: ``attribution serve`` on the session's emulators (see support.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from e2e.support import ServedStack, start_serve


@pytest.fixture(scope="module")
def stack(
    pubsub_emulator: str, gcs_emulator: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedStack]:
    """``attribution serve`` on the session's emulators, with a project and bucket of its own."""
    suffix = uuid.uuid4().hex[:8]
    served = start_serve(
        tmp_path_factory.mktemp("stack") / "home",
        [
            "--port=0",
            f"--pubsub-emulator={pubsub_emulator}",
            f"--storage-emulator={gcs_emulator}",
            "--watch-interval=0.3",
        ],
        {"GCP_PROJECT": f"e2e-{suffix}", "MODELS_BUCKET": f"models-{suffix}"},
    )
    try:
        yield served
    finally:
        served.stop()
