"""A local AWS emulator (moto server) on loopback, started and stopped by scripts and tests."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
from botocore.config import Config

from harness.tfcli import CACHE_DIR, emulator_credentials


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Names the Unix socket of a running moto zygote (harness/moto_zygote.py), which forks servers for
# running_emulator; without it, or while it is not up, each server is a `python -m moto.server` of its own.
ZYGOTE_VARIABLE = "APPROVED_AMIS_MOTO_ZYGOTE"
ZYGOTE_WAIT = 120.0  # seconds a server start waits for a zygote that is still importing moto


def _wait_until_up(url: str, process: Any, timeout: float = 120.0) -> None:
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
    """

    def launch(port: int) -> Any:
        log = log_path or CACHE_DIR / f"moto-{port}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        return _start(port, log, aws_managed_policies)

    process, url = _started(launch, attempts)
    try:
        yield url
    finally:
        stop(process)


def _started(launch: Callable[[int], Any], attempts: int) -> tuple[Any, str]:
    """A server launched on a free port and answering; its process and URL. Servers starting at once can
    race for a port found free, so one that exits at start is launched again on another port."""
    for attempt in range(1, attempts + 1):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        process = launch(port)
        try:
            _wait_until_up(url, process)
        except RuntimeError:
            exited_at_start = process.poll() is not None
            stop(process)
            if exited_at_start and attempt < attempts:
                continue
            raise
        return process, url
    raise RuntimeError("moto server did not start")


def _start(port: int, log_path: Path, aws_managed_policies: bool) -> Any:
    settings = {"MOTO_IAM_LOAD_MANAGED_POLICIES": str(aws_managed_policies).lower()}
    forked = _fork_from_zygote(port, log_path, settings)
    if forked is not None:
        return forked
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, MOTO_AMIS_PATH=str(public_amis_file()), **settings),
        )


def start_zygote(folder: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start a moto zygote with its socket in folder; the process, and the environment entry that sends
    running_emulator to it (in this process and the ones it starts). Stop it with stop(process)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "moto-zygote.sock"
    with open(folder / "moto-zygote.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.moto_zygote", str(path)],
            cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ, MOTO_AMIS_PATH=str(public_amis_file())),
        )  # fmt: skip
    return process, {ZYGOTE_VARIABLE: str(path)}


class _Forked:
    """A server forked by the zygote (not a child of this process): what running_emulator uses of Popen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -1  # its parent, the zygote, reaped it: the exit code is not ours to read
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"moto server {self.pid}", timeout or 0)
            time.sleep(0.05)
        return self.returncode or 0

    def _signal(self, number: int) -> None:
        try:
            os.kill(self.pid, number)
        except ProcessLookupError:
            pass


def _fork_from_zygote(port: int, log_path: Path, settings: dict[str, str]) -> _Forked | None:
    """A server forked by the zygote named in the environment; None when there is none or it does not answer."""
    path = os.environ.get(ZYGOTE_VARIABLE)
    if not path:
        return None
    deadline = time.monotonic() + ZYGOTE_WAIT
    while not Path(path).exists():
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(path)
            with connection.makefile("rw") as stream:
                stream.write(json.dumps({"port": port, "log": str(log_path), "environment": settings}) + "\n")
                stream.flush()
                answer = json.loads(stream.readline())
    except (OSError, ValueError):
        return None
    return _Forked(int(answer["pid"]))


def public_amis_file(cache_dir: Path = CACHE_DIR) -> Path:
    """moto's short list of Amazon's public AMIs (the same IDs in every region), as a file for MOTO_AMIS_PATH.

    Without MOTO_AMIS_PATH, moto adds to that list its copy of the latest and the ECS-optimized AMIs of
    the region, about 1,250 more, built again in every account and region a request reaches (a second
    or more of CPU each). The tests and the demo need only some AMIs owned by Amazon, which this list has.
    """
    path = cache_dir / "moto-amis.json"
    if not path.is_file():
        spec = importlib.util.find_spec("moto")
        assert spec is not None and spec.submodule_search_locations, "moto is not installed"
        source = Path(list(spec.submodule_search_locations)[0]) / "ec2" / "resources" / "amis.json.gz"
        with gzip.open(source, "rt", encoding="utf-8") as packed:
            amis = json.load(packed)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(amis))
        os.replace(partial, path)
    return path


def stop(process: Any) -> None:
    """Stop a server process (or the zygote): SIGTERM, then SIGKILL after 10 s."""
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


def client(service: str, url: str, region: str = "us-east-1", credentials: dict[str, str] | None = None, **config: Any) -> Any:
    """A boto3 client of the emulator at url: its throwaway credentials unless `credentials` gives others (as
    boto3 keyword arguments: aws_access_key_id, aws_secret_access_key, aws_session_token); config: botocore
    Config options such as retries."""
    if credentials is None:
        env = emulator_credentials(url)
        credentials = {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
    return boto3.client(
        service, region_name=region, endpoint_url=url, config=Config(**config) if config else None, **credentials
    )


def assumed_credentials(url: str, account_id: str, role: str, caller: dict[str, str] | None = None) -> dict[str, str]:
    """Credentials of role in account_id, assumed on the emulator at url by caller (boto3 keyword arguments;
    the emulator's throwaway credentials unless given), as boto3 client keyword arguments."""
    keys = client("sts", url, credentials=caller).assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="harness")
    return {
        "aws_access_key_id": keys["Credentials"]["AccessKeyId"],
        "aws_secret_access_key": keys["Credentials"]["SecretAccessKey"],
        "aws_session_token": keys["Credentials"]["SessionToken"],
    }


def start_detached(log_path: Path, attempts: int = 3, environment: dict[str, str] | None = None) -> tuple[int, str]:
    """Start moto server in a session of its own, to outlive the caller; its process ID and URL. The
    caller stops it (SIGTERM to the process ID) when done. environment: moto settings to add."""
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def launch(port: int) -> Any:
        with open(log_path, "wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                env=dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="false", **(environment or {})),
            )  # fmt: skip

    process, url = _started(launch, attempts)
    return process.pid, url
