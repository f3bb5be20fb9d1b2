"""Session fixtures: one emulator, one terraform init per directory, one plan per (directory, inputs).

`make test` runs the suite on every core with pytest-xdist, a file per worker (--dist loadfile), so a
file's module fixtures are built once. Each worker has its own emulator on its own free port. The inits
and the plans are shared by the workers of one run: the first worker that needs one makes it under a
file lock in the run's temporary folder, the others wait for it and read it (nothing outlives the run).
The provider plugin cache is filled once before any worker starts (pytest_configure).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import tftest

from emulator import running_emulator
from support.planning import PlanSummary, summarize
from tfcli import REPO_ROOT, fill_plugin_cache, terraform_env

EXAMPLES = REPO_ROOT / "examples"
MODULES = REPO_ROOT / "modules"


def pytest_configure(config: pytest.Config) -> None:
    """Before the workers start (or the tests, without workers): the plugin cache holds every provider."""
    if not hasattr(config, "workerinput"):
        fill_plugin_cache()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than the cores (`-n auto`): the applies (demo, apply, organization) spend most of a
    minute waiting on the provider's propagation checks (SQS, KMS), and the spare worker uses that CPU."""
    return (os.cpu_count() or 1) + 1


# Files whose fixtures take longest (terraform apply, checkov, many plans), longest first. Workers take
# whole files in this order, then the rest in collection order, so no long file starts last and keeps
# one worker busy while the other idles. A new file that takes more than ~20 s belongs here.
SLOWEST_FILES_FIRST = (
    "test_demo.py",
    "test_apply.py",
    "test_cli_check_plan.py",
    "test_cli_audit_organization.py",
    "test_cli_permissions.py",
    "test_organization.py",
    "test_validation.py",
    "test_policy_matrix.py",
    "test_lint.py",
    "test_cli_audit.py",
    "test_static.py",
    "test_ci_example.py",
    "test_toggles.py",
    "test_nothing_half_applied.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(SLOWEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept otherwise


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """URL of a moto server on loopback, shared by the whole session."""
    with running_emulator() as url:
        yield url


@pytest.fixture(scope="session")
def tf_env(emulator: str) -> dict[str, str]:
    """Environment for terraform and boto3: CLI config (mirror, plugin cache) and the emulator."""
    return terraform_env(emulator)


def tf_var_values(tf_vars: dict[str, Any]) -> dict[str, str]:
    """Variables as -var values: strings as they are, everything else as JSON (valid HCL)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in tf_vars.items()}


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by every worker of this run (the session's temporary folder without workers)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if re.fullmatch(r"popen-gw\d+", base.name) else base
    return shared / "shared"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on path (created if need be) across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def terraform(tf_env: dict[str, str], run_folder: Path) -> Callable[[Path], tftest.TerraformTest]:
    """An initialised TerraformTest for a directory; `terraform init` runs once per directory per run.

    Each directory's .terraform lives in the run's temporary folder (TF_DATA_DIR), so the working tree
    stays clean and concurrent runs do not share provider installs. Workers share it: plans only read it.
    """
    initialised: dict[Path, tftest.TerraformTest] = {}

    def get(directory: Path) -> tftest.TerraformTest:
        directory = Path(directory).resolve()
        if directory not in initialised:
            name = hashlib.sha1(str(directory).encode()).hexdigest()[:12] + "-" + directory.name
            data_dir = run_folder / "tf-data" / name
            env = dict(tf_env, TF_DATA_DIR=str(data_dir))
            tf = tftest.TerraformTest(str(directory), env=env)
            with locked(data_dir.with_suffix(".lock")):
                done = data_dir.with_suffix(".initialised")  # a module without providers leaves no data dir
                if not done.exists():
                    tf.setup(cleanup_on_exit=False, upgrade=False)
                    done.touch()
            initialised[directory] = tf
        return initialised[directory]

    return get


@pytest.fixture(scope="session")
def plan_summary(terraform: Callable[[Path], tftest.TerraformTest], run_folder: Path) -> Callable[..., PlanSummary]:
    """plan_summary(directory, **tf_vars): the plan's summary, planned once per inputs per run."""
    plans: dict[tuple[Path, str], PlanSummary] = {}

    def plan(directory: Path | str, **tf_vars: Any) -> PlanSummary:
        directory = Path(directory).resolve()
        key = (directory, json.dumps(tf_vars, sort_keys=True))
        if key not in plans:
            saved = run_folder / "plans" / (hashlib.sha1(repr(key).encode()).hexdigest() + ".json")
            with locked(saved.with_suffix(".lock")):
                if not saved.exists():
                    output = terraform(directory).plan(
                        output=True, refresh=False, lock=False, tf_vars=tf_var_values(tf_vars)
                    )
                    partial = saved.with_suffix(".partial")
                    partial.write_text(json.dumps(output._raw))
                    partial.replace(saved)
            plans[key] = summarize(json.loads(saved.read_text()))
        return plans[key]

    return plan


@pytest.fixture(scope="session")
def plan_error(terraform: Callable[[Path], tftest.TerraformTest]) -> Callable[..., str]:
    """plan_error(directory, **tf_vars): the output of a plan that must fail, box-drawing and wrapping removed."""

    def plan(directory: Path | str, **tf_vars: Any) -> str:
        tf = terraform(Path(directory))
        try:
            output = tf.plan(refresh=False, lock=False, tf_vars=tf_var_values(tf_vars))
        except tftest.TerraformTestError as error:
            return re.sub(r"[\s│╷╵─├]+", " ", " ".join(str(arg) for arg in error.args))
        raise AssertionError(f"plan with {tf_vars} succeeded; expected it to be rejected:\n{output[-2000:]}")

    return plan


@pytest.fixture(scope="session")
def plan_diagnostics(terraform: Callable[[Path], tftest.TerraformTest]) -> Callable[..., list[dict[str, Any]]]:
    """plan_diagnostics(directory, **tf_vars): the error diagnostics of a plan that must fail, as Terraform's
    JSON output gives them (summary, detail, range, snippet), so that each can be told apart."""

    def plan(directory: Path | str, **tf_vars: Any) -> list[dict[str, Any]]:
        tf = terraform(Path(directory))
        arguments = [f"-var={name}={value}" for name, value in tf_var_values(tf_vars).items()]
        result = subprocess.run(
            ["terraform", "plan", "-json", "-input=false", "-refresh=false", "-lock=false", *arguments],
            cwd=tf.tfdir, env=tf.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode != 0, f"plan with {tf_vars} succeeded; expected it to be rejected"
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        return [
            m["diagnostic"] for m in messages
            if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
        ]  # fmt: skip

    return plan
