"""The terraform CLI as the tests run it outside tftest: the harness's runner (one process, output captured,
a failure shown whole), and the state a local backend leaves in a root's folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.tfcli import DEFAULT_TIMEOUT, check, must, run

__all__ = ["DEFAULT_TIMEOUT", "check", "local_state", "managed_resources", "must", "run"]


def local_state(directory: Path) -> dict[str, Any]:
    """The state file (terraform.tfstate) that the local backend wrote in directory; none is an empty state."""
    state = directory / "terraform.tfstate"
    return json.loads(state.read_text()) if state.exists() else {"resources": [], "outputs": {}}


def managed_resources(directory: Path) -> list[dict[str, Any]]:
    """The managed resources of the local state in directory (data sources left out)."""
    return [resource for resource in local_state(directory).get("resources", []) if resource["mode"] == "managed"]
