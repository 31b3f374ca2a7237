"""The openlineage-python client, configured as the client configures itself.

Its own configuration decides the transport: an ``openlineage.yml`` (``OPENLINEAGE_CONFIG``,
the working folder, ``~/.openlineage``), ``OPENLINEAGE__TRANSPORT__*`` variables (console,
file, http, ``gcplineage`` ...), ``OPENLINEAGE_URL``, or ``OPENLINEAGE_DISABLED=true``. With
none of these, ``default_file`` (the embedded default: a file under ATTRIBUTION_HOME) takes
the events, one JSON line each; without that either, the client's own fallback, the console.

The client's ``sourceCodeLocation`` facet is turned off: it describes the git checkout of
the caller's working folder, which is not the code of the job (and a remote URL may carry a
token).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.transport.file import FileConfig, FileTransport

_OWN_CONFIG: dict[str, Any] = {"facets": {"source_code_location": {"disabled": True}}}
_VARIABLES = ("OPENLINEAGE_CONFIG", "OPENLINEAGE_URL")
_TRANSPORT_VARIABLES = "OPENLINEAGE__TRANSPORT"


def configured_by_client(env: Mapping[str, str] | None = None) -> bool:
    """Whether the client's own configuration names a transport (or turns it off)."""
    env = os.environ if env is None else env
    if any(env.get(name, "").strip() for name in _VARIABLES):
        return True
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return True
    if any(name.startswith(_TRANSPORT_VARIABLES) for name in env):
        return True
    files = (Path.cwd() / "openlineage.yml", Path.home() / ".openlineage" / "openlineage.yml")
    return any(path.is_file() for path in files)


def lineage_client(default_file: Path | None) -> OpenLineageClient:
    if default_file is None or configured_by_client():
        return OpenLineageClient(config=_OWN_CONFIG)
    default_file.parent.mkdir(parents=True, exist_ok=True)
    transport = FileTransport(FileConfig(log_file_path=str(default_file), append=True))
    return OpenLineageClient(transport=transport, config=_OWN_CONFIG)
