"""Session fixtures: one emulator, one terraform init per directory, one plan per (directory, inputs)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import tftest

from emulator import running_emulator
from planning import PlanSummary, summarize
from tfcli import REPO_ROOT, terraform_env

EXAMPLES = REPO_ROOT / "examples"
MODULES = REPO_ROOT / "modules"


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
def terraform(
    tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Path], tftest.TerraformTest]:
    """An initialised TerraformTest for a directory; `terraform init` runs once per directory per session.

    Each directory's .terraform lives in the session's temporary folder (TF_DATA_DIR), so the
    working tree stays clean and concurrent sessions do not share provider installs.
    """
    initialised: dict[Path, tftest.TerraformTest] = {}
    data_root = tmp_path_factory.mktemp("tf-data")

    def get(directory: Path) -> tftest.TerraformTest:
        directory = Path(directory).resolve()
        if directory not in initialised:
            name = hashlib.sha1(str(directory).encode()).hexdigest()[:12] + "-" + directory.name
            env = dict(tf_env, TF_DATA_DIR=str(data_root / name))
            tf = tftest.TerraformTest(str(directory), env=env)
            tf.setup(cleanup_on_exit=False, upgrade=False)
            initialised[directory] = tf
        return initialised[directory]

    return get


@pytest.fixture(scope="session")
def plan_summary(terraform: Callable[[Path], tftest.TerraformTest]) -> Callable[..., PlanSummary]:
    """plan_summary(directory, **tf_vars): the plan's summary, planned once per inputs per session."""
    plans: dict[tuple[Path, str], PlanSummary] = {}

    def plan(directory: Path | str, **tf_vars: Any) -> PlanSummary:
        directory = Path(directory).resolve()
        key = (directory, json.dumps(tf_vars, sort_keys=True))
        if key not in plans:
            output = terraform(directory).plan(output=True, refresh=False, lock=False, tf_vars=tf_var_values(tf_vars))
            plans[key] = summarize(output._raw)
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
