"""moto servers forked from one process that has already imported moto, so that each starts at once.

`python -m harness.moto_zygote SOCKET` imports moto's server and the services this repository uses, then
listens on the Unix socket SOCKET. Each request is one JSON line, {"port", "log", "environment"}; the
zygote forks a child that serves moto on 127.0.0.1:port, its output in the log file, the environment
entries (moto settings read at run time, such as MOTO_IAM_LOAD_MANAGED_POLICIES) added to its own, and
answers with the child's process ID. A child runs in a session of its own; the caller stops it with
SIGTERM (harness.emulator does). Imports are what a plain `python -m moto.server` spends its first
seconds of CPU on; a forked child shares them with the zygote.

Settings read when moto is imported (MOTO_AMIS_PATH) are the zygote's: harness.emulator starts it with
the same environment as a plain server.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
from pathlib import Path

# The services the examples, the CLI and the tests call (moto imports a service on its first request).
SERVICES = (
    "autoscaling", "cloudwatch", "config", "ec2", "events", "iam", "kms", "organizations", "rbin", "s3",
    "sns", "sqs", "ssm", "sts",
)  # fmt: skip


def preload() -> None:
    import moto.server  # noqa: F401

    for service in SERVICES:
        try:
            importlib.import_module(f"moto.{service}.responses")
        except ImportError:
            pass


def serve_forever(path: Path) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they exit
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    listener.bind(str(partial))
    listener.listen(16)
    os.replace(partial, path)  # the socket appears only once it accepts connections
    while True:
        connection, _ = listener.accept()
        with connection, connection.makefile("rw") as stream:
            request = json.loads(stream.readline())
            pid = os.fork()
            if pid == 0:
                listener.close()
                _child(request)
            stream.write(json.dumps({"pid": pid}) + "\n")
            stream.flush()


def _child(request: dict) -> None:
    """Serve moto on the requested port until SIGTERM; never returns."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.update(request.get("environment", {}))
        from moto.server import main

        main(["-H", "127.0.0.1", "-p", str(request["port"])])
        code = 0
    finally:
        os._exit(code)


if __name__ == "__main__":
    preload()
    serve_forever(Path(sys.argv[1]))
