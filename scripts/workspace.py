"""Copies of examples in a scratch folder, so that init, plans and state never touch the working tree."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tfcli import REPO_ROOT

_RELATIVE_SOURCE = re.compile(r'(source\s*=\s*")(\.\.?/[^"]*)(")')


def copy_example(example: Path, destination: Path) -> Path:
    """Copy an example's .tf files to destination, pointing relative module sources at this repository."""
    destination.mkdir(parents=True, exist_ok=True)
    for tf_file in sorted(example.glob("*.tf")):
        text = _RELATIVE_SOURCE.sub(
            lambda m: m.group(1) + str((example / m.group(2)).resolve()) + m.group(3), tf_file.read_text()
        )
        (destination / tf_file.name).write_text(text)
    return destination


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


