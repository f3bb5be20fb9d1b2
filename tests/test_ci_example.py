"""The CI wiring users copy: the workflow's own commands, run in sequence on a fixture root against the
emulator, the README showing those same commands, and the pre-commit hook's entry."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from sarif import loader

from support.check_plan_support import FIXTURES, SeededAmis, copy_root, seed_amis
from harness.emulator import running_emulator
from harness.tfcli import REPO_ROOT, emulator_credentials, terraform_env
from harness.yaml_files import read_yaml

WORKFLOW = REPO_ROOT / "examples" / "ci" / "github-actions.yml"
HOOKS = REPO_ROOT / ".pre-commit-hooks.yaml"
README_SECTION = "## Shift-left: check-plan in pull requests"
# Steps the test cannot run: installing the CLI from its git URL (the test uses this checkout's install).
NOT_RUN = {"install"}


def job() -> dict[str, Any]:
    (only,) = read_yaml(WORKFLOW)["jobs"].values()
    return only


def run_steps() -> list[dict[str, Any]]:
    return [step for step in job()["steps"] if "run" in step and step.get("id") not in NOT_RUN]


@dataclass(frozen=True)
class StepResult:
    step: str
    code: int
    output: str


def run_workflow(url: str, checkout: Path, tf_vars: dict[str, str]) -> dict[str, StepResult]:
    """Run the workflow's steps as GitHub's bash shell would, in the job's working directory of `checkout`."""
    workflow = read_yaml(WORKFLOW)
    directory = checkout / job()["defaults"]["run"]["working-directory"]
    env = terraform_env(url)
    env.update(workflow.get("env", {}))
    env.update(tf_vars)
    env["TF_DATA_DIR"] = str(checkout.parent / f"{checkout.name}-terraform-data")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    results: dict[str, StepResult] = {}
    for step in run_steps():
        shell = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        results[step["id"]] = StepResult(step["id"], shell.returncode, shell.stdout + shell.stderr)
        if shell.returncode != 0:
            break  # GitHub skips the following run steps of a failed job
    return results


def checkout(tmp: Path, amis: SeededAmis) -> Path:
    """A repository checkout holding the fleet fixture as the workflow's Terraform root."""
    repository = tmp / "repository"
    repository.mkdir()
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    root = copy_root("fleet", repository)
    root.rename(repository / job()["defaults"]["run"]["working-directory"])
    return repository


