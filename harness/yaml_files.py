"""YAML files of the repository (the tests' contracts and expected findings, the workflows), read once each
by every test worker at collection: with libyaml's parser, a tenth of the CPU of PyYAML's pure-Python one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# PyYAML's wheels carry libyaml; a build without it falls back to the same loader in Python.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The data of a YAML file, as yaml.safe_load reads it."""
    return yaml.load(path.read_text(), Loader=_LOADER)  # noqa: S506 -- a safe loader
