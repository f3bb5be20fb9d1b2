"""A local AWS emulator (moto server) on loopback, started and stopped by scripts and tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from harness.tfcli import CACHE_DIR


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"moto server did not answer on {url} within {timeout:.0f}s")


@contextmanager
def running_emulator(log_path: Path | None = None, attempts: int = 3, aws_managed_policies: bool = False) -> Iterator[str]:
    """Run moto server on a free loopback port; yield its URL; stop it on exit.

    aws_managed_policies: serve AWS managed policies (such as AWS_ConfigRole, which the Config recorder's
    role attaches). moto then parses its copy of all of them, about a second of CPU, in every account the
    first time it is used, so only the emulators that apply such an attachment ask for them.

    Several emulators start at once when tests run in parallel: a port found free can be taken before
    moto binds it, so a server that exits at start is tried again on another port.
    """
    for attempt in range(1, attempts + 1):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = log_path or CACHE_DIR / f"moto-{port}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        process = _start(port, log, aws_managed_policies)
        try:
            _wait_until_up(url, process)
        except RuntimeError:
            exited_at_start = process.poll() is not None
            _stop(process)
            if exited_at_start and attempt < attempts:
                continue
            raise
        try:
            yield url
        finally:
            _stop(process)
        return


def _start(port: int, log_path: Path, aws_managed_policies: bool) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES=str(aws_managed_policies).lower()),
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def reset(url: str) -> None:
    """Forget every resource the emulator holds."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def start_detached(log_path: Path, attempts: int = 3, environment: dict[str, str] | None = None) -> tuple[int, str]:
    """Start moto server in a session of its own, to outlive the caller; its process ID and URL. The
    caller stops it (SIGTERM to the process ID) when done. environment: moto settings to add."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                env=dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="false", **(environment or {})),
            )  # fmt: skip
        try:
            _wait_until_up(url, process)
        except RuntimeError:
            exited_at_start = process.poll() is not None
            _stop(process)
            if exited_at_start and attempt < attempts:
                continue
            raise
        return process.pid, url
    raise RuntimeError("moto server did not start")
