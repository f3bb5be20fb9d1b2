"""Copies of examples in a scratch folder, so that init, plans and state never touch the working tree."""

from __future__ import annotations

import re
from pathlib import Path

from harness.tfcli import REPO_ROOT

_RELATIVE_SOURCE = re.compile(r'(source\s*=\s*")(\.\.?/[^"]*)(")')


def copy_example(example: Path, destination: Path) -> Path:
    """Copy an example's .tf files to destination, pointing relative module sources at this repository.

    A source inside the repository becomes `<repository>//<subdirectory>`, so Terraform installs the whole
    repository as the module package and a submodule's own `../` calls stay inside it.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for tf_file in sorted(example.glob("*.tf")):
        text = _RELATIVE_SOURCE.sub(
            lambda m: m.group(1) + repository_source(example / m.group(2)) + m.group(3), tf_file.read_text()
        )
        (destination / tf_file.name).write_text(text)
    return destination


def repository_source(path: Path) -> str:
    """A module source for a folder of this repository, as `<repository>//<subdirectory>`."""
    relative = path.resolve().relative_to(REPO_ROOT)
    return str(REPO_ROOT) if relative == Path(".") else f"{REPO_ROOT}//{relative}"


