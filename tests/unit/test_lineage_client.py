"""When the client's own configuration names a transport, it decides; otherwise the embedded
default's file takes the events."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from attribution.lineage.client import configured_by_client, lineage_client


@pytest.fixture(autouse=True)
def _no_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.mark.parametrize(
    ("env", "configured"),
    [
        ({}, False),
        ({"OPENLINEAGE__TRANSPORT__TYPE": "console"}, True),
        ({"OPENLINEAGE_URL": "http://marquez:5000"}, True),
        ({"OPENLINEAGE_URL": " "}, False),
        ({"OPENLINEAGE_DISABLED": "true"}, True),
        ({"OPENLINEAGE_DISABLED": "false"}, False),
        ({"OPENLINEAGE_CONFIG": "/etc/openlineage.yml"}, True),
    ],
)
def test_the_clients_own_variables_say_whether_it_is_configured(
    env: dict[str, str], configured: bool
) -> None:
    assert configured_by_client(env) is configured


def test_an_openlineage_yml_in_the_working_folder_configures_it(tmp_path: Path) -> None:
    assert not configured_by_client({})
    (tmp_path / "openlineage.yml").write_text("transport:\n  type: console\n")
    assert configured_by_client({})


def test_without_configuration_the_default_file_takes_the_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(name)
    assert lineage_client(tmp_path / "lineage" / "events.jsonl").transport.kind == "file"
    assert lineage_client(None).transport.kind == "console"  # the client's own fallback
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "console")
    assert lineage_client(tmp_path / "events.jsonl").transport.kind == "console"
