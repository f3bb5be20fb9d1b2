"""Session fixtures: one emulator, one terraform init per directory, one plan per (directory, inputs).

Every terraform process costs seconds of CPU before it does anything (it hashes the provider binary and
loads its schema), so module inputs are planned together: the inputs a test module lists in PLANNED, the
examples among them, become module instances of one generated root, planned once per run
(tests/support/instances.py), and the inputs they list in REJECTED (the bad-input contract among them)
are one failing plan as well.

`make test` runs the suite on every core with pytest-xdist, a file per worker (--dist loadfile), so a
file's module fixtures are built once; files go longest first by their recorded seconds
(tests/durations.json, `make durations`). Each worker has its own emulator on its own free port; every
emulator of the run is forked from one moto zygote that imported moto once (harness/moto_zygote.py). The inits
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
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import tftest

from harness.emulator import stop as stop_process
from harness.emulator import running_emulator, start_zygote
from scripts.demo import DemoRun
from support.complete_example import CompleteExample, Lifecycle
from support.instances import GeneratedRoot, instance_of, instance_summary, instances_of, write_root
from support.planning import PlanSummary, summarize
from support.terraform_cli import check, run
from harness.tfcli import REPO_ROOT, fill_plugin_cache, terraform_env

EXAMPLES = REPO_ROOT / "examples"
# The examples Terraform plans (examples/ci holds a workflow, no configuration).
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and any(p.glob("*.tf")))
ZYGOTE = pytest.StashKey[tuple[subprocess.Popen[bytes], Path]]()
MODULES = REPO_ROOT / "modules"


def pytest_configure(config: pytest.Config) -> None:
    """Before the workers start (or the tests, without workers): a moto zygote starts importing moto, from
    which every emulator of the run is forked (harness/moto_zygote.py), and the plugin cache is filled."""
    if not hasattr(config, "workerinput"):
        folder = Path(tempfile.mkdtemp(prefix="moto-zygote-"))
        process, environment = start_zygote(folder)
        os.environ.update(environment)  # the workers, started after this, inherit it
        config.stash[ZYGOTE] = (process, folder)
        fill_plugin_cache()


def pytest_unconfigure(config: pytest.Config) -> None:
    if ZYGOTE in config.stash:
        process, folder = config.stash[ZYGOTE]
        stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two workers per core (`-n auto`): the applies (demo, apply, organization) spend most of two minutes
    waiting on the provider's propagation checks (SQS, KMS), and the other workers use that CPU. On two
    cores 4 workers were faster than 3 or 5."""
    return 2 * (os.cpu_count() or 1)


# Seconds each test file took in a recorded run (`make durations`). Workers take whole files, longest first,
# so no long file starts last and keeps one worker busy while the others idle; a file not recorded yet
# goes after the recorded ones.
DURATIONS = Path(__file__).with_name("durations.json")
# Files that share a session fixture too costly to build twice run on one worker, as one unit of work.
SAME_WORKER = {"tests/test_demo.py": "tests/test_apply.py"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations", action="store_true", help=f"write each test file's seconds to {DURATIONS.name}"
    )


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the file it shares a worker with."""
    path = nodeid.split("::", 1)[0]
    return SAME_WORKER.get(path, path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    recorded: dict[str, float] = json.loads(DURATIONS.read_text()) if DURATIONS.is_file() else {}
    seconds: dict[str, float] = {}
    for item in items:
        unit = unit_of(item.nodeid)
        seconds[unit] = seconds.get(unit, 0.0) + recorded.get(item.nodeid.split("::", 1)[0], 0.0)
    items.sort(key=lambda item: -seconds[unit_of(item.nodeid)])  # stable: collection order within a unit


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's per-file scheduling, with the files of SAME_WORKER as one unit."""
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return SharedFixtureScheduling(config, log)


