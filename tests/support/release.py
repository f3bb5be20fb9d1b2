"""A release as a consumer meets it: its files served over HTTP, the CLI wheel installed by pipx offline."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Iterator

from harness import loopback
from harness.tfcli import CACHE_DIR, REPO_ROOT

# The CLI's runtime dependencies, at the versions the tests run (requirements/dev.txt), and the pip that
# pipx installs into its shared libraries (pipx upgrades it there before its first install).
RUNTIME = ("boto3", "botocore", "jmespath", "s3transfer", "python-dateutil", "six", "urllib3")
PIP = "pip==26.3"
WHEELHOUSE = CACHE_DIR / "wheelhouse"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(directory: Path) -> Iterator[str]:
    """Serve directory over HTTP on a free loopback port; yield the address of its files."""
    with loopback.serving(functools.partial(_QuietHandler, directory=str(directory))) as address:
        yield address


def runtime_pins() -> list[str]:
    pins = {}
    for line in (REPO_ROOT / "requirements" / "dev.txt").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match and match.group(1).lower() in RUNTIME:
            pins[match.group(1).lower()] = line.strip()
    assert sorted(pins) == sorted(RUNTIME), f"requirements/dev.txt pins {sorted(pins)}, not {sorted(RUNTIME)}"
    return [*pins.values(), PIP]


def wheelhouse() -> Path:
    """A folder of wheels for the CLI's runtime dependencies: downloaded once from the package index
    (as `make venv` does), so that every install from it runs with no index."""
    pins = runtime_pins()
    stamp = WHEELHOUSE / "pins.txt"
    if not stamp.is_file() or stamp.read_text() != "\n".join(pins):
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(REPO_ROOT / ".venv-uv" / "bin" / "pip"), "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary", ":all:", "--dest", str(WHEELHOUSE), *pins],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        stamp.write_text("\n".join(pins))
    return WHEELHOUSE


def offline_env(home: Path, *find_links: Path) -> dict[str, str]:
    """An environment with nothing of this checkout: a fresh HOME and pipx folders, no package index,
    packages only from find_links, no pip configuration of the machine."""
    return {
        "PATH": os.pathsep.join([str(home / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "PIPX_HOME": str(home / "pipx"),
        "PIPX_BIN_DIR": str(home / "bin"),
        "PIPX_MAN_DIR": str(home / "man"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": " ".join(str(path) for path in find_links),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "LANG": "C.UTF-8",
    }


def pipx_install(wheel: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pipx install <wheel>` into home, offline (runtime dependencies from the wheelhouse)."""
    pipx = Path(sys.executable).with_name("pipx")
    return subprocess.run(
        [str(pipx), "install", str(wheel)], cwd=home, env=offline_env(home, wheelhouse(), wheel.parent),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