@dataclass(frozen=True)
class Runs:
    url: str
    amis: SeededAmis
    unapproved: tuple[Path, dict[str, StepResult]]
    clean: tuple[Path, dict[str, StepResult]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    with running_emulator() as url:
        amis = seed_amis(url)
        approved_everywhere = {
            name: (amis.approved if name.endswith("_ami") else value) for name, value in amis.tf_vars().items()
        }
        unapproved_checkout = checkout(tmp_path_factory.mktemp("ci-unapproved"), amis)
        clean_checkout = checkout(tmp_path_factory.mktemp("ci-clean"), amis)
        with ThreadPoolExecutor(max_workers=2) as pool:
            unapproved = pool.submit(run_workflow, url, unapproved_checkout, amis.tf_vars())
            clean = pool.submit(run_workflow, url, clean_checkout, approved_everywhere)
            yield Runs(url, amis, (unapproved_checkout, unapproved.result()), (clean_checkout, clean.result()))


def sarif_path(repository: Path) -> Path:
    (upload,) = [step for step in job()["steps"] if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    return repository / upload["with"]["sarif_file"]


def test_workflow_fails_on_unapproved_amis_and_publishes_them(runs: Runs) -> None:
    repository, results = runs.unapproved
    assert [r.step for r in results.values()] == [step["id"] for step in run_steps()]
    assert results["plan"].code == 0, results["plan"].output
    assert results["check"].code == 1, results["check"].output
    assert "unapproved" in results["check"].output

    report = loader.load_sarif_file(str(sarif_path(repository)))
    records = report.get_records()
    assert {record["Severity"] for record in records} == {"error", "warning"}
    for record in records:
        # Code scanning resolves locations against the checkout: each must name a file there.
        assert (repository / record["Location"]).is_file(), record
        assert record["Location"].startswith(job()["defaults"]["run"]["working-directory"] + "/")


def test_workflow_fails_only_on_what_no_ami_approval_clears_when_every_known_ami_is_approved(runs: Runs) -> None:
    repository, results = runs.clean
    assert results["check"].code == 1, results["check"].output
    report = loader.load_sarif_file(str(sarif_path(repository)))
    expected = read_yaml(FIXTURES / "fleet-findings.yaml")
    # Left: the AMIs only apply will know, as warnings that do not fail the job; and, as errors, the groups
    # that follow $Latest/$Default and the launch configurations (approved only by AMI ID, not by tag).
    exposures = [e for e in expected if e.get("kind", "ami") != "ami"]
    unknown = [e for e in expected if e.get("kind", "ami") == "ami" and e["ami"] is None]
    severities = Counter(record["Severity"] for record in report.get_records())
    assert severities == Counter(error=len(exposures), warning=len(unknown))


def test_upload_runs_after_a_failed_check() -> None:
    (upload,) = [step for step in job()["steps"] if "upload-sarif" in str(step.get("uses", ""))]
    assert "!cancelled()" in upload["if"]
    assert job()["steps"].index(upload) > [s.get("id") for s in job()["steps"]].index("check")
    permissions = read_yaml(WORKFLOW)["permissions"]
    assert permissions["security-events"] == "write"


def readme_section() -> str:
    text = (REPO_ROOT / "src" / "approved_amis" / "README.md").read_text()
    assert README_SECTION in text, f"the CLI's README lacks the section {README_SECTION!r}"
    section = text.split(README_SECTION, 1)[1]
    return section.split("\n## ", 1)[0]


def test_readme_shows_the_workflow_commands_in_order() -> None:
    section = readme_section()
    commands = [line.strip() for step in run_steps() for line in step["run"].splitlines() if line.strip()]
    positions = [section.find(command) for command in commands]
    assert -1 not in positions, [c for c, p in zip(commands, positions) if p == -1]
    assert positions == sorted(positions)
    assert "examples/ci/github-actions.yml" in section


def test_pre_commit_hook_checks_plan_json_files(runs: Runs) -> None:
    (hook,) = read_yaml(HOOKS)
    files = re.compile(hook["files"])
    for name in ("plan.json", "infra/tfplan.json", "infra/prod.tfplan.json"):
        assert files.search(name), name
    for name in ("main.tf", "package.json", "infra/planning.json", "tfplan"):
        assert not files.search(name), name
    assert hook["language"] == "python"  # pre-commit installs this repository's package for it
    # pre-commit runs the entry with the hook's args and the matching files appended.
    repository, _ = runs.unapproved
    plan = sarif_path(repository).parent / "plan.json"
    env = dict(os.environ, **emulator_credentials(runs.url))
    program, *entry_args = hook["entry"].split()
    result = subprocess.run(
        [str(Path(sys.executable).parent / program), *entry_args, "--tag-key", "Environment", "--tag-value", "Prod", str(plan)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "unapproved" in result.stdout


################################################################################
# The composite action (action.yml): its run steps, as the runner would run them
################################################################################

ACTION = REPO_ROOT / "action.yml"
# Steps the test cannot run: setup-python and the upload are GitHub's; the install step installs this
# repository, which the test's own environment already has.
ACTION_NOT_RUN = {"install"}
_EXPRESSION = re.compile(r"\$\{\{\s*(inputs\.[\w-]+|github\.action_path)\s*\}\}")


def run_action(repository: Path, given: dict[str, str], url: str, tmp: Path) -> tuple[dict[str, StepResult], dict[str, str]]:
    """The action's `run` steps in order with `with:` inputs `given`; each step's results and its outputs."""
    action = read_yaml(ACTION)
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()} | given

    def expand(text: str) -> str:
        return _EXPRESSION.sub(lambda m: str(REPO_ROOT) if m[1] == "github.action_path" else inputs[m[1].split(".", 1)[1]], text)

    results: dict[str, StepResult] = {}
    outputs: dict[str, str] = {}
    for step in action["runs"]["steps"]:
        if "run" not in step or step["id"] in ACTION_NOT_RUN:
            continue
        output_file = tmp / f"{step['id']}.output"
        output_file.write_text("")
        env = dict(os.environ, **emulator_credentials(url), **{k: expand(str(v)) for k, v in step.get("env", {}).items()})
        env["GITHUB_OUTPUT"] = str(output_file)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        assert "${{" not in step["run"], "inputs reach the script through env, never pasted into it"
        shell = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repository / expand(step.get("working-directory", ".")),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        results[step["id"]] = StepResult(step["id"], shell.returncode, shell.stdout + shell.stderr)
        outputs |= dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        if shell.returncode != 0:
            break
    return results, outputs


def test_action_fails_on_unapproved_amis_and_hands_the_sarif_to_the_upload(runs: Runs, tmp_path: Path) -> None:
    repository, _ = runs.unapproved
    given = {"plan": "plan.json", "working-directory": "infra", "tag-key": "Environment", "tag-values": "Prod\nStaging\n", "sarif-file": "action.sarif"}
    results, outputs = run_action(repository, given, runs.url, tmp_path)
    assert results["check"].code == 1 and outputs["exit-code"] == "1", results["check"].output
    sarif = Path(outputs["sarif"])
    assert sarif == repository / "infra" / "action.sarif"
    records = loader.load_sarif_file(str(sarif)).get_records()
    assert records and all((repository / record["Location"]).is_file() for record in records)

    action = read_yaml(ACTION)
    (upload,) = [s for s in action["runs"]["steps"] if "upload-sarif" in str(s.get("uses", ""))]
    assert "!cancelled()" in upload["if"] and "steps.check.outputs.sarif" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif }}"
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"


def test_action_fails_only_on_exposures_when_every_ami_is_approved_and_rejects_a_bad_input(
    runs: Runs, tmp_path: Path
) -> None:
    repository, _ = runs.clean
    given = {"plan": "plan.json", "working-directory": "infra", "tag-key": "Environment", "tag-values": "Prod"}
    (tmp_path / "clean").mkdir()
    results, outputs = run_action(repository, given, runs.url, tmp_path / "clean")
    assert results["check"].code == 1 and outputs["exit-code"] == "1", results["check"].output
    failing = [line for line in results["check"].output.splitlines() if " unapproved " in line]
    # Only what no AMI approval clears: groups following $Latest/$Default, and launch configurations.
    assert failing and all("follows " in line or "launch configuration:" in line for line in failing), failing
    assert Path(outputs["sarif"]).is_file()
    bad = given | {"owners": "self"}
    (tmp_path / "bad").mkdir()
    results, outputs = run_action(repository, bad, runs.url, tmp_path / "bad")
    assert results["check"].code == 2 and outputs["exit-code"] == "2" and "sarif" not in outputs
    assert "--owner 'self' is not an AMI owner" in results["check"].output
