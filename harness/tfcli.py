"""Terraform CLI configuration for this repository's scripts and tests.

Writes a CLI config (pointed to by TF_CLI_CONFIG_FILE) with a shared plugin cache. When a local
filesystem mirror of the hashicorp/aws provider exists, the config installs the provider from it, so
`terraform init` works offline; without one, Terraform uses the public registry as usual.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


def find_provider_mirror() -> Path | None:
    """The first directory holding an unpacked mirror of the aws provider, if any.

    TF_PROVIDER_MIRROR names one explicitly; an empty value disables mirror discovery.
    """
    explicit = os.environ.get("TF_PROVIDER_MIRROR")
    candidates = [explicit] if explicit is not None else list(MIRROR_CANDIDATES)
    for candidate in candidates:
        if candidate and (Path(candidate).expanduser() / AWS_PROVIDER).is_dir():
            return Path(candidate).expanduser()
    return None


def render_cli_config(plugin_cache: Path, mirror: Path | None) -> str:
    lines = [
        f"plugin_cache_dir = {json.dumps(str(plugin_cache))}",
        "plugin_cache_may_break_dependency_lock_file = true",
    ]
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f"    path    = {json.dumps(str(mirror))}",
            f"    include = [{json.dumps(AWS_PROVIDER)}]",
            "  }",
            "  direct {",
            f"    exclude = [{json.dumps(AWS_PROVIDER)}]",
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def write_cli_config(cache_dir: Path = CACHE_DIR) -> Path:
    """Write the CLI config under cache_dir and return its path.

    Many processes call this at once (test workers, the demo): the file is replaced in one rename and
    only when its text changes, so a terraform starting meanwhile never reads it half written.
    """
    plugin_cache = cache_dir / "plugin-cache"
    plugin_cache.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "terraformrc"
    text = render_cli_config(plugin_cache, find_provider_mirror())
    if not path.is_file() or path.read_text() != text:
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(text)
        os.replace(partial, path)
    return path


def fill_plugin_cache(cache_dir: Path = CACHE_DIR) -> None:
    """Install this repository's providers into the shared plugin cache, one process at a time.

    Terraform's plugin cache is not safe for concurrent installs (the CLI configuration docs say so):
    two `terraform init`s filling the same empty cache entry can fail. Once the entry is there, an init
    only links to it, which is safe. Call this once before starting inits in parallel.
    """
    env = terraform_env(cache_dir=cache_dir)
    lock_path = cache_dir / "plugin-cache.lock"
    with open(lock_path, "w") as lock, tempfile.TemporaryDirectory() as scratch:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.copy(REPO_ROOT / "versions.tf", Path(scratch) / "versions.tf")
        env["TF_DATA_DIR"] = str(Path(scratch) / ".terraform")
        result = subprocess.run(
            ["terraform", "init", "-input=false", "-no-color", "-backend=false"],
            cwd=scratch, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"terraform init could not fill the plugin cache:\n{result.stdout}{result.stderr}")


def terraform_env(endpoint_url: str | None = None, cache_dir: Path = CACHE_DIR) -> dict[str, str]:
    """Environment for running terraform: the CLI config, and the emulator when endpoint_url is given."""
    env = dict(os.environ)
    env["TF_CLI_CONFIG_FILE"] = str(write_cli_config(cache_dir))
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    # Every terraform command decodes the aws provider's schema, and at the default GOGC=100 the Go
    # collector takes a fifth of its CPU; at 400 a terraform process peaks at about 1.2 GB instead of 0.5 GB
    # (the provider processes, most of the memory, barely change). A GOGC already set is kept.
    env.setdefault("GOGC", "400")
    if endpoint_url:
        env.update(emulator_credentials(endpoint_url))
    return env


def emulator_credentials(endpoint_url: str) -> dict[str, str]:
    """Variables that send the aws provider and boto3 to the emulator with throwaway credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PROFILE": "",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


DEFAULT_TIMEOUT = 900


def run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT,
    on_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`terraform ARGS` in cwd; the completed process, whatever its exit code.

    With on_line, standard error is merged into standard output and each line is handed to on_line as
    terraform prints it (a long apply shows its progress), besides being kept in the result.
    """
    if on_line is None:
        return subprocess.run(["terraform", *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout)
    lines: list[str] = []
    with subprocess.Popen(
        ["terraform", *args], cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                on_line(line.rstrip("\n"))
        finally:
            timer.cancel()
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(lines), "")


def must(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a run that must have succeeded; an AssertionError with the end of its output otherwise."""
    assert result.returncode == 0, f"{' '.join(result.args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


def check(args: list[str], cwd: Path, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT) -> str:
    """`terraform ARGS` that must succeed: its standard output."""
    return must(run(args, cwd, env, timeout))


if __name__ == "__main__":
    print(write_cli_config())