_file_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up each file's setup, call and teardown time (on the controller, reports come from every worker)."""
    path = report.nodeid.split("::", 1)[0]
    _file_seconds[path] = _file_seconds.get(path, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.getoption("--record-durations") and not hasattr(session.config, "workerinput"):
        rounded = {path: round(seconds, 1) for path, seconds in sorted(_file_seconds.items())}
        DURATIONS.write_text(json.dumps(rounded, indent=2) + "\n")


@pytest.fixture(scope="session")
def complete_applied() -> Iterator[CompleteExample]:
    """The demo on examples/complete (tests/support/complete_example.py), held after apply while the tests
    read the account (read_applied). tests/test_demo.py and tests/test_apply.py share it, and the scheduler below gives both files to
    one worker, so the example is applied once per run. The demo finishes at the latest when the run ends."""
    example = CompleteExample()
    example.applied()
    yield example
    example.finish()


@pytest.fixture(scope="session")
def complete_example(complete_applied: CompleteExample) -> tuple[DemoRun, Lifecycle]:
    """The same demo run to its end (audit, second plan, destroy): what it printed, and the lifecycle."""
    return complete_applied.finish()


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


def listed(session: pytest.Session, constant: str) -> list[tuple[Path, dict[str, Any]]]:
    """Every (directory, inputs) that a collected test module lists in its constant (PLANNED or REJECTED),
    once each."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for module in {item.module for item in session.items if getattr(item, "module", None)}:
        for directory, tf_vars in getattr(module, constant, ()):
            directory = Path(directory).resolve()
            found[plan_key(directory, tf_vars)] = (directory, tf_vars)
    return [found[key] for key in sorted(found)]


def plan_key(directory: Path, tf_vars: dict[str, Any]) -> str:
    return json.dumps([str(Path(directory).resolve()), tf_vars], sort_keys=True)


def init_and_plan(root: GeneratedRoot, env: dict[str, str], *plan_arguments: str) -> tuple[dict[str, str], subprocess.CompletedProcess[str]]:
    """init and plan of a generated root with its inputs; the environment used and the plan's completed process."""
    env = dict(env, TF_DATA_DIR=str(root.folder / ".terraform"))
    check(["init", "-input=false", "-no-color", "-backend=false"], root.folder, env)
    arguments = ["-input=false", "-no-color", "-refresh=false", "-lock=false", f"-var-file={root.var_file.name}"]
    return env, run(["plan", *arguments, *plan_arguments], root.folder, env)


def plan_instances(root: GeneratedRoot, env: dict[str, str]) -> dict[str, Any]:
    """init, plan and show -json of a generated root; the plan's JSON."""
    env, planned = init_and_plan(root, env, "-out=instances.tfplan")
    assert planned.returncode == 0, (
        "the plan of the inputs listed in PLANNED failed (module.i<N> is the N-th of them):\n"
        + "\n".join(f"  i{n}: {directory} {json.dumps(tf_vars)[:300]}" for n, (directory, tf_vars) in enumerate(root.inputs))
        + f"\n{planned.stdout[-3000:]}{planned.stderr[-3000:]}"
    )
    return json.loads(check(["show", "-json", "instances.tfplan"], root.folder, env))


def once_per_run(run_folder: Path, name: str, make: Callable[[Path], Any]) -> Any:
    """The JSON value that make(folder) returns for a fresh folder of the run: made by the first worker
    that asks for it, under a file lock, and read by the others."""
    saved = run_folder / "plans" / f"{name}.json"
    with locked(saved.with_suffix(".lock")):
        if not saved.exists():
            folder = run_folder / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            partial = saved.with_suffix(".partial")
            partial.write_text(json.dumps(make(folder)))
            partial.replace(saved)
    return json.loads(saved.read_text())


@pytest.fixture(scope="session")
def plan_summary(
    request: pytest.FixtureRequest, tf_env: dict[str, str], terraform: Callable[[Path], tftest.TerraformTest], run_folder: Path
) -> Callable[..., PlanSummary]:
    """plan_summary(directory, **tf_vars): the plan's summary, planned once per inputs per run.

    The inputs that test modules list in PLANNED are planned together, as module instances of one
    generated root (tests/support/instances.py), by the first worker that needs one of them; any other
    inputs are planned alone. Examples are instances like the others, with or without inputs (Terraform
    accepts provider blocks, aliased ones too, in a module called without count or for_each). An
    instance's `raw` is its part of that plan as `terraform show -json` prints the directory planned
    alone (instance_plan): checkov (tests/test_lint.py) and the inventories read it as the example's plan.
    """
    instances = instances_of(listed(request.session, "PLANNED"))
    instance_for = {plan_key(i.directory, i.tf_vars): i for i in instances}
    plans: dict[str, PlanSummary] = {}
    together: list[dict[str, Any]] = []

    def planned_together_once() -> dict[str, Any]:
        if not together:
            make = lambda folder: plan_instances(write_root(folder, instances, with_outputs=True), tf_env)  # noqa: E731
            together.append(once_per_run(run_folder, "together", make))
        return together[0]

    def plan(directory: Path | str, **tf_vars: Any) -> PlanSummary:
        directory = Path(directory).resolve()
        key = plan_key(directory, tf_vars)
        if key not in plans and key in instance_for:
            plans[key] = instance_summary(planned_together_once(), instance_for[key])
        elif key not in plans:
            saved = run_folder / "plans" / (hashlib.sha1(key.encode()).hexdigest() + ".json")
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


def plan_rejected(root: GeneratedRoot, env: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Plan a generated root whose every instance must be rejected; the error diagnostics of each instance."""
    _, result = init_and_plan(root, env, "-json")
    assert result.returncode != 0, "the plan of the inputs listed in REJECTED succeeded; every instance should have been rejected"
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    errors = [
        m["diagnostic"] for m in messages
        if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
    ]  # fmt: skip
    owned: dict[str, list[dict[str, Any]]] = {f"i{n}": [] for n in range(len(root.inputs))}
    for diagnostic in errors:
        owner = instance_of(diagnostic, root)
        assert owner in owned, f"a diagnostic of no instance: {json.dumps(diagnostic)[:1500]}"
        owned[owner].append(diagnostic)
    return [owned[f"i{n}"] for n in range(len(root.inputs))]


@pytest.fixture(scope="session")
def rejection(request: pytest.FixtureRequest, tf_env: dict[str, str], run_folder: Path) -> Callable[..., list[dict[str, Any]]]:
    """rejection(directory, **tf_vars): the error diagnostics of inputs that a plan must reject.

    The inputs that test modules list in REJECTED are planned together, as module instances of one
    generated root, once per run by the first worker that needs one of them; each instance must fail.
    """
    inputs = listed(request.session, "REJECTED")
    position = {plan_key(directory, tf_vars): n for n, (directory, tf_vars) in enumerate(inputs)}
    planned: list[list[list[dict[str, Any]]]] = []

    def diagnostics(directory: Path | str, **tf_vars: Any) -> list[dict[str, Any]]:
        key = plan_key(Path(directory), tf_vars)
        assert key in position, f"list {directory} with {tf_vars} in the test module's REJECTED"
        if not planned:
            make = lambda folder: plan_rejected(write_root(folder, instances_of(inputs), with_outputs=False), tf_env)  # noqa: E731
            planned.append(once_per_run(run_folder, "rejected", make))
        return planned[0][position[key]]

    return diagnostics


@pytest.fixture(scope="session")
def provider_schemas(terraform: Callable[[Path], tftest.TerraformTest], run_folder: Path) -> dict[str, Any]:
    """`terraform providers schema -json` of the root module's providers, read once per run."""
    saved = run_folder / "provider-schemas.json"
    with locked(saved.with_suffix(".lock")):
        if not saved.exists():
            tf = terraform(REPO_ROOT)
            partial = saved.with_suffix(".partial")
            partial.write_text(check(["providers", "schema", "-json"], REPO_ROOT, tf.env))
            partial.replace(saved)
    return json.loads(saved.read_text())


@pytest.fixture(scope="session")
def plan_error(rejection: Callable[..., list[dict[str, Any]]]) -> Callable[..., str]:
    """plan_error(directory, **tf_vars): the errors of inputs listed in REJECTED, as one line of text."""

    def text(directory: Path | str, **tf_vars: Any) -> str:
        errors = rejection(directory, **tf_vars)
        assert errors, f"{directory} with {tf_vars} planned without error; expected it to be rejected"
        return re.sub(r"\s+", " ", " ".join(f"{d['summary']}: {d.get('detail', '')}" for d in errors))

    return text
